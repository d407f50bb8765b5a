/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-iotlb.c - the IOTLB: regions, access, address spaces, misses
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "test-driver.h"

#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)
#define RD VDUSE_IOTLB_READ
#define WR VDUSE_IOTLB_WRITE

/**
 * test_single() - one region: its bytes are the memfd's, offsets honoured
 */
static void test_single(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(1, NULL, NULL);
    TestMem *mem = test_mem_new(3 * 4096);
    struct iovec iov[4];

    memset(mem->host + 4096 + 100, 0xab, 10);
    /* The second and third pages at 0x10000. */
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x10000, 4096, 8192, RW), ==,
                    0);
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x10000 + 100, 10, RD, iov, 4), ==, 1);
    g_assert_true(iov[0].iov_base ==
                  vduse_iotlb_ptr(iotlb, 0, 0x10064, 10, RD));
    g_assert_cmpuint(iov[0].iov_len, ==, 10);
    g_assert_cmpint(((uint8_t *)iov[0].iov_base)[9], ==, 0xab);
    /* Writes through the IOTLB are seen by the driver, and back. */
    ((uint8_t *)iov[0].iov_base)[0] = 0x5a;
    g_assert_cmpint(mem->host[4096 + 100], ==, 0x5a);
    mem->host[4096 + 101] = 0x77;
    g_assert_cmpint(((uint8_t *)iov[0].iov_base)[1], ==, 0x77);
    /* The whole region, and its last byte. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x10000, 8192, RW, iov, 4),
                    ==, 1);
    g_assert_cmpuint(iov[0].iov_len, ==, 8192);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x11fff, 1, RW, iov, 4), ==,
                    1);
    /* One byte past either end. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x11fff, 2, RD, iov, 4), ==,
                    -EFAULT);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0xffff, 2, RD, iov, 4), ==,
                    -EFAULT);
    /* Zero length: nothing to do. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x10000, 0, RD, iov, 4), ==,
                    0);
    vduse_iotlb_free(iotlb);
    test_mem_free(mem);
}

/**
 * test_unaligned() - a region starting off a page, from an offset off a page
 */
static void test_unaligned(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(1, NULL, NULL);
    TestMem *mem = test_mem_new(2 * 4096);
    struct iovec iov[2];

    for (int i = 0; i < 2 * 4096; i++) {
        mem->host[i] = (uint8_t)(i * 7);
    }
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x1234, 0x567, 0x1000, RW), ==,
                    0);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x1234, 0x1000, RD, iov, 2),
                    ==, 1);
    g_assert_cmpmem(iov[0].iov_base, 0x1000, mem->host + 0x567, 0x1000);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x1233, 1, RD, iov, 2), ==,
                    -EFAULT);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x2234, 1, RD, iov, 2), ==,
                    -EFAULT);
    vduse_iotlb_free(iotlb);
    test_mem_free(mem);
}

/**
 * test_two_regions() - a buffer across two adjacent regions: two iovecs
 */
static void test_two_regions(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(1, NULL, NULL);
    TestMem *a = test_mem_new(4096), *b = test_mem_new(4096);
    struct iovec iov[4];

    memset(a->host, 'a', 4096);
    memset(b->host, 'b', 4096);
    g_assert_cmpint(test_mem_map(a, iotlb, 0, 0x1000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(test_mem_map(b, iotlb, 0, 0x2000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x1ff0, 32, RD, iov, 4), ==,
                    2);
    g_assert_cmpuint(iov[0].iov_len, ==, 16);
    g_assert_cmpuint(iov[1].iov_len, ==, 16);
    for (int i = 0; i < 16; i++) {
        g_assert_cmpint(((char *)iov[0].iov_base)[i], ==, 'a');
        g_assert_cmpint(((char *)iov[1].iov_base)[i], ==, 'b');
    }
    /* The second iovec starts at b's first byte. */
    ((char *)iov[1].iov_base)[0] = 'B';
    g_assert_cmpint(b->host[0], ==, 'B');
    /* Not enough room for two segments, or for any. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x1ff0, 32, RD, iov, 1), ==,
                    -ENOBUFS);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x1ff0, 8, RD, iov, 0), ==,
                    -ENOBUFS);
    /* vduse_iotlb_ptr() wants one contiguous region. */
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x1ff0, 32, RD));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x1ff0, 16, RD));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x2000, 4096, RD));
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x2000, 4097, RD));
    vduse_iotlb_free(iotlb);
    test_mem_free(a);
    test_mem_free(b);
}

