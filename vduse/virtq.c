/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtq.c - the VduseVq calls, and the split virtqueue served from the
 * device side
 *
 * DOC: Theory of operation
 *
 * A queue started with vduse_vq_start_packed() has the packed layout: the
 * calls below hand it to virtq-packed.c, which keeps the same promises
 * (virtq-priv.h holds what both share). The rest of this file is the
 * split engine.
 *
 * Layout and rules are those of virtio 1.2, section 2.7 (split virtqueues).
 * The driver owns the descriptor table and the available ring; we own the
 * used ring. Every byte the driver controls is read once into a local copy
 * before it is checked and used, so a driver changing memory under us can
 * only make its own chain wrong, never make us leave a mapping.
 *
 * A queue is served by one thread at a time. The device layer starts and
 * stops it, and changes its address space, only while that thread is
 * quiesced; the ring addresses are translated again whenever the IOTLB was
 * invalidated since the last look.
 *
 * When the driver breaks a rule (a loop, a chain longer than the queue, a
 * nested or malformed indirect table, an unmapped or read-only buffer, an
 * index out of range, an available index running ahead by more than the
 * queue size) the queue fails: one log line, and every later pop returns
 * -EIO until the queue is started again (after a reset). The other queues
 * go on.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <gio/gio.h>
#include <linux/virtio_ring.h>

#include "virtq-priv.h"

VduseVq *vduse_vq_new(uint32_t index, VduseIotlb *iotlb)
{
    VduseVq *vq = g_new0(VduseVq, 1);

    vq->index = index;
    vq->iotlb = iotlb;
    return vq;
}

void vduse_vq_free(VduseVq *vq)
{
    if (vq) {
        vq_packed_free(vq);
    }
    g_free(vq);
}

/**
 * vq_fail() - mark @vq broken by the driver and say why, once
 * @vq:		the queue
 * @fmt:	printf format of the reason
 *
 * Return: -EIO, for the caller to return.
 */
int vq_fail(VduseVq *vq, const char *fmt, ...)
{
    g_autofree char *why = NULL;
    va_list ap;

    if (!vq->failed) {
        va_start(ap, fmt);
        why = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_message("vq %u: driver error, queue stopped: %s", vq->index, why);
        vq->failed = true;
    }
    return -EIO;
}

/* Sizes of the three areas of a split queue of @num entries (2.7). */
static inline uint64_t desc_size(uint32_t num)
{
    return 16ull * num;
}

static inline uint64_t avail_size(uint32_t num)
{
    return 6ull + 2ull * num;
}

static inline uint64_t used_size(uint32_t num)
{
    return 6ull + 8ull * num;
}

/**
 * vq_map_rings() - translate the three ring areas of @vq
 * @vq:		the queue, with its IOVAs and size set
 *
 * Return: NULL, or a static string naming the area that is not mapped.
 */
static const char *vq_map_rings(VduseVq *vq)
{
    vq->generation = vduse_iotlb_generation(vq->iotlb);
    if (vq->packed) {
        return vq_packed_map_rings(vq);
    }
    vq->desc = vduse_iotlb_ptr(vq->iotlb, vq->asid, vq->desc_iova,
                               desc_size(vq->num), VDUSE_IOTLB_READ);
    if (!vq->desc) {
        return "descriptor table";
    }
    vq->avail = vduse_iotlb_ptr(vq->iotlb, vq->asid, vq->avail_iova,
                                avail_size(vq->num), VDUSE_IOTLB_READ);
    if (!vq->avail) {
        return "available ring";
    }
    vq->used =
        vduse_iotlb_ptr(vq->iotlb, vq->asid, vq->used_iova, used_size(vq->num),
                        VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE);
    if (!vq->used) {
        return "used ring";
    }
    return NULL;
}

/**
 * vq_refresh() - translate the rings again if the IOTLB changed
 * @vq:		a started queue
 *
 * Return: 0, or -EIO if a ring is no longer mapped (the queue fails).
 */
int vq_refresh(VduseVq *vq)
{
    const char *area;

    if (G_LIKELY(vq->generation == vduse_iotlb_generation(vq->iotlb))) {
        return 0;
    }
    area = vq_map_rings(vq);
    if (area) {
        return vq_fail(vq, "%s no longer mapped in ASID %u", area, vq->asid);
    }
    return 0;
}

