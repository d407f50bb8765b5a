/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-uring.c - what io_uring could give a TAP backend: the raw loops of
 * bench-pair (one readv()/writev() per frame) beside io_uring batches
 *
 * DOC: Theory of operation
 *
 * The pair (net/datapath.c) moves frames with one readv() or writev() per
 * frame. Before the pair is taught io_uring, this measures the most it can
 * win: no virtqueue at all, only the TAP, in a network namespace of the
 * benchmark's own.
 *
 *  - TX: 60-byte frames behind a 12-byte virtio-net header, written to the
 *    TAP for the row's time; the host stack drops them. writev() per frame,
 *    then io_uring with BATCH IORING_OP_WRITEV entries per
 *    io_uring_submit_and_wait() (the pair's TX burst is 64 chains).
 *  - RX: an AF_PACKET socket on the TAP fills the TAP's queue (sendmmsg()
 *    of 64) while nobody reads, then the queue is drained, by readv() per
 *    frame or by io_uring with BATCH IORING_OP_READV entries per submit;
 *    figures are over the drains (as in bench-pair).
 *
 * The rows alternate (plain, io_uring, plain, io_uring) and each method's
 * figure is the mean of its two runs, so the ratio is taken under the same
 * load. CPU per frame is the whole process's (CLOCK_PROCESS_CPUTIME_ID):
 * no SQPOLL thread is asked for, but a file io_uring cannot drive without
 * blocking is handed to io-wq worker threads, which run on other cores;
 * the table says how many there were, since a TAP backend's pair thread
 * would then not be the only one working. Nothing fails on speed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <liburing.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HDR_LEN 12
#define FRAME_LEN 60
#define BUF_ROOM 2048
#define BUFS 256
#define QLEN 100000
#define FILL 20000
#define GEN_BATCH 64

static double opt_seconds = 2.0;
static int opt_batch = 32;
static gboolean opt_link;

/**
 * struct Row - one run of one method
 * @frames:	frames moved
 * @secs:	wall time
 * @cpu:	the thread's CPU time
 */
typedef struct Row {
    double frames;
    double secs;
    double cpu;
} Row;

/* now() - monotonic seconds. */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* thread_cpu() - the process's CPU seconds: io_uring's io-wq workers
 * (iou-wrk-PID) are threads of it, and count. */
static double thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/**
 * tap_open() - a TAP with a vnet header, up, with a long queue
 * @name:	its name
 *
 * Return: the fd (non-blocking), or -1 after saying why.
 */
static int tap_open(const char *name)
{
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
    int hdr = HDR_LEN;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool ok;

    g_strlcpy(ifr.ifr_name, name, IFNAMSIZ);
    ok = fd >= 0 && s >= 0 && ioctl(fd, TUNSETIFF, &ifr) == 0 &&
         ioctl(fd, TUNSETVNETHDRSZ, &hdr) == 0;
    ifr.ifr_qlen = QLEN;
    ok = ok && ioctl(s, SIOCSIFTXQLEN, &ifr) == 0 &&
         ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP;
    ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    if (!ok) {
        g_printerr("bench-uring: TAP %s: %s\n", name, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    if (s >= 0)
        close(s);
    return fd;
}

/* make_frame() - header (no offloads) and a frame of an unused EtherType. */
static void make_frame(uint8_t *buf)
{
    memset(buf, 0, HDR_LEN + FRAME_LEN);
    memset(buf + HDR_LEN, 0xff, 6);                           /* dst */
    memcpy(buf + HDR_LEN + 6, "\x02\x00\x00\x00\x00\x01", 6); /* src */
    buf[HDR_LEN + 12] = 0x88;
    buf[HDR_LEN + 13] = 0xb5; /* local experimental EtherType */
}

/* tx_plain() - writev() per frame for the row's time. */
static Row tx_plain(int fd, uint8_t *frame)
{
    struct iovec iov = {frame, HDR_LEN + FRAME_LEN};
    double t0 = now(), c0 = thread_cpu(), t1;
    uint64_t n = 0;

    do {
        for (int i = 0; i < 64; i++) {
            if (writev(fd, &iov, 1) > 0) {
                n++;
            } else if (errno == EAGAIN) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};

                poll(&p, 1, 10);
            }
        }
        t1 = now();
    } while (t1 - t0 < opt_seconds);
    return (Row){(double)n, t1 - t0, thread_cpu() - c0};
}

