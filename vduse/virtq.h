/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtq.h - memory translation (IOTLB) and the virtqueue engines (split and
 * packed)
 *
 * Part of libvduse's public interface; include "vduse.h", not this file.
 * Nothing here knows about VDUSE file descriptors or networking: the IOTLB
 * is filled either by the VDUSE device layer (VDUSE_IOTLB_GET_FD2 + mmap) or
 * by tests (memfd regions), and the virtqueue engine only asks it to
 * translate.
 */
#ifndef VDUSE_NET_VIRTQ_H
#define VDUSE_NET_VIRTQ_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/* Access a translation asks for; a region grants a subset of these. */
#define VDUSE_IOTLB_READ 0x1  /* device reads: driver's out buffers, rings */
#define VDUSE_IOTLB_WRITE 0x2 /* device writes: driver's in buffers, used */

typedef struct VduseIotlb VduseIotlb;

/**
 * VduseIotlbMissFn - fill the cache for an IOVA nobody mapped yet
 * @opaque:	the pointer given to vduse_iotlb_new()
 * @iotlb:	the IOTLB to fill with vduse_iotlb_map_fd()
 * @asid:	address space of the missing IOVA
 * @iova:	the first missing byte
 *
 * Called with no lock held, possibly from several threads at once (each
 * maps what it finds with vduse_iotlb_map_fd(); an overlapping second
 * insert is refused and harmless). Return: 0 if a region covering @iova
 * was added, negative errno if none exists (the translation then fails
 * with -EFAULT).
 */
typedef int (*VduseIotlbMissFn)(void *opaque, VduseIotlb *iotlb, uint32_t asid,
                                uint64_t iova);

/**
 * vduse_iotlb_new() - create an empty IOTLB with @nas address spaces
 * @nas:	number of address spaces (ASIDs 0..nas-1), 1 to 64
 * @miss:	called on a miss to add a region, or NULL (tests)
 * @opaque:	passed to @miss
 *
 * Return: the IOTLB, owned by the caller (vduse_iotlb_free()).
 */
VduseIotlb *vduse_iotlb_new(uint32_t nas, VduseIotlbMissFn miss, void *opaque);

/* vduse_iotlb_free() - unmap every region and free @iotlb (NULL is fine). */
void vduse_iotlb_free(VduseIotlb *iotlb);

/**
 * vduse_iotlb_map_fd() - map [start, last] of @asid from @fd at @offset
 * @iotlb:	the IOTLB
 * @asid:	address space
 * @start:	first IOVA of the region
 * @last:	last IOVA of the region (inclusive)
 * @perm:	VDUSE_IOTLB_READ and/or VDUSE_IOTLB_WRITE
 * @fd:		file to mmap; the IOTLB does not keep or close it
 * @offset:	mmap offset of @start in @fd
 *
 * Return: 0, or negative errno (-EINVAL for a bad asid or a region that
 * overlaps one already mapped in @asid, -errno from mmap).
 */
int vduse_iotlb_map_fd(VduseIotlb *iotlb, uint32_t asid, uint64_t start,
                       uint64_t last, uint8_t perm, int fd, uint64_t offset);

/**
 * vduse_iotlb_invalidate() - unmap every region of @asid overlapping a range
 * @iotlb:	the IOTLB
 * @asid:	address space
 * @start:	first IOVA of the range
 * @last:	last IOVA of the range (inclusive); UINT64_MAX for all
 *
 * Users of earlier translations must be quiesced by the caller first.
 */
void vduse_iotlb_invalidate(VduseIotlb *iotlb, uint32_t asid, uint64_t start,
                            uint64_t last);

/* vduse_iotlb_invalidate_all() - unmap every region of every ASID. */
void vduse_iotlb_invalidate_all(VduseIotlb *iotlb);

/**
 * vduse_iotlb_translate() - translate a guest buffer into host iovecs
 * @iotlb:	the IOTLB
 * @asid:	address space the buffer lives in
 * @iova:	first IOVA of the buffer
 * @len:	length in bytes (0 gives 0 iovecs)
 * @access:	VDUSE_IOTLB_READ and/or VDUSE_IOTLB_WRITE
 * @iov:	where to put the iovecs
 * @max_iov:	room in @iov
 *
 * A buffer may span several regions and so several iovecs.
 * Return: the number of iovecs used, or -EFAULT (unmapped or wrapping),
 * -EACCES (a region lacks @access), -ENOBUFS (more than @max_iov needed),
 * -EINVAL (bad asid).
 */