/**
 * vq_set_rings() - check and translate where the driver put @vq
 * @vq:		the queue; @vq->packed says the layout
 * @asid:	address space of the queue's group
 * @num:	queue size
 * @desc:	IOVA of the descriptor table or ring
 * @driver:	IOVA of the driver area
 * @device:	IOVA of the device area
 * @error:	set on failure
 *
 * Return: true, or false with @error set (INVALID_ARGUMENT).
 */
static bool vq_set_rings(VduseVq *vq, uint32_t asid, uint32_t num,
                         uint64_t desc, uint64_t driver, uint64_t device,
                         GError **error)
{
    /* A packed queue's size need not be a power of two (virtio 1.2 2.8,
     * "Structure Size and Alignment"). */
    bool pow2 = !vq->packed;
    /* Alignment of the driver and device areas: 2 and 4 (split, 2.7),
     * 4 and 4 (packed, 2.8). */
    uint64_t driver_align = vq->packed ? 3 : 1;
    const char *area;

    if (num == 0 || num > 32768 || (pow2 && (num & (num - 1)))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "vq %u: size %u is not a %s up to 32768", vq->index, num,
                    pow2 ? "power of two" : "number from 1");
        return false;
    }
    if ((desc & 15) || (driver & driver_align) || (device & 3)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "vq %u: misaligned ring (desc 0x%" G_GINT64_MODIFIER
                    "x, driver 0x%" G_GINT64_MODIFIER
                    "x, device 0x%" G_GINT64_MODIFIER "x)",
                    vq->index, desc, driver, device);
        return false;
    }
    vq->asid = asid;
    vq->num = num;
    vq->desc_iova = desc;
    vq->avail_iova = driver;
    vq->used_iova = device;
    area = vq_map_rings(vq);
    if (area) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "vq %u: %s not mapped in ASID %u", vq->index, area, asid);
        return false;
    }
    return true;
}

bool vduse_vq_start(VduseVq *vq, uint32_t asid, uint32_t num, uint64_t desc,
                    uint64_t driver, uint64_t device, uint16_t last_avail,
                    bool event_idx, GError **error)
{
    vq->started = false;
    vq->packed = false;
    if (!vq_set_rings(vq, asid, num, desc, driver, device, error)) {
        return false;
    }
    vq->event_idx = event_idx;
    vq->last_avail = last_avail;
    vq->used_idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
    vq->pending_used = 0;
    vq->signalled_valid = false;
    vq->failed = false;
    vq->started = true;
    return true;
}

bool vduse_vq_start_packed(VduseVq *vq, uint32_t asid, uint32_t num,
                           uint64_t desc, uint64_t driver, uint64_t device,
                           uint16_t avail_state, uint16_t used_state,
                           bool event_idx, GError **error)
{
    vq->started = false;
    vq->packed = true;
    if (!vq_set_rings(vq, asid, num, desc, driver, device, error)) {
        return false;
    }
    vq->event_idx = event_idx;
    if (!vq_packed_start(vq, avail_state, used_state, error)) {
        return false;
    }
    vq->failed = false;
    vq->started = true;
    return true;
}

void vduse_vq_stop(VduseVq *vq)
{
    vq->started = false;
    vq->desc = NULL;
    vq->avail = NULL;
    vq->used = NULL;
    vq->ring = NULL;
    vq->driver_evt = NULL;
    vq->device_evt = NULL;
}

void vduse_vq_set_asid(VduseVq *vq, uint32_t asid)
{
    vq->asid = asid;
    if (vq->started) {
        /* Force a fresh translation on the next use. */
        vq->generation = vduse_iotlb_generation(vq->iotlb) - 1;
    }
}

/**
 * vq_avail_idx() - the driver's available index, read with acquire order
 * @vq:		a started queue
 *
 * Return: the index; ring entries below it may be read after this.
 */
static inline uint16_t vq_avail_idx(VduseVq *vq)
{
    return le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
}

/**
 * vq_map_buf() - append one descriptor's buffer to @elem
 * @vq:		the queue
 * @elem:	the chain being built
 * @addr:	the buffer's IOVA, from the driver's descriptor (local copy)
 * @len:	its length
 * @writable:	the descriptor has the WRITE flag
 * @writable_seen: in: whether the chain had a writable descriptor before
 *		this one (even of length zero, which adds no segment); out:
 *		updated
 *
 * Shared by both layouts.
 * Return: 0, or -EIO (the queue failed).
 */
