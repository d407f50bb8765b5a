/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-virtq.c - the split virtqueue engine against an in-process driver
 *
 * Guest memory: one 1 MiB memfd mapped at GUEST_IOVA in ASID 0; the ring
 * at its start, buffers from BUF_OFF on. Every hostile case must fail the
 * queue (-EIO, logged with g_message), leave the used ring alone, and let
 * a restarted queue work again.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/mman.h>

#include "test-driver.h"

#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)
#define BUF_OFF 0x10000
#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)
#define FAR_IOVA 0x7000000000ull /* mapped nowhere */

/**
 * struct Fixture - a driver, an IOTLB and a queue
 * @mem:	guest memory
 * @iotlb:	the IOTLB (two address spaces)
 * @ring:	the driver's view of the queue
 * @vq:		the engine's queue
 * @elem:	storage for popped chains
 */
typedef struct Fixture {
    TestMem *mem;
    VduseIotlb *iotlb;
    TestRing ring;
    VduseVq *vq;
    VduseVqElem *elem;
} Fixture;

/**
 * buf_iova() - the IOVA of byte @off of the buffer area
 * @off:	offset from BUF_OFF
 *
 * Return: the IOVA.
 */
static uint64_t buf_iova(uint64_t off)
{
    return GUEST_IOVA + BUF_OFF + off;
}

/**
 * fixture_setup() - a mapped guest, a ring of 8 and a stopped queue
 * @f:		the fixture
 * @data:	unused
 */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->mem = test_mem_new(GUEST_SIZE);
    f->iotlb = vduse_iotlb_new(2, NULL, NULL);
    g_assert_cmpint(
        test_mem_map(f->mem, f->iotlb, 0, GUEST_IOVA, 0, GUEST_SIZE, RW), ==,
        0);
    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 0);
    f->vq = vduse_vq_new(0, f->iotlb);
    f->elem = g_new0(VduseVqElem, 1);
}

/**
 * fixture_teardown() - free everything
 * @f:		the fixture
 * @data:	unused
 */
static void fixture_teardown(Fixture *f, gconstpointer data)
{
    vduse_vq_free(f->vq);
    vduse_iotlb_free(f->iotlb);
    test_mem_free(f->mem);
    g_free(f->elem);
}

/**
 * start_fails() - vduse_vq_start() must refuse, with an error
 * @f:		the fixture
 * @asid:	address space
 * @num:	queue size
 * @desc:	descriptor table IOVA
 * @avail:	available ring IOVA
 * @used:	used ring IOVA
 */
static void start_fails(Fixture *f, uint32_t asid, uint32_t num, uint64_t desc,
                        uint64_t avail, uint64_t used)
{
    g_autoptr(GError) error = NULL;

    g_assert_false(
        vduse_vq_start(f->vq, asid, num, desc, avail, used, 0, false, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(error->message);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
}

/**
 * test_start_refusals() - bad sizes, misaligned, unmapped or read-only rings
 * @f:		the fixture
 * @data:	unused
 */
static void test_start_refusals(Fixture *f, gconstpointer data)
{
    TestRing *r = &f->ring;
    TestMem *ro = test_mem_new(GUEST_SIZE);
    TestRing ro_ring;

    start_fails(f, 0, 0, r->desc_iova, r->avail_iova, r->used_iova);
    start_fails(f, 0, 6, r->desc_iova, r->avail_iova, r->used_iova);
    start_fails(f, 0, 65536, r->desc_iova, r->avail_iova, r->used_iova);
    /* Alignment (2.7): 16 for the table, 2 for avail, 4 for used. */
    start_fails(f, 0, 8, r->desc_iova + 8, r->avail_iova, r->used_iova);
    start_fails(f, 0, 8, r->desc_iova, r->avail_iova + 1, r->used_iova);
    start_fails(f, 0, 8, r->desc_iova, r->avail_iova, r->used_iova + 2);
    /* Unmapped areas, or partly mapped at the end of guest memory. */
    start_fails(f, 0, 8, FAR_IOVA, r->avail_iova, r->used_iova);
    start_fails(f, 0, 8, r->desc_iova, FAR_IOVA, r->used_iova);
    start_fails(f, 0, 8, r->desc_iova, r->avail_iova, FAR_IOVA);
    start_fails(f, 0, 8, r->desc_iova, r->avail_iova,
                GUEST_IOVA + GUEST_SIZE - 16);
    /* The ring is not mapped in ASID 1, or in an ASID that does not exist. */
    start_fails(f, 1, 8, r->desc_iova, r->avail_iova, r->used_iova);
    start_fails(f, 7, 8, r->desc_iova, r->avail_iova, r->used_iova);
    /* A used ring the device may not write. */
    g_assert_cmpint(test_mem_map(ro, f->iotlb, 1, GUEST_IOVA, 0, GUEST_SIZE,
                                 VDUSE_IOTLB_READ),
                    ==, 0);
    test_ring_init(&ro_ring, ro, GUEST_IOVA, 0, 8, 0);
    start_fails(f, 1, 8, ro_ring.desc_iova, ro_ring.avail_iova,
                ro_ring.used_iova);
    /* A refused start leaves the queue usable by a good one. */
    test_ring_start(r, f->vq, 0, false);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    test_mem_free(ro);
}

/**
 * test_start_max_size() - the largest queue, 32768, in its own memory
 * @f:		the fixture
 * @data:	unused
 */
static void test_start_max_size(Fixture *f, gconstpointer data)
{
    TestMem *big = test_mem_new(GUEST_SIZE);
    TestRing r;
    TestBuf buf = {buf_iova(0), 8, true};
    uint32_t id, len;

    g_assert_cmpint(
        test_mem_map(big, f->iotlb, 0, 0x40000000, 0, GUEST_SIZE, RW), ==, 0);
    test_ring_init(&r, big, 0x40000000, 0, 32768, 65535);
    test_ring_start(&r, f->vq, 0, true);
    /* The last descriptor, at the last slot before the index wraps. */
    r.next_desc = 32767;
    test_ring_add(&r, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 32767);
    vduse_vq_push(f->vq, f->elem->id, 3);
    test_ring_set_used_event(&r, 65535);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_true(test_ring_get_used(&r, &id, &len));
    g_assert_cmpuint(id, ==, 32767);
    g_assert_cmpuint(len, ==, 3);
    g_assert_cmpuint(test_ring_used_idx(&r), ==, 0);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_ring_avail_event(&r), ==, 0);
    test_mem_free(big);
}

/**
 * test_stopped() - a queue never started, or stopped, does nothing
 * @f:		the fixture
 * @data:	unused
 */
static void test_stopped(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};

    test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
    g_assert_false(vduse_vq_flush(f->vq));
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 0);
    g_assert_false(vduse_vq_is_failed(f->vq));

    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 1);
    vduse_vq_stop(f->vq);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 0);
}

/**
 * test_empty() - nothing available: pop says 0 and the queue is fine
 * @f:		the fixture
 * @data:	unused
 */
static void test_empty(Fixture *f, gconstpointer data)
{
    test_ring_start(&f->ring, f->vq, 0, false);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    }
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 0);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 0);
    g_assert_false(vduse_vq_is_failed(f->vq));
    g_assert_false(vduse_vq_flush(f->vq));
}

