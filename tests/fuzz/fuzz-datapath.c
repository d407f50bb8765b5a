/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-datapath.c - a queue pair's bursts, with the receive filter and the
 * offload checks, against a TAP stand-in
 *
 * The pair runs without its thread (net_pair_attach(), net_pair_step()),
 * between the in-process driver (test-driver.c: RX and TX rings and
 * buffers in one memfd) and a TAP stand-in: one end of an AF_UNIX
 * datagram socket pair, which keeps frame boundaries as a TAP queue does
 * and refuses writes when full. The input picks the features, the MTU,
 * the ring size, the guest offloads and whether RX frames are read in
 * io_uring batches (tap-read.c) or one per readv(), then plays: the driver
 * posting RX buffers and TX frames (header bytes from the input), frames
 * arriving from the TAP (virtio-net header, destination, VLAN tag and length
 * from the input), control commands changing the filter, rounds of the loop,
 * pauses, and, in hostile mode, any bytes written over the rings.
 *
 * Checked, unless hostile: every frame the TAP side gets is a TX chain the
 * driver posted, byte for byte, in order; every frame the driver gets is
 * one that arrived, in order, its used lengths adding up to it, with
 * num_buffers right (1 without MRG_RXBUF), its header within what the
 * driver accepts (no GSO it did not take, no checksum flags without
 * GUEST_CSUM, no frame over the MTU without GSO), and its destination
 * passing the receive filter. With HASH_REPORT (20-byte headers): TX
 * frames reach the TAP side without the 8 hash bytes, and every received
 * frame's report is the hash of the frame under the configuration the
 * driver set with HASH_CONFIG, or none without one.
 * Always: no crash, no warning or critical.
 * FUZZ_VERBOSE=1 in the environment prints the pair's counters per input
 * (to check a seed).
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "net-priv.h"
#include "test-driver.h"

#define GUEST_IOVA 0x100000ull
#define MEM_SIZE (2 * 1024 * 1024)
#define RX_RING_OFF 0
#define TX_RING_OFF 0x4000
#define TX_BUF_OFF 0x10000
#define TX_BUF_SIZE 0x70000
#define RX_BUF_OFF 0x80000
#define RX_BUF_SIZE 0x180000
#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)
#define MAX_OPS 128
#define MAX_FRAME (20 + 65535 + 18)
#define MAX_SENT 64

/**
 * struct Chain - a chain the driver posted
 * @n:		its buffers
 * @iova:	each buffer's IOVA
 * @len:	each buffer's length
 */
typedef struct Chain {
    unsigned int n;
    uint64_t iova[3];
    uint32_t len[3];
} Chain;

/**
 * struct Frame - a frame in flight, as it was sent
 * @len:	its length, header included
 * @data:	its bytes
 */
typedef struct Frame {
    size_t len;
    uint8_t *data;
} Frame;

/**
 * struct Fuzz - one input's world
 * @mem:	guest memory
 * @iotlb:	its IOTLB
 * @rxr:	the driver's RX ring
 * @txr:	the driver's TX ring
 * @rx:		the engine's RX queue
 * @tx:		the engine's TX queue
 * @fds:	the TAP stand-in: [0] for the pair, [1] for the world outside
 * @pair:	the pair under test
 * @cvq:	the control queue whose shadow is the filter
 * @features:	negotiated features
 * @hdr_len:	the driver's virtio-net header (20 with HASH_REPORT)
 * @mtu:	the MTU
 * @offloads:	guest offloads in force
 * @hostile:	the driver may write anything anywhere: no content checks
 * @filter_on:	the pair applies the receive filter
 * @filter_moved: the filter changed with frames in flight: no filter check
 * @rx_chains:	RX chains posted, by head
 * @tx_chains:	TX chains posted, by head
 * @rx_busy:	RX descriptors in chains not yet used
 * @tx_busy:	TX descriptors in chains not yet used
 * @rx_next:	next free byte of the RX buffer area
 * @tx_next:	next free byte of the TX buffer area
 * @rx_sent:	frames sent into the TAP, not yet matched
 * @n_rx_sent:	how many
 * @tx_sent:	TX frames posted, not yet matched
 * @n_tx_sent:	how many
 * @buf:	room for one frame
 */
