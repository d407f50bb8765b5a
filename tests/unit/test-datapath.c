/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-datapath.c - a queue pair's dataplane between the in-process driver
 * and a real TAP, in a network namespace of the test's own
 *
 * The far side of the TAP is an AF_PACKET socket bound to it: what the
 * driver sends must come out there bit for bit, and what the socket sends
 * must land in the driver's RX buffers, with and without offloads, in one
 * buffer or merged over several, up to 64 KB GSO frames. Needs
 * CAP_SYS_ADMIN for unshare(CLONE_NEWNET) and CAP_NET_ADMIN for the TAP;
 * without them every test says so and skips.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <limits.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net-priv.h"
#include "rss-key.h"
#include "test-driver.h"

#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (8 * 1024 * 1024)
#define RX_RING_OFF 0
#define TX_RING_OFF 0x10000
#define TX_BUF_OFF 0x20000
#define RX_BUF_OFF 0x100000
#define RING_SIZE 256
#define MTU 9000
#define ETHERTYPE_TEST 0x88b5
#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)
/* Not a feature: the fixture's pair reads one frame per readv(). */
#define READV_ONLY (1ull << 63)

/* Set in main(): why the tests cannot run here, or NULL. */
static const char *skip_reason;

/**
 * struct Fixture - a driver with two rings, a TAP and the pair between
 * @mem:	guest memory
 * @iotlb:	its IOTLB
 * @rxr:	the driver's RX ring
 * @txr:	the driver's TX ring
 * @rx:		the engine's RX queue
 * @tx:		the engine's TX queue
 * @rx_kick:	RX kick eventfd
 * @tx_kick:	TX kick eventfd
 * @tap_fd:	the TAP queue the pair uses
 * @peer:	AF_PACKET socket on the TAP
 * @ifname:	the TAP's name
 * @pair:	the dataplane under test
 * @irqs:	interrupts the pair sent (atomic)
 * @rx_next:	next free byte of the RX buffer area
 * @tx_used_at_rx_irq: the TX used index when the pair first interrupted
 *		for RX after the test set it to -1 (atomic)
 * @packed:	the rings are packed (VDUSE_F_RING_PACKED in the test's
 *		data): @prxr and @ptxr instead of @rxr and @txr
 * @prxr:	the driver's packed RX ring
 * @ptxr:	the driver's packed TX ring
 * @rx_id:	next RX buffer id (packed)
 * @tx_id:	next TX buffer id (packed)
 * @rx_addr:	per RX buffer id, its IOVA (packed)
 */
typedef struct Fixture {
    TestMem *mem;
    VduseIotlb *iotlb;
    TestRing rxr;
    TestRing txr;
    VduseVq *rx;
    VduseVq *tx;
    int rx_kick;
    int tx_kick;
    int tap_fd;
    int peer;
    char ifname[IFNAMSIZ];
    NetPair *pair;
    int irqs;
    size_t rx_next;
    int tx_used_at_rx_irq;
    bool packed;
    TestPRing prxr;
    TestPRing ptxr;
    uint16_t rx_id;
    uint16_t tx_id;
    uint64_t rx_addr[RING_SIZE];
} Fixture;

/* count_irq() - the pair's notify callback: count. */
static int count_irq(void *opaque, uint32_t index)
{
    Fixture *f = opaque;

    __atomic_add_fetch(&f->irqs, 1, __ATOMIC_RELAXED);
    if (index == 0 && !f->packed &&
        __atomic_load_n(&f->tx_used_at_rx_irq, __ATOMIC_RELAXED) == -1) {
        __atomic_store_n(&f->tx_used_at_rx_irq, test_ring_used_idx(&f->txr),
                         __ATOMIC_RELAXED);
    }
    return 0;
}

/* set_up() - bring interface @ifname up (in the test's namespace). */
static void set_up(const char *ifname)
{
    struct ifreq ifr = {0};
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(s, >=, 0);
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    g_assert_cmpint(ioctl(s, SIOCGIFFLAGS, &ifr), ==, 0);
    ifr.ifr_flags |= IFF_UP;
    g_assert_cmpint(ioctl(s, SIOCSIFFLAGS, &ifr), ==, 0);
    close(s);
}

/* fixture_setup() - everything up to, not including, starting the pair. */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    static int n;
    g_autoptr(GError) error = NULL;
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ALL)};

    memset(f, 0, sizeof(*f));
    f->tap_fd = f->peer = -1;
    if (skip_reason) {
        return;
    }
    f->mem = test_mem_new(GUEST_SIZE);
    f->iotlb = vduse_iotlb_new(1, NULL, NULL);
    g_assert_cmpint(
        test_mem_map(f->mem, f->iotlb, 0, GUEST_IOVA, 0, GUEST_SIZE, RW), ==,
        0);
    f->rx = vduse_vq_new(0, f->iotlb);
    f->tx = vduse_vq_new(1, f->iotlb);
    f->packed = GPOINTER_TO_SIZE(data) & VDUSE_BIT(VDUSE_F_RING_PACKED);
    if (f->packed) {
        test_pring_init(&f->prxr, f->mem, GUEST_IOVA, RX_RING_OFF, RING_SIZE, 0,
                        true);
        test_pring_init(&f->ptxr, f->mem, GUEST_IOVA, TX_RING_OFF, RING_SIZE, 0,
                        true);
        test_pring_start(&f->prxr, f->rx, 0, true);
        test_pring_start(&f->ptxr, f->tx, 0, true);
    } else {
        test_ring_init(&f->rxr, f->mem, GUEST_IOVA, RX_RING_OFF, RING_SIZE, 0);
        test_ring_init(&f->txr, f->mem, GUEST_IOVA, TX_RING_OFF, RING_SIZE, 0);
        test_ring_start(&f->rxr, f->rx, 0, true);
        test_ring_start(&f->txr, f->tx, 0, true);
    }
    f->rx_kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f->tx_kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    g_snprintf(f->ifname, sizeof(f->ifname), "vtap%d", n++);
    g_assert_true(tap_open(f->ifname, 1, &f->tap_fd, &error));
    g_assert_true(tap_setup_link(f->ifname, MTU, NULL, &error));
    set_up(f->ifname);

    f->peer = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    g_assert_cmpint(f->peer, >=, 0);
    sll.sll_ifindex = (int)if_nametoindex(f->ifname);
    g_assert_cmpint(bind(f->peer, (struct sockaddr *)&sll, sizeof(sll)), ==, 0);
    f->pair = net_pair_new("test", 0, f->tap_fd);
    if (GPOINTER_TO_SIZE(data) & READV_ONLY) {
        net_pair_set_io_uring(f->pair, false);
        g_assert_false(net_pair_reads_io_uring(f->pair));
    }
}

/* fixture_teardown() - stop the pair and free everything. */
static void fixture_teardown(Fixture *f, gconstpointer data)
{
    if (!f->mem) {
        return;
    }
    net_pair_free(f->pair);
    close(f->peer);
    close(f->tap_fd);
    close(f->rx_kick);
    close(f->tx_kick);
    vduse_vq_free(f->rx);
    vduse_vq_free(f->tx);
    vduse_iotlb_free(f->iotlb);
    test_mem_free(f->mem);
}

/**
 * start_pair_mtu() - start the pair with @features and @mtu; TAP offloads
 *		      as netdev applies them
 * Return: false if the test must skip.
 */
static bool start_pair_mtu(Fixture *f, uint64_t features, uint16_t mtu)
{
    g_autoptr(GError) error = NULL;
    NetPairQueues q = {
        .rx = f->rx,
        .tx = f->tx,
        .rx_index = 0,
        .tx_index = 1,
        .rx_kick = f->rx_kick,
        .tx_kick = f->tx_kick,
        .notify = count_irq,
        .opaque = f,
    };

    if (skip_reason) {
        g_test_skip(skip_reason);
        return false;
    }
    /* The layout is the rings' business: the pair never sees it. */
    features &= ~(VDUSE_BIT(VDUSE_F_RING_PACKED) | READV_ONLY);
    g_assert_cmpint(ioctl(f->tap_fd, TUNSETOFFLOAD, net_tap_offloads(features)),
                    ==, 0);
    net_pair_set_filter(f->pair, NULL, false, features);
    g_assert_true(net_pair_start(f->pair, &q, features, mtu, &error));
    return true;
}

/* start_pair() - start_pair_mtu() with the TAP's MTU. */
static bool start_pair(Fixture *f, uint64_t features)
{
    return start_pair_mtu(f, features, MTU);
}

/* kick() - the driver kicks a queue. */
static void kick(int fd)
{
    uint64_t one = 1;

    g_assert_cmpint(write(fd, &one, sizeof(one)), ==, sizeof(one));
}

/* make_frame() - an Ethernet frame of @len bytes with a recognisable body. */
static void make_frame(uint8_t *frame, size_t len, unsigned int seed)
{
    static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 1};
    static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 2};

    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    frame[12] = ETHERTYPE_TEST >> 8;
    frame[13] = ETHERTYPE_TEST & 0xff;
    for (size_t i = 14; i < len; i++) {
        frame[i] = (uint8_t)(i * 7 + seed);
    }
}

/**
 * peer_recv() - the next frame that came in on the TAP (not our own sends)
 * @f:		the fixture
 * @buf:	where to put it
 * @size:	room in @buf
 *
 * Return: its length; fails the test after 5 s without one.
 */
static size_t peer_recv(Fixture *f, uint8_t *buf, size_t size)
{
    for (;;) {
        struct pollfd pfd = {.fd = f->peer, .events = POLLIN};
        struct sockaddr_ll from;
        socklen_t fromlen = sizeof(from);
        ssize_t n;

        g_assert_cmpint(poll(&pfd, 1, 5000), ==, 1);
        n = recvfrom(f->peer, buf, size, 0, (struct sockaddr *)&from, &fromlen);
        g_assert_cmpint(n, >, 0);
        if (from.sll_pkttype != PACKET_OUTGOING) {
            return (size_t)n;
        }
    }
}