/**
 * test_refusals() - holes, wrapping, access rights, bad ASIDs, overlaps
 */
static void test_refusals(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(2, NULL, NULL);
    TestMem *mem = test_mem_new(4 * 4096);
    struct iovec iov[4];

    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x1000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x3000, 4096, 4096, RD), ==, 0);
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x5000, 8192, 4096, WR), ==, 0);
    /* A gap between 0x2000 and 0x3000. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x1f00, 0x200, RD, iov, 4),
                    ==, -EFAULT);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x10000, 1, RD, iov, 4), ==,
                    -EFAULT);
    /* Wrapping around the end of the address space. */
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, UINT64_MAX - 4, 10, RD, iov, 4), ==,
        -EFAULT);
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, 0x1000, UINT64_MAX, RD, iov, 4), ==,
        -EFAULT);
    /* Writing into a read-only region, reading a write-only one. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x3000, 8, WR, iov, 4), ==,
                    -EACCES);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x3000, 8, RW, iov, 4), ==,
                    -EACCES);
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x3000, 8, WR));
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x3000, 8, RD, iov, 4), ==,
                    1);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x5000, 8, RD, iov, 4), ==,
                    -EACCES);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x5000, 8, WR, iov, 4), ==,
                    1);
    /* An address space that does not exist. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 2, 0x1000, 8, RD, iov, 4), ==,
                    -EINVAL);
    g_assert_null(vduse_iotlb_ptr(iotlb, 2, 0x1000, 8, RD));
    g_assert_cmpint(test_mem_map(mem, iotlb, 2, 0x1000, 0, 4096, RW), ==,
                    -EINVAL);
    g_assert_cmpint(test_mem_map(mem, iotlb, 5, 0x1000, 0, 4096, RW), ==,
                    -EINVAL);
    /* Overlapping an existing region of the same ASID, in every way... */
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x1800, 0, 4096, RW), ==,
                    -EINVAL);
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x800, 0, 4096, RW), ==,
                    -EINVAL);
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x0, 0, 0x8000, RW), ==,
                    -EINVAL);
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x1100, 0, 16, RW), ==,
                    -EINVAL);
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x1fff, 0, 2, RW), ==, -EINVAL);
    /* ...and the refused maps left nothing behind. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x0, 1, RD, iov, 4), ==,
                    -EFAULT);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x2000, 1, RD, iov, 4), ==,
                    -EFAULT);
    /* Right next to one is fine, and so is the same range in another ASID. */
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x2000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(test_mem_map(mem, iotlb, 1, 0x1800, 0, 4096, RW), ==, 0);
    vduse_iotlb_free(iotlb);
    test_mem_free(mem);
}

/**
 * test_top() - a region ending at the last IOVA: reaching it is no wrap
 */
static void test_top(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(1, NULL, NULL);
    TestMem *mem = test_mem_new(4096);
    struct iovec iov[2];

    mem->host[4095] = 'z';
    g_assert_cmpint(vduse_iotlb_map_fd(iotlb, 0, UINT64_MAX - 4095, UINT64_MAX,
                                       RW, mem->fd, 0),
                    ==, 0);
    g_assert_cmpint(
        vduse_iotlb_translate(iotlb, 0, UINT64_MAX - 9, 10, RD, iov, 2), ==, 1);
    g_assert_cmpuint(iov[0].iov_len, ==, 10);
    g_assert_cmpint(((char *)iov[0].iov_base)[9], ==, 'z');
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, UINT64_MAX, 1, RD, iov, 2),
                    ==, 1);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, UINT64_MAX, 2, RD, iov, 2),
                    ==, -EFAULT);
    vduse_iotlb_free(iotlb);
    test_mem_free(mem);
}

