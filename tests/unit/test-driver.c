/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-driver.c - a virtio driver in the test process, for unit tests
 *
 * Every store the device may race with is an atomic one in little endian,
 * as a real driver's would be; the device under test runs in the same
 * thread, so ordering here is documentation more than necessity.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device-kernel.h"
#include "test-driver.h"

/**
 * test_mem_new() - zeroed memfd memory, mapped for the test
 * @size:	bytes
 *
 * Aborts the test on failure.
 * Return: the memory, for test_mem_free().
 */
TestMem *test_mem_new(size_t size)
{
    TestMem *mem = g_new0(TestMem, 1);

    mem->fd = memfd_create("guest", MFD_CLOEXEC);
    g_assert_cmpint(mem->fd, >=, 0);
    g_assert_cmpint(ftruncate(mem->fd, (off_t)size), ==, 0);
    mem->host =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
    g_assert_true(mem->host != MAP_FAILED);
    mem->size = size;
    return mem;
}

/**
 * test_mem_free() - unmap and close @mem; IOTLB mappings of it stay valid
 * @mem:	the memory
 */
void test_mem_free(TestMem *mem)
{
    munmap(mem->host, mem->size);
    close(mem->fd);
    g_free(mem);
}

/**
 * test_mem_map() - map [@offset, @offset + @len) of @mem at @iova of @asid
 * @mem:	the memory
 * @iotlb:	the IOTLB under test
 * @asid:	address space
 * @iova:	IOVA of byte @offset
 * @offset:	first byte of @mem to map
 * @len:	bytes to map, at least 1
 * @perm:	VDUSE_IOTLB_READ and/or VDUSE_IOTLB_WRITE
 *
 * Return: what vduse_iotlb_map_fd() returned.
 */
int test_mem_map(TestMem *mem, VduseIotlb *iotlb, uint32_t asid, uint64_t iova,
                 size_t offset, size_t len, uint8_t perm)
{
    return vduse_iotlb_map_fd(iotlb, asid, iova, iova + len - 1, perm, mem->fd,
                              offset);
}

/**
 * test_ring_init() - lay out a zeroed ring of @num entries at @offset of @mem
 * @ring:	filled in
 * @mem:	guest memory
 * @iova:	IOVA at which @mem is mapped
 * @offset:	where in @mem the ring starts (page aligned)
 * @num:	queue size
 * @start:	initial available and used index (to test wrap-around)
 *
 * The descriptor table comes first, the available ring right after it, the
 * used ring on the next page boundary (the legacy layout, which is also a
 * valid 1.x one). The used ring's index is preset to @start, as a device
 * that used everything it took would have left it.
 */
void test_ring_init(TestRing *ring, TestMem *mem, uint64_t iova, size_t offset,
                    uint32_t num, uint16_t start)
{
    size_t desc_off = offset;
    size_t avail_off = desc_off + 16 * num;
    size_t used_off = (avail_off + 6 + 2 * num + 4095) & ~(size_t)4095;
    size_t end = used_off + 6 + 8 * num;

    g_assert_cmpuint(end, <=, mem->size);
    memset(mem->host + offset, 0, end - offset);
    *ring = (TestRing){
        .mem = mem,
        .iova = iova,
        .num = num,
        .desc = (struct vring_desc *)(mem->host + desc_off),
        .avail = (struct vring_avail *)(mem->host + avail_off),
        .used = (struct vring_used *)(mem->host + used_off),
        .desc_iova = iova + desc_off,
        .avail_iova = iova + avail_off,
        .used_iova = iova + used_off,
        .avail_idx = start,
        .last_used = start,
    };
    ring->avail->idx = htole16(start);
    ring->used->idx = htole16(start);
}

/**
 * test_ring_start() - vduse_vq_start() @vq on @ring; asserts success
 * @ring:	the ring
 * @vq:		the queue under test
 * @asid:	address space @ring is mapped in
 * @event_idx:	whether VIRTIO_RING_F_EVENT_IDX is negotiated
 *
 * The device consumes from the used index on, as one that pushed all it
 * popped would.
 */
void test_ring_start(TestRing *ring, VduseVq *vq, uint32_t asid, bool event_idx)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(vduse_vq_start(vq, asid, ring->num, ring->desc_iova,
                                 ring->avail_iova, ring->used_iova,
                                 le16toh(ring->used->idx), event_idx, &error));
    g_assert_no_error(error);
}

/**
 * test_ring_ptr() - the test's pointer to IOVA @iova of @ring->mem
 * @ring:	the ring
 * @iova:	an IOVA inside @ring->mem
 *
 * Return: the test's host address of @iova.
 */
void *test_ring_ptr(TestRing *ring, uint64_t iova)
{
    g_assert_cmpuint(iova - ring->iova, <, ring->mem->size);
    return ring->mem->host + (iova - ring->iova);
}

/**
 * desc_write() - write one descriptor
 * @d:		the descriptor
 * @addr:	buffer IOVA
 * @len:	buffer length
 * @flags:	VRING_DESC_F_*
 * @next:	index of the next descriptor
 */
static void desc_write(struct vring_desc *d, uint64_t addr, uint32_t len,
                       uint16_t flags, uint16_t next)
{
    d->addr = htole64(addr);
    d->len = htole32(len);
    d->flags = htole16(flags);
    d->next = htole16(next);
}

/**
 * desc_fill() - write the descriptor of buffer @b
 * @d:		the descriptor
 * @b:		its buffer
 * @next:	index of the next one, or -1 for the last
 */
static void desc_fill(struct vring_desc *d, const TestBuf *b, int next)
{
    desc_write(d, b->iova, b->len,
               (uint16_t)((b->writable ? VRING_DESC_F_WRITE : 0) |
                          (next >= 0 ? VRING_DESC_F_NEXT : 0)),
               next >= 0 ? (uint16_t)next : 0);
}

/**
 * test_ring_set_desc() - write descriptor @i of the table as given
 * @ring:	the ring
 * @i:		index, below @ring->num
 * @addr:	buffer IOVA
 * @len:	buffer length
 * @flags:	VRING_DESC_F_*
 * @next:	next index
 */
void test_ring_set_desc(TestRing *ring, uint16_t i, uint64_t addr, uint32_t len,
                        uint16_t flags, uint16_t next)
{
    g_assert_cmpuint(i, <, ring->num);
    desc_write(&ring->desc[i], addr, len, flags, next);
}