/* wait_used() - wait up to 5 s for the next used element of @r. */
static void wait_used(TestRing *r, uint32_t *id, uint32_t *len)
{
    for (int i = 0; i < 5000; i++) {
        if (test_ring_get_used(r, id, len)) {
            return;
        }
        g_usleep(1000);
    }
    g_assert_not_reached();
}

/**
 * wait_pused() - wait up to 5 s for the next used descriptor of @r
 * @r:		a packed ring
 * @id:		set to its buffer id
 * @len:	set to its length
 */
static void wait_pused(TestPRing *r, uint16_t *id, uint32_t *len)
{
    for (int i = 0; i < 5000; i++) {
        if (test_pring_get_used(r, id, len)) {
            return;
        }
        g_usleep(1000);
    }
    g_assert_not_reached();
}

/**
 * guest() - the test's pointer to guest IOVA @iova
 * @f:		the fixture
 * @iova:	an IOVA of the guest memory
 *
 * Return: the host address.
 */
static uint8_t *guest(Fixture *f, uint64_t iova)
{
    g_assert_cmpuint(iova - GUEST_IOVA, <, GUEST_SIZE);
    return f->mem->host + (iova - GUEST_IOVA);
}

/**
 * tx_frame() - the driver sends @frame behind header @hdr, in two
 *		descriptors, and the test checks it at the TAP's far side
 * @f:		the fixture
 * @hdr:	virtio-net header (12 bytes)
 * @frame:	the frame
 * @len:	its length
 */
static void tx_frame(Fixture *f, const struct virtio_net_hdr_v1 *hdr,
                     const uint8_t *frame, size_t len, bool vnet_peer)
{
    TestBuf bufs[2] = {{GUEST_IOVA + TX_BUF_OFF, sizeof(*hdr), false},
                       {GUEST_IOVA + TX_BUF_OFF + 64, (uint32_t)len, false}};
    g_autofree uint8_t *got = g_malloc(70000);
    size_t off = vnet_peer ? sizeof(struct virtio_net_hdr) : 0;
    uint32_t id, used_len;
    size_t n;

    memcpy(guest(f, bufs[0].iova), hdr, sizeof(*hdr));
    memcpy(guest(f, bufs[1].iova), frame, len);
    if (f->packed) {
        test_pring_add(&f->ptxr, bufs, 2, 0, f->tx_id);
        f->tx_id = (uint16_t)((f->tx_id + 1) % RING_SIZE);
    } else {
        test_ring_add(&f->txr, bufs, 2, 0);
    }
    kick(f->tx_kick);
    n = peer_recv(f, got, 70000);
    g_assert_cmpuint(n, ==, len + off);
    g_assert_cmpmem(got + off, len, frame, len);
    if (f->packed) {
        uint16_t pid;

        wait_pused(&f->ptxr, &pid, &used_len);
        id = pid;
    } else {
        wait_used(&f->txr, &id, &used_len);
    }
    g_assert_cmpuint(used_len, ==, 0);
}

/* Frames of 60 to 9014 bytes from the driver come out of the TAP intact. */
static void test_tx_sizes(Fixture *f, gconstpointer data)
{
    static const size_t sizes[] = {60, 61, 128, 1514, 4000, 9014};
    uint8_t frame[MTU + 14];
    struct virtio_net_hdr_v1 hdr = {0};

    if (!start_pair(f, GPOINTER_TO_SIZE(data))) {
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        make_frame(frame, sizes[i], (unsigned int)i);
        tx_frame(f, &hdr, frame, sizes[i], false);
    }
    g_assert_cmpint(__atomic_load_n(&f->irqs, __ATOMIC_RELAXED), >, 0);
}

/**
 * expect_tx() - the far side gets frames 0 to @n - 1 of make_frame() in
 *		 order, but for @lost, and the driver each of its @n TX
 *		 chains back once
 * @f:		the fixture
 * @n:		frames (chains) sent, at most RING_SIZE
 * @len:	their length, at most 1024
 * @lost_a:	a frame that must not arrive, or -1
 * @lost_b:	another, or -1
 */
static void expect_tx(Fixture *f, unsigned int n, size_t len, int lost_a,
                      int lost_b)
{
    uint8_t frame[1024], got[1088];
    bool used[RING_SIZE] = {false};

    for (unsigned int i = 0; i < n; i++) {
        if ((int)i == lost_a || (int)i == lost_b) {
            continue;
        }
        make_frame(frame, len, i);
        g_assert_cmpuint(peer_recv(f, got, sizeof(got)), ==, len);
        g_assert_cmpmem(got, len, frame, len);
    }
    for (unsigned int i = 0; i < n; i++) {
        uint32_t id, used_len;

        wait_used(&f->txr, &id, &used_len);
        g_assert_cmpuint(id, <, RING_SIZE);
        g_assert_false(used[id]);
        used[id] = true;
    }
}

/*
 * A TX burst larger than the pair's (64), one kick: every frame comes out
 * in the driver's order, a chain with a writable descriptor in the middle
 * is dropped and counted, and every chain is used once. @data: non-zero
 * for one writev() per frame instead of io_uring.
 */
static void test_tx_burst(Fixture *f, gconstpointer data)
{
    enum { N = 150, BAD = 70, BAD_GSO = 100, LEN = 60, SLOT = 128 };
    struct virtio_net_hdr_v1 hdr = {0};
    uint8_t frame[LEN];
    NetPairStats s;

    if (!f->pair) {
        return;
    }
    net_pair_set_io_uring(f->pair, !GPOINTER_TO_SIZE(data));
    if (!GPOINTER_TO_SIZE(data) && !net_pair_uses_io_uring(f->pair)) {
        g_test_message("io_uring is not available here: the burst goes "
                       "frame by frame");
    }
    if (!start_pair(f, 0)) {
        return;
    }
    for (unsigned int i = 0; i < N; i++) {
        uint64_t iova = GUEST_IOVA + TX_BUF_OFF + (uint64_t)i * SLOT;
        TestBuf b = {iova, sizeof(hdr) + LEN, i == BAD};

        make_frame(frame, LEN, i);
        /* A GSO type the TAP refuses (EINVAL): only that frame is lost. */
        hdr.gso_type = i == BAD_GSO ? 0x55 : VIRTIO_NET_HDR_GSO_NONE;
        memcpy(test_ring_ptr(&f->txr, iova), &hdr, sizeof(hdr));
        memcpy(test_ring_ptr(&f->txr, iova + sizeof(hdr)), frame, LEN);
        test_ring_add(&f->txr, &b, 1, 0);
    }
    kick(f->tx_kick);
    expect_tx(f, N, LEN, BAD, BAD_GSO);
    net_pair_get_stats(f->pair, &s);
    g_assert_cmpuint(s.tx_packets, ==, N - 2);
    g_assert_cmpuint(s.tx_dropped, ==, 2);
}

/*
 * Chains of 250 segments (indirect tables): a burst holds the segments of
 * six of them, and the seventh waits for the next burst. Every frame comes
 * out whole and in order, every chain is used once.
 */
static void test_tx_long_chains(Fixture *f, gconstpointer data)
{
    enum { N = 20, SEGS = 250, PIECE = 4, LEN = (SEGS - 1) * PIECE };
    enum { SLOT = 0x2000, TABLE = 0x1000 };
    struct virtio_net_hdr_v1 hdr = {0};
    uint8_t frame[LEN];
    NetPairStats s;

    if (!start_pair(f, 0)) {
        return;
    }
    for (unsigned int i = 0; i < N; i++) {
        uint64_t iova = GUEST_IOVA + TX_BUF_OFF + (uint64_t)i * SLOT;
        TestBuf b[SEGS];

        make_frame(frame, LEN, i);
        memcpy(guest(f, iova), &hdr, sizeof(hdr));
        memcpy(guest(f, iova + 64), frame, LEN);
        b[0] = (TestBuf){iova, sizeof(hdr), false};
        for (unsigned int k = 1; k < SEGS; k++) {
            b[k] = (TestBuf){iova + 64 + (k - 1) * PIECE, PIECE, false};
        }
        test_ring_add(&f->txr, b, SEGS, iova + TABLE);
    }
    kick(f->tx_kick);
    expect_tx(f, N, LEN, -1, -1);
    net_pair_get_stats(f->pair, &s);
    g_assert_cmpuint(s.tx_packets, ==, N);
    g_assert_cmpuint(s.tx_dropped, ==, 0);
}

/* A TAP whose send buffer is limited is written frame by frame: io_uring
 * would wait for room instead of answering EAGAIN, and the pair with it. */
static void test_tx_sndbuf(Fixture *f, gconstpointer data)
{
    int small = 65536, unlimited = INT_MAX;

    if (!f->pair) {
        return;
    }
    g_assert_cmpint(ioctl(f->tap_fd, TUNSETSNDBUF, &small), ==, 0);
    net_pair_set_io_uring(f->pair, true);
    g_assert_false(net_pair_uses_io_uring(f->pair));
    g_assert_cmpint(ioctl(f->tap_fd, TUNSETSNDBUF, &unlimited), ==, 0);
    net_pair_set_io_uring(f->pair, true);
#ifdef HAVE_LIBURING
    if (!net_pair_uses_io_uring(f->pair)) {
        g_test_message("io_uring is not available here");
    }
#endif
}

/**
 * post_rx_buffers() - give the driver's RX queue @n buffers of @size
 * @f:		the fixture
 * @n:		how many
 * @size:	bytes each
 */