/**
 * test_two_asids() - one IOVA, two ASIDs, two memfds: each its own bytes
 *
 * An IOTLB that ignored the ASID would give the same bytes twice.
 */
static void test_two_asids(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(2, NULL, NULL);
    TestMem *data = test_mem_new(4096), *ctrl = test_mem_new(4096);
    struct iovec iov[2];

    memcpy(data->host, "guest-data", 11);
    memcpy(ctrl->host, "shadow-cvq", 11);
    /* Mapped in the "wrong" order, so neither is simply the first. */
    g_assert_cmpint(test_mem_map(ctrl, iotlb, 1, 0x8000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(test_mem_map(data, iotlb, 0, 0x8000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x8000, 11, RD, iov, 2), ==,
                    1);
    g_assert_cmpstr(iov[0].iov_base, ==, "guest-data");
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 1, 0x8000, 11, RD, iov, 2), ==,
                    1);
    g_assert_cmpstr(iov[0].iov_base, ==, "shadow-cvq");
    g_assert_cmpstr(vduse_iotlb_ptr(iotlb, 1, 0x8000, 11, RD), ==,
                    "shadow-cvq");
    g_assert_cmpstr(vduse_iotlb_ptr(iotlb, 0, 0x8000, 11, RD), ==,
                    "guest-data");
    /* A range only ASID 1 maps is a hole in ASID 0. */
    g_assert_cmpint(test_mem_map(ctrl, iotlb, 1, 0x20000, 0, 4096, RW), ==, 0);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x20000, 1, RD, iov, 2), ==,
                    -EFAULT);
    /* Invalidating a range of ASID 1 leaves the same range of ASID 0. */
    vduse_iotlb_invalidate(iotlb, 1, 0x8000, 0x8fff);
    g_assert_null(vduse_iotlb_ptr(iotlb, 1, 0x8000, 11, RD));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 1, 0x20000, 1, RD));
    g_assert_cmpstr(vduse_iotlb_ptr(iotlb, 0, 0x8000, 11, RD), ==,
                    "guest-data");
    /* Invalidating all of ASID 0 leaves ASID 1. */
    vduse_iotlb_invalidate(iotlb, 0, 0, UINT64_MAX);
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x8000, 11, RD));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 1, 0x20000, 1, RD));
    vduse_iotlb_free(iotlb);
    test_mem_free(data);
    test_mem_free(ctrl);
}

/**
 * test_invalidate() - by range drops what overlaps; all drops every ASID
 */
