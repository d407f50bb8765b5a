/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtq-packed.c - the packed virtqueue, served from the device side
 *
 * DOC: Theory of operation
 *
 * Layout and rules are those of virtio 1.2, section 2.8 (packed
 * virtqueues). One ring of descriptors is shared: the driver makes a
 * descriptor available by setting its AVAIL bit to its wrap counter and
 * its USED bit to the opposite; the device hands a buffer back by writing
 * one used descriptor (buffer id, length) over the first slot of what it
 * consumed and setting both bits to its own wrap counter. Each side's wrap
 * counter starts at 1 and flips whenever its position passes the ring's
 * end. A chain takes consecutive slots (NEXT set on all but the last, the
 * buffer id in the last) or one slot pointing at an indirect table; the
 * used position moves by the slots the chain took.
 *
 * What the split engine promises holds here too (virtq.c): every byte the
 * driver controls is read once, after an acquire load of the descriptor's
 * flags, into a local copy that alone is checked and used; every walk is
 * bounded by the queue size; a driver breaking a rule fails the queue with
 * one log line and the other queues go on. The rules checked:
 *  - a chain longer than the slots the device does not hold (a loop round
 *    the ring, or slots made available again that the device still holds);
 *  - a descriptor of a chain not available in its own lap (a wrap counter
 *    that lies: virtio 1.2 2.8 "Next Flag" wants the bits right in
 *    every descriptor);
 *  - an indirect descriptor inside a chain, with NEXT, of a bad size, more
 *    entries than the queue size, unmapped, or nested;
 *  - an unmapped or read-only buffer, readable after writable;
 *  - a buffer id out of range, or made available again while the device
 *    holds it.
 *
 * Used elements are written at flush time, in the order they were pushed:
 * every element's id and length first, then a release fence, the flags of
 * every element but the first, and last the first one's flags with a
 * release store, so the driver, which polls that slot, sees the whole batch
 * at once (2.8 "Multi-buffer requests").
 *
 * The position of the next used descriptor exists nowhere in the ring, so
 * a process taking over a queue from one that died cannot read it back as
 * it reads a split queue's used index. If a used log is attached (a small
 * shared file that survives the process), every flush first records the
 * position before and after its batch; vduse_vq_restore_used() then finds
 * out whether the batch became visible from the ring slot the batch began
 * with.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include "virtq-priv.h"

#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED (1u << VRING_PACKED_DESC_F_USED)
#define WRAP_SHIFT VRING_PACKED_EVENT_F_WRAP_CTR
#define POS_MASK ((1u << WRAP_SHIFT) - 1)

/**
 * desc_is_avail() - whether @flags make a descriptor available in a lap
 * @flags:	the descriptor's flags, host order
 * @wrap:	the wrap counter of the lap
 */
static inline bool desc_is_avail(uint16_t flags, bool wrap)
{
    return !!(flags & F_AVAIL) == wrap && !!(flags & F_USED) != wrap;
}

/* pos_advance() - move a ring position (@idx, @wrap) on by @n <= @num slots. */
static inline void pos_advance(uint32_t num, uint16_t *idx, bool *wrap,
                               uint32_t n)
{
    uint32_t i = *idx + n;

    if (i >= num) {
        i -= num;
        *wrap = !*wrap;
    }
    *idx = (uint16_t)i;
}

/* pos_retreat() - move a ring position (@idx, @wrap) back by @n <= @num. */
static inline void pos_retreat(uint32_t num, uint16_t *idx, bool *wrap,
                               uint32_t n)
{
    int64_t i = (int64_t)*idx - n;

    if (i < 0) {
        i += num;
        *wrap = !*wrap;
    }
    *idx = (uint16_t)i;
}

/*
 * pos_lin() - a position as a number in [0, 2 * num): two laps, the first
 * with wrap counter 1, so that distances are differences modulo 2 * num.
 */
static inline uint32_t pos_lin(uint32_t num, uint16_t idx, bool wrap)
{
    return wrap ? idx : idx + num;
}

/* pos_dist() - slots from position @from on to position @to, modulo 2 laps. */
static inline uint32_t pos_dist(uint32_t num, uint32_t from, uint32_t to)
{
    return (to + 2 * num - from) % (2 * num);
}

