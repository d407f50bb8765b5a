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
 * TX: pop chains in a burst and writev() each one to the TAP as it is: the
 * driver's 12-byte virtio-net header is the TAP's vnet header (set to 12
 * bytes with TUNSETVNETHDRSZ). RX: pop enough chains to hold the largest
 * frame the driver may get, readv() into them directly, push as many as the
 * frame filled (VIRTIO_NET_F_MRG_RXBUF, num_buffers in the header), give the
 * rest back. One interrupt per burst per queue, if the driver wants it.
 *
 * Between two bursts nothing is popped and not pushed, and everything
 * pushed is published: that is the state in which the thread pauses, so the
 * ring indices the kernel asks for (GET_VQ_STATE) are exact.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net-priv.h"

/* Chains handled per burst before the thread looks at its other work. */
#define BURST 64
/* Room for the segments of the RX chains one frame may need. */
#define RX_MAX_IOV 1024
#define RX_MAX_CHAINS 256

/**
 * struct RxChain - one RX chain popped for the frame being received
 * @id:		head index
 * @len:	its writable bytes
 */
typedef struct RxChain {
    uint16_t id;
    uint32_t len;
} RxChain;

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
 * @rx_frame_max: the largest frame the driver may receive, header included
 * @tx_blocked:	the TAP refused a write; wait for POLLOUT
 * @rx_starved:	the driver gave no RX buffers; wait for its kick
 * @tap_readable: the TAP may have a frame (POLLIN seen, no EAGAIN since)
 * @elem:	storage for one chain
 * @rx_iov:	segments of the RX chains of one frame
 * @rx_chains:	the RX chains of one frame
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
    size_t rx_frame_max;
    bool tx_blocked;
    bool rx_starved;
    bool tap_readable;
    VduseVqElem *elem;
    struct iovec rx_iov[RX_MAX_IOV];
    RxChain rx_chains[RX_MAX_CHAINS];
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
    return p;
}

void net_pair_set_filter(NetPair *p, const CtrlvqShadow *shadow,
                         bool vlan_filter)
{
    p->filter_on = shadow != NULL;
    if (shadow) {
        p->filter = *shadow;
    }
    p->vlan_filter = vlan_filter;
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

size_t net_rx_frame_max(uint64_t features, uint16_t mtu)
{
    const uint64_t gso = VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4) |
                         VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO6) |
                         VDUSE_BIT(VIRTIO_NET_F_GUEST_USO4) |
                         VDUSE_BIT(VIRTIO_NET_F_GUEST_USO6);

    /* Ethernet header and one VLAN tag on top of the MTU. */
    if (features & gso) {
        return NET_HDR_LEN + 65535 + 14 + 4;
    }
    return NET_HDR_LEN + 14 + 4 + MAX(mtu, 1500);
}

/**
 * pair_notify() - publish what was pushed on @vq; interrupt if asked
 * @p:		the pair
 * @vq:		the queue
 * @vq_index:	its index on the device
 * @irqs:	interrupt counter
 */
static void pair_notify(NetPair *p, VduseVq *vq, uint32_t vq_index,
                        uint64_t *irqs)
{
    if (vduse_vq_flush(vq)) {
        int ret = p->q.notify(p->q.opaque, vq_index);

        if (ret < 0) {
            g_message("%s: vq %u: interrupt: %s", p->name, vq_index,
                      g_strerror(-ret));
        }
        stat_add(irqs, 1);
    }
}

/**
 * pair_tx_burst() - send up to BURST frames from the TX vq to the TAP
 * @p:		the pair
 * @vq:		TX vq
 *
 * Return: number of chains consumed, or -EIO if the queue failed.
 */