static void post_rx_buffers(Fixture *f, unsigned int n, uint32_t size)
{
    for (unsigned int i = 0; i < n; i++) {
        TestBuf b = {GUEST_IOVA + RX_BUF_OFF + f->rx_next, size, true};

        f->rx_next += size;
        g_assert_cmpuint(RX_BUF_OFF + f->rx_next, <=, GUEST_SIZE);
        if (f->packed) {
            f->rx_addr[f->rx_id] = b.iova;
            test_pring_add(&f->prxr, &b, 1, 0, f->rx_id);
            f->rx_id = (uint16_t)((f->rx_id + 1) % RING_SIZE);
        } else {
            test_ring_add(&f->rxr, &b, 1, 0);
        }
    }
    kick(f->rx_kick);
}

/**
 * rx_collect() - the driver must get @frame in its buffers, merged over
 *		  several if need be, behind a header of @hdr_len bytes
 *		  (20 with hash reports)
 * @f:		the fixture
 * @frame:	the frame
 * @len:	its length
 * @hdr:	receives the driver's virtio-net header, @hdr_len bytes
 * @hdr_len:	its length
 */
static void rx_collect(Fixture *f, const uint8_t *frame, size_t len, void *hdr,
                       size_t hdr_len)
{
    g_autofree uint8_t *got = g_malloc(len + hdr_len);
    size_t have = 0;
    uint16_t buffers = 0, num_buffers = 1;

    while (buffers < num_buffers) {
        uint32_t id, used_len;
        uint64_t addr;

        if (f->packed) {
            uint16_t pid;

            wait_pused(&f->prxr, &pid, &used_len);
            addr = f->rx_addr[pid];
        } else {
            wait_used(&f->rxr, &id, &used_len);
            addr = le64toh(f->rxr.desc[id].addr);
        }
        g_assert_cmpuint(have + used_len, <=, len + hdr_len);
        memcpy(got + have, guest(f, addr), used_len);
        have += used_len;
        if (buffers++ == 0) {
            struct virtio_net_hdr_v1 h;

            memcpy(hdr, got, hdr_len);
            memcpy(&h, got, sizeof(h));
            num_buffers = le16toh(h.num_buffers);
            g_assert_cmpuint(num_buffers, >=, 1);
        }
    }
    g_assert_cmpuint(have, ==, len + hdr_len);
    g_assert_cmpmem(got + hdr_len, len, frame, len);
}

/* rx_frame_hdr() - rx_frame() with a header of @hdr_len bytes. */
static void rx_frame_hdr(Fixture *f, const uint8_t *out, size_t out_len,
                         const uint8_t *frame, size_t len, void *hdr,
                         size_t hdr_len)
{
    g_assert_cmpint(send(f->peer, out, out_len, 0), ==, (ssize_t)out_len);
    rx_collect(f, frame, len, hdr, hdr_len);
}

/**
 * rx_frame() - the far side sends @len bytes at @out; the driver must get
 *		@frame in its buffers, merged over several if need be
 * @f:		the fixture
 * @out:	what the peer socket sends (a vnet header first if it has one)
 * @out_len:	its length
 * @frame:	the frame the driver must see after its 12-byte header
 * @len:	the frame's length
 * @hdr:	receives the driver's virtio-net header
 */
static void rx_frame(Fixture *f, const uint8_t *out, size_t out_len,
                     const uint8_t *frame, size_t len,
                     struct virtio_net_hdr_v1 *hdr)
{
    rx_frame_hdr(f, out, out_len, frame, len, hdr, sizeof(*hdr));
}

/*
 * Frames of 60 to 9014 bytes from the TAP reach the driver intact: in one
 * large buffer each, or merged over 1536-byte buffers (MRG_RXBUF).
 */
static void test_rx_sizes(Fixture *f, gconstpointer data)
{
    static const size_t sizes[] = {60, 61, 1514, 1600, 4000, 9014};
    uint64_t features = GPOINTER_TO_SIZE(data);
    bool mrg = features & VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF);
    bool gso = features & VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4);
    uint8_t frame[MTU + 14];
    struct virtio_net_hdr_v1 hdr;

    if (!start_pair(f, features)) {
        return;
    }
    /*
     * The pair waits until the driver's buffers can hold the largest frame
     * it may get: 9 KB, or 64 KB once the driver takes GSO.
     */
    if (mrg) {
        post_rx_buffers(f, gso ? 48 : 8, 1536);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        uint16_t used;

        if (!mrg) {
            post_rx_buffers(f, 1, MTU + 64);
        }
        make_frame(frame, sizes[i], (unsigned int)i);
        rx_frame(f, frame, sizes[i], frame, sizes[i], &hdr);
        used = le16toh(hdr.num_buffers);
        if (mrg) {
            g_assert_cmpuint(used, ==, (sizes[i] + 12 + 1535) / 1536);
            post_rx_buffers(f, used, 1536);
        } else {
            g_assert_cmpuint(used, ==, 1);
        }
    }
}

/**
 * make_tcp_frame() - a TCP/IPv4 frame of @len bytes for GSO, with the
 *		      header a driver would give it
 */
static void make_tcp_frame(uint8_t *frame, size_t len,
                           struct virtio_net_hdr *hdr)
{
    uint8_t *ip = frame + 14, *tcp = ip + 20;

    make_frame(frame, len, 3);
    frame[12] = 0x08;
    frame[13] = 0x00;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((len - 14) >> 8);
    ip[3] = (uint8_t)(len - 14);
    ip[8] = 64;
    ip[9] = 6; /* TCP */
    memcpy(ip + 12, (uint8_t[]){10, 0, 0, 2}, 4);
    memcpy(ip + 16, (uint8_t[]){10, 0, 0, 1}, 4);
    test_ip4_set_checksum(ip);
    tcp[0] = 0x30; /* ports 12345 -> 80 */
    tcp[1] = 0x39;
    tcp[3] = 80;
    tcp[12] = 5 << 4;
    tcp[13] = 0x18; /* PSH ACK */
    tcp[14] = 0xff;
    *hdr = (struct virtio_net_hdr){
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = 54,
        .gso_size = 1448,
        .csum_start = 34,
        .csum_offset = 16,
    };
}

static const uint64_t gso_features =
    VDUSE_BIT(VIRTIO_NET_F_CSUM) | VDUSE_BIT(VIRTIO_NET_F_HOST_TSO4) |
    VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM) | VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4) |
    VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF);

/* peer_vnet_hdr() - the peer socket sends and receives a vnet header. */
static void peer_vnet_hdr(Fixture *f)
{
    int one = 1;

    g_assert_cmpint(
        setsockopt(f->peer, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), ==,
        0);
}

/**
 * start_rx_with() - start the pair with @features, guest GSO among them,
 *		     the peer sending with a vnet header
 * @f:		the fixture
 * @features:	the driver's features
 * @len:	the length of the TCP/IPv4 frame to make
 *
 * Return: what the peer sends for that frame (its vnet header, then the
 * frame), owned by the caller; NULL if the test must skip.
 */
static uint8_t *start_rx_with(Fixture *f, uint64_t features, size_t len)
{
    struct virtio_net_hdr gso;
    uint8_t *out;

    if (!start_pair(f, features)) {
        return NULL;
    }
    peer_vnet_hdr(f);
    out = g_malloc(sizeof(gso) + len);
    make_tcp_frame(out + sizeof(gso), len, &gso);
    memcpy(out, &gso, sizeof(gso));
    return out;
}

/* start_gso_rx() - start_rx_with() the GSO features, MRG_RXBUF among them */
static uint8_t *start_gso_rx(Fixture *f, size_t len)
{
    return start_rx_with(f, gso_features, len);
}

/* A 64 KB TSO frame from the driver leaves the TAP as one GSO frame. */
static void test_tx_gso(Fixture *f, gconstpointer data)
{
    size_t len = 14 + 20 + 20 + 64000;
    g_autofree uint8_t *frame = g_malloc(len);
    struct virtio_net_hdr gso;
    struct virtio_net_hdr_v1 hdr = {0};

    if (!start_pair(f, gso_features)) {
        return;
    }
    peer_vnet_hdr(f);
    make_tcp_frame(frame, len, &gso);
    memcpy(&hdr, &gso, sizeof(gso));
    tx_frame(f, &hdr, frame, len, true);
}

/* The capture file holds both directions, readable by libpcap. */
static void test_capture(Fixture *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(g_get_tmp_dir(),
                                             "vduse-net-"
                                             "test-capture.pcap",
                                             NULL);
    g_autoptr(GError) error = NULL;
    NetCapture *cap = net_capture_open(path, NULL, &error);
    uint8_t frame[1514], got[1514];
    struct virtio_net_hdr_v1 hdr = {0};
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *ph;
    const u_char *bytes;
    pcap_t *p;

    g_assert_nonnull(cap);
    net_pair_set_capture(f->pair, cap);
    if (!start_pair(f, 0)) {
        net_capture_close(cap);
        return;
    }
    make_frame(frame, sizeof(frame), 1);
    tx_frame(f, &hdr, frame, sizeof(frame), false);
    post_rx_buffers(f, 1, 2048);
    make_frame(got, sizeof(got), 2);
    rx_frame(f, got, sizeof(got), got, sizeof(got), &hdr);

    /* Readable while the capture is still open: every frame is flushed. */
    p = pcap_open_offline(path, err);
    g_assert_nonnull(p);
    g_assert_cmpint(pcap_next_ex(p, &ph, &bytes), ==, 1);
    g_assert_cmpmem(bytes, ph->caplen, frame, sizeof(frame));
    g_assert_cmpint(pcap_next_ex(p, &ph, &bytes), ==, 1);
    g_assert_cmpmem(bytes, ph->caplen, got, sizeof(got));
    g_assert_cmpint(pcap_next_ex(p, &ph, &bytes), ==, -2);
    pcap_close(p);
    net_pair_stop(f->pair);
    net_capture_close(cap);
    unlink(path);
}