/* desc_flags() - a ring descriptor's flags, read with acquire order. */
static inline uint16_t desc_flags(VduseVq *vq, uint16_t idx)
{
    return le16toh(__atomic_load_n(&vq->ring[idx].flags, __ATOMIC_ACQUIRE));
}

/**
 * vq_packed_map_rings() - translate the ring and both event areas of @vq
 * @vq:		the queue, with its IOVAs and size set
 *
 * Return: NULL, or a static string naming the area that is not mapped
 * with the access it needs.
 */
const char *vq_packed_map_rings(VduseVq *vq)
{
    /* The device writes used descriptors into the ring. */
    vq->ring =
        vduse_iotlb_ptr(vq->iotlb, vq->asid, vq->desc_iova, 16ull * vq->num,
                        VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE);
    if (!vq->ring) {
        return "descriptor ring";
    }
    vq->driver_evt = vduse_iotlb_ptr(vq->iotlb, vq->asid, vq->avail_iova,
                                     sizeof(*vq->driver_evt), VDUSE_IOTLB_READ);
    if (!vq->driver_evt) {
        return "driver event suppression area";
    }
    vq->device_evt = vduse_iotlb_ptr(vq->iotlb, vq->asid, vq->used_iova,
                                     sizeof(*vq->device_evt),
                                     VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE);
    if (!vq->device_evt) {
        return "device event suppression area";
    }
    return NULL;
}

/**
 * vq_packed_free() - free the packed bookkeeping of @vq (none is fine)
 * @vq:		the queue
 */
void vq_packed_free(VduseVq *vq)
{
    g_clear_pointer(&vq->id_slots, g_free);
    g_clear_pointer(&vq->pending, g_free);
    g_clear_pointer(&vq->popped, g_free);
}

/* vq_packed_forget() - nothing held, nothing pushed. */
static void vq_packed_forget(VduseVq *vq)
{
    memset(vq->id_slots, 0, sizeof(*vq->id_slots) * vq->num);
    vq->held = 0;
    vq->pending_used = 0;
    vq->npopped = 0;
}

/**
 * vq_packed_start() - check the positions and set up the bookkeeping
 * @vq:		the queue, its rings mapped
 * @avail_state: the first descriptor to consume (index | wrap << 15)
 * @used_state:	where the next used descriptor goes (index | wrap << 15)
 * @error:	set on failure
 *
 * Allocates the per-id arrays here, once per start and never on the hot
 * path; their size is the queue size, which the kernel bounds by the
 * maximum the device declared (and this engine by 32768).
 * Return: true, or false with @error set (INVALID_ARGUMENT).
 */
bool vq_packed_start(VduseVq *vq, uint16_t avail_state, uint16_t used_state,
                     GError **error)
{
    uint16_t avail = avail_state & POS_MASK, used = used_state & POS_MASK;
    bool avail_wrap = avail_state >> WRAP_SHIFT;
    bool used_wrap = used_state >> WRAP_SHIFT;
    uint32_t ahead;

    if (avail >= vq->num || used >= vq->num) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "vq %u: packed state (available %u, used %u) out of "
                    "range (%u)",
                    vq->index, avail, used, vq->num);
        return false;
    }
    ahead = pos_dist(vq->num, pos_lin(vq->num, used, used_wrap),
                     pos_lin(vq->num, avail, avail_wrap));
    if (ahead > vq->num) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "vq %u: packed state: available position %u (wrap %u) "
                    "is %u slots past used position %u (wrap %u), more than "
                    "the queue size %u",
                    vq->index, avail, avail_wrap, ahead, used, used_wrap,
                    vq->num);
        return false;
    }
    vq_packed_free(vq);
    vq->id_slots = g_new0(uint32_t, vq->num);
    vq->pending = g_new0(VduseVqUsed, vq->num);
    vq->popped = g_new0(uint16_t, vq->num);
    vq_packed_forget(vq);
    vq->last_avail = avail;
    vq->avail_wrap = avail_wrap;
    vq->used_idx = used;
    vq->used_wrap = used_wrap;
    /* Slots between the two positions were taken by someone before us:
     * the driver cannot make them available again until they are used. */
    vq->held = ahead;
    return true;
}

