/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * datapath.c - one queue pair's dataplane thread: TX vq -> TAP -> RX vq
 *
 * DOC: Theory of operation
 *
 * Each queue pair has a thread of its own that owns the pair's TX vq, RX vq
 * and TAP queue fd. It sleeps in poll() on what can make progress:
 *  - the TX kick eventfd while the TX ring is empty (or the TAP's POLLOUT
 *    when the TAP refused a write);
 *  - the TAP's POLLIN while the driver has RX buffers, or the RX kick
 *    eventfd while it has none: a full guest stops our reads (backpressure)
 *    instead of reading and dropping;
 *  - a wake eventfd, through which the main thread asks it to pause or
 *    stop.
 *
 * TX: pop chains in a burst and write each one to the TAP as it is (the
 * driver's 12-byte virtio-net header is the TAP's vnet header, set to 12
 * bytes with TUNSETVNETHDRSZ), the whole burst in one system call with
 * io_uring where it is there, else one writev() per frame (tap-batch.c).
 *
 * RX takes only what a frame needs. The pair holds popped RX chains from
 * one frame to the next (translated once), enough for an MTU-sized frame,
 * and readv()s each frame into them with a per-pair spill buffer as the
 * last segment. A frame that fits is pushed from the chains it filled
 * (num_buffers in the header, VIRTIO_NET_F_MRG_RXBUF); the other chains
 * stay held for the next frame. A larger one (a GSO frame) takes more
 * chains and its tail is copied from the spill buffer; if the driver has
 * not posted enough, the frame waits whole in the spill buffer and the
 * TAP is not read until the driver's kick brings buffers. So a small
 * frame is delivered whatever the largest possible frame is, and a pair
 * with no buffers sleeps.
 *
 * Where io_uring is there (tap-read.c), small frames are read in batches
 * instead, one system call for up to RX_BATCH frames, each into a slot of
 * the reader's, and copied into the held chains as a waiting frame is: a
 * readv() per frame costs about a microsecond of system call, a 60-byte
 * copy a few nanoseconds. A batch is at most twice the frames the last
 * one found, and no more than the driver has chains for, so an idle TAP
 * costs few empty reads and a full guest still stops the reads. After a
 * GSO frame the pair goes back to readv() straight into the chains (a
 * 64 KiB copy would cost more than the call) until a small frame comes.
 * Before delivery the frame's virtio-net header
 * is checked against the offloads the driver accepts (virtio 1.2 5.1.6.4)
 * and its length against the MTU.
 *
 * Hash reports (VIRTIO_NET_F_HASH_REPORT): the driver's header is 20
 * bytes, the TAP's stays 12 (TUNSETVNETHDRSZ takes RTNL and is shared by
 * every queue of the TAP). A frame is read with the TAP's header into a
 * buffer of the pair's and the frame itself 20 bytes into the driver's
 * buffers; the header is then copied in, and before delivery the hash of
 * the frame (rss.c, on the types and key the driver set) and its type
 * fill the 8 bytes between. On TX those 8 bytes are cut out of the
 * chain's segments before the write.
 *
 * One interrupt per burst per queue, if the driver wants it. Between two
 * bursts everything pushed is published; when the thread pauses it gives
 * the chains it holds back (a waiting frame stays in the spill buffer), so
 * nothing is popped and not pushed, and the ring indices the kernel asks
 * for (GET_VQ_STATE) are exact.
 *
 * Notification coalescing (VIRTIO_NET_F_NOTF_COAL, VQ_NOTF_COAL): with
 * both max_packets and max_usecs of a queue non-zero, used buffers are
 * still published at the end of each burst, but the interrupt waits until
 * max_packets packets were published since the last one, or max_usecs
 * after the first of them, whichever comes first. Whether the driver
 * wants an interrupt is asked at each publication, as without coalescing
 * (event index or VRING_AVAIL_F_NO_INTERRUPT): a window in which it never
 * asked ends without one, so coalescing never sends what the driver
 * suppressed. The deadline is the timeout of the thread's poll (ppoll(),
 * with the thread's timer slack at 1 us), and a busy thread looks at the
 * clock between bursts: no timer fd, no sleeping, no spinning. A pause or
 * stop sends the interrupt a window owes at once, so none is lost across
 * a suspend, a reset of the pairs or new parameters.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "net-priv.h"

/* Chains handled per burst before the thread looks at its other work. */
#define BURST 64
/* Room for the segments of the RX chains one frame may need. */
#define RX_MAX_IOV 1024
G_STATIC_ASSERT(RX_MAX_IOV >= VDUSE_VQ_MAX_IOV);
#define RX_MAX_CHAINS 256
/* Room for the segments of a TX burst's chains: the longest chain a
 * queue may hold, or a burst of chains of up to 24 segments (Linux's
 * are at most MAX_SKB_FRAGS + 2). */
#define TX_MAX_IOV (VDUSE_VQ_MAX_IOV + BURST * 8)

/* The spill buffer: the largest frame a driver may receive, header in. */
#define RX_SPILL (NET_HASH_HDR_LEN + 65535 + 14 + 4)
/* Frames read from the TAP in one batch at most (tap-read.c), each into a
 * slot of RX_SPILL bytes: 1 MiB, mapped as it is used. */
#define RX_BATCH 16

/* Bytes of a frame's start that net_rss_hash() may look at: Ethernet,
 * one VLAN tag, IPv4 with options or IPv6, and the ports. */
#define HASH_INPUT_MAX (14 + 4 + 60 + 4)

/**
 * struct RxChain - one RX chain the pair holds
 * @id:		head index
 * @len:	its writable bytes
 * @niov:	its segments in the pair's @rx_iov, after those of the chains
 *		held before it
 * @cut:	only its first @len bytes are mapped (rx_fill())
 */
typedef struct RxChain {
    uint16_t id;
    uint32_t len;
    unsigned int niov;
    bool cut;
} RxChain;

/**
 * struct TxChain - one chain of a TX burst
 * @id:		head index
 * @iov:	its first segment in the pair's @tx_iov
 * @niov:	its segments there; 0 if it is not a frame to send
 *		(tx_chain_ok())
 * @len:	its readable bytes, the driver's header included
 */
typedef struct TxChain {
    uint16_t id;
    unsigned int iov;
    unsigned int niov;
    size_t len;
} TxChain;

/* The pair thread's timer slack: coalescing deadlines are microseconds. */
#define COAL_TIMER_SLACK_NS 1000

/**
 * struct PairCoal - notification coalescing of one of the pair's queues
 * @max_packets: the driver's max_packets (CtrlvqCoal)
 * @max_usecs:	the driver's max_usecs; coalescing only with both non-zero
 * @vq_index:	the queue's index on the device, for the interrupt
 * @irqs:	the queue's interrupt counter in the pair's stats
 * @packets:	packets published since the last interrupt; the window is
 *		open while it is not 0
 * @owed:	the driver asked for an interrupt at one of those publications
 * @deadline:	CLOCK_MONOTONIC time (ns) at which the open window ends
 */
typedef struct PairCoal {
    uint32_t max_packets;
    uint32_t max_usecs;
    uint32_t vq_index;
    uint64_t *irqs;
    uint64_t packets;
    bool owed;
    int64_t deadline;
} PairCoal;