/**
 * test_chain() - two readable and one writable buffer, and its used entry
 * @f:		the fixture
 * @data:	unused
 */
static void test_chain(Fixture *f, gconstpointer data)
{
    TestBuf bufs[] = {
        {buf_iova(0), 12, false},
        {buf_iova(100), 50, false},
        {buf_iova(200), 1500, true},
    };
    uint32_t id, len;
    uint16_t head;

    memcpy(test_ring_ptr(&f->ring, buf_iova(0)), "header-bytes", 12);
    memcpy(test_ring_ptr(&f->ring, buf_iova(100)), "payload", 8);
    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    head = test_ring_add(&f->ring, bufs, 3, 0);
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, head);
    g_assert_cmpuint(f->elem->out_num, ==, 2);
    g_assert_cmpuint(f->elem->in_num, ==, 1);
    g_assert_cmpuint(f->elem->out_len, ==, 62);
    g_assert_cmpuint(f->elem->in_len, ==, 1500);
    g_assert_cmpuint(f->elem->iov[0].iov_len, ==, 12);
    g_assert_cmpuint(f->elem->iov[1].iov_len, ==, 50);
    g_assert_cmpuint(f->elem->iov[2].iov_len, ==, 1500);
    g_assert_cmpmem(f->elem->iov[0].iov_base, 12, "header-bytes", 12);
    g_assert_cmpstr(f->elem->iov[1].iov_base, ==, "payload");
    memcpy(f->elem->iov[2].iov_base, "reply", 6);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 1);
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 0);

    vduse_vq_push(f->vq, head, 6);
    g_assert_false(test_ring_get_used(&f->ring, &id, &len));
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(len, ==, 6);
    g_assert_cmpstr(test_ring_ptr(&f->ring, buf_iova(200)), ==, "reply");
    g_assert_false(test_ring_get_used(&f->ring, &id, &len));
}

/**
 * test_chain_long() - a chain as long as the queue: every descriptor
 * @f:		the fixture
 * @data:	unused
 */
static void test_chain_long(Fixture *f, gconstpointer data)
{
    TestBuf bufs[8];

    for (unsigned int i = 0; i < 8; i++) {
        bufs[i] = (TestBuf){buf_iova(i * 0x100), 10 + i, i >= 5};
        memset(test_ring_ptr(&f->ring, bufs[i].iova), 'a' + (int)i, 0x100);
    }
    test_ring_start(&f->ring, f->vq, 0, false);
    /* Start in the middle of the table, so next wraps 7 -> 0. */
    f->ring.next_desc = 3;
    test_ring_add(&f->ring, bufs, 8, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 3);
    g_assert_cmpuint(f->elem->out_num, ==, 5);
    g_assert_cmpuint(f->elem->in_num, ==, 3);
    g_assert_cmpuint(f->elem->out_len, ==, 10 + 11 + 12 + 13 + 14);
    g_assert_cmpuint(f->elem->in_len, ==, 15 + 16 + 17);
    for (unsigned int i = 0; i < 8; i++) {
        g_assert_cmpuint(f->elem->iov[i].iov_len, ==, 10 + i);
        g_assert_cmpint(*(char *)f->elem->iov[i].iov_base, ==, 'a' + (int)i);
    }
    g_assert_false(vduse_vq_is_failed(f->vq));
}

/**
 * check_prefix() - pop the next chain's first @want writable bytes
 * @f:		the fixture
 * @want:	bytes asked for
 * @in_num:	segments expected
 * @in_len:	bytes expected
 * @cut:	whether descriptors must be left unread
 */
static void check_prefix(Fixture *f, size_t want, unsigned int in_num,
                         size_t in_len, bool cut)
{
    g_assert_cmpint(vduse_vq_pop_prefix(f->vq, f->elem, want), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 1);
    g_assert_cmpuint(f->elem->in_num, ==, in_num);
    g_assert_cmpuint(f->elem->in_len, ==, in_len);
    g_assert_cmpint(f->elem->in_cut, ==, cut);
}

/**
 * test_chain_prefix() - a prefix pop reads no descriptor past the bytes it
 * was asked for; vduse_vq_map_whole() reads it all from the head, and
 * fails the queue if it no longer begins with what was mapped
 * @f:		the fixture
 * @data:	unused
 */
static void test_chain_prefix(Fixture *f, gconstpointer data)
{
    TestBuf bufs[] = {
        {buf_iova(0), 12, false},
        {buf_iova(0x100), 100, true},
        {buf_iova(0x200), 100, true},
        {FAR_IOVA, 100, true}, /* unmapped: a full walk fails */
    };
    uint64_t table = buf_iova(0x8000);
    struct iovec prefix[2];
    uint16_t head;

    test_ring_start(&f->ring, f->vq, 0, false);
    test_ring_add(&f->ring, bufs, 4, 0);
    test_ring_add(&f->ring, bufs, 4, table);
    test_ring_add(&f->ring, bufs, 3, 0);
    check_prefix(f, 100, 1, 100, true);
    check_prefix(f, 101, 2, 200, true);
    g_assert_false(vduse_vq_is_failed(f->vq));
    /* The whole chain: a chain that ends is not cut. */
    check_prefix(f, 300, 2, 200, false);
    g_assert_false(vduse_vq_is_failed(f->vq));

    /* A cut chain mapped whole: in place, the same first segments. */
    bufs[3].iova = buf_iova(0x300);
    head = test_ring_add(&f->ring, bufs, 4, 0);
    check_prefix(f, 1, 1, 100, true);
    prefix[0] = f->elem->iov[1];
    g_assert_cmpint(vduse_vq_map_whole(f->vq, f->elem, prefix, 1), ==, 0);
    g_assert_cmpuint(f->elem->id, ==, head);
    g_assert_cmpuint(f->elem->in_num, ==, 3);
    g_assert_cmpuint(f->elem->in_len, ==, 300);
    g_assert_false(f->elem->in_cut);
    g_assert_true(
        f->elem->iov[1].iov_base ==
        vduse_iotlb_ptr(f->iotlb, 0, buf_iova(0x100), 100, VDUSE_IOTLB_WRITE));

    /* A driver that shortened its chain while the device held it. */
    head = test_ring_add(&f->ring, bufs, 4, 0);
    check_prefix(f, 150, 2, 200, true);
    memcpy(prefix, &f->elem->iov[1], sizeof(prefix));
    test_ring_set_desc(&f->ring, (uint16_t)((head + 2) % 8), buf_iova(0x200),
                       50, VRING_DESC_F_WRITE, 0);
    g_assert_cmpint(vduse_vq_map_whole(f->vq, f->elem, prefix, 2), ==, -EIO);
    g_assert_true(vduse_vq_is_failed(f->vq));
}

/**
 * test_full_ring() - as many chains as the queue holds, all at once
 * @f:		the fixture
 * @data:	unused
 */
