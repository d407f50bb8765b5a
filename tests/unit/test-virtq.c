/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-virtq.c - the split virtqueue engine against an in-process driver
 *
 * Guest memory: one 1 MiB memfd mapped at GUEST_IOVA in ASID 0; the ring
 * at its start, buffers from BUF_OFF on.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>

#include "test-driver.h"

#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)
#define BUF_OFF 0x10000
#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)

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

/* buf_iova() - the IOVA of byte @off of the buffer area. */
static uint64_t buf_iova(uint64_t off)
{
    return GUEST_IOVA + BUF_OFF + off;
}

/* fixture_setup() - a mapped guest, a ring of 8 and a stopped queue. */
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

/* fixture_teardown() - free everything. */
static void fixture_teardown(Fixture *f, gconstpointer data)
{
    vduse_vq_free(f->vq);
    vduse_iotlb_free(f->iotlb);
    test_mem_free(f->mem);
    g_free(f->elem);
}

/* Start refuses bad sizes, misaligned or unmapped rings. */
static void test_start_refusals(Fixture *f, gconstpointer data)
{
    TestRing *r = &f->ring;
    GError *error = NULL;

    g_assert_false(vduse_vq_start(f->vq, 0, 6, r->desc_iova, r->avail_iova,
                                  r->used_iova, 0, false, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_false(vduse_vq_start(f->vq, 0, 8, r->desc_iova + 8, r->avail_iova,
                                  r->used_iova, 0, false, &error));
    g_clear_error(&error);
    g_assert_false(vduse_vq_start(f->vq, 0, 8, 0x10, r->avail_iova,
                                  r->used_iova, 0, false, &error));
    g_clear_error(&error);
    /* The ring is not mapped in ASID 1. */
    g_assert_false(vduse_vq_start(f->vq, 1, 8, r->desc_iova, r->avail_iova,
                                  r->used_iova, 0, false, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
}

/* A chain of two readable and one writable buffer, and its used entry. */
static void test_chain(Fixture *f, gconstpointer data)
{
    TestBuf bufs[] = {
        {buf_iova(0), 12, false},
        {buf_iova(100), 50, false},
        {buf_iova(200), 1500, true},
    };
    uint32_t id, len;
    uint16_t head;

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
    g_assert_cmpstr(f->elem->iov[1].iov_base, ==, "payload");
    memcpy(f->elem->iov[2].iov_base, "reply", 6);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 1);

    vduse_vq_push(f->vq, head, 6);
    g_assert_false(test_ring_get_used(&f->ring, &id, &len));
    vduse_vq_flush(f->vq);
    g_assert_true(test_ring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(len, ==, 6);
    g_assert_cmpstr(test_ring_ptr(&f->ring, buf_iova(200)), ==, "reply");
}

/* Several pushes are published by one flush, in order. */
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
    }
    g_assert_cmpuint(le16toh(f->ring.used->idx), ==, 0);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_cmpuint(le16toh(f->ring.used->idx), ==, 4);
    for (uint32_t i = 0; i < 4; i++) {
        g_assert_true(test_ring_get_used(&f->ring, &id, &len));
        g_assert_cmpuint(id, ==, heads[i]);
        g_assert_cmpuint(len, ==, i);
    }
    /* Nothing pushed: nothing to publish, no interrupt. */
    g_assert_false(vduse_vq_flush(f->vq));
}

/* Indirect tables, alone and next to direct chains. */
static void test_indirect(Fixture *f, gconstpointer data)
{
    TestBuf bufs[] = {
        {buf_iova(0), 10, false},
        {buf_iova(16), 20, false},
        {buf_iova(64), 30, true},
        {buf_iova(128), 40, true},
    };
    uint64_t table = buf_iova(0x8000);

    test_ring_start(&f->ring, f->vq, 0, false);
    test_ring_add(&f->ring, bufs, 4, table);
    test_ring_add(&f->ring, bufs, 2, 0);
    test_ring_add(&f->ring, &bufs[2], 2, table + 0x100);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 2);
    g_assert_cmpuint(f->elem->in_num, ==, 2);
    g_assert_cmpuint(f->elem->out_len, ==, 30);
    g_assert_cmpuint(f->elem->in_len, ==, 70);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 2);
    g_assert_cmpuint(f->elem->in_num, ==, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 0);
    g_assert_cmpuint(f->elem->in_len, ==, 70);
    g_assert_false(vduse_vq_is_failed(f->vq));
}