/**
 * struct NetPair - the dataplane of one queue pair
 * @name:	device name
 * @index:	pair index
 * @q:		the queues served while the thread runs
 * @tap_fd:	TAP queue fd
 * @wake_fd:	eventfd the main thread writes to reach the thread
 * @thread:	the thread, or NULL
 * @lock:	protects the requests and @paused
 * @cond:	signalled when @paused or the requests change
 * @stop_req:	the thread must return
 * @pause_req:	the thread must pause
 * @paused:	the thread is paused
 * @mrg_rxbuf:	VIRTIO_NET_F_MRG_RXBUF negotiated
 * @hdr_len:	the driver's virtio-net header: NET_HDR_LEN, or
 *		NET_HASH_HDR_LEN with VIRTIO_NET_F_HASH_REPORT
 * @hash:	the hash types and key the driver set (a copy; not enabled:
 *		reports carry no hash)
 * @tap_hdr:	the TAP's vnet header of the frame being read (@hdr_len
 *		NET_HASH_HDR_LEN only)
 * @rx_frame_max: the largest frame the driver may receive, header included
 * @rx_frame_mtu: the largest frame without GSO, header included
 * @rx_want:	bytes of RX chains to hold before a read: @rx_frame_max
 *		after a GSO frame, else @rx_frame_mtu
 * @guest_offloads: the VIRTIO_NET_F_GUEST_* offloads the driver accepts now
 * @tx_blocked:	the TAP refused a write; wait for POLLOUT
 * @rx_starved:	the driver gave no RX buffers; wait for its kick
 * @tap_readable: the TAP may have a frame (POLLIN seen, no EAGAIN since)
 * @tap_gone:	reading the TAP failed for good (the interface was
 *		deleted): it is not read or polled any more
 * @elem:	storage for the chain being popped
 * @tx_chains:	the chains of the TX burst
 * @tx_iov:	their segments, packed
 * @tx_batch:	writes a TX burst to the TAP
 * @rx_iov_mem:	@rx_iov with one entry before it (rx_readv())
 * @rx_iov:	segments of the held RX chains, one more for the spill
 *		buffer; @rx_iov[-1] is in @rx_iov_mem
 * @rx_chains:	the RX chains held, oldest first
 * @rx_held:	how many
 * @rx_held_pinned: a chain popped after some of them was pushed (it was
 *		unusable): the held ones are no longer the last popped and
 *		cannot be given back; they are returned empty instead
 * @rx_held_iov: their segments in @rx_iov
 * @rx_room:	their writable bytes
 * @rx_pushed:	RX packets pushed and not yet published (for coalescing: a
 *		frame over several chains counts once, a chain given back
 *		empty too)
 * @rx_coal:	coalescing of the RX queue
 * @tx_coal:	coalescing of the TX queue
 * @spill:	RX_SPILL bytes: a frame's tail, or a whole frame waiting
 * @pending:	length of the frame waiting for RX buffers, or 0
 * @pending_head: of its bytes, those already in the held chains, from the
 *		start of the first (0: the frame waits whole in
 *		@pending_buf); the rest is at the start of @spill
 * @pending_buf: where a frame waiting whole is: @spill, or a slot of
 *		@rx_reader
 * @rx_reader:	reads small frames from the TAP in batches (io_uring), or
 *		NULL: one readv() per frame
 * @rx_batch_size: entries of the next batch: twice the frames the last
 *		one found, so that an idle TAP costs few empty reads
 * @rx_batch_next: the next slot of the last batch to deliver
 * @rx_batch_count: slots the last batch filled (a frame or an error)
 * @stats:	counters, read by other threads with relaxed atomics
 * @capture:	where to record frames, or NULL
 * @filter_on:	apply @filter to received frames
 * @vlan_filter: also filter by VLAN id
 * @filter:	the driver's receive filter settings (a copy)
 */
struct NetPair {
    char *name;
    unsigned int index;
    NetPairQueues q;
    int tap_fd;
    int wake_fd;
    GThread *thread;
    GMutex lock;
    GCond cond;
    bool stop_req;
    bool pause_req;
    bool paused;
    bool mrg_rxbuf;
    size_t hdr_len;
    CtrlvqRss hash;
    uint8_t tap_hdr[NET_HDR_LEN];
    size_t rx_frame_max;
    size_t rx_frame_mtu;
    size_t rx_want;
    uint64_t guest_offloads;
    bool tx_blocked;
    bool rx_starved;
    bool tap_readable;
    bool tap_gone;
    VduseVqElem *elem;
    TxChain tx_chains[BURST];
    struct iovec tx_iov[TX_MAX_IOV];
    TapBatch *tx_batch;
    struct iovec rx_iov_mem[RX_MAX_IOV + 2];
    struct iovec *rx_iov;
    RxChain rx_chains[RX_MAX_CHAINS];
    unsigned int rx_held;
    bool rx_held_pinned;
    unsigned int rx_held_iov;
    size_t rx_room;
    unsigned int rx_pushed;
    PairCoal rx_coal;
    PairCoal tx_coal;
    uint8_t *spill;
    size_t pending;
    size_t pending_head;
    uint8_t *pending_buf;
    TapReader *rx_reader;
    unsigned int rx_batch_size;
    unsigned int rx_batch_next;
    unsigned int rx_batch_count;
    NetPairStats stats;
    NetCapture *capture;
    bool filter_on;
    bool vlan_filter;
    CtrlvqShadow filter;
};

/* stat_add() - add @n to a counter other threads may read. */
static inline void stat_add(uint64_t *counter, uint64_t n)
{
    __atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

NetPair *net_pair_new(const char *name, unsigned int index, int tap_fd)
{
    NetPair *p = g_new0(NetPair, 1);

    p->name = g_strdup(name);
    p->index = index;
    p->tap_fd = tap_fd;
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g_mutex_init(&p->lock);
    g_cond_init(&p->cond);
    p->elem = g_new(VduseVqElem, 1);
    p->spill = g_malloc(RX_SPILL);
    p->pending_buf = p->spill;
    p->rx_iov = p->rx_iov_mem + 1;
    p->hdr_len = NET_HDR_LEN;
    net_pair_set_io_uring(p, true);
    return p;
}

void net_pair_set_io_uring(NetPair *p, bool on)
{
    g_autofree char *why_not = NULL;
    g_autofree char *why_not_rx = NULL;

    tap_batch_free(p->tx_batch);
    p->tx_batch = tap_batch_new(p->tap_fd, BURST, on, &why_not);
    if (on && why_not) {
        g_debug("%s: pair %u: %s: one writev() per TX frame", p->name, p->index,
                why_not);
    }
    tap_reader_free(p->rx_reader);
    p->rx_reader = NULL;
    p->rx_batch_next = p->rx_batch_count = 0;
    p->pending = p->pending_head = 0;
    p->pending_buf = p->spill;
    if (on) {
        p->rx_reader =
            tap_reader_new(p->tap_fd, RX_BATCH, RX_SPILL, &why_not_rx);
    }
    if (on && why_not_rx) {
        g_debug("%s: pair %u: %s: one readv() per RX frame", p->name, p->index,
                why_not_rx);
    }
}

bool net_pair_uses_io_uring(const NetPair *p)
{
    return tap_batch_uses_uring(p->tx_batch);
}

bool net_pair_reads_io_uring(const NetPair *p)
{
    return p->rx_reader && !tap_reader_broken(p->rx_reader);
}

void net_pair_set_filter(NetPair *p, const CtrlvqShadow *shadow,
                         bool vlan_filter, uint64_t guest_offloads)
{
    p->filter_on = shadow != NULL;
    if (shadow) {
        p->filter = *shadow;
    }
    p->vlan_filter = vlan_filter;
    p->guest_offloads = guest_offloads;
}

void net_pair_set_hash(NetPair *p, const CtrlvqRss *cfg)
{
    p->hash = cfg ? *cfg : (CtrlvqRss){0};
}

void net_pair_set_coalescing(NetPair *p, const CtrlvqCoal *rx,
                             const CtrlvqCoal *tx)
{
    /* Paused or stopped: no window is open (pair_coal_flush()). */
    p->rx_coal.max_packets = rx->max_packets;
    p->rx_coal.max_usecs = rx->max_usecs;
    p->tx_coal.max_packets = tx->max_packets;
    p->tx_coal.max_usecs = tx->max_usecs;
}

/* The most frames net_pair_drop_queued() reads: a TAP queue holds 500
 * unless its txqueuelen was raised; the bound is for driver-free input. */
#define DROP_QUEUED_MAX 4096

unsigned int net_pair_drop_queued(NetPair *p)
{
    unsigned int n = 0;

    g_return_val_if_fail(!p->thread, 0);
    /* Frames a batch read ahead are as queued as those in the TAP. */
    for (; p->rx_batch_next < p->rx_batch_count; p->rx_batch_next++) {
        ssize_t res;

        tap_reader_slot(p->rx_reader, p->rx_batch_next, &res);
        n += res > 0;
    }
    while (n < DROP_QUEUED_MAX) {
        struct pollfd pfd = {.fd = p->tap_fd, .events = POLLIN};

        /* Asked first: a read must not wait, whatever the fd's flags. */
        if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN)) {
            break;
        }
        if (read(p->tap_fd, p->spill, RX_SPILL) >= 0) {
            n++;
        } else if (errno != EINTR) {
            break; /* what the pair will see too */
        }
    }
    stat_add(&p->stats.rx_dropped, n);
    return n;
}