typedef struct Fuzz {
    TestMem *mem;
    VduseIotlb *iotlb;
    TestRing rxr;
    TestRing txr;
    VduseVq *rx;
    VduseVq *tx;
    int fds[2];
    NetPair *pair;
    Ctrlvq *cvq;
    uint64_t features;
    size_t hdr_len;
    uint16_t mtu;
    uint64_t offloads;
    bool hostile;
    bool filter_on;
    bool filter_moved;
    Chain rx_chains[256];
    Chain tx_chains[256];
    bool rx_busy[256];
    bool tx_busy[256];
    size_t rx_next;
    size_t tx_next;
    Frame rx_sent[MAX_SENT];
    unsigned int n_rx_sent;
    Frame tx_sent[MAX_SENT];
    unsigned int n_tx_sent;
    uint8_t *buf;
} Fuzz;

static const uint8_t own_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* no_irq() - the pair's notify callback: nothing to interrupt. */
static int no_irq(void *opaque, uint32_t index)
{
    return 0;
}

/**
 * world() - guest memory and its IOTLB, made once
 * Return: the world.
 */
static Fuzz *world(void)
{
    static Fuzz *f;

    if (!f) {
        fuzz_log_init();
        f = g_new0(Fuzz, 1);
        f->mem = test_mem_new(MEM_SIZE);
        f->iotlb = vduse_iotlb_new(1, NULL, NULL);
        fuzz_check(test_mem_map(f->mem, f->iotlb, 0, GUEST_IOVA, 0, MEM_SIZE,
                                RW) == 0);
        f->buf = g_malloc(MAX_FRAME);
    }
    return f;
}

/**
 * fifo_push() - remember a frame sent (the oldest is forgotten when full)
 * @q:		the frames
 * @n:		how many
 * @data:	the bytes, copied
 * @len:	their length
 */
static void fifo_push(Frame *q, unsigned int *n, const void *data, size_t len)
{
    if (*n == MAX_SENT) {
        g_free(q[0].data);
        memmove(q, q + 1, (MAX_SENT - 1) * sizeof(*q));
        (*n)--;
    }
    q[*n].len = len;
    q[(*n)++].data = g_memdup2(data, len);
}

/**
 * fifo_match() - find the frame @got among those sent, in order: the ones
 * before it were dropped or filtered
 * @q:		the frames
 * @n:		how many
 * @got:	what arrived
 * @len:	its length
 * @hdr_fixed:	the first 12 bytes are a virtio-net header the pair may
 *		have fixed (flags cleared, num_buffers set)
 *
 * Return: true if found (it and those before are forgotten).
 */
static bool fifo_match(Frame *q, unsigned int *n, const uint8_t *got,
                       size_t len, bool hdr_fixed)
{
    for (unsigned int i = 0; i < *n; i++) {
        const uint8_t *want = q[i].data;
        size_t skip = hdr_fixed ? NET_HDR_LEN : 0;

        if (q[i].len != len) {
            continue;
        }
        if (hdr_fixed && (memcmp(want + 1, got + 1, 9) ||
                          (got[0] != want[0] && got[0] != 0))) {
            continue;
        }
        if (memcmp(want + skip, got + skip, len - skip)) {
            continue;
        }
        for (unsigned int j = 0; j <= i; j++) {
            g_free(q[j].data);
        }
        *n -= i + 1;
        memmove(q, q + i + 1, *n * sizeof(*q));
        return true;
    }
    return false;
}

/**
 * alloc_buf() - @len bytes from a buffer area, round robin
 * @next:	the area's next free byte, updated
 * @off:	the area's offset in guest memory
 * @size:	the area's size
 * @len:	bytes wanted, at most @size
 *
 * Return: the IOVA.
 */
static uint64_t alloc_buf(size_t *next, size_t off, size_t size, size_t len)
{
    if (*next + len > size) {
        *next = 0;
    }
    *next += len;
    return GUEST_IOVA + off + *next - len;
}

