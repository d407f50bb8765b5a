/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-pair.c - a queue pair's dataplane against a real TAP, measured
 * side by side with a raw TAP loop
 *
 * DOC: Theory of operation
 *
 * The real pair code (NetPair, net/datapath.c) serves an in-process
 * virtio driver (tests/unit/test-driver.c: rings and buffers in a memfd
 * that the pair's IOTLB maps) and a real TAP, in a network namespace of
 * the benchmark's own. The driver side runs in a thread of its own that
 * reclaims used chains and posts new ones as a guest's interrupt handler
 * would, so that the pair is what is measured: it never touches the
 * frame data, and it is woken by the pair's interrupts (an eventfd the
 * notify callback writes, one syscall as VDUSE_VQ_INJECT_IRQ is).
 *
 *  - TX: the driver keeps the TX ring full (256 chains, one descriptor
 *    each: the 12-byte header and the frame, as Linux pushes the header
 *    in front of a linear frame); the pair writes them to the TAP (a
 *    burst per io_uring submission, net/tap-batch.c); the
 *    host stack drops them (unknown EtherType, or a TCP segment to an
 *    address nobody has).
 *  - RX: in rounds, a generator thread fills the TAP's queue (made long
 *    enough) through an AF_PACKET socket bound to it (sendmmsg() of 64,
 *    qdisc bypassed, a vnet header for GSO frames) while the reader is
 *    paused (net_pair_pause()), then the reader drains it alone and the
 *    time and CPU of the drains are summed. On two cores a generator
 *    running beside the reader cannot outrun it, and a reader that runs
 *    dry pays a wake-up per frame: the figure would be the generator's.
 *
 * Then the RX latency of single 60-byte frames (one every 2 ms, from
 * the peer's send() to the driver's RX thread taking the chain back),
 * with the TX ring idle and kept full of 64 KiB GSO frames: neither
 * direction may starve the other.
 *
 * The raw loops are the limit of a TAP backend that makes one syscall
 * per frame: the same frames with writev() on the TAP (TX), or readv()
 * from it in the same rounds (RX), no virtqueue.
 *
 * Each group of rows (a direction and a frame size) runs --repeat times
 * with the raw loop between the pair rows: raw, every feature set, raw,
 * every feature set, ..., raw. A repetition's ratio is its pair row over
 * the mean of the raw runs just before and after it, so that a slow spell
 * of the machine's other load falls on both; the table gives each row's
 * median over its runs and each ratio's median over the repetitions, with
 * its range. One run was not enough on a shared two-CPU machine: three of
 * the same tree gave RX 60 B ratios from 0.54 to 0.93.
 *
 * Pair-thread CPU comes from /proc/self/task/TID/schedstat (run time in
 * ns of the thread named "pair0"), or its stat (utime + stime, in clock
 * ticks) where schedstat is missing; the raw loop's from
 * CLOCK_THREAD_CPUTIME_ID. Every row runs for a bounded time; nothing
 * here fails on speed: the targets are printed beside the figures as met
 * or not met.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "net-priv.h"
#include "test-driver.h"

#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (32u * 1024 * 1024)
#define RX_RING_OFF 0x0
#define TX_RING_OFF 0x10000
#define INDIRECT_OFF 0x20000
#define TX_BUF_OFF 0x40000
#define RX_BUF_OFF 0x100000
#define RING_SIZE 256
#define MTU 1500
/* Linux's mergeable buffers, and its "big packets" chains without them. */
#define MRG_BUF 1536
#define BIG_PAGES 17
#define BIG_BUF (BIG_PAGES * 4096)
#define SMALL_BUF 1536
#define GEN_BATCH 64
/*
 * RX rounds: the generator queues about this many bytes of frames
 * (truesize counted roughly) in the TAP while the reader is paused, then
 * the reader drains them alone.
 */
#define FILL_BYTES (24u * 1024 * 1024)
#define FILL_MAX 32768u
#define GSO_FRAME (14 + 20 + 20 + 64000)
#define FRAME_ROOM 65600
#define ETHERTYPE_BENCH 0x88b5
/* Repetitions of each group of rows: the default, and at most. */
#define REPEAT_DEFAULT 3
#define REPEAT_MAX 20
/* Frames the latency measurement sends, at most. */
#define LAT_MAX 1000
#define RW (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE)

#define F(bit) VDUSE_BIT(VIRTIO_NET_F_##bit)
#define GSO_BITS                                                               \
    (F(CSUM) | F(HOST_TSO4) | F(HOST_TSO6) | F(GUEST_CSUM) | F(GUEST_TSO4) |   \
     F(GUEST_TSO6))

/**
 * struct FeatureSet - what the driver negotiated, and the buffers it posts
 * @name:	short name for the table
 * @bits:	virtio-net feature bits
 * @rx_buf:	bytes of one RX chain
 * @rx_pages:	descriptors per RX chain (an indirect table when more than
 *		one)
 * @packed:	the rings have the packed layout (VIRTIO_F_RING_PACKED)
 */
typedef struct FeatureSet {
    const char *name;
    uint64_t bits;
    uint32_t rx_buf;
    unsigned int rx_pages;
    bool packed;
} FeatureSet;

/* Each set with split rings, then the same with packed ones beside it. */
static const FeatureSet feature_sets[] = {
    {"none", 0, SMALL_BUF, 1, false},
    {"none/pk", 0, SMALL_BUF, 1, true},
    {"mrg", F(MRG_RXBUF), MRG_BUF, 1, false},
    {"mrg/pk", F(MRG_RXBUF), MRG_BUF, 1, true},
    {"gso", GSO_BITS, BIG_BUF, BIG_PAGES, false},
    {"gso/pk", GSO_BITS, BIG_BUF, BIG_PAGES, true},
    {"mrg+gso", GSO_BITS | F(MRG_RXBUF), MRG_BUF, 1, false},
    {"mrg+gso/pk", GSO_BITS | F(MRG_RXBUF), MRG_BUF, 1, true},
    {"mrg+hash", F(MRG_RXBUF) | F(HASH_REPORT), MRG_BUF, 1, false},
};
enum {
    FS_NONE,
    FS_NONE_PK,
    FS_MRG,
    FS_MRG_PK,
    FS_GSO,
    FS_GSO_PK,
    FS_MRG_GSO,
    FS_MRG_GSO_PK,
    FS_MRG_HASH,
    FS_COUNT
};

typedef enum { DIR_TX, DIR_RX } Dir;
enum { SZ_60, SZ_1514, SZ_GSO, SZ_COUNT };
static const size_t frame_sizes[SZ_COUNT] = {60, 1514, GSO_FRAME};
static const char *const size_names[SZ_COUNT] = {"60 B", "1514 B",
                                                 "64 KiB GSO"};

/**
 * struct Result - what one row measured
 * @valid:	the row ran
 * @frames:	frames moved in the window
 * @bytes:	their bytes, without the virtio-net header
 * @secs:	the window, wall clock
 * @cpu_secs:	CPU time of the measured thread in the window (-1: unknown)
 * @offered:	frames the generator queued in the TAP (RX rows)
 * @rounds:	fill-and-drain rounds (RX rows)
 * @irqs:	interrupts the pair sent
 * @kicks:	kicks that woke the pair
 */
typedef struct Result {
    bool valid;
    uint64_t frames;
    uint64_t bytes;
    double secs;
    double cpu_secs;
    uint64_t offered;
    unsigned int rounds;
    uint64_t irqs;
    uint64_t kicks;
} Result;

/**
 * struct Bench - one row's world: a driver, a TAP, a pair, a peer
 * @dir:	what is measured
 * @fs:		the driver's features and buffers
 * @frame_len:	frame length without header
 * @seconds:	the row's time (a measured window, or the drains' time)
 * @frame:	header (12 bytes) and frame, for the raw loops and the peer
 * @gso:	the frame is a TCP GSO frame
 * @mem:	guest memory
 * @iotlb:	its IOTLB
 * @rxr:	the driver's RX ring (split)
 * @txr:	the driver's TX ring (split)
 * @prxr:	the driver's RX ring (packed)
 * @ptxr:	the driver's TX ring (packed)
 * @rx:		the pair's RX queue
 * @tx:		the pair's TX queue
 * @rx_kick:	RX kick eventfd
 * @tx_kick:	TX kick eventfd
 * @irq_fd:	eventfds the pair's interrupts are written to, per vq (RX 0,
 *		TX 1)
 * @tap_fd:	the TAP queue
 * @ifname:	the TAP's name
 * @pair:	the dataplane under test, or NULL for a raw row
 * @stop:	the helper threads must return (atomic)
 * @sent:	frames the generator sent (atomic)
 * @fill_n:	frames per fill
 * @fill_req:	fills asked of the generator (atomic)
 * @fill_done:	the last fill it completed (atomic)
 * @both:	TX rows only: also post RX buffers and run the RX side
 * @rx_seen:	RX chains the driver took back (atomic)
 * @rx_seen_ns:	when it last did (now_ns(), atomic)
 * @driver:	the driver's thread for the measured direction
 * @driver_rx:	the driver's RX thread when @both
 * @gen:	the generator's thread
 */