void net_pair_set_capture(NetPair *p, NetCapture *cap)
{
    p->capture = cap;
}

void net_pair_free(NetPair *p)
{
    if (!p) {
        return;
    }
    net_pair_stop(p);
    if (p->wake_fd >= 0) {
        close(p->wake_fd);
    }
    g_mutex_clear(&p->lock);
    g_cond_clear(&p->cond);
    g_free(p->elem);
    tap_batch_free(p->tx_batch);
    tap_reader_free(p->rx_reader);
    g_free(p->spill);
    g_free(p->name);
    g_free(p);
}

unsigned int net_tap_offloads(uint64_t features)
{
    unsigned int off = 0;

    if (!(features & VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM))) {
        return 0; /* every other offload needs it */
    }
    off |= TUN_F_CSUM;
    if (features & VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4)) {
        off |= TUN_F_TSO4;
    }
    if (features & VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO6)) {
        off |= TUN_F_TSO6;
    }
    if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) &&
        (features & VDUSE_BIT(VIRTIO_NET_F_GUEST_ECN))) {
        off |= TUN_F_TSO_ECN;
    }
    if (features & VDUSE_BIT(VIRTIO_NET_F_GUEST_USO4)) {
        off |= TUN_F_USO4;
    }
    if (features & VDUSE_BIT(VIRTIO_NET_F_GUEST_USO6)) {
        off |= TUN_F_USO6;
    }
    return off;
}

size_t net_hdr_len(uint64_t features)
{
    return features & VDUSE_BIT(VIRTIO_NET_F_HASH_REPORT) ? NET_HASH_HDR_LEN
                                                          : NET_HDR_LEN;
}

size_t net_rx_frame_max(uint64_t features, uint16_t mtu)
{
    const uint64_t gso = VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4) |
                         VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO6) |
                         VDUSE_BIT(VIRTIO_NET_F_GUEST_USO4) |
                         VDUSE_BIT(VIRTIO_NET_F_GUEST_USO6);

    /* Ethernet header and one VLAN tag on top of the MTU. */
    if (features & gso) {
        return net_hdr_len(features) + 65535 + 14 + 4;
    }
    return net_hdr_len(features) + 14 + 4 + MAX(mtu, 1500);
}

/**
 * now_ns() - the CLOCK_MONOTONIC time
 *
 * Return: nanoseconds.
 */
static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/**
 * pair_irq() - interrupt the driver for one of the pair's queues
 * @p:		the pair
 * @c:		the queue's coalescing (its index and counter)
 */
static void pair_irq(NetPair *p, const PairCoal *c)
{
    int ret = p->q.notify(p->q.opaque, c->vq_index);

    if (ret < 0) {
        g_message("%s: vq %u: interrupt: %s", p->name, c->vq_index,
                  g_strerror(-ret));
    }
    stat_add(c->irqs, 1);
}

/**
 * coal_on() - whether a queue's interrupts are coalesced
 * @c:		its coalescing
 *
 * Return: true with both parameters non-zero (the spec: either 0 means an
 * interrupt for every packet).
 */
static bool coal_on(const PairCoal *c)
{
    return c->max_packets && c->max_usecs;
}

/**
 * coal_end() - end the open window of a queue: its interrupt, if owed
 * @p:		the pair
 * @c:		the queue's coalescing
 */
static void coal_end(NetPair *p, PairCoal *c)
{
    if (c->owed) {
        pair_irq(p, c);
    }
    c->packets = 0;
    c->owed = false;
}

/**
 * pair_coal_flush() - end both windows now (pause, stop)
 * @p:		the pair
 */
static void pair_coal_flush(NetPair *p)
{
    coal_end(p, &p->rx_coal);
    coal_end(p, &p->tx_coal);
}

/**
 * pair_coal_expire() - end the windows whose deadline passed
 * @p:		the pair
 */
static void pair_coal_expire(NetPair *p)
{
    int64_t now;

    if (!p->rx_coal.packets && !p->tx_coal.packets) {
        return; /* no clock read on a pair without coalescing */
    }
    now = now_ns();
    if (p->rx_coal.packets && now >= p->rx_coal.deadline) {
        coal_end(p, &p->rx_coal);
    }
    if (p->tx_coal.packets && now >= p->tx_coal.deadline) {
        coal_end(p, &p->tx_coal);
    }
}

/**
 * pair_coal_timeout() - how long the thread may sleep
 * @p:		the pair
 * @ts:		receives the time left until the first open window ends
 *
 * Return: @ts, or NULL to sleep until something happens (no window open).
 */
static struct timespec *pair_coal_timeout(NetPair *p, struct timespec *ts)
{
    int64_t first = INT64_MAX, now, left;

    if (p->rx_coal.packets) {
        first = p->rx_coal.deadline;
    }
    if (p->tx_coal.packets) {
        first = MIN(first, p->tx_coal.deadline);
    }
    if (first == INT64_MAX) {
        return NULL;
    }
    /* Once: MAX() would read the clock twice, and a negative time is
     * EINVAL to ppoll(). */
    now = now_ns();
    left = first > now ? first - now : 0;
    ts->tv_sec = left / 1000000000;
    ts->tv_nsec = left % 1000000000;
    return ts;
}

/**
 * pair_notify() - publish what was pushed on @vq; interrupt if asked, now
 * or, coalescing, when the window ends
 * @p:		the pair
 * @vq:		the queue
 * @c:		its coalescing
 * @packets:	packets pushed since the last publication
 */
static void pair_notify(NetPair *p, VduseVq *vq, PairCoal *c,
                        unsigned int packets)
{
    bool want = vduse_vq_flush(vq);

    if (!coal_on(c)) {
        if (want) {
            pair_irq(p, c);
        }
        return;
    }
    if (!packets && !want) {
        return; /* nothing was published */
    }
    if (!c->packets) {
        c->deadline = now_ns() + (int64_t)c->max_usecs * 1000;
    }
    c->packets += MAX(packets, 1u);
    c->owed |= want;
    if (c->packets >= c->max_packets) {
        coal_end(p, c);
    }
}

/**
 * tx_chain_ok() - whether a popped TX chain is a frame we can send
 * @p:		the pair
 * @e:		the chain
 *
 * Return: true if it is a header and a frame, nothing writable.
 */
static bool tx_chain_ok(const NetPair *p, const VduseVqElem *e)
{
    return e->out_len > p->hdr_len && e->out_num > 0 && e->in_num == 0;
}

/**
 * tx_chain_prepare() - make a TX chain's segments what the TAP takes
 * @p:		the pair
 * @e:		the chain, tx_chain_ok()
 *
 * With hash reports the driver's header is 20 bytes and the TAP's 12: the
 * 8 between are cut out. A chain that cannot be cut (a split with every
 * segment in use) gets out_num 0, so that tx_chain_ok() refuses it.
 */
static void tx_chain_prepare(const NetPair *p, VduseVqElem *e)
{
    int n;

    if (p->hdr_len == NET_HDR_LEN) {
        return;
    }
    n = iov_cut(e->iov, e->out_num, VDUSE_VQ_MAX_IOV, NET_HDR_LEN,
                p->hdr_len - NET_HDR_LEN);
    e->out_num = n < 0 ? 0 : (unsigned int)n;
}

