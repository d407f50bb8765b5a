/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-virtq-packed.c - the packed virtqueue engine against an in-process
 * driver (virtio 1.2 section 2.8)
 *
 * Guest memory: one 1 MiB memfd mapped at GUEST_IOVA in ASID 0; the ring
 * at its start, buffers from BUF_OFF on. Every hostile case must fail the
 * queue (-EIO, logged with g_message), write no used descriptor, and let a
 * restarted queue work again.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include "test-driver.h"

#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)
#define BUF_OFF 0x10000
#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)
#define FAR_IOVA 0x7000000000ull /* mapped nowhere */
#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED (1u << VRING_PACKED_DESC_F_USED)
#define WRAP (1u << VRING_PACKED_EVENT_F_WRAP_CTR)

/**
 * struct Fixture - a driver, an IOTLB and a queue
 * @mem:	guest memory
 * @iotlb:	the IOTLB
 * @ring:	the driver's view of the queue
 * @vq:		the engine's queue
 * @elem:	storage for popped chains
 */
typedef struct Fixture {
    TestMem *mem;
    VduseIotlb *iotlb;
    TestPRing ring;
    VduseVq *vq;
    VduseVqElem *elem;
} Fixture;

/**
 * buf_iova() - the IOVA of byte @off of the buffer area.
 * @off:	off
 */
static uint64_t buf_iova(uint64_t off)
{
    return GUEST_IOVA + BUF_OFF + off;
}

/**
 * fixture_setup() - a mapped guest, a ring of 8 and a stopped queue.
 * @f:	the fixture
 * @data:	unused
 */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    f->mem = test_mem_new(GUEST_SIZE);
    f->iotlb = vduse_iotlb_new(1, NULL, NULL);
    g_assert_cmpint(
        test_mem_map(f->mem, f->iotlb, 0, GUEST_IOVA, 0, GUEST_SIZE, RW), ==,
        0);
    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 0, true);
    f->vq = vduse_vq_new(0, f->iotlb);
    f->elem = g_new0(VduseVqElem, 1);
}

/**
 * fixture_teardown() - free everything.
 * @f:	the fixture
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
 * start_fails() - vduse_vq_start_packed() must refuse, with an error
 * @f:		the fixture
 * @num:	queue size
 * @desc:	ring IOVA
 * @driver:	driver area IOVA
 * @device:	device area IOVA
 * @avail:	available position (index | wrap << 15)
 * @used:	used position
 */