static void test_full_ring(Fixture *f, gconstpointer data)
{
    uint32_t id, len;

    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 65532);
    test_ring_start(&f->ring, f->vq, 0, false);
    for (uint32_t i = 0; i < 8; i++) {
        TestBuf buf = {buf_iova(i * 64), 64, true};

        test_ring_add(&f->ring, &buf, 1, 0);
    }
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 8);
    for (uint32_t i = 0; i < 8; i++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
        g_assert_cmpuint(f->elem->id, ==, i);
        g_assert_true(f->elem->iov[0].iov_base ==
                      vduse_iotlb_ptr(f->iotlb, 0, buf_iova(i * 64), 64, RW));
        vduse_vq_push(f->vq, f->elem->id, i);
    }
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    g_assert_true(vduse_vq_flush(f->vq));
    for (uint32_t i = 0; i < 8; i++) {
        g_assert_true(test_ring_get_used(&f->ring, &id, &len));
        g_assert_cmpuint(id, ==, i);
        g_assert_cmpuint(len, ==, i);
    }
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 4);
    g_assert_false(vduse_vq_is_failed(f->vq));
}

/**
 * test_max_segments() - exactly VDUSE_VQ_MAX_IOV segments is allowed
 * @f:		the fixture
 * @data:	unused
 */
static void test_max_segments(Fixture *f, gconstpointer data)
{
    unsigned int n = VDUSE_VQ_MAX_IOV;
    g_autofree TestBuf *b = g_new(TestBuf, n);

    /* A queue longer than the chain, so only the segment limit counts. */
    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 2048, 0);
    test_ring_start(&f->ring, f->vq, 0, false);
    for (unsigned int i = 0; i < n; i++) {
        /* Every other byte, so no two segments touch. */
        b[i] = (TestBuf){buf_iova(2 * i), 1, i >= n / 2};
    }
    test_ring_add(&f->ring, b, n, 0);
    test_ring_add(&f->ring, b, n, buf_iova(0x20000));
    for (int k = 0; k < 2; k++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
        g_assert_cmpuint(f->elem->out_num, ==, n / 2);
        g_assert_cmpuint(f->elem->in_num, ==, n / 2);
        g_assert_cmpuint(f->elem->out_len + f->elem->in_len, ==, n);
        g_assert_true(
            f->elem->iov[n - 1].iov_base ==
            vduse_iotlb_ptr(f->iotlb, 0, buf_iova(2 * (n - 1)), 1, RW));
        g_assert_cmpuint(f->elem->iov[n - 1].iov_len, ==, 1);
    }
}

/**
 * test_batch() - several pushes are invisible until one flush, in order
 * @f:		the fixture
 * @data:	unused
 */
static void test_batch(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 64, true};
    uint16_t heads[4];
    uint32_t id, len;

    test_ring_start(&f->ring, f->vq, 0, false);
    for (int i = 0; i < 4; i++) {
        heads[i] = test_ring_add(&f->ring, &buf, 1, 0);
    }
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
        vduse_vq_push(f->vq, f->elem->id, (uint32_t)i);
        g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 0);
    }
    g_assert_false(test_ring_get_used(&f->ring, &id, &len));
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 4);
    for (uint32_t i = 0; i < 4; i++) {
        g_assert_true(test_ring_get_used(&f->ring, &id, &len));
        g_assert_cmpuint(id, ==, heads[i]);
        g_assert_cmpuint(len, ==, i);
    }
    /* Nothing pushed: nothing to publish, no interrupt. */
    g_assert_false(vduse_vq_flush(f->vq));
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 4);
}

/**
 * test_out_of_order() - used entries in the order pushed, not popped
 * @f:		the fixture
 * @data:	unused
 */
static void test_out_of_order(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 64, true};
    uint16_t ids[3];
    uint32_t id, len;

    test_ring_start(&f->ring, f->vq, 0, false);
    for (int i = 0; i < 3; i++) {
        test_ring_add(&f->ring, &buf, 1, 0);
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
        ids[i] = f->elem->id;
    }
    vduse_vq_push(f->vq, ids[2], 30);
    vduse_vq_push(f->vq, ids[0], 10);
    vduse_vq_flush(f->vq);
    vduse_vq_push(f->vq, ids[1], 20);
    vduse_vq_flush(f->vq);
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, ids[2]);
    g_assert_cmpuint(len, ==, 30);
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, ids[0]);
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, ids[1]);
    g_assert_cmpuint(len, ==, 20);
}

/**
 * test_indirect() - indirect tables with out and in entries, next to
 * direct chains
 * @f:		the fixture
 * @data:	unused
 */
static void test_indirect(Fixture *f, gconstpointer data)
{
    TestBuf bufs[] = {
        {buf_iova(0), 10, false},
        {buf_iova(16), 20, false},
        {buf_iova(64), 30, true},
        {buf_iova(128), 40, true},
    };
    uint64_t table = buf_iova(0x8000);
    uint16_t h1, h2, h3;

    memcpy(test_ring_ptr(&f->ring, buf_iova(16)), "second", 7);
    test_ring_start(&f->ring, f->vq, 0, false);
    h1 = test_ring_add(&f->ring, bufs, 4, table);
    h2 = test_ring_add(&f->ring, bufs, 2, 0);
    h3 = test_ring_add(&f->ring, &bufs[2], 2, table + 0x100);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, h1);
    g_assert_cmpuint(f->elem->out_num, ==, 2);
    g_assert_cmpuint(f->elem->in_num, ==, 2);
    g_assert_cmpuint(f->elem->out_len, ==, 30);
    g_assert_cmpuint(f->elem->in_len, ==, 70);
    g_assert_cmpstr(f->elem->iov[1].iov_base, ==, "second");
    g_assert_cmpuint(f->elem->iov[3].iov_len, ==, 40);
    g_assert_true(
        f->elem->iov[3].iov_base ==
        vduse_iotlb_ptr(f->iotlb, 0, buf_iova(128), 40, VDUSE_IOTLB_WRITE));
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, h2);
    g_assert_cmpuint(f->elem->out_num, ==, 2);
    g_assert_cmpuint(f->elem->in_num, ==, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, h3);
    g_assert_cmpuint(f->elem->out_num, ==, 0);
    g_assert_cmpuint(f->elem->in_num, ==, 2);
    g_assert_cmpuint(f->elem->in_len, ==, 70);
    g_assert_false(vduse_vq_is_failed(f->vq));
}

/**
 * test_indirect_write_flag() - the WRITE flag of the descriptor referring
 * to a table is ignored (2.7.5.3.2)
 * @f:		the fixture
 * @data:	unused
 */
static void test_indirect_write_flag(Fixture *f, gconstpointer data)
{
    TestBuf bufs[] = {{buf_iova(0), 10, false}, {buf_iova(64), 30, true}};
    uint16_t head;

    test_ring_start(&f->ring, f->vq, 0, false);
    head = test_ring_add(&f->ring, bufs, 2, buf_iova(0x8000));
    f->ring.desc[head].flags =
        htole16(VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 1);
    g_assert_cmpuint(f->elem->in_num, ==, 1);
    g_assert_false(vduse_vq_is_failed(f->vq));
}

/**
 * test_wrap() - indices wrap at 65535 on both rings; descriptors reused
 * @f:		the fixture
 * @data:	unused
 */