/**
 * tx_pop() - pop a TX burst: up to BURST chains, their segments packed in
 * @p->tx_iov
 * @p:		the pair
 * @vq:		TX vq
 * @ret:	out: the last vduse_vq_pop() result (negative: the queue failed)
 *
 * A chain whose segments no longer fit goes back to the ring, first of
 * the next burst; the first of a burst always fits.
 * Return: chains popped, in @p->tx_chains.
 */
static unsigned int tx_pop(NetPair *p, VduseVq *vq, int *ret)
{
    VduseVqElem *e = p->elem;
    unsigned int n = 0, used = 0;

    while (n < BURST && (*ret = vduse_vq_pop(vq, e)) > 0) {
        bool ok = tx_chain_ok(p, e);

        if (ok) {
            tx_chain_prepare(p, e);
            ok = tx_chain_ok(p, e);
        }
        if (ok && used + e->out_num > TX_MAX_IOV) {
            vduse_vq_unpop(vq, 1);
            break;
        }
        p->tx_chains[n++] = (TxChain){
            .id = e->id,
            .iov = used,
            .niov = ok ? e->out_num : 0,
            .len = e->out_len,
        };
        if (ok) {
            memcpy(&p->tx_iov[used], e->iov, e->out_num * sizeof(e->iov[0]));
            used += e->out_num;
        }
    }
    return n;
}

/**
 * pair_tx_burst() - send up to BURST frames from the TX vq to the TAP
 * @p:		the pair
 * @vq:		TX vq
 *
 * The chains are popped first, then their frames written to the TAP in
 * one batch (tap-batch.c: one system call with io_uring), in order; what
 * the TAP refused with EAGAIN and everything after it goes back to the
 * ring, and the thread waits for POLLOUT.
 *
 * Return: number of chains consumed, or -EIO if the queue failed.
 */
static int pair_tx_burst(NetPair *p, VduseVq *vq)
{
    TapFrame frames[BURST];
    ssize_t res[BURST];
    unsigned int popped, nframes = 0, i;
    int ret = 0;

    /* If the queue just failed, what was popped before is still sent. */
    popped = tx_pop(p, vq, &ret);
    for (i = 0; i < popped; i++) {
        const TxChain *c = &p->tx_chains[i];

        if (c->niov) {
            frames[nframes++] = (TapFrame){
                &p->tx_iov[c->iov], (int)MIN(c->niov, (unsigned int)IOV_MAX)};
        }
    }
    tap_batch_write(p->tx_batch, frames, nframes, res);

    /* In pop order, so that what is given back is the last popped. */
    for (i = 0, nframes = 0; i < popped; i++) {
        const TxChain *c = &p->tx_chains[i];
        ssize_t n;

        if (!c->niov) {
            stat_add(&p->stats.tx_dropped, 1);
            stat_add(&p->stats.tx_malformed, 1);
            vduse_vq_push(vq, c->id, 0);
            continue;
        }
        n = res[nframes++];
        if (n == -EAGAIN || n == -ECANCELED) {
            vduse_vq_unpop(vq, popped - i);
            p->tx_blocked = true;
            break;
        }
        if (n < 0) {
            /* A bad GSO header, or the TAP is down: the frame is lost. */
            stat_add(&p->stats.tx_dropped, 1);
        } else {
            if (p->capture) {
                net_capture_frame(p->capture, &p->tx_iov[c->iov], c->niov,
                                  NET_HDR_LEN, c->len - p->hdr_len);
            }
            stat_add(&p->stats.tx_packets, 1);
            stat_add(&p->stats.tx_bytes, c->len - p->hdr_len);
        }
        vduse_vq_push(vq, c->id, 0);
    }
    pair_notify(p, vq, &p->tx_coal, i);
    return ret < 0 ? -EIO : (int)i;
}

/**
 * rx_frame_chains() - the held chains a frame is read into: with
 * MRG_RXBUF, the first ones that hold @p->rx_want bytes (all if they do
 * not), else the first one
 * @p:		the pair, holding at least one chain
 * @room:	out: their writable bytes
 *
 * Return: their segments, from the start of @p->rx_iov.
 */
static unsigned int rx_frame_chains(NetPair *p, size_t *room)
{
    unsigned int c = 0, niov = 0;

    *room = 0;
    do {
        *room += p->rx_chains[c].len;
        niov += p->rx_chains[c].niov;
        c++;
    } while (p->mrg_rxbuf && c < p->rx_held && *room < p->rx_want);
    return niov;
}

/**
 * rx_hold() - hold the chain in @p->elem after those held
 * @p:		the pair, with room for one more chain
 */
static void rx_hold(NetPair *p)
{
    const VduseVqElem *e = p->elem;

    memcpy(&p->rx_iov[p->rx_held_iov], &e->iov[e->out_num],
           e->in_num * sizeof(struct iovec));
    p->rx_chains[p->rx_held++] = (RxChain){
        .id = e->id,
        .len = (uint32_t)MIN(e->in_len, UINT32_MAX),
        .niov = e->in_num,
        .cut = e->in_cut,
    };
    p->rx_held_iov += e->in_num;
    p->rx_room += e->in_len;
}

/**
 * rx_map_held_whole() - map all of the one chain held without MRG_RXBUF
 * @p:		the pair, holding one chain whose prefix only is mapped
 * @vq:		RX vq
 *
 * The bytes already written to its prefix stay where they are: the
 * chain's first segments cover them again.
 * Return: 0, or -EIO if the queue failed.
 */
static int rx_map_held_whole(NetPair *p, VduseVq *vq)
{
    VduseVqElem *e = p->elem;

    e->id = p->rx_chains[0].id;
    if (vduse_vq_map_whole(vq, e, p->rx_iov, p->rx_chains[0].niov) < 0) {
        return -EIO;
    }
    /* It begins with the prefix held (checked), within RX_MAX_IOV. */
    p->rx_held = p->rx_held_iov = 0;
    p->rx_room = 0;
    rx_hold(p);
    return 0;
}

/**
 * rx_fill() - hold chains until they have @want bytes, or none is left
 * @p:		the pair
 * @vq:		RX vq
 * @want:	bytes wanted (header included)
 *
 * Without MRG_RXBUF a frame goes in one chain: one held chain is enough,
 * and only its first @want bytes are mapped. Linux's "big packets" chain
 * is 17 descriptors, of which a small frame needs one or two; the rest is
 * mapped when a larger frame comes.
 * Return: 0, or -EIO if the queue failed.
 */
static int rx_fill(NetPair *p, VduseVq *vq, size_t want)
{
    VduseVqElem *e = p->elem;

    if (!p->mrg_rxbuf && p->rx_held == 1 && p->rx_chains[0].cut &&
        p->rx_room < want && rx_map_held_whole(p, vq) < 0) {
        return -EIO;
    }
    while (p->rx_room < want && p->rx_held < RX_MAX_CHAINS &&
           (p->mrg_rxbuf || p->rx_held == 0)) {
        int ret = p->mrg_rxbuf ? vduse_vq_pop(vq, e)
                               : vduse_vq_pop_prefix(vq, e, want);

        if (ret <= 0) {
            return ret < 0 ? -EIO : 0;
        }
        if (e->in_len < p->hdr_len) {
            /* No room for the header: give it back empty. */
            vduse_vq_push(vq, e->id, 0);
            p->rx_pushed++;
            stat_add(&p->stats.rx_dropped, 1);
            p->rx_held_pinned |= p->rx_held > 0;
            continue;
        }
        if (p->rx_held_iov + e->in_num > RX_MAX_IOV) {
            vduse_vq_unpop(vq, 1);
            return 0;
        }
        rx_hold(p);
    }
    return 0;
}