static void start_fails(Fixture *f, uint32_t num, uint64_t desc,
                        uint64_t driver, uint64_t device, uint16_t avail,
                        uint16_t used)
{
    g_autoptr(GError) error = NULL;

    g_assert_false(vduse_vq_start_packed(f->vq, 0, num, desc, driver, device,
                                         avail, used, false, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
}

/**
 * test_start_refusals() - bad sizes, misaligned areas, unmapped or
 * read-only rings, positions off the ring; a size that is not a power of
 * two is fine
 * @f:		the fixture
 * @data:	unused
 */
static void test_start_refusals(Fixture *f, gconstpointer data)
{
    TestPRing *r = &f->ring;
    TestMem *ro = test_mem_new(4096);
    g_autoptr(GError) error = NULL;

    start_fails(f, 0, r->desc_iova, r->driver_iova, r->device_iova, WRAP, WRAP);
    start_fails(f, 32769, r->desc_iova, r->driver_iova, r->device_iova, WRAP,
                WRAP);
    start_fails(f, 8, r->desc_iova + 8, r->driver_iova, r->device_iova, WRAP,
                WRAP);
    start_fails(f, 8, r->desc_iova, r->driver_iova + 2, r->device_iova, WRAP,
                WRAP);
    start_fails(f, 8, r->desc_iova, r->driver_iova, r->device_iova + 2, WRAP,
                WRAP);
    start_fails(f, 8, FAR_IOVA, r->driver_iova, r->device_iova, WRAP, WRAP);
    start_fails(f, 8, r->desc_iova, FAR_IOVA, r->device_iova, WRAP, WRAP);
    start_fails(f, 8, r->desc_iova, r->driver_iova, FAR_IOVA, WRAP, WRAP);
    /* Positions off the ring, or the available one more than a ring past
     * the used one. */
    start_fails(f, 8, r->desc_iova, r->driver_iova, r->device_iova, 8 | WRAP,
                WRAP);
    start_fails(f, 8, r->desc_iova, r->driver_iova, r->device_iova, WRAP,
                8 | WRAP);
    start_fails(f, 8, r->desc_iova, r->driver_iova, r->device_iova, 1, WRAP);
    /* The device writes used descriptors into the ring: read-only fails. */
    g_assert_cmpint(
        test_mem_map(ro, f->iotlb, 0, 0x50000000, 0, 4096, VDUSE_IOTLB_READ),
        ==, 0);
    start_fails(f, 8, 0x50000000, r->driver_iova, r->device_iova, WRAP, WRAP);
    start_fails(f, 8, r->desc_iova, r->driver_iova, 0x50000000, WRAP, WRAP);
    test_mem_free(ro);

    /* Any size up to 32768; at the most, the ring fills 512 KiB. */
    g_assert_true(vduse_vq_start_packed(f->vq, 0, 5, r->desc_iova,
                                        r->desc_iova + 16 * 5, r->device_iova,
                                        WRAP, WRAP, false, &error));
    g_assert_no_error(error);
    g_assert_true(vduse_vq_is_packed(f->vq));
    g_assert_true(vduse_vq_start_packed(
        f->vq, 0, 32768, GUEST_IOVA, GUEST_IOVA + 16 * 32768,
        GUEST_IOVA + 16 * 32768 + 4, WRAP, WRAP, false, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(vduse_vq_size(f->vq), ==, 32768);
}

/**
 * test_empty() - a zeroed ring has nothing available, in either lap.
 * @f:	the fixture
 * @data:	unused
 */
static void test_empty(Fixture *f, gconstpointer data)
{
    test_pring_start(&f->ring, f->vq, 0, false);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 0);
    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 8, 3, false);
    test_pring_start(&f->ring, f->vq, 0, false);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);
}

/**
 * test_chain() - a chain of two readable and one writable descriptors: one
 * element with the last descriptor's buffer id, one used descriptor over
 * its head with the length and WRITE, the driver skips the three slots
 * @f:		the fixture
 * @data:	unused
 */
static void test_chain(Fixture *f, gconstpointer data)
{
    TestBuf b[3] = {{buf_iova(0), 10, false},
                    {buf_iova(100), 20, false},
                    {buf_iova(200), 30, true}};
    uint16_t id;
    uint32_t len;

    test_pring_start(&f->ring, f->vq, 0, false);
    g_assert_cmpuint(test_pring_add(&f->ring, b, 3, 0, 5), ==, 0);
    /* Only the last descriptor's id counts (2.8 "Next Flag"). */
    f->ring.desc[0].id = htole16(7);
    f->ring.desc[1].id = htole16(6);
    g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 5);
    g_assert_cmpuint(f->elem->out_num, ==, 2);
    g_assert_cmpuint(f->elem->in_num, ==, 1);
    g_assert_cmpuint(f->elem->out_len, ==, 30);
    g_assert_cmpuint(f->elem->in_len, ==, 30);
    /* The segments are the buffers: the device's write is the driver's. */
    g_assert_cmpuint(f->elem->iov[0].iov_len, ==, 10);
    g_assert_cmpuint(f->elem->iov[2].iov_len, ==, 30);
    memcpy(f->elem->iov[2].iov_base, "packed", 6);
    g_assert_cmpmem(test_pring_ptr(&f->ring, buf_iova(200)), 6, "packed", 6);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 3 | WRAP);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 0);

    vduse_vq_push(f->vq, 5, 25);
    /* Nothing visible before the flush. */
    g_assert_false(test_pring_get_used(&f->ring, &id, &len));
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_cmphex(test_pring_desc_flags(&f->ring, 0), ==,
                    F_AVAIL | F_USED | VRING_DESC_F_WRITE);
    g_assert_true(test_pring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, 5);
    g_assert_cmpuint(len, ==, 25);
    g_assert_cmpuint(f->ring.used_idx, ==, 3);
    g_assert_cmpuint(vduse_vq_used_idx(f->vq), ==, 3 | WRAP);
    /* Nothing written: no WRITE in the used descriptor (2.8 "Write Flag"). */
    test_pring_add(&f->ring, b, 1, 0, 5);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    vduse_vq_push(f->vq, 5, 0);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_cmphex(test_pring_desc_flags(&f->ring, 3), ==, F_AVAIL | F_USED);
}

/**
 * test_indirect() - an indirect table: one slot, its entries in order, the
 * WRITE flag of the descriptor pointing at it ignored
 * @f:		the fixture
 * @data:	unused
 */
static void test_indirect(Fixture *f, gconstpointer data)
{
    TestBuf b[3] = {{buf_iova(0), 10, false},
                    {buf_iova(100), 20, true},
                    {buf_iova(200), 30, true}};
    uint16_t id;
    uint32_t len;

    test_pring_start(&f->ring, f->vq, 0, false);
    test_pring_add(&f->ring, b, 3, buf_iova(0x8000), 2);
    f->ring.desc[0].flags |= htole16(VRING_DESC_F_WRITE);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 2);
    g_assert_cmpuint(f->elem->out_num, ==, 1);
    g_assert_cmpuint(f->elem->in_num, ==, 2);
    g_assert_cmpuint(f->elem->in_len, ==, 50);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 1 | WRAP);
    vduse_vq_push(f->vq, 2, 50);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_true(test_pring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, 2);
    g_assert_cmpuint(len, ==, 50);
    g_assert_cmpuint(f->ring.used_idx, ==, 1);
}

/**
 * test_wrap_chain() - a chain across the ring's end: its tail is available
 * with the flipped wrap counter, and the used descriptor that follows is
 * written with the used counter flipped
 * @f:		the fixture
 * @data:	unused
 */
static void test_wrap_chain(Fixture *f, gconstpointer data)
{
    TestBuf b[3] = {{buf_iova(0), 10, false},
                    {buf_iova(100), 20, false},
                    {buf_iova(200), 30, true}};
    uint16_t id;
    uint32_t len;

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 4, 2, true);
    test_pring_start(&f->ring, f->vq, 0, false);
    g_assert_cmpuint(test_pring_add(&f->ring, b, 3, 0, 0), ==, 2);
    g_assert_cmphex(test_pring_desc_flags(&f->ring, 0) & (F_AVAIL | F_USED), ==,
                    F_USED);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num + f->elem->in_num, ==, 3);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 1);
    vduse_vq_push(f->vq, 0, 30);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_cmpuint(vduse_vq_used_idx(f->vq), ==, 1);
    g_assert_true(test_pring_get_used(&f->ring, &id, &len));
    g_assert_false(f->ring.used_wrap);

    /* The next one, in the lap with both counters 0. */
    g_assert_cmpuint(test_pring_add(&f->ring, b, 1, 0, 3), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 3);
    vduse_vq_push(f->vq, 3, 0);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_cmphex(test_pring_desc_flags(&f->ring, 1), ==, 0);
    g_assert_true(test_pring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, 3);
}