int vq_map_buf(VduseVq *vq, VduseVqElem *elem, uint64_t addr, uint32_t len,
               bool writable, bool *writable_seen)
{
    unsigned int used = elem->out_num + elem->in_num;
    int n;

    if (!writable && *writable_seen) {
        return vq_fail(vq, "device-readable descriptor after a writable one");
    }
    *writable_seen |= writable;
    n = vduse_iotlb_translate_cached(
        vq->iotlb, &vq->tcache, vq->asid, addr, len,
        writable ? VDUSE_IOTLB_WRITE : VDUSE_IOTLB_READ, &elem->iov[used],
        VDUSE_VQ_MAX_IOV - used);
    switch (n) {
    case -EFAULT:
        return vq_fail(vq,
                       "buffer [0x%" G_GINT64_MODIFIER "x, +%u] not "
                       "mapped in ASID %u",
                       addr, len, vq->asid);
    case -EACCES:
        return vq_fail(vq,
                       "buffer [0x%" G_GINT64_MODIFIER "x, +%u] lacks "
                       "%s permission",
                       addr, len, writable ? "write" : "read");
    case -ENOBUFS:
        return vq_fail(vq, "chain needs more than %u segments",
                       VDUSE_VQ_MAX_IOV);
    default:
        if (n < 0) {
            return vq_fail(vq, "translation failed: %s", g_strerror(-n));
        }
    }
    if (writable) {
        elem->in_num += n;
        elem->in_len += len;
    } else {
        elem->out_num += n;
        elem->out_len += len;
    }
    return 0;
}

/**
 * vq_ptr() - translate a buffer that must be host-contiguous, through the
 * queue's cache
 * @vq:		the queue
 * @iova:	first IOVA
 * @len:	length, at least 1
 * @access:	VDUSE_IOTLB_READ and/or VDUSE_IOTLB_WRITE
 *
 * Return: the host address, or NULL (see vduse_iotlb_ptr()).
 */
const void *vq_ptr(VduseVq *vq, uint64_t iova, uint64_t len, uint8_t access)
{
    struct iovec iov;

    if (vduse_iotlb_translate_cached(vq->iotlb, &vq->tcache, vq->asid, iova,
                                     len, access, &iov, 1) != 1) {
        return NULL;
    }
    return iov.iov_base;
}

/**
 * vq_walk_chain() - gather the chain starting at descriptor @head
 * @vq:		the queue
 * @head:	head index, already checked against the queue size
 * @elem:	filled with the chain
 * @in_max:	stop after the writable buffer that brings @elem->in_len to
 *		this many bytes (@elem->in_cut says whether more followed)
 *
 * The walk is bounded: at most num descriptors in the table, then at most
 * the indirect table's entries, each visited once.
 * Return: 0, or -EIO (the queue failed).
 */
static int vq_walk_chain(VduseVq *vq, uint16_t head, VduseVqElem *elem,
                         size_t in_max)
{
    const struct vring_desc *table = vq->desc;
    uint32_t table_len = vq->num;
    bool indirect = false, writable_seen = false;
    uint32_t i = head, seen = 0;

    elem->id = head;
    elem->out_num = elem->in_num = 0;
    elem->out_len = elem->in_len = 0;
    elem->in_cut = false;

    for (;;) {
        struct vring_desc d;
        uint16_t flags;

        if (seen++ == table_len) {
            return vq_fail(vq,
                           "%schain at head %u loops or is longer than "
                           "its table (%u)",
                           indirect ? "indirect " : "", head, table_len);
        }
        /* One read of the driver's descriptor; only the copy is used. */
        __builtin_memcpy(&d, (const void *)&table[i], sizeof(d));
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        flags = le16toh(d.flags);

        if (flags & VRING_DESC_F_INDIRECT) {
            uint32_t len = le32toh(d.len);
            uint64_t addr = le64toh(d.addr);

            if (indirect) {
                return vq_fail(vq, "indirect table inside an indirect table");
            }
            if (flags & VRING_DESC_F_NEXT) {
                return vq_fail(vq, "indirect descriptor with NEXT set");
            }
            if (len == 0 || len % sizeof(struct vring_desc)) {
                return vq_fail(vq, "indirect table of %u bytes", len);
            }
            /* No chain is longer than the queue (virtio 1.2 2.7.5.3.1):
             * so a hostile table costs no more than the ring's own. */
            if (len / sizeof(struct vring_desc) > vq->num) {
                return vq_fail(vq,
                               "indirect table of %zu entries, more than the "
                               "queue size %u",
                               len / sizeof(struct vring_desc), vq->num);
            }
            table = vq_ptr(vq, addr, len, VDUSE_IOTLB_READ);
            if (!table) {
                return vq_fail(vq,
                               "indirect table [0x%" G_GINT64_MODIFIER
                               "x, +%u] not mapped in ASID %u",
                               addr, len, vq->asid);
            }
            table_len = len / sizeof(struct vring_desc);
            indirect = true;
            i = 0;
            seen = 0;
            continue;
        }
        if (vq_map_buf(vq, elem, le64toh(d.addr), le32toh(d.len),
                       flags & VRING_DESC_F_WRITE, &writable_seen) < 0) {
            return -EIO;
        }
        if (!(flags & VRING_DESC_F_NEXT)) {
            return 0;
        }
        if ((flags & VRING_DESC_F_WRITE) && elem->in_len >= in_max) {
            elem->in_cut = true;
            return 0;
        }
        i = le16toh(d.next);
        if (i >= table_len) {
            return vq_fail(vq, "next index %u out of range (%u)", i, table_len);
        }
    }
}