/**
 * rx_release() - give every held chain back to the ring
 * @p:		the pair
 * @vq:		RX vq
 *
 * They are the last ones popped, none pushed: the available index the
 * device reports is then exact. A frame waiting for buffers stays, whole
 * in @p->spill.
 */
static void rx_release(NetPair *p, VduseVq *vq)
{
    g_assert(p->pending_head <= p->pending);
    if (p->pending_head) {
        /* The chains go back: the frame's start joins its tail. */
        memmove(p->spill + p->pending_head, p->spill,
                p->pending - p->pending_head);
        iov_to_buf(p->rx_iov, p->rx_held_iov, 0, p->spill, p->pending_head);
        p->pending_head = 0;
    }
    if (!p->rx_held_pinned) {
        vduse_vq_unpop(vq, p->rx_held);
    } else {
        /* Only a driver that posts buffers too small for the header gets
         * here: its held buffers come back used and empty. */
        for (unsigned int i = 0; i < p->rx_held; i++) {
            vduse_vq_push(vq, p->rx_chains[i].id, 0);
        }
        pair_notify(p, vq, &p->rx_coal, p->rx_pushed + p->rx_held);
        p->rx_pushed = 0;
    }
    p->rx_held_pinned = false;
    p->rx_held = p->rx_held_iov = 0;
    p->rx_room = 0;
}

/**
 * rx_header_ok() - check and fix the frame's virtio-net header
 * @p:		the pair
 * @iov:	segments holding the frame (header first)
 * @niov:	their number
 * @len:	bytes received, header included
 *
 * The TAP's offloads follow the driver's, but a frame queued before a
 * change, or a TAP whose offloads someone else set, may carry what the
 * driver did not accept (virtio 1.2 5.1.6.4): GSO of a kind it does not
 * take, or a partial checksum without GUEST_CSUM (dropped), DATA_VALID
 * without GUEST_CSUM (cleared), or a frame over the MTU without GSO.
 * Return: true to deliver.
 */
static bool rx_header_ok(NetPair *p, const struct iovec *iov, unsigned int niov,
                         size_t len)
{
    const uint64_t o = p->guest_offloads;
    struct virtio_net_hdr_v1 h;
    bool ok;

    if (iov_to_buf(iov, niov, 0, &h, sizeof(h)) < sizeof(h)) {
        return false;
    }
    switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        ok = len - p->hdr_len <= p->rx_frame_mtu - p->hdr_len;
        break;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        ok = o & VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4);
        break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        ok = o & VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO6);
        break;
    case 5: /* VIRTIO_NET_HDR_GSO_UDP_L4 */
        ok = o & (VDUSE_BIT(VIRTIO_NET_F_GUEST_USO4) |
                  VDUSE_BIT(VIRTIO_NET_F_GUEST_USO6));
        break;
    default: /* UFO, never offered, or nonsense */
        ok = false;
        break;
    }
    if ((h.gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
        !(o & VDUSE_BIT(VIRTIO_NET_F_GUEST_ECN))) {
        ok = false;
    }
    if (!(o & VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM))) {
        if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
            ok = false;
        } else if (h.flags) {
            h.flags = 0; /* DATA_VALID means nothing to this driver */
            iov_from_buf(iov, niov, 0, &h.flags, sizeof(h.flags));
        }
    }
    return ok;
}

/**
 * rx_filter_accepts() - whether a frame passes the driver's receive filter
 * @p:		the pair
 * @iov:	segments holding the frame (header first)
 * @niov:	their number
 * @len:	bytes received, header included
 *
 * Return: true to deliver.
 */
static bool rx_filter_accepts(NetPair *p, const struct iovec *iov,
                              unsigned int niov, size_t len)
{
    uint8_t eth[18];
    int vlan = -1;

    if (!p->filter_on) {
        return true;
    }
    if (len < p->hdr_len + 14 ||
        iov_to_buf(iov, niov, p->hdr_len, eth, sizeof(eth)) < 14) {
        return true; /* a runt: the driver drops it itself */
    }
    if (eth[12] == 0x81 && eth[13] == 0x00 && len >= p->hdr_len + 16) {
        vlan = ((eth[14] << 8) | eth[15]) & 0xfff;
    }
    return ctrlvq_filter_accepts(&p->filter, eth, vlan, p->vlan_filter);
}

/**
 * rx_hash_fill() - the hash report of a frame in the held chains
 * @p:		the pair, with hash reports negotiated
 * @niov:	segments of the frame in @p->rx_iov (header first)
 * @len:	bytes of the frame, header included
 *
 * Without a hash configuration, or for a frame of no enabled type, the
 * report says none (hash 0, VIRTIO_NET_HASH_REPORT_NONE).
 */
static void rx_hash_fill(NetPair *p, unsigned int niov, size_t len)
{
    struct virtio_net_hdr_v1_hash h = {0};

    if (p->hash.enabled) {
        uint8_t start[HASH_INPUT_MAX];
        size_t got = iov_to_buf(p->rx_iov, niov, p->hdr_len, start,
                                MIN(len - p->hdr_len, sizeof(start)));
        uint32_t hash;
        uint8_t report = net_rss_hash(&p->hash, start, got, &hash);

        h.hash_value = htole32(hash);
        h.hash_report = htole16(report);
    }
    iov_from_buf(p->rx_iov, niov,
                 offsetof(struct virtio_net_hdr_v1_hash, hash_value),
                 &h.hash_value, p->hdr_len - NET_HDR_LEN);
}

/**
 * rx_deliver() - push the held chains a frame of @len bytes filled
 * @p:		the pair
 * @vq:		RX vq
 * @len:	bytes in the chains' buffers, header included
 *
 * The chains used stop being held; the others stay for the next frame.
 */
static void rx_deliver(NetPair *p, VduseVq *vq, size_t len)
{
    unsigned int used = 0, used_iov = 0;
    size_t left = len;
    uint16_t le;

    while (left > 0 && used < p->rx_held) {
        uint32_t chunk = (uint32_t)MIN(left, p->rx_chains[used].len);

        vduse_vq_push(vq, p->rx_chains[used].id, chunk);
        left -= chunk;
        used_iov += p->rx_chains[used].niov;
        used++;
    }
    p->rx_pushed++;
    le = htole16((uint16_t)used);
    iov_from_buf(p->rx_iov, used_iov,
                 offsetof(struct virtio_net_hdr_v1, num_buffers), &le,
                 sizeof(le));
    if (p->hdr_len == NET_HASH_HDR_LEN) {
        rx_hash_fill(p, used_iov, len);
    }
    if (p->capture) {
        net_capture_frame(p->capture, p->rx_iov, used_iov, p->hdr_len,
                          len - p->hdr_len);
    }
    stat_add(&p->stats.rx_packets, 1);
    stat_add(&p->stats.rx_bytes, len - p->hdr_len);

    for (unsigned int i = 0; i < used; i++) {
        p->rx_room -= p->rx_chains[i].len;
    }
    p->rx_held -= used;
    p->rx_held_pinned &= p->rx_held > 0;
    p->rx_held_iov -= used_iov;
    memmove(p->rx_chains, p->rx_chains + used,
            p->rx_held * sizeof(p->rx_chains[0]));
    memmove(p->rx_iov, p->rx_iov + used_iov,
            p->rx_held_iov * sizeof(p->rx_iov[0]));
}

/**
 * rx_deliver_pending() - deliver the frame waiting for RX buffers
 * @p:		the pair
 * @vq:		RX vq
 *
 * Its start is in the held chains or in the spill buffer, its tail in the
 * spill buffer: only what is in the spill buffer is copied. A frame that
 * waits whole may be in a slot of the batch reader instead.
 * Return: 1 if delivered or dropped, 0 if the driver still lacks buffers
 * (the pair sleeps until its kick), -EIO if the queue failed.
 */