/**
 * test_wrap_many() - both counters round a ring of 5 (not a power of two)
 * many times, with chains of 1 to 3 slots and indirect tables, in batches;
 * every buffer comes back once, in order, with its length
 * @f:		the fixture
 * @data:	unused
 */
static void test_wrap_many(Fixture *f, gconstpointer data)
{
    const uint32_t num = 5;
    uint16_t next_id = 0, expect_id = 0;
    unsigned int round;

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, num, 0, true);
    test_pring_start(&f->ring, f->vq, 0, true);
    for (round = 0; round < 200; round++) {
        unsigned int added = 0, popped = 0;
        uint16_t id;
        uint32_t len;

        /* Fill what room there is with chains of varying shape. */
        for (;;) {
            unsigned int n = 1 + (round + added) % 3;
            bool indirect = (round + added) % 4 == 3;
            unsigned int slots = indirect ? 1 : n;
            TestBuf b[3] = {{buf_iova(0), 1, false},
                            {buf_iova(64), 2, true},
                            {buf_iova(128), 3, true}};

            if (slots > f->ring.free || f->ring.id_slots[next_id]) {
                break;
            }
            test_pring_add(&f->ring, b, n,
                           indirect ? buf_iova(0x8000 + 64 * next_id) : 0,
                           next_id);
            next_id = (uint16_t)((next_id + 1) % num);
            added++;
        }
        g_assert_cmpuint(added, >, 0);
        g_assert_cmpuint(vduse_vq_avail_pending(f->vq), ==, added);
        while (vduse_vq_pop(f->vq, f->elem) == 1) {
            vduse_vq_push(f->vq, f->elem->id, (uint32_t)f->elem->id + 100);
            popped++;
        }
        g_assert_cmpuint(popped, ==, added);
        g_assert_false(vduse_vq_is_failed(f->vq));
        vduse_vq_flush(f->vq);
        while (test_pring_get_used(&f->ring, &id, &len)) {
            g_assert_cmpuint(id, ==, expect_id);
            g_assert_cmpuint(len, ==, (uint32_t)id + 100);
            expect_id = (uint16_t)((expect_id + 1) % num);
            popped--;
        }
        g_assert_cmpuint(popped, ==, 0);
        g_assert_cmpuint(vduse_vq_used_idx(f->vq), ==,
                         test_pring_state(f->ring.used_idx, f->ring.used_wrap));
        g_assert_cmpuint(
            vduse_vq_last_avail(f->vq), ==,
            test_pring_state(f->ring.avail_idx, f->ring.avail_wrap));
    }
}

/**
 * test_out_of_order() - elements pushed in another order than popped: used
 * descriptors go in push order, each moving the position by its own slots
 * @f:		the fixture
 * @data:	unused
 */
static void test_out_of_order(Fixture *f, gconstpointer data)
{
    TestBuf b[2] = {{buf_iova(0), 10, false}, {buf_iova(100), 20, true}};
    uint16_t id;
    uint32_t len;

    test_pring_start(&f->ring, f->vq, 0, false);
    test_pring_add(&f->ring, b, 2, 0, 4);
    test_pring_add(&f->ring, b, 1, 0, 6);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    vduse_vq_push(f->vq, 6, 1);
    vduse_vq_push(f->vq, 4, 2);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_cmpuint(le16toh(f->ring.desc[0].id), ==, 6);
    g_assert_cmpuint(le16toh(f->ring.desc[1].id), ==, 4);
    g_assert_true(test_pring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, 6);
    g_assert_true(test_pring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, 4);
    g_assert_cmpuint(len, ==, 2);
    g_assert_cmpuint(f->ring.used_idx, ==, 3);
    g_assert_cmpuint(vduse_vq_used_idx(f->vq), ==, 3 | WRAP);
}

/**
 * test_batch_at_flush() - a batch is published at the flush: until it
 * nothing is written; after it every descriptor of the batch is used (the
 * order of the stores, the first flags last, is not seen from one thread:
 * that is vq_packed_flush()'s to keep)
 * @f:		the fixture
 * @data:	unused
 */
static void test_batch_at_flush(Fixture *f, gconstpointer data)
{
    TestBuf b = {buf_iova(0), 10, true};

    test_pring_start(&f->ring, f->vq, 0, false);
    for (uint16_t i = 0; i < 3; i++) {
        test_pring_add(&f->ring, &b, 1, 0, i);
    }
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
        vduse_vq_push(f->vq, f->elem->id, 1);
    }
    for (uint16_t i = 0; i < 3; i++) {
        g_assert_cmphex(test_pring_desc_flags(&f->ring, i), ==,
                        F_AVAIL | VRING_DESC_F_WRITE);
    }
    g_assert_true(vduse_vq_flush(f->vq));
    for (uint16_t i = 0; i < 3; i++) {
        g_assert_cmphex(test_pring_desc_flags(&f->ring, i), ==,
                        F_AVAIL | F_USED | VRING_DESC_F_WRITE);
    }
    /* A flush with nothing pushed writes nothing and asks nothing. */
    g_assert_false(vduse_vq_flush(f->vq));
}