int vduse_vq_pop(VduseVq *vq, VduseVqElem *elem)
{
    return vduse_vq_pop_prefix(vq, elem, SIZE_MAX);
}

int vduse_vq_pop_prefix(VduseVq *vq, VduseVqElem *elem, size_t in_max)
{
    uint16_t avail_idx, pending, head;

    if (!vq->started) {
        return -ENODEV;
    }
    if (vq->failed || vq_refresh(vq) < 0) {
        return -EIO;
    }
    if (vq->packed) {
        return vq_packed_pop(vq, elem);
    }
    avail_idx = vq_avail_idx(vq);
    pending = (uint16_t)(avail_idx - vq->last_avail);
    if (pending > vq->num) {
        return vq_fail(vq,
                       "available index %u is %u ahead of %u, more than "
                       "the queue size %u",
                       avail_idx, pending, vq->last_avail, vq->num);
    }
    if (pending == 0) {
        return 0;
    }
    /* Every chain popped and not yet handed back holds a head of its own,
     * so an honest driver never has more than the queue size in flight. A
     * driver that makes heads available again while we hold them would
     * have us push more used entries than the ring holds. */
    if ((uint16_t)(vq->last_avail - vq->used_idx) >= vq->num) {
        return vq_fail(vq,
                       "more than %u chains in flight: the driver made heads "
                       "available that the device still holds",
                       vq->num);
    }
    head = le16toh(__atomic_load_n(&vq->avail->ring[vq->last_avail % vq->num],
                                   __ATOMIC_RELAXED));
    if (head >= vq->num) {
        return vq_fail(vq, "head index %u out of range (%u)", head, vq->num);
    }
    if (vq_walk_chain(vq, head, elem, in_max) < 0) {
        return -EIO;
    }
    vq->last_avail++;
    return 1;
}

int vduse_vq_map_whole(VduseVq *vq, VduseVqElem *elem,
                       const struct iovec *prefix, unsigned int n)
{
    const struct iovec *in;

    g_assert(!vq->packed); /* vduse_vq_pop_prefix() never cuts those */
    if (!vq->started || vq->failed || vq_refresh(vq) < 0) {
        return -EIO;
    }
    /* The chain is in flight: its descriptors are the device's until it
     * is pushed, so reading them again reads the same chain, checked as
     * ever, and its first buffers are those the caller may have written
     * to already. */
    if (vq_walk_chain(vq, elem->id, elem, SIZE_MAX) < 0) {
        return -EIO;
    }
    in = &elem->iov[elem->out_num];
    /* A prefix of no segment: zero-length writable buffers, cut for an
     * @in_max of 0. */
    if (elem->in_num < n ||
        (n > 0 && (memcmp(in, prefix, (n - 1) * sizeof(*prefix)) != 0 ||
                   in[n - 1].iov_base != prefix[n - 1].iov_base ||
                   in[n - 1].iov_len < prefix[n - 1].iov_len))) {
        return vq_fail(vq, "chain at head %u changed while in flight",
                       elem->id);
    }
    return 0;
}

void vduse_vq_unpop(VduseVq *vq, unsigned int n)
{
    if (vq->packed) {
        vq_packed_unpop(vq, n);
        return;
    }
    vq->last_avail -= (uint16_t)n;
}