/**
 * pair_thread_cpu_ms() - CPU time the pair's thread used so far
 *
 * Return: user + system milliseconds of the thread named "pair0".
 */
static long pair_thread_cpu_ms(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/task", 0, NULL);
    const char *tid;

    g_assert_nonnull(d);
    while ((tid = g_dir_read_name(d))) {
        g_autofree char *comm_path =
            g_strdup_printf("/proc/self/task/%s/comm", tid);
        g_autofree char *stat_path =
            g_strdup_printf("/proc/self/task/%s/stat", tid);
        g_autofree char *comm = NULL, *stat = NULL;
        unsigned long utime, stime;
        const char *after;

        if (!g_file_get_contents(comm_path, &comm, NULL, NULL) ||
            strcmp(g_strstrip(comm), "pair0") ||
            !g_file_get_contents(stat_path, &stat, NULL, NULL)) {
            continue;
        }
        /* Fields 14 and 15, counted after the ")" closing the name. */
        after = strrchr(stat, ')');
        g_assert_nonnull(after);
        g_assert_cmpint(sscanf(after + 2,
                               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                               "%lu %lu",
                               &utime, &stime),
                        ==, 2);
        return (long)((utime + stime) * 1000 / sysconf(_SC_CLK_TCK));
    }
    g_assert_not_reached();
}

/* rx_stats() - the pair's counters. */
static NetPairStats rx_stats(Fixture *f)
{
    NetPairStats s;

    net_pair_get_stats(f->pair, &s);
    return s;
}

/*
 * 64 KB GSO frames sent into the TAP reach the driver whole, merged over
 * 1536-byte buffers, their GSO header kept. After each one the pair holds
 * the chains a whole one needs before its next read, so the next is read
 * straight into them instead of through the spill buffer.
 */
static void test_rx_gso(Fixture *f, gconstpointer data)
{
    size_t len = 14 + 20 + 20 + 64000;
    uint16_t per_frame = (uint16_t)((len + 12 + 1535) / 1536);
    g_autofree uint8_t *out = start_gso_rx(f, len);
    struct virtio_net_hdr gso;
    struct virtio_net_hdr_v1 hdr;

    if (!out) {
        return;
    }
    post_rx_buffers(f, 200, 1536);
    for (uint16_t i = 0; i < 3; i++) {
        uint16_t held_by = (uint16_t)((i + 2) * per_frame);
        int ms = 0;

        rx_frame(f, out, sizeof(gso) + len, out + sizeof(gso), len, &hdr);
        g_assert_cmpuint(hdr.gso_type & 0x7f, ==, VIRTIO_NET_HDR_GSO_TCPV4);
        g_assert_cmpuint(hdr.gso_size, ==, 1448);
        g_assert_cmpuint(le16toh(hdr.num_buffers), ==, per_frame);
        while (vduse_vq_last_avail(f->rx) < held_by && ms++ < 2000) {
            g_usleep(1000);
        }
        g_assert_cmpuint(vduse_vq_last_avail(f->rx), >=, held_by);
    }
}

/**
 * post_big_chain() - post Linux's "big packets" chain: a header buffer,
 * then pages, contiguous in the guest
 * @f:		the fixture (split rings)
 * @pages:	how many 4 KiB pages (Linux: 16)
 * @far_tail:	the pages after the first three (what a 9000-byte MTU
 *		frame needs) point nowhere mapped
 *
 * Return: the chain's head.
 */
static uint16_t post_big_chain(Fixture *f, unsigned int pages, bool far_tail)
{
    TestBuf bufs[17];
    uint64_t iova = GUEST_IOVA + RX_BUF_OFF + f->rx_next;
    uint16_t head;

    g_assert_cmpuint(pages, <, G_N_ELEMENTS(bufs));
    bufs[0] = (TestBuf){iova, 12, true};
    for (unsigned int i = 1; i <= pages; i++) {
        bufs[i] = (TestBuf){iova + 12 + (i - 1) * 4096ull, 4096, true};
        if (far_tail && i > 3) {
            bufs[i].iova += GUEST_IOVA + GUEST_SIZE;
        }
    }
    f->rx_next += 12 + pages * 4096;
    g_assert_cmpuint(RX_BUF_OFF + f->rx_next, <=, GUEST_SIZE);
    head = test_ring_add(&f->rxr, bufs, pages + 1, 0);
    kick(f->rx_kick);
    return head;
}

/**
 * rx_dropped() - the pair's RX drops, once it counted at least @n (or
 *		  after 2 s)
 */
static uint64_t rx_dropped(Fixture *f, uint64_t n)
{
    NetPairStats s;

    for (int ms = 0; ms < 2000; ms++) {
        net_pair_get_stats(f->pair, &s);
        if (s.rx_dropped >= n) {
            break;
        }
        g_usleep(1000);
    }
    return s.rx_dropped;
}

/* A 60-byte frame behind a vnet header, as the peer sends it. */
#define SMALL_OUT (sizeof(struct virtio_net_hdr) + 60)

/**
 * start_big_rx() - start the pair with guest GSO and no MRG_RXBUF (Linux
 * then posts "big packets" chains), the peer sending with a vnet header
 * @f:		the fixture
 * @len:	the length of the TCP/IPv4 GSO frame to make
 * @small:	filled with a 60-byte frame behind a zero vnet header
 *		(SMALL_OUT bytes)
 *
 * Return: as start_rx_with().
 */
static uint8_t *start_big_rx(Fixture *f, size_t len, uint8_t *small)
{
    uint64_t features = gso_features & ~VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF);

    memset(small, 0, sizeof(struct virtio_net_hdr));
    make_frame(small + sizeof(struct virtio_net_hdr), 60, 7);
    return start_rx_with(f, features, len);
}

/*
 * Guest GSO without MRG_RXBUF: Linux posts 17-descriptor chains. The pair
 * maps only what an MTU-sized frame needs, so a small frame reads no
 * descriptor past the third page (here they point at nothing: reading
 * them would fail the queue), and a 64 KB frame that comes into such a
 * chain gets all of it, mapped again from its head.
 */
static void test_rx_big_chains(Fixture *f, gconstpointer data)
{
    size_t len = 14 + 20 + 20 + 64000;
    uint8_t small[SMALL_OUT];
    g_autofree uint8_t *out = start_big_rx(f, len, small);
    struct virtio_net_hdr_v1 hdr;

    if (!out) {
        return;
    }
    for (unsigned int i = 0; i < 2; i++) {
        /* A small frame into a chain whose tail is not mapped. */
        post_big_chain(f, 16, true);
        rx_frame(f, small, SMALL_OUT, small + sizeof(struct virtio_net_hdr), 60,
                 &hdr);
        g_assert_cmpuint(le16toh(hdr.num_buffers), ==, 1);
        /* The pair holds the next chain, cut, when the 64 KB frame comes,
         * then one whole chain for the next frame. */
        post_big_chain(f, 16, false);
        post_big_chain(f, 16, false);
        rx_frame(f, out, sizeof(struct virtio_net_hdr) + len,
                 out + sizeof(struct virtio_net_hdr), len, &hdr);
        g_assert_cmpuint(hdr.gso_type, ==, VIRTIO_NET_HDR_GSO_TCPV4);
        rx_frame(f, small, SMALL_OUT, small + sizeof(struct virtio_net_hdr), 60,
                 &hdr);
    }
    g_assert_false(vduse_vq_is_failed(f->rx));
}

/*
 * A chain longer than an MTU-sized frame and shorter than a 64 KB one
 * (virtio 1.2 5.1.6.3.1 only says SHOULD): a 64 KB frame read into its
 * start is dropped once the chain is mapped whole, a pause then gives the
 * chain back as it is, and the next frame goes into it.
 */
static void test_rx_big_chain_short(Fixture *f, gconstpointer data)
{
    size_t len = 14 + 20 + 20 + 64000;
    uint8_t small[SMALL_OUT];
    g_autofree uint8_t *out = start_big_rx(f, len, small);
    struct virtio_net_hdr_v1 hdr;

    if (!out) {
        return;
    }
    post_big_chain(f, 4, false);
    g_assert_cmpint(send(f->peer, out, sizeof(struct virtio_net_hdr) + len, 0),
                    ==, (ssize_t)(sizeof(struct virtio_net_hdr) + len));
    g_assert_cmpuint(rx_dropped(f, 1), ==, 1);
    net_pair_pause(f->pair);
    g_assert_cmpuint(vduse_vq_last_avail(f->rx), ==, 0);
    net_pair_resume(f->pair);
    rx_frame(f, small, SMALL_OUT, small + sizeof(struct virtio_net_hdr), 60,
             &hdr);
    g_assert_cmpuint(rx_dropped(f, 1), ==, 1);
    g_assert_false(vduse_vq_is_failed(f->rx));
}

/*
 * A driver that shortens a chain the pair holds cut, with TX traffic in
 * between (TX pops into the same storage): when a 64 KB frame needs the
 * whole chain, the queue fails instead of taking the new layout.
 */
