/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-driver.c - a virtio driver in the test process, for unit tests
 */
#include "config.h"

#include <glib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test-driver.h"

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

void test_mem_free(TestMem *mem)
{
    munmap(mem->host, mem->size);
    close(mem->fd);
    g_free(mem);
}

int test_mem_map(TestMem *mem, VduseIotlb *iotlb, uint32_t asid, uint64_t iova,
                 size_t offset, size_t len, uint8_t perm)
{
    return vduse_iotlb_map_fd(iotlb, asid, iova, iova + len - 1, perm, mem->fd,
                              offset);
}

void test_ring_init(TestRing *ring, TestMem *mem, uint64_t iova, size_t offset,
                    uint32_t num, uint16_t start)
{
    size_t desc_off = offset;
    size_t avail_off = desc_off + 16 * num;
    size_t used_off = (avail_off + 6 + 2 * num + 4095) & ~(size_t)4095;

    g_assert_cmpuint(used_off + 6 + 8 * num, <=, mem->size);
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
    ring->avail->idx = start;
    ring->used->idx = start;
}

void test_ring_start(TestRing *ring, VduseVq *vq, uint32_t asid, bool event_idx)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(vduse_vq_start(vq, asid, ring->num, ring->desc_iova,
                                 ring->avail_iova, ring->used_iova,
                                 le16toh(ring->used->idx), event_idx, &error));
    g_assert_no_error(error);
}

void *test_ring_ptr(TestRing *ring, uint64_t iova)
{
    g_assert_cmpuint(iova - ring->iova, <, ring->mem->size);
    return ring->mem->host + (iova - ring->iova);
}

/**
 * fill_desc() - write one descriptor
 * @d:		the descriptor
 * @b:		its buffer
 * @next:	index of the next one, or -1 for the last
 */
static void fill_desc(struct vring_desc *d, const TestBuf *b, int next)
{
    d->addr = htole64(b->iova);
    d->len = htole32(b->len);
    d->flags = htole16((b->writable ? VRING_DESC_F_WRITE : 0) |
                       (next >= 0 ? VRING_DESC_F_NEXT : 0));
    d->next = htole16(next >= 0 ? (uint16_t)next : 0);
}

void test_ring_put_head(TestRing *ring, uint16_t head)
{
    ring->avail->ring[ring->avail_idx % ring->num] = htole16(head);
    ring->avail_idx++;
    __atomic_store_n(&ring->avail->idx, htole16(ring->avail_idx),
                     __ATOMIC_RELEASE);
}

uint16_t test_ring_add(TestRing *ring, const TestBuf *bufs, unsigned int n,
                       uint64_t indirect_iova)
{
    uint16_t head = ring->next_desc;

    if (indirect_iova) {
        struct vring_desc *table = test_ring_ptr(ring, indirect_iova);

        for (unsigned int i = 0; i < n; i++) {
            fill_desc(&table[i], &bufs[i], i + 1 < n ? (int)i + 1 : -1);
        }
        ring->desc[head].addr = htole64(indirect_iova);
        ring->desc[head].len = htole32(n * sizeof(struct vring_desc));
        ring->desc[head].flags = htole16(VRING_DESC_F_INDIRECT);
        ring->next_desc = (uint16_t)((head + 1) % ring->num);
    } else {
        for (unsigned int i = 0; i < n; i++) {
            uint16_t d = (uint16_t)((head + i) % ring->num);

            fill_desc(&ring->desc[d], &bufs[i],
                      i + 1 < n ? (int)((d + 1) % ring->num) : -1);
        }
        ring->next_desc = (uint16_t)((head + n) % ring->num);
    }
    test_ring_put_head(ring, head);
    return head;
}

bool test_ring_get_used(TestRing *ring, uint32_t *id, uint32_t *len)
{
    uint16_t idx = le16toh(__atomic_load_n(&ring->used->idx, __ATOMIC_ACQUIRE));
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