/**
 * test_ring_set_avail_idx() - publish @idx as the available index
 * @ring:	the ring
 * @idx:	any value, honest or not
 */
void test_ring_set_avail_idx(TestRing *ring, uint16_t idx)
{
    ring->avail_idx = idx;
    __atomic_store_n(&ring->avail->idx, htole16(idx), __ATOMIC_RELEASE);
}

/**
 * test_ring_put_head() - make descriptor @head available, as it is
 * @ring:	the ring
 * @head:	any value, honest or not
 */
void test_ring_put_head(TestRing *ring, uint16_t head)
{
    ring->avail->ring[ring->avail_idx % ring->num] = htole16(head);
    test_ring_set_avail_idx(ring, (uint16_t)(ring->avail_idx + 1));
}

/**
 * test_ring_add() - add a chain and make it available
 * @ring:	the ring
 * @bufs:	its buffers, readable ones first
 * @n:		how many, at least 1
 * @indirect_iova: 0 for a direct chain, else the IOVA of an indirect table
 *		in @ring->mem that this writes
 *
 * Direct chains take the next @n descriptors round robin.
 * Return: the head descriptor index.
 */
uint16_t test_ring_add(TestRing *ring, const TestBuf *bufs, unsigned int n,
                       uint64_t indirect_iova)
{
    uint16_t head = ring->next_desc;

    if (indirect_iova) {
        struct vring_desc *table = test_ring_ptr(ring, indirect_iova);

        for (unsigned int i = 0; i < n; i++) {
            desc_fill(&table[i], &bufs[i], i + 1 < n ? (int)i + 1 : -1);
        }
        desc_write(&ring->desc[head], indirect_iova,
                   n * (uint32_t)sizeof(struct vring_desc),
                   VRING_DESC_F_INDIRECT, 0);
        ring->next_desc = (uint16_t)((head + 1) % ring->num);
    } else {
        for (unsigned int i = 0; i < n; i++) {
            uint16_t d = (uint16_t)((head + i) % ring->num);

            desc_fill(&ring->desc[d], &bufs[i],
                      i + 1 < n ? (int)((d + 1) % ring->num) : -1);
        }
        ring->next_desc = (uint16_t)((head + n) % ring->num);
    }
    test_ring_put_head(ring, head);
    return head;
}

/**
 * test_ring_get_used() - read the next used element, if any
 * @ring:	the ring
 * @id:		set to the element's id
 * @len:	set to the element's written length
 *
 * Return: true with @id and @len set, false if none is published.
 */
bool test_ring_get_used(TestRing *ring, uint32_t *id, uint32_t *len)
{
    uint16_t idx = test_ring_used_idx(ring);
    struct vring_used_elem *e;

    if (idx == ring->last_used) {
        return false;
    }
    e = &ring->used->ring[ring->last_used % ring->num];
    *id = le32toh(e->id);
    *len = le32toh(e->len);
    ring->last_used++;
    return true;
}

/**
 * test_ring_set_no_interrupt() - set or clear VRING_AVAIL_F_NO_INTERRUPT
 * @ring:	the ring
 * @on:		true to ask the device not to interrupt
 */
void test_ring_set_no_interrupt(TestRing *ring, bool on)
{
    uint16_t flags = le16toh(ring->avail->flags);

    flags = on ? flags | VRING_AVAIL_F_NO_INTERRUPT
               : flags & ~VRING_AVAIL_F_NO_INTERRUPT;
    __atomic_store_n(&ring->avail->flags, htole16(flags), __ATOMIC_RELAXED);
}

/**
 * test_ring_set_used_event() - write used_event, after the available ring
 * @ring:	the ring
 * @idx:	the used index the driver wants an interrupt at
 */
void test_ring_set_used_event(TestRing *ring, uint16_t idx)
{
    __atomic_store_n(&ring->avail->ring[ring->num], htole16(idx),
                     __ATOMIC_RELAXED);
}

/**
 * test_ring_avail_event() - read avail_event, after the used ring
 * @ring:	the ring
 *
 * Return: the available index the device wants a kick at.
 */