/**
 * vq_packed_walk_indirect() - gather the buffers of an indirect table
 * @vq:		the queue
 * @elem:	the chain being built (empty)
 * @addr:	the table's IOVA, from the driver's descriptor (local copy)
 * @len:	the table's size in bytes
 *
 * Only WRITE is a valid flag in the table (2.8 "Indirect Flag"); NEXT and
 * the buffer ids are ignored, the entries are taken in order.
 *
 * Return: 0, or -EIO (the queue failed).
 */
static int vq_packed_walk_indirect(VduseVq *vq, VduseVqElem *elem,
                                   uint64_t addr, uint32_t len)
{
    const struct vring_packed_desc *table;
    bool writable_seen = false;
    uint32_t n;

    if (len == 0 || len % sizeof(*table)) {
        return vq_fail(vq, "indirect table of %u bytes", len);
    }
    n = len / sizeof(*table);
    if (n > vq->num) {
        return vq_fail(vq,
                       "indirect table of %u entries, more than the queue "
                       "size %u",
                       n, vq->num);
    }
    table = vq_ptr(vq, addr, len, VDUSE_IOTLB_READ);
    if (!table) {
        return vq_fail(vq,
                       "indirect table [0x%" G_GINT64_MODIFIER
                       "x, +%u] not mapped in ASID %u",
                       addr, len, vq->asid);
    }
    for (uint32_t i = 0; i < n; i++) {
        struct vring_packed_desc d;
        uint16_t flags;

        /* One read of the driver's entry; only the copy is used. */
        __builtin_memcpy(&d, (const void *)&table[i], sizeof(d));
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        flags = le16toh(d.flags);
        if (flags & VRING_DESC_F_INDIRECT) {
            return vq_fail(vq, "indirect table inside an indirect table");
        }
        if (vq_map_buf(vq, elem, le64toh(d.addr), le32toh(d.len),
                       flags & VRING_DESC_F_WRITE, &writable_seen) < 0) {
            return -EIO;
        }
    }
    return 0;
}

/**
 * vq_packed_pop() - vduse_vq_pop() for a started, healthy packed queue
 * @vq:		the queue
 * @elem:	filled with the chain
 *
 * Return: 1, 0 if nothing is available, -EIO (the queue failed).
 */
int vq_packed_pop(VduseVq *vq, VduseVqElem *elem)
{
    uint16_t idx = vq->last_avail, head = vq->last_avail, id = 0;
    bool wrap = vq->avail_wrap, writable_seen = false;
    uint32_t slots = 0;
    uint16_t flags;

    flags = desc_flags(vq, idx);
    if (!desc_is_avail(flags, wrap)) {
        return 0;
    }
    elem->out_num = elem->in_num = 0;
    elem->out_len = elem->in_len = 0;
    elem->in_cut = false;

    for (;;) {
        struct vring_packed_desc d;

        /* The walk stops at the slots the device holds: an honest chain
         * fits in the rest (2.8 "Scatter-Gather Support": no longer than
         * the queue, room made before the head is made available). */
        if (vq->held + slots >= vq->num) {
            if (vq->held == 0) {
                return vq_fail(vq,
                               "chain at %u loops round the ring or is "
                               "longer than the queue size %u",
                               head, vq->num);
            }
            return vq_fail(vq,
                           "chain at %u runs into the %u slots the device "
                           "still holds: the driver made them available "
                           "again",
                           head, vq->held);
        }
        if (slots > 0) {
            flags = desc_flags(vq, idx);
            if (!desc_is_avail(flags, wrap)) {
                return vq_fail(vq,
                               "descriptor %u of the chain at %u is not "
                               "available in its lap (flags 0x%04x, wrap "
                               "counter %u)",
                               idx, head, flags, wrap);
            }
        }
        /* One read of the rest, after the acquire of its flags. */
        __builtin_memcpy(&d, (const void *)&vq->ring[idx], sizeof(d));
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        slots++;
        pos_advance(vq->num, &idx, &wrap, 1);

        if (flags & VRING_DESC_F_INDIRECT) {
            if (slots > 1) {
                return vq_fail(vq,
                               "indirect descriptor inside the chain "
                               "at %u",
                               head);
            }
            if (flags & VRING_DESC_F_NEXT) {
                return vq_fail(vq, "indirect descriptor with NEXT set");
            }
            if (vq_packed_walk_indirect(vq, elem, le64toh(d.addr),
                                        le32toh(d.len)) < 0) {
                return -EIO;
            }
            id = le16toh(d.id);
            break;
        }
        if (vq_map_buf(vq, elem, le64toh(d.addr), le32toh(d.len),
                       flags & VRING_DESC_F_WRITE, &writable_seen) < 0) {
            return -EIO;
        }
        if (!(flags & VRING_DESC_F_NEXT)) {
            /* The buffer id is in the last descriptor (2.8 "Next Flag"). */
            id = le16toh(d.id);
            break;
        }
    }
    if (id >= vq->num) {
        return vq_fail(vq, "buffer id %u of the chain at %u out of range (%u)",
                       id, head, vq->num);
    }
    if (vq->id_slots[id]) {
        return vq_fail(vq,
                       "buffer id %u made available again at %u while the "
                       "device holds it",
                       id, head);
    }
    vq->id_slots[id] = slots;
    vq->popped[vq->npopped] = id;
    vq->npopped = vq->npopped + 1 == vq->num ? 0 : vq->npopped + 1;
    vq->held += slots;
    vq->last_avail = idx;
    vq->avail_wrap = wrap;
    elem->id = id;
    return 1;
}

