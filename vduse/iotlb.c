/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iotlb.c - IOVA to host address translation, one table per address space
 *
 * DOC: Theory of operation
 *
 * The driver's memory reaches us as regions: [start, last] of an address
 * space (ASID) backed by a file we mmap. For a VDUSE device the kernel hands
 * out the file with VDUSE_IOTLB_GET_FD2 when we first touch an IOVA (the miss
 * callback) and tells us with UPDATE_IOTLB when a range goes away; tests map
 * memfds directly.
 *
 * Each ASID keeps its regions in an array sorted by start, without overlaps,
 * so a lookup is a binary search. Dataplane threads translate under the read
 * side of a reader/writer lock; adding a region or an invalidation takes
 * the write side, a miss only for the insert (the kernel call and the mmap
 * happen unlocked). Host addresses handed out stay valid until the range is
 * invalidated: the device layer quiesces every user before it invalidates.
 * Each virtqueue keeps the last region it used (VduseIotlbCache) and
 * translates through it without the lock while no invalidation happened
 * since.
 */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "virtq.h"

/* The most regions one translation may fetch through the miss callback. */
#define IOTLB_MAX_MISSES 64

/**
 * struct IotlbRegion - one mapped range of an address space
 * @start:	first IOVA
 * @last:	last IOVA (inclusive)
 * @perm:	VDUSE_IOTLB_READ and/or VDUSE_IOTLB_WRITE
 * @host:	host address of @start
 * @map_base:	what mmap() returned (page aligned, at or below @host)
 * @map_len:	length of the mapping at @map_base
 */
typedef struct IotlbRegion {
    uint64_t start;
    uint64_t last;
    uint8_t perm;
    uint8_t *host;
    void *map_base;
    size_t map_len;
} IotlbRegion;

/**
 * struct VduseIotlb - the translation tables of every address space
 * @nas:	number of address spaces
 * @spaces:	per ASID, a GArray of IotlbRegion sorted by start
 * @lock:	read side for lookups, write side for changes
 * @miss:	fills a missing IOVA, or NULL
 * @opaque:	passed to @miss
 * @generation:	bumped by every invalidation (atomic)
 */
struct VduseIotlb {
    uint32_t nas;
    GArray **spaces;
    GRWLock lock;
    VduseIotlbMissFn miss;
    void *opaque;
    uint64_t generation;
};

/**
 * region_unmap() - release the mapping behind @r
 * @r:		the region
 */
static void region_unmap(IotlbRegion *r)
{
    if (munmap(r->map_base, r->map_len) < 0) {
        g_message("iotlb: munmap of [0x%" G_GINT64_MODIFIER
                  "x, 0x%" G_GINT64_MODIFIER "x] failed: %s",
                  r->start, r->last, g_strerror(errno));
    }
}

VduseIotlb *vduse_iotlb_new(uint32_t nas, VduseIotlbMissFn miss, void *opaque)
{
    VduseIotlb *iotlb;

    g_return_val_if_fail(nas >= 1 && nas <= 64, NULL);
    iotlb = g_new0(VduseIotlb, 1);
    iotlb->nas = nas;
    iotlb->spaces = g_new0(GArray *, nas);
    for (uint32_t i = 0; i < nas; i++) {
        iotlb->spaces[i] = g_array_new(FALSE, FALSE, sizeof(IotlbRegion));
    }
    g_rw_lock_init(&iotlb->lock);
    iotlb->miss = miss;
    iotlb->opaque = opaque;
    return iotlb;
}

void vduse_iotlb_free(VduseIotlb *iotlb)
{
    if (!iotlb) {
        return;
    }
    vduse_iotlb_invalidate_all(iotlb);
    for (uint32_t i = 0; i < iotlb->nas; i++) {
        g_array_unref(iotlb->spaces[i]);
    }
    g_free(iotlb->spaces);
    g_rw_lock_clear(&iotlb->lock);
    g_free(iotlb);
}

/**
 * space_find() - the index of the first region whose last IOVA is >= @iova
 * @space:	regions of one ASID, sorted
 * @iova:	the address looked for
 *
 * Return: an index in [0, space->len]; the region there contains @iova only
 * if its start is <= @iova.
 */
