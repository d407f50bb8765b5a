/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-virtq.c - the virtqueue engines (split and packed) against a driver
 * the input writes
 *
 * Guest memory is two memfds (test-driver.c), one per address space,
 * mapped at the same IOVAs: GUEST_IOVA.. read-write for RW_SIZE bytes,
 * then read-only to the end, so that a mistranslation reads or writes the
 * wrong memory. The input starts with where the rings are, which ASID the
 * queue uses and its layout (bit 7 of the first byte: packed); then each op is
 * the driver writing descriptors, indirect tables, ring entries, indices or any
 * bytes, or the device popping, pushing, flushing, giving chains back, asking
 * for kicks, changing ASID, remapping, restarting. The device side keeps the
 * contracts of virtq.h (it pushes only what it popped, in order; changes ASID
 * and mappings only with nothing in flight), so whatever breaks is the
 * engine's.
 *
 * Checked: no crash, no GLib warning or critical; a popped chain's head
 * is in range, its segments within VDUSE_VQ_MAX_IOV and their lengths add
 * up, every segment can be read or written where it says; the chains in
 * flight after a pop never exceed the queue size; a flush publishes exactly the
 * used index the engine reports (packed: the used descriptor where the engine
 * says it wrote, with its wrap counter); a failed queue pops nothing. Work
 * per input is bounded: MAX_OPS ops, a queue of at most 256 entries.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "test-driver.h"

#define GUEST_IOVA 0x10000ull
#define MEM_SIZE (64 * 1024)
#define RW_SIZE (48 * 1024)
#define MAX_OPS 256
#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)

/**
 * struct Fuzz - one input's world
 * @mem:	guest memory of ASID 0 and of ASID 1
 * @iotlb:	the IOTLB, two address spaces
 * @vq:		the queue under test
 * @elem:	storage for a popped chain
 * @asid:	the queue's address space now
 * @num:	its size (0: not started)
 * @desc_off:	offset of the descriptor table in guest memory
 * @avail_off:	offset of the available ring
 * @used_off:	offset of the used ring
 * @packed:	the queue has the packed layout (desc_off: the ring, avail_off
 *		and used_off: the driver and device areas)
 * @held:	ids popped and not pushed, oldest first
 * @n_held:	how many
 * @remapped:	the mappings changed during this input
 */
typedef struct Fuzz {
    TestMem *mem[2];
    VduseIotlb *iotlb;
    VduseVq *vq;
    VduseVqElem *elem;
    uint32_t asid;
    uint32_t num;
    uint32_t desc_off;
    uint32_t avail_off;
    uint32_t used_off;
    bool packed;
    uint16_t held[256];
    unsigned int n_held;
    bool remapped;
} Fuzz;

/**
 * map_asid() - map guest memory @asid: RW then read-only
 * @f:		the world
 * @asid:	0 or 1
 * @ro:		map the read-write part read-only too
 */
static void map_asid(Fuzz *f, uint32_t asid, bool ro)
{
    fuzz_check(test_mem_map(f->mem[asid], f->iotlb, asid, GUEST_IOVA, 0,
                            RW_SIZE, ro ? VDUSE_IOTLB_READ : RW) == 0);
    fuzz_check(test_mem_map(f->mem[asid], f->iotlb, asid, GUEST_IOVA + RW_SIZE,
                            RW_SIZE, MEM_SIZE - RW_SIZE,
                            VDUSE_IOTLB_READ) == 0);
}

/**
 * world() - the memory and IOTLB, made once; zeroed for each input
 * Return: the world.
 */
static Fuzz *world(void)
{
    static Fuzz *f;

    if (!f) {
        fuzz_log_init();
        f = g_new0(Fuzz, 1);
        f->mem[0] = test_mem_new(MEM_SIZE);
        f->mem[1] = test_mem_new(MEM_SIZE);
        f->iotlb = vduse_iotlb_new(2, NULL, NULL);
        f->elem = g_new0(VduseVqElem, 1);
        map_asid(f, 0, false);
        map_asid(f, 1, false);
    }
    return f;
}