typedef struct Bench {
    Dir dir;
    const FeatureSet *fs;
    size_t frame_len;
    double seconds;
    uint8_t *frame;
    bool gso;
    TestMem *mem;
    VduseIotlb *iotlb;
    TestRing rxr;
    TestRing txr;
    TestPRing prxr;
    TestPRing ptxr;
    VduseVq *rx;
    VduseVq *tx;
    int rx_kick;
    int tx_kick;
    int irq_fd[2];
    int tap_fd;
    char ifname[IFNAMSIZ];
    NetPair *pair;
    int stop;
    uint64_t sent;
    unsigned int fill_n;
    int fill_req;
    int fill_done;
    bool both;
    uint64_t rx_seen;
    uint64_t rx_seen_ns;
    GThread *driver;
    GThread *driver_rx;
    GThread *gen;
} Bench;

/**
 * struct Group - the rows of one direction and frame size, repeated
 * @reps:	the repetitions
 * @raw:	the raw loop's runs: run @k before the pair rows of
 *		repetition @k, run @reps after the last
 * @pair:	the pair's runs per feature set, one per repetition
 * @has:	which feature sets ran
 */
typedef struct Group {
    unsigned int reps;
    Result raw[REPEAT_MAX + 1];
    Result pair[FS_COUNT][REPEAT_MAX];
    bool has[FS_COUNT];
} Group;

/**
 * struct Spread - a figure over the runs or repetitions of a row
 * @median:	its median (of an even count, the mean of the middle two)
 * @min:	the smallest
 * @max:	the largest
 * @n:		how many runs gave it (0: none, the rest is meaningless)
 */
typedef struct Spread {
    double median;
    double min;
    double max;
    unsigned int n;
} Spread;

/* A figure of one run (pps(), cpu_us(), ...): negative if it has none. */
typedef double (*Metric)(const Result *r);

/**
 * struct Options - the command line
 * @seconds:	seconds per row (--seconds, or $BENCH_SECONDS)
 * @repeat:	repetitions of each group (--repeat, or $BENCH_REPEAT)
 */
typedef struct Options {
    double seconds;
    int repeat;
} Options;

/**
 * now() - monotonic time
 *
 * Return: seconds.
 */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/**
 * now_ns() - monotonic time
 *
 * Return: nanoseconds.
 */
static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/**
 * thread_cpu() - CPU time of the calling thread
 *
 * Return: seconds.
 */
static double thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/**
 * find_thread() - the TID of this process's thread named @comm
 * @comm:	the name (as in /proc/self/task/TID/comm)
 *
 * Return: the TID, or -1.
 */
static int find_thread(const char *comm)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/task", 0, NULL);
    const char *tid;

    while (d && (tid = g_dir_read_name(d))) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/comm", tid);
        g_autofree char *name = NULL;

        if (g_file_get_contents(path, &name, NULL, NULL) &&
            !strcmp(g_strstrip(name), comm)) {
            return atoi(tid);
        }
    }
    return -1;
}

/**
 * task_cpu() - CPU time of thread @tid: schedstat's run time, else stat's
 * utime + stime
 * @tid:	the thread
 *
 * Return: seconds, or -1 if it cannot be read.
 */
static double task_cpu(int tid)
{
    g_autofree char *sched_path =
        g_strdup_printf("/proc/self/task/%d/schedstat", tid);
    g_autofree char *path = g_strdup_printf("/proc/self/task/%d/stat", tid);
    g_autofree char *text = NULL;
    unsigned long long ns;
    unsigned long utime, stime;
    const char *after;

    if (tid < 0) {
        return -1;
    }
    if (g_file_get_contents(sched_path, &text, NULL, NULL) &&
        sscanf(text, "%llu", &ns) == 1) {
        return (double)ns / 1e9;
    }
    g_clear_pointer(&text, g_free);
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return -1;
    }
    /* Fields 14 and 15, counted after the ")" closing the name. */
    after = strrchr(text, ')');
    if (!after ||
        sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
               &utime, &stime) != 2) {
        return -1;
    }
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/**
 * tap_tx_dropped() - the TAP's tx_dropped counter (frames its queue refused)
 * @ifname:	the TAP
 *
 * Return: the counter, or 0.
 */
static uint64_t tap_tx_dropped(const char *ifname)
{
    g_autofree char *path =
        g_strdup_printf("/sys/class/net/%s/statistics/tx_dropped", ifname);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return 0;
    }
    return g_ascii_strtoull(text, NULL, 10);
}

/**
 * set_up() - bring interface @ifname up, its queue @qlen frames long
 * @ifname:	the interface
 * @qlen:	txqueuelen: for a TAP, the frames it queues for its reader
 *		(a failure to set it is only reported)
 *
 * Return: 0 or a negative errno.
 */
static int set_up(const char *ifname, int qlen)
{
    struct ifreq ifr = {0};
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int ret = 0;

    if (s < 0) {
        return -errno;
    }
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        ret = -errno;
    } else {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
            ret = -errno;
        }
    }
    ifr.ifr_qlen = qlen;
    if (!ret && ioctl(s, SIOCSIFTXQLEN, &ifr) < 0) {
        /* Not fatal: a shorter queue drops part of each fill, and fill()
         * counts only what it queued. */
        g_printerr("bench-pair: %s: txqueuelen %d: %s\n", ifname, qlen,
                   g_strerror(errno));
    }
    close(s);
    return ret;
}

/**
 * make_frame() - header and frame of @len bytes at @buf
 * @buf:	room for 12 + @len bytes
 * @len:	frame length
 * @gso:	a TCP/IPv4 GSO frame (its header asks for segmentation and
 *		the checksum)
 * @ip4:	a TCP/IPv4 frame (with @gso, or without for the hash
 *		reports), else an Ethernet frame of a local EtherType
 */
static void make_frame(uint8_t *buf, size_t len, bool gso, bool ip4)
{
    static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 1};
    static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 2};
    struct virtio_net_hdr_v1 *h = (struct virtio_net_hdr_v1 *)buf;
    uint8_t *frame = buf + NET_HDR_LEN;
    uint8_t *ip = frame + 14, *tcp = ip + 20;

    memset(h, 0, sizeof(*h));
    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    frame[12] = ETHERTYPE_BENCH >> 8;
    frame[13] = ETHERTYPE_BENCH & 0xff;
    for (size_t i = 14; i < len; i++) {
        frame[i] = (uint8_t)(i * 7);
    }
    if (!ip4) {
        return;
    }
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
    tcp[13] = 0x10; /* ACK */
    tcp[14] = 0xff;
    if (!gso) {
        return;
    }
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h->hdr_len = htole16(54);
    h->gso_size = htole16(1448);
    h->csum_start = htole16(34);
    h->csum_offset = htole16(16);
}

/**
 * bench_irq() - the pair's notify callback: an interrupt to the driver
 * @opaque:	the bench
 * @index:	the vq
 *
 * Return: 0 or a negative errno.
 */
static int bench_irq(void *opaque, uint32_t index)
{
    Bench *b = opaque;
    uint64_t one = 1;

    if (write(b->irq_fd[index & 1], &one, sizeof(one)) < 0 && errno != EAGAIN) {
        return -errno;
    }
    return 0;
}

/**
 * kick() - the driver kicks a queue
 * @fd:		its kick eventfd
 */
static void kick(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        g_printerr("kick: %s\n", g_strerror(errno));
    }
}

/**
 * kick_if_asked() - kick @fd if the device asked for it (event index)
 * @r:		the driver's ring
 * @fd:		the kick eventfd
 * @old:	the available index before the chains just added
 */
static void kick_if_asked(TestRing *r, int fd, uint16_t old)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vring_need_event(test_ring_avail_event(r), r->avail_idx, old)) {
        kick(fd);
    }
}

/**
 * wait_irq() - sleep until the device interrupts for a vq, at most 10 ms
 * @fd:		the vq's interrupt eventfd
 */