/**
 * post() - the driver adds a chain if an honest driver has the descriptors
 * for it (a hostile one adds it anyway)
 * @f:		the world
 * @r:		the ring
 * @chains:	the ring's record, by head
 * @busy:	the ring's descriptors in flight
 * @c:		the chain
 * @writable:	its buffers are device-writable
 *
 * Return: true if added.
 */
static bool post(Fuzz *f, TestRing *r, Chain *chains, bool *busy,
                 const Chain *c, bool writable)
{
    TestBuf bufs[3];
    uint16_t head;

    for (unsigned int i = 0; i < c->n && !f->hostile; i++) {
        if (c->n > r->num || busy[(r->next_desc + i) % r->num]) {
            return false;
        }
    }
    for (unsigned int i = 0; i < c->n; i++) {
        bufs[i] = (TestBuf){c->iova[i], c->len[i], writable};
        busy[(r->next_desc + i) % r->num] = true;
    }
    head = test_ring_add(r, bufs, c->n, 0);
    chains[head] = *c;
    return true;
}

/**
 * used() - the device is done with chain @id: its descriptors are free
 * @f:		the world
 * @r:		the ring
 * @chains:	the ring's record, by head
 * @busy:	the ring's descriptors in flight
 * @id:		the used id
 *
 * Return: the chain as posted (NULL: a hostile driver's own id).
 */
static const Chain *used(Fuzz *f, TestRing *r, const Chain *chains, bool *busy,
                         uint32_t id)
{
    if (f->hostile && id >= r->num) {
        return NULL; /* it wrote over the used ring itself */
    }
    fuzz_check(id < r->num);
    for (unsigned int i = 0; i < chains[id].n; i++) {
        busy[(id + i) % r->num] = false;
    }
    return &chains[id];
}

/**
 * op_rx_buffers() - the driver posts RX chains
 * @f:		the world
 * @in:		the input
 */
static void op_rx_buffers(Fuzz *f, FuzzIn *in)
{
    unsigned int chains = fuzz_u8(in) % 8 + 1;

    for (unsigned int i = 0; i < chains; i++) {
        uint8_t b = fuzz_u8(in);
        Chain c = {.n = (b & 3) % 3 + 1u};

        for (unsigned int k = 0; k < c.n; k++) {
            c.len[k] = (b & 4) ? fuzz_u16(in) % 16384 + 1 : 1536;
            c.iova[k] =
                alloc_buf(&f->rx_next, RX_BUF_OFF, RX_BUF_SIZE, c.len[k]);
        }
        post(f, &f->rxr, f->rx_chains, f->rx_busy, &c,
             !(f->hostile && (b & 8)));
    }
}

/**
 * op_tx_frame() - the driver posts a frame to send: header from the
 * input, body a pattern
 * @f:		the world
 * @in:		the input
 */
static void op_tx_frame(Fuzz *f, FuzzIn *in)
{
    uint8_t b = fuzz_u8(in);
    size_t len = f->hdr_len + fuzz_u16(in) % 9100, got;
    const uint8_t *hdr = fuzz_bytes(in, NET_HDR_LEN, &got);
    Chain c = {.n = (b & 1) ? 2 : 1};
    uint8_t *frame = f->buf;
    size_t at = 0, cut = f->hdr_len - NET_HDR_LEN;

    memset(frame, 0, NET_HDR_LEN);
    memcpy(frame, hdr, got);
    /* The hash bytes (HASH_REPORT) are never zero: the TAP must not get
     * them. */
    for (size_t i = NET_HDR_LEN; i < len; i++) {
        frame[i] = (uint8_t)(i * 7 + b) | (i < f->hdr_len);
    }
    /* Two buffers: the header alone, then the frame (as Linux does). */
    c.len[0] = c.n == 2 ? (uint32_t)f->hdr_len : (uint32_t)len;
    c.len[1] = (uint32_t)(len - c.len[0]);
    for (unsigned int k = 0; k < c.n; k++) {
        c.iova[k] =
            alloc_buf(&f->tx_next, TX_BUF_OFF, TX_BUF_SIZE, c.len[k] + 1);
        if (c.len[k]) {
            memcpy(test_ring_ptr(&f->txr, c.iova[k]), frame + at, c.len[k]);
        }
        at += c.len[k];
    }
    if (c.n == 2 && !c.len[1]) {
        c.n = 1;
    }
    if (post(f, &f->txr, f->tx_chains, f->tx_busy, &c, f->hostile && (b & 2))) {
        /* What the TAP must get: the TAP's 12-byte header, the frame. */
        memmove(frame + NET_HDR_LEN, frame + NET_HDR_LEN + cut,
                len - NET_HDR_LEN - cut);
        fifo_push(f->tx_sent, &f->n_tx_sent, frame, len - cut);
    }
}

