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

#include "vduse-abi.h"
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

/* ------------------------------------------------------------------ */
/* The driver's side of a packed virtqueue (virtio 1.2 section 2.8)    */

/* The most buffer ids a TestPRing tracks: its queue size at most. */
#define TEST_PRING_MAX 4096

/**
 * struct TestPRing - the driver's side of a packed virtqueue
 * @mem:	memory holding the ring
 * @iova:	IOVA of @mem's first byte in the ring's ASID
 * @num:	queue size
 * @desc:	descriptor ring, in @mem
 * @driver:	driver event suppression area, in @mem
 * @device:	device event suppression area, in @mem
 * @desc_iova:	IOVA of the descriptor ring
 * @driver_iova: IOVA of the driver area
 * @device_iova: IOVA of the device area
 * @avail_idx:	the next slot the driver makes available
 * @avail_wrap:	its wrap counter
 * @used_idx:	the next slot the driver reads a used descriptor from
 * @used_wrap:	its wrap counter
 * @free:	slots the driver may still fill
 * @id_slots:	per buffer id, the slots its chain took (to skip on use)
 */
typedef struct TestPRing {
    TestMem *mem;
    uint64_t iova;
    uint32_t num;
    struct vring_packed_desc *desc;
    struct vring_packed_desc_event *driver;
    struct vring_packed_desc_event *device;
    uint64_t desc_iova;
    uint64_t driver_iova;
    uint64_t device_iova;
    uint16_t avail_idx;
    bool avail_wrap;
    uint16_t used_idx;
    bool used_wrap;
    uint32_t free;
    uint16_t id_slots[TEST_PRING_MAX];
} TestPRing;

void test_pring_init(TestPRing *ring, TestMem *mem, uint64_t iova,
                     size_t offset, uint32_t num, uint16_t start, bool wrap);
void test_pring_start(TestPRing *ring, VduseVq *vq, uint32_t asid,
                      bool event_idx);
uint16_t test_pring_add(TestPRing *ring, const TestBuf *bufs, unsigned int n,
                        uint64_t indirect_iova, uint16_t id);
bool test_pring_get_used(TestPRing *ring, uint16_t *id, uint32_t *len);
void *test_pring_ptr(TestPRing *ring, uint64_t iova);

/* Raw access, for notification tests and hostile chains. */
uint16_t test_pring_avail_bits(bool wrap);
void test_pring_set_desc(TestPRing *ring, uint16_t slot, uint64_t addr,
                         uint32_t len, uint16_t id, uint16_t flags);
uint16_t test_pring_desc_flags(TestPRing *ring, uint16_t slot);
void test_pring_set_driver_event(TestPRing *ring, uint16_t flags,
                                 uint16_t off_wrap);
uint16_t test_pring_device_event(TestPRing *ring, uint16_t *off_wrap);
uint16_t test_pring_state(uint16_t idx, bool wrap);
bool test_pring_is_used(TestPRing *ring, uint16_t idx, bool wrap);
bool test_pring_kick_needed(TestPRing *ring, uint16_t old_idx, bool old_wrap);

/* ------------------------------------------------------------------ */
/* A VDUSE kernel in the test process                                  */

/*
 * TestKernel plays /dev/vduse/$NAME for a device opened with
 * test_kernel_open(): it answers the device's ioctls and queues the
 * messages the vDPA side sends, following the rules of Linux 7.3's
 * drivers/vdpa/vdpa_user/vduse_dev.c (index checks, -EINVAL for an IOVA
 * nobody mapped, answers matched by request id with zeroed reserved
 * words, reset clearing the queues). Guest memory is TestMem, mapped per
 * address space. Single-threaded: the device must be served from the
 * test's thread.
 */
typedef struct TestKernel TestKernel;

/**
 * struct TestKernelVq - the kernel's record of one virtqueue
 * @max_size:	from VDUSE_VQ_SETUP
 * @group:	from VDUSE_VQ_SETUP
 * @num:	size the driver set
 * @desc:	descriptor table IOVA
 * @driver:	available ring IOVA
 * @device:	used ring IOVA
 * @avail_index: the state the driver set (split)
 * @packed:	the state the driver set (packed)
 * @ready:	the driver enabled it (and, with VDUSE_F_QUEUE_READY, the
 *		device agreed)
 * @kickfd:	the kick eventfd the device gave, or -1
 * @irqs:	VDUSE_VQ_INJECT_IRQ calls that went through
 */
typedef struct TestKernelVq {
    uint16_t max_size;
    uint32_t group;
    uint32_t num;
    uint64_t desc;
    uint64_t driver;
    uint64_t device;
    uint16_t avail_index;
    struct vduse_vq_state_packed packed;
    bool ready;
    int kickfd;
    unsigned int irqs;
} TestKernelVq;

TestKernel *test_kernel_new(const VduseDevConfig *cfg, uint64_t api_version,
                            uint64_t vduse_features, GMainContext *ctx);
void test_kernel_free(TestKernel *k);
VduseDev *test_kernel_open(TestKernel *k, const VduseDevConfig *cfg,
                           bool setup_vqs, const VduseDevOps *ops, void *opaque,
                           GError **error);

/* The kernel's state, as the device left it. */
TestKernelVq *test_kernel_vq(TestKernel *k, uint32_t index);
uint8_t test_kernel_status(TestKernel *k);
const uint8_t *test_kernel_config(TestKernel *k);
unsigned int test_kernel_config_irqs(TestKernel *k);
unsigned int test_kernel_get_fd_calls(TestKernel *k, uint32_t asid);
unsigned int test_kernel_bad_answers(TestKernel *k);

/* What the driver does through the vDPA bus. */
void test_kernel_set_driver_features(TestKernel *k, uint64_t features);
void test_kernel_set_vq_ring(TestKernel *k, uint32_t index,
                             const TestRing *ring);
void test_kernel_set_vq_state(TestKernel *k, uint32_t index,
                              uint16_t avail_index);
void test_kernel_set_vq_packed(TestKernel *k, uint32_t index,
                               const TestPRing *ring, uint16_t avail,
                               uint16_t used);
int test_kernel_map(TestKernel *k, uint32_t asid, uint64_t iova, TestMem *mem,
                    size_t offset, size_t len, uint8_t perm);
void test_kernel_unmap(TestKernel *k, uint32_t asid, uint64_t start,
                       uint64_t last);

/* Messages to the device; each returns VDUSE_REQ_RESULT_OK or _FAILED. */
uint32_t test_kernel_send(TestKernel *k, struct vduse_dev_request *req,
                          struct vduse_dev_response *resp);
uint32_t test_kernel_set_status(TestKernel *k, uint8_t status);
uint32_t test_kernel_set_vq_ready(TestKernel *k, uint32_t index, bool ready);
uint32_t test_kernel_get_vq_state(TestKernel *k, uint32_t index,
                                  uint16_t *avail_index);
uint32_t test_kernel_get_vq_packed(TestKernel *k, uint32_t index,
                                   uint16_t *avail, uint16_t *used);
uint32_t test_kernel_update_iotlb(TestKernel *k, uint32_t asid, uint64_t start,
                                  uint64_t last);
uint32_t test_kernel_set_group_asid(TestKernel *k, uint32_t group,
                                    uint32_t asid);
uint32_t test_kernel_suspend(TestKernel *k);

/* test_ip4_set_checksum() - the checksum of the 20-byte IPv4 header at @ip,
 * for the frames the tests and benchmarks send. */
void test_ip4_set_checksum(uint8_t *ip);

#endif /* VDUSE_NET_TEST_DRIVER_H */
