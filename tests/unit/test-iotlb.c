/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-iotlb.c - the IOTLB: regions, access, address spaces, misses
 */
#include "config.h"

#include <errno.h>
#include <glib.h>

#include "test-driver.h"

#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)

/* A single region: bytes are the memfd's, offsets are honoured. */
static void test_single(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(1, NULL, NULL);
    TestMem *mem = test_mem_new(3 * 4096);
    struct iovec iov[4];

    memset(mem->host + 4096 + 100, 0xab, 10);
    /* Map the second and third pages at 0x10000. */
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x10000, 4096, 8192, RW), ==,
                    0);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x10000 + 100, 10,
                                          VDUSE_IOTLB_READ, iov, 4),
                    ==, 1);
    g_assert_cmpuint(iov[0].iov_len, ==, 10);
    g_assert_cmpint(((uint8_t *)iov[0].iov_base)[9], ==, 0xab);
    /* Writes through the IOTLB are seen by the driver. */
    ((uint8_t *)iov[0].iov_base)[0] = 0x5a;
    g_assert_cmpint(mem->host[4096 + 100], ==, 0x5a);
    /* Zero length: nothing to do. */
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x10000, 0, VDUSE_IOTLB_READ, iov, 4),
        ==, 0);
    vduse_iotlb_free(iotlb);
    test_mem_free(mem);
}

/* A buffer across two regions of different memfds: two iovecs. */
static void test_two_regions(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(1, NULL, NULL);
    TestMem *a = test_mem_new(4096), *b = test_mem_new(4096);
    struct iovec iov[4];

    memset(a->host, 'a', 4096);
    memset(b->host, 'b', 4096);
    g_assert_cmpint(test_mem_map(a, iotlb, 0, 0x1000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(test_mem_map(b, iotlb, 0, 0x2000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x1ff0, 32, VDUSE_IOTLB_READ, iov, 4),
        ==, 2);
    g_assert_cmpuint(iov[0].iov_len, ==, 16);
    g_assert_cmpuint(iov[1].iov_len, ==, 16);
    g_assert_cmpint(*(char *)iov[0].iov_base, ==, 'a');
    g_assert_cmpint(*(char *)iov[1].iov_base, ==, 'b');
    /* Not enough room for two segments. */
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x1ff0, 32, VDUSE_IOTLB_READ, iov, 1),
        ==, -ENOBUFS);
    /* vduse_iotlb_ptr() wants one contiguous region. */
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x1ff0, 32, VDUSE_IOTLB_READ));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x1ff0, 16, VDUSE_IOTLB_READ));
    vduse_iotlb_free(iotlb);
    test_mem_free(a);
    test_mem_free(b);
}

/* Holes, wrapping, access rights, bad ASIDs, overlapping maps. */
static void test_refusals(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(2, NULL, NULL);
    TestMem *mem = test_mem_new(4 * 4096);
    struct iovec iov[4];

    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x1000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(
        test_mem_map(mem, iotlb, 0, 0x3000, 4096, 4096, VDUSE_IOTLB_READ), ==,
        0);
    /* A gap between 0x2000 and 0x3000. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x1f00, 0x200,
                                          VDUSE_IOTLB_READ, iov, 4),
                    ==, -EFAULT);
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x10000, 1, VDUSE_IOTLB_READ, iov, 4),
        ==, -EFAULT);
    /* Wrapping around the end of the address space. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, UINT64_MAX - 4, 10,
                                          VDUSE_IOTLB_READ, iov, 4),
                    ==, -EFAULT);
    /* Writing into a read-only region. */
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x3000, 8, VDUSE_IOTLB_WRITE, iov, 4),
        ==, -EACCES);
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x3000, 8, VDUSE_IOTLB_WRITE));
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x3000, 8, VDUSE_IOTLB_READ, iov, 4),
        ==, 1);
    /* An address space that does not exist. */
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 2, 0x1000, 8, VDUSE_IOTLB_READ, iov, 4),
        ==, -EINVAL);
    g_assert_cmpint(test_mem_map(mem, iotlb, 5, 0x1000, 0, 4096, RW), ==,
                    -EINVAL);
    /* Overlapping an existing region of the same ASID... */
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x1800, 0, 4096, RW), ==,
                    -EINVAL);
    /* ...is fine in another ASID. */
    g_assert_cmpint(test_mem_map(mem, iotlb, 1, 0x1800, 0, 4096, RW), ==, 0);
    vduse_iotlb_free(iotlb);
    test_mem_free(mem);
}

/*
 * Two address spaces map the same IOVA to different memory: each
 * translation must land in its own ASID's bytes.
 */