static void test_rx_big_chain_rewritten(Fixture *f, gconstpointer data)
{
    size_t len = 14 + 20 + 20 + 64000;
    uint8_t small[SMALL_OUT];
    g_autofree uint8_t *out = start_big_rx(f, len, small);
    struct virtio_net_hdr_v1 tx_hdr = {0};
    uint16_t head, first_page;
    int ms = 0;

    if (!out) {
        return;
    }
    head = post_big_chain(f, 16, false);
    while (vduse_vq_last_avail(f->rx) < 1 && ms++ < 2000) {
        g_usleep(1000);
    }
    g_assert_cmpuint(vduse_vq_last_avail(f->rx), ==, 1);
    tx_frame(f, &tx_hdr, small + sizeof(struct virtio_net_hdr), 60, true);
    first_page = (uint16_t)((head + 1) % RING_SIZE);
    test_ring_set_desc(&f->rxr, first_page,
                       le64toh(f->rxr.desc[first_page].addr), 100,
                       VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
                       (uint16_t)((first_page + 1) % RING_SIZE));
    g_assert_cmpint(send(f->peer, out, sizeof(struct virtio_net_hdr) + len, 0),
                    ==, (ssize_t)(sizeof(struct virtio_net_hdr) + len));
    ms = 0;
    while (!vduse_vq_is_failed(f->rx) && ms++ < 2000) {
        g_usleep(1000);
    }
    g_assert_true(vduse_vq_is_failed(f->rx));
}

/*
 * The livelock: with MRG_RXBUF and guest GSO a driver that posted less
 * than 64 KiB (8 x 1536 B) still gets a 60-byte frame, and the thread
 * sleeps afterwards instead of spinning.
 */
static void test_rx_small_ring(Fixture *f, gconstpointer data)
{
    uint8_t frame[60];
    struct virtio_net_hdr_v1 hdr;
    long before;

    if (!start_pair(f, gso_features)) {
        return;
    }
    post_rx_buffers(f, 8, 1536);
    make_frame(frame, sizeof(frame), 3);
    rx_frame(f, frame, sizeof(frame), frame, sizeof(frame), &hdr);
    g_assert_cmpuint(le16toh(hdr.num_buffers), ==, 1);
    before = pair_thread_cpu_ms();
    g_usleep(500 * 1000);
    /* A spinning thread would have used about 500 ms. */
    g_assert_cmpint(pair_thread_cpu_ms() - before, <, 100);
}

/*
 * A buffer too small for the header between two the pair holds: it is
 * used empty at once, so the held ones are no longer the last popped and
 * a pause cannot give them back; they are used empty too. Every buffer is
 * used exactly once, nothing is popped twice, nothing is lost.
 */
static void test_rx_tiny_between_held(Fixture *f, gconstpointer data)
{
    static const uint32_t sizes[] = {1536, 1000, 8, 1000};
    uint8_t frame[100];
    struct virtio_net_hdr_v1 hdr;
    bool seen[G_N_ELEMENTS(sizes)] = {false};
    uint32_t id, len;

    if (!start_pair(f, VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF))) {
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        post_rx_buffers(f, 1, sizes[i]);
    }
    make_frame(frame, sizeof(frame), 1);
    g_assert_cmpint(send(f->peer, frame, sizeof(frame), 0), ==,
                    (ssize_t)sizeof(frame));
    for (int i = 0; i < 5000 && vduse_vq_used_idx(f->rx) < 2; i++) {
        g_usleep(1000);
    }
    net_pair_pause(f->pair);
    g_assert_cmpuint(vduse_vq_last_avail(f->rx), ==, G_N_ELEMENTS(sizes));
    g_assert_cmpuint(vduse_vq_used_idx(f->rx), ==, G_N_ELEMENTS(sizes));
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_assert_true(test_ring_get_used(&f->rxr, &id, &len));
        g_assert_cmpuint(id, <, G_N_ELEMENTS(sizes));
        g_assert_false(seen[id]);
        seen[id] = true;
        g_assert_cmpuint(len, ==, id == 0 ? sizeof(frame) + sizeof(hdr) : 0);
    }
    net_pair_resume(f->pair);
}

/*
 * Chains are held from one frame to the next: after a small frame the pair
 * still holds the chains it popped for an MTU-sized one, in order; a pause
 * gives them back, so the available index the device reports is exact.
 */
static void test_rx_held_chains(Fixture *f, gconstpointer data)
{
    uint8_t frame[100];
    struct virtio_net_hdr_v1 hdr;
    uint32_t id, len;

    if (!start_pair(f, VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF))) {
        return;
    }
    post_rx_buffers(f, 16, 1536);
    for (unsigned int i = 0; i < 3; i++) {
        make_frame(frame, sizeof(frame), i);
        rx_frame(f, frame, sizeof(frame), frame, sizeof(frame), &hdr);
    }
    /* The pair still holds chains for the next frame (ordered by the
     * used index we read: they were popped before it was published). */
    g_assert_cmpuint(vduse_vq_last_avail(f->rx), >, 3);
    net_pair_pause(f->pair);
    g_assert_cmpuint(vduse_vq_last_avail(f->rx), ==, 3);
    g_assert_cmpuint(vduse_vq_used_idx(f->rx), ==, 3);
    net_pair_resume(f->pair);
    /* And they are used in order after the resume. */
    make_frame(frame, sizeof(frame), 9);
    g_assert_cmpint(send(f->peer, frame, sizeof(frame), 0), ==,
                    (ssize_t)sizeof(frame));
    wait_used(&f->rxr, &id, &len);
    g_assert_cmpuint(id, ==, 3);
    g_assert_cmpuint(len, ==, sizeof(frame) + 12);
}

/*
 * A 64 KB GSO frame when the driver posted 8 buffers: it waits, no buffer
 * is used, the thread sleeps; when the driver posts more it is delivered
 * intact, its tail copied from the spill buffer. With @pause, a pause in
 * between gives the 8 buffers back (the frame's start moves to the spill
 * buffer) and does not lose it.
 */
static void rx_spill(Fixture *f, bool pause)
{
    size_t len = 14 + 20 + 20 + 64000;
    g_autofree uint8_t *out = start_gso_rx(f, len);
    struct virtio_net_hdr gso;
    struct virtio_net_hdr_v1 hdr;
    uint32_t id, used_len;
    long before;

    if (!out) {
        return;
    }
    post_rx_buffers(f, 8, 1536);
    g_assert_cmpint(send(f->peer, out, sizeof(gso) + len, 0), ==,
                    (ssize_t)(sizeof(gso) + len));
    g_usleep(200 * 1000);
    g_assert_false(test_ring_get_used(&f->rxr, &id, &used_len));
    before = pair_thread_cpu_ms();
    g_usleep(300 * 1000);
    g_assert_cmpint(pair_thread_cpu_ms() - before, <, 100);
    if (pause) {
        net_pair_pause(f->pair);
        g_assert_cmpuint(vduse_vq_last_avail(f->rx), ==, 0);
        net_pair_resume(f->pair);
    }

    f->rx_next = 8 * 1536; /* the first 8 buffers are still the driver's */
    post_rx_buffers(f, 40, 1536);
    f->rxr.last_used = 0;
    {
        g_autofree uint8_t *got = g_malloc(len + 12);
        size_t have = 0;
        uint16_t n = 1;

        for (uint16_t b = 0; b < n; b++) {
            wait_used(&f->rxr, &id, &used_len);
            memcpy(got + have,
                   test_ring_ptr(&f->rxr, le64toh(f->rxr.desc[id].addr)),
                   used_len);
            have += used_len;
            if (b == 0) {
                memcpy(&hdr, got, sizeof(hdr));
                n = le16toh(hdr.num_buffers);
            }
        }
        g_assert_cmpuint(n, ==, (len + 12 + 1535) / 1536);
        g_assert_cmpuint(have, ==, len + 12);
        g_assert_cmpmem(got + 12, len, out + sizeof(gso), len);
    }
}

static void test_rx_spill(Fixture *f, gconstpointer data)
{
    rx_spill(f, false);
}

static void test_rx_spill_paused(Fixture *f, gconstpointer data)
{
    rx_spill(f, true);
}

/*
 * Fairness: a frame waits in the TAP while 250 TX chains of 64 KB are
 * queued; the pair delivers it after one TX burst, not after the whole TX
 * ring (before, RX was looked at only when TX went idle). The TX used
 * index is taken at the RX interrupt, by the pair's own thread.
 */
static void test_rx_under_tx_load(Fixture *f, gconstpointer data)
{
    size_t len = 14 + 20 + 20 + 64000;
    g_autofree uint8_t *frame = g_malloc(len);
    struct virtio_net_hdr gso;
    struct virtio_net_hdr_v1 hdr = {0};
    TestBuf b[2] = {{GUEST_IOVA + TX_BUF_OFF, sizeof(hdr), false},
                    {GUEST_IOVA + TX_BUF_OFF + 64, (uint32_t)len, false}};
    uint8_t small[60];
    uint32_t id, used_len;
    int tx_used;

    if (!start_pair(f, gso_features)) {
        return;
    }
    make_tcp_frame(frame, len, &gso);
    memcpy(&hdr, &gso, sizeof(gso));
    memcpy(test_ring_ptr(&f->txr, b[0].iova), &hdr, sizeof(hdr));
    memcpy(test_ring_ptr(&f->txr, b[1].iova), frame, len);
    post_rx_buffers(f, 48, 1536);
    g_usleep(50 * 1000);

    net_pair_pause(f->pair);
    make_frame(small, sizeof(small), 8);
    g_assert_cmpint(send(f->peer, small, sizeof(small), 0), ==,
                    (ssize_t)sizeof(small));
    for (int i = 0; i < 250; i++) {
        test_ring_add(&f->txr, b, 2, 0);
    }
    __atomic_store_n(&f->tx_used_at_rx_irq, -1, __ATOMIC_RELAXED);
    kick(f->tx_kick);
    net_pair_resume(f->pair);

    wait_used(&f->rxr, &id, &used_len);
    g_assert_cmpuint(used_len, ==, sizeof(small) + 12);
    /* The used entry is published before the interrupt is sent. */
    for (int i = 0; i < 5000; i++) {
        tx_used = __atomic_load_n(&f->tx_used_at_rx_irq, __ATOMIC_RELAXED);
        if (tx_used >= 0) {
            break;
        }
        g_usleep(1000);
    }
    g_test_message("RX frame delivered after %d of 250 TX chains", tx_used);
    g_assert_cmpint(tx_used, >=, 0);
    g_assert_cmpint(tx_used, <, 250);
}