/**
 * one_round() - add, pop, push and flush one single-slot buffer
 * @f:		the fixture
 * @id:		its buffer id
 *
 * Return: what vduse_vq_flush() said.
 */
static bool one_round(Fixture *f, uint16_t id)
{
    TestBuf b = {buf_iova(0), 10, true};
    uint32_t len;
    uint16_t got;
    bool irq;

    test_pring_add(&f->ring, &b, 1, 0, id);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    vduse_vq_push(f->vq, id, 1);
    irq = vduse_vq_flush(f->vq);
    g_assert_true(test_pring_get_used(&f->ring, &got, &len));
    g_assert_cmpuint(got, ==, id);
    return irq;
}

/**
 * test_driver_events() - the driver event suppression area: ENABLE
 * interrupts, DISABLE not, DESC (with EVENT_IDX) only when the used
 * descriptor at the given slot and wrap counter is written, across the
 * ring's end too; DESC without EVENT_IDX interrupts (safe)
 * @f:		the fixture
 * @data:	unused
 */
static void test_driver_events(Fixture *f, gconstpointer data)
{
    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 4, 0, true);
    test_pring_start(&f->ring, f->vq, 0, true);
    g_assert_true(one_round(f, 0)); /* ENABLE: the zeroed area */
    test_pring_set_driver_event(&f->ring, VRING_PACKED_EVENT_FLAG_DISABLE, 0);
    g_assert_false(one_round(f, 1));
    /* The device is at slot 2, wrap 1: ask for slot 0 of the next lap. */
    test_pring_set_driver_event(&f->ring, VRING_PACKED_EVENT_FLAG_DESC, 0);
    g_assert_false(one_round(f, 2)); /* writes slot 2 */
    g_assert_false(one_round(f, 3)); /* slot 3 */
    g_assert_true(one_round(f, 0));  /* slot 0, wrap 0 */
    g_assert_false(one_round(f, 1)); /* slot 1: past it */
    /* Slot 3 of this lap (wrap 0), then slot 2 of the next one (wrap 1). */
    test_pring_set_driver_event(&f->ring, VRING_PACKED_EVENT_FLAG_DESC, 3);
    g_assert_false(one_round(f, 2));
    g_assert_true(one_round(f, 3));
    test_pring_set_driver_event(&f->ring, VRING_PACKED_EVENT_FLAG_DESC,
                                2 | WRAP);
    g_assert_false(one_round(f, 0));
    g_assert_false(one_round(f, 1));
    g_assert_true(one_round(f, 2));
    /* An offset off the ring: an interrupt, not a failure. */
    test_pring_set_driver_event(&f->ring, VRING_PACKED_EVENT_FLAG_DESC, 9);
    g_assert_true(one_round(f, 3));
    g_assert_false(vduse_vq_is_failed(f->vq));

    /* Without EVENT_IDX, DESC is not the driver's to ask: interrupt. */
    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 4, 0, true);
    test_pring_start(&f->ring, f->vq, 0, false);
    test_pring_set_driver_event(&f->ring, VRING_PACKED_EVENT_FLAG_DESC,
                                3 | WRAP);
    g_assert_true(one_round(f, 0));
}

/**
 * test_device_events() - the device event suppression area: DISABLE while
 * polling, ENABLE (or DESC at the next slot to consume, with EVENT_IDX)
 * when asking for a kick, and the answer says whether a buffer came
 * @f:		the fixture
 * @data:	unused
 */
static void test_device_events(Fixture *f, gconstpointer data)
{
    TestBuf b = {buf_iova(0), 10, true};
    uint16_t off_wrap;

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 4, 0, true);
    test_pring_start(&f->ring, f->vq, 0, false);
    g_assert_false(vduse_vq_enable_notify(f->vq, false));
    g_assert_cmpuint(test_pring_device_event(&f->ring, &off_wrap), ==,
                     VRING_PACKED_EVENT_FLAG_DISABLE);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_pring_device_event(&f->ring, &off_wrap), ==,
                     VRING_PACKED_EVENT_FLAG_ENABLE);
    test_pring_add(&f->ring, &b, 1, 0, 0);
    g_assert_true(vduse_vq_enable_notify(f->vq, true));

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 4, 3, true);
    test_pring_start(&f->ring, f->vq, 0, true);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_pring_device_event(&f->ring, &off_wrap), ==,
                     VRING_PACKED_EVENT_FLAG_DESC);
    g_assert_cmphex(off_wrap, ==, 3 | WRAP);
    one_round(f, 1);
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    g_assert_cmpuint(test_pring_device_event(&f->ring, &off_wrap), ==,
                     VRING_PACKED_EVENT_FLAG_DESC);
    g_assert_cmphex(off_wrap, ==, 0); /* slot 0 of the lap with wrap 0 */
    test_pring_add(&f->ring, &b, 1, 0, 2);
    g_assert_true(vduse_vq_enable_notify(f->vq, true));
    g_assert_false(vduse_vq_enable_notify(f->vq, false));
    g_assert_cmpuint(test_pring_device_event(&f->ring, &off_wrap), ==,
                     VRING_PACKED_EVENT_FLAG_DISABLE);
}