/**
 * start() - start the queue where the input says
 * @f:		the world
 * @in:		the input
 *
 * Return: true if the engine accepted the rings.
 */
static bool start(Fuzz *f, FuzzIn *in)
{
    uint8_t b = fuzz_u8(in);
    uint32_t num = 1u << (((b >> 2) & 31) % 9);
    uint16_t desc = fuzz_u16(in), avail = fuzz_u16(in), used = fuzz_u16(in);
    uint16_t last_avail = fuzz_u16(in);
    bool ok;

    f->asid = b & 1;
    f->n_held = 0;
    f->packed = b & 0x80;
    if (f->packed) {
        /* Both positions from the kernel's word, as after a reset. */
        ok = vduse_vq_start_packed(f->vq, f->asid, num, GUEST_IOVA + desc,
                                   GUEST_IOVA + avail, GUEST_IOVA + used,
                                   last_avail, last_avail, b & 2, NULL);
    } else {
        ok = vduse_vq_start(f->vq, f->asid, num, GUEST_IOVA + desc,
                            GUEST_IOVA + avail, GUEST_IOVA + used, last_avail,
                            b & 2, NULL);
    }
    f->num = ok ? num : 0;
    f->desc_off = desc;
    f->avail_off = avail;
    f->used_off = used;
    return ok;
}

/**
 * poke() - the driver writes @len bytes at offset @off of memory @m
 * @f:		the world
 * @m:		0 or 1
 * @off:	offset in guest memory; a write past its end is cut
 * @src:	the bytes
 * @len:	how many
 */
static void poke(Fuzz *f, unsigned int m, size_t off, const void *src,
                 size_t len)
{
    if (off >= MEM_SIZE) {
        return;
    }
    len = MIN(len, MEM_SIZE - off);
    memcpy(f->mem[m]->host + off, src, len);
}

/**
 * peek16() - read a little-endian u16 at offset @off of memory @m
 * Return: the value, or 0 past the end.
 */
static uint16_t peek16(Fuzz *f, unsigned int m, size_t off)
{
    uint16_t v = 0;

    if (off + 2 <= MEM_SIZE) {
        memcpy(&v, f->mem[m]->host + off, 2);
    }
    return le16toh(v);
}

/**
 * op_desc() - the driver writes one descriptor (ring or indirect table)
 * @f:		the world
 * @in:		the input
 */
static void op_desc(Fuzz *f, FuzzIn *in)
{
    uint8_t b = fuzz_u8(in);
    size_t off = (b & 16) ? fuzz_u16(in) : f->desc_off + 16u * fuzz_u8(in);
    uint64_t addr = (b & 2) ? fuzz_u64(in) : GUEST_IOVA + fuzz_u16(in);
    uint32_t len = (b & 4) ? fuzz_u32(in) : fuzz_u16(in);
    uint16_t flags = (b & 32) ? fuzz_u16(in) : fuzz_u8(in) & 7;
    uint16_t next = (b & 8) ? fuzz_u16(in) : fuzz_u8(in);
    struct vring_desc d = {
        .addr = htole64(addr),
        .len = htole32(len),
        .flags = htole16(flags),
        .next = htole16(next),
    };

    poke(f, b & 1, off, &d, sizeof(d));
}

/**
 * op_pdesc() - the driver writes one packed descriptor, its AVAIL/USED
 * bits for the lap the input says (or lying about it)
 * @f:		the world
 * @in:		the input
 */