/*
 * What the driver did not accept never reaches it (virtio 1.2 5.1.6.4):
 * a GSO frame without GUEST_TSO4 (the TAP set to deliver it anyway, as a
 * frame queued before an offload change would be), and a frame over the
 * MTU without GSO; each is counted dropped, and the next frame arrives.
 */
static void test_rx_not_accepted(Fixture *f, gconstpointer data)
{
    size_t len = 14 + 20 + 20 + 3000;
    g_autofree uint8_t *out = g_malloc(sizeof(struct virtio_net_hdr) + len);
    struct virtio_net_hdr gso;
    struct virtio_net_hdr_v1 hdr;
    uint8_t frame[60];

    if (!start_pair(f, VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF))) {
        return;
    }
    /* The TAP delivers TSO frames although the driver did not ask. */
    g_assert_cmpint(ioctl(f->tap_fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4),
                    ==, 0);
    peer_vnet_hdr(f);
    post_rx_buffers(f, 16, 1536);
    make_tcp_frame(out + sizeof(gso), len, &gso);
    memcpy(out, &gso, sizeof(gso));
    g_assert_cmpint(send(f->peer, out, sizeof(gso) + len, 0), ==,
                    (ssize_t)(sizeof(gso) + len));
    make_frame(frame, sizeof(frame), 4);
    {
        g_autofree uint8_t *with_hdr = g_malloc0(sizeof(gso) + sizeof(frame));

        memcpy(with_hdr + sizeof(gso), frame, sizeof(frame));
        rx_frame(f, with_hdr, sizeof(gso) + sizeof(frame), frame, sizeof(frame),
                 &hdr);
    }
    g_assert_cmpuint(rx_stats(f).rx_dropped, ==, 1);
    g_assert_cmpuint(rx_stats(f).rx_packets, ==, 1);
}

/*
 * Frames queued in the TAP before the driver has buffers for them, of
 * three sizes and one 64 KB GSO frame among them, reach the driver in
 * their order and whole: the first batches read what 5 buffers allow and
 * one frame waits for more; the GSO frame moves the pair to readv() and
 * the small ones after it back to batches.
 */
static void test_rx_queued_order(Fixture *f, gconstpointer data)
{
    enum { N = 40, GSO_AT = 20, FIRST = 3 };
    static const size_t sizes[] = {60, 1514, 600};
    size_t gso_len = 14 + 20 + 20 + 64000;
    g_autofree uint8_t *gso_out = start_gso_rx(f, gso_len);
    struct virtio_net_hdr none = {0};
    struct virtio_net_hdr_v1 hdr;
    uint8_t out[sizeof(none) + 1514];

    if (!gso_out) {
        return;
    }
    if (!(GPOINTER_TO_SIZE(data) & READV_ONLY) &&
        !net_pair_reads_io_uring(f->pair)) {
        g_test_message("io_uring is not available here: frame by frame");
    }
    memcpy(out, &none, sizeof(none));
    for (unsigned int i = 0; i < N; i++) {
        size_t len = sizes[i % 3];

        if (i == GSO_AT) {
            g_assert_cmpint(send(f->peer, gso_out, sizeof(none) + gso_len, 0),
                            ==, (ssize_t)(sizeof(none) + gso_len));
            continue;
        }
        make_frame(out + sizeof(none), len, i);
        g_assert_cmpint(send(f->peer, out, sizeof(none) + len, 0), ==,
                        (ssize_t)(sizeof(none) + len));
    }
    post_rx_buffers(f, 5, 1536);
    for (unsigned int i = 0; i < N; i++) {
        if (i == FIRST) {
            g_usleep(100 * 1000); /* the pair waits for buffers */
            post_rx_buffers(f, 150, 1536);
        }
        if (i == GSO_AT) {
            rx_collect(f, gso_out + sizeof(none), gso_len, &hdr, sizeof(hdr));
            g_assert_cmpuint(hdr.gso_type, ==, VIRTIO_NET_HDR_GSO_TCPV4);
            continue;
        }
        make_frame(out, sizes[i % 3], i);
        rx_collect(f, out, sizes[i % 3], &hdr, sizeof(hdr));
        g_assert_cmpuint(hdr.gso_type, ==, VIRTIO_NET_HDR_GSO_NONE);
    }
    g_assert_cmpuint(rx_stats(f).rx_packets, ==, N);
    g_assert_cmpuint(rx_stats(f).rx_dropped, ==, 0);
}

/*
 * Frames the TAP queued before the driver started are not delivered: a
 * start by the driver drops them (net_pair_drop_queued(), counted as
 * rx-dropped), and the first frame after the start arrives.
 */
static void test_rx_drop_queued(Fixture *f, gconstpointer data)
{
    struct virtio_net_hdr_v1 hdr;
    struct pollfd pfd = {.fd = f->tap_fd, .events = POLLIN};
    unsigned int dropped = 0;
    uint8_t frame[60];

    if (skip_reason) {
        g_test_skip(skip_reason);
        return;
    }
    make_frame(frame, sizeof(frame), 1);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(send(f->peer, frame, sizeof(frame), 0), ==,
                        (ssize_t)sizeof(frame));
    }
    /* The sends reach the TAP's queue at once, or within the poll. */
    for (int tries = 0; dropped < 3 && tries < 100; tries++) {
        g_assert_cmpint(poll(&pfd, 1, 20), >=, 0);
        dropped += net_pair_drop_queued(f->pair);
    }
    g_assert_cmpuint(dropped, ==, 3);
    g_assert_cmpuint(net_pair_drop_queued(f->pair), ==, 0);
    if (!start_pair(f, 0)) {
        return;
    }
    post_rx_buffers(f, 4, 1536);
    make_frame(frame, sizeof(frame), 2);
    rx_frame(f, frame, sizeof(frame), frame, sizeof(frame), &hdr);
    g_assert_cmpuint(rx_stats(f).rx_dropped, ==, 3);
    g_assert_cmpuint(rx_stats(f).rx_packets, ==, 1);
}

/**
 * coal_start() - start the pair without event index, with coalescing
 * @f:		the fixture (split rings)
 * @rx:		the RX queue's coalescing
 * @tx:		the TX queue's coalescing
 *
 * Without event index the driver asks for an interrupt at every used
 * buffer (unless it sets VRING_AVAIL_F_NO_INTERRUPT): what the pair sends
 * is then what coalescing makes of that. Return: false to skip.
 */
static bool coal_start(Fixture *f, CtrlvqCoal rx, CtrlvqCoal tx)
{
    if (skip_reason) {
        g_test_skip(skip_reason);
        return false;
    }
    vduse_vq_stop(f->rx);
    vduse_vq_stop(f->tx);
    test_ring_start(&f->rxr, f->rx, 0, false);
    test_ring_start(&f->txr, f->tx, 0, false);
    net_pair_set_coalescing(f->pair, &rx, &tx);
    return start_pair(f, VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF));
}

/**
 * wait_irqs() - wait up to 5 s for the RX or TX interrupt count to reach @n
 * @f:		the fixture
 * @tx:		the TX queue's count, else the RX queue's
 * @n:		the count
 */
static void wait_irqs(Fixture *f, bool tx, uint64_t n)
{
    NetPairStats s;

    for (int i = 0; i < 5000; i++) {
        net_pair_get_stats(f->pair, &s);
        if ((tx ? s.tx_irqs : s.rx_irqs) >= n) {
            break;
        }
        g_usleep(1000);
    }
    g_assert_cmpuint(tx ? s.tx_irqs : s.rx_irqs, ==, n);
}

/* rx_one() - one 60-byte frame from the far side, into the driver. */
static void rx_one(Fixture *f, unsigned int seed)
{
    struct virtio_net_hdr_v1 hdr;
    uint8_t frame[60];

    make_frame(frame, sizeof(frame), seed);
    rx_frame(f, frame, sizeof(frame), frame, sizeof(frame), &hdr);
}

/*
 * RX max_packets 8 (max_usecs far away): 8 frames, each waited for and so
 * each in a burst of its own, give one interrupt, at the 8th; the next 3
 * are published at once but wait, and the pause sends what they owe.
 */
static void test_coal_rx_packets(Fixture *f, gconstpointer data)
{
    if (!coal_start(f, (CtrlvqCoal){8, 10 * 1000 * 1000}, (CtrlvqCoal){0})) {
        return;
    }
    post_rx_buffers(f, 32, 1536);
    for (unsigned int i = 0; i < 7; i++) {
        rx_one(f, i);
    }
    g_usleep(20 * 1000);
    g_assert_cmpuint(rx_stats(f).rx_irqs, ==, 0);
    rx_one(f, 7);
    wait_irqs(f, false, 1);
    for (unsigned int i = 8; i < 11; i++) {
        rx_one(f, i);
    }
    g_usleep(20 * 1000);
    g_assert_cmpuint(rx_stats(f).rx_irqs, ==, 1);
    net_pair_pause(f->pair);
    g_assert_cmpuint(rx_stats(f).rx_irqs, ==, 2);
    net_pair_resume(f->pair);
    g_assert_cmpuint(rx_stats(f).rx_packets, ==, 11);
}

/*
 * RX max_usecs 200 ms (max_packets far away): a frame's interrupt comes
 * by the deadline, not before, on a thread that sleeps meanwhile.
 */