/**
 * op_tap_frame() - a frame arrives at the TAP for the driver
 * @f:		the world
 * @in:		the input
 */
static void op_tap_frame(Fuzz *f, FuzzIn *in)
{
    static const uint8_t dsts[][6] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
        {0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
        {0x33, 0x33, 0x00, 0x00, 0x00, 0x01},
    };
    uint8_t b = fuzz_u8(in);
    struct virtio_net_hdr_v1 h = {
        .flags = fuzz_u8(in),
        .gso_type = fuzz_u8(in),
        .hdr_len = htole16(fuzz_u16(in)),
        .gso_size = htole16(fuzz_u16(in)),
    };
    size_t body = fuzz_u16(in), len;
    uint8_t *frame = f->buf;
    size_t at = NET_HDR_LEN;

    /* Mostly an honest header: the input's bytes only when it says. */
    if (!(b & 0x80)) {
        h.flags &= VIRTIO_NET_HDR_F_DATA_VALID;
        h.gso_type &= (b & 0x40) ? 0xff : 0;
    }
    body = (b & 0x20) ? body : body % (f->mtu + 64u);
    len = MIN(NET_HDR_LEN + 14 + 4 + body, (size_t)MAX_FRAME);
    memcpy(frame, &h, NET_HDR_LEN);
    memcpy(frame + at, (b & 3) == 3 ? own_mac : dsts[b & 3], 6);
    memcpy(frame + at + 6, own_mac, 6);
    at += 12;
    if (b & 4) {
        uint16_t vid = fuzz_u16(in) & 0xfff;

        frame[at++] = 0x81;
        frame[at++] = 0x00;
        frame[at++] = (uint8_t)(vid >> 8);
        frame[at++] = (uint8_t)vid;
    }
    frame[at++] = 0x88;
    frame[at++] = 0xb5;
    for (size_t i = at; i < len; i++) {
        frame[i] = (uint8_t)(i * 13 + b);
    }
    if (b & 0x08) {
        /* IPv4 or IPv6 for the hash reports: the first 44 bytes after
         * the EtherType (version, protocol, addresses, ports) from the
         * input. */
        size_t got;
        const uint8_t *ip = fuzz_bytes(in, 44, &got);

        frame[at - 2] = (b & 0x10) ? 0x86 : 0x08;
        frame[at - 1] = (b & 0x10) ? 0xdd : 0x00;
        memcpy(frame + at, ip, MIN(got, len - at));
    }
    if (send(f->fds[1], frame, len, MSG_DONTWAIT) == (ssize_t)len) {
        fifo_push(f->rx_sent, &f->n_rx_sent, frame, len);
    }
}

/**
 * check_rx_header() - a delivered frame's header is one the driver takes
 * @f:		the world
 * @frame:	the frame, header first
 * @len:	its length
 */
static void check_rx_header(Fuzz *f, const uint8_t *frame, size_t len)
{
    struct virtio_net_hdr_v1 h;
    uint8_t gso;

    memcpy(&h, frame, sizeof(h));
    gso = h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (!(f->offloads & VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM))) {
        fuzz_check(h.flags == 0);
    }
    if (gso == VIRTIO_NET_HDR_GSO_NONE) {
        fuzz_check(len - NET_HDR_LEN <= 14u + 4u + MAX(f->mtu, 1500));
    } else if (gso == VIRTIO_NET_HDR_GSO_TCPV4) {
        fuzz_check(f->offloads & VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4));
    } else if (gso == VIRTIO_NET_HDR_GSO_TCPV6) {
        fuzz_check(f->offloads & VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO6));
    } else {
        fuzz_check(gso == 5 &&
                   (f->offloads & (VDUSE_BIT(VIRTIO_NET_F_GUEST_USO4) |
                                   VDUSE_BIT(VIRTIO_NET_F_GUEST_USO6))));
    }
    if (h.gso_type & VIRTIO_NET_HDR_GSO_ECN) {
        fuzz_check(f->offloads & VDUSE_BIT(VIRTIO_NET_F_GUEST_ECN));
    }
}