static int rx_deliver_pending(NetPair *p, VduseVq *vq)
{
    struct iovec whole = {.iov_base = p->pending_buf, .iov_len = p->pending};
    bool ok = p->pending_head
                  ? rx_header_ok(p, p->rx_iov, p->rx_held_iov, p->pending)
                  : rx_header_ok(p, &whole, 1, p->pending);

    /* The driver may have changed its offloads while the frame waited
     * (GUEST_OFFLOADS_SET): it gets only what it accepts now. */
    if (!ok) {
        stat_add(&p->stats.rx_dropped, 1);
        p->pending = p->pending_head = 0;
        return 1;
    }
    if (rx_fill(p, vq, p->pending) < 0) {
        return -EIO;
    }
    if (!p->mrg_rxbuf && p->rx_held > 0 && p->rx_room < p->pending) {
        /* One buffer per frame, and the driver's is too small (mapped
         * whole by rx_fill(), it may hold the frame's start: overwritten
         * by the next). */
        stat_add(&p->stats.rx_dropped, 1);
        p->pending = p->pending_head = 0;
        return 1;
    }
    if (p->rx_room < p->pending || p->rx_held == 0) {
        p->rx_starved = true;
        return 0;
    }
    iov_from_buf(p->rx_iov, p->rx_held_iov, p->pending_head, p->pending_buf,
                 p->pending - p->pending_head);
    rx_deliver(p, vq, p->pending);
    p->pending = p->pending_head = 0;
    return 1;
}

/**
 * rx_readv() - read one frame from the TAP into @p->rx_iov
 * @p:		the pair
 * @niov:	segments in @p->rx_iov (chains, then the spill buffer)
 *
 * With hash reports the TAP's header goes to @p->tap_hdr and the frame
 * @p->hdr_len bytes into the segments, then the header is copied to their
 * start: the 8 bytes between are rx_hash_fill()'s.
 * Return: what readv() returned, with the 8 bytes counted for a frame
 * read whole with its header (as if the TAP's header were the driver's).
 */
static ssize_t rx_readv(NetPair *p, unsigned int niov)
{
    size_t skip = p->hdr_len;
    struct iovec before, at;
    unsigned int k = 0;
    ssize_t n;

    if (p->hdr_len == NET_HDR_LEN) {
        return readv(p->tap_fd, p->rx_iov, (int)MIN(niov, (unsigned)IOV_MAX));
    }
    /* Where the frame starts: in the first chain, whose buffers hold a
     * whole header (rx_fill()); never the spill buffer, the last one. */
    while (k + 1 < niov && skip >= p->rx_iov[k].iov_len) {
        skip -= p->rx_iov[k++].iov_len;
    }
    /* The entry before it is the TAP's header (rx_iov[-1] is there for
     * k == 0), both put back after the read. */
    before = p->rx_iov[(int)k - 1];
    at = p->rx_iov[k];
    p->rx_iov[(int)k - 1] = (struct iovec){p->tap_hdr, NET_HDR_LEN};
    p->rx_iov[k].iov_base = (uint8_t *)at.iov_base + skip;
    p->rx_iov[k].iov_len = at.iov_len - skip;
    n = readv(p->tap_fd, &p->rx_iov[(int)k - 1],
              (int)MIN(niov - k + 1, (unsigned)IOV_MAX));
    p->rx_iov[(int)k - 1] = before;
    p->rx_iov[k] = at;
    if (n < (ssize_t)NET_HDR_LEN) {
        return n;
    }
    iov_from_buf(p->rx_iov, niov, 0, p->tap_hdr, NET_HDR_LEN);
    return n + (ssize_t)(p->hdr_len - NET_HDR_LEN);
}

/**
 * rx_read_checked() - what a read of the TAP returned, checked
 * @p:		the pair
 * @n:		bytes read (with the driver's header length), or -errno
 * @room:	bytes of the driver's buffers the frame went to (0: none)
 *
 * Return: @n if it is a frame the driver may get; 0 if there was none
 * (the flags say why); -1 if the frame was dropped (counted).
 */
static ssize_t rx_read_checked(NetPair *p, ssize_t n, size_t room)
{
    if (n == -EAGAIN || n == -EINTR) {
        p->tap_readable = false;
        return 0;
    }
    if (n < 0 && n != -EINVAL && n != -EMSGSIZE) {
        /* EBADFD: the TAP was deleted under us; it stays so. Polling it
         * would report an error at once, for ever: stop reading it. */
        g_message("%s: pair %u: the TAP cannot be read (%s); receiving stops "
                  "until vduse-net is restarted",
                  p->name, p->index, g_strerror((int)-n));
        p->tap_gone = true;
        p->tap_readable = false;
        return 0;
    }
    if (n < (ssize_t)p->hdr_len || (size_t)n > MAX(room, p->rx_frame_max)) {
        /* An error, or a frame larger than the driver may get (the TAP
         * says the whole length but copied what fit): lost. */
        stat_add(&p->stats.rx_dropped, 1);
        return n == 0 ? 0 : -1;
    }
    return n;
}

/**
 * rx_read_frame() - read one frame from the TAP and check it
 * @p:		the pair
 * @niov:	segments in @p->rx_iov: the chains' (rx_frame_chains()),
 *		then the spill buffer
 * @room:	the chains' writable bytes
 *
 * Return: the frame's length (header included) to deliver; 0 if no frame
 * was read (the flags say why); -1 if one was read and dropped or
 * filtered (counted).
 */
static ssize_t rx_read_frame(NetPair *p, unsigned int niov, size_t room)
{
    ssize_t n = rx_readv(p, niov);

    n = rx_read_checked(p, n < 0 ? -errno : n, room);
    if (n <= 0) {
        return n;
    }
    if (!rx_header_ok(p, p->rx_iov, niov, (size_t)n)) {
        stat_add(&p->stats.rx_dropped, 1);
        return -1;
    }
    if (!rx_filter_accepts(p, p->rx_iov, niov, (size_t)n)) {
        stat_add(&p->stats.rx_filtered, 1);
        return -1;
    }
    return n;
}

/**
 * rx_want_after() - what to hold chains for, after a frame of @len bytes
 * @p:		the pair
 * @len:	the frame's length, header included
 *
 * After a GSO frame, the largest frame (the next is likely one too);
 * after any other, one MTU-sized frame.
 */
static void rx_want_after(NetPair *p, size_t len)
{
    p->rx_want = len > p->rx_frame_mtu ? p->rx_frame_max : p->rx_frame_mtu;
}

/**
 * rx_take_batched() - deliver the next frame a batch read
 * @p:		the pair, with frames of a batch left
 * @vq:		RX vq
 *
 * The frame waits in its slot like a frame in the spill buffer; slots
 * that found the TAP empty are skipped.
 * Return: as pair_rx_one(); 0 when the batch has no frame left.
 */
static int rx_take_batched(NetPair *p, VduseVq *vq)
{
    /* The TAP's header is read this far into the slot, so that moving it
     * to the slot's start leaves the frame at the driver's header length
     * (hash reports: 8 bytes for rx_hash_fill()). */
    const size_t headroom = p->hdr_len - NET_HDR_LEN;

    while (p->rx_batch_next < p->rx_batch_count) {
        ssize_t res;
        uint8_t *slot = tap_reader_slot(p->rx_reader, p->rx_batch_next++, &res);
        struct iovec whole;
        ssize_t n;

        if (res == -EAGAIN || res == 0) {
            continue; /* a frame may have come in for the next entry */
        }
        n = rx_read_checked(p, res < 0 ? res : res + (ssize_t)headroom, 0);
        if (n == 0) {
            p->rx_batch_next = p->rx_batch_count; /* the TAP is gone */
            return 0;
        }
        if (n < 0) {
            return 1;
        }
        if (headroom) {
            memmove(slot, slot + headroom, NET_HDR_LEN);
        }
        whole = (struct iovec){.iov_base = slot, .iov_len = (size_t)n};
        if (!rx_filter_accepts(p, &whole, 1, (size_t)n)) {
            stat_add(&p->stats.rx_filtered, 1);
            return 1;
        }
        rx_want_after(p, (size_t)n);
        /* Checked and copied into chains as a waiting frame is. */
        p->pending = (size_t)n;
        p->pending_head = 0;
        p->pending_buf = slot;
        return rx_deliver_pending(p, vq) < 0 ? -EIO : 1;
    }
    return 0;
}