static void wait_irq(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    uint64_t count;

    if (poll(&pfd, 1, 10) > 0 && read(fd, &count, sizeof(count)) < 0) {
        g_printerr("irq read: %s\n", g_strerror(errno));
    }
}

/**
 * rx_post_packed() - the driver posts one RX chain on the packed ring
 * @b:		the bench
 *
 * Every chain takes one slot (one buffer, or an indirect table), and its
 * buffer id is its slot: its buffers follow from it, as with split rings.
 */
static void rx_post_packed(Bench *b)
{
    TestPRing *r = &b->prxr;
    uint16_t id = r->avail_idx;
    uint64_t base = GUEST_IOVA + RX_BUF_OFF + (uint64_t)id * b->fs->rx_buf;
    TestBuf bufs[BIG_PAGES];

    if (b->fs->rx_pages == 1) {
        bufs[0] = (TestBuf){base, b->fs->rx_buf, true};
        test_pring_add(r, bufs, 1, 0, id);
        return;
    }
    for (unsigned int i = 0; i < b->fs->rx_pages; i++) {
        bufs[i] = (TestBuf){base + i * 4096ull, 4096, true};
    }
    test_pring_add(r, bufs, b->fs->rx_pages,
                   GUEST_IOVA + INDIRECT_OFF +
                       (uint64_t)id * BIG_PAGES * sizeof(struct vring_desc),
                   id);
}

/**
 * rx_post() - the driver posts one RX chain
 * @b:		the bench
 *
 * The chain's buffers follow from its head descriptor: chains come back
 * in order, so re-posting in order reuses the same descriptors.
 */
static void rx_post(Bench *b)
{
    TestRing *r = &b->rxr;

    if (b->fs->packed) {
        rx_post_packed(b);
        return;
    }
    uint16_t head = r->next_desc;
    uint64_t base = GUEST_IOVA + RX_BUF_OFF + (uint64_t)head * b->fs->rx_buf;
    TestBuf bufs[BIG_PAGES];

    if (b->fs->rx_pages == 1) {
        bufs[0] = (TestBuf){base, b->fs->rx_buf, true};
        test_ring_add(r, bufs, 1, 0);
        return;
    }
    for (unsigned int i = 0; i < b->fs->rx_pages; i++) {
        bufs[i] = (TestBuf){base + i * 4096ull, 4096, true};
    }
    test_ring_add(r, bufs, b->fs->rx_pages,
                  GUEST_IOVA + INDIRECT_OFF +
                      (uint64_t)head * BIG_PAGES * sizeof(struct vring_desc));
}

/**
 * driver_rx_packed() - driver_rx() on the packed ring
 * @b:		the bench
 *
 * Return: NULL.
 */
static gpointer driver_rx_packed(Bench *b)
{
    TestPRing *r = &b->prxr;

    while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
        uint16_t old = r->avail_idx, id;
        bool old_wrap = r->avail_wrap;
        unsigned int n = 0;
        uint32_t len;

        while (test_pring_get_used(r, &id, &len)) {
            rx_post(b);
            n++;
        }
        if (n) {
            __atomic_store_n(&b->rx_seen_ns, now_ns(), __ATOMIC_RELAXED);
            __atomic_add_fetch(&b->rx_seen, n, __ATOMIC_RELEASE);
            if (test_pring_kick_needed(r, old, old_wrap)) {
                kick(b->rx_kick);
            }
        }
        /* An interrupt at the next used descriptor (event index). */
        test_pring_set_driver_event(
            r, VRING_PACKED_EVENT_FLAG_DESC,
            test_pring_state(r->used_idx, r->used_wrap));
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!test_pring_is_used(r, r->used_idx, r->used_wrap)) {
            wait_irq(b->irq_fd[0]);
        }
    }
    return NULL;
}

/**
 * driver_rx() - the driver's RX side: re-post what the device used
 * @data:	the bench
 *
 * Asks for an interrupt at the next used chain (as Linux's NAPI does when
 * it re-enables callbacks), and kicks only when the device asked.
 * Return: NULL.
 */
static gpointer driver_rx(gpointer data)
{
    Bench *b = data;
    TestRing *r = &b->rxr;

    if (b->fs->packed) {
        return driver_rx_packed(b);
    }
    while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
        uint16_t old = r->avail_idx;
        uint32_t id, len;

        while (test_ring_get_used(r, &id, &len)) {
            rx_post(b);
        }
        if (r->avail_idx != old) {
            __atomic_store_n(&b->rx_seen_ns, now_ns(), __ATOMIC_RELAXED);
            __atomic_add_fetch(&b->rx_seen, (uint16_t)(r->avail_idx - old),
                               __ATOMIC_RELEASE);
            kick_if_asked(r, b->rx_kick, old);
        }
        test_ring_set_used_event(r, r->last_used);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (test_ring_used_idx(r) == r->last_used) {
            wait_irq(b->irq_fd[0]);
        }
    }
    return NULL;
}

/**
 * driver_tx_packed() - driver_tx() on the packed ring
 * @b:		the bench
 * @buf:	the header and frame every chain carries
 *
 * A chain's buffer id is its slot.
 * Return: NULL.
 */
static gpointer driver_tx_packed(Bench *b, const TestBuf *buf)
{
    TestPRing *r = &b->ptxr;
    const uint16_t half = RING_SIZE / 2;

    while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
        uint16_t old = r->avail_idx, id, at;
        bool old_wrap = r->avail_wrap, at_wrap;
        bool added = false;
        uint32_t len;

        while (test_pring_get_used(r, &id, &len)) {
        }
        while (r->free > 0) {
            test_pring_add(r, buf, 1, 0, r->avail_idx);
            added = true;
        }
        if (added && test_pring_kick_needed(r, old, old_wrap)) {
            kick(b->tx_kick);
        }
        /* An interrupt when half the ring has been used. */
        at = (uint16_t)(r->used_idx + half - 1);
        at_wrap = r->used_wrap;
        if (at >= RING_SIZE) {
            at -= RING_SIZE;
            at_wrap = !at_wrap;
        }
        test_pring_set_driver_event(r, VRING_PACKED_EVENT_FLAG_DESC,
                                    test_pring_state(at, at_wrap));
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!test_pring_is_used(r, at, at_wrap)) {
            wait_irq(b->irq_fd[1]);
        }
    }
    return NULL;
}

/**
 * driver_tx() - the driver's TX side: keep the ring full
 * @data:	the bench
 *
 * Every chain is one descriptor over the same header and frame. Asks for
 * an interrupt when half the ring has been used.
 * Return: NULL.
 */
static gpointer driver_tx(gpointer data)
{
    Bench *b = data;
    TestRing *r = &b->txr;
    TestBuf buf = {GUEST_IOVA + TX_BUF_OFF,
                   (uint32_t)(NET_HDR_LEN + b->frame_len), false};
    const uint16_t half = RING_SIZE / 2;

    if (b->fs->packed) {
        return driver_tx_packed(b, &buf);
    }
    while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
        uint16_t old = r->avail_idx;
        uint32_t id, len;

        while (test_ring_get_used(r, &id, &len)) {
        }
        while ((uint16_t)(r->avail_idx - r->last_used) < RING_SIZE) {
            test_ring_add(r, &buf, 1, 0);
        }
        if (r->avail_idx != old) {
            kick_if_asked(r, b->tx_kick, old);
        }
        test_ring_set_used_event(r, (uint16_t)(r->last_used + half - 1));
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if ((uint16_t)(test_ring_used_idx(r) - r->last_used) < half) {
            wait_irq(b->irq_fd[1]);
        }
    }
    return NULL;
}

/**
 * generator() - the peer: fill the TAP's queue each time it is asked
 * @data:	the bench
 *
 * An AF_PACKET socket that receives nothing (protocol 0), qdisc bypassed,
 * with a vnet header for a GSO frame; sendmmsg() of GEN_BATCH, @b->fill_n
 * frames per fill.
 * Return: NULL.
 */