/**
 * check_filter() - a delivered frame passes the receive filter
 * @f:		the world
 * @frame:	the frame, header first
 * @len:	its length
 */
static void check_filter(Fuzz *f, const uint8_t *frame, size_t len)
{
    const uint8_t *eth = frame + NET_HDR_LEN;
    int vlan = -1;

    if (!f->filter_on || f->filter_moved || len < NET_HDR_LEN + 14) {
        return;
    }
    if (eth[12] == 0x81 && eth[13] == 0 && len >= NET_HDR_LEN + 16) {
        vlan = ((eth[14] << 8) | eth[15]) & 0xfff;
    }
    fuzz_check(
        ctrlvq_filter_accepts(ctrlvq_shadow(f->cvq), eth, vlan,
                              f->features & VDUSE_BIT(VIRTIO_NET_F_CTRL_VLAN)));
}

/**
 * check_hash() - a delivered frame's hash report, then its header made
 * the TAP's (the 8 hash bytes taken out) for the other checks
 * @f:		the world, with HASH_REPORT
 * @total:	the frame's length, 20-byte header included, in @f->buf
 *
 * Return: the length without the 8 bytes.
 */
static size_t check_hash(Fuzz *f, size_t total)
{
    const CtrlvqShadow *s = ctrlvq_shadow(f->cvq);
    struct virtio_net_hdr_v1_hash h;
    uint32_t hash = 0;
    uint8_t report = VIRTIO_NET_HASH_REPORT_NONE;

    fuzz_check(total >= sizeof(h));
    memcpy(&h, f->buf, sizeof(h));
    if (s->hash.enabled) {
        report = net_rss_hash(&s->hash, f->buf + sizeof(h), total - sizeof(h),
                              &hash);
    }
    fuzz_check(le16toh(h.hash_report) == report);
    fuzz_check(le32toh(h.hash_value) == hash);
    fuzz_check(h.padding == 0);
    memmove(f->buf + NET_HDR_LEN, f->buf + sizeof(h), total - sizeof(h));
    return total - (sizeof(h) - NET_HDR_LEN);
}

/**
 * read_rx() - the driver takes what the device delivered, and checks it
 * @f:		the world
 */
static void read_rx(Fuzz *f)
{
    uint32_t id, len;

    while (test_ring_get_used(&f->rxr, &id, &len)) {
        size_t total = 0;
        uint16_t nb = 1;

        if (len == 0) {
            /* A chain given back unused (no room for a header). */
            used(f, &f->rxr, f->rx_chains, f->rx_busy, id);
            continue;
        }

        for (uint16_t k = 0; k < nb; k++) {
            const Chain *c;
            uint32_t left = len;

            if (k > 0 && !test_ring_get_used(&f->rxr, &id, &len)) {
                fuzz_fail("num_buffers %u, %u used", nb, k);
            }
            left = len;
            c = used(f, &f->rxr, f->rx_chains, f->rx_busy, id);
            if (f->hostile) {
                continue;
            }
            for (unsigned int i = 0; i < c->n && left; i++) {
                uint32_t part = MIN(left, c->len[i]);

                fuzz_check(total + part <= MAX_FRAME);
                memcpy(f->buf + total, test_ring_ptr(&f->rxr, c->iova[i]),
                       part);
                total += part;
                left -= part;
            }
            fuzz_check(left == 0);
            if (k == 0) {
                fuzz_check(len >= f->hdr_len);
                memcpy(&nb, f->buf + 10, 2);
                nb = le16toh(nb);
                fuzz_check(nb >= 1);
                if (!(f->features & VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF))) {
                    fuzz_check(nb == 1);
                }
            }
        }
        if (f->hostile) {
            continue;
        }
        if (f->hdr_len > NET_HDR_LEN) {
            total = check_hash(f, total);
        }
        check_rx_header(f, f->buf, total);
        check_filter(f, f->buf, total);
        if (!fifo_match(f->rx_sent, &f->n_rx_sent, f->buf, total, true)) {
            fuzz_fail("the driver got a frame of %zu bytes never sent", total);
        }
    }
}