static void test_coal_rx_usecs(Fixture *f, gconstpointer data)
{
    gint64 t0, waited;

    if (!coal_start(f, (CtrlvqCoal){1000, 200 * 1000}, (CtrlvqCoal){0})) {
        return;
    }
    post_rx_buffers(f, 8, 1536);
    t0 = g_get_monotonic_time();
    rx_one(f, 1);
    g_assert_cmpuint(rx_stats(f).rx_irqs, ==, 0);
    wait_irqs(f, false, 1);
    waited = g_get_monotonic_time() - t0;
    g_test_message("RX interrupt %" G_GINT64_FORMAT " us after the send",
                   waited);
    g_assert_cmpint(waited, >=, 200 * 1000);
    /* The window closed: the next frame opens one of its own. */
    rx_one(f, 2);
    wait_irqs(f, false, 2);
}

/*
 * TX max_packets 4 and max_usecs 10 s: four frames, one interrupt. The
 * RX queue, without coalescing, interrupts for each of its frames.
 */
static void test_coal_tx_packets(Fixture *f, gconstpointer data)
{
    struct virtio_net_hdr_v1 hdr = {0};
    uint8_t frame[60];

    if (!coal_start(f, (CtrlvqCoal){0}, (CtrlvqCoal){4, 10 * 1000 * 1000})) {
        return;
    }
    for (unsigned int i = 0; i < 4; i++) {
        make_frame(frame, sizeof(frame), i);
        tx_frame(f, &hdr, frame, sizeof(frame), false);
        if (i < 3) {
            g_assert_cmpuint(rx_stats(f).tx_irqs, ==, 0);
        }
    }
    wait_irqs(f, true, 1);
    post_rx_buffers(f, 8, 1536);
    rx_one(f, 1);
    rx_one(f, 2);
    wait_irqs(f, false, 2);
}

/**
 * coal_every_packet() - with RX coalescing @rx, three frames, three
 *			 interrupts
 * @f:		the fixture
 * @rx:		parameters that mean no coalescing
 */
static void coal_every_packet(Fixture *f, CtrlvqCoal rx)
{
    if (!coal_start(f, rx, (CtrlvqCoal){0})) {
        return;
    }
    post_rx_buffers(f, 8, 1536);
    for (unsigned int i = 0; i < 3; i++) {
        rx_one(f, i);
        wait_irqs(f, false, i + 1);
    }
}

/* 0/0, the state after reset: an interrupt for every packet. */
static void test_coal_zero(Fixture *f, gconstpointer data)
{
    coal_every_packet(f, (CtrlvqCoal){0, 0});
}

/* max_usecs 0: no coalescing either, whatever max_packets (the spec). */
static void test_coal_packets_only(Fixture *f, gconstpointer data)
{
    coal_every_packet(f, (CtrlvqCoal){16, 0});
}

/* max_packets 0: no coalescing either, whatever max_usecs (the spec). */
static void test_coal_usecs_only(Fixture *f, gconstpointer data)
{
    coal_every_packet(f, (CtrlvqCoal){0, 1000 * 1000});
}

/*
 * The driver suppressed interrupts (VRING_AVAIL_F_NO_INTERRUPT): a
 * coalescing window ends without one, by count or at a pause.
 */
static void test_coal_suppressed(Fixture *f, gconstpointer data)
{
    if (!coal_start(f, (CtrlvqCoal){2, 10 * 1000 * 1000}, (CtrlvqCoal){0})) {
        return;
    }
    test_ring_set_no_interrupt(&f->rxr, true);
    post_rx_buffers(f, 8, 1536);
    for (unsigned int i = 0; i < 3; i++) {
        rx_one(f, i);
    }
    net_pair_pause(f->pair);
    g_assert_cmpuint(rx_stats(f).rx_irqs, ==, 0);
    net_pair_resume(f->pair);
    /* Asked for again: the next window interrupts, at its 2nd packet. */
    test_ring_set_no_interrupt(&f->rxr, false);
    rx_one(f, 3);
    rx_one(f, 4);
    wait_irqs(f, false, 1);
}

/* A frame over the MTU the device offered (the TAP's is larger) is
 * dropped: with --tap-fd nobody sets the TAP's MTU. */
static void test_rx_over_mtu(Fixture *f, gconstpointer data)
{
    uint8_t frame[4000];
    struct virtio_net_hdr_v1 hdr;

    if (!start_pair_mtu(f, 0, 1500)) {
        return;
    }
    post_rx_buffers(f, 4, 9100);
    make_frame(frame, sizeof(frame), 6);
    g_assert_cmpint(send(f->peer, frame, sizeof(frame), 0), ==,
                    (ssize_t)sizeof(frame));
    make_frame(frame, 1514, 7);
    rx_frame(f, frame, 1514, frame, 1514, &hdr);
    g_assert_cmpuint(rx_stats(f).rx_dropped, ==, 1);
}

/* The suite's first IPv4 flow and its hashes under that key. */
#define MS_FLOW_TCP_HASH 0x51ccc178u
#define MS_FLOW_IP_HASH 0x323e8fc2u

/**
 * ms_flow() - make the TCP/IPv4 frame at @frame the suite's first flow:
 * 66.9.149.187:2794 -> 161.142.100.80:1766
 */
static void ms_flow(uint8_t *frame)
{
    uint8_t *ip = frame + 14, *tcp = ip + 20;

    memcpy(ip + 12, (uint8_t[]){66, 9, 149, 187}, 4);
    memcpy(ip + 16, (uint8_t[]){161, 142, 100, 80}, 4);
    test_ip4_set_checksum(ip);
    tcp[0] = 2794 >> 8;
    tcp[1] = 2794 & 0xff;
    tcp[2] = 1766 >> 8;
    tcp[3] = 1766 & 0xff;
}

/* hash_set() - what the driver's HASH_CONFIG would give the pair. */
static void hash_set(Fixture *f, uint32_t types)
{
    CtrlvqRss cfg = {.enabled = true, .hash_types = types, .key_len = 40};

    memcpy(cfg.key, ms_key, 40);
    net_pair_pause(f->pair);
    net_pair_set_hash(f->pair, &cfg);
    net_pair_resume(f->pair);
}

/**
 * rx_hash_frame() - the peer sends @len bytes of @frame; the driver gets it
 * behind a 20-byte header whose report the test checks
 * @f:		the fixture, RX buffers posted
 */
static void rx_hash_frame(Fixture *f, const uint8_t *frame, size_t len,
                          uint32_t hash, uint16_t report)
{
    struct virtio_net_hdr_v1_hash h;

    rx_frame_hdr(f, frame, len, frame, len, &h, sizeof(h));
    g_assert_cmphex(le32toh(h.hash_value), ==, hash);
    g_assert_cmpuint(le16toh(h.hash_report), ==, report);
    g_assert_cmpuint(h.padding, ==, 0);
}

/*
 * VIRTIO_NET_F_HASH_REPORT: 20-byte headers on RX, the TAP's 12 moved in
 * front of the frame; buffers full of garbage before. Without a hash
 * configuration the report is none; with one, the suite's hash of the
 * flow, by the types enabled; a frame of no enabled type: none.
 */
static void test_hash_rx(Fixture *f, gconstpointer data)
{
    uint64_t features = GPOINTER_TO_SIZE(data);
    bool mrg = features & VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF);
    struct virtio_net_hdr unused;
    uint8_t tcp[1514], other[60];

    if (!start_pair(f, features)) {
        return;
    }
    memset(f->mem->host + RX_BUF_OFF, 0xa5, 64 * 1536);
    make_tcp_frame(tcp, sizeof(tcp), &unused);
    ms_flow(tcp);
    make_frame(other, sizeof(other), 1);
    post_rx_buffers(f, mrg ? 8 : 4, mrg ? 1536 : MTU + 64);
    rx_hash_frame(f, tcp, sizeof(tcp), 0, VIRTIO_NET_HASH_REPORT_NONE);
    hash_set(f, VIRTIO_NET_RSS_HASH_TYPE_IPv4 | VIRTIO_NET_RSS_HASH_TYPE_TCPv4);
    rx_hash_frame(f, tcp, sizeof(tcp), MS_FLOW_TCP_HASH,
                  VIRTIO_NET_HASH_REPORT_TCPv4);
    rx_hash_frame(f, other, sizeof(other), 0, VIRTIO_NET_HASH_REPORT_NONE);
    hash_set(f, VIRTIO_NET_RSS_HASH_TYPE_IPv4);
    rx_hash_frame(f, tcp, 60, MS_FLOW_IP_HASH, VIRTIO_NET_HASH_REPORT_IPv4);
}

/*
 * A 64 KB GSO frame with hash reports, when the driver posted 8 buffers:
 * it waits in the spill buffer with its 20-byte header and arrives whole,
 * hashed, once there are enough.
 */
static void test_hash_rx_spill(Fixture *f, gconstpointer data)
{
    size_t len = 14 + 20 + 20 + 64000;
    g_autofree uint8_t *out = g_malloc(sizeof(struct virtio_net_hdr) + len);
    struct virtio_net_hdr gso;
    struct virtio_net_hdr_v1_hash h;
    uint32_t id, used_len;

    if (!start_pair(f, GPOINTER_TO_SIZE(data))) {
        return;
    }
    hash_set(f, VIRTIO_NET_RSS_HASH_TYPE_TCPv4);
    peer_vnet_hdr(f);
    make_tcp_frame(out + sizeof(gso), len, &gso);
    ms_flow(out + sizeof(gso));
    memcpy(out, &gso, sizeof(gso));
    post_rx_buffers(f, 8, 1536);
    g_assert_cmpint(send(f->peer, out, sizeof(gso) + len, 0), ==,
                    (ssize_t)(sizeof(gso) + len));
    /* Too few buffers: the frame waits whole, none is used. */
    g_usleep(200 * 1000);
    g_assert_false(test_ring_get_used(&f->rxr, &id, &used_len));
    post_rx_buffers(f, 40, 1536);
    rx_collect(f, out + sizeof(gso), len, &h, sizeof(h));
    g_assert_cmpuint(le16toh(h.hdr.num_buffers), ==, (len + 20 + 1535) / 1536);
    g_assert_cmpuint(h.hdr.gso_type & 0x7f, ==, VIRTIO_NET_HDR_GSO_TCPV4);
    g_assert_cmphex(le32toh(h.hash_value), ==, MS_FLOW_TCP_HASH);
    g_assert_cmpuint(le16toh(h.hash_report), ==, VIRTIO_NET_HASH_REPORT_TCPv4);
}