static gpointer generator(gpointer data)
{
    Bench *b = data;
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_ifindex = (int)if_nametoindex(b->ifname),
        .sll_protocol = htons((uint16_t)(b->frame[NET_HDR_LEN + 12] << 8 |
                                         b->frame[NET_HDR_LEN + 13])),
    };
    struct virtio_net_hdr vh;
    struct iovec iov[2];
    struct mmsghdr msgs[GEN_BATCH];
    int one = 1;
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

    if (s < 0) {
        g_printerr("generator: socket: %s\n", g_strerror(errno));
        return NULL;
    }
    if (setsockopt(s, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
        g_printerr("generator: PACKET_QDISC_BYPASS: %s\n", g_strerror(errno));
    }
    if (b->gso &&
        setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
        g_printerr("generator: PACKET_VNET_HDR: %s\n", g_strerror(errno));
        close(s);
        return NULL;
    }
    /* The legacy 10-byte header: the first 10 bytes of ours. */
    memcpy(&vh, b->frame, sizeof(vh));
    iov[0] = (struct iovec){&vh, sizeof(vh)};
    iov[1] = (struct iovec){b->frame + NET_HDR_LEN, b->frame_len};
    for (int i = 0; i < GEN_BATCH; i++) {
        msgs[i] = (struct mmsghdr){
            .msg_hdr = {.msg_name = &sll,
                        .msg_namelen = sizeof(sll),
                        .msg_iov = b->gso ? iov : iov + 1,
                        .msg_iovlen = b->gso ? 2 : 1},
        };
    }
    while (!__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
        int req = __atomic_load_n(&b->fill_req, __ATOMIC_ACQUIRE);
        unsigned int left = b->fill_n;

        if (req == __atomic_load_n(&b->fill_done, __ATOMIC_RELAXED)) {
            g_usleep(100);
            continue;
        }
        while (left > 0 && !__atomic_load_n(&b->stop, __ATOMIC_RELAXED)) {
            int n = sendmmsg(s, msgs, MIN(left, GEN_BATCH), 0);

            if (n > 0) {
                __atomic_add_fetch(&b->sent, (uint64_t)n, __ATOMIC_RELAXED);
                left -= (unsigned int)n;
            } else if (errno == ENOBUFS || errno == EAGAIN) {
                sched_yield();
            } else {
                g_printerr("generator: sendmmsg: %s\n", g_strerror(errno));
                left = 0;
            }
        }
        __atomic_store_n(&b->fill_done, req, __ATOMIC_RELEASE);
    }
    close(s);
    return NULL;
}

/**
 * fill() - have the generator queue @b->fill_n frames in the TAP
 * @b:		the bench, its reader paused
 *
 * Return: the frames queued (sent and not dropped by the TAP), or 0 if
 * the generator did not finish within 5 s.
 */
static uint64_t fill(Bench *b)
{
    uint64_t sent0 = __atomic_load_n(&b->sent, __ATOMIC_RELAXED);
    uint64_t drop0 = tap_tx_dropped(b->ifname);
    int req = __atomic_add_fetch(&b->fill_req, 1, __ATOMIC_RELEASE);
    double deadline = now() + 5;

    while (__atomic_load_n(&b->fill_done, __ATOMIC_ACQUIRE) != req) {
        if (now() > deadline) {
            return 0;
        }
        g_usleep(200);
    }
    return __atomic_load_n(&b->sent, __ATOMIC_RELAXED) - sent0 -
           (tap_tx_dropped(b->ifname) - drop0);
}

/**
 * bench_new() - a TAP in this namespace, guest memory and the frame
 * @dir:	what is measured
 * @fs:		the driver's features
 * @size:	SZ_*
 * @seconds:	the row's time
 * @error:	set on failure
 *
 * Return: the bench, for bench_free() even on failure.
 */
static Bench *bench_new(Dir dir, const FeatureSet *fs, int size, double seconds,
                        GError **error)
{
    static int n;
    Bench *b = g_new0(Bench, 1);
    int ret;

    b->dir = dir;
    b->fs = fs;
    b->frame_len = frame_sizes[size];
    b->seconds = seconds;
    b->gso = size == SZ_GSO;
    b->frame = g_malloc0(NET_HDR_LEN + FRAME_ROOM);
    make_frame(b->frame, b->frame_len, b->gso,
               b->gso || (fs->bits & F(HASH_REPORT)));
    b->fill_n = (unsigned int)MIN(FILL_MAX, FILL_BYTES / (b->frame_len + 700));
    b->fill_n = (b->fill_n + GEN_BATCH - 1) / GEN_BATCH * GEN_BATCH;
    b->rx_kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    b->tx_kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    b->irq_fd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    b->irq_fd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    b->tap_fd = -1;
    g_snprintf(b->ifname, sizeof(b->ifname), "vbench%d", n++);
    if (!tap_open(b->ifname, 1, &b->tap_fd, error) ||
        !tap_setup_link(b->ifname, MTU, NULL, error)) {
        return b;
    }
    ret = set_up(b->ifname, (int)b->fill_n + GEN_BATCH);
    if (ret < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret), "%s up: %s",
                    b->ifname, g_strerror(-ret));
        return b;
    }
    b->mem = test_mem_new(GUEST_SIZE);
    b->iotlb = vduse_iotlb_new(1, NULL, NULL);
    ret = test_mem_map(b->mem, b->iotlb, 0, GUEST_IOVA, 0, GUEST_SIZE, RW);
    if (ret < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret),
                    "guest memory map: %s", g_strerror(-ret));
        return b;
    }
    memcpy(b->mem->host + TX_BUF_OFF, b->frame, NET_HDR_LEN + b->frame_len);
    return b;
}

/**
 * bench_free() - stop every thread, free everything
 * @b:		the bench (NULL is fine)
 */
static void bench_free(Bench *b)
{
    if (!b) {
        return;
    }
    __atomic_store_n(&b->stop, 1, __ATOMIC_RELAXED);
    if (b->gen) {
        g_thread_join(b->gen);
    }
    net_pair_free(b->pair);
    if (b->driver) {
        g_thread_join(b->driver);
    }
    if (b->driver_rx) {
        g_thread_join(b->driver_rx);
    }
    vduse_vq_free(b->rx);
    vduse_vq_free(b->tx);
    vduse_iotlb_free(b->iotlb);
    if (b->mem) {
        test_mem_free(b->mem);
    }
    if (b->tap_fd >= 0) {
        close(b->tap_fd);
    }
    close(b->rx_kick);
    close(b->tx_kick);
    close(b->irq_fd[0]);
    close(b->irq_fd[1]);
    g_free(b->frame);
    g_free(b);
}

/**
 * bench_start_pair() - the rings, the pair, the driver's thread, and for
 * RX the generator
 * @b:		the bench
 * @error:	set on failure
 *
 * Return: true if all of them run.
 */
static bool bench_start_pair(Bench *b, GError **error)
{
    uint64_t features = b->fs->bits;
    NetPairQueues q = {
        .rx_index = 0,
        .tx_index = 1,
        .rx_kick = b->rx_kick,
        .tx_kick = b->tx_kick,
        .notify = bench_irq,
        .opaque = b,
    };

    if (ioctl(b->tap_fd, TUNSETOFFLOAD, net_tap_offloads(features)) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "TUNSETOFFLOAD: %s", g_strerror(errno));
        return false;
    }
    b->rx = vduse_vq_new(0, b->iotlb);
    b->tx = vduse_vq_new(1, b->iotlb);
    if (b->fs->packed) {
        test_pring_init(&b->prxr, b->mem, GUEST_IOVA, RX_RING_OFF, RING_SIZE, 0,
                        true);
        test_pring_init(&b->ptxr, b->mem, GUEST_IOVA, TX_RING_OFF, RING_SIZE, 0,
                        true);
        test_pring_start(&b->prxr, b->rx, 0, true);
        test_pring_start(&b->ptxr, b->tx, 0, true);
    } else {
        test_ring_init(&b->rxr, b->mem, GUEST_IOVA, RX_RING_OFF, RING_SIZE, 0);
        test_ring_init(&b->txr, b->mem, GUEST_IOVA, TX_RING_OFF, RING_SIZE, 0);
        test_ring_start(&b->rxr, b->rx, 0, true);
        test_ring_start(&b->txr, b->tx, 0, true);
    }
    q.rx = b->rx;
    q.tx = b->tx;
    b->pair = net_pair_new("bench", 0, b->tap_fd);
    net_pair_set_filter(b->pair, NULL, false, features);
    if (features & F(HASH_REPORT)) {
        /* Every hash type, as Linux sets them; the frames are TCP/IPv4. */
        CtrlvqRss cfg = {.enabled = true, .hash_types = 0x3f, .key_len = 40};

        for (unsigned int i = 0; i < 40; i++) {
            cfg.key[i] = (uint8_t)(i * 37 + 1);
        }
        net_pair_set_hash(b->pair, &cfg);
    }
    if (b->dir == DIR_RX || b->both) {
        for (unsigned int i = 0; i < RING_SIZE; i++) {
            rx_post(b);
        }
    }
    if (b->dir == DIR_RX) {
        b->gen = g_thread_new("generator", generator, b);
    }
    if (!net_pair_start(b->pair, &q, features, MTU, error)) {
        return false;
    }
    b->driver =
        g_thread_new("driver", b->dir == DIR_RX ? driver_rx : driver_tx, b);
    kick(b->dir == DIR_RX ? b->rx_kick : b->tx_kick);
    if (b->both) {
        b->driver_rx = g_thread_new("driver-rx", driver_rx, b);
        kick(b->rx_kick);
    }
    return true;
}