/**
 * read_tap() - the world outside takes what the device sent, and checks it
 * @f:		the world
 */
static void read_tap(Fuzz *f)
{
    uint32_t id, len;
    ssize_t n;

    while ((n = recv(f->fds[1], f->buf, MAX_FRAME, MSG_DONTWAIT)) >= 0) {
        if (!f->hostile &&
            !fifo_match(f->tx_sent, &f->n_tx_sent, f->buf, (size_t)n, false)) {
            fuzz_fail("the TAP got a frame of %zd bytes never posted", n);
        }
    }
    while (test_ring_get_used(&f->txr, &id, &len)) {
        used(f, &f->txr, f->tx_chains, f->tx_busy, id);
    }
}

/**
 * set_filter() - the pair takes the shadow as its filter, as netdev does
 * @f:		the world
 */
static void set_filter(Fuzz *f)
{
    const CtrlvqShadow *s = ctrlvq_shadow(f->cvq);

    f->offloads = s->guest_offloads;
    net_pair_set_filter(f->pair, f->filter_on ? s : NULL,
                        f->features & VDUSE_BIT(VIRTIO_NET_F_CTRL_VLAN),
                        f->offloads);
    /* HASH_CONFIG's, as netdev gives it (no RSS here). */
    net_pair_set_hash(f->pair, s->hash.enabled ? &s->hash : NULL);
}

/**
 * op_command() - a control command; the pair pauses for the new filter
 * @f:		the world
 * @in:		the input
 */
static void op_command(Fuzz *f, FuzzIn *in)
{
    size_t len = fuzz_u8(in), got;
    const uint8_t *bytes = fuzz_bytes(in, len, &got);
    g_autofree uint8_t *cmd = g_memdup2(bytes, got);

    /* The pair ran until now; it pauses (giving its chains back) while
     * the command is served, and takes the new shadow. */
    net_pair_step(f->pair, true);
    read_rx(f);
    read_tap(f);
    if (ctrlvq_execute(f->cvq, cmd, got) == 0) {
        f->filter_moved = f->filter_moved || f->n_rx_sent > 0;
        set_filter(f);
    }
}

/**
 * op_poke() - a hostile driver writes bytes over its rings
 * @f:		the world
 * @in:		the input
 */
static void op_poke(Fuzz *f, FuzzIn *in)
{
    uint16_t off = fuzz_u16(in) % 0x8000;
    size_t got;
    const uint8_t *bytes = fuzz_bytes(in, fuzz_u8(in) % 17, &got);

    if (f->hostile) {
        memcpy(f->mem->host + off, bytes, got);
    }
}

/**
 * setup() - rings, queues, TAP stand-in and pair, as the input says
 * @f:		the world
 * @in:		the input
 */
