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
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