/**
 * rx_read_batch() - read a batch of frames from the TAP (tap-read.c)
 * @p:		the pair, holding chains, with no frame of a batch left
 * @vq:		RX vq
 *
 * No more frames than the driver has chains: a full guest still stops
 * the reads. The TAP stays readable unless the last entry found it empty.
 */
static void rx_read_batch(NetPair *p, VduseVq *vq)
{
    unsigned int n =
        MIN(p->rx_batch_size, p->rx_held + vduse_vq_avail_pending(vq));
    unsigned int frames = 0;
    ssize_t res = -EAGAIN;

    n = CLAMP(n, 1, RX_BATCH);
    p->rx_batch_next = 0;
    p->rx_batch_count =
        tap_reader_read(p->rx_reader, n, p->hdr_len - NET_HDR_LEN);
    for (unsigned int i = 0; i < p->rx_batch_count; i++) {
        tap_reader_slot(p->rx_reader, i, &res);
        frames += res != -EAGAIN;
    }
    if (p->rx_batch_count && res == -EAGAIN) {
        p->tap_readable = false;
    }
    p->rx_batch_size = CLAMP(frames * 2, 2, RX_BATCH);
}

/**
 * pair_rx_one() - move one frame from the TAP to the driver
 * @p:		the pair
 * @vq:		RX vq
 *
 * After a GSO frame, chains for the largest frame are held before the
 * next read (they stay held for the frames after it), so that a stream of
 * GSO frames is read straight into them; after any other frame, chains
 * for one MTU-sized frame. What does not fit goes to the spill buffer.
 * Small frames are read in batches where io_uring is there, and copied
 * into the chains from the batch's slots.
 * Return: 1 if a frame was handled (delivered, filtered or dropped), 0 if
 * nothing can be done now (no frame, or no buffers: the flags say which),
 * -EIO if the queue failed.
 */
static int pair_rx_one(NetPair *p, VduseVq *vq)
{
    struct iovec after;
    unsigned int niov;
    size_t room;
    ssize_t n;

    if (p->pending) {
        return rx_deliver_pending(p, vq);
    }
    if (p->rx_batch_next < p->rx_batch_count) {
        int ret = rx_take_batched(p, vq);

        if (ret != 0) {
            return ret;
        }
    }
    /* Held before the read, and kept for the frames after it. */
    if (rx_fill(p, vq, p->rx_want) < 0) {
        return -EIO;
    }
    if (p->rx_held == 0) {
        p->rx_starved = true;
        return 0;
    }
    if (!p->tap_readable) {
        return 0; /* what the batch said */
    }
    if (p->rx_want == p->rx_frame_mtu && net_pair_reads_io_uring(p)) {
        rx_read_batch(p, vq);
        if (p->rx_batch_count) {
            return rx_take_batched(p, vq);
        }
        /* Nothing submitted (the reader broke before): frame by frame */
    }
    niov = rx_frame_chains(p, &room);
    /* The spill buffer follows, over the next chain's first segment. */
    after = p->rx_iov[niov];
    p->rx_iov[niov] = (struct iovec){p->spill, RX_SPILL};
    n = rx_read_frame(p, niov + 1, room);
    p->rx_iov[niov] = after;
    if (n <= 0) {
        return n == 0 ? 0 : 1;
    }
    rx_want_after(p, (size_t)n);
    if ((size_t)n <= room) {
        rx_deliver(p, vq, (size_t)n);
        return 1;
    }
    if (!p->mrg_rxbuf && !p->rx_chains[0].cut) {
        /* One buffer per frame, and the driver's is too small. */
        stat_add(&p->stats.rx_dropped, 1);
        return 1;
    }
    /* The tail is in the spill buffer: it waits for more chains, or for
     * the rest of the one chain to be mapped. */
    p->pending = (size_t)n;
    p->pending_head = room;
    p->pending_buf = p->spill;
    return rx_deliver_pending(p, vq) < 0 ? -EIO : 1;
}

/**
 * pair_rx_burst() - receive up to BURST frames
 * @p:		the pair
 * @vq:		RX vq
 *
 * Return: frames handled, or -EIO if the queue failed.
 */
static int pair_rx_burst(NetPair *p, VduseVq *vq)
{
    int done = 0, ret = 0;

    while (done < BURST && (ret = pair_rx_one(p, vq)) > 0) {
        done++;
    }
    pair_notify(p, vq, &p->rx_coal, p->rx_pushed);
    p->rx_pushed = 0;
    return ret < 0 ? -EIO : done;
}

/**
 * drain_eventfd() - consume an eventfd's count
 * @fd:		the eventfd
 */
static void drain_eventfd(int fd)
{
    uint64_t count;

    if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
        g_message("eventfd read: %s", g_strerror(errno));
    }
}

/**
 * pair_check_requests() - pause or stop as the main thread asks
 * @p:		the pair
 *
 * Return: true if the thread must return.
 */
static bool pair_check_requests(NetPair *p)
{
    bool stop;

    g_mutex_lock(&p->lock);
    if (p->pause_req || p->stop_req) {
        /* Nothing popped and not pushed while paused or after, and no
         * interrupt owed: the driver sees all that was done. */
        rx_release(p, p->q.rx);
        pair_coal_flush(p);
    }
    while (p->pause_req && !p->stop_req) {
        if (!p->paused) {
            p->paused = true;
            g_cond_broadcast(&p->cond);
        }
        g_cond_wait(&p->cond, &p->lock);
    }
    p->paused = false;
    stop = p->stop_req;
    g_mutex_unlock(&p->lock);
    return stop;
}

/**
 * rx_refresh() - notice RX work without sleeping
 * @p:		the pair
 * @rx:		RX vq
 *
 * New buffers from the driver end a starvation; a frame in the TAP makes
 * it readable. One poll() with no timeout, only while the TAP was seen
 * empty.
 */
static void rx_refresh(NetPair *p, VduseVq *rx)
{
    if (p->rx_starved && vduse_vq_avail_pending(rx) > 0) {
        p->rx_starved = false;
    }
    if (!p->tap_readable && !p->tap_gone) {
        struct pollfd pfd = {.fd = p->tap_fd, .events = POLLIN};

        p->tap_readable = poll(&pfd, 1, 0) > 0;
    }
}

/**
 * pair_thread() - the dataplane loop of one queue pair
 * @data:	the pair
 *
 * Return: NULL.
 */