static void setup(Fuzz *f, FuzzIn *in)
{
    static const unsigned int feature_bits[] = {
        VIRTIO_NET_F_MRG_RXBUF,     VIRTIO_NET_F_GUEST_CSUM,
        VIRTIO_NET_F_GUEST_TSO4,    VIRTIO_NET_F_GUEST_TSO6,
        VIRTIO_NET_F_GUEST_ECN,     VIRTIO_NET_F_GUEST_USO4,
        VIRTIO_NET_F_GUEST_USO6,    VIRTIO_NET_F_CTRL_RX,
        VIRTIO_NET_F_CTRL_VLAN,     VIRTIO_NET_F_CTRL_RX_EXTRA,
        VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
        VIRTIO_RING_F_EVENT_IDX,    VIRTIO_NET_F_HASH_REPORT,
    };
    uint16_t bits = fuzz_u16(in);
    uint8_t b = fuzz_u8(in);
    uint32_t num = 2u << (b % 8);
    uint16_t start = fuzz_u16(in);
    NetPairQueues q = {
        .rx_index = 0,
        .tx_index = 1,
        .rx_kick = -1,
        .tx_kick = -1,
        .notify = no_irq,
        .opaque = f,
    };
    bool event_idx;

    f->features = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(feature_bits); i++) {
        if (bits & (1u << i)) {
            f->features |= VDUSE_BIT(feature_bits[i]);
        }
    }
    event_idx = f->features & VDUSE_BIT(VIRTIO_RING_F_EVENT_IDX);
    f->hdr_len = net_hdr_len(f->features);
    f->hostile = b & 0x80;
    f->mtu = NET_MIN_MTU + fuzz_u16(in) % (9000 - NET_MIN_MTU + 1);
    memset(f->mem->host, 0, TX_BUF_OFF);
    test_ring_init(&f->rxr, f->mem, GUEST_IOVA, RX_RING_OFF, num, start);
    test_ring_init(&f->txr, f->mem, GUEST_IOVA, TX_RING_OFF, num,
                   (uint16_t)~start);
    f->rx = vduse_vq_new(0, f->iotlb);
    f->tx = vduse_vq_new(1, f->iotlb);
    test_ring_start(&f->rxr, f->rx, 0, event_idx);
    test_ring_start(&f->txr, f->tx, 0, event_idx);
    fuzz_check(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                          f->fds) == 0);
    f->pair = net_pair_new("fuzz", 0, f->fds[0]);
    if (!(bits & (1u << 14))) {
        net_pair_set_io_uring(f->pair, false);
    }
    f->cvq = ctrlvq_new("fuzz", own_mac, 1, NULL, NULL);
    ctrlvq_reset(f->cvq, f->features);
    f->filter_on = f->features & (VDUSE_BIT(VIRTIO_NET_F_CTRL_RX) |
                                  VDUSE_BIT(VIRTIO_NET_F_CTRL_VLAN));
    f->filter_moved = false;
    q.rx = f->rx;
    q.tx = f->tx;
    set_filter(f);
    net_pair_attach(f->pair, &q, f->features, f->mtu);
    memset(f->rx_busy, 0, sizeof(f->rx_busy));
    memset(f->tx_busy, 0, sizeof(f->tx_busy));
    f->rx_next = f->tx_next = 0;
}

/**
 * teardown() - free what setup() made
 * @f:		the world
 */
static void teardown(Fuzz *f)
{
    net_pair_free(f->pair);
    ctrlvq_free(f->cvq);
    vduse_vq_free(f->rx);
    vduse_vq_free(f->tx);
    close(f->fds[0]);
    close(f->fds[1]);
    for (unsigned int i = 0; i < f->n_rx_sent; i++) {
        g_free(f->rx_sent[i].data);
    }
    for (unsigned int i = 0; i < f->n_tx_sent; i++) {
        g_free(f->tx_sent[i].data);
    }
    f->n_rx_sent = f->n_tx_sent = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Fuzz *f = world();
    FuzzIn in = {data, size};

    setup(f, &in);
    for (unsigned int i = 0; i < MAX_OPS && in.left; i++) {
        switch (fuzz_u8(&in) % 7) {
        case 0:
            op_rx_buffers(f, &in);
            break;
        case 1:
            op_tx_frame(f, &in);
            break;
        case 2:
            op_tap_frame(f, &in);
            break;
        case 3:
        case 4: {
            bool pause = fuzz_u8(&in) & 1;

            net_pair_step(f->pair, pause);
            read_rx(f);
            read_tap(f);
            break;
        }
        case 5:
            op_command(f, &in);
            break;
        case 6:
            op_poke(f, &in);
            break;
        }
    }
    net_pair_step(f->pair, true);
    read_rx(f);
    read_tap(f);
    if (g_getenv("FUZZ_VERBOSE")) {
        NetPairStats st;

        net_pair_get_stats(f->pair, &st);
        printf("tx-packets %" G_GUINT64_FORMAT " tx-dropped %" G_GUINT64_FORMAT
               " rx-packets %" G_GUINT64_FORMAT " rx-dropped %" G_GUINT64_FORMAT
               " rx-filtered %" G_GUINT64_FORMAT "\n",
               st.tx_packets, st.tx_dropped, st.rx_packets, st.rx_dropped,
               st.rx_filtered);
    }
    teardown(f);
    return 0;
}