/**
 * vq_packed_unpop() - give back the last @n chains popped and not pushed
 * @vq:		the queue
 * @n:		how many
 */
void vq_packed_unpop(VduseVq *vq, unsigned int n)
{
    while (n-- > 0) {
        uint32_t prev = vq->npopped ? vq->npopped - 1 : vq->num - 1;
        uint16_t id = vq->popped[prev];
        uint32_t slots = vq->id_slots[id];

        /* Only what is held and not pushed can be given back. */
        g_return_if_fail(slots != 0 && !(slots & VQ_ID_PUSHED));
        vq->npopped = prev;
        vq->id_slots[id] = 0;
        vq->held -= slots;
        pos_retreat(vq->num, &vq->last_avail, &vq->avail_wrap, slots);
    }
}

/**
 * vq_packed_push() - queue buffer @id as used with @written bytes
 * @vq:		a started, healthy queue
 * @id:		a buffer id the device holds and has not pushed
 * @written:	bytes the device wrote
 */
void vq_packed_push(VduseVq *vq, uint16_t id, uint32_t written)
{
    uint32_t slots = id < vq->num ? vq->id_slots[id] : 0;

    /* Only the caller can get here with an id it does not hold. */
    if (slots == 0 || (slots & VQ_ID_PUSHED)) {
        vq_fail(vq, "buffer id %u pushed, but the device does not hold it", id);
        return;
    }
    vq->id_slots[id] = slots | VQ_ID_PUSHED;
    vq->pending[vq->pending_used++] = (VduseVqUsed){
        .id = id,
        .len = written,
        .slots = slots,
    };
}

/**
 * vq_packed_need_event() - whether the driver asked to be interrupted for
 * the used descriptors just written at [@old, @new)
 * @vq:		the queue
 * @old:	the used position before the batch (pos_lin())
 * @new:	the used position after it (pos_lin())
 */
static bool vq_packed_need_event(VduseVq *vq, uint32_t old, uint32_t new)
{
    uint32_t evt =
        le32toh(__atomic_load_n((uint32_t *)vq->driver_evt, __ATOMIC_RELAXED));
    uint16_t off_wrap = evt & 0xffff, flags = (evt >> 16) & 3;
    uint16_t off = off_wrap & POS_MASK;

    switch (flags) {
    case VRING_PACKED_EVENT_FLAG_DISABLE:
        return false;
    case VRING_PACKED_EVENT_FLAG_DESC:
        /* Without EVENT_IDX, or an offset off the ring, the driver asked
         * for something it cannot have: an interrupt too many is safe. */
        if (!vq->event_idx || off >= vq->num) {
            return true;
        }
        return pos_dist(vq->num, old,
                        pos_lin(vq->num, off, off_wrap >> WRAP_SHIFT)) <
               pos_dist(vq->num, old, new);
    default: /* ENABLE, and the reserved 3 */
        return true;
    }
}