static guint space_find(GArray *space, uint64_t iova)
{
    guint lo = 0, hi = space->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;

        if (g_array_index(space, IotlbRegion, mid).last < iova) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/**
 * space_lookup() - the region of @space containing @iova
 * @space:	regions of one ASID
 * @iova:	the address
 *
 * Return: the region, or NULL if @iova is not mapped.
 */
static IotlbRegion *space_lookup(GArray *space, uint64_t iova)
{
    guint i = space_find(space, iova);
    IotlbRegion *r;

    if (i >= space->len) {
        return NULL;
    }
    r = &g_array_index(space, IotlbRegion, i);
    return r->start <= iova ? r : NULL;
}

/**
 * iotlb_map_locked() - add a region; the caller holds the write side
 * @iotlb:	the IOTLB
 * @asid:	address space
 * @start:	first IOVA
 * @last:	last IOVA (inclusive)
 * @perm:	access the region grants
 * @fd:		file to map
 * @offset:	offset of @start in @fd
 *
 * Return: 0 or negative errno.
 */
/**
 * iotlb_insert_locked() - add a mapped region; the caller holds the write
 * side
 * @iotlb:	the IOTLB
 * @asid:	address space, checked
 * @r:		the region
 *
 * Return: 0, or -EINVAL if it overlaps a region of @asid.
 */
static int iotlb_insert_locked(VduseIotlb *iotlb, uint32_t asid,
                               const IotlbRegion *r)
{
    GArray *space = iotlb->spaces[asid];
    guint i = space_find(space, r->start);

    if (i < space->len &&
        g_array_index(space, IotlbRegion, i).start <= r->last) {
        return -EINVAL;
    }
    g_array_insert_val(space, i, *r);
    return 0;
}

int vduse_iotlb_map_fd(VduseIotlb *iotlb, uint32_t asid, uint64_t start,
                       uint64_t last, uint8_t perm, int fd, uint64_t offset)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t skew = offset % (uint64_t)page;
    uint64_t len = last - start + 1;
    IotlbRegion r;
    int prot, ret;

    if (asid >= iotlb->nas || last < start || len == 0 ||
        len > SIZE_MAX - skew ||
        !(perm & (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE))) {
        return -EINVAL;
    }
    /* mmap() outside the lock: the other threads go on translating. A
     * file cannot be mapped write-only; the access check is ours. */
    prot = PROT_READ | ((perm & VDUSE_IOTLB_WRITE) ? PROT_WRITE : 0);
    r.map_len = len + skew;
    r.map_base =
        mmap(NULL, r.map_len, prot, MAP_SHARED, fd, (off_t)(offset - skew));
    if (r.map_base == MAP_FAILED) {
        return -errno;
    }
    r.start = start;
    r.last = last;
    r.perm = perm;
    r.host = (uint8_t *)r.map_base + skew;
    g_rw_lock_writer_lock(&iotlb->lock);
    ret = iotlb_insert_locked(iotlb, asid, &r);
    g_rw_lock_writer_unlock(&iotlb->lock);
    if (ret < 0) {
        region_unmap(&r);
    }
    return ret;
}

void vduse_iotlb_invalidate(VduseIotlb *iotlb, uint32_t asid, uint64_t start,
                            uint64_t last)
{
    GArray *space;
    guint first, i;

    if (asid >= iotlb->nas || last < start) {
        return;
    }
    g_rw_lock_writer_lock(&iotlb->lock);
    space = iotlb->spaces[asid];
    first = space_find(space, start);
    for (i = first; i < space->len; i++) {
        IotlbRegion *r = &g_array_index(space, IotlbRegion, i);

        if (r->start > last) {
            break;
        }
        region_unmap(r);
    }
    if (i > first) {
        g_array_remove_range(space, first, i - first);
    }
    __atomic_add_fetch(&iotlb->generation, 1, __ATOMIC_RELEASE);
    g_rw_lock_writer_unlock(&iotlb->lock);
}

void vduse_iotlb_invalidate_all(VduseIotlb *iotlb)
{
    for (uint32_t asid = 0; asid < iotlb->nas; asid++) {
        vduse_iotlb_invalidate(iotlb, asid, 0, UINT64_MAX);
    }
}

/**
 * iotlb_fill() - ask the miss callback for the region holding @iova
 * @iotlb:	the IOTLB
 * @asid:	address space
 * @iova:	the missing address
 *
 * Return: true if a region now contains @iova.
 */
static bool iotlb_fill(VduseIotlb *iotlb, uint32_t asid, uint64_t iova)
{
    bool found;

    if (!iotlb->miss) {
        return false;
    }
    /* No lock across the callback (an ioctl and an mmap): translations of
     * other threads go on. Two threads missing the same region both ask;
     * the second insert overlaps and is dropped, and the lookup below
     * finds the first. */
    iotlb->miss(iotlb->opaque, iotlb, asid, iova);
    g_rw_lock_reader_lock(&iotlb->lock);
    found = space_lookup(iotlb->spaces[asid], iova) != NULL;
    g_rw_lock_reader_unlock(&iotlb->lock);
    return found;
}

/**
 * iotlb_translate_locked() - translate with the read side held
 * @iotlb:	the IOTLB
 * @asid:	address space, already checked
 * @iova:	first IOVA
 * @len:	length, at least 1, not wrapping
 * @access:	access wanted
 * @iov:	output
 * @max_iov:	room in @iov
 * @missing:	set to the first unmapped IOVA on -EFAULT
 *
 * Return: number of iovecs, or negative errno as vduse_iotlb_translate().
 */