/**
 * uring_batch() - @count READV or WRITEV entries on @fd, submitted at once
 * and all reaped
 * @ring:	the ring
 * @fd:		the TAP
 * @iov:	one iovec per entry
 * @count:	entries
 * @write:	WRITEV (else READV)
 *
 * Return: entries that moved a frame; -1 once one said EAGAIN (drained).
 */
static int uring_batch(struct io_uring *ring, int fd, struct iovec *iov,
                       int count, bool write)
{
    struct io_uring_cqe *cqe;
    static int failed;
    int done = 0;
    bool again = false;

    for (int i = 0; i < count; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

        /* RWF_NOWAIT: an empty queue answers -EAGAIN, as the O_NONBLOCK
         * fd does for readv(), instead of a read waiting on poll. */
        if (write)
            io_uring_prep_writev(sqe, fd, &iov[i], 1, 0);
        else
            io_uring_prep_readv2(sqe, fd, &iov[i], 1, 0, RWF_NOWAIT);
        if (opt_link && write && i < count - 1)
            sqe->flags |= IOSQE_IO_HARDLINK;
    }
    if (io_uring_submit_and_wait(ring, (unsigned int)count) < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        if (io_uring_wait_cqe(ring, &cqe) < 0)
            return -1;
        if (cqe->res > 0)
            done++;
        else if (cqe->res == -EAGAIN)
            again = true;
        else if (cqe->res < 0 && !failed++)
            g_printerr("bench-uring: %s: %s\n", write ? "WRITEV" : "READV",
                       g_strerror(-cqe->res));
        io_uring_cqe_seen(ring, cqe);
    }
    return again && !done ? -1 : done;
}

/* tx_uring() - io_uring batches of WRITEV for the row's time. */
static Row tx_uring(struct io_uring *ring, int fd, uint8_t *frame)
{
    g_autofree struct iovec *iov = g_new(struct iovec, opt_batch);
    double t0 = now(), c0 = thread_cpu(), t1;
    uint64_t n = 0;

    for (int i = 0; i < opt_batch; i++)
        iov[i] = (struct iovec){frame, HDR_LEN + FRAME_LEN};
    do {
        for (int i = 0; i < 4; i++) {
            int got = uring_batch(ring, fd, iov, opt_batch, true);

            n += got > 0 ? (uint64_t)got : 0;
        }
        t1 = now();
    } while (t1 - t0 < opt_seconds);
    return (Row){(double)n, t1 - t0, thread_cpu() - c0};
}

/**
 * fill() - FILL frames into the TAP's queue through an AF_PACKET socket
 * @pkt:	the socket, bound to the TAP
 *
 * Return: frames the socket took.
 */