static void test_invalidate(void)
{
    VduseIotlb *iotlb = vduse_iotlb_new(2, NULL, NULL);
    TestMem *mem = test_mem_new(4 * 4096);
    uint64_t gen = vduse_iotlb_generation(iotlb);

    /* Four adjacent pages at 0x1000..0x4fff. */
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(
            test_mem_map(mem, iotlb, 0, 0x1000 * (i + 1), 4096 * i, 4096, RW),
            ==, 0);
    }
    /* A range inside one region drops the whole region. */
    vduse_iotlb_invalidate(iotlb, 0, 0x2800, 0x2900);
    g_assert_cmpuint(vduse_iotlb_generation(iotlb), >, gen);
    gen = vduse_iotlb_generation(iotlb);
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x1000, 4096, RD));
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x2000, 1, RD));
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x2fff, 1, RD));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x3000, 4096, RD));
    /* The hole can be mapped again. */
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x2000, 4096, 4096, RW), ==, 0);
    /* A range touching the last byte of one and the first of the next. */
    vduse_iotlb_invalidate(iotlb, 0, 0x2fff, 0x3000);
    g_assert_cmpuint(vduse_iotlb_generation(iotlb), >, gen);
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x1000, 1, RD));
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x2000, 1, RD));
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x3000, 1, RD));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x4000, 1, RD));
    /* A range over nothing drops nothing. */
    vduse_iotlb_invalidate(iotlb, 0, 0x2000, 0x3fff);
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x1fff, 1, RD));
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x4000, 1, RD));

    g_assert_cmpint(test_mem_map(mem, iotlb, 1, 0x1000, 0, 4096, RW), ==, 0);
    gen = vduse_iotlb_generation(iotlb);
    vduse_iotlb_invalidate_all(iotlb);
    g_assert_cmpuint(vduse_iotlb_generation(iotlb), >, gen);
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x1000, 1, RD));
    g_assert_null(vduse_iotlb_ptr(iotlb, 0, 0x4000, 1, RD));
    g_assert_null(vduse_iotlb_ptr(iotlb, 1, 0x1000, 1, RD));
    /* And everything can come back. */
    g_assert_cmpint(test_mem_map(mem, iotlb, 0, 0x1000, 0, 0x4000, RW), ==, 0);
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x1000, 0x4000, RD));
    vduse_iotlb_free(iotlb);
    test_mem_free(mem);
}

/**
 * struct MissCtx - what the miss callback of test_miss() serves
 * @mem:	memory to map on a miss
 * @calls:	how many times it was asked
 * @asid:	the ASID of the last call
 * @iova:	the IOVA of the last call
 * @lie:	return 0 without mapping anything
 */
typedef struct MissCtx {
    TestMem *mem;
    int calls;
    uint32_t asid;
    uint64_t iova;
    bool lie;
} MissCtx;

/**
 * miss_fill() - map the 4 KB page around @iova, if below 64 KB
 * @opaque:	a MissCtx
 * @iotlb:	the IOTLB
 * @asid:	address space of the miss
 * @iova:	the missing IOVA
 *
 * Return: 0 if mapped, -ENOENT past 64 KB.
 */
static int miss_fill(void *opaque, VduseIotlb *iotlb, uint32_t asid,
                     uint64_t iova)
{
    MissCtx *ctx = opaque;
    uint64_t page = iova & ~(uint64_t)4095;

    ctx->calls++;
    ctx->asid = asid;
    ctx->iova = iova;
    if (ctx->lie) {
        return 0;
    }
    if (iova >= 0x10000) {
        return -ENOENT;
    }
    return vduse_iotlb_map_fd(iotlb, asid, page, page + 4095, RW, ctx->mem->fd,
                              page);
}

/**
 * test_miss() - a miss asks the callback, which fills the cache
 */
