/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-driver.h - a virtio driver in the test process, for unit tests
 *
 * Guest memory is a memfd: the test writes rings and buffers through its
 * own mapping, and the IOTLB under test maps the same fd, as a VDUSE
 * device maps the kernel's. The ring helpers follow the virtio 1.2 split
 * layout (section 2.7) from the driver's side; the raw setters let a test
 * write what no honest driver would.
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

TestMem *test_mem_new(size_t size);
void test_mem_free(TestMem *mem);
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
 * @desc_iova:	IOVA of the descriptor table
 * @avail_iova:	IOVA of the available ring
 * @used_iova:	IOVA of the used ring
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

void test_ring_init(TestRing *ring, TestMem *mem, uint64_t iova, size_t offset,
                    uint32_t num, uint16_t start);
void test_ring_start(TestRing *ring, VduseVq *vq, uint32_t asid,
                     bool event_idx);
void *test_ring_ptr(TestRing *ring, uint64_t iova);

uint16_t test_ring_add(TestRing *ring, const TestBuf *bufs, unsigned int n,
                       uint64_t indirect_iova);
bool test_ring_get_used(TestRing *ring, uint32_t *id, uint32_t *len);

/* Raw access, for notification tests and hostile chains. */
void test_ring_set_desc(TestRing *ring, uint16_t i, uint64_t addr, uint32_t len,
                        uint16_t flags, uint16_t next);
void test_ring_put_head(TestRing *ring, uint16_t head);
void test_ring_set_avail_idx(TestRing *ring, uint16_t idx);
void test_ring_set_no_interrupt(TestRing *ring, bool on);
void test_ring_set_used_event(TestRing *ring, uint16_t idx);
uint16_t test_ring_avail_event(TestRing *ring);
uint16_t test_ring_used_idx(TestRing *ring);
uint16_t test_ring_used_flags(TestRing *ring);

#endif /* VDUSE_NET_TEST_DRIVER_H */