/**
 * vq_packed_flush() - write every pushed element as a used descriptor
 * @vq:		a started, healthy queue with something pushed
 *
 * Return: true if the driver asked for an interrupt for them.
 */
bool vq_packed_flush(VduseVq *vq)
{
    uint16_t idx = vq->used_idx, first = vq->used_idx;
    bool wrap = vq->used_wrap;
    uint16_t first_flags = 0;
    uint32_t old = pos_lin(vq->num, vq->used_idx, vq->used_wrap), new;

    /* Where the batch ends, for a successor if we die in the middle. */
    for (uint16_t i = 0; i < vq->pending_used; i++) {
        pos_advance(vq->num, &idx, &wrap, vq->pending[i].slots);
    }
    new = pos_lin(vq->num, idx, wrap);
    if (vq->used_log) {
        /* From first: a death between the two leaves (from, to) equal to
         * the previous batch's end, i.e. nothing of this one published,
         * which is true until the descriptors below are written. */
        __atomic_store_n(
            &vq->used_log->from,
            (uint16_t)(vq->used_idx | (uint16_t)vq->used_wrap << WRAP_SHIFT),
            __ATOMIC_RELAXED);
        __atomic_store_n(&vq->used_log->to,
                         (uint16_t)(idx | (uint16_t)wrap << WRAP_SHIFT),
                         __ATOMIC_RELEASE);
    }

    /* Ids and lengths first, in slots the device holds. */
    idx = vq->used_idx;
    wrap = vq->used_wrap;
    for (uint16_t i = 0; i < vq->pending_used; i++) {
        struct vring_packed_desc *d = &vq->ring[idx];

        __atomic_store_n(&d->id, htole16(vq->pending[i].id), __ATOMIC_RELAXED);
        __atomic_store_n(&d->len, htole32(vq->pending[i].len),
                         __ATOMIC_RELAXED);
        pos_advance(vq->num, &idx, &wrap, vq->pending[i].slots);
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);

    /* Then the flags: the first element's last, which the driver polls. */
    idx = vq->used_idx;
    wrap = vq->used_wrap;
    for (uint16_t i = 0; i < vq->pending_used; i++) {
        uint16_t flags = (wrap ? F_AVAIL | F_USED : 0) |
                         (vq->pending[i].len ? VRING_DESC_F_WRITE : 0);

        if (i == 0) {
            first_flags = flags;
        } else {
            __atomic_store_n(&vq->ring[idx].flags, htole16(flags),
                             __ATOMIC_RELAXED);
        }
        pos_advance(vq->num, &idx, &wrap, vq->pending[i].slots);
        vq->id_slots[vq->pending[i].id] = 0;
        vq->held -= vq->pending[i].slots;
    }
    __atomic_store_n(&vq->ring[first].flags, htole16(first_flags),
                     __ATOMIC_RELEASE);
    vq->used_idx = idx;
    vq->used_wrap = wrap;
    vq->pending_used = 0;

    /* Publish the descriptors before reading what the driver asked for. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return vq_packed_need_event(vq, old, new);
}

/**
 * vq_packed_enable_notify() - ask for kicks, or not, in the device area
 * @vq:		a started, healthy queue
 * @enable:	true to ask for a kick on new buffers
 *
 * Return: with @enable, whether a buffer is available already.
 */
bool vq_packed_enable_notify(VduseVq *vq, bool enable)
{
    uint16_t flags = VRING_PACKED_EVENT_FLAG_DISABLE, off_wrap = 0;

    if (enable && vq->event_idx) {
        /* A kick when the next descriptor we would consume is made
         * available. */
        flags = VRING_PACKED_EVENT_FLAG_DESC;
        off_wrap = vq->last_avail | (uint16_t)vq->avail_wrap << WRAP_SHIFT;
    } else if (enable) {
        flags = VRING_PACKED_EVENT_FLAG_ENABLE;
    }
    /* Offset and flags in one store: the driver reads them together. */
    __atomic_store_n((uint32_t *)vq->device_evt,
                     htole32(off_wrap | (uint32_t)flags << 16),
                     __ATOMIC_RELAXED);
    if (!enable) {
        return false;
    }
    /* Ask first, then look: a buffer added meanwhile is not missed. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return desc_is_avail(desc_flags(vq, vq->last_avail), vq->avail_wrap);
}

/**
 * vq_packed_avail_pending() - chains available and not popped yet
 * @vq:		a started, healthy queue
 *
 * Return: their number, counted by heads (a chain that turns out wrong
 * counts: the pop fails it).
 */
unsigned int vq_packed_avail_pending(VduseVq *vq)
{
    uint16_t idx = vq->last_avail;
    bool wrap = vq->avail_wrap;
    uint32_t slots = vq->held;
    unsigned int chains = 0;

    /* Heads only, following NEXT; a chain that turns out wrong is the
     * pop's to fail. Bounded by the slots the device does not hold. */
    while (slots < vq->num) {
        uint16_t flags = desc_flags(vq, idx);

        for (;;) {
            if (!desc_is_avail(flags, wrap)) {
                return chains;
            }
            slots++;
            pos_advance(vq->num, &idx, &wrap, 1);
            if (!(flags & VRING_DESC_F_NEXT) ||
                (flags & VRING_DESC_F_INDIRECT)) {
                break;
            }
            if (slots >= vq->num) {
                return chains;
            }
            flags = desc_flags(vq, idx);
        }
        chains++;
    }
    return chains;
}

/**
 * vq_packed_restart_from_used() - consume again from the used position,
 * holding nothing
 * @vq:		a started queue with nothing pushed
 */
void vq_packed_restart_from_used(VduseVq *vq)
{
    vq_packed_forget(vq);
    vq->last_avail = vq->used_idx;
    vq->avail_wrap = vq->used_wrap;
}

void vduse_vq_set_used_log(VduseVq *vq, VduseVqUsedLog *log)
{
    vq->used_log = log;
    if (log && vq->started && vq->packed) {
        uint16_t pos = vq->used_idx | (uint16_t)vq->used_wrap << WRAP_SHIFT;

        __atomic_store_n(&log->to, pos, __ATOMIC_RELAXED);
        __atomic_store_n(&log->from, pos, __ATOMIC_RELEASE);
    }
}

bool vduse_vq_restore_used(VduseVq *vq, const VduseVqUsedLog *log)
{
    uint16_t from = __atomic_load_n(&log->from, __ATOMIC_ACQUIRE);
    uint16_t to = __atomic_load_n(&log->to, __ATOMIC_RELAXED);
    uint16_t from_idx = from & POS_MASK, to_idx = to & POS_MASK;
    bool from_wrap = from >> WRAP_SHIFT, to_wrap = to >> WRAP_SHIFT;
    bool published;

    g_return_val_if_fail(vq->started && vq->packed && vq->pending_used == 0,
                         false);
    if (from_idx >= vq->num || to_idx >= vq->num ||
        pos_dist(vq->num, pos_lin(vq->num, from_idx, from_wrap),
                 pos_lin(vq->num, to_idx, to_wrap)) > vq->num) {
        g_message("vq %u: used log (0x%04x, 0x%04x) does not fit a queue of "
                  "%u",
                  vq->index, from, to, vq->num);
        return false;
    }
    if (vq_refresh(vq) < 0) {
        return false;
    }
    /* The batch's first slot still says "available in that lap" only if
     * its used flags never became visible: every other state (used, or
     * available again in the next lap) comes after them. */
    published =
        from == to || !desc_is_avail(desc_flags(vq, from_idx), from_wrap);
    vq->used_idx = published ? to_idx : from_idx;
    vq->used_wrap = published ? to_wrap : from_wrap;
    vq_packed_restart_from_used(vq);
    vduse_vq_set_used_log(vq, vq->used_log);
    return true;
}