/**
 * test_unpop() - chains given back are popped again, the position going
 * back across the ring's end and the wrap counter with it
 * @f:		the fixture
 * @data:	unused
 */
static void test_unpop(Fixture *f, gconstpointer data)
{
    TestBuf b[2] = {{buf_iova(0), 10, false}, {buf_iova(100), 20, true}};

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 4, 3, true);
    test_pring_start(&f->ring, f->vq, 0, false);
    test_pring_add(&f->ring, b, 2, 0, 1); /* slots 3, 0 */
    test_pring_add(&f->ring, b, 1, 0, 2); /* slot 1 */
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 2);
    vduse_vq_unpop(f->vq, 2);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 3 | WRAP);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 1);
    vduse_vq_unpop(f->vq, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 2);
    /* Given back and taken again, the ids are not "reused". */
    g_assert_false(vduse_vq_is_failed(f->vq));
}

/**
 * test_restart() - restart from the used position serves what was popped
 * and not completed again, in order
 * @f:		the fixture
 * @data:	unused
 */
static void test_restart(Fixture *f, gconstpointer data)
{
    TestBuf b = {buf_iova(0), 10, true};
    uint16_t id;
    uint32_t len;

    test_pring_start(&f->ring, f->vq, 0, false);
    for (uint16_t i = 0; i < 3; i++) {
        test_pring_add(&f->ring, &b, 1, 0, i);
    }
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    }
    vduse_vq_push(f->vq, 0, 1);
    vduse_vq_flush(f->vq);
    vduse_vq_restart_from_used(f->vq);
    g_assert_cmpuint(vduse_vq_last_avail(f->vq), ==, 1 | WRAP);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 1);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 2);
    vduse_vq_push(f->vq, 1, 1);
    vduse_vq_push(f->vq, 2, 1);
    vduse_vq_flush(f->vq);
    for (uint16_t i = 0; i < 3; i++) {
        g_assert_true(test_pring_get_used(&f->ring, &id, &len));
        g_assert_cmpuint(id, ==, i);
    }
}

/**
 * test_start_ahead() - started with the available position ahead of the
 * used one (a VMM's VRING_BASE with buffers in flight): those slots are
 * held, and a used descriptor still goes to the used position
 * @f:		the fixture
 * @data:	unused
 */
static void test_start_ahead(Fixture *f, gconstpointer data)
{
    TestBuf b = {buf_iova(0), 10, true};
    g_autoptr(GError) error = NULL;
    uint16_t id;
    uint32_t len;

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 4, 0, true);
    test_pring_add(&f->ring, &b, 1, 0, 0);
    test_pring_add(&f->ring, &b, 1, 0, 1);
    g_assert_true(vduse_vq_start_packed(
        f->vq, 0, 4, f->ring.desc_iova, f->ring.driver_iova,
        f->ring.device_iova, 1 | WRAP, 0 | WRAP, false, &error));
    g_assert_no_error(error);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 1);
    vduse_vq_push(f->vq, 1, 1);
    vduse_vq_flush(f->vq);
    g_assert_true(test_pring_get_used(&f->ring, &id, &len));
    g_assert_cmpuint(id, ==, 1);
    g_assert_cmpuint(vduse_vq_used_idx(f->vq), ==, 1 | WRAP);
}

/**
 * test_used_log() - a flush records the positions around its batch; a new
 * queue on the same ring (the kernel's stale start state) takes the used
 * position from the log: the end of the batch if its first descriptor
 * reached the ring, else its start; and serves the rest again
 * @f:		the fixture
 * @data:	unused
 */