int vduse_iotlb_translate(VduseIotlb *iotlb, uint32_t asid, uint64_t iova,
                          uint64_t len, uint8_t access, struct iovec *iov,
                          unsigned int max_iov);

/**
 * vduse_iotlb_ptr() - translate a buffer that must be host-contiguous
 * @iotlb:	the IOTLB
 * @asid:	address space
 * @iova:	first IOVA
 * @len:	length in bytes, at least 1
 * @access:	VDUSE_IOTLB_READ and/or VDUSE_IOTLB_WRITE
 *
 * Used for the rings and indirect tables, which the engine reads in place.
 * Return: the host address, or NULL if [iova, iova+len) is not mapped in one
 * region with @access.
 */
void *vduse_iotlb_ptr(VduseIotlb *iotlb, uint32_t asid, uint64_t iova,
                      uint64_t len, uint8_t access);

/* vduse_iotlb_generation() - a counter bumped by every invalidation. */
uint64_t vduse_iotlb_generation(VduseIotlb *iotlb);

/**
 * struct VduseIotlbCache - the region one thread last translated through
 * @valid:	the members below mean something
 * @generation:	the IOTLB's generation when it was filled
 * @asid:	its address space
 * @start:	first IOVA of the region
 * @last:	last IOVA of the region
 * @perm:	what the region grants
 * @host:	host address of @start
 *
 * Owned by one thread (a virtqueue's), zeroed to start empty. A hit costs
 * no lock: guest memory is a few large regions, so nearly every buffer
 * hits. Any invalidation empties every cache (the generation moves), and
 * the device layer quiesces a cache's thread before it unmaps what that
 * thread may use, as for any host address handed out.
 */
typedef struct VduseIotlbCache {
    bool valid;
    uint64_t generation;
    uint32_t asid;
    uint64_t start;
    uint64_t last;
    uint8_t perm;
    uint8_t *host;
} VduseIotlbCache;

/**
 * vduse_iotlb_translate_cached() - vduse_iotlb_translate() through @cache
 * @iotlb:	the IOTLB
 * @cache:	the calling thread's cache; refilled on a miss
 *
 * Other arguments and return value as vduse_iotlb_translate().
 */
int vduse_iotlb_translate_cached(VduseIotlb *iotlb, VduseIotlbCache *cache,
                                 uint32_t asid, uint64_t iova, uint64_t len,
                                 uint8_t access, struct iovec *iov,
                                 unsigned int max_iov);

/*
 * The most segments one descriptor chain may translate to; a longer chain
 * fails its queue. Linux's virtio-net uses at most MAX_SKB_FRAGS + 2.
 */
#define VDUSE_VQ_MAX_IOV 1024

/**
 * struct VduseVqElem - one descriptor chain popped from a virtqueue
 * @id:		head descriptor index (split) or buffer id (packed), to hand
 *		back with vduse_vq_push()
 * @out_num:	device-readable segments, at iov[0 .. out_num)
 * @in_num:	device-writable segments, at iov[out_num .. out_num+in_num)
 * @out_len:	total bytes of the readable segments
 * @in_len:	total bytes of the writable segments
 * @in_cut:	the chain goes on past @in_len, not mapped
 *		(vduse_vq_pop_prefix(); vduse_vq_map_whole() maps it all)
 * @iov:	the segments, host addresses
 *
 * Callers keep these in per-queue storage set up once; nothing is allocated
 * per chain.
 */
typedef struct VduseVqElem {
    uint16_t id;
    unsigned int out_num;
    unsigned int in_num;
    size_t out_len;
    size_t in_len;
    bool in_cut;
    struct iovec iov[VDUSE_VQ_MAX_IOV];
} VduseVqElem;

typedef struct VduseVq VduseVq;

/**
 * vduse_vq_new() - create a virtqueue, not yet started
 * @index:	the queue's index on its device (for log lines)
 * @iotlb:	where its memory comes from; not owned
 *
 * Return: the queue, owned by the caller (vduse_vq_free()).
 */
VduseVq *vduse_vq_new(uint32_t index, VduseIotlb *iotlb);

/* vduse_vq_free() - free @vq (NULL is fine). */
void vduse_vq_free(VduseVq *vq);