/* Indices wrap at 65535 on both rings; descriptors are reused. */
static void test_wrap(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    uint32_t id, len;

    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 65530);
    test_ring_start(&f->ring, f->vq, 0, false);
    for (int i = 0; i < 20; i++) {
        uint16_t head = test_ring_add(&f->ring, &buf, 1, 0);

        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
        g_assert_cmpuint(f->elem->id, ==, head);
        vduse_vq_push(f->vq, head, (uint32_t)i);
        vduse_vq_flush(f->vq);
        g_assert_true(test_ring_get_used(&f->ring, &id, &len));
        g_assert_cmpuint(id, ==, head);
        g_assert_cmpuint(len, ==, (uint32_t)i);
    }
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, (uint16_t)(65530 + 20));
    g_assert_cmpuint(le16toh(f->ring.used->idx), ==, (uint16_t)(65530 + 20));
}

/* One round of pop, push and flush; returns what flush said. */
static bool round_trip(Fixture *f)
{
    TestBuf buf = {buf_iova(0), 8, true};

    test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    vduse_vq_push(f->vq, f->elem->id, 1);
    return vduse_vq_flush(f->vq);
}

/* With event index, the driver's used_event decides, across the wrap. */
static void test_event_idx_interrupts(Fixture *f, gconstpointer data)
{
    uint16_t *used_event = &f->ring.avail->ring[f->ring.num];

    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 65533);
    test_ring_start(&f->ring, f->vq, 0, true);
    *used_event = htole16(65533);
    /* The first flush always interrupts: nothing was signalled yet. */
    g_assert_true(round_trip(f));  /* used 65533 -> 65534 */
    g_assert_false(round_trip(f)); /* 65534 -> 65535: event 65533 passed */
    *used_event = htole16(0);      /* wants one when entry 0 is used */
    g_assert_false(round_trip(f)); /* 65535 -> 0 */
    g_assert_true(round_trip(f));  /* 0 -> 1 crosses used_event 0 */
    *used_event = htole16(5);
    g_assert_false(round_trip(f)); /* 1 -> 2 */
}

/* Without event index, VRING_AVAIL_F_NO_INTERRUPT decides. */
static void test_no_interrupt_flag(Fixture *f, gconstpointer data)
{
    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_true(round_trip(f));
    f->ring.avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
    g_assert_false(round_trip(f));
    f->ring.avail->flags = 0;
    g_assert_true(round_trip(f));
}

/* Asking for kicks: avail_event, or VRING_USED_F_NO_NOTIFY. */
static void test_enable_notify(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    uint16_t *avail_event = (uint16_t *)&f->ring.used->ring[f->ring.num];

    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_false(vduse_vq_enable_notify(f->vq, false));
    g_assert_true(le16toh(f->ring.used->flags) & VRING_USED_F_NO_NOTIFY);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_false(le16toh(f->ring.used->flags) & VRING_USED_F_NO_NOTIFY);
    test_ring_add(&f->ring, &buf, 1, 0);
    /* A buffer came while we looked away: poll again, do not sleep. */
    g_assert_true(vduse_vq_enable_notify(f->vq, true));

    vduse_vq_stop(f->vq);
    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 0);
    test_ring_start(&f->ring, f->vq, 0, true);
    test_ring_add(&f->ring, &buf, 1, 0);
    test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_true(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(le16toh(*avail_event), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(le16toh(*avail_event), ==, 2);
}

/* Chains given back are popped again, the same ones. */
static void test_unpop(Fixture *f, gconstpointer data)
{
    TestBuf buf = {buf_iova(0), 8, true};
    uint16_t a, b;

    test_ring_start(&f->ring, f->vq, 0, false);
    a = test_ring_add(&f->ring, &buf, 1, 0);
    b = test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    vduse_vq_unpop(f->vq, 2);
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 2);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, a);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, b);
}

/* One descriptor over two IOTLB regions of different memory. */
static void test_multi_region(Fixture *f, gconstpointer data)
{
    TestMem *other = test_mem_new(4096);
    uint64_t hole = 0x40000000; /* region A ends here, B starts */
    TestBuf buf = {hole - 100, 300, false};

    memset(other->host, 'B', 4096);
    memset(f->mem->host + GUEST_SIZE - 4096, 'A', 4096);
    g_assert_cmpint(test_mem_map(f->mem, f->iotlb, 0, hole - 4096,
                                 GUEST_SIZE - 4096, 4096, RW),
                    ==, 0);
    g_assert_cmpint(test_mem_map(other, f->iotlb, 0, hole, 0, 4096, RW), ==, 0);
    test_ring_start(&f->ring, f->vq, 0, false);
    test_ring_add(&f->ring, &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 2);
    g_assert_cmpuint(f->elem->iov[0].iov_len, ==, 100);
    g_assert_cmpuint(f->elem->iov[1].iov_len, ==, 200);
    g_assert_cmpint(*(char *)f->elem->iov[0].iov_base, ==, 'A');
    g_assert_cmpint(*(char *)f->elem->iov[1].iov_base, ==, 'B');
    test_mem_free(other);
}