static void test_used_log(Fixture *f, gconstpointer data)
{
    TestBuf b = {buf_iova(0), 10, true};
    VduseVqUsedLog log = {0}, torn;
    VduseVq *next;
    uint16_t id;
    uint32_t len;

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, 4, 0, true);
    test_pring_start(&f->ring, f->vq, 0, false);
    vduse_vq_set_used_log(f->vq, &log);
    g_assert_cmphex(log.from, ==, WRAP);
    g_assert_cmphex(log.to, ==, WRAP);
    /* Round the ring once, so the kernel's start state (0, 1) is stale. */
    for (uint16_t i = 0; i < 4; i++) {
        one_round(f, i);
    }
    g_assert_cmphex(log.from, ==, 3 | WRAP);
    g_assert_cmphex(log.to, ==, 0);
    test_pring_add(&f->ring, &b, 1, 0, 0); /* slot 0, wrap 0 */
    test_pring_add(&f->ring, &b, 1, 0, 1); /* slot 1 */
    test_pring_add(&f->ring, &b, 1, 0, 2); /* slot 2 */
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    }
    vduse_vq_push(f->vq, 0, 1);
    vduse_vq_flush(f->vq);
    g_assert_cmphex(log.from, ==, 0);
    g_assert_cmphex(log.to, ==, 1);

    /* The process dies with ids 1 and 2 popped. */
    next = vduse_vq_new(0, f->iotlb);
    g_assert_true(vduse_vq_start_packed(
        next, 0, 4, f->ring.desc_iova, f->ring.driver_iova, f->ring.device_iova,
        WRAP, WRAP, false, NULL));
    g_assert_true(vduse_vq_restore_used(next, &log));
    g_assert_cmphex(vduse_vq_used_idx(next), ==, 1);
    g_assert_cmphex(vduse_vq_last_avail(next), ==, 1);

    /* Died in a flush of id 1 whose flags never reached the ring: the
     * batch does not count. */
    torn = (VduseVqUsedLog){.from = 1, .to = 2};
    g_assert_true(vduse_vq_restore_used(next, &torn));
    g_assert_cmphex(vduse_vq_used_idx(next), ==, 1);
    /* Died between the two stores of the next flush: the log holds the new
     * batch's start and the old end, the same place; nothing of it counts. */
    torn = (VduseVqUsedLog){.from = 1, .to = 1};
    g_assert_true(vduse_vq_restore_used(next, &torn));
    g_assert_cmphex(vduse_vq_used_idx(next), ==, 1);
    /* A log that cannot be this queue's changes nothing. */
    torn = (VduseVqUsedLog){.from = 7, .to = 2};
    g_assert_false(vduse_vq_restore_used(next, &torn));
    g_assert_cmphex(vduse_vq_used_idx(next), ==, 1);

    vduse_vq_set_used_log(next, &log);
    g_assert_cmpint(vduse_vq_pop(next, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 1);
    g_assert_cmpint(vduse_vq_pop(next, f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 2);
    vduse_vq_push(next, 1, 1);
    vduse_vq_push(next, 2, 1);
    vduse_vq_flush(next);
    for (uint16_t i = 0; i < 3; i++) {
        g_assert_true(test_pring_get_used(&f->ring, &id, &len));
        g_assert_cmpuint(id, ==, i);
    }
    g_assert_false(test_pring_get_used(&f->ring, &id, &len));
    g_assert_cmphex(log.to, ==, 3);

    /* The batch of id 3 made it (its flags are in the ring): it counts. */
    test_pring_add(&f->ring, &b, 1, 0, 3);
    g_assert_cmpint(vduse_vq_pop(next, f->elem), ==, 1);
    vduse_vq_push(next, 3, 1);
    vduse_vq_flush(next);
    vduse_vq_free(next);
    next = vduse_vq_new(0, f->iotlb);
    g_assert_true(vduse_vq_start_packed(
        next, 0, 4, f->ring.desc_iova, f->ring.driver_iova, f->ring.device_iova,
        WRAP, WRAP, false, NULL));
    g_assert_true(vduse_vq_restore_used(next, &log));
    g_assert_cmphex(vduse_vq_used_idx(next), ==, 0 | WRAP);
    vduse_vq_free(next);
}

typedef void (*HostileFn)(Fixture *f);

/**
 * hostile_loop() - NEXT on every slot: a chain round the whole ring.
 * @f:	the fixture
 */
static void hostile_loop(Fixture *f)
{
    for (uint16_t i = 0; i < f->ring.num; i++) {
        test_pring_set_desc(&f->ring, i, buf_iova(0), 8, 0,
                            VRING_DESC_F_NEXT | test_pring_avail_bits(true));
    }
}

/**
 * hostile_loop_wrapped() - the same, with honest wrap bits past the end.
 * @f:	the fixture
 */
static void hostile_loop_wrapped(Fixture *f)
{
    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, f->ring.num, 2, true);
    vduse_vq_stop(f->vq);
    test_pring_start(&f->ring, f->vq, 0, false);
    for (uint16_t i = 0; i < f->ring.num; i++) {
        test_pring_set_desc(&f->ring, i, buf_iova(0), 8, 0,
                            VRING_DESC_F_NEXT | test_pring_avail_bits(i >= 2));
    }
}

/**
 * hostile_tail_wrong_lap() - a tail descriptor not made available.
 * @f:	the fixture
 */
static void hostile_tail_wrong_lap(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(64), 8, true}};

    test_pring_add(&f->ring, b, 2, 0, 0);
    f->ring.desc[1].flags = htole16(VRING_DESC_F_WRITE);
}

/**
 * hostile_tail_no_flip() - a tail past the ring's end, its wrap bit not
 * flipped: the driver's counter lies
 * @f:		the fixture
 */
static void hostile_tail_no_flip(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(64), 8, true}};

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, f->ring.num,
                    (uint16_t)(f->ring.num - 1), true);
    vduse_vq_stop(f->vq);
    test_pring_start(&f->ring, f->vq, 0, false);
    test_pring_add(&f->ring, b, 2, 0, 0);
    f->ring.desc[0].flags =
        htole16(VRING_DESC_F_WRITE | test_pring_avail_bits(true));
}

/**
 * hostile_reheld() - a slot the device holds made available again.
 * @f:	the fixture
 */
static void hostile_reheld(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, true};

    /* Ring of 8: fill it, take everything, then make slot 0 available
     * again in the next lap although the device still holds it. */
    for (uint16_t i = 0; i < f->ring.num; i++) {
        test_pring_add(&f->ring, &b, 1, 0, i);
    }
    for (uint16_t i = 0; i < f->ring.num; i++) {
        g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    }
    test_pring_set_desc(&f->ring, 0, buf_iova(0), 8, 0,
                        VRING_DESC_F_WRITE | test_pring_avail_bits(false));
}

/**
 * hostile_id_range() - a buffer id equal to the queue size.
 * @f:	the fixture
 */
static void hostile_id_range(Fixture *f)
{
    test_pring_set_desc(&f->ring, 0, buf_iova(0), 8, (uint16_t)f->ring.num,
                        test_pring_avail_bits(true));
}