static void test_wrap(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    uint32_t id, len;

    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 65530);
    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 65530);
    for (int i = 0; i < 20; i++) {
        uint16_t head = test_ring_add(&f->ring, &buf, 1, 0);

        g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 1);
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
        g_assert_cmpuint(f->elem->id, ==, head);
        vduse_vq_push(f->vq, head, (uint32_t)i);
        vduse_vq_flush(f->vq);
        g_assert_true(test_ring_get_used(&f->ring, &id, &len));
        g_assert_cmpuint(id, ==, head);
        g_assert_cmpuint(len, ==, (uint32_t)i);
        g_assert_cmpuint(test_ring_used_idx(&f->ring), ==,
                         (uint16_t)(65530 + i + 1));
    }
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, (uint16_t)(65530 + 20));
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, (uint16_t)(65530 + 20));
}

/**
 * test_wrap_batch() - batches of three across the wrap, slots mod num
 * @f:		the fixture
 * @data:	unused
 */
static void test_wrap_batch(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    uint32_t id, len;

    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 65530);
    test_ring_start(&f->ring, f->vq, 0, false);
    for (int round = 0; round < 7; round++) {
        uint16_t heads[3];

        for (int i = 0; i < 3; i++) {
            heads[i] = test_ring_add(&f->ring, &buf, 1, 0);
        }
        g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 3);
        for (int i = 0; i < 3; i++) {
            g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
            g_assert_cmpuint(f->elem->id, ==, heads[i]);
            vduse_vq_push(f->vq, heads[i], (uint32_t)(round * 3 + i));
        }
        vduse_vq_flush(f->vq);
        for (int i = 0; i < 3; i++) {
            g_assert_true(test_ring_get_used(&f->ring, &id, &len));
            g_assert_cmpuint(id, ==, heads[i]);
            g_assert_cmpuint(len, ==, (uint32_t)(round * 3 + i));
        }
    }
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, (uint16_t)(65530 + 21));
}

/**
 * round_trip_n() - add, pop, push and flush @n one-buffer chains
 * @f:		the fixture
 * @n:		how many
 *
 * Return: what the flush said.
 */
static bool round_trip_n(Fixture *f, unsigned int n)
{
    TestBuf buf = {buf_iova(0), 8, true};

    for (unsigned int i = 0; i < n; i++) {
        test_ring_add(&f->ring, &buf, 1, 0);
    }
    for (unsigned int i = 0; i < n; i++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
        vduse_vq_push(f->vq, f->elem->id, 1);
    }
    return vduse_vq_flush(f->vq);
}

/**
 * round_trip() - one chain through; see round_trip_n()
 * @f:		the fixture
 *
 * Return: what the flush said.
 */
static bool round_trip(Fixture *f)
{
    return round_trip_n(f, 1);
}

/**
 * test_event_idx_interrupts() - with event index, used_event decides
 * (vring_need_event()), across the wrap
 * @f:		the fixture
 * @data:	unused
 */
static void test_event_idx_interrupts(Fixture *f, gconstpointer data)
{
    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 65533);
    test_ring_start(&f->ring, f->vq, 0, true);
    test_ring_set_used_event(&f->ring, 65533);
    /* Entry 65533 used: the driver asked for exactly that one. */
    g_assert_true(round_trip(f));          /* used 65533 -> 65534 */
    g_assert_false(round_trip(f));         /* 65534 -> 65535: 65533 passed */
    test_ring_set_used_event(&f->ring, 0); /* interrupt when entry 0 used */
    g_assert_false(round_trip(f));         /* 65535 -> 0 */
    g_assert_true(round_trip(f));          /* 0 -> 1 crosses 0 */
    test_ring_set_used_event(&f->ring, 5);
    g_assert_false(round_trip(f)); /* 1 -> 2 */
    g_assert_false(round_trip(f)); /* 2 -> 3 */
    /* A batch 3 -> 7 crosses 5 once: one interrupt. */
    g_assert_true(round_trip_n(f, 4));
    /* A batch 7 -> 10 that stops short of used_event 10. */
    test_ring_set_used_event(&f->ring, 10);
    g_assert_false(round_trip_n(f, 3));
    /* Ending exactly on used_event is not crossing it... */
    g_assert_true(round_trip(f)); /* ...but using entry 10 is: 10 -> 11 */
    /* A used_event far behind (the driver is slow): no interrupt. */
    test_ring_set_used_event(&f->ring, 3);
    g_assert_false(round_trip_n(f, 2));
    /* NO_INTERRUPT is ignored with event index (2.7.10). */
    test_ring_set_no_interrupt(&f->ring, true);
    test_ring_set_used_event(&f->ring, 13);
    g_assert_true(round_trip(f)); /* 13 -> 14 */
}

/**
 * test_no_interrupt_flag() - without event index, the flag decides
 * @f:		the fixture
 * @data:	unused
 */
static void test_no_interrupt_flag(Fixture *f, gconstpointer data)
{
    test_ring_start(&f->ring, f->vq, 0, false);
    /* used_event means nothing without event index. */
    test_ring_set_used_event(&f->ring, 100);
    g_assert_true(round_trip(f));
    g_assert_true(round_trip(f));
    test_ring_set_no_interrupt(&f->ring, true);
    g_assert_false(round_trip(f));
    g_assert_false(round_trip_n(f, 3));
    /* Published all the same. */
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 6);
    test_ring_set_no_interrupt(&f->ring, false);
    g_assert_true(round_trip(f));
}

/**
 * test_enable_notify_flags() - without event index: VRING_USED_F_NO_NOTIFY
 * @f:		the fixture
 * @data:	unused
 */
static void test_enable_notify_flags(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};

    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_false(vduse_vq_enable_notify(f->vq, false));
    g_assert_true(test_ring_used_flags(&f->ring) & VRING_USED_F_NO_NOTIFY);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_false(test_ring_used_flags(&f->ring) & VRING_USED_F_NO_NOTIFY);
    test_ring_add(&f->ring, &buf, 1, 0);
    /* A buffer came while we looked away: poll again, do not sleep. */
    g_assert_false(vduse_vq_enable_notify(f->vq, false));
    g_assert_true(test_ring_used_flags(&f->ring) & VRING_USED_F_NO_NOTIFY);
    g_assert_true(vduse_vq_enable_notify(f->vq, true));
    g_assert_false(test_ring_used_flags(&f->ring) & VRING_USED_F_NO_NOTIFY);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
}

/**
 * test_enable_notify_event_idx() - with event index: avail_event
 * @f:		the fixture
 * @data:	unused
 */
static void test_enable_notify_event_idx(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};

    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 65534);
    test_ring_start(&f->ring, f->vq, 0, true);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_ring_avail_event(&f->ring), ==, 65534);
    test_ring_add(&f->ring, &buf, 1, 0);
    test_ring_add(&f->ring, &buf, 1, 0);
    test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_true(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_ring_avail_event(&f->ring), ==, 65535);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_true(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_ring_avail_event(&f->ring), ==, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_ring_avail_event(&f->ring), ==, 1);
    g_assert_false(vduse_vq_enable_notify(f->vq, false));
}

/**
 * test_unpop() - chains given back are popped again, the same ones
 * @f:		the fixture
 * @data:	unused
 */