/**
 * pair_tid() - the TID of the pair's thread, once it has named itself
 *
 * Return: the TID, or -1 after a second without it.
 */
static int pair_tid(void)
{
    double deadline = now() + 1.0;
    int tid = -1;

    while (tid < 0 && now() < deadline) {
        g_usleep(1000);
        tid = find_thread("pair0");
    }
    return tid;
}

/**
 * add_stats() - add what the pair moved between @s0 and @s1 to @out
 * @dir:	the direction measured
 * @s0:		counters before
 * @s1:		counters after
 * @out:	the result
 */
static void add_stats(Dir dir, const NetPairStats *s0, const NetPairStats *s1,
                      Result *out)
{
    if (dir == DIR_TX) {
        out->frames += s1->tx_packets - s0->tx_packets;
        out->bytes += s1->tx_bytes - s0->tx_bytes;
        out->irqs += s1->tx_irqs - s0->tx_irqs;
        out->kicks += s1->tx_kicks - s0->tx_kicks;
    } else {
        out->frames += s1->rx_packets - s0->rx_packets;
        out->bytes += s1->rx_bytes - s0->rx_bytes;
        out->irqs += s1->rx_irqs - s0->rx_irqs;
        out->kicks += s1->rx_kicks - s0->rx_kicks;
    }
}

/**
 * measure_pair_tx() - one TX pair row: a window of the row's time
 * @b:		the bench, pair started
 * @out:	filled in
 */
static void measure_pair_tx(Bench *b, Result *out)
{
    int tid = pair_tid();
    NetPairStats s0, s1;
    double t0, c0;

    g_usleep(100 * 1000); /* warm up */
    net_pair_get_stats(b->pair, &s0);
    c0 = task_cpu(tid);
    t0 = now();
    g_usleep((gulong)(b->seconds * 1e6));
    net_pair_get_stats(b->pair, &s1);
    *out = (Result){
        .valid = true,
        .secs = now() - t0,
        .cpu_secs = c0 >= 0 ? task_cpu(tid) - c0 : -1,
    };
    add_stats(DIR_TX, &s0, &s1, out);
}

/**
 * measure_pair_rx() - one RX pair row: fill-and-drain rounds for the row's
 * time, after one round to warm up
 * @b:		the bench, pair and generator started
 * @out:	filled in: the sums over the drains
 */
static void measure_pair_rx(Bench *b, Result *out)
{
    int tid = pair_tid();
    double end = 0;

    memset(out, 0, sizeof(*out));
    out->valid = true;
    for (int round = 0; round == 0 || now() < end; round++) {
        NetPairStats s0, s1;
        uint64_t queued, done;
        double t0, c0, limit;

        net_pair_pause(b->pair);
        queued = fill(b);
        net_pair_get_stats(b->pair, &s0);
        c0 = task_cpu(tid);
        t0 = now();
        net_pair_resume(b->pair);
        if (!queued) {
            out->valid = round > 1;
            break;
        }
        limit = t0 + 5;
        do {
            g_usleep(100);
            net_pair_get_stats(b->pair, &s1);
            done =
                s1.rx_packets + s1.rx_dropped - s0.rx_packets - s0.rx_dropped;
        } while (done < queued && now() < limit);
        if (round == 0) {
            end = now() + b->seconds;
            continue;
        }
        out->secs += now() - t0;
        out->cpu_secs += c0 >= 0 ? task_cpu(tid) - c0 : 0;
        out->offered += queued;
        out->rounds++;
        add_stats(DIR_RX, &s0, &s1, out);
    }
    if (tid < 0) {
        out->cpu_secs = -1;
    }
}

/**
 * raw_tx() - writev() the frame on the TAP for the row's time
 * @b:		the bench
 * @out:	filled in
 */
static void raw_tx(Bench *b, Result *out)
{
    struct iovec iov = {b->frame, NET_HDR_LEN + b->frame_len};
    double t0 = now(), c0 = thread_cpu(), deadline = t0 + b->seconds;
    double t1;
    uint64_t frames = 0;

    do {
        for (int i = 0; i < 64; i++) {
            ssize_t n = writev(b->tap_fd, &iov, 1);

            if (n < 0 && errno == EAGAIN) {
                struct pollfd pfd = {.fd = b->tap_fd, .events = POLLOUT};

                poll(&pfd, 1, 10);
            } else if (n > 0) {
                frames++;
            }
        }
        t1 = now();
    } while (t1 < deadline);
    *out = (Result){
        .valid = true,
        .frames = frames,
        .bytes = frames * b->frame_len,
        .secs = t1 - t0,
        .cpu_secs = thread_cpu() - c0,
    };
}

/**
 * raw_rx() - readv() frames from the TAP in fill-and-drain rounds for the
 * row's time, after one round to warm up
 * @b:		the bench
 * @out:	filled in: the sums over the drains
 *
 * Each frame goes into the next of RING_SIZE buffers, header included, as
 * a backend writing into a guest's ring would: one hot buffer would make
 * the loop look faster than any backend can be with 64 KiB frames.
 */
static void raw_rx(Bench *b, Result *out)
{
    size_t room = b->gso ? FRAME_ROOM : MRG_BUF;
    g_autofree uint8_t *bufs = g_malloc((size_t)RING_SIZE * room);
    unsigned int next = 0;
    unsigned int offloads = b->gso ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0;
    double end = 0;

    memset(out, 0, sizeof(*out));
    if (ioctl(b->tap_fd, TUNSETOFFLOAD, offloads) < 0) {
        g_printerr("TUNSETOFFLOAD: %s\n", g_strerror(errno));
        return;
    }
    b->gen = g_thread_new("generator", generator, b);
    out->valid = true;
    for (int round = 0; round == 0 || now() < end; round++) {
        uint64_t queued = fill(b), frames = 0, bytes = 0;
        double t0 = now(), c0 = thread_cpu();

        if (!queued) {
            out->valid = round > 1;
            break;
        }
        for (;;) {
            struct iovec iov = {bufs + (size_t)next * room, room};
            ssize_t n = readv(b->tap_fd, &iov, 1);

            if (n < 0 && errno == EAGAIN) {
                break; /* drained: the generator is done */
            }
            if (n > (ssize_t)NET_HDR_LEN) {
                frames++;
                bytes += (uint64_t)n - NET_HDR_LEN;
                next = (next + 1) % RING_SIZE;
            }
        }
        if (round == 0) {
            end = now() + b->seconds;
            continue;
        }
        out->secs += now() - t0;
        out->cpu_secs += thread_cpu() - c0;
        out->frames += frames;
        out->bytes += bytes;
        out->offered += queued;
        out->rounds++;
    }
}

/**
 * cmp_double() - qsort() order of two doubles
 * @a:		one
 * @b:		the other
 *
 * Return: <0, 0 or >0.
 */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/**
 * struct Latency - RX latency of single frames
 * @ms:		each frame's, sorted
 * @n:		how many were seen
 * @lost:	frames not seen within 200 ms
 * @tx_frames:	TX frames the pair sent meanwhile
 */
typedef struct Latency {
    double ms[LAT_MAX];
    unsigned int n;
    unsigned int lost;
    uint64_t tx_frames;
} Latency;

/**
 * latency_run() - the time from a peer's send() of one 60 B frame to the
 * driver's RX thread taking its chain back, frame after frame, with the
 * TX ring idle or kept full of 64 KiB GSO frames
 * @tx_load:	keep the TX ring full
 * @seconds:	how long to send frames
 * @out:	filled in
 *
 * Return: true if it ran.
 */