static void op_pdesc(Fuzz *f, FuzzIn *in)
{
    uint8_t b = fuzz_u8(in);
    size_t off = (b & 16) ? fuzz_u16(in) : f->desc_off + 16u * fuzz_u8(in);
    uint64_t addr = (b & 2) ? fuzz_u64(in) : GUEST_IOVA + fuzz_u16(in);
    uint32_t len = (b & 4) ? fuzz_u32(in) : fuzz_u16(in);
    uint16_t id = (b & 8) ? fuzz_u16(in) : fuzz_u8(in);
    uint8_t fl = fuzz_u8(in);
    /* Bits 0-2: NEXT, WRITE, INDIRECT; bit 3: the wrap counter; bit 4:
     * USED equal to AVAIL (not available, or a used descriptor). */
    uint16_t flags = (uint16_t)((fl & 7) | ((fl & 8) ? 1u << 7 : 1u << 15));
    struct vring_packed_desc d;

    if (fl & 16) {
        flags ^= 1u << 15;
    }
    d = (struct vring_packed_desc){
        .addr = htole64(addr),
        .len = htole32(len),
        .id = htole16(id),
        .flags = htole16(flags),
    };
    poke(f, b & 1, off, &d, sizeof(d));
}

/**
 * op_avail() - the driver makes @head available after the avail index
 * @f:		the world
 * @in:		the input (which memory, the queue's avail ring or another
 *		offset, head)
 *
 * As test_ring_put_head(), but for rings wherever the input put them.
 */
static void op_avail(Fuzz *f, FuzzIn *in)
{
    uint8_t b = fuzz_u8(in);
    unsigned int m = (b & 1) ? !f->asid : f->asid;
    size_t avail = (b & 4) ? fuzz_u16(in) & ~1u : f->avail_off;
    uint16_t head = (b & 2) ? fuzz_u16(in) : fuzz_u8(in);
    uint32_t num = f->num ? f->num : 1;
    uint16_t idx = peek16(f, m, avail + 2);
    uint16_t le = htole16(head);

    poke(f, m, avail + 4 + 2 * (idx % num), &le, 2);
    le = htole16((uint16_t)(idx + 1));
    poke(f, m, avail + 2, &le, 2);
}

/**
 * op_poke() - the driver writes any bytes anywhere
 * @f:		the world
 * @in:		the input
 */
static void op_poke(Fuzz *f, FuzzIn *in)
{
    uint8_t b = fuzz_u8(in);
    uint16_t off = fuzz_u16(in);
    size_t got;
    const uint8_t *bytes = fuzz_bytes(in, fuzz_u8(in) % 33, &got);

    poke(f, b & 1, off, bytes, got);
}

/**
 * touch_elem() - read or write the first and last byte of every segment
 * @e:		a popped chain
 *
 * A segment pointing anywhere but mapped memory crashes here (ASan or a
 * fault); one the device may only read is mapped read-only and a write
 * would fault.
 */
static void touch_elem(const VduseVqElem *e)
{
    size_t out = 0, inl = 0;
    volatile uint8_t sink = 0;

    fuzz_check(e->out_num + e->in_num <= VDUSE_VQ_MAX_IOV);
    for (unsigned int i = 0; i < e->out_num + e->in_num; i++) {
        uint8_t *p = e->iov[i].iov_base;
        size_t len = e->iov[i].iov_len;

        fuzz_check(len > 0);
        if (i < e->out_num) {
            sink += p[0];
            sink += p[len - 1];
            out += len;
        } else {
            p[0] = 0xa5;
            p[len - 1] = 0x5a;
            inl += len;
        }
    }
    (void)sink;
    fuzz_check(out == e->out_len);
    fuzz_check(inl == e->in_len);
}

/**
 * in_flight() - slots (packed) or chains (split) between the used and the
 * available position the engine reports
 * @f:		a started world
 */
static uint32_t in_flight(Fuzz *f)
{
    uint16_t a = vduse_vq_last_avail(f->vq), u = vduse_vq_used_idx(f->vq);
    uint32_t la, lu;

    if (!f->packed) {
        return (uint16_t)(a - u);
    }
    fuzz_check((a & 0x7fff) < f->num && (u & 0x7fff) < f->num);
    /* Two laps numbered from the one with wrap counter 1. */
    la = (a & 0x7fff) + ((a & 0x8000) ? 0 : f->num);
    lu = (u & 0x7fff) + ((u & 0x8000) ? 0 : f->num);
    return (la + 2 * f->num - lu) % (2 * f->num);
}