static void test_unpop(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    uint16_t a, b, c;
    uint32_t id, len;

    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 65535);
    test_ring_start(&f->ring, f->vq, 0, false);
    a = test_ring_add(&f->ring, &buf, 1, 0);
    b = test_ring_add(&f->ring, &buf, 1, 0);
    c = test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    vduse_vq_unpop(f->vq, 2);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 0);
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 2);
    vduse_vq_unpop(f->vq, 0);
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 2);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, b);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, c);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    vduse_vq_push(f->vq, a, 0);
    vduse_vq_push(f->vq, b, 0);
    vduse_vq_push(f->vq, c, 0);
    vduse_vq_flush(f->vq);
    for (int i = 0; i < 3; i++) {
        g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    }
    g_assert_false(test_ring_get_used(&f->ring, &id, &len));
}

/**
 * test_restart() - stop, then start where the device left off
 * @f:		the fixture
 * @data:	unused
 */
static void test_restart(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    uint32_t id, len;
    uint16_t head;

    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_true(round_trip_n(f, 2));
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    head = test_ring_add(&f->ring, &buf, 1, 0);
    vduse_vq_stop(f->vq);
    g_assert_true(vduse_vq_start(f->vq, 0, 8, f->ring.desc_iova,
                                 f->ring.avail_iova, f->ring.used_iova,
                                 vduse_vq_last_avail(f->vq), false, NULL));
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 2);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, head);
    vduse_vq_push(f->vq, head, 9);
    vduse_vq_flush(f->vq);
    /* The used index went on from what the used ring held. */
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 3);
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(len, ==, 9);
}

/**
 * test_multi_region() - one descriptor over two IOTLB regions of different
 * memory gives two segments
 * @f:		the fixture
 * @data:	unused
 */
static void test_multi_region(Fixture *f, gconstpointer data)
{
    TestMem *other = test_mem_new(4096);
    uint64_t seam = 0x40000000; /* region A ends here, B starts */
    TestBuf bufs[] = {{seam - 100, 300, false}, {seam - 50, 100, true}};

    memset(other->host, 'B', 4096);
    memset(f->mem->host + GUEST_SIZE - 4096, 'A', 4096);
    g_assert_cmpint(test_mem_map(f->mem, f->iotlb, 0, seam - 4096,
                                 GUEST_SIZE - 4096, 4096, RW),
                    ==, 0);
    g_assert_cmpint(test_mem_map(other, f->iotlb, 0, seam, 0, 4096, RW), ==, 0);
    test_ring_start(&f->ring, f->vq, 0, false);
    test_ring_add(&f->ring, bufs, 2, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 2);
    g_assert_cmpuint(f->elem->in_num, ==, 2);
    g_assert_cmpuint(f->elem->out_len, ==, 300);
    g_assert_cmpuint(f->elem->in_len, ==, 100);
    g_assert_cmpuint(f->elem->iov[0].iov_len, ==, 100);
    g_assert_cmpuint(f->elem->iov[1].iov_len, ==, 200);
    g_assert_cmpuint(f->elem->iov[2].iov_len, ==, 50);
    g_assert_cmpuint(f->elem->iov[3].iov_len, ==, 50);
    g_assert_cmpint(*(char *)f->elem->iov[0].iov_base, ==, 'A');
    g_assert_cmpint(*(char *)f->elem->iov[1].iov_base, ==, 'B');
    /* Writes land in the driver's memory on both sides of the seam. */
    *(char *)f->elem->iov[2].iov_base = 'x';
    *(char *)f->elem->iov[3].iov_base = 'y';
    g_assert_cmpint(f->mem->host[GUEST_SIZE - 50], ==, 'x');
    g_assert_cmpint(other->host[0], ==, 'y');
    test_mem_free(other);
}

/**
 * test_two_asids() - the ring at the same IOVA in ASID 0 and 1 but in
 * different memory: the queue reads the ASID it was given, and moves
 * @f:		the fixture
 * @data:	unused
 */
static void test_two_asids(Fixture *f, gconstpointer data)
{
    TestMem *cvq = test_mem_new(GUEST_SIZE);
    TestRing shadow;
    TestBuf cmd[] = {{buf_iova(0), 8, false}, {buf_iova(64), 1, true}};

    g_assert_cmpint(
        test_mem_map(cvq, f->iotlb, 1, GUEST_IOVA, 0, GUEST_SIZE, RW), ==, 0);
    /* ASID 1: a valid command. ASID 0, same place: garbage. */
    test_ring_init(&shadow, cvq, GUEST_IOVA, 0, 8, 0);
    memcpy(test_ring_ptr(&shadow, buf_iova(0)), "asid-one", 8);
    test_ring_add(&shadow, cmd, 2, 0);
    test_ring_put_head(&f->ring, 200);
    test_ring_put_head(&f->ring, 200);
    test_ring_set_desc(&f->ring, 0, FAR_IOVA, 8, VRING_DESC_F_NEXT, 77);

    test_ring_start(&shadow, f->vq, 1, false);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 1);
    g_assert_cmpuint(f->elem->in_num, ==, 1);
    g_assert_cmpmem(f->elem->iov[0].iov_base, 8, "asid-one", 8);
    *(char *)f->elem->iov[1].iov_base = 1;
    vduse_vq_push(f->vq, f->elem->id, 1);
    vduse_vq_flush(f->vq);
    g_assert_cmpuint(test_ring_used_idx(&shadow), ==, 1);
    g_assert_cmpint(*(char *)test_ring_ptr(&shadow, buf_iova(64)), ==, 1);
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 0);
    g_assert_cmpint(*(char *)test_ring_ptr(&f->ring, buf_iova(64)), ==, 0);

    /* Moved to ASID 0, the queue now sees ASID 0's ring: index 200. */
    test_ring_add(&shadow, cmd, 2, 0);
    vduse_vq_set_asid(f->vq, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    g_assert_true(vduse_vq_is_failed(f->vq));
    test_mem_free(cvq);
}

/**
 * test_set_asid() - two honest rings at one IOVA: set_asid picks the one
 * @f:		the fixture
 * @data:	unused
 */