static gpointer pair_thread(gpointer data)
{
    NetPair *p = data;
    VduseVq *rx = p->q.rx;
    VduseVq *tx = p->q.tx;
    int rx_kick = p->q.rx_kick;
    int tx_kick = p->q.tx_kick;
    bool tx_failed = false, rx_failed = false;

    if (prctl(PR_SET_TIMERSLACK, COAL_TIMER_SLACK_NS, 0, 0, 0) < 0) {
        g_message("%s: pair %u: timer slack: %s; coalescing deadlines may "
                  "come 50 us late",
                  p->name, p->index, g_strerror(errno));
    }
    while (!pair_check_requests(p)) {
        struct pollfd fds[4];
        struct timespec ts;
        int tx_done = 0, rx_done = 0;
        nfds_t nfds = 0;

        pair_coal_expire(p);

        if (!tx_failed && !p->tx_blocked) {
            vduse_vq_enable_notify(tx, false);
            tx_done = pair_tx_burst(p, tx);
            tx_failed = tx_done < 0;
        }
        if (tx_done > 0 && !rx_failed) {
            /* A busy TX ring must not starve RX: look at what the idle
             * branch would have waited for. */
            rx_refresh(p, rx);
        }
        if (!rx_failed && !p->tap_gone && !p->rx_starved &&
            (p->tap_readable || p->pending ||
             p->rx_batch_next < p->rx_batch_count)) {
            rx_done = pair_rx_burst(p, rx);
            rx_failed = rx_done < 0;
        }
        if (tx_done > 0 || rx_done > 0) {
            continue; /* more may be waiting; requests are checked first */
        }

        /* Nothing to do: ask for kicks, then look once more, then sleep. */
        fds[nfds++] = (struct pollfd){.fd = p->wake_fd, .events = POLLIN};
        if (!tx_failed) {
            if (p->tx_blocked) {
                fds[nfds++] =
                    (struct pollfd){.fd = p->tap_fd, .events = POLLOUT};
            } else if (vduse_vq_enable_notify(tx, true)) {
                continue;
            } else {
                fds[nfds++] = (struct pollfd){.fd = tx_kick, .events = POLLIN};
            }
        }
        if (!rx_failed && !p->tap_gone) {
            if (p->rx_starved) {
                if (vduse_vq_enable_notify(rx, true)) {
                    p->rx_starved = false;
                    continue;
                }
                fds[nfds++] = (struct pollfd){.fd = rx_kick, .events = POLLIN};
            } else if (!p->tap_readable) {
                fds[nfds++] =
                    (struct pollfd){.fd = p->tap_fd, .events = POLLIN};
            }
        }
        if (ppoll(fds, nfds, pair_coal_timeout(p, &ts), NULL) < 0 &&
            errno != EINTR) {
            g_message("%s: pair %u: poll: %s", p->name, p->index,
                      g_strerror(errno));
            break;
        }
        for (nfds_t i = 0; i < nfds; i++) {
            if (!fds[i].revents) {
                continue;
            }
            if (fds[i].fd == tx_kick || fds[i].fd == rx_kick ||
                fds[i].fd == p->wake_fd) {
                drain_eventfd(fds[i].fd);
            }
            if (fds[i].fd == tx_kick) {
                stat_add(&p->stats.tx_kicks, 1);
            } else if (fds[i].fd == rx_kick) {
                stat_add(&p->stats.rx_kicks, 1);
                p->rx_starved = false;
                vduse_vq_enable_notify(rx, false);
            } else if (fds[i].fd == p->tap_fd && (fds[i].events & POLLOUT)) {
                p->tx_blocked = false;
            } else if (fds[i].fd == p->tap_fd) {
                p->tap_readable = true;
            }
        }
    }
    /* Gone for good: a pause has nothing to wait for. */
    g_mutex_lock(&p->lock);
    rx_release(p, rx);
    pair_coal_flush(p);
    p->paused = true;
    g_cond_broadcast(&p->cond);
    g_mutex_unlock(&p->lock);
    return NULL;
}

static void pair_setup(NetPair *p, const NetPairQueues *q, uint64_t features,
                       uint16_t mtu);

bool net_pair_start(NetPair *p, const NetPairQueues *q, uint64_t features,
                    uint16_t mtu, GError **error)
{
    g_autofree char *name = NULL;

    g_return_val_if_fail(!p->thread, false);
    pair_setup(p, q, features, mtu);
    name = g_strdup_printf("pair%u", p->index);
    p->thread = g_thread_try_new(name, pair_thread, p, error);
    return p->thread != NULL;
}

void net_pair_attach(NetPair *p, const NetPairQueues *q, uint64_t features,
                     uint16_t mtu)
{
    g_return_if_fail(!p->thread);
    pair_setup(p, q, features, mtu);
}

int net_pair_step(NetPair *p, bool pause)
{
    int tx, rx = 0;

    g_return_val_if_fail(!p->thread, -EINVAL);
    pair_coal_expire(p);
    /* What poll() reports when everything is ready: the TAP writable and
     * readable, both queues kicked. */
    p->tx_blocked = false;
    p->rx_starved = false;
    p->tap_readable = !p->tap_gone;
    vduse_vq_enable_notify(p->q.tx, false);
    tx = pair_tx_burst(p, p->q.tx);
    if (!p->tap_gone) {
        rx = pair_rx_burst(p, p->q.rx);
    }
    if (pause) {
        rx_release(p, p->q.rx);
        pair_coal_flush(p);
    }
    vduse_vq_enable_notify(p->q.tx, true);
    if (p->rx_starved) {
        vduse_vq_enable_notify(p->q.rx, true);
    }
    return tx < 0 || rx < 0 ? -EIO : tx + rx;
}

/**
 * pair_setup() - what a pair starts from: its queues and the limits the
 * features set, nothing held, every flag clear
 * @p:		the pair, its thread not running
 * @q:		the queues, copied
 * @features:	negotiated features
 * @mtu:	the MTU offered in config space
 */
static void pair_setup(NetPair *p, const NetPairQueues *q, uint64_t features,
                       uint16_t mtu)
{
    p->q = *q;
    p->mrg_rxbuf = features & VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF);
    p->hdr_len = net_hdr_len(features);
    p->rx_frame_max = net_rx_frame_max(features, mtu);
    p->rx_frame_mtu =
        net_rx_frame_max(features & VDUSE_BIT(VIRTIO_NET_F_HASH_REPORT), mtu);
    p->rx_want = p->rx_frame_mtu;
    p->rx_held_pinned = false;
    p->rx_held = p->rx_held_iov = 0;
    p->rx_room = 0;
    p->rx_pushed = 0;
    p->rx_coal.vq_index = q->rx_index;
    p->rx_coal.irqs = &p->stats.rx_irqs;
    p->rx_coal.packets = 0;
    p->rx_coal.owed = false;
    p->tx_coal.vq_index = q->tx_index;
    p->tx_coal.irqs = &p->stats.tx_irqs;
    p->tx_coal.packets = 0;
    p->tx_coal.owed = false;
    p->pending = p->pending_head = 0;
    p->pending_buf = p->spill;
    p->rx_batch_next = p->rx_batch_count = 0;
    p->rx_batch_size = 2;
    p->tx_blocked = false;
    p->rx_starved = false;
    p->tap_readable = true;
    p->tap_gone = false;
    p->stop_req = false;
    p->pause_req = false;
    p->paused = false;
}

/**
 * pair_wake() - interrupt the thread's poll()
 * @p:		the pair
 */
static void pair_wake(NetPair *p)
{
    uint64_t one = 1;

    if (write(p->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        g_message("%s: pair %u: wake: %s", p->name, p->index,
                  g_strerror(errno));
    }
}

/**
 * pair_request() - set one of the thread's request flags and tell it
 * @p:		the pair, its thread running
 * @flag:	&p->stop_req or &p->pause_req
 * @value:	the new value
 *
 * A paused thread waits on @p->cond; a running one in poll() on the wake
 * eventfd: both are woken.
 */
static void pair_request(NetPair *p, bool *flag, bool value)
{
    g_mutex_lock(&p->lock);
    *flag = value;
    g_cond_broadcast(&p->cond);
    g_mutex_unlock(&p->lock);
    pair_wake(p);
}

void net_pair_stop(NetPair *p)
{
    if (!p->thread) {
        return;
    }
    pair_request(p, &p->stop_req, true);
    g_thread_join(p->thread);
    p->thread = NULL;
}

void net_pair_pause(NetPair *p)
{
    if (!p->thread) {
        return;
    }
    pair_request(p, &p->pause_req, true);
    g_mutex_lock(&p->lock);
    while (!p->paused) {
        g_cond_wait(&p->cond, &p->lock);
    }
    g_mutex_unlock(&p->lock);
}

void net_pair_resume(NetPair *p)
{
    if (!p->thread) {
        return;
    }
    pair_request(p, &p->pause_req, false);
}

bool net_pair_is_running(const NetPair *p)
{
    return p->thread != NULL;
}

void net_pair_get_stats(const NetPair *p, NetPairStats *out)
{
    const uint64_t *src = (const uint64_t *)&p->stats;
    uint64_t *dst = (uint64_t *)out;

    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++) {
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    }
}