/**
 * hostile_id_reused() - a buffer id made available again while held.
 * @f:	the fixture
 */
static void hostile_id_reused(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, true};

    test_pring_add(&f->ring, &b, 1, 0, 3);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    test_pring_set_desc(&f->ring, 1, buf_iova(0), 8, 3,
                        VRING_DESC_F_WRITE | test_pring_avail_bits(true));
}

/**
 * hostile_id_reused_pushed() - the same, pushed but not yet flushed.
 * @f:	the fixture
 */
static void hostile_id_reused_pushed(Fixture *f)
{
    hostile_id_reused(f);
    vduse_vq_push(f->vq, 3, 1);
}

/**
 * hostile_indirect_in_chain() - an indirect descriptor after a direct one.
 * @f:	the fixture
 */
static void hostile_indirect_in_chain(Fixture *f)
{
    test_pring_set_desc(&f->ring, 1, buf_iova(0x8000), 16, 0,
                        VRING_DESC_F_INDIRECT | test_pring_avail_bits(true));
    test_pring_set_desc(&f->ring, 0, buf_iova(0), 8, 0,
                        VRING_DESC_F_NEXT | test_pring_avail_bits(true));
}

/**
 * hostile_indirect_next() - INDIRECT and NEXT together.
 * @f:	the fixture
 */
static void hostile_indirect_next(Fixture *f)
{
    TestBuf b = {buf_iova(0), 8, false};

    test_pring_set_desc(&f->ring, 1, buf_iova(0), 8, 0,
                        test_pring_avail_bits(true));
    test_pring_add(&f->ring, &b, 1, buf_iova(0x8000), 0);
    f->ring.desc[0].flags |= htole16(VRING_DESC_F_NEXT);
}

/**
 * indirect_len() - a good indirect chain whose table length is @len.
 * @f:	the fixture
 * @len:	the table length to write
 */
static void indirect_len(Fixture *f, uint32_t len)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(0), 8, false}};

    test_pring_add(&f->ring, b, 2, buf_iova(0x8000), 0);
    f->ring.desc[0].len = htole32(len);
}

/**
 * hostile_indirect_empty() - an indirect table of zero bytes
 * @f:		the fixture
 */
static void hostile_indirect_empty(Fixture *f)
{
    indirect_len(f, 0);
}

/**
 * hostile_indirect_odd() - an indirect table of 24 bytes, not 16 * n
 * @f:		the fixture
 */
static void hostile_indirect_odd(Fixture *f)
{
    indirect_len(f, 24);
}

/**
 * hostile_indirect_too_big() - more entries than the queue size.
 * @f:	the fixture
 */
static void hostile_indirect_too_big(Fixture *f)
{
    indirect_len(f, 16 * (f->ring.num + 1));
}

/**
 * hostile_indirect_unmapped() - the table is nowhere.
 * @f:	the fixture
 */
static void hostile_indirect_unmapped(Fixture *f)
{
    indirect_len(f, 32);
    f->ring.desc[0].addr = htole64(FAR_IOVA);
}

/**
 * hostile_nested_indirect() - an indirect entry in an indirect table.
 * @f:	the fixture
 */
static void hostile_nested_indirect(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {buf_iova(0), 8, false}};
    struct vring_packed_desc *t = test_pring_ptr(&f->ring, buf_iova(0x8000));

    test_pring_add(&f->ring, b, 2, buf_iova(0x8000), 0);
    t[1].flags = htole16(VRING_DESC_F_INDIRECT);
}

/**
 * hostile_indirect_read_after_write() - readable after writable, in a table.
 * @f:	the fixture
 */
static void hostile_indirect_read_after_write(Fixture *f)
{
    TestBuf b[3] = {{buf_iova(0), 8, false},
                    {buf_iova(64), 8, true},
                    {buf_iova(128), 8, false}};

    test_pring_add(&f->ring, b, 3, buf_iova(0x8000), 0);
}

/**
 * hostile_unmapped() - a buffer outside every mapping.
 * @f:	the fixture
 */
static void hostile_unmapped(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, false}, {FAR_IOVA, 64, true}};

    test_pring_add(&f->ring, b, 2, 0, 0);
}

/**
 * hostile_write_ro() - a writable buffer in read-only memory.
 * @f:	the fixture
 */
static void hostile_write_ro(Fixture *f)
{
    TestMem *ro = test_mem_new(4096);
    TestBuf b[2] = {{buf_iova(0), 8, false}, {0x50000000, 64, true}};

    g_assert_cmpint(
        test_mem_map(ro, f->iotlb, 0, 0x50000000, 0, 4096, VDUSE_IOTLB_READ),
        ==, 0);
    test_pring_add(&f->ring, b, 2, 0, 0);
    test_mem_free(ro);
}

/**
 * hostile_read_after_write() - readable after writable in the ring.
 * @f:	the fixture
 */
static void hostile_read_after_write(Fixture *f)
{
    TestBuf b[2] = {{buf_iova(0), 8, true}, {buf_iova(64), 8, false}};

    test_pring_add(&f->ring, b, 2, 0, 0);
}

/**
 * hostile_too_many_segments() - VDUSE_VQ_MAX_IOV + 1 segments, indirect.
 * @f:	the fixture
 */