static void test_miss(void)
{
    MissCtx ctx = {.mem = test_mem_new(0x10000)};
    VduseIotlb *iotlb = vduse_iotlb_new(2, miss_fill, &ctx);
    struct iovec iov[4];

    ctx.mem->host[0x2ffe] = 'x';
    ctx.mem->host[0x3001] = 'y';
    /* Two pages, two misses, each with the first missing byte. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x2ffe, 4, RD, iov, 4), ==,
                    2);
    g_assert_cmpint(ctx.calls, ==, 2);
    g_assert_cmpuint(ctx.iova, ==, 0x3000);
    g_assert_cmpint(*(char *)iov[0].iov_base, ==, 'x');
    g_assert_cmpint(((char *)iov[1].iov_base)[1], ==, 'y');
    /* Now cached: no more calls. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x2ffe, 4, RD, iov, 4), ==,
                    2);
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x3000, 4096, RD));
    g_assert_cmpint(ctx.calls, ==, 2);
    /* The callback is told the ASID; ASID 1's cache is its own. */
    g_assert_cmpstr(vduse_iotlb_ptr(iotlb, 1, 0x3001, 1, RD), ==, "y");
    g_assert_cmpint(ctx.calls, ==, 3);
    g_assert_cmpuint(ctx.asid, ==, 1);
    /* Nothing to find: -EFAULT after one call. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x20000, 4, RD, iov, 4), ==,
                    -EFAULT);
    g_assert_cmpint(ctx.calls, ==, 4);
    /* A callback saying yes without mapping: still -EFAULT, no loop. */
    ctx.lie = true;
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x5000, 4, RD, iov, 4), ==,
                    -EFAULT);
    g_assert_cmpint(ctx.calls, >=, 5);
    g_assert_cmpint(ctx.calls, <=, 5 + 64);
    ctx.lie = false;
    /* After an invalidation the callback is asked again. */
    vduse_iotlb_invalidate(iotlb, 0, 0x3000, 0x3000);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, 0x3001, 1, RD, iov, 4), ==,
                    1);
    g_assert_cmpuint(ctx.iova, ==, 0x3001);
    vduse_iotlb_free(iotlb);
    test_mem_free(ctx.mem);
}

/**
 * struct ThreadCtx - readers of test_threads()
 * @iotlb:	the IOTLB
 * @stop:	set when the writer is done
 * @bad:	translations that went wrong
 * @reads:	translations done
 */
typedef struct ThreadCtx {
    VduseIotlb *iotlb;
    int stop;
    int bad;
    int reads;
} ThreadCtx;

/**
 * reader() - translate a stable region until told to stop
 * @opaque:	a ThreadCtx
 *
 * Return: NULL.
 */
static gpointer reader(gpointer opaque)
{
    ThreadCtx *ctx = opaque;

    while (!__atomic_load_n(&ctx->stop, __ATOMIC_ACQUIRE)) {
        struct iovec iov[2];
        int n = vduse_iotlb_translate(ctx->iotlb, 0, 0x1000, 8, RD, iov, 2);

        if (n != 1 || memcmp(iov[0].iov_base, "stable!", 8)) {
            __atomic_add_fetch(&ctx->bad, 1, __ATOMIC_RELAXED);
        }
        __atomic_add_fetch(&ctx->reads, 1, __ATOMIC_RELAXED);
        /* A dataplane does I/O between translations; without a pause,
         * readers that always overlap may starve the writer (GRWLock
         * leaves the priority unspecified). */
        g_thread_yield();
    }
    return NULL;
}

/**
 * test_threads() - translations of one region go on while others change
 */
static void test_threads(void)
{
    ThreadCtx ctx = {.iotlb = vduse_iotlb_new(1, NULL, NULL)};
    TestMem *mem = test_mem_new(4096);
    GThread *threads[3];

    memcpy(mem->host, "stable!", 8);
    g_assert_cmpint(test_mem_map(mem, ctx.iotlb, 0, 0x1000, 0, 4096, RD), ==,
                    0);
    for (unsigned int i = 0; i < G_N_ELEMENTS(threads); i++) {
        threads[i] = g_thread_new("reader", reader, &ctx);
    }
    /* Regions come and go on both sides, so the table moves around. */
    for (uint64_t i = 0;
         i < 1000 || __atomic_load_n(&ctx.reads, __ATOMIC_RELAXED) < 20000;
         i++) {
        uint64_t below = 0x100000 + (i % 64) * 0x1000;

        g_assert_cmpint(test_mem_map(mem, ctx.iotlb, 0, below, 0, 4096, RW), ==,
                        0);
        g_assert_cmpint(
            test_mem_map(mem, ctx.iotlb, 0, i % 2 ? 0 : 0x800, 0, 0x800, RW),
            ==, 0);
        if (i % 64 == 63) {
            vduse_iotlb_invalidate(ctx.iotlb, 0, 0x100000, UINT64_MAX);
        }
        vduse_iotlb_invalidate(ctx.iotlb, 0, 0, 0xfff);
    }
    __atomic_store_n(&ctx.stop, 1, __ATOMIC_RELEASE);
    for (unsigned int i = 0; i < G_N_ELEMENTS(threads); i++) {
        g_thread_join(threads[i]);
    }
    g_assert_cmpint(ctx.bad, ==, 0);
    vduse_iotlb_free(ctx.iotlb);
    test_mem_free(mem);
}