/*
 * TX with hash reports: the driver's 20-byte header, hash bytes not zero,
 * in a descriptor of its own, or with the frame in one descriptor (the
 * cut splits it): the frame leaves the TAP without the 8 bytes.
 */
static void test_hash_tx(Fixture *f, gconstpointer data)
{
    g_autofree uint8_t *got = g_malloc(2048);
    uint8_t *hdr = guest(f, GUEST_IOVA + TX_BUF_OFF);
    uint8_t frame[1514];

    if (!start_pair(f, GPOINTER_TO_SIZE(data))) {
        return;
    }
    for (int one = 0; one < 2; one++) {
        TestBuf two[2] = {{GUEST_IOVA + TX_BUF_OFF, 20, false},
                          {GUEST_IOVA + TX_BUF_OFF + 20, sizeof(frame), false}};
        TestBuf whole = {GUEST_IOVA + TX_BUF_OFF, 20 + sizeof(frame), false};
        uint32_t id, used_len;

        make_frame(frame, sizeof(frame), (unsigned int)one);
        memset(hdr, 0, 12);
        memset(hdr + 12, 0x5a, 8);
        memcpy(hdr + 20, frame, sizeof(frame));
        if (one) {
            test_ring_add(&f->txr, &whole, 1, 0);
        } else {
            test_ring_add(&f->txr, two, 2, 0);
        }
        kick(f->tx_kick);
        g_assert_cmpuint(peer_recv(f, got, 2048), ==, sizeof(frame));
        g_assert_cmpmem(got, sizeof(frame), frame, sizeof(frame));
        wait_used(&f->txr, &id, &used_len);
    }
    g_assert_cmpuint(rx_stats(f).tx_dropped, ==, 0);
}

/* prepare_netns() - a network namespace of our own, or why not. */
static const char *prepare_netns(void)
{
    int fd;

    if (unshare(CLONE_NEWNET) < 0) {
        return "needs CAP_SYS_ADMIN for a network namespace (run as root)";
    }
    if (access("/dev/net/tun", R_OK | W_OK) < 0) {
        return "needs /dev/net/tun";
    }
    /* No IPv6 chatter (router solicitations) on the TAPs. */
    fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY);
    if (fd >= 0) {
        g_assert_cmpint(write(fd, "1", 1), ==, 1);
        close(fd);
    }
    return NULL;
}

/*
 * The batch reader alone, on an AF_UNIX datagram socket pair (one frame
 * per read, as a TAP): three frames come out in order, each at the
 * headroom of its slot, the entries after them say -EAGAIN; an fd that
 * refuses reads that do not wait (an inotify fd) breaks the reader with
 * nothing read.
 */
static void test_tap_reader(void)
{
    g_autofree char *why_not = NULL;
    TapReader *r;
    int sv[2], ino;
    ssize_t res;

    g_assert_cmpint(
        socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
        ==, 0);
    r = tap_reader_new(sv[0], 8, 256, &why_not);
    if (!r) {
        g_test_skip(why_not);
        close(sv[0]);
        close(sv[1]);
        return;
    }
    for (uint8_t i = 0; i < 3; i++) {
        uint8_t frame[20];

        memset(frame, 'a' + i, sizeof(frame));
        g_assert_cmpint(send(sv[1], frame, 10 + i, 0), ==, 10 + i);
    }
    g_assert_cmpuint(tap_reader_read(r, 5, 8), ==, 5);
    for (unsigned int i = 0; i < 5; i++) {
        uint8_t *slot = tap_reader_slot(r, i, &res);

        if (i < 3) {
            g_assert_cmpint(res, ==, 10 + i);
            g_assert_cmpuint(slot[8], ==, 'a' + i);
            g_assert_cmpuint(slot[8 + res - 1], ==, 'a' + i);
        } else {
            g_assert_cmpint(res, ==, -EAGAIN);
        }
    }
    g_assert_false(tap_reader_broken(r));
    tap_reader_free(r);
    close(sv[0]);
    close(sv[1]);

    ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    g_assert_cmpint(ino, >=, 0);
    g_clear_pointer(&why_not, g_free);
    r = tap_reader_new(ino, 4, 256, &why_not);
    g_assert_nonnull(r);
    g_assert_cmpuint(tap_reader_read(r, 4, 0), ==, 4);
    tap_reader_slot(r, 3, &res);
    g_assert_cmpint(res, ==, -EAGAIN);
    g_assert_true(tap_reader_broken(r));
    g_assert_cmpuint(tap_reader_read(r, 4, 0), ==, 0);
    tap_reader_free(r);
    close(ino);
}

/*
 * add() - register a test on the fixture; one that receives frames also
 * as /datapath/readv/..., with one readv() per frame instead of batches.
 */
static void add(const char *path, uint64_t features,
                void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(path, Fixture, GSIZE_TO_POINTER(features), fixture_setup, fn,
               fixture_teardown);
    if (strstr(path, "rx") || strstr(path, "capture")) {
        g_autofree char *twin =
            g_strconcat("/datapath/readv", path + strlen("/datapath"), NULL);

        g_test_add(twin, Fixture, GSIZE_TO_POINTER(features | READV_ONLY),
                   fixture_setup, fn, fixture_teardown);
    }
}

int main(int argc, char **argv)
{
    const uint64_t offloads = gso_features;
    const uint64_t packed = VDUSE_BIT(VDUSE_F_RING_PACKED);
    const uint64_t hash = VDUSE_BIT(VIRTIO_NET_F_HASH_REPORT);

    g_test_init(&argc, &argv, NULL);
    skip_reason = prepare_netns();
    g_test_add_func("/datapath/tap-reader", test_tap_reader);
    add("/datapath/tx/sizes", 0, test_tx_sizes);
    add("/datapath/tx/sizes-offloads", offloads, test_tx_sizes);
    add("/datapath/rx/sizes", 0, test_rx_sizes);
    add("/datapath/rx/sizes-mergeable", VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF),
        test_rx_sizes);
    add("/datapath/rx/sizes-offloads", offloads, test_rx_sizes);
    /* The same frames through packed rings (the pair cannot tell). */
    add("/datapath/packed/tx/sizes", packed, test_tx_sizes);
    add("/datapath/packed/tx/sizes-offloads", packed | offloads, test_tx_sizes);
    add("/datapath/packed/rx/sizes", packed, test_rx_sizes);
    add("/datapath/packed/rx/sizes-mergeable",
        packed | VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF), test_rx_sizes);
    add("/datapath/packed/rx/sizes-offloads", packed | offloads, test_rx_sizes);
    add("/datapath/tx/gso-64k", 0, test_tx_gso);
    g_test_add("/datapath/tx/burst", Fixture, GSIZE_TO_POINTER(0),
               fixture_setup, test_tx_burst, fixture_teardown);
    g_test_add("/datapath/tx/burst-writev", Fixture, GSIZE_TO_POINTER(1),
               fixture_setup, test_tx_burst, fixture_teardown);
    add("/datapath/tx/long-chains", 0, test_tx_long_chains);
    add("/datapath/tx/sndbuf", 0, test_tx_sndbuf);
    add("/datapath/rx/gso-64k", 0, test_rx_gso);
    add("/datapath/rx/big-chains", 0, test_rx_big_chains);
    add("/datapath/rx/big-chain-short", 0, test_rx_big_chain_short);
    add("/datapath/rx/big-chain-rewritten", 0, test_rx_big_chain_rewritten);
    add("/datapath/capture", 0, test_capture);
    add("/datapath/rx/small-ring-gso", 0, test_rx_small_ring);
    add("/datapath/rx/held-chains", 0, test_rx_held_chains);
    add("/datapath/rx/tiny-between-held", 0, test_rx_tiny_between_held);
    add("/datapath/rx/spill", 0, test_rx_spill);
    add("/datapath/rx/spill-paused", 0, test_rx_spill_paused);
    add("/datapath/rx/under-tx-load", 0, test_rx_under_tx_load);
    add("/datapath/rx/not-accepted", 0, test_rx_not_accepted);
    add("/datapath/rx/over-mtu", 0, test_rx_over_mtu);
    add("/datapath/rx/drop-queued", 0, test_rx_drop_queued);
    add("/datapath/rx/queued-order", 0, test_rx_queued_order);
    add("/datapath/coal/rx-packets", 0, test_coal_rx_packets);
    add("/datapath/coal/rx-usecs", 0, test_coal_rx_usecs);
    add("/datapath/coal/tx-packets", 0, test_coal_tx_packets);
    add("/datapath/coal/suppressed", 0, test_coal_suppressed);
    add("/datapath/coal/zero-zero", 0, test_coal_zero);
    add("/datapath/coal/packets-only", 0, test_coal_packets_only);
    add("/datapath/coal/usecs-only", 0, test_coal_usecs_only);
    add("/datapath/hash/rx", hash | VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF),
        test_hash_rx);
    add("/datapath/hash/rx-big-buffers", hash, test_hash_rx);
    add("/datapath/hash/rx-spill", hash | offloads, test_hash_rx_spill);
    add("/datapath/hash/tx", hash, test_hash_tx);
    return g_test_run();
}