static void test_set_asid(Fixture *f, gconstpointer data)
{
    TestMem *other = test_mem_new(GUEST_SIZE);
    TestRing r1;
    TestBuf out = {buf_iova(0), 8, false};
    uint32_t id, len;

    g_assert_cmpint(
        test_mem_map(other, f->iotlb, 1, GUEST_IOVA, 0, GUEST_SIZE, RW), ==, 0);
    test_ring_init(&r1, other, GUEST_IOVA, 0, 8, 0);
    memcpy(test_ring_ptr(&f->ring, buf_iova(0)), "asid-0-a", 8);
    memcpy(test_ring_ptr(&r1, buf_iova(0)), "asid-1-b", 8);
    for (int i = 0; i < 2; i++) {
        test_ring_add(&f->ring, &out, 1, 0);
        test_ring_add(&r1, &out, 1, 0);
    }
    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpmem(f->elem->iov[0].iov_base, 8, "asid-0-a", 8);
    vduse_vq_set_asid(f->vq, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpmem(f->elem->iov[0].iov_base, 8, "asid-1-b", 8);
    vduse_vq_push(f->vq, f->elem->id, 0);
    vduse_vq_flush(f->vq);
    g_assert_true(test_ring_get_used(&r1, &id, &len));
    g_assert_cmpuint(id, ==, 1);
    g_assert_false(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    test_mem_free(other);
}

/**
 * test_iotlb_remap() - the IOTLB dropped and mapped the ring again (at a
 * new host address): the queue follows; if it is gone, the queue fails
 * @f:		the fixture
 * @data:	unused
 */
static void test_iotlb_remap(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    void *old = vduse_iotlb_ptr(f->iotlb, 0, GUEST_IOVA, GUEST_SIZE, RW);
    void *hold;
    uint32_t id, len;

    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_true(round_trip(f));
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));

    vduse_iotlb_invalidate(f->iotlb, 0, 0, UINT64_MAX);
    /* Keep the old host range taken, so the new mapping lands elsewhere
     * and a stale pointer writes where the driver cannot see. */
    hold = mmap(old, GUEST_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    g_assert_true(hold != MAP_FAILED);
    g_assert_cmpint(
        test_mem_map(f->mem, f->iotlb, 0, GUEST_IOVA, 0, GUEST_SIZE, RW), ==,
        0);
    test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_true(f->elem->iov[0].iov_base ==
                  vduse_iotlb_ptr(f->iotlb, 0, buf_iova(0), 8, RW));
    vduse_vq_push(f->vq, f->elem->id, 5);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(len, ==, 5);
    g_assert_false(vduse_vq_enable_notify(f->vq, false));
    g_assert_true(test_ring_used_flags(&f->ring) & VRING_USED_F_NO_NOTIFY);

    /* Gone for good: the next pop fails the queue, without touching it. */
    vduse_iotlb_invalidate(f->iotlb, 0, GUEST_IOVA, GUEST_IOVA);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    g_assert_true(vduse_vq_is_failed(f->vq));
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    munmap(hold, GUEST_SIZE);
}

/**
 * test_iotlb_remap_push() - the ring is mapped again between a pop and its
 * push: the used entry must still reach the driver's memory
 * @f:		the fixture
 * @data:	unused
 *
 * The device layer quiesces the queue's thread around the invalidation; the
 * thread then goes on with the chains it holds, and vduse_vq_push() and
 * vduse_vq_flush() are its first look at the ring since.
 */
static void test_iotlb_remap_push(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    void *old = vduse_iotlb_ptr(f->iotlb, 0, GUEST_IOVA, GUEST_SIZE, RW);
    void *hold;
    uint32_t id, len;

    test_ring_start(&f->ring, f->vq, 0, false);
    test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);

    vduse_iotlb_invalidate(f->iotlb, 0, 0, UINT64_MAX);
    hold = mmap(old, GUEST_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    g_assert_true(hold != MAP_FAILED);
    g_assert_cmpint(
        test_mem_map(f->mem, f->iotlb, 0, GUEST_IOVA, 0, GUEST_SIZE, RW), ==,
        0);
    vduse_vq_push(f->vq, f->elem->id, 5);
    vduse_vq_flush(f->vq);
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 1);
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(len, ==, 5);
    munmap(hold, GUEST_SIZE);
}

/* What a hostile test writes, on a started queue, before it pops. */
typedef void (*HostileFn)(Fixture *f);

/**
 * hostile_loop() - descriptor 0 -> 1 -> 0
 * @f:		the fixture
 */
static void hostile_loop(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(8), 8, false}};

    test_ring_add(&f->ring, b, 2, 0);
    test_ring_set_desc(&f->ring, 1, buf_iova(8), 8, VRING_DESC_F_NEXT, 0);
}

/**
 * hostile_self_loop() - descriptor 0 -> 0, zero length: no segment ever
 * added, only the walk's own bound stops it
 * @f:		the fixture
 */
static void hostile_self_loop(Fixture *f)
{
    test_ring_set_desc(&f->ring, 0, buf_iova(0), 0, VRING_DESC_F_NEXT, 0);
    test_ring_put_head(&f->ring, 0);
}

/**
 * hostile_chain_too_long() - every descriptor chained, then back to the
 * head: num + 1 descriptors, each a distinct readable buffer
 * @f:		the fixture
 */
static void hostile_chain_too_long(Fixture *f)
{
    for (uint16_t i = 0; i < f->ring.num; i++) {
        test_ring_set_desc(&f->ring, i, buf_iova(64 * i), 8, VRING_DESC_F_NEXT,
                           (uint16_t)((i + 1) % f->ring.num));
    }
    test_ring_put_head(&f->ring, 0);
}

/**
 * hostile_indirect_loop() - an indirect table whose chain loops
 * @f:		the fixture
 */
static void hostile_indirect_loop(Fixture *f)
{
    TestBuf b[4] = {{buf_iova(0), 8, false},
                    {buf_iova(0), 8, false},
                    {buf_iova(0), 8, false},
                    {buf_iova(0), 0, false}};
    uint64_t table = buf_iova(0x8000);
    struct vring_desc *t = test_ring_ptr(&f->ring, table);

    test_ring_add(&f->ring, b, 4, table);
    t[3].flags = htole16(VRING_DESC_F_NEXT);
    t[3].next = htole16(3);
}

/**
 * hostile_indirect_too_big() - an indirect table with more entries than
 * the queue (virtio 1.2 2.7.5.3.1: no chain is longer than the queue)
 * @f:		the fixture
 *
 * Its first entry ends the chain: only the size check can catch it, so
 * a walk of a hostile 4 GiB table costs no more than one of the queue's.
 */
static void hostile_indirect_too_big(Fixture *f)
{
    uint64_t table = buf_iova(0x8000);
    struct vring_desc *t = test_ring_ptr(&f->ring, table);

    memset(t, 0, 16 * (f->ring.num + 1));
    t[0].addr = htole64(buf_iova(0));
    t[0].len = htole32(8);
    test_ring_set_desc(&f->ring, 0, table, 16 * (f->ring.num + 1),
                       VRING_DESC_F_INDIRECT, 0);
    test_ring_put_head(&f->ring, 0);
}

/**
 * hostile_reused_heads() - more chains in flight than the ring holds: the
 * driver makes head 0 available again and again while the device has
 * popped it and not yet handed it back
 * @f:		the fixture
 */
static void hostile_reused_heads(Fixture *f)
{
    test_ring_set_desc(&f->ring, 0, buf_iova(0), 8, 0, 0);
    for (uint32_t i = 0; i < f->ring.num; i++) {
        test_ring_put_head(&f->ring, 0);
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    }
    test_ring_put_head(&f->ring, 0);
}

/**
 * hostile_nested_indirect() - an indirect descriptor in an indirect table
 * @f:		the fixture
 */
static void hostile_nested_indirect(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(0), 8, false}};
    uint64_t table = buf_iova(0x8000);
    struct vring_desc *t = test_ring_ptr(&f->ring, table);

    test_ring_add(&f->ring, b, 2, table);
    t[1].addr = htole64(buf_iova(0x9000));
    t[1].len = htole32(32);
    t[1].flags = htole16(VRING_DESC_F_INDIRECT);
}

/**
 * hostile_indirect_len() - an indirect table of @len bytes
 * @f:		the fixture
 * @len:	what the head descriptor says
 */