static void hostile_too_many_segments(Fixture *f)
{
    unsigned int n = VDUSE_VQ_MAX_IOV + 1;
    g_autofree TestBuf *b = g_new(TestBuf, n);

    for (unsigned int i = 0; i < n; i++) {
        b[i] = (TestBuf){buf_iova(2 * i), 1, false};
    }
    test_pring_add(&f->ring, b, n, buf_iova(0x20000), 0);
}

/**
 * struct Hostile - one hostile case
 * @name:	test path under /virtq-packed/hostile/
 * @fn:		what the driver writes (the queue is started)
 * @num:	queue size to run it on
 */
typedef struct Hostile {
    const char *name;
    HostileFn fn;
    uint32_t num;
} Hostile;

static const Hostile hostile[] = {
    {"loop", hostile_loop, 8},
    {"loop-across-end", hostile_loop_wrapped, 8},
    {"tail-not-available", hostile_tail_wrong_lap, 8},
    {"tail-wrap-counter-lies", hostile_tail_no_flip, 8},
    {"slot-held-made-available", hostile_reheld, 8},
    {"id-out-of-range", hostile_id_range, 8},
    {"id-reused", hostile_id_reused, 8},
    {"id-reused-before-flush", hostile_id_reused_pushed, 8},
    {"indirect-in-chain", hostile_indirect_in_chain, 8},
    {"indirect-with-next", hostile_indirect_next, 8},
    {"indirect-empty", hostile_indirect_empty, 8},
    {"indirect-odd-length", hostile_indirect_odd, 8},
    {"indirect-larger-than-queue", hostile_indirect_too_big, 8},
    {"indirect-unmapped", hostile_indirect_unmapped, 8},
    {"nested-indirect", hostile_nested_indirect, 8},
    {"indirect-read-after-write", hostile_indirect_read_after_write, 8},
    {"unmapped-buffer", hostile_unmapped, 8},
    {"write-read-only", hostile_write_ro, 8},
    {"read-after-write", hostile_read_after_write, 8},
    {"too-many-segments", hostile_too_many_segments, 2048},
};

/**
 * test_hostile() - a hostile ring fails the queue: -EIO now and on every
 * later pop, no used descriptor written; after a restart on a clean ring it
 * works again
 * @f:		the fixture
 * @data:	the Hostile case
 */
static void test_hostile(Fixture *f, gconstpointer data)
{
    const Hostile *h = data;
    TestBuf good = {buf_iova(0), 8, true};
    uint16_t id;
    uint32_t len;
    g_autofree struct vring_packed_desc *before = NULL;

    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, h->num, 0, true);
    test_pring_start(&f->ring, f->vq, 0, false);
    h->fn(f);
    before = g_memdup2(f->ring.desc, 16 * f->ring.num);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    g_assert_true(vduse_vq_is_failed(f->vq));
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -EIO);
    vduse_vq_push(f->vq, 0, 1);
    g_assert_false(vduse_vq_flush(f->vq));
    g_assert_false(vduse_vq_enable_notify(f->vq, true));
    /* Not a byte of the ring written. */
    g_assert_cmpmem(f->ring.desc, 16 * f->ring.num, before, 16 * f->ring.num);
    g_assert_false(test_pring_get_used(&f->ring, &id, &len));

    vduse_vq_stop(f->vq);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, -ENODEV);
    test_pring_init(&f->ring, f->mem, GUEST_IOVA, 0, h->num, 0, true);
    test_pring_start(&f->ring, f->vq, 0, false);
    g_assert_false(vduse_vq_is_failed(f->vq));
    test_pring_add(&f->ring, &good, 1, 0, 0);
    g_assert_cmpint(vduse_vq_pop(f->vq, f->elem), ==, 1);
    vduse_vq_push(f->vq, f->elem->id, 1);
    g_assert_true(vduse_vq_flush(f->vq));
    g_assert_true(test_pring_get_used(&f->ring, &id, &len));
}

/**
 * add() - register a test on the fixture.
 * @path:	GTest path
 * @data:	unused
 * @gconstpointer):	gconstpointer)
 */
static void add(const char *path, gconstpointer data,
                void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown);
}

/**
 * main() - register the packed virtqueue tests and run them
 * @argc:	argument count
 * @argv:	arguments, GTest's included
 *
 * Return: what g_test_run() returns.
 */
int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("/virtq-packed/start/refusals", NULL, test_start_refusals);
    add("/virtq-packed/start/ahead", NULL, test_start_ahead);
    add("/virtq-packed/pop/empty", NULL, test_empty);
    add("/virtq-packed/chain/simple", NULL, test_chain);
    add("/virtq-packed/chain/indirect", NULL, test_indirect);
    add("/virtq-packed/used/out-of-order", NULL, test_out_of_order);
    add("/virtq-packed/used/batch-at-flush", NULL, test_batch_at_flush);
    add("/virtq-packed/wrap/chain-across-end", NULL, test_wrap_chain);
    add("/virtq-packed/wrap/many", NULL, test_wrap_many);
    add("/virtq-packed/notify/driver-events", NULL, test_driver_events);
    add("/virtq-packed/notify/device-events", NULL, test_device_events);
    add("/virtq-packed/unpop", NULL, test_unpop);
    add("/virtq-packed/restart", NULL, test_restart);
    add("/virtq-packed/used-log", NULL, test_used_log);
    for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++) {
        g_autofree char *path =
            g_strdup_printf("/virtq-packed/hostile/%s", hostile[i].name);

        add(path, &hostile[i], test_hostile);
    }
    return g_test_run();
}