/*
 * The ring sits at the same IOVA in ASID 0 and ASID 1 but in different
 * memory: a queue in ASID 1 must read ASID 1's ring and buffers.
 */
static void test_two_asids(Fixture *f, gconstpointer data)
{
    TestMem *cvq = test_mem_new(GUEST_SIZE);
    TestRing shadow;
    TestBuf cmd[] = {{buf_iova(0), 8, false}, {buf_iova(64), 1, true}};

    g_assert_cmpint(
        test_mem_map(cvq, f->iotlb, 1, GUEST_IOVA, 0, GUEST_SIZE, RW), ==, 0);
    /* ASID 1: a valid command. ASID 0: an index out of range at the same
     * place. */
    test_ring_init(&shadow, cvq, GUEST_IOVA, 0, 8, 0);
    memcpy(test_ring_ptr(&shadow, buf_iova(0)), "asid-one", 8);
    test_ring_add(&shadow, cmd, 2, 0);
    test_ring_put_head(&f->ring, 200);
    test_ring_put_head(&f->ring, 200);

    test_ring_start(&shadow, f->vq, 1, false);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpmem(f->elem->iov[0].iov_base, 8, "asid-one", 8);
    vduse_vq_push(f->vq, f->elem->id, 1);
    vduse_vq_flush(f->vq);
    g_assert_cmpuint(le16toh(shadow.used->idx), ==, 1);
    g_assert_cmpuint(le16toh(f->ring.used->idx), ==, 0);

    /* Moved to ASID 0, the queue now sees ASID 0's ring: index 200. */
    test_ring_add(&shadow, cmd, 2, 0);
    vduse_vq_set_asid(f->vq, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    test_mem_free(cvq);
}

/* What a hostile test writes before the queue pops. */
typedef void (*HostileFn)(Fixture *f);

/* hostile_loop() - descriptor 0 -> 1 -> 0. */
static void hostile_loop(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(8), 8, false}};

    test_ring_add(&f->ring, b, 2, 0);
    f->ring.desc[1].flags = htole16(VRING_DESC_F_NEXT);
    f->ring.desc[1].next = 0;
}

/*
 * hostile_empty_loop() - a loop of zero-length descriptors, which adds no
 * segment: only the walk's own bound stops it.
 */
static void hostile_empty_loop(Fixture *f)
{
    hostile_loop(f);
    f->ring.desc[0].len = 0;
    f->ring.desc[1].len = 0;
}

/* hostile_indirect_loop() - an indirect table whose chain loops. */
static void hostile_indirect_loop(Fixture *f)
{
    TestBuf b[4] = {{buf_iova(0), 8, false},
                    {buf_iova(0), 8, false},
                    {buf_iova(0), 8, false},
                    {buf_iova(0), 8, false}};
    uint64_t table = buf_iova(0x8000);
    struct vring_desc *t = test_ring_ptr(&f->ring, table);

    test_ring_add(&f->ring, b, 4, table);
    t[3].flags = htole16(VRING_DESC_F_NEXT);
    t[3].next = 0;
}

/* hostile_nested_indirect() - an indirect descriptor in an indirect table. */
static void hostile_nested_indirect(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(0), 8, false}};
    uint64_t table = buf_iova(0x8000);
    struct vring_desc *t = test_ring_ptr(&f->ring, table);

    test_ring_add(&f->ring, b, 2, table);
    t[1].addr = htole64(table);
    t[1].len = htole32(32);
    t[1].flags = htole16(VRING_DESC_F_INDIRECT);
}

/* hostile_indirect_len() - an indirect table of @len bytes. */
static void hostile_indirect_len(Fixture *f, uint32_t len)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_ring_add(&f->ring, &b, 1, buf_iova(0x8000));
    f->ring.desc[0].len = htole32(len);
}

static void hostile_indirect_empty(Fixture *f)
{
    hostile_indirect_len(f, 0);
}

static void hostile_indirect_odd(Fixture *f)
{
    hostile_indirect_len(f, 24);
}

/* hostile_indirect_unmapped() - the table is nowhere. */
static void hostile_indirect_unmapped(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_ring_add(&f->ring, &b, 1, buf_iova(0x8000));
    f->ring.desc[0].addr = htole64(0x7000000000ull);
}

/* hostile_indirect_next() - INDIRECT and NEXT together. */
static void hostile_indirect_next(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_ring_add(&f->ring, &b, 1, buf_iova(0x8000));
    f->ring.desc[0].flags |= htole16(VRING_DESC_F_NEXT);
}

/* hostile_unmapped() - a buffer outside every mapping. */
static void hostile_unmapped(Fixture *f)
{
    TestBuf b = {0x7000000000ull, 64, false};

    test_ring_add(&f->ring, &b, 1, 0);
}