static void hostile_indirect_len(Fixture *f, uint32_t len)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(0), 8, false}};
    uint16_t head = test_ring_add(&f->ring, b, 2, buf_iova(0x8000));

    f->ring.desc[head].len = htole32(len);
}

/**
 * hostile_indirect_empty() - an indirect table of zero bytes
 * @f:		the fixture
 */
static void hostile_indirect_empty(Fixture *f)
{
    hostile_indirect_len(f, 0);
}

/**
 * hostile_indirect_odd() - an indirect table of 24 bytes, not 16 * n
 * @f:		the fixture
 */
static void hostile_indirect_odd(Fixture *f)
{
    hostile_indirect_len(f, 24);
}

/**
 * hostile_indirect_unmapped() - the table is nowhere
 * @f:		the fixture
 */
static void hostile_indirect_unmapped(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};
    uint16_t head = test_ring_add(&f->ring, &b, 1, buf_iova(0x8000));

    f->ring.desc[head].addr = htole64(FAR_IOVA);
}

/**
 * hostile_indirect_past_end() - the table runs off the end of the memory
 * @f:		the fixture
 */
static void hostile_indirect_past_end(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};
    uint16_t head = test_ring_add(&f->ring, &b, 1, buf_iova(0x8000));

    test_ring_set_desc(&f->ring, head, GUEST_IOVA + GUEST_SIZE - 32, 64,
                       VRING_DESC_F_INDIRECT, 0);
}

/**
 * hostile_indirect_next() - INDIRECT and NEXT together (2.7.5.3.1)
 * @f:		the fixture
 */
static void hostile_indirect_next(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};
    uint16_t head = test_ring_add(&f->ring, &b, 1, buf_iova(0x8000));

    test_ring_set_desc(&f->ring, 1, buf_iova(0), 8, 0, 0);
    f->ring.desc[head].flags |= htole16(VRING_DESC_F_NEXT);
    f->ring.desc[head].next = htole16(1);
}

/**
 * hostile_indirect_next_range() - a next index past the indirect table
 * (but within the queue)
 * @f:		the fixture
 */
static void hostile_indirect_next_range(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(0), 8, false}};
    uint64_t table = buf_iova(0x8000);
    struct vring_desc *t = test_ring_ptr(&f->ring, table);

    test_ring_add(&f->ring, b, 2, table);
    t[1].flags = htole16(VRING_DESC_F_NEXT);
    t[1].next = htole16(2);
}

/**
 * hostile_indirect_read_after_write() - readable after writable, in a table
 * @f:		the fixture
 */
static void hostile_indirect_read_after_write(Fixture *f)
{
    TestBuf b[3] = {{buf_iova(0), 8, false},
                    {buf_iova(64), 8, true},
                    {buf_iova(128), 8, false}};

    test_ring_add(&f->ring, b, 3, buf_iova(0x8000));
}

/**
 * hostile_unmapped() - a buffer outside every mapping
 * @f:		the fixture
 */
static void hostile_unmapped(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {FAR_IOVA, 64, true}};

    test_ring_add(&f->ring, b, 2, 0);
}

/**
 * hostile_past_end() - a buffer running off the end of guest memory
 * @f:		the fixture
 */
static void hostile_past_end(Fixture *f)
{
    TestBuf b = {GUEST_IOVA + GUEST_SIZE - 8, 16, false};

    test_ring_add(&f->ring, &b, 1, 0);
}

/**
 * hostile_wraps() - a buffer wrapping around the 64-bit address space
 * @f:		the fixture
 */
static void hostile_wraps(Fixture *f)
{
    TestBuf b = {UINT64_MAX - 7, 0x200000, false};

    test_ring_add(&f->ring, &b, 1, 0);
}

/**
 * hostile_write_ro() - the device asked to write into read-only memory
 * @f:		the fixture
 */
static void hostile_write_ro(Fixture *f)
{
    TestMem *ro = test_mem_new(4096);
    TestBuf b[2] = {{buf_iova(0), 8, false}, {0x50000000, 64, true}};

    g_assert_cmpint(
        test_mem_map(ro, f->iotlb, 0, 0x50000000, 0, 4096, VDUSE_IOTLB_READ),
        ==, 0);
    test_ring_add(&f->ring, b, 2, 0);
    test_mem_free(ro); /* the IOTLB keeps its own mapping */
}

/**
 * hostile_head_range() - a head index equal to the queue size
 * @f:		the fixture
 */
static void hostile_head_range(Fixture *f)
{
    test_ring_put_head(&f->ring, (uint16_t)f->ring.num);
}

/**
 * hostile_head_range_later() - a good chain, then a head index of 65535
 * @f:		the fixture
 */
static void hostile_head_range_later(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_ring_add(&f->ring, &b, 1, 0);
    test_ring_put_head(&f->ring, 65535);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
}

/**
 * hostile_next_range() - a next index equal to the queue size
 * @f:		the fixture
 */
static void hostile_next_range(Fixture *f)
{
    test_ring_set_desc(&f->ring, 0, buf_iova(0), 8, VRING_DESC_F_NEXT,
                       (uint16_t)f->ring.num);
    test_ring_put_head(&f->ring, 0);
}

/**
 * hostile_avail_jump() - the available index runs num + 1 ahead
 * @f:		the fixture
 */
static void hostile_avail_jump(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_ring_add(&f->ring, &b, 1, 0);
    test_ring_set_avail_idx(&f->ring, (uint16_t)(f->ring.num + 1));
}

/**
 * hostile_avail_back() - the available index goes back after a pop
 * @f:		the fixture
 */
static void hostile_avail_back(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_ring_add(&f->ring, &b, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    test_ring_set_avail_idx(&f->ring, 0);
}

/**
 * hostile_read_after_write() - readable after writable (2.7.4.2)
 * @f:		the fixture
 */
static void hostile_read_after_write(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, true}, {buf_iova(64), 8, false}};

    test_ring_add(&f->ring, b, 2, 0);
}

/**
 * hostile_read_after_empty_write() - readable after a zero-length writable
 * one: still writable before readable (2.7.4.2)
 * @f:		the fixture
 */
static void hostile_read_after_empty_write(Fixture *f)
{
    TestBuf b[3] = {{buf_iova(0), 8, false},
                    {buf_iova(64), 0, true},
                    {buf_iova(128), 8, false}};

    test_ring_add(&f->ring, b, 3, 0);
}

/**
 * too_many() - a chain of VDUSE_VQ_MAX_IOV + 1 one-byte segments
 * @f:		the fixture
 * @indirect:	in an indirect table rather than the descriptor table
 */
static void too_many(Fixture *f, bool indirect)
{
    unsigned int n = VDUSE_VQ_MAX_IOV + 1;
    g_autofree TestBuf *b = g_new(TestBuf, n);

    for (unsigned int i = 0; i < n; i++) {
        /* Every other byte, so no two segments touch. */
        b[i] = (TestBuf){buf_iova(2 * i), 1, false};
    }
    test_ring_add(&f->ring, b, n, indirect ? buf_iova(0x20000) : 0);
}

/**
 * hostile_too_many_segments() - too many segments, direct, queue of 2048
 * @f:		the fixture
 */
