/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-driver.h - a virtio driver in the test process, for unit tests
 *
 * Guest memory is a memfd: the test writes rings and buffers through its
 * own mapping, and the IOTLB under test maps the same fd, as a VDUSE
 * device maps the kernel's. The ring helpers follow the virtio 1.2 split
 * layout from the driver's side.
 */
#ifndef VDUSE_NET_TEST_DRIVER_H
#define VDUSE_NET_TEST_DRIVER_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>

#include "vduse.h"

/**
 * struct TestMem - a memfd standing for guest memory
 * @fd:		the memfd
 * @host:	the test's own mapping of it
 * @size:	its size
 */
typedef struct TestMem {
    int fd;
    uint8_t *host;
    size_t size;
} TestMem;

/* test_mem_new() - @size bytes of zeroed memfd memory; aborts on failure. */
TestMem *test_mem_new(size_t size);

/* test_mem_free() - unmap and close @mem. */
void test_mem_free(TestMem *mem);

/**
 * test_mem_map() - map [@offset, @offset + @len) of @mem at @iova of @asid
 *
 * Return: what vduse_iotlb_map_fd() returned.
 */
int test_mem_map(TestMem *mem, VduseIotlb *iotlb, uint32_t asid, uint64_t iova,
                 size_t offset, size_t len, uint8_t perm);

/**
 * struct TestBuf - one buffer of a chain the driver adds
 * @iova:	where it is
 * @len:	its length
 * @writable:	device-writable (an "in" buffer)
 */
typedef struct TestBuf {
    uint64_t iova;
    uint32_t len;
    bool writable;
} TestBuf;

/**
 * struct TestRing - the driver's side of a split virtqueue
 * @mem:	memory holding the rings
 * @iova:	IOVA of @mem's first byte in the ring's ASID
 * @num:	queue size
 * @desc:	descriptor table, in @mem
 * @avail:	available ring, in @mem
 * @used:	used ring, in @mem
 * @desc_iova:	IOVAs of the three areas
 * @avail_iova:
 * @used_iova:
 * @avail_idx:	the driver's next available index
 * @next_desc:	next descriptor to hand out (round robin)
 * @last_used:	the next used index the driver will read
 */
typedef struct TestRing {
    TestMem *mem;
    uint64_t iova;
    uint32_t num;
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint64_t desc_iova;
    uint64_t avail_iova;
    uint64_t used_iova;
    uint16_t avail_idx;
    uint16_t next_desc;
    uint16_t last_used;
} TestRing;

/**
 * test_ring_init() - lay out a ring of @num entries at @offset of @mem
 * @ring:	filled in
 * @mem:	guest memory
 * @iova:	IOVA at which @mem is mapped
 * @offset:	where in @mem the ring starts (page aligned)
 * @num:	queue size
 * @start:	initial available and used index (to test wrap-around)
 */
void test_ring_init(TestRing *ring, TestMem *mem, uint64_t iova, size_t offset,
                    uint32_t num, uint16_t start);

/*
 * test_ring_start() - vduse_vq_start() @vq on @ring, consuming from the
 * used index on (what a device that pushed all it popped would do);
 * asserts success.
 */
void test_ring_start(TestRing *ring, VduseVq *vq, uint32_t asid,
                     bool event_idx);

/**
 * test_ring_add() - add a chain and make it available
 * @ring:	the ring
 * @bufs:	its buffers
 * @n:		how many
 * @indirect_iova: 0 for a direct chain, else the IOVA of an indirect table
 *		in @ring->mem that this writes
 *
 * Return: the head descriptor index.
 */
uint16_t test_ring_add(TestRing *ring, const TestBuf *bufs, unsigned int n,
                       uint64_t indirect_iova);

/**
 * test_ring_put_head() - make descriptor @head available, as it is
 * (for hostile chains written by hand)
 */
void test_ring_put_head(TestRing *ring, uint16_t head);

/**
 * test_ring_get_used() - read the next used element, if any
 *
 * Return: true with @id and @len set, false if none is published.
 */
bool test_ring_get_used(TestRing *ring, uint32_t *id, uint32_t *len);

/* test_ring_ptr() - the test's pointer to IOVA @iova of @ring->mem. */
void *test_ring_ptr(TestRing *ring, uint64_t iova);

#endif /* VDUSE_NET_TEST_DRIVER_H */