/**
 * map_whole() - map the rest of a chain popped cut, and check it
 * @f:		the world, @f->elem holding the chain
 */
static void map_whole(Fuzz *f)
{
    static struct iovec prefix[VDUSE_VQ_MAX_IOV];
    unsigned int n = f->elem->in_num;
    size_t len = f->elem->in_len;

    if (!f->elem->in_cut) {
        return;
    }
    memcpy(prefix, &f->elem->iov[f->elem->out_num], n * sizeof(prefix[0]));
    if (vduse_vq_map_whole(f->vq, f->elem, prefix, n) < 0) {
        fuzz_check(vduse_vq_is_failed(f->vq));
        return;
    }
    fuzz_check(!f->elem->in_cut && f->elem->in_len >= len &&
               f->elem->in_num >= n);
}

/**
 * op_pop() - the device pops up to 8 chains, whole or their first bytes
 * (RX of small frames), the latter maybe mapped whole afterwards
 * @f:		the world
 * @in:		the input
 */
static void op_pop(Fuzz *f, FuzzIn *in)
{
    uint8_t b = fuzz_u8(in);
    unsigned int n = b % 8 + 1;
    size_t in_max = (b & 8) ? fuzz_u16(in) : SIZE_MAX;

    for (unsigned int i = 0; i < n; i++) {
        int ret = vduse_vq_pop_prefix(f->vq, f->elem, in_max);

        if (ret == 1) {
            fuzz_check(!f->elem->in_cut ||
                       (!f->packed && f->elem->in_len >= in_max));
            if (b & 16) {
                map_whole(f);
                if (vduse_vq_is_failed(f->vq)) {
                    return;
                }
            }
            fuzz_check(f->elem->id < f->num);
            fuzz_check(f->n_held < G_N_ELEMENTS(f->held));
            /* Popped and not published: never more than the ring holds
             * (a start may begin further apart, from the kernel's word). */
            fuzz_check(in_flight(f) <= f->num);
            touch_elem(f->elem);
            f->held[f->n_held++] = f->elem->id;
        } else if (ret < 0) {
            fuzz_check(ret == -EIO || ret == -ENODEV);
            fuzz_check(ret == -ENODEV || vduse_vq_is_failed(f->vq));
            return;
        } else if (ret == 0) {
            return;
        }
    }
}

/**
 * op_push() - the device hands back its oldest chains
 * @f:		the world
 * @in:		the input
 */
static void op_push(Fuzz *f, FuzzIn *in)
{
    unsigned int want = fuzz_u8(in) % 8 + 1u;
    unsigned int n = MIN(want, f->n_held);
    uint32_t written = fuzz_u16(in);

    for (unsigned int i = 0; i < n; i++) {
        vduse_vq_push(f->vq, f->held[i], written);
    }
    f->n_held -= n;
    memmove(f->held, f->held + n, f->n_held * sizeof(f->held[0]));
}

/**
 * flush() - publish, and check the used index is the one the engine says
 * @f:		the world
 */
static void flush(Fuzz *f)
{
    uint16_t before = vduse_vq_used_idx(f->vq);

    vduse_vq_flush(f->vq);
    /* Only a flush that published wrote the index: the driver may have
     * written over it otherwise (rings may overlap). */
    if (f->num && !vduse_vq_is_failed(f->vq) &&
        vduse_vq_used_idx(f->vq) != before && !f->packed) {
        fuzz_check(peek16(f, f->asid, f->used_off + 2) ==
                   vduse_vq_used_idx(f->vq));
    }
    /* Packed: the batch's first used descriptor is where the position
     * was, both bits its wrap counter (written last, so nothing of the
     * batch overlapping it can have changed it). */
    if (f->num && !vduse_vq_is_failed(f->vq) &&
        vduse_vq_used_idx(f->vq) != before && f->packed) {
        uint16_t flags =
            peek16(f, f->asid, f->desc_off + 16u * (before & 0x7fff) + 14);
        uint16_t want = (before & 0x8000) ? 0x8080 : 0;

        fuzz_check((flags & 0x8080) == want);
    }
}