static void hostile_too_many_segments(Fixture *f)
{
    too_many(f, false);
}

/**
 * hostile_too_many_indirect() - too many segments in an indirect table
 * @f:		the fixture
 */
static void hostile_too_many_indirect(Fixture *f)
{
    too_many(f, true);
}

/**
 * hostile_one_desc_too_many() - VDUSE_VQ_MAX_IOV - 3 one-segment buffers,
 * then one buffer over four regions: one segment too many
 * @f:		the fixture
 */
static void hostile_one_desc_too_many(Fixture *f)
{
    uint64_t base = 0x60000000;
    unsigned int regions = 4, singles = VDUSE_VQ_MAX_IOV - 3;
    g_autofree TestBuf *b = g_new(TestBuf, singles + 1);

    /* Separate memfds, so the host mappings cannot merge into one. */
    for (unsigned int i = 0; i < regions; i++) {
        TestMem *m = test_mem_new(4096);

        g_assert_cmpint(
            test_mem_map(m, f->iotlb, 0, base + 4096 * i, 0, 4096, RW), ==, 0);
        test_mem_free(m);
    }
    for (unsigned int i = 0; i < singles; i++) {
        b[i] = (TestBuf){buf_iova(2 * i), 1, false};
    }
    b[singles] = (TestBuf){base + 10, 3 * 4096, false};
    test_ring_add(&f->ring, b, singles + 1, buf_iova(0x20000));
}

/**
 * struct Hostile - one hostile case
 * @name:	test path under /virtq/hostile/
 * @fn:		what the driver writes
 * @num:	queue size to run it on
 */
typedef struct Hostile {
    const char *name;
    HostileFn fn;
    uint32_t num;
} Hostile;

static const Hostile hostile[] = {
    {"loop", hostile_loop, 8},
    {"self-loop-empty", hostile_self_loop, 8},
    {"chain-longer-than-queue", hostile_chain_too_long, 8},
    {"indirect-loop", hostile_indirect_loop, 8},
    {"indirect-larger-than-queue", hostile_indirect_too_big, 8},
    {"reused-heads", hostile_reused_heads, 8},
    {"nested-indirect", hostile_nested_indirect, 8},
    {"indirect-empty", hostile_indirect_empty, 8},
    {"indirect-odd-length", hostile_indirect_odd, 8},
    {"indirect-unmapped", hostile_indirect_unmapped, 8},
    {"indirect-past-end", hostile_indirect_past_end, 8},
    {"indirect-with-next", hostile_indirect_next, 8},
    {"indirect-next-out-of-range", hostile_indirect_next_range, 8},
    {"indirect-read-after-write", hostile_indirect_read_after_write, 8},
    {"unmapped-buffer", hostile_unmapped, 8},
    {"buffer-past-end", hostile_past_end, 8},
    {"buffer-wraps", hostile_wraps, 8},
    {"write-read-only", hostile_write_ro, 8},
    {"head-out-of-range", hostile_head_range, 8},
    {"head-out-of-range-later", hostile_head_range_later, 8},
    {"next-out-of-range", hostile_next_range, 8},
    {"avail-index-jump", hostile_avail_jump, 8},
    {"avail-index-back", hostile_avail_back, 8},
    {"read-after-write", hostile_read_after_write, 8},
    {"read-after-empty-write", hostile_read_after_empty_write, 8},
    {"too-many-segments", hostile_too_many_segments, 2048},
    {"too-many-segments-indirect", hostile_too_many_indirect, 2048},
    {"too-many-segments-regions", hostile_one_desc_too_many, 2048},
};

/**
 * test_hostile() - a hostile chain fails the queue: -EIO now and on every
 * later pop, no used entry; after a restart on a clean ring it works again
 * @f:		the fixture
 * @data:	the Hostile case
 */
static void test_hostile(Fixture *f, gconstpointer data)
{
    const Hostile *h = data;
    TestBuf good = {buf_iova(0), 8, true};
    uint16_t used_before;

    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, h->num, 0);
    test_ring_start(&f->ring, f->vq, 0, false);
    h->fn(f);
    used_before = test_ring_used_idx(&f->ring);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    g_assert_true(vduse_vq_is_failed(f->vq));
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    g_assert_false(vduse_vq_flush(f->vq));
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, used_before);
    g_assert_true(vduse_vq_is_failed(f->vq));

    vduse_vq_stop(f->vq);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
    /* The driver resets and sets up its ring afresh. */
    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, h->num, 0);
    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_false(vduse_vq_is_failed(f->vq));
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    test_ring_add(&f->ring, &good, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    vduse_vq_push(f->vq, f->elem->id, 1);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_cmpuint(test_ring_used_idx(&f->ring), ==, 1);
}

/**
 * add() - register a test on the fixture
 * @path:	GTest path
 * @data:	passed to @fn
 * @fn:		the test
 */
static void add(const char *path, gconstpointer data,
                void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown);
}

/**
 * main() - register the virtqueue tests and run them
 * @argc:	argument count
 * @argv:	arguments, GTest's included
 *
 * Return: what g_test_run() returns.
 */
int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("/virtq/start/refusals", NULL, test_start_refusals);
    add("/virtq/start/max-size", NULL, test_start_max_size);
    add("/virtq/stopped", NULL, test_stopped);
    add("/virtq/pop/empty", NULL, test_empty);
    add("/virtq/chain/simple", NULL, test_chain);
    add("/virtq/chain/whole-table", NULL, test_chain_long);
    add("/virtq/chain/prefix", NULL, test_chain_prefix);
    add("/virtq/chain/full-ring", NULL, test_full_ring);
    add("/virtq/chain/max-segments", NULL, test_max_segments);
    add("/virtq/chain/indirect", NULL, test_indirect);
    add("/virtq/chain/indirect-write-flag", NULL, test_indirect_write_flag);
    add("/virtq/chain/multi-region", NULL, test_multi_region);
    add("/virtq/used/batch", NULL, test_batch);
    add("/virtq/used/out-of-order", NULL, test_out_of_order);
    add("/virtq/wrap/single", NULL, test_wrap);
    add("/virtq/wrap/batch", NULL, test_wrap_batch);
    add("/virtq/notify/event-idx-interrupts", NULL, test_event_idx_interrupts);
    add("/virtq/notify/no-interrupt-flag", NULL, test_no_interrupt_flag);
    add("/virtq/notify/enable-flags", NULL, test_enable_notify_flags);
    add("/virtq/notify/enable-event-idx", NULL, test_enable_notify_event_idx);
    add("/virtq/unpop", NULL, test_unpop);
    add("/virtq/restart", NULL, test_restart);
    add("/virtq/asid/ring-in-asid-1", NULL, test_two_asids);
    add("/virtq/asid/set-asid", NULL, test_set_asid);
    add("/virtq/iotlb/remap", NULL, test_iotlb_remap);
    add("/virtq/iotlb/remap-before-push", NULL, test_iotlb_remap_push);
    for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++) {
        g_autofree char *path =
            g_strdup_printf("/virtq/hostile/%s", hostile[i].name);

        add(path, &hostile[i], test_hostile);
    }
    return g_test_run();
}