static bool latency_run(bool tx_load, double seconds, Latency *out)
{
    g_autoptr(GError) error = NULL;
    Bench *b = bench_new(tx_load ? DIR_TX : DIR_RX, &feature_sets[FS_MRG_GSO],
                         tx_load ? SZ_GSO : SZ_60, seconds, &error);
    uint8_t frame[NET_HDR_LEN + 60];
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETHERTYPE_BENCH)};
    NetPairStats s0, s1;
    double deadline;
    int s = -1;

    memset(out, 0, sizeof(*out));
    b->both = tx_load;
    if (error || !bench_start_pair(b, &error)) {
        g_printerr("bench-pair: %s\n", error->message);
        bench_free(b);
        return false;
    }
    make_frame(frame, 60, false, false);
    sll.sll_ifindex = (int)if_nametoindex(b->ifname);
    s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    g_usleep(100 * 1000); /* the TX ring fills, the pair runs */
    net_pair_get_stats(b->pair, &s0);
    deadline = now() + b->seconds;
    while (s >= 0 && out->n + out->lost < LAT_MAX && now() < deadline) {
        uint64_t seen = __atomic_load_n(&b->rx_seen, __ATOMIC_ACQUIRE);
        uint64_t t0 = now_ns();

        if (sendto(s, frame + NET_HDR_LEN, 60, 0, (struct sockaddr *)&sll,
                   sizeof(sll)) < 0) {
            g_printerr("bench-pair: latency: send: %s\n", g_strerror(errno));
            break;
        }
        while (__atomic_load_n(&b->rx_seen, __ATOMIC_ACQUIRE) == seen &&
               now_ns() - t0 < 200000000ull) {
            g_usleep(20);
        }
        if (__atomic_load_n(&b->rx_seen, __ATOMIC_ACQUIRE) == seen) {
            out->lost++;
        } else {
            uint64_t t1 = __atomic_load_n(&b->rx_seen_ns, __ATOMIC_RELAXED);

            out->ms[out->n++] = t1 > t0 ? (double)(t1 - t0) / 1e6 : 0;
        }
        g_usleep(2000);
    }
    net_pair_get_stats(b->pair, &s1);
    out->tx_frames = s1.tx_packets - s0.tx_packets;
    if (s >= 0) {
        close(s);
    }
    bench_free(b);
    qsort(out->ms, out->n, sizeof(out->ms[0]), cmp_double);
    return out->n > 0;
}

/**
 * print_latency() - one line of the latency table
 * @what:	the condition
 * @l:		the result
 */
static void print_latency(const char *what, const Latency *l)
{
    if (!l->n) {
        printf("  %-34s (did not run)\n", what);
        return;
    }
    printf("  %-34s %5u %8.3f %8.3f %8.3f %5u %10" PRIu64 "\n", what, l->n,
           l->ms[l->n / 2], l->ms[(size_t)l->n * 99 / 100], l->ms[l->n - 1],
           l->lost, l->tx_frames);
}

/**
 * run_row() - set up, measure and tear down one row
 * @dir:	TX or RX
 * @fs:		the driver's features (NULL for a raw row)
 * @size:	SZ_*
 * @seconds:	the row's time
 * @out:	filled in; @out->valid stays false on failure
 */
static void run_row(Dir dir, const FeatureSet *fs, int size, double seconds,
                    Result *out)
{
    g_autoptr(GError) error = NULL;
    Bench *b =
        bench_new(dir, fs ? fs : &feature_sets[FS_NONE], size, seconds, &error);

    memset(out, 0, sizeof(*out));
    if (error) {
        g_printerr("bench-pair: %s\n", error->message);
    } else if (!fs) {
        if (dir == DIR_TX) {
            raw_tx(b, out);
        } else {
            raw_rx(b, out);
        }
    } else if (!bench_start_pair(b, &error)) {
        g_printerr("bench-pair: %s\n", error->message);
    } else if (dir == DIR_TX) {
        measure_pair_tx(b, out);
    } else {
        measure_pair_rx(b, out);
    }
    bench_free(b);
}

/**
 * pps() - frames per second of @r
 * @r:		a result
 *
 * Return: the rate, 0 for an invalid row.
 */
static double pps(const Result *r)
{
    return r->valid && r->secs > 0 ? (double)r->frames / r->secs : 0;
}

/**
 * cpu_us() - CPU microseconds per frame of @r
 * @r:		a result
 *
 * Return: the figure, or -1 if unknown.
 */
static double cpu_us(const Result *r)
{
    if (!r->valid || r->frames == 0 || r->cpu_secs < 0) {
        return -1;
    }
    return r->cpu_secs * 1e6 / (double)r->frames;
}

/**
 * gbps() - Gbit/s of frame bytes (without the virtio-net header) of @r
 * @r:		a result
 *
 * Return: the rate, or -1 for an invalid row.
 */
static double gbps(const Result *r)
{
    return r->valid && r->secs > 0 ? (double)r->bytes * 8 / r->secs / 1e9 : -1;
}

/**
 * cpu_share() - the measured thread's CPU time over the wall time of @r
 * @r:		a result
 *
 * Return: the share (1 is a whole core), or -1 if unknown.
 */
static double cpu_share(const Result *r)
{
    if (!r->valid || r->secs <= 0 || r->cpu_secs < 0) {
        return -1;
    }
    return r->cpu_secs / r->secs;
}

/**
 * drains() - the fill-and-drain rounds of @r (RX rows)
 * @r:		a result
 *
 * Return: the count, or -1 for an invalid row.
 */
static double drains(const Result *r)
{
    return r->valid ? (double)r->rounds : -1;
}

/**
 * per_drain() - the frames queued per fill-and-drain round of @r
 * @r:		a result
 *
 * Return: the mean, or -1 without rounds.
 */
static double per_drain(const Result *r)
{
    return r->valid && r->rounds ? (double)(r->offered / r->rounds) : -1;
}

/**
 * spread_of() - the median and range of @n figures
 * @v:		the figures, sorted in place
 * @n:		how many
 *
 * Return: the spread (n == 0 when @n is).
 */