static int pair_tx_burst(NetPair *p, VduseVq *vq)
{
    VduseVqElem *e = p->elem;
    int done = 0;

    while (done < BURST) {
        ssize_t n;
        int ret = vduse_vq_pop(vq, e);

        if (ret <= 0) {
            pair_notify(p, vq, p->q.tx_index, &p->stats.tx_irqs);
            return ret < 0 ? -EIO : done;
        }
        if (e->out_len <= NET_HDR_LEN || e->in_num > 0) {
            /* A TX chain is a header and a frame, nothing writable. */
            stat_add(&p->stats.tx_dropped, 1);
            vduse_vq_push(vq, e->id, 0);
            done++;
            continue;
        }
        n = writev(p->tap_fd, e->iov, (int)MIN(e->out_num, (unsigned)IOV_MAX));
        if (n < 0 && errno == EAGAIN) {
            vduse_vq_unpop(vq, 1);
            p->tx_blocked = true;
            break;
        }
        if (n < 0) {
            /* A bad GSO header, or the TAP is down: the frame is lost. */
            stat_add(&p->stats.tx_dropped, 1);
        } else {
            if (p->capture) {
                net_capture_frame(p->capture, e->iov, e->out_num, NET_HDR_LEN,
                                  e->out_len - NET_HDR_LEN);
            }
            stat_add(&p->stats.tx_packets, 1);
            stat_add(&p->stats.tx_bytes, e->out_len - NET_HDR_LEN);
        }
        vduse_vq_push(vq, e->id, 0);
        done++;
    }
    pair_notify(p, vq, p->q.tx_index, &p->stats.tx_irqs);
    return done;
}

/**
 * pair_filter_accepts() - whether a received frame passes the driver's
 *			   receive filter
 * @p:		the pair
 * @niov:	segments of the frame in @p->rx_iov (header first)
 * @len:	bytes received, header included
 *
 * Return: true to deliver.
 */
static bool pair_filter_accepts(NetPair *p, unsigned int niov, size_t len)
{
    uint8_t eth[18];
    int vlan = -1;

    if (!p->filter_on) {
        return true;
    }
    if (len < NET_HDR_LEN + 14 ||
        iov_to_buf(p->rx_iov, niov, NET_HDR_LEN, eth, sizeof(eth)) < 14) {
        return true; /* a runt: the driver drops it itself */
    }
    if (eth[12] == 0x81 && eth[13] == 0x00 && len >= NET_HDR_LEN + 16) {
        vlan = ((eth[14] << 8) | eth[15]) & 0xfff;
    }
    return ctrlvq_filter_accepts(&p->filter, eth, vlan, p->vlan_filter);
}

/**
 * pair_rx_one() - receive one frame from the TAP into the RX vq
 * @p:		the pair
 * @vq:		RX vq
 *
 * Return: 1 if a frame was received, 0 if the TAP had none or the driver
 * lacks buffers (@p->rx_starved), -EIO if the queue failed.
 */