uint16_t test_ring_avail_event(TestRing *ring)
{
    uint16_t *p = (uint16_t *)&ring->used->ring[ring->num];

    return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

/**
 * test_ring_used_idx() - read the used ring's index
 * @ring:	the ring
 *
 * Return: the index the device published.
 */
uint16_t test_ring_used_idx(TestRing *ring)
{
    return le16toh(__atomic_load_n(&ring->used->idx, __ATOMIC_ACQUIRE));
}

/**
 * test_ring_used_flags() - read the used ring's flags
 * @ring:	the ring
 *
 * Return: VRING_USED_F_* as the device set them.
 */
uint16_t test_ring_used_flags(TestRing *ring)
{
    return le16toh(__atomic_load_n(&ring->used->flags, __ATOMIC_ACQUIRE));
}

/* ------------------------------------------------------------------ */
/* The driver's side of a packed virtqueue                             */

/**
 * test_pring_state() - a ring position as vduse_vq_start_packed() takes it
 * @idx:	ring index
 * @wrap:	wrap counter
 *
 * Return: @idx with @wrap in bit 15.
 */
uint16_t test_pring_state(uint16_t idx, bool wrap)
{
    return (uint16_t)(idx | (wrap ? 1u << VRING_PACKED_EVENT_F_WRAP_CTR : 0));
}

/**
 * test_pring_avail_bits() - the AVAIL/USED bits of a descriptor made
 * available in a lap with wrap counter @wrap
 * @wrap:	the driver's wrap counter
 *
 * Return: AVAIL set to @wrap, USED to its opposite.
 */
uint16_t test_pring_avail_bits(bool wrap)
{
    return wrap ? 1u << VRING_PACKED_DESC_F_AVAIL
                : 1u << VRING_PACKED_DESC_F_USED;
}

/**
 * test_pring_init() - lay out a zeroed packed ring at @offset of @mem
 * @ring:	filled in
 * @mem:	guest memory
 * @iova:	IOVA at which @mem is mapped
 * @offset:	where in @mem the ring starts (16-byte aligned)
 * @num:	queue size, up to TEST_PRING_MAX
 * @start:	the slot both sides start at (to test the wrap at the end)
 * @wrap:	both wrap counters at @start (1 after a reset)
 *
 * The descriptor ring comes first, the driver area right after it, the
 * device area 4 bytes further. A driver and device that met at @start with
 * @wrap would leave the ring so; zeroed slots are not available in either
 * lap (the spec's zero-initialized ring).
 */
void test_pring_init(TestPRing *ring, TestMem *mem, uint64_t iova,
                     size_t offset, uint32_t num, uint16_t start, bool wrap)
{
    size_t driver_off = offset + 16 * (size_t)num;
    size_t device_off = driver_off + 4;

    g_assert_cmpuint(num, <=, TEST_PRING_MAX);
    g_assert_cmpuint(start, <, num);
    g_assert_cmpuint(device_off + 4, <=, mem->size);
    memset(mem->host + offset, 0, device_off + 4 - offset);
    memset(ring, 0, sizeof(*ring));
    ring->mem = mem;
    ring->iova = iova;
    ring->num = num;
    ring->desc = (struct vring_packed_desc *)(mem->host + offset);
    ring->driver = (struct vring_packed_desc_event *)(mem->host + driver_off);
    ring->device = (struct vring_packed_desc_event *)(mem->host + device_off);
    ring->desc_iova = iova + offset;
    ring->driver_iova = iova + driver_off;
    ring->device_iova = iova + device_off;
    ring->avail_idx = ring->used_idx = start;
    ring->avail_wrap = ring->used_wrap = wrap;
    ring->free = num;
}

/**
 * test_pring_start() - vduse_vq_start_packed() @vq on @ring; asserts success
 * @ring:	the ring
 * @vq:		the queue under test
 * @asid:	address space @ring is mapped in
 * @event_idx:	whether VIRTIO_RING_F_EVENT_IDX is negotiated
 *
 * The device starts where the driver next reads a used descriptor, as one
 * that used all it took would.
 */
void test_pring_start(TestPRing *ring, VduseVq *vq, uint32_t asid,
                      bool event_idx)
{
    g_autoptr(GError) error = NULL;
    uint16_t pos = test_pring_state(ring->used_idx, ring->used_wrap);

    g_assert_true(vduse_vq_start_packed(vq, asid, ring->num, ring->desc_iova,
                                        ring->driver_iova, ring->device_iova,
                                        pos, pos, event_idx, &error));
    g_assert_no_error(error);
}

/**
 * test_pring_ptr() - the test's pointer to IOVA @iova of @ring->mem
 * @ring:	the ring
 * @iova:	an IOVA inside @ring->mem
 *
 * Return: the test's host address of @iova.
 */
void *test_pring_ptr(TestPRing *ring, uint64_t iova)
{
    g_assert_cmpuint(iova - ring->iova, <, ring->mem->size);
    return ring->mem->host + (iova - ring->iova);
}

/**
 * test_pring_set_desc() - write ring slot @slot as given, flags last
 * @ring:	the ring
 * @slot:	index, below @ring->num
 * @addr:	buffer IOVA
 * @len:	buffer length
 * @id:		buffer id
 * @flags:	VRING_DESC_F_* and the AVAIL/USED bits, honest or not
 */
void test_pring_set_desc(TestPRing *ring, uint16_t slot, uint64_t addr,
                         uint32_t len, uint16_t id, uint16_t flags)
{
    struct vring_packed_desc *d;

    g_assert_cmpuint(slot, <, ring->num);
    d = &ring->desc[slot];
    d->addr = htole64(addr);
    d->len = htole32(len);
    d->id = htole16(id);
    __atomic_store_n(&d->flags, htole16(flags), __ATOMIC_RELEASE);
}

/**
 * test_pring_desc_flags() - read the flags of slot @slot
 * @ring:	the ring
 * @slot:	index
 *
 * Return: the flags, host order.
 */
uint16_t test_pring_desc_flags(TestPRing *ring, uint16_t slot)
{
    return le16toh(__atomic_load_n(&ring->desc[slot].flags, __ATOMIC_ACQUIRE));
}

/**
 * test_pring_add() - add a chain and make it available, head last
 * @ring:	the ring
 * @bufs:	its buffers, readable ones first
 * @n:		how many, at least 1
 * @indirect_iova: 0 for a chain in the ring, else the IOVA of an indirect
 *		table in @ring->mem that this writes (one slot)
 * @id:		the buffer id, below the queue size and not in use
 *
 * As Linux's virtqueue_add_packed(): the buffer id in every descriptor,
 * each descriptor's AVAIL/USED bits for its own lap (flipped past the
 * ring's end), the head's flags written last with a release store.
 * Return: the head slot.
 */
uint16_t test_pring_add(TestPRing *ring, const TestBuf *bufs, unsigned int n,
                        uint64_t indirect_iova, uint16_t id)
{
    uint16_t head = ring->avail_idx, head_flags = 0;
    bool head_wrap = ring->avail_wrap;
    unsigned int slots = indirect_iova ? 1 : n;

    g_assert_cmpuint(id, <, ring->num);
    g_assert_cmpuint(slots, <=, ring->free);
    if (indirect_iova) {
        struct vring_packed_desc *table = test_pring_ptr(ring, indirect_iova);

        for (unsigned int i = 0; i < n; i++) {
            table[i].addr = htole64(bufs[i].iova);
            table[i].len = htole32(bufs[i].len);
            table[i].id = 0;
            table[i].flags = htole16(bufs[i].writable ? VRING_DESC_F_WRITE : 0);
        }
        ring->desc[head].addr = htole64(indirect_iova);
        ring->desc[head].len =
            htole32(n * (uint32_t)sizeof(struct vring_packed_desc));
        ring->desc[head].id = htole16(id);
        head_flags = VRING_DESC_F_INDIRECT | test_pring_avail_bits(head_wrap);
    } else {
        uint16_t slot = head;
        bool wrap = head_wrap;

        for (unsigned int i = 0; i < n; i++) {
            uint16_t flags =
                (uint16_t)((bufs[i].writable ? VRING_DESC_F_WRITE : 0) |
                           (i + 1 < n ? VRING_DESC_F_NEXT : 0) |
                           test_pring_avail_bits(wrap));

            ring->desc[slot].addr = htole64(bufs[i].iova);
            ring->desc[slot].len = htole32(bufs[i].len);
            ring->desc[slot].id = htole16(id);
            if (i == 0) {
                head_flags = flags;
            } else {
                __atomic_store_n(&ring->desc[slot].flags, htole16(flags),
                                 __ATOMIC_RELAXED);
            }
            if (++slot == ring->num) {
                slot = 0;
                wrap = !wrap;
            }
        }
    }
    __atomic_store_n(&ring->desc[head].flags, htole16(head_flags),
                     __ATOMIC_RELEASE);
    ring->avail_idx = (uint16_t)(head + slots);
    if (ring->avail_idx >= ring->num) {
        ring->avail_idx = (uint16_t)(ring->avail_idx - ring->num);
        ring->avail_wrap = !head_wrap;
    }
    ring->free -= slots;
    ring->id_slots[id] = (uint16_t)slots;
    return head;
}

/**
 * test_pring_get_used() - read the next used descriptor, if any
 * @ring:	the ring
 * @id:		set to its buffer id
 * @len:	set to its length
 *
 * Skips the slots the buffer's chain took, as a driver does.
 * Return: true with @id and @len set, false if none is there.
 */
bool test_pring_get_used(TestPRing *ring, uint16_t *id, uint32_t *len)
{
    uint16_t flags = test_pring_desc_flags(ring, ring->used_idx);
    bool avail = flags & (1u << VRING_PACKED_DESC_F_AVAIL);
    bool used = flags & (1u << VRING_PACKED_DESC_F_USED);
    unsigned int slots;

    if (avail != used || used != ring->used_wrap) {
        return false;
    }
    *id = le16toh(ring->desc[ring->used_idx].id);
    *len = le32toh(ring->desc[ring->used_idx].len);
    g_assert_cmpuint(*id, <, ring->num);
    slots = ring->id_slots[*id];
    g_assert_cmpuint(slots, >, 0);
    ring->id_slots[*id] = 0;
    ring->free += slots;
    ring->used_idx = (uint16_t)(ring->used_idx + slots);
    if (ring->used_idx >= ring->num) {
        ring->used_idx = (uint16_t)(ring->used_idx - ring->num);
        ring->used_wrap = !ring->used_wrap;
    }
    return true;
}

/**
 * test_pring_set_driver_event() - write the driver event suppression area
 * @ring:	the ring
 * @flags:	VRING_PACKED_EVENT_FLAG_*
 * @off_wrap:	slot with the wrap counter in bit 15 (for FLAG_DESC)
 */
void test_pring_set_driver_event(TestPRing *ring, uint16_t flags,
                                 uint16_t off_wrap)
{
    ring->driver->off_wrap = htole16(off_wrap);
    __atomic_store_n(&ring->driver->flags, htole16(flags), __ATOMIC_RELEASE);
}

/**
 * test_pring_device_event() - read the device event suppression area
 * @ring:	the ring
 * @off_wrap:	set to the slot and wrap counter the device asks a kick at
 *
 * Return: the device's VRING_PACKED_EVENT_FLAG_*.
 */
uint16_t test_pring_device_event(TestPRing *ring, uint16_t *off_wrap)
{
    *off_wrap =
        le16toh(__atomic_load_n(&ring->device->off_wrap, __ATOMIC_RELAXED));
    return le16toh(__atomic_load_n(&ring->device->flags, __ATOMIC_ACQUIRE));
}

/**
 * test_pring_is_used() - whether the slot at (@idx, @wrap) holds a used
 * descriptor of that lap
 * @ring:	the ring
 * @idx:	slot
 * @wrap:	the lap's wrap counter
 */
bool test_pring_is_used(TestPRing *ring, uint16_t idx, bool wrap)
{
    uint16_t flags = test_pring_desc_flags(ring, idx);

    return !!(flags & (1u << VRING_PACKED_DESC_F_AVAIL)) == wrap &&
           !!(flags & (1u << VRING_PACKED_DESC_F_USED)) == wrap;
}

/**
 * test_pring_kick_needed() - whether the device asked for a kick for what
 * the driver made available since (@old_idx, @old_wrap)
 * @ring:	the ring
 * @old_idx:	the driver's available slot before it added
 * @old_wrap:	its wrap counter then
 *
 * As Linux's virtqueue_kick_prepare_packed(): ENABLE kicks, DISABLE does
 * not, DESC kicks if the slot the device named was made available.
 */
bool test_pring_kick_needed(TestPRing *ring, uint16_t old_idx, bool old_wrap)
{
    uint16_t off_wrap, flags;
    uint32_t num = ring->num, lin_old, lin_new, lin_evt;

    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    flags = test_pring_device_event(ring, &off_wrap);
    if (flags != VRING_PACKED_EVENT_FLAG_DESC) {
        return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
    }
    lin_old = old_idx + (old_wrap ? 0 : num);
    lin_new = ring->avail_idx + (ring->avail_wrap ? 0 : num);
    lin_evt = (off_wrap & 0x7fffu) + ((off_wrap >> 15) ? 0 : num);
    return (lin_evt + 2 * num - lin_old) % (2 * num) <
           (lin_new + 2 * num - lin_old) % (2 * num);
}

/* ------------------------------------------------------------------ */
/* A VDUSE kernel in the test process                                  */

/**
 * struct TestKernelMap - one region of an address space
 * @asid:	its address space
 * @start:	first IOVA
 * @last:	last IOVA
 * @perm:	VDUSE_ACCESS_*
 * @mem:	the memory behind it
 * @offset:	file offset of @start in @mem
 */
typedef struct TestKernelMap {
    uint32_t asid;
    uint64_t start;
    uint64_t last;
    uint8_t perm;
    TestMem *mem;
    uint64_t offset;
} TestKernelMap;

/**
 * struct TestKernel - the kernel's side of one VDUSE device
 * @api_version:	API version of the device
 * @vduse_features:	VDUSE_F_* enabled
 * @vq_num:		number of queues
 * @ngroups:		number of groups
 * @nas:		number of address spaces
 * @config_size:	config space size
 * @config:		config space
 * @config_irqs:	VDUSE_DEV_INJECT_CONFIG_IRQ calls that went through
 * @status:		status as the device accepted it
 * @driver_features:	what the driver set
 * @group_asid:		ASID of each group, as the device accepted it
 * @vqs:		the queues
 * @maps:		TestKernelMap regions of every ASID
 * @efd:		readable while messages wait (the device polls a dup)
 * @send:		messages not read yet
 * @recv:		messages read, not answered yet
 * @next_id:		request id of the next message
 * @answered:		whether the last message sent was answered
 * @answer:		its answer
 * @get_fd_calls:	VDUSE_IOTLB_GET_FD2 calls per ASID
 * @bad_answers:	writes the kernel refused (wrong id, size, reserved)
 * @ctx:		main context the device is served in
 */
struct TestKernel {
    uint64_t api_version;
    uint64_t vduse_features;
    uint32_t vq_num;
    uint32_t ngroups;
    uint32_t nas;
    uint32_t config_size;
    uint8_t *config;
    unsigned int config_irqs;
    uint8_t status;
    uint64_t driver_features;
    uint32_t *group_asid;
    TestKernelVq *vqs;
    GArray *maps;
    int efd;
    GQueue send;
    GQueue recv;
    uint32_t next_id;
    bool answered;
    struct vduse_dev_response answer;
    unsigned int *get_fd_calls;
    unsigned int bad_answers;
    GMainContext *ctx;
};

/**
 * kernel_is_eventfd() - whether @fd is an eventfd, as eventfd_ctx_fdget()
 * checks
 * @fd:		a file descriptor
 *
 * Return: 0 if it is, -EBADF if @fd is not open, -EINVAL otherwise.
 */
static int kernel_is_eventfd(int fd)
{
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
    char target[64];
    ssize_t n = readlink(path, target, sizeof(target) - 1);

    if (n < 0) {
        return -EBADF;
    }
    target[n] = 0;
    return strcmp(target, "anon_inode:[eventfd]") ? -EINVAL : 0;
}

/**
 * kernel_find_map() - the first region of @asid overlapping [start, last]
 * @k:		the kernel
 * @asid:	address space
 * @start:	first IOVA
 * @last:	last IOVA
 *
 * Return: the region, or NULL.
 */
static TestKernelMap *kernel_find_map(TestKernel *k, uint32_t asid,
                                      uint64_t start, uint64_t last)
{
    TestKernelMap *best = NULL;

    for (guint i = 0; i < k->maps->len; i++) {
        TestKernelMap *m = &g_array_index(k->maps, TestKernelMap, i);

        if (m->asid == asid && m->start <= last && m->last >= start &&
            (!best || m->start < best->start)) {
            best = m;
        }
    }
    return best;
}

/**
 * kernel_get_fd() - VDUSE_IOTLB_GET_FD2 (and GET_FD for API 0)
 * @k:		the kernel
 * @e:		the entry, in and out
 *
 * Return: a new fd for the region's memory, or negative errno.
 */
static int kernel_get_fd(TestKernel *k, struct vduse_iotlb_entry_v2 *e)
{
    TestKernelMap *m;
    int fd;

    if (e->start > e->last || e->asid >= k->nas) {
        return -EINVAL;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(e->reserved); i++) {
        if (e->reserved[i]) {
            return -EINVAL;
        }
    }
    k->get_fd_calls[e->asid]++;
    m = kernel_find_map(k, e->asid, e->start, e->last);
    if (!m) {
        return -EINVAL;
    }
    e->offset = m->offset;
    e->start = m->start;
    e->last = m->last;
    e->perm = m->perm;
    fd = fcntl(m->mem->fd, F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

/**
 * kernel_ioctl() - the device fd's ioctls, as vduse_dev_ioctl() does them
 * @opaque:	the kernel
 * @fd:		unused: the kernel is @opaque
 * @request:	the ioctl
 * @arg:	its argument
 *
 * Return: >= 0, or negative errno.
 */
static int kernel_ioctl(void *opaque, int fd, unsigned long request, void *arg)
{
    TestKernel *k = opaque;

    switch (request) {
    case VDUSE_IOTLB_GET_FD2:
        if (k->api_version < VDUSE_API_VERSION_1) {
            return -ENOTTY;
        }
        return kernel_get_fd(k, arg);
    case VDUSE_IOTLB_GET_FD: {
        struct vduse_iotlb_entry *v0 = arg;
        struct vduse_iotlb_entry_v2 e = {.start = v0->start, .last = v0->last};
        int ret = kernel_get_fd(k, &e);

        v0->offset = e.offset;
        v0->start = e.start;
        v0->last = e.last;
        v0->perm = e.perm;
        return ret;
    }
    case VDUSE_DEV_GET_FEATURES:
        *(uint64_t *)arg = k->driver_features;
        return 0;
    case VDUSE_DEV_SET_CONFIG: {
        struct vduse_config_data *cd = arg;

        if (cd->offset > k->config_size || cd->length == 0 ||
            cd->length > k->config_size - cd->offset) {
            return -EINVAL;
        }
        memcpy(k->config + cd->offset, cd->buffer, cd->length);
        return 0;
    }
    case VDUSE_DEV_INJECT_CONFIG_IRQ:
        if (!(k->status & VDUSE_S_DRIVER_OK)) {
            return -EINVAL;
        }
        k->config_irqs++;
        return 0;
    case VDUSE_VQ_SETUP: {
        struct vduse_vq_config *vc = arg;

        if (vc->index >= k->vq_num || vc->reserved1) {
            return -EINVAL;
        }
        if (k->api_version < VDUSE_API_VERSION_1
                ? vc->group != 0
                : vc->group >= k->ngroups || (k->status & VDUSE_S_DRIVER_OK)) {
            return -EINVAL;
        }
        for (size_t i = 0; i < G_N_ELEMENTS(vc->reserved2); i++) {
            if (vc->reserved2[i]) {
                return -EINVAL;
            }
        }
        k->vqs[vc->index].max_size = vc->max_size;
        k->vqs[vc->index].group = vc->group;
        return 0;
    }
    case VDUSE_VQ_GET_INFO: {
        struct vduse_vq_info *info = arg;
        TestKernelVq *vq;

        if (info->index >= k->vq_num) {
            return -EINVAL;
        }
        vq = &k->vqs[info->index];
        info->num = vq->num;
        info->desc_addr = vq->desc;
        info->driver_addr = vq->driver;
        info->device_addr = vq->device;
        if (k->driver_features & VDUSE_BIT(VDUSE_F_RING_PACKED)) {
            info->packed = vq->packed;
        } else {
            info->split.avail_index = vq->avail_index;
        }
        info->ready = vq->ready;
        return 0;
    }
    case VDUSE_VQ_SETUP_KICKFD: {
        struct vduse_vq_eventfd *efd = arg;
        TestKernelVq *vq;
        int ret, copy = -1;

        if (efd->index >= k->vq_num) {
            return -EINVAL;
        }
        vq = &k->vqs[efd->index];
        if (efd->fd >= 0) {
            ret = kernel_is_eventfd(efd->fd);
            if (ret < 0) {
                return ret;
            }
            copy = fcntl(efd->fd, F_DUPFD_CLOEXEC, 0);
            g_assert_cmpint(copy, >=, 0);
        } else if (efd->fd != VDUSE_EVENTFD_DEASSIGN) {
            return 0;
        }
        if (vq->kickfd >= 0) {
            close(vq->kickfd);
        }
        vq->kickfd = copy;
        return 0;
    }
    case VDUSE_VQ_INJECT_IRQ: {
        uint32_t index = *(uint32_t *)arg;

        if (index >= k->vq_num || !(k->status & VDUSE_S_DRIVER_OK)) {
            return -EINVAL;
        }
        k->vqs[index].irqs++;
        return 0;
    }
    default:
        return -ENOTTY;
    }
}

/**
 * kernel_read_msg() - read() on the device fd: the next message
 * @opaque:	the kernel
 * @fd:		unused
 * @req:	where it goes
 * @len:	room in @req
 *
 * Return: its size, -EINVAL if @len is too small, -EAGAIN if none waits.
 */
static ssize_t kernel_read_msg(void *opaque, int fd, void *req, size_t len)
{
    TestKernel *k = opaque;
    struct vduse_dev_request *msg;
    uint64_t count;

    if (len < sizeof(*msg)) {
        return -EINVAL;
    }
    msg = g_queue_pop_head(&k->send);
    if (!msg) {
        return -EAGAIN;
    }
    if (g_queue_is_empty(&k->send) &&
        read(k->efd, &count, sizeof(count)) != sizeof(count)) {
        g_assert_not_reached();
    }
    memcpy(req, msg, sizeof(*msg));
    g_queue_push_tail(&k->recv, msg);
    return sizeof(*msg);
}

/**
 * kernel_write_msg() - write() on the device fd: an answer
 * @opaque:	the kernel
 * @fd:		unused
 * @resp:	the answer
 * @len:	its size
 *
 * Return: @len, -EINVAL (size, reserved words), -ENOENT (no such message
 * waits for an answer).
 */
static ssize_t kernel_write_msg(void *opaque, int fd, const void *resp,
                                size_t len)
{
    TestKernel *k = opaque;
    struct vduse_dev_response r;

    if (len < sizeof(r)) {
        k->bad_answers++;
        return -EINVAL;
    }
    memcpy(&r, resp, sizeof(r));
    for (size_t i = 0; i < G_N_ELEMENTS(r.reserved); i++) {
        if (r.reserved[i]) {
            k->bad_answers++;
            return -EINVAL;
        }
    }
    for (GList *l = k->recv.head; l; l = l->next) {
        struct vduse_dev_request *msg = l->data;

        if (msg->request_id == r.request_id) {
            g_queue_delete_link(&k->recv, l);
            g_free(msg);
            k->answered = true;
            k->answer = r;
            return (ssize_t)len;
        }
    }
    k->bad_answers++;
    return -ENOENT;
}

static const VduseKernelOps test_kernel_ops = {
    .ioctl = kernel_ioctl,
    .read_msg = kernel_read_msg,
    .write_msg = kernel_write_msg,
};

/**
 * test_kernel_new() - a kernel holding a device created with @cfg
 * @cfg:		the device, as VDUSE_CREATE_DEV got it
 * @api_version:	the control API version
 * @vduse_features:	VDUSE_F_* enabled
 * @ctx:		main context the device will be served in
 *
 * Return: the kernel, for test_kernel_free().
 */
TestKernel *test_kernel_new(const VduseDevConfig *cfg, uint64_t api_version,
                            uint64_t vduse_features, GMainContext *ctx)
{
    TestKernel *k = g_new0(TestKernel, 1);
    bool v1 = api_version >= VDUSE_API_VERSION_1;

    k->api_version = api_version;
    k->vduse_features = vduse_features;
    k->vq_num = cfg->vq_num;
    k->ngroups = v1 ? cfg->ngroups : 1;
    k->nas = v1 ? cfg->nas : 1;
    k->config_size = cfg->config_size;
    k->config = g_malloc0(cfg->config_size + 1);
    if (cfg->config) {
        memcpy(k->config, cfg->config, cfg->config_size);
    }
    k->group_asid = g_new0(uint32_t, k->ngroups);
    k->vqs = g_new0(TestKernelVq, k->vq_num);
    for (uint32_t i = 0; i < k->vq_num; i++) {
        k->vqs[i].kickfd = -1;
    }
    k->maps = g_array_new(FALSE, FALSE, sizeof(TestKernelMap));
    k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g_assert_cmpint(k->efd, >=, 0);
    g_queue_init(&k->send);
    g_queue_init(&k->recv);
    k->next_id = 1000;
    k->get_fd_calls = g_new0(unsigned int, k->nas);
    k->ctx = ctx;
    return k;
}

/**
 * test_kernel_free() - free @k; close the device first
 * @k:		the kernel
 */
void test_kernel_free(TestKernel *k)
{
    for (uint32_t i = 0; i < k->vq_num; i++) {
        if (k->vqs[i].kickfd >= 0) {
            close(k->vqs[i].kickfd);
        }
    }
    g_queue_clear_full(&k->send, g_free);
    g_queue_clear_full(&k->recv, g_free);
    close(k->efd);
    g_array_unref(k->maps);
    g_free(k->get_fd_calls);
    g_free(k->vqs);
    g_free(k->group_asid);
    g_free(k->config);
    g_free(k);
}

/**
 * test_kernel_open() - open the device, served by @k
 * @k:		the kernel
 * @cfg:	the device, as created
 * @setup_vqs:	send VDUSE_VQ_SETUP (a new device)
 * @ops:	the model's callbacks
 * @opaque:	passed to @ops
 * @error:	set on failure
 *
 * Return: what vduse_dev_open() would return.
 */
VduseDev *test_kernel_open(TestKernel *k, const VduseDevConfig *cfg,
                           bool setup_vqs, const VduseDevOps *ops, void *opaque,
                           GError **error)
{
    int fd = fcntl(k->efd, F_DUPFD_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    return vduse_dev_open_kernel(cfg, setup_vqs, k->api_version,
                                 k->vduse_features, ops, opaque, k->ctx, fd,
                                 &test_kernel_ops, k, error);
}

/**
 * test_kernel_vq() - the kernel's record of queue @index
 * @k:		the kernel
 * @index:	below the number of queues
 *
 * Return: the record, owned by @k.
 */
TestKernelVq *test_kernel_vq(TestKernel *k, uint32_t index)
{
    g_assert_cmpuint(index, <, k->vq_num);
    return &k->vqs[index];
}

/**
 * test_kernel_status() - the status the device accepted last
 * @k:		the kernel
 *
 * Return: the status.
 */
uint8_t test_kernel_status(TestKernel *k)
{
    return k->status;
}

/**
 * test_kernel_config() - the config space as the device set it
 * @k:		the kernel
 *
 * Return: the config space, owned by @k.
 */
const uint8_t *test_kernel_config(TestKernel *k)
{
    return k->config;
}

/**
 * test_kernel_config_irqs() - config interrupts injected so far
 * @k:		the kernel
 *
 * Return: the count.
 */
unsigned int test_kernel_config_irqs(TestKernel *k)
{
    return k->config_irqs;
}

/**
 * test_kernel_get_fd_calls() - VDUSE_IOTLB_GET_FD2 calls for @asid so far
 * @k:		the kernel
 * @asid:	address space
 *
 * Return: the count.
 */
unsigned int test_kernel_get_fd_calls(TestKernel *k, uint32_t asid)
{
    g_assert_cmpuint(asid, <, k->nas);
    return k->get_fd_calls[asid];
}

/**
 * test_kernel_bad_answers() - answers the kernel refused so far
 * @k:		the kernel
 *
 * Return: the count; a correct device makes none.
 */
unsigned int test_kernel_bad_answers(TestKernel *k)
{
    return k->bad_answers;
}

/**
 * test_kernel_set_driver_features() - the driver writes its features
 * @k:		the kernel
 * @features:	what VDUSE_DEV_GET_FEATURES will return
 */
void test_kernel_set_driver_features(TestKernel *k, uint64_t features)
{
    k->driver_features = features;
}

/**
 * test_kernel_set_vq_ring() - the driver sets queue @index's size and rings
 * @k:		the kernel
 * @index:	the queue
 * @ring:	the driver's ring
 */
void test_kernel_set_vq_ring(TestKernel *k, uint32_t index,
                             const TestRing *ring)
{
    TestKernelVq *vq = test_kernel_vq(k, index);

    vq->num = ring->num;
    vq->desc = ring->desc_iova;
    vq->driver = ring->avail_iova;
    vq->device = ring->used_iova;
}

/**
 * test_kernel_set_vq_state() - the driver sets queue @index's state
 * @k:		the kernel
 * @index:	the queue
 * @avail_index: the next available index the device is to consume
 */
void test_kernel_set_vq_state(TestKernel *k, uint32_t index,
                              uint16_t avail_index)
{
    test_kernel_vq(k, index)->avail_index = avail_index;
}

/**
 * test_kernel_set_vq_packed() - the driver sets packed queue @index where
 * @ring is, and its state, as virtio_vdpa or VHOST_SET_VRING_BASE do
 * @k:		the kernel
 * @index:	the queue
 * @ring:	the driver's ring
 * @avail:	available position (index | wrap counter << 15)
 * @used:	used position
 */
void test_kernel_set_vq_packed(TestKernel *k, uint32_t index,
                               const TestPRing *ring, uint16_t avail,
                               uint16_t used)
{
    TestKernelVq *vq = test_kernel_vq(k, index);

    vq->num = ring->num;
    vq->desc = ring->desc_iova;
    vq->driver = ring->driver_iova;
    vq->device = ring->device_iova;
    vq->packed = (struct vduse_vq_state_packed){
        .last_avail_counter = avail >> 15,
        .last_avail_idx = avail & 0x7fff,
        .last_used_counter = used >> 15,
        .last_used_idx = used & 0x7fff,
    };
}

/**
 * test_kernel_map() - map [@offset, @offset + @len) of @mem at @iova
 * @k:		the kernel
 * @asid:	address space
 * @iova:	IOVA of byte @offset
 * @mem:	the memory
 * @offset:	first byte
 * @len:	bytes, at least 1
 * @perm:	VDUSE_ACCESS_*
 *
 * As vhost-vdpa's set_map, this sends nothing: test_kernel_update_iotlb()
 * does. Return: 0, or -EEXIST if the range overlaps a region of @asid.
 */
int test_kernel_map(TestKernel *k, uint32_t asid, uint64_t iova, TestMem *mem,
                    size_t offset, size_t len, uint8_t perm)
{
    TestKernelMap m = {
        .asid = asid,
        .start = iova,
        .last = iova + len - 1,
        .perm = perm,
        .mem = mem,
        .offset = offset,
    };

    g_assert_cmpuint(asid, <, k->nas);
    g_assert_cmpuint(offset + len, <=, mem->size);
    if (kernel_find_map(k, asid, m.start, m.last)) {
        return -EEXIST;
    }
    g_array_append_val(k->maps, m);
    return 0;
}

/**
 * test_kernel_unmap() - drop every region of @asid overlapping a range
 * @k:		the kernel
 * @asid:	address space
 * @start:	first IOVA
 * @last:	last IOVA
 */
void test_kernel_unmap(TestKernel *k, uint32_t asid, uint64_t start,
                       uint64_t last)
{
    for (guint i = k->maps->len; i-- > 0;) {
        TestKernelMap *m = &g_array_index(k->maps, TestKernelMap, i);

        if (m->asid == asid && m->start <= last && m->last >= start) {
            g_array_remove_index(k->maps, i);
        }
    }
}

/**
 * test_kernel_send() - send one message and wait for the answer
 * @k:		the kernel
 * @req:	the message; its request id is set here
 * @resp:	the answer, or NULL
 *
 * The device is served by iterating the main context, a bounded number of
 * times; the test fails if no answer comes.
 * Return: the answer's result.
 */
uint32_t test_kernel_send(TestKernel *k, struct vduse_dev_request *req,
                          struct vduse_dev_response *resp)
{
    uint64_t one = 1;

    req->request_id = k->next_id++;
    k->answered = false;
    g_queue_push_tail(&k->send, g_memdup2(req, sizeof(*req)));
    g_assert_cmpint(write(k->efd, &one, sizeof(one)), ==, sizeof(one));
    for (int i = 0; i < 16 && !k->answered; i++) {
        g_main_context_iteration(k->ctx, FALSE);
    }
    g_assert_true(k->answered);
    g_assert_cmpuint(k->answer.request_id, ==, req->request_id);
    if (resp) {
        *resp = k->answer;
    }
    return k->answer.result;
}

/**
 * kernel_reset() - what vduse_dev_reset() clears after SET_STATUS 0
 * @k:		the kernel
 */
static void kernel_reset(TestKernel *k)
{
    k->status = 0;
    k->driver_features = 0;
    for (uint32_t i = 0; i < k->vq_num; i++) {
        TestKernelVq *vq = &k->vqs[i];

        if (vq->kickfd >= 0) {
            close(vq->kickfd);
        }
        *vq = (TestKernelVq){.max_size = vq->max_size,
                             .group = vq->group,
                             .kickfd = -1,
                             .irqs = vq->irqs};
    }
    for (uint32_t g = 0; g < k->ngroups; g++) {
        k->group_asid[g] = 0;
    }
}

/**
 * test_kernel_set_status() - the driver sets the device status
 * @k:		the kernel
 * @status:	the new status; 0 resets
 *
 * The kernel keeps the status only if the device agreed; a reset happens
 * whatever the answer. Return: the answer's result.
 */
uint32_t test_kernel_set_status(TestKernel *k, uint8_t status)
{
    struct vduse_dev_request req = {.type = VDUSE_SET_STATUS};
    uint32_t result;

    req.s.status = status;
    result = test_kernel_send(k, &req, NULL);
    if (status == 0) {
        kernel_reset(k);
    } else if (result == VDUSE_REQ_RESULT_OK) {
        k->status = status;
    }
    return result;
}

/**
 * test_kernel_set_vq_ready() - the driver enables or disables a queue
 * @k:		the kernel
 * @index:	the queue
 * @ready:	enable or disable
 *
 * With VDUSE_F_QUEUE_READY and DRIVER_OK set, the device is asked first
 * and the kernel's ready bit follows only an OK; otherwise the bit is
 * set at once, as before 7.3. Return: the answer's result (OK when none
 * was asked).
 */
uint32_t test_kernel_set_vq_ready(TestKernel *k, uint32_t index, bool ready)
{
    struct vduse_dev_request req = {.type = VDUSE_SET_VQ_READY};
    uint32_t result = VDUSE_REQ_RESULT_OK;

    if ((k->vduse_features & VDUSE_BIT(VDUSE_F_QUEUE_READY)) &&
        (k->status & VDUSE_S_DRIVER_OK)) {
        req.vq_ready.num = index;
        req.vq_ready.ready = ready;
        result = test_kernel_send(k, &req, NULL);
    }
    if (result == VDUSE_REQ_RESULT_OK && index < k->vq_num) {
        k->vqs[index].ready = ready;
    }
    return result;
}

/**
 * test_kernel_get_vq_state() - ask the device for a queue's state
 * @k:		the kernel
 * @index:	the queue, any value
 * @avail_index: set to the answered index on OK
 *
 * Return: the answer's result.
 */
uint32_t test_kernel_get_vq_state(TestKernel *k, uint32_t index,
                                  uint16_t *avail_index)
{
    struct vduse_dev_request req = {.type = VDUSE_GET_VQ_STATE};
    struct vduse_dev_response resp;
    uint32_t result;

    req.vq_state.index = index;
    result = test_kernel_send(k, &req, &resp);
    if (result == VDUSE_REQ_RESULT_OK) {
        *avail_index = resp.vq_state.split.avail_index;
    }
    return result;
}

/**
 * test_kernel_get_vq_packed() - ask the device for a packed queue's state
 * @k:		the kernel
 * @index:	the queue
 * @avail:	set to the available position (index | wrap << 15) on OK
 * @used:	set to the used position on OK
 *
 * Return: the answer's result.
 */
uint32_t test_kernel_get_vq_packed(TestKernel *k, uint32_t index,
                                   uint16_t *avail, uint16_t *used)
{
    struct vduse_dev_request req = {.type = VDUSE_GET_VQ_STATE};
    struct vduse_dev_response resp;
    uint32_t result;

    req.vq_state.index = index;
    result = test_kernel_send(k, &req, &resp);
    if (result == VDUSE_REQ_RESULT_OK) {
        g_assert_cmpuint(resp.vq_state.packed.last_avail_counter, <=, 1);
        g_assert_cmpuint(resp.vq_state.packed.last_used_counter, <=, 1);
        *avail = (uint16_t)(resp.vq_state.packed.last_avail_idx |
                            resp.vq_state.packed.last_avail_counter << 15);
        *used = (uint16_t)(resp.vq_state.packed.last_used_idx |
                           resp.vq_state.packed.last_used_counter << 15);
    }
    return result;
}

/**
 * test_kernel_update_iotlb() - tell the device a range of @asid changed
 * @k:		the kernel
 * @asid:	address space, any value
 * @start:	first IOVA
 * @last:	last IOVA
 *
 * Return: the answer's result.
 */
uint32_t test_kernel_update_iotlb(TestKernel *k, uint32_t asid, uint64_t start,
                                  uint64_t last)
{
    struct vduse_dev_request req = {.type = VDUSE_UPDATE_IOTLB};

    if (k->api_version >= VDUSE_API_VERSION_1) {
        req.iova_v2.start = start;
        req.iova_v2.last = last;
        req.iova_v2.asid = asid;
    } else {
        req.iova.start = start;
        req.iova.last = last;
    }
    return test_kernel_send(k, &req, NULL);
}

/**
 * test_kernel_set_group_asid() - the driver moves a group to an ASID
 * @k:		the kernel
 * @group:	the group, any value
 * @asid:	the address space, any value
 *
 * Return: the answer's result.
 */
uint32_t test_kernel_set_group_asid(TestKernel *k, uint32_t group,
                                    uint32_t asid)
{
    struct vduse_dev_request req = {.type = VDUSE_SET_VQ_GROUP_ASID};
    uint32_t result;

    req.vq_group_asid.group = group;
    req.vq_group_asid.asid = asid;
    result = test_kernel_send(k, &req, NULL);
    if (result == VDUSE_REQ_RESULT_OK && group < k->ngroups) {
        k->group_asid[group] = asid;
    }
    return result;
}

/**
 * test_kernel_suspend() - the driver suspends the device
 * @k:		the kernel, with VDUSE_F_SUSPEND
 *
 * Return: the answer's result.
 */
uint32_t test_kernel_suspend(TestKernel *k)
{
    struct vduse_dev_request req = {.type = VDUSE_SUSPEND};

    g_assert_true(k->vduse_features & VDUSE_BIT(VDUSE_F_SUSPEND));
    return test_kernel_send(k, &req, NULL);
}

void test_ip4_set_checksum(uint8_t *ip)
{
    uint32_t sum = 0;

    ip[10] = ip[11] = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8);
    ip[11] = (uint8_t)~sum;
}
