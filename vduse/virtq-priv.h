/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtq-priv.h - what the split (virtq.c) and packed (virtq-packed.c)
 * engines share; not part of libvduse's interface
 */
#ifndef VDUSE_NET_VIRTQ_PRIV_H
#define VDUSE_NET_VIRTQ_PRIV_H

#include <linux/virtio_ring.h>

#include "virtq.h"

/* virtio 1.2 2.8.10: the packed layout, for system headers without it. */
#ifndef VRING_PACKED_EVENT_FLAG_ENABLE
#define VRING_PACKED_EVENT_FLAG_ENABLE 0x0
#define VRING_PACKED_EVENT_FLAG_DISABLE 0x1
#define VRING_PACKED_EVENT_FLAG_DESC 0x2
#define VRING_PACKED_EVENT_F_WRAP_CTR 15
#define VRING_PACKED_DESC_F_AVAIL 7
#define VRING_PACKED_DESC_F_USED 15
struct vring_packed_desc_event {
    __le16 off_wrap;
    __le16 flags;
};
struct vring_packed_desc {
    __le64 addr;
    __le32 len;
    __le16 id;
    __le16 flags;
};
#endif

/**
 * struct VduseVqUsed - a used element pushed and not yet flushed (packed)
 * @id:		buffer id
 * @len:	bytes written
 * @slots:	ring slots its chain took, by which the used position moves
 */
typedef struct VduseVqUsed {
    uint16_t id;
    uint32_t len;
    uint32_t slots;
} VduseVqUsed;

/**
 * struct VduseVq - one virtqueue, split or packed
 * @index:		the queue's index on its device
 * @iotlb:		where its memory comes from (not owned)
 * @asid:		address space of its group
 * @started:		between vduse_vq_start*() and vduse_vq_stop()
 * @failed:		the driver broke the queue
 * @event_idx:		VIRTIO_RING_F_EVENT_IDX negotiated
 * @packed:		the queue has the packed layout (virtq-packed.c)
 * @num:		queue size
 * @desc_iova:		IOVA of the descriptor table (ring, if packed)
 * @avail_iova:		IOVA of the available ring (driver event
 *			suppression area, if packed)
 * @used_iova:		IOVA of the used ring (device event suppression
 *			area, if packed)
 * @desc:		host address of the descriptor table (split)
 * @avail:		host address of the available ring (split)
 * @used:		host address of the used ring (split)
 * @generation:		IOTLB generation the host addresses belong to
 * @tcache:		the region the last buffer was in (no lock on a hit)
 * @last_avail:		next available index to consume (packed: the slot)
 * @used_idx:		used index as published to the driver (packed: the
 *			slot)
 * @pending_used:	pushed entries not yet published
 * @signalled_used:	used index at the last interrupt (split)
 * @signalled_valid:	whether @signalled_used means anything yet (split)
 *
 * Packed only:
 * @ring:		host address of the descriptor ring
 * @driver_evt:		host address of the driver event suppression area
 * @device_evt:		host address of the device event suppression area
 * @avail_wrap:		the wrap counter of @last_avail
 * @used_wrap:		the wrap counter of @used_idx
 * @held:		ring slots popped and not yet published as used
 * @id_slots:		per buffer id: 0 if the device does not hold it, else
 *			the slots its chain took, with ID_PUSHED once pushed
 * @pending:		the pushed elements, @pending_used of them
 * @popped:		buffer ids in the order they were popped (for unpop),
 *			a ring of @num entries
 * @npopped:		where the next pop goes in @popped
 * @used_log:		where each flush records the used position, or NULL
 */
struct VduseVq {
    uint32_t index;
    VduseIotlb *iotlb;
    uint32_t asid;
    bool started;
    bool failed;
    bool event_idx;
    bool packed;
    uint32_t num;
    uint64_t desc_iova;
    uint64_t avail_iova;
    uint64_t used_iova;
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint64_t generation;
    VduseIotlbCache tcache;
    uint16_t last_avail;
    uint16_t used_idx;
    uint16_t pending_used;
    uint16_t signalled_used;
    bool signalled_valid;

    struct vring_packed_desc *ring;
    struct vring_packed_desc_event *driver_evt;
    struct vring_packed_desc_event *device_evt;
    bool avail_wrap;
    bool used_wrap;
    uint32_t held;
    uint32_t *id_slots;
    VduseVqUsed *pending;
    uint16_t *popped;
    uint32_t npopped;
    VduseVqUsedLog *used_log;
};

/* The packed engine's bookkeeping flag in VduseVq.id_slots. */
#define VQ_ID_PUSHED 0x80000000u

G_GNUC_PRINTF(2, 3)
int vq_fail(VduseVq *vq, const char *fmt, ...);
int vq_map_buf(VduseVq *vq, VduseVqElem *elem, uint64_t addr, uint32_t len,
               bool writable, bool *writable_seen);
const void *vq_ptr(VduseVq *vq, uint64_t iova, uint64_t len, uint8_t access);

/* The packed engine (virtq-packed.c), behind the functions of virtq.h. */
bool vq_packed_start(VduseVq *vq, uint16_t avail_state, uint16_t used_state,
                     GError **error);
const char *vq_packed_map_rings(VduseVq *vq);
void vq_packed_free(VduseVq *vq);
int vq_packed_pop(VduseVq *vq, VduseVqElem *elem);
void vq_packed_unpop(VduseVq *vq, unsigned int n);
void vq_packed_push(VduseVq *vq, uint16_t id, uint32_t written);
bool vq_packed_flush(VduseVq *vq);
bool vq_packed_enable_notify(VduseVq *vq, bool enable);
unsigned int vq_packed_avail_pending(VduseVq *vq);
void vq_packed_restart_from_used(VduseVq *vq);
int vq_refresh(VduseVq *vq);

#endif /* VDUSE_NET_VIRTQ_PRIV_H */