/* hostile_write_ro() - the device asked to write into read-only memory. */
static void hostile_write_ro(Fixture *f)
{
    TestMem *ro = test_mem_new(4096);
    TestBuf b = {0x50000000, 64, true};

    g_assert_cmpint(
        test_mem_map(ro, f->iotlb, 0, 0x50000000, 0, 4096, VDUSE_IOTLB_READ),
        ==, 0);
    test_ring_add(&f->ring, &b, 1, 0);
    test_mem_free(ro); /* the IOTLB keeps its own mapping */
}

/* hostile_head_range() - a head index beyond the queue. */
static void hostile_head_range(Fixture *f)
{
    test_ring_put_head(&f->ring, 8);
}

/* hostile_next_range() - a next index beyond the queue. */
static void hostile_next_range(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_ring_add(&f->ring, &b, 1, 0);
    f->ring.desc[0].flags = htole16(VRING_DESC_F_NEXT);
    f->ring.desc[0].next = htole16(9);
}

/* hostile_avail_jump() - the available index runs 9 ahead of a queue of 8. */
static void hostile_avail_jump(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_ring_add(&f->ring, &b, 1, 0);
    f->ring.avail->idx = htole16(9);
}

/* hostile_read_after_write() - readable after writable, against 2.7.4.2. */
static void hostile_read_after_write(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, true}, {buf_iova(64), 8, false}};

    test_ring_add(&f->ring, b, 2, 0);
}

/* hostile_too_many_segments() - an indirect chain of 1025 segments. */
static void hostile_too_many_segments(Fixture *f)
{
    unsigned int n = VDUSE_VQ_MAX_IOV + 1;
    g_autofree TestBuf *b = g_new(TestBuf, n);

    for (unsigned int i = 0; i < n; i++) {
        /* Every other byte, so no two segments touch. */
        b[i] = (TestBuf){buf_iova(2 * i), 1, false};
    }
    test_ring_add(&f->ring, b, n, buf_iova(0x20000));
}

/*
 * Each hostile chain fails the queue: -EIO now and on every later pop, no
 * used entry; after a restart on a clean ring the queue works again.
 */
static void test_hostile(Fixture *f, gconstpointer data)
{
    HostileFn fn = (HostileFn)data;
    TestBuf good = {buf_iova(0), 8, true};

    test_ring_start(&f->ring, f->vq, 0, false);
    fn(f);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    g_assert_true(vduse_vq_is_failed(f->vq));
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    g_assert_false(vduse_vq_flush(f->vq));
    g_assert_cmpuint(le16toh(f->ring.used->idx), ==, 0);

    vduse_vq_stop(f->vq);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
    memset(f->mem->host, 0, 0x2000); /* the driver resets its ring */
    test_ring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 0);
    test_ring_start(&f->ring, f->vq, 0, false);
    g_assert_false(vduse_vq_is_failed(f->vq));
    test_ring_add(&f->ring, &good, 1, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
}

/* add() - register a test on the fixture. */
static void add(const char *path, gconstpointer data,
                void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        HostileFn fn;
    } hostile[] = {
        {"loop", hostile_loop},
        {"empty-loop", hostile_empty_loop},
        {"indirect-loop", hostile_indirect_loop},
        {"nested-indirect", hostile_nested_indirect},
        {"indirect-empty", hostile_indirect_empty},
        {"indirect-odd-length", hostile_indirect_odd},
        {"indirect-unmapped", hostile_indirect_unmapped},
        {"indirect-with-next", hostile_indirect_next},
        {"unmapped-buffer", hostile_unmapped},
        {"write-read-only", hostile_write_ro},
        {"head-out-of-range", hostile_head_range},
        {"next-out-of-range", hostile_next_range},
        {"avail-index-jump", hostile_avail_jump},
        {"read-after-write", hostile_read_after_write},
        {"too-many-segments", hostile_too_many_segments},
    };

    g_test_init(&argc, &argv, NULL);
    add("/virtq/start-refusals", NULL, test_start_refusals);
    add("/virtq/chain", NULL, test_chain);
    add("/virtq/batch", NULL, test_batch);
    add("/virtq/indirect", NULL, test_indirect);
    add("/virtq/wrap", NULL, test_wrap);
    add("/virtq/event-idx/interrupts", NULL, test_event_idx_interrupts);
    add("/virtq/no-interrupt-flag", NULL, test_no_interrupt_flag);
    add("/virtq/enable-notify", NULL, test_enable_notify);
    add("/virtq/unpop", NULL, test_unpop);
    add("/virtq/multi-region", NULL, test_multi_region);
    add("/virtq/two-asids", NULL, test_two_asids);
    for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++) {
        g_autofree char *path =
            g_strdup_printf("/virtq/hostile/%s", hostile[i].name);

        add(path, (gconstpointer)hostile[i].fn, test_hostile);
    }
    return g_test_run();
}