void vduse_vq_push(VduseVq *vq, uint16_t id, uint32_t written)
{
    struct vring_used_elem *e;

    /* The used ring may have moved since the pop (IOTLB invalidation). */
    if (!vq->started || vq->failed || vq_refresh(vq) < 0) {
        return;
    }
    if (vq->packed) {
        vq_packed_push(vq, id, written);
        return;
    }
    /* vduse_vq_pop() keeps what is in flight within the ring; a caller
     * pushing an id twice is the only way here. */
    if (vq->pending_used >= vq->num) {
        vq_fail(vq, "%u used entries pushed without a flush", vq->num + 1);
        return;
    }
    e = &vq->used->ring[(uint16_t)(vq->used_idx + vq->pending_used) % vq->num];
    e->id = htole32(id);
    e->len = htole32(written);
    vq->pending_used++;
}

/**
 * vq_used_event() - the driver's used_event field (after the avail ring)
 * @vq:		a started queue
 *
 * Return: the index the driver wants an interrupt at.
 */
static inline uint16_t vq_used_event(VduseVq *vq)
{
    return le16toh(
        __atomic_load_n(&vq->avail->ring[vq->num], __ATOMIC_RELAXED));
}

bool vduse_vq_flush(VduseVq *vq)
{
    uint16_t old, new_idx;
    bool was_valid;

    if (!vq->started || vq->failed || vq->pending_used == 0 ||
        vq_refresh(vq) < 0) {
        return false;
    }
    if (vq->packed) {
        return vq_packed_flush(vq);
    }
    new_idx = vq->used_idx + vq->pending_used;
    /* The entries must be visible before the index that covers them. */
    __atomic_store_n(&vq->used->idx, htole16(new_idx), __ATOMIC_RELEASE);
    vq->used_idx = new_idx;
    vq->pending_used = 0;
    /* Publish the index before reading what the driver asked for. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    if (!vq->event_idx) {
        return !(le16toh(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED)) &
                 VRING_AVAIL_F_NO_INTERRUPT);
    }
    was_valid = vq->signalled_valid;
    old = vq->signalled_used;
    vq->signalled_used = new_idx;
    vq->signalled_valid = true;
    return !was_valid || vring_need_event(vq_used_event(vq), new_idx, old);
}

bool vduse_vq_enable_notify(VduseVq *vq, bool enable)
{
    if (!vq->started || vq->failed || vq_refresh(vq) < 0) {
        return false;
    }
    if (vq->packed) {
        return vq_packed_enable_notify(vq, enable);
    }
    if (vq->event_idx) {
        if (enable) {
            /* avail_event sits after the used ring's entries. */
            uint16_t *avail_event = (uint16_t *)&vq->used->ring[vq->num];

            __atomic_store_n(avail_event, htole16(vq->last_avail),
                             __ATOMIC_RELAXED);
        }
    } else {
        uint16_t flags = le16toh(vq->used->flags);

        if (enable) {
            flags &= ~VRING_USED_F_NO_NOTIFY;
        } else {
            flags |= VRING_USED_F_NO_NOTIFY;
        }
        __atomic_store_n(&vq->used->flags, htole16(flags), __ATOMIC_RELAXED);
    }
    if (!enable) {
        return false;
    }
    /* Ask first, then look: a buffer added meanwhile is not missed. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return vq_avail_idx(vq) != vq->last_avail;
}

unsigned int vduse_vq_avail_pending(VduseVq *vq)
{
    uint16_t pending;

    if (!vq->started || vq->failed || vq_refresh(vq) < 0) {
        return 0;
    }
    if (vq->packed) {
        return vq_packed_avail_pending(vq);
    }
    pending = (uint16_t)(vq_avail_idx(vq) - vq->last_avail);
    return pending <= vq->num ? pending : 0;
}

uint16_t vduse_vq_last_avail(VduseVq *vq)
{
    if (vq->packed) {
        return vq->last_avail |
               (uint16_t)(vq->avail_wrap << VRING_PACKED_EVENT_F_WRAP_CTR);
    }
    return vq->last_avail;
}

bool vduse_vq_is_failed(VduseVq *vq)
{
    return vq->failed;
}

uint16_t vduse_vq_used_idx(VduseVq *vq)
{
    if (vq->packed) {
        return vq->used_idx |
               (uint16_t)(vq->used_wrap << VRING_PACKED_EVENT_F_WRAP_CTR);
    }
    return vq->used_idx;
}

bool vduse_vq_is_packed(VduseVq *vq)
{
    return vq->packed;
}

uint32_t vduse_vq_size(VduseVq *vq)
{
    return vq->started ? vq->num : 0;
}

void vduse_vq_restart_from_used(VduseVq *vq)
{
    g_return_if_fail(vq->started && vq->pending_used == 0);
    if (vq->packed) {
        vq_packed_restart_from_used(vq);
        return;
    }
    vq->last_avail = vq->used_idx;
}