static Spread spread_of(double *v, unsigned int n)
{
    Spread s = {.n = n};

    if (!n) {
        return s;
    }
    qsort(v, n, sizeof(*v), cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

/**
 * spread_over() - the median and range of a figure over the runs of a row
 * @runs:	the row's runs
 * @n:		how many (at most REPEAT_MAX + 1)
 * @metric:	the figure; runs that did not run or give it are left out
 *
 * Return: the spread.
 */
static Spread spread_over(const Result *runs, unsigned int n, Metric metric)
{
    double v[REPEAT_MAX + 1];
    unsigned int k = 0;

    for (unsigned int i = 0; i < n && i < G_N_ELEMENTS(v); i++) {
        double x = runs[i].valid ? metric(&runs[i]) : -1;

        if (x >= 0) {
            v[k++] = x;
        }
    }
    return spread_of(v, k);
}

/**
 * raw_around() - the raw loop's figure for repetition @k of @g: the mean
 * of the raw runs just before and just after its pair rows
 * @g:		the group
 * @k:		the repetition
 * @metric:	the figure
 *
 * Return: the mean over the runs that gave it (above 0), or -1.
 */
static double raw_around(const Group *g, unsigned int k, Metric metric)
{
    double sum = 0;
    int n = 0;

    for (unsigned int i = k; i <= k + 1; i++) {
        double x = g->raw[i].valid ? metric(&g->raw[i]) : -1;

        if (x > 0) {
            sum += x;
            n++;
        }
    }
    return n ? sum / n : -1;
}

/**
 * ratio_to_raw() - a pair row's ratio to the raw loop, one per repetition
 * (each against the raw runs around it), as a median and range
 * @g:		the group
 * @fs:		the pair row's feature set
 * @at_equal_cpu: the raw loop's CPU per frame over the pair's, instead of
 *		the pair's frames/s over the raw loop's
 *
 * Return: the spread over the repetitions that gave both figures.
 */
static Spread ratio_to_raw(const Group *g, int fs, bool at_equal_cpu)
{
    double v[REPEAT_MAX];
    unsigned int n = 0;

    for (unsigned int k = 0; k < g->reps; k++) {
        const Result *r = &g->pair[fs][k];
        double raw = raw_around(g, k, at_equal_cpu ? cpu_us : pps);

        if (!r->valid || raw <= 0) {
            continue;
        }
        if (!at_equal_cpu) {
            v[n++] = pps(r) / raw;
        } else if (cpu_us(r) > 0) {
            v[n++] = raw / cpu_us(r);
        }
    }
    return spread_of(v, n);
}

/**
 * cpu_ratio() - CPU per frame of feature set @fs over that of @base, one
 * ratio per repetition, as a median and range
 * @g:		the group
 * @fs:		the feature set measured
 * @base:	the one it is compared with
 *
 * Return: the spread over the repetitions where both rows gave it.
 */
static Spread cpu_ratio(const Group *g, int fs, int base)
{
    double v[REPEAT_MAX];
    unsigned int n = 0;

    for (unsigned int k = 0; k < g->reps; k++) {
        double with = cpu_us(&g->pair[fs][k]);
        double without = cpu_us(&g->pair[base][k]);

        if (with > 0 && without > 0) {
            v[n++] = with / without;
        }
    }
    return spread_of(v, n);
}

/**
 * print_row() - one line of the table: the medians of a row's runs
 * @dir:	TX or RX
 * @size:	SZ_*
 * @what:	"raw" or the feature set's name
 * @runs:	the row's runs
 * @n:		how many
 * @by_pps:	its ratio to the raw loop by frames/s (NULL: none)
 * @by_cpu:	its ratio to the raw loop at equal CPU (NULL: none)
 */
static void print_row(Dir dir, int size, const char *what, const Result *runs,
                      unsigned int n, const Spread *by_pps,
                      const Spread *by_cpu)
{
    Spread rate = spread_over(runs, n, pps);
    Spread per_frame = spread_over(runs, n, cpu_us);
    Spread share = spread_over(runs, n, cpu_share);
    char ratio[16] = "", range[24] = "", cratio[16] = "", cpu[16] = "-";
    char peer[80] = "", ran[32] = "";

    if (!rate.n) {
        printf("%-3s %-11s %-12s  (did not run)\n", dir == DIR_TX ? "TX" : "RX",
               size_names[size], what);
        return;
    }
    if (by_pps && by_pps->n) {
        g_snprintf(ratio, sizeof(ratio), "%.2fx", by_pps->median);
        g_snprintf(range, sizeof(range), "%.2f-%.2f", by_pps->min, by_pps->max);
    }
    if (per_frame.n) {
        g_snprintf(cpu, sizeof(cpu), "%.2f", per_frame.median);
    }
    if (by_cpu && by_cpu->n) {
        g_snprintf(cratio, sizeof(cratio), "%.2fx", by_cpu->median);
    }
    if (dir == DIR_RX) {
        g_snprintf(peer, sizeof(peer), "%.0f drains of %.0f",
                   spread_over(runs, n, drains).median,
                   spread_over(runs, n, per_drain).median);
    }
    if (rate.n < n) {
        g_snprintf(ran, sizeof(ran), " (%u of %u runs ran)", rate.n, n);
        g_strlcat(peer, ran, sizeof(peer));
    }
    printf("%-3s %-11s %-12s %9.0f %7.2f %9s %5.0f%% %6s %10s %6s  %s\n",
           dir == DIR_TX ? "TX" : "RX", size_names[size], what, rate.median,
           spread_over(runs, n, gbps).median, cpu,
           share.n ? 100 * share.median : 0.0, ratio, range, cratio, peer);
}

/**
 * verdict() - a ratio against @limit, over its repetitions
 * @s:		the ratio's median and range (n 0: not measured)
 * @limit:	the bound
 * @at_least:	true for value >= limit, false for value <= limit
 *
 * Return: a static string: "met" or "NOT MET" when every repetition is
 * on that side of @limit, "unsure" when they fall on both sides.
 */
static const char *verdict(const Spread *s, double limit, bool at_least)
{
    bool lo_ok = at_least ? s->min >= limit : s->min <= limit;
    bool hi_ok = at_least ? s->max >= limit : s->max <= limit;

    if (!s->n) {
        return "not measured";
    }
    if (lo_ok && hi_ok) {
        return "met";
    }
    return lo_ok || hi_ok ? "unsure" : "NOT MET";
}

/**
 * format_ratio() - a ratio's median, range and count, as
 * " 0.88x (0.84-0.91, n=3)", or "    -" if no repetition gave it
 * @buf:	where to write
 * @len:	its size
 * @s:		the ratio
 */
static void format_ratio(char *buf, size_t len, const Spread *s)
{
    if (!s->n) {
        g_strlcpy(buf, "    -", len);
        return;
    }
    g_snprintf(buf, len, "%5.2fx (%.2f-%.2f, n=%u)", s->median, s->min, s->max,
               s->n);
}

/**
 * target_vs_raw() - print a target on the ratio to the raw loop, by
 * frames/s and at equal CPU: the medians and ranges over the repetitions
 * @what:	the target
 * @g:		the group
 * @fs:		the pair row's feature set
 * @limit:	the ratio to reach
 */
static void target_vs_raw(const char *what, const Group *g, int fs,
                          double limit)
{
    Spread by_pps = ratio_to_raw(g, fs, false);
    Spread by_cpu = ratio_to_raw(g, fs, true);
    Spread share = spread_over(g->pair[fs], g->reps, cpu_share);
    char pps_text[64], cpu_text[64];

    format_ratio(pps_text, sizeof(pps_text), &by_pps);
    format_ratio(cpu_text, sizeof(cpu_text), &by_cpu);
    printf("  %-40s %-23s %-8s %-23s %-8s%s\n", what, pps_text,
           verdict(&by_pps, limit, true), cpu_text,
           verdict(&by_cpu, limit, true),
           share.n && share.median < 0.8 ? " (pair0 <80% busy)" : "");
}

/**
 * target() - print one target line
 * @what:	the target
 * @ratio:	the measured ratio over the repetitions
 * @limit:	the bound
 * @at_least:	true for value >= limit, false for value <= limit
 */
static void target(const char *what, const Spread *ratio, double limit,
                   bool at_least)
{
    char text[64];

    format_ratio(text, sizeof(text), ratio);
    printf("  %-40s %-23s %s\n", what, text, verdict(ratio, limit, at_least));
}

/**
 * print_targets() - the targets of issue 12 against this run's figures
 * @groups:	the results, [direction][size]
 * @loaded:	RX latency with the TX ring kept full
 */
static void print_targets(Group groups[2][SZ_COUNT], const Latency *loaded)
{
    static const int rx_sets[] = {FS_NONE, FS_MRG, FS_GSO, FS_MRG_GSO};
    static const int tx_sets[] = {FS_NONE, FS_MRG_GSO};
    const Group *tx60 = &groups[DIR_TX][SZ_60], *rx60 = &groups[DIR_RX][SZ_60];
    Spread ratio;

    printf("\nTargets (issue 12), by frames/s and at equal CPU (the raw "
           "loop's CPU per frame over the\npair's: the figure to trust when "
           "threads did not get a whole core); each ratio is the\nmedian of "
           "the repetitions' own, with their range and count; met or NOT MET "
           "when\nevery repetition is on that side of the limit, unsure when "
           "they fall on both:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(rx_sets); i++) {
        g_autofree char *what = g_strdup_printf("RX 60 B %s >= 0.9x raw readv",
                                                feature_sets[rx_sets[i]].name);

        target_vs_raw(what, rx60, rx_sets[i], 0.9);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(tx_sets); i++) {
        g_autofree char *what = g_strdup_printf(
            "TX 60 B %s >= 0.95x raw writev", feature_sets[tx_sets[i]].name);

        target_vs_raw(what, tx60, tx_sets[i], 0.95);
    }
    ratio = cpu_ratio(rx60, FS_MRG_GSO, FS_MRG);
    target("RX CPU/60 B frame, mrg+gso <= 1.2x mrg", &ratio, 1.2, false);
    ratio = cpu_ratio(rx60, FS_GSO, FS_NONE);
    target("RX CPU/60 B frame, gso <= 1.2x none", &ratio, 1.2, false);
    {
        /* Not a target of the issue: what hash reports cost. */
        char text[64];

        ratio = cpu_ratio(rx60, FS_MRG_HASH, FS_MRG);
        format_ratio(text, sizeof(text), &ratio);
        printf("  %-40s %-23s (no target)\n",
               "RX CPU/60 B frame, mrg+hash / mrg", text);
    }
    if (loaded->n) {
        double p99 = loaded->ms[(size_t)loaded->n * 99 / 100];

        printf("  %-40s %5.2f ms %s\n", "RX latency p99, TX ring full, <= 5 ms",
               p99, p99 <= 5 && !loaded->lost ? "met" : "NOT MET");
    } else {
        printf("  %-40s not measured\n", "RX latency p99, TX ring full");
    }
}

/**
 * run_group() - the raw loop and the pair with each feature set in turn,
 * @opts->repeat times, then the raw loop once more; print the medians
 * @dir:	TX or RX
 * @size:	SZ_*
 * @opts:	the row time and the repetitions
 * @g:		filled in
 *
 * Interleaved so that a slow spell of the machine's other load falls on
 * the raw loop and the pair rows of a repetition alike.
 */
static void run_group(Dir dir, int size, const Options *opts, Group *g)
{
    static const int rx_sets[] = {FS_NONE,    FS_NONE_PK,    FS_MRG,
                                  FS_MRG_PK,  FS_GSO,        FS_GSO_PK,
                                  FS_MRG_GSO, FS_MRG_GSO_PK, FS_MRG_HASH};
    static const int tx_sets[] = {FS_NONE, FS_NONE_PK, FS_MRG_GSO,
                                  FS_MRG_GSO_PK};
    const int *sets = dir == DIR_TX ? tx_sets : rx_sets;
    size_t nsets =
        dir == DIR_TX ? G_N_ELEMENTS(tx_sets) : G_N_ELEMENTS(rx_sets);

    g->reps = (unsigned int)opts->repeat;
    for (size_t i = 0; i < nsets; i++) {
        /* GSO frames go to (RX) or come from (TX) a driver of GSO. */
        g->has[sets[i]] =
            size != SZ_GSO || (feature_sets[sets[i]].bits & F(HOST_TSO4));
    }
    for (unsigned int k = 0; k < g->reps; k++) {
        run_row(dir, NULL, size, opts->seconds, &g->raw[k]);
        for (int fs = 0; fs < FS_COUNT; fs++) {
            if (g->has[fs]) {
                run_row(dir, &feature_sets[fs], size, opts->seconds,
                        &g->pair[fs][k]);
            }
        }
    }
    run_row(dir, NULL, size, opts->seconds, &g->raw[g->reps]);
    print_row(dir, size, "raw", g->raw, g->reps + 1, NULL, NULL);
    for (int fs = 0; fs < FS_COUNT; fs++) {
        if (g->has[fs]) {
            Spread by_pps = ratio_to_raw(g, fs, false);
            Spread by_cpu = ratio_to_raw(g, fs, true);

            print_row(dir, size, feature_sets[fs].name, g->pair[fs], g->reps,
                      &by_pps, &by_cpu);
        }
    }
    fflush(stdout);
}

/**
 * print_header() - the machine, the set-up and the column names
 * @opts:	the command line
 */
static void print_header(const Options *opts)
{
    g_autofree char *cpuinfo = NULL;
    char cpu_model[128] = "?";

    if (g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
        const char *m = strstr(cpuinfo, "model name");

        if (m && (m = strchr(m, ':'))) {
            sscanf(m + 1, " %127[^\n]", cpu_model);
        }
    }
    printf("\nHost level: NetPair (net/datapath.c) + in-process driver <-> "
           "TAP, beside a raw TAP loop\n");
    printf("machine: %ld CPUs online, %s; %.1f s per row; MTU %d; rings of "
           "%d, event index\n",
           sysconf(_SC_NPROCESSORS_ONLN), cpu_model, opts->seconds, MTU,
           RING_SIZE);
    printf("TX peer: none (the host stack drops what the TAP gives it); the "
           "driver keeps the ring full.\n");
    printf("RX peer: an AF_PACKET socket on the TAP (sendmmsg() x%d, qdisc "
           "bypassed) fills the TAP's\n  queue while the reader is paused; "
           "the reader drains it alone; figures are over the drains.\n",
           GEN_BATCH);
    printf("The driver reclaims and re-posts in a thread of its own, woken "
           "by the pair's interrupts.\n");
    printf("Each group runs %d times, interleaved: raw, every feature set, "
           "raw, every feature set, ...,\n  raw; a row gives the medians of "
           "its runs, a ratio the median of the repetitions' own.\n\n",
           opts->repeat);
    printf("%-3s %-11s %-12s %9s %7s %9s %6s %6s %10s %6s  %s\n", "dir",
           "frame", "path", "frames/s", "Gbit/s", "CPU us/fr", "CPU", "x raw",
           "min-max", "x CPU", "peer");
    fflush(stdout);
}

/**
 * print_legend() - what the feature sets and the columns mean
 */
static void print_legend(void)
{
    printf("\nfeatures: none = no offloads, one %d B buffer per frame; mrg = "
           "MRG_RXBUF, %d B buffers;\n  gso = CSUM, HOST/GUEST_TSO4/6, "
           "GUEST_CSUM, %d x 4 KiB indirect chains; mrg+gso = both;\n  "
           "/pk = the same with packed rings (VIRTIO_F_RING_PACKED, event "
           "index), beside the split row;\n  mrg+hash = mrg with "
           "HASH_REPORT (20-byte headers, every hash type, TCP/IPv4 "
           "frames)\n",
           SMALL_BUF, MRG_BUF, BIG_PAGES);
    printf("CPU = the measured thread's CPU time over wall time (pair0 from "
           "/proc/self/task/TID/schedstat,\n  the raw loop from "
           "CLOCK_THREAD_CPUTIME_ID); every column is the median over the "
           "row's runs\n  (raw: one more than the repetitions); x raw = the "
           "median over the repetitions of the\n  pair's frames/s over the "
           "mean of the raw runs just before and after it; min-max = its\n"
           "  range; x CPU = the same median of the raw loop's CPU per frame "
           "over the pair's (the\n  ratio at equal CPU)\n");
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- a queue pair against a TAP, beside a raw TAP loop");
    g_autoptr(GError) error = NULL;
    const char *env = g_getenv("BENCH_SECONDS");
    const char *env_repeat = g_getenv("BENCH_REPEAT");
    static Group groups[2][SZ_COUNT];
    static Latency idle, loaded;
    Options opts = {.seconds = 2.0, .repeat = REPEAT_DEFAULT};
    g_autofree char *repeat_help = g_strdup_printf(
        "Run each group of rows N times, the raw loop between the pair rows; "
        "print medians and the ratios' ranges (1 to %d, default %d, or "
        "$BENCH_REPEAT); a run takes about N times as long as with 1",
        REPEAT_MAX, REPEAT_DEFAULT);
    const GOptionEntry entries[] = {
        {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opts.seconds,
         "Seconds per row (default 2, or $BENCH_SECONDS)", "S"},
        {"repeat", 'r', 0, G_OPTION_ARG_INT, &opts.repeat, repeat_help, "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    gint64 repeat;
    int fd;

    if (env) {
        opts.seconds = g_ascii_strtod(env, NULL);
    }
    if (env_repeat) {
        if (!g_ascii_string_to_signed(env_repeat, 10, 1, REPEAT_MAX, &repeat,
                                      &error)) {
            g_printerr("bench-pair: $BENCH_REPEAT: %s (see --help)\n",
                       error->message);
            return 2;
        }
        opts.repeat = (int)repeat;
    }
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("bench-pair: %s (see --help)\n", error->message);
        return 2;
    }
    if (!(opts.seconds > 0 && opts.seconds <= 60)) {
        g_printerr("bench-pair: --seconds must be in (0, 60] (see --help)\n");
        return 2;
    }
    if (opts.repeat < 1 || opts.repeat > REPEAT_MAX) {
        g_printerr("bench-pair: --repeat must be in [1, %d] (see --help)\n",
                   REPEAT_MAX);
        return 2;
    }
    if (unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK | W_OK) < 0) {
        printf("bench-pair: SKIP: needs root (a network namespace and "
               "/dev/net/tun)\n");
        return 77; /* meson's SKIP */
    }
    /* No IPv6 chatter (router solicitations) on the TAPs. */
    fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "1", 1) != 1) {
            g_printerr("bench-pair: IPv6 stays on\n");
        }
        close(fd);
    }
    print_header(&opts);
    for (int size = 0; size < SZ_COUNT; size++) {
        run_group(DIR_TX, size, &opts, &groups[DIR_TX][size]);
    }
    for (int size = 0; size < SZ_COUNT; size++) {
        run_group(DIR_RX, size, &opts, &groups[DIR_RX][size]);
    }
    printf("\nRX latency of one 60 B frame (mrg+gso): the peer's send() to "
           "the driver's RX thread taking\nthe chain back, one frame every "
           "2 ms, for the row's time (ms):\n");
    printf("  %-34s %5s %8s %8s %8s %5s %10s\n", "TX ring", "n", "p50", "p99",
           "max", "lost", "TX frames");
    latency_run(false, opts.seconds, &idle);
    print_latency("idle", &idle);
    latency_run(true, opts.seconds, &loaded);
    print_latency("kept full of 64 KiB GSO frames", &loaded);
    print_targets(groups, &loaded);
    print_legend();
    return 0;
}