/**
 * vduse_vq_start() - start serving a split virtqueue the driver set up
 * @vq:		the queue
 * @asid:	address space of the queue's group
 * @num:	queue size, a power of two from 1 to 32768
 * @desc:	IOVA of the descriptor table
 * @driver:	IOVA of the available ring
 * @device:	IOVA of the used ring
 * @last_avail:	the first available index to consume
 * @event_idx:	whether VIRTIO_RING_F_EVENT_IDX was negotiated
 * @error:	set on failure
 *
 * Checks that the three areas are mapped with the right access. The used
 * index starts from what the used ring holds.
 * Return: true, or false with @error set in the G_IO_ERROR domain
 * (INVALID_ARGUMENT); the queue stays stopped.
 */
bool vduse_vq_start(VduseVq *vq, uint32_t asid, uint32_t num, uint64_t desc,
                    uint64_t driver, uint64_t device, uint16_t last_avail,
                    bool event_idx, GError **error);

/**
 * vduse_vq_start_packed() - start serving a packed virtqueue (virtio 1.2 2.8)
 * @vq:		the queue
 * @asid:	address space of the queue's group
 * @num:	queue size, 1 to 32768 (a power of two or not)
 * @desc:	IOVA of the descriptor ring
 * @driver:	IOVA of the driver event suppression area
 * @device:	IOVA of the device event suppression area
 * @avail_state: the first descriptor to consume, its ring index with the
 *		available wrap counter in bit 15 (vhost's VRING_BASE layout)
 * @used_state:	where the next used descriptor goes, its ring index with the
 *		used wrap counter in bit 15
 * @event_idx:	whether VIRTIO_RING_F_EVENT_IDX was negotiated
 * @error:	set on failure
 *
 * The ring must be mapped readable and writable (the device writes used
 * descriptors into it), the device area writable. Nothing is in flight
 * between the two positions afterwards: a @used_state behind @avail_state
 * means chains someone else took; vduse_vq_restart_from_used() serves
 * them again.
 * Return: true, or false with @error set (INVALID_ARGUMENT); the queue
 * stays stopped.
 */
bool vduse_vq_start_packed(VduseVq *vq, uint32_t asid, uint32_t num,
                           uint64_t desc, uint64_t driver, uint64_t device,
                           uint16_t avail_state, uint16_t used_state,
                           bool event_idx, GError **error);

/* vduse_vq_is_packed() - whether @vq was last started packed. */
bool vduse_vq_is_packed(VduseVq *vq);

/* vduse_vq_stop() - stop serving @vq; pops fail until the next start. */
void vduse_vq_stop(VduseVq *vq);

/* vduse_vq_set_asid() - translate @vq's rings and buffers through @asid. */
void vduse_vq_set_asid(VduseVq *vq, uint32_t asid);

/**
 * vduse_vq_pop() - take the next available descriptor chain
 * @vq:		a started queue
 * @elem:	filled with the chain's segments
 *
 * Return: 1 if a chain was taken, 0 if none is available, -EIO if the
 * driver broke the queue (logged once; the queue stays failed until it is
 * started again), -ENODEV if the queue is stopped.
 */
int vduse_vq_pop(VduseVq *vq, VduseVqElem *elem);

/**
 * vduse_vq_pop_prefix() - vduse_vq_pop(), mapping the chain's writable
 * buffers only until they hold @in_max bytes
 * @vq:		a started queue
 * @elem:	filled with the chain's first segments; @elem->in_cut says
 *		whether descriptors were left unread
 * @in_max:	writable bytes wanted
 *
 * For a device that fills a chain from its start and rarely needs all of
 * it (RX of small frames into Linux's 17-descriptor "big packets" chains):
 * the descriptors past the prefix are neither read nor translated. Split
 * rings only; a packed queue maps the whole chain (its slots may be
 * overwritten by used entries before the chain is read again).
 * Return: as vduse_vq_pop().
 */
int vduse_vq_pop_prefix(VduseVq *vq, VduseVqElem *elem, size_t in_max);

/**
 * vduse_vq_map_whole() - map all of a chain vduse_vq_pop_prefix() cut
 * @vq:		the split queue it was popped from, not pushed yet
 * @elem:	filled with the whole chain whose head is @elem->id
 * @prefix:	the writable segments the cut pop gave (the caller's copy)
 * @n:		how many
 *
 * The chain must still begin with @prefix, so that what the caller wrote
 * there stays in place.
 * Return: 0, or -EIO if the queue failed (a driver that changed the chain
 * while the device held it fails it too).
 */