/**
 * quiesce() - what the device layer does before changing memory or ASID:
 * every held chain pushed, everything published
 * @f:		the world
 */
static void quiesce(Fuzz *f)
{
    for (unsigned int i = 0; i < f->n_held; i++) {
        vduse_vq_push(f->vq, f->held[i], 0);
    }
    f->n_held = 0;
    flush(f);
}

/**
 * op_remap() - invalidate an address space and map it again, maybe
 * read-only
 * @f:		the world
 * @in:		the input
 */
static void op_remap(Fuzz *f, FuzzIn *in)
{
    uint8_t b = fuzz_u8(in);
    uint32_t asid = b & 1;

    quiesce(f);
    f->remapped = true;
    vduse_iotlb_invalidate(f->iotlb, asid, 0, UINT64_MAX);
    if (!(b & 4)) {
        map_asid(f, asid, b & 2);
    }
}

/**
 * check() - what must hold between any two ops
 * @f:		the world
 */
static void check(Fuzz *f)
{
    unsigned int pending = vduse_vq_avail_pending(f->vq);

    if (!f->num) {
        fuzz_check(pending == 0);
        return;
    }
    fuzz_check(pending <= f->num);
    fuzz_check(vduse_vq_size(f->vq) == f->num);
    if (vduse_vq_is_failed(f->vq)) {
        fuzz_check(vduse_vq_pop(f->vq, f->elem) == -EIO);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Fuzz *f = world();
    FuzzIn in = {data, size};

    memset(f->mem[0]->host, 0, MEM_SIZE);
    memset(f->mem[1]->host, 0, MEM_SIZE);
    f->vq = vduse_vq_new(0, f->iotlb);
    f->remapped = false;
    start(f, &in);
    for (unsigned int i = 0; i < MAX_OPS && in.left; i++) {
        switch (fuzz_u8(&in) % 15) {
        case 0:
            op_desc(f, &in);
            break;
        case 1:
            op_avail(f, &in);
            break;
        case 2: {
            uint8_t m = fuzz_u8(&in) & 1;
            uint16_t off = fuzz_u16(&in) & ~1u;
            uint16_t idx = htole16(fuzz_u16(&in));

            poke(f, m, off + 2u, &idx, 2);
            break;
        }
        case 3:
            op_poke(f, &in);
            break;
        case 4:
            op_pop(f, &in);
            break;
        case 5:
            op_push(f, &in);
            break;
        case 6:
            flush(f);
            break;
        case 7:
            vduse_vq_enable_notify(f->vq, fuzz_u8(&in) & 1);
            break;
        case 8: {
            unsigned int want = fuzz_u8(&in) % 8 + 1u;
            unsigned int n = MIN(want, f->n_held);

            vduse_vq_unpop(f->vq, n);
            f->n_held -= n;
            break;
        }
        case 9:
            if (f->num) {
                quiesce(f);
                if (!vduse_vq_is_failed(f->vq)) {
                    vduse_vq_restart_from_used(f->vq);
                }
            }
            break;
        case 10:
            quiesce(f);
            f->asid ^= 1;
            vduse_vq_set_asid(f->vq, f->asid);
            break;
        case 11:
            op_remap(f, &in);
            break;
        case 12:
            quiesce(f);
            vduse_vq_stop(f->vq);
            f->num = 0;
            break;
        case 13:
            quiesce(f);
            vduse_vq_stop(f->vq);
            start(f, &in);
            break;
        case 14:
            op_pdesc(f, &in);
            break;
        }
        check(f);
    }
    vduse_vq_free(f->vq);
    f->vq = NULL;
    /* Every mapping back as it was for the next input. */
    for (uint32_t asid = 0; asid < 2 && f->remapped; asid++) {
        vduse_iotlb_invalidate(f->iotlb, asid, 0, UINT64_MAX);
        map_asid(f, asid, false);
    }
    return 0;
}