static int fill(int pkt)
{
    static uint8_t frame[FRAME_LEN];
    struct iovec iov = {frame, FRAME_LEN};
    struct mmsghdr msgs[GEN_BATCH];
    int sent = 0;

    memset(frame, 0xff, 6);
    memcpy(frame + 6, "\x02\x00\x00\x00\x00\x02", 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    for (int i = 0; i < GEN_BATCH; i++)
        msgs[i] =
            (struct mmsghdr){.msg_hdr = {.msg_iov = &iov, .msg_iovlen = 1}};
    while (sent < FILL) {
        int n = sendmmsg(pkt, msgs, GEN_BATCH, 0);

        if (n <= 0)
            break;
        sent += n;
    }
    return sent;
}

/**
 * rx_rounds() - fill and drain until the row's time is spent in drains
 * @fd:		the TAP
 * @pkt:	the AF_PACKET socket on it
 * @ring:	io_uring, or NULL for readv() per frame
 *
 * Return: the sums over the drains.
 */
static Row rx_rounds(int fd, int pkt, struct io_uring *ring)
{
    g_autofree uint8_t *bufs = g_malloc((size_t)BUFS * BUF_ROOM);
    g_autofree struct iovec *iov = g_new(struct iovec, opt_batch);
    unsigned int next = 0;
    Row r = {0};

    while (r.secs < opt_seconds) {
        double t0, c0;
        int queued = fill(pkt);

        if (queued <= 0) {
            g_printerr("bench-uring: the AF_PACKET socket took nothing\n");
            break;
        }
        t0 = now();
        c0 = thread_cpu();
        for (;;) {
            int got;

            if (!ring) {
                struct iovec one = {bufs + (size_t)next * BUF_ROOM, BUF_ROOM};

                got = readv(fd, &one, 1) > HDR_LEN ? 1 : -1;
                next = (next + 1) % BUFS;
            } else {
                for (int i = 0; i < opt_batch; i++) {
                    iov[i] = (struct iovec){bufs + (size_t)next * BUF_ROOM,
                                            BUF_ROOM};
                    next = (next + 1) % BUFS;
                }
                got = uring_batch(ring, fd, iov, opt_batch, false);
            }
            if (got < 0)
                break;
            r.frames += got;
        }
        r.secs += now() - t0;
        r.cpu += thread_cpu() - c0;
    }
    return r;
}

/**
 * tap_counter() - a counter of bu0 from /proc/self/net/dev (this netns)
 * @rx:		the host's RX (frames written into the TAP); else TX
 *
 * Return: the count, or 0.
 */
static double tap_counter(bool rx)
{
    g_autofree char *text = NULL;
    unsigned long long v[10];
    const char *line;

    if (!g_file_get_contents("/proc/self/net/dev", &text, NULL, NULL) ||
        !(line = strstr(text, "bu0:")) ||
        sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
               &v[9]) != 10)
        return 0;
    return (double)(rx ? v[1] : v[9]);
}

/* syscall_ns() - what one system call costs here (getppid(), 10^6 times). */
static double syscall_ns(void)
{
    double t0 = now();

    for (int i = 0; i < 1000000; i++)
        syscall(SYS_getppid);
    return (now() - t0) * 1e3;
}