int vduse_vq_map_whole(VduseVq *vq, VduseVqElem *elem,
                       const struct iovec *prefix, unsigned int n);

/* vduse_vq_unpop() - give the last @n popped, not pushed, chains back. */
void vduse_vq_unpop(VduseVq *vq, unsigned int n);

/**
 * vduse_vq_push() - queue a used element for @id with @written bytes
 *
 * Nothing is visible to the driver until vduse_vq_flush(). If the used
 * ring is no longer mapped (the IOTLB changed since the pop), the queue
 * fails and the element is dropped.
 */
void vduse_vq_push(VduseVq *vq, uint16_t id, uint32_t written);

/**
 * vduse_vq_flush() - publish every pushed element to the driver
 *
 * Return: true if the driver asked to be interrupted for them (event index
 * or VRING_AVAIL_F_NO_INTERRUPT), so the caller injects one interrupt.
 */
bool vduse_vq_flush(VduseVq *vq);

/**
 * vduse_vq_enable_notify() - ask for (or suppress) kicks from the driver
 * @vq:		a started queue
 * @enable:	true to ask for a kick on new buffers
 *
 * Return: with @enable, true if buffers arrived meanwhile (so the caller
 * polls once more instead of sleeping); false otherwise.
 */
bool vduse_vq_enable_notify(VduseVq *vq, bool enable);

/* vduse_vq_avail_pending() - chains available and not yet popped. */
unsigned int vduse_vq_avail_pending(VduseVq *vq);

/*
 * vduse_vq_last_avail() - the next available index to consume; packed: its
 * ring index with the available wrap counter in bit 15.
 */
uint16_t vduse_vq_last_avail(VduseVq *vq);

/*
 * vduse_vq_used_idx() - the used index as last published to the driver;
 * packed: the ring index of the next used descriptor with the used wrap
 * counter in bit 15.
 */
uint16_t vduse_vq_used_idx(VduseVq *vq);

/* vduse_vq_size() - the queue size, or 0 if @vq is stopped. */
uint32_t vduse_vq_size(VduseVq *vq);

/**
 * vduse_vq_restart_from_used() - consume again from the used index
 * @vq:		a started queue with nothing pushed and not flushed
 *
 * For an in-order device taking over a queue from a process that died: the
 * chains between the used and the available index were popped by it but
 * never completed, so they are served again (a TX frame may be sent
 * twice; none is lost).
 */
void vduse_vq_restart_from_used(VduseVq *vq);

/**
 * struct VduseVqUsedLog - a packed queue's used position, kept outside it
 * @from:	the used position before the last flush (ring index, wrap
 *		counter in bit 15)
 * @to:		the used position after it
 *
 * A packed ring does not say where the device writes its next used
 * descriptor; a process taking a queue over from one that died reads it
 * from here (vduse_vq_restore_used()). Meant to live in a shared file
 * mapping, which outlives the process.
 */
typedef struct VduseVqUsedLog {
    uint16_t from;
    uint16_t to;
} VduseVqUsedLog;

/**
 * vduse_vq_set_used_log() - record @vq's used position in @log from now on
 * @vq:		the queue
 * @log:	where, or NULL to stop
 *
 * A started packed queue writes its position at once; a split queue never
 * writes (its used index is in the ring).
 */
void vduse_vq_set_used_log(VduseVq *vq, VduseVqUsedLog *log);

/**
 * vduse_vq_restore_used() - take the used position from @log
 * @vq:		a started packed queue, nothing pushed
 * @log:	what the dead process's flushes recorded
 *
 * The last flush's batch counts if its first used descriptor reached the
 * ring. Then, as vduse_vq_restart_from_used(), what lies between the used
 * and the available position is served again.
 * Return: false if @log cannot belong to this queue (logged; nothing
 * changed).
 */
bool vduse_vq_restore_used(VduseVq *vq, const VduseVqUsedLog *log);

/* vduse_vq_is_failed() - whether the driver broke @vq since it started. */
bool vduse_vq_is_failed(VduseVq *vq);

#endif /* VDUSE_NET_VIRTQ_H */