static int pair_rx_one(NetPair *p, VduseVq *vq)
{
    VduseVqElem *e = p->elem;
    unsigned int chains = 0, niov = 0;
    size_t room = 0, left;
    uint16_t num_buffers = 0;
    ssize_t n;

    while (room < p->rx_frame_max && chains < RX_MAX_CHAINS) {
        int ret = vduse_vq_pop(vq, e);

        if (ret < 0) {
            return -EIO;
        }
        if (ret == 0) {
            break;
        }
        if (niov + e->in_num > RX_MAX_IOV || e->in_len < NET_HDR_LEN) {
            if (e->in_len < NET_HDR_LEN) {
                /* No room for the header: give it back empty. */
                vduse_vq_push(vq, e->id, 0);
                stat_add(&p->stats.rx_dropped, 1);
                continue;
            }
            vduse_vq_unpop(vq, 1);
            break;
        }
        memcpy(&p->rx_iov[niov], &e->iov[e->out_num],
               e->in_num * sizeof(struct iovec));
        niov += e->in_num;
        p->rx_chains[chains].id = e->id;
        p->rx_chains[chains].len = (uint32_t)MIN(e->in_len, UINT32_MAX);
        room += e->in_len;
        chains++;
        if (!p->mrg_rxbuf) {
            break; /* one chain per frame, however large */
        }
    }
    if (chains == 0 || (p->mrg_rxbuf && room < p->rx_frame_max)) {
        vduse_vq_unpop(vq, chains);
        p->rx_starved = true;
        return 0;
    }

    n = readv(p->tap_fd, p->rx_iov, (int)MIN(niov, (unsigned)IOV_MAX));
    if (n <= 0 || (size_t)n > room) {
        vduse_vq_unpop(vq, chains);
        if (n < 0 && errno == EAGAIN) {
            p->tap_readable = false;
            return 0;
        }
        /* An error, or a frame larger than the buffers (the TAP says the
         * whole length but copied what fit): the frame is lost. */
        stat_add(&p->stats.rx_dropped, 1);
        return n == 0 ? 0 : 1;
    }
    if (!pair_filter_accepts(p, niov, (size_t)n)) {
        vduse_vq_unpop(vq, chains);
        stat_add(&p->stats.rx_filtered, 1);
        return 1;
    }
    left = (size_t)n;
    while (left > 0 && num_buffers < chains) {
        uint32_t len = (uint32_t)MIN(left, p->rx_chains[num_buffers].len);

        vduse_vq_push(vq, p->rx_chains[num_buffers].id, len);
        left -= len;
        num_buffers++;
    }
    vduse_vq_unpop(vq, chains - num_buffers);
    {
        uint16_t le = htole16(num_buffers);

        iov_from_buf(p->rx_iov, niov,
                     offsetof(struct virtio_net_hdr_v1, num_buffers), &le,
                     sizeof(le));
    }
    if (p->capture) {
        net_capture_frame(p->capture, p->rx_iov, niov, NET_HDR_LEN,
                          (size_t)n - NET_HDR_LEN);
    }
    stat_add(&p->stats.rx_packets, 1);
    stat_add(&p->stats.rx_bytes, (size_t)n - NET_HDR_LEN);
    return 1;
}

/**
 * pair_rx_burst() - receive up to BURST frames
 * @p:		the pair
 * @vq:		RX vq
 *
 * Return: frames received, or -EIO if the queue failed.
 */
static int pair_rx_burst(NetPair *p, VduseVq *vq)
{
    int done = 0, ret = 0;

    while (done < BURST && (ret = pair_rx_one(p, vq)) > 0) {
        done++;
    }
    pair_notify(p, vq, p->q.rx_index, &p->stats.rx_irqs);
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

    while (!pair_check_requests(p)) {
        struct pollfd fds[4];
        int tx_done = 0, rx_done = 0;
        nfds_t nfds = 0;

        if (!tx_failed && !p->tx_blocked) {
            vduse_vq_enable_notify(tx, false);
            tx_done = pair_tx_burst(p, tx);
            tx_failed = tx_done < 0;
        }
        if (!rx_failed && !p->rx_starved && p->tap_readable) {
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
        if (!rx_failed) {
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
        if (poll(fds, nfds, -1) < 0 && errno != EINTR) {
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
    p->paused = true;
    g_cond_broadcast(&p->cond);
    g_mutex_unlock(&p->lock);
    return NULL;
}

bool net_pair_start(NetPair *p, const NetPairQueues *q, uint64_t features,
                    uint16_t mtu, GError **error)
{
    g_autofree char *name = NULL;

    g_return_val_if_fail(!p->thread, false);
    p->q = *q;
    p->mrg_rxbuf = features & VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF);
    p->rx_frame_max = net_rx_frame_max(features, mtu);
    p->tx_blocked = false;
    p->rx_starved = false;
    p->tap_readable = true;
    p->stop_req = false;
    p->pause_req = false;
    p->paused = false;
    name = g_strdup_printf("pair%u", p->index);
    p->thread = g_thread_try_new(name, pair_thread, p, error);
    return p->thread != NULL;
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