/**
 * main() - register the IOTLB tests and run them
 * @argc:	argument count
 * @argv:	arguments, GTest's included
 *
 * Return: what g_test_run() returns.
 */
/**
 * test_cache() - the per-thread cache answers exactly as the tables do:
 * inside its region only, with the region's access, in its ASID, and not
 * after an invalidation (a remap to other memory is seen at once)
 */
static void test_cache(void)
{
    TestMem *a = test_mem_new(8192), *b = test_mem_new(8192);
    VduseIotlb *iotlb = vduse_iotlb_new(2, NULL, NULL);
    VduseIotlbCache cache = {0};
    struct iovec iov[2];

    g_assert_cmpint(test_mem_map(a, iotlb, 0, 0x1000, 0, 4096, RD), ==, 0);
    g_assert_cmpint(test_mem_map(a, iotlb, 0, 0x2000, 4096, 4096, RW), ==, 0);
    g_assert_cmpint(test_mem_map(b, iotlb, 1, 0x1000, 0, 4096, RW), ==, 0);
    for (size_t i = 0; i < 8192; i++) {
        a->host[i] = (uint8_t)(i / 16);
        b->host[i] = (uint8_t)(0x80 | i / 16);
    }

    /* Filled by a first translation, then hit. */
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1010, 16, RD, iov, 2),
        ==, 1);
    g_assert_true(cache.valid);
    g_assert_cmpuint(*(uint8_t *)iov[0].iov_base, ==, a->host[0x10]);
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1ff0, 16, RD, iov, 2),
        ==, 1);
    g_assert_cmpuint(*(uint8_t *)iov[0].iov_base, ==, a->host[0xff0]);
    /* The region is read-only: a write is refused, cache or not. */
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1010, 16, WR, iov, 2),
        ==, -EACCES);
    /* Past its end: two regions, two segments. */
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1ff8, 16, RD, iov, 2),
        ==, 2);
    g_assert_cmpuint(iov[0].iov_len, ==, 8);
    /* Another ASID: its own memory at the same IOVA. */
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 1, 0x1010, 16, RD, iov, 2),
        ==, 1);
    g_assert_cmpuint(*(uint8_t *)iov[0].iov_base, ==, b->host[0x10]);
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1010, 16, RD, iov, 2),
        ==, 1);
    g_assert_cmpuint(*(uint8_t *)iov[0].iov_base, ==, a->host[0x10]);
    /* An address below, above, or wrapping: not from the cache. */
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x0ff0, 8, RD, iov, 2),
        ==, -EFAULT);
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1010, 8, RD, iov, 2),
        ==, 1);
    g_assert_cmpint(vduse_iotlb_translate_cached(
                        iotlb, &cache, 0, 0x7000000000ull, 8, RD, iov, 2),
                    ==, -EFAULT);
    g_assert_cmpint(vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1010,
                                                 UINT64_MAX, RD, iov, 2),
                    <, 0);

    /* Invalidated and mapped again from other memory: seen at once. */
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1010, 8, RD, iov, 2),
        ==, 1);
    vduse_iotlb_invalidate(iotlb, 0, 0x1000, 0x1fff);
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1010, 8, RD, iov, 2),
        ==, -EFAULT);
    g_assert_cmpint(test_mem_map(b, iotlb, 0, 0x1000, 4096, 4096, RD), ==, 0);
    g_assert_cmpint(
        vduse_iotlb_translate_cached(iotlb, &cache, 0, 0x1010, 8, RD, iov, 2),
        ==, 1);
    g_assert_cmpuint(*(uint8_t *)iov[0].iov_base, ==, b->host[4096 + 0x10]);

    vduse_iotlb_free(iotlb);
    test_mem_free(a);
    test_mem_free(b);
}