static void test_two_asids(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(2, NULL, NULL);
    TestMem *data = test_mem_new(4096), *ctrl = test_mem_new(4096);
    struct iovec iov[2];

    memcpy(data->host, "guest-data", 11);
    memcpy(ctrl->host, "shadow-cvq", 11);
    g_assert_cmpint(test_mem_map(data, iotlb, 0, 0x8000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(test_mem_map(ctrl, iotlb, 1, 0x8000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x8000, 11, VDUSE_IOTLB_READ, iov, 2),
        ==, 1);
    g_assert_cmpstr(iov[0].iov_base, ==, "guest-data");
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 1, 0x8000, 11, VDUSE_IOTLB_READ, iov, 2),
        ==, 1);
    g_assert_cmpstr(iov[0].iov_base, ==, "shadow-cvq");
    g_assert_cmpstr(vduse_iotlb_ptr(iotlb, 1, 0x8000, 11, VDUSE_IOTLB_READ), ==,
                    "shadow-cvq");
    /* Invalidating ASID 1 leaves ASID 0 alone. */
    vduse_iotlb_invalidate(iotlb, 1, 0, UINT64_MAX);
    g_assert_null(vduse_iotlb_ptr(iotlb, 1, 0x8000, 11, VDUSE_IOTLB_READ));
    g_assert_cmpstr(vduse_iotlb_ptr(iotlb, 0, 0x8000, 11, VDUSE_IOTLB_READ), ==,
                    "guest-data");
    vduse_iotlb_free(iotlb);
    test_mem_free(data);
    test_mem_free(ctrl);
}

/* Invalidation by range drops only what overlaps; the generation moves. */
static void test_invalidate(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(1, NULL, NULL);
    TestMem *mem = test_mem_new(3 * 4096);
    uint64_t gen = vduse_iotlb_generation(iotlb);

    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(
            test_mem_map(mem, iotlb, 0, 0x1000 * (i + 1), 4096 * i, 4096, RW),
            ==, 0);
    }
    vduse_iotlb_invalidate(iotlb, 0, 0x2800, 0x2900);
    g_assert_cmpuint(vduse_iotlb_generation(iotlb), >, gen);
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x1000, 1, VDUSE_IOTLB_READ));
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x2000, 1, VDUSE_IOTLB_READ));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x3000, 1, VDUSE_IOTLB_READ));
    /* The hole can be mapped again. */
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x2000, 4096, 4096, RW), ==, 0);
    vduse_iotlb_invalidate_all(iotlb);
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x1000, 1, VDUSE_IOTLB_READ));
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x3000, 1, VDUSE_IOTLB_READ));
    vduse_iotlb_free(iotlb);
    test_mem_free(mem);
}

/**
 * struct MissCtx - what the miss callback of test_miss() serves
 * @mem:	memory to map on a miss
 * @calls:	how many times it was asked
 */
typedef struct MissCtx {
    TestMem *mem;
    int calls;
} MissCtx;

/* miss_fill() - map the 4 KB page around @iova, if below 64 KB. */
static int miss_fill(void *opaque, VduseIotlb *iotlb, uint32_t asid,
                     uint64_t iova)
{
    MissCtx *ctx = opaque;
    uint64_t page = iova & ~(uint64_t)4095;

    ctx->calls++;
    if (iova >= 0x10000) {
        return -ENOENT;
    }
    return vduse_iotlb_map_fd(iotlb, asid, page, page + 4095, RW, ctx->mem->fd,
                              page);
}

/* A miss asks the callback, which fills the cache; later hits do not. */
static void test_miss(void)
{
    MissCtx ctx = {.mem = test_mem_new(0x10000)};
    VduseIotlb *iotlb = vduse_iotlb_new(1, miss_fill, &ctx);
    struct iovec iov[4];

    ctx.mem->host[0x2ffe] = 'x';
    ctx.mem->host[0x3001] = 'y';
    /* Two pages, two misses. */
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x2ffe, 4, VDUSE_IOTLB_READ, iov, 4),
        ==, 2);
    g_assert_cmpint(ctx.calls, ==, 2);
    g_assert_cmpint(*(char *)iov[0].iov_base, ==, 'x');
    g_assert_cmpint(((char *)iov[1].iov_base)[1], ==, 'y');
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x2ffe, 4, VDUSE_IOTLB_READ, iov, 4),
        ==, 2);
    g_assert_cmpint(ctx.calls, ==, 2);
    /* Nothing to find: -EFAULT after one call. */
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x20000, 4, VDUSE_IOTLB_READ, iov, 4),
        ==, -EFAULT);
    g_assert_cmpint(ctx.calls, ==, 3);
    vduse_iotlb_free(iotlb);
    test_mem_free(ctx.mem);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iotlb/single", test_single);
    g_test_add_func("/iotlb/two-regions", test_two_regions);
    g_test_add_func("/iotlb/refusals", test_refusals);
    g_test_add_func("/iotlb/two-asids", test_two_asids);
    g_test_add_func("/iotlb/invalidate", test_invalidate);
    g_test_add_func("/iotlb/miss", test_miss);
    return g_test_run();
}