/* io_workers() - threads of this process named iou-wrk-*. */
static int io_workers(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/task", 0, NULL);
    const char *tid;
    int n = 0;

    while (dir && (tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/comm", tid);
        g_autofree char *comm = NULL;

        if (g_file_get_contents(path, &comm, NULL, NULL) &&
            g_str_has_prefix(comm, "iou-wrk"))
            n++;
    }
    return n;
}

/* print_row() - one method's mean of two runs. */
static void print_row(const char *dir, const char *what, Row a, Row b,
                      double base_pps, double base_cpu)
{
    double pps = (a.frames + b.frames) / (a.secs + b.secs);
    double cpu = (a.cpu + b.cpu) / (a.frames + b.frames) * 1e6;

    printf("%-3s %-22s %10.0f %9.2f %7.2fx %7.2fx\n", dir, what, pps, cpu,
           base_pps > 0 ? pps / base_pps : 1.0,
           base_cpu > 0 ? base_cpu / cpu : 1.0);
}

/**
 * print_group() - both methods of one direction, and what the TAP counted
 * @dir:	"TX" or "RX"
 * @plain_name:	the plain loop's row
 * @uring_name:	io_uring's row
 * @plain:	the plain loop's two runs
 * @uring:	io_uring's two runs
 * @seen:	frames the TAP's counter moved by over the four runs
 * @what:	what that counter counts
 */
static void print_group(const char *dir, const char *plain_name,
                        const char *uring_name, const Row plain[2],
                        const Row uring[2], double seen, const char *what)
{
    double frames = plain[0].frames + plain[1].frames;

    print_row(dir, plain_name, plain[0], plain[1], 0, 0);
    printf("(the TAP counted %.0f frames %s, %.0f counted here; io-wq "
           "worker threads: %d)\n",
           seen, what, frames + uring[0].frames + uring[1].frames,
           io_workers());
    print_row(dir, uring_name, uring[0], uring[1],
              frames / (plain[0].secs + plain[1].secs),
              (plain[0].cpu + plain[1].cpu) / frames * 1e6);
}

static const GOptionEntry entries[] = {
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
     "Seconds per run (default 2, or $BENCH_SECONDS)", "S"},
    {"batch", 'b', 0, G_OPTION_ARG_INT, &opt_batch,
     "io_uring entries per submit (default 32)", "N"},
    {"link", 'l', 0, G_OPTION_ARG_NONE, &opt_link,
     "Link the entries of a batch (IOSQE_IO_LINK: in order, the rest "
     "cancelled after a failure)",
     NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("- raw TAP loops: readv/writev vs io_uring");
    g_autoptr(GError) error = NULL;
    const char *env = g_getenv("BENCH_SECONDS");
    struct sockaddr_ll sll = {.sll_family = AF_PACKET};
    uint8_t frame[HDR_LEN + FRAME_LEN];
    struct io_uring ring;
    Row plain[2], uring[2];
    double seen_tx, seen_rx;
    int fd, pkt, ret;

    if (env)
        opt_seconds = g_ascii_strtod(env, NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("bench-uring: %s (see --help)\n", error->message);
        return 2;
    }
    if (!(opt_seconds > 0 && opt_seconds <= 60) || opt_batch < 1 ||
        opt_batch > 256) {
        g_printerr("bench-uring: --seconds in (0, 60], --batch in [1, 256]\n");
        return 2;
    }
    if (unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK | W_OK) < 0) {
        printf("bench-uring: SKIP: needs root (a network namespace and "
               "/dev/net/tun)\n");
        return 77;
    }
    ret = io_uring_queue_init(256, &ring, 0);
    if (ret < 0) {
        printf("bench-uring: SKIP: io_uring_queue_init: %s\n",
               g_strerror(-ret));
        return 77;
    }
    fd = tap_open("bu0");
    pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    sll.sll_ifindex = (int)if_nametoindex("bu0");
    if (fd < 0 || pkt < 0 ||
        bind(pkt, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        g_printerr("bench-uring: set-up: %s\n", g_strerror(errno));
        return 1;
    }
    make_frame(frame);
    seen_tx = tap_counter(true);
    seen_rx = tap_counter(false);

    printf("\nRaw TAP loops, 60 B frames: one readv()/writev() per frame "
           "beside io_uring batches of %d\n(no SQPOLL: all work in the "
           "measured thread); %.1f s per run, each method run twice,\n"
           "alternating; x plain = frames/s over the plain loop's; x CPU = "
           "plain CPU per frame over this one's\n\n",
           opt_batch, opt_seconds);
    printf("one system call (getppid(), a million times): %.0f ns\n\n",
           syscall_ns());
    printf("%-3s %-22s %10s %9s %8s %8s\n", "dir", "method", "frames/s",
           "CPU us/fr", "x plain", "x CPU");
    for (int i = 0; i < 2; i++) {
        plain[i] = tx_plain(fd, frame);
        uring[i] = tx_uring(&ring, fd, frame);
    }
    print_group("TX", "writev per frame", "io_uring WRITEV batch", plain, uring,
                tap_counter(true) - seen_tx, "written into it");
    for (int i = 0; i < 2; i++) {
        plain[i] = rx_rounds(fd, pkt, NULL);
        uring[i] = rx_rounds(fd, pkt, &ring);
    }
    print_group("RX", "readv per frame", "io_uring READV batch", plain, uring,
                tap_counter(false) - seen_rx, "sent to the reader");
    io_uring_queue_exit(&ring);
    close(pkt);
    close(fd);
    return 0;
}