static int iotlb_translate_locked(VduseIotlb *iotlb, uint32_t asid,
                                  uint64_t iova, uint64_t len, uint8_t access,
                                  struct iovec *iov, unsigned int max_iov,
                                  uint64_t *missing)
{
    GArray *space = iotlb->spaces[asid];
    unsigned int n = 0;

    while (len > 0) {
        IotlbRegion *r = space_lookup(space, iova);
        uint64_t chunk;

        if (!r) {
            *missing = iova;
            return -EFAULT;
        }
        if ((r->perm & access) != access) {
            return -EACCES;
        }
        /* r->last - iova + 1 cannot overflow unless the region is 2^64. */
        chunk = r->last - iova;
        chunk = chunk >= len - 1 ? len : chunk + 1;
        if (n > 0 && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len ==
                         r->host + (iova - r->start)) {
            iov[n - 1].iov_len += chunk;
        } else {
            if (n == max_iov) {
                return -ENOBUFS;
            }
            iov[n].iov_base = r->host + (iova - r->start);
            iov[n].iov_len = chunk;
            n++;
        }
        iova += chunk;
        len -= chunk;
    }
    return (int)n;
}

int vduse_iotlb_translate(VduseIotlb *iotlb, uint32_t asid, uint64_t iova,
                          uint64_t len, uint8_t access, struct iovec *iov,
                          unsigned int max_iov)
{
    if (asid >= iotlb->nas) {
        return -EINVAL;
    }
    if (len == 0) {
        return 0;
    }
    if (iova + (len - 1) < iova || len > SSIZE_MAX) {
        return -EFAULT;
    }
    for (unsigned int misses = 0;; misses++) {
        uint64_t missing = 0;
        int ret;

        g_rw_lock_reader_lock(&iotlb->lock);
        ret = iotlb_translate_locked(iotlb, asid, iova, len, access, iov,
                                     max_iov, &missing);
        g_rw_lock_reader_unlock(&iotlb->lock);
        if (ret != -EFAULT || misses == IOTLB_MAX_MISSES ||
            !iotlb_fill(iotlb, asid, missing)) {
            return ret;
        }
    }
}

void *vduse_iotlb_ptr(VduseIotlb *iotlb, uint32_t asid, uint64_t iova,
                      uint64_t len, uint8_t access)
{
    struct iovec iov;

    if (len == 0 ||
        vduse_iotlb_translate(iotlb, asid, iova, len, access, &iov, 1) != 1) {
        return NULL;
    }
    return iov.iov_base;
}

uint64_t vduse_iotlb_generation(VduseIotlb *iotlb)
{
    return __atomic_load_n(&iotlb->generation, __ATOMIC_ACQUIRE);
}

/**
 * cache_fill() - remember the region holding @iova in @cache
 * @iotlb:	the IOTLB
 * @cache:	the cache
 * @asid:	address space, checked
 * @iova:	an address just translated
 */
static void cache_fill(VduseIotlb *iotlb, VduseIotlbCache *cache, uint32_t asid,
                       uint64_t iova)
{
    IotlbRegion *r;

    g_rw_lock_reader_lock(&iotlb->lock);
    r = space_lookup(iotlb->spaces[asid], iova);
    cache->valid = r != NULL;
    if (r) {
        /* Read under the lock: the region and the generation agree. */
        cache->generation =
            __atomic_load_n(&iotlb->generation, __ATOMIC_RELAXED);
        cache->asid = asid;
        cache->start = r->start;
        cache->last = r->last;
        cache->perm = r->perm;
        cache->host = r->host;
    }
    g_rw_lock_reader_unlock(&iotlb->lock);
}

int vduse_iotlb_translate_cached(VduseIotlb *iotlb, VduseIotlbCache *cache,
                                 uint32_t asid, uint64_t iova, uint64_t len,
                                 uint8_t access, struct iovec *iov,
                                 unsigned int max_iov)
{
    int ret;

    if (cache->valid && cache->asid == asid && len > 0 && max_iov > 0 &&
        iova >= cache->start && iova <= cache->last &&
        len - 1 <= cache->last - iova && (cache->perm & access) == access &&
        cache->generation == vduse_iotlb_generation(iotlb)) {
        iov[0].iov_base = cache->host + (iova - cache->start);
        iov[0].iov_len = len;
        return 1;
    }
    ret = vduse_iotlb_translate(iotlb, asid, iova, len, access, iov, max_iov);
    if (ret > 0) {
        cache_fill(iotlb, cache, asid, iova);
    }
    return ret;
}