/**
 * struct SlowMiss - a miss callback that waits for the test's word
 * @mem:	the memory it maps
 * @lock:	protects the flags
 * @cond:	signalled when a flag changes
 * @in_miss:	the callback is running
 * @go:		the callback may finish
 * @done:	the callback stopped waiting
 */
typedef struct SlowMiss {
    TestMem *mem;
    GMutex lock;
    GCond cond;
    bool in_miss;
    bool go;
    bool done;
} SlowMiss;

/* slow_miss() - announce the miss, wait (5 s at most) for go, then map. */
static int slow_miss(void *opaque, VduseIotlb *iotlb, uint32_t asid,
                     uint64_t iova)
{
    SlowMiss *s = opaque;
    gint64 end = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;

    g_mutex_lock(&s->lock);
    s->in_miss = true;
    g_cond_broadcast(&s->cond);
    while (!s->go && g_cond_wait_until(&s->cond, &s->lock, end)) {
    }
    s->done = true;
    g_mutex_unlock(&s->lock);
    return test_mem_map(s->mem, iotlb, asid, 0x10000, 0x1000, 0x1000, RD);
}

/* slow_miss_thread() - translate an unmapped IOVA (which misses). */
static gpointer slow_miss_thread(gpointer data)
{
    VduseIotlb *iotlb = data;

    return vduse_iotlb_ptr(iotlb, 0, 0x10010, 4, RD);
}

/**
 * test_miss_unlocked() - while one thread's miss waits on the kernel, the
 * others translate what is mapped (the callback runs without the lock)
 */
static void test_miss_unlocked(void)
{
    SlowMiss s = {.mem = test_mem_new(0x2000)};
    VduseIotlb *iotlb = vduse_iotlb_new(1, slow_miss, &s);
    GThread *t;

    g_mutex_init(&s.lock);
    g_cond_init(&s.cond);
    g_assert_cmpint(test_mem_map(s.mem, iotlb, 0, 0x1000, 0, 0x1000, RD), ==,
                    0);
    t = g_thread_new("miss", slow_miss_thread, iotlb);
    g_mutex_lock(&s.lock);
    while (!s.in_miss) {
        g_cond_wait(&s.cond, &s.lock);
    }
    g_mutex_unlock(&s.lock);
    /* With the write side held across the callback this would block until
     * the callback gave up waiting, and go would come too late. */
    g_assert_nonnull(vduse_iotlb_ptr(iotlb, 0, 0x1000, 16, RD));
    g_mutex_lock(&s.lock);
    g_assert_false(s.done);
    s.go = true;
    g_cond_broadcast(&s.cond);
    g_mutex_unlock(&s.lock);
    g_assert_nonnull(g_thread_join(t));
    vduse_iotlb_free(iotlb);
    g_mutex_clear(&s.lock);
    g_cond_clear(&s.cond);
    test_mem_free(s.mem);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iotlb/single", test_single);
    g_test_add_func("/iotlb/unaligned", test_unaligned);
    g_test_add_func("/iotlb/two-regions", test_two_regions);
    g_test_add_func("/iotlb/refusals", test_refusals);
    g_test_add_func("/iotlb/top-of-space", test_top);
    g_test_add_func("/iotlb/two-asids", test_two_asids);
    g_test_add_func("/iotlb/invalidate", test_invalidate);
    g_test_add_func("/iotlb/miss", test_miss);
    g_test_add_func("/iotlb/threads", test_threads);
    g_test_add_func("/iotlb/cache", test_cache);
    g_test_add_func("/iotlb/miss-unlocked", test_miss_unlocked);
    return g_test_run();
}
