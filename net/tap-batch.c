/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap-batch.c - a burst of frames written to a TAP in one system call
 *
 * DOC: Theory of operation
 *
 * A TAP takes one frame per write. One writev() per frame costs a system
 * call entry and exit per frame, which on a machine with page-table
 * isolation is most of the cost of a small frame (tests/bench/bench-uring
 * measures it: about 1 us of 1.6 us per 60-byte frame on the machines
 * here). With io_uring the frames of a burst are one IORING_OP_WRITEV
 * each, hard-linked (IOSQE_IO_HARDLINK) so that they are written in order
 * and a frame the TAP refuses (a bad GSO header, the TAP down) does not
 * cancel the ones after it, and submitted with one io_uring_enter() that
 * also waits for them.
 *
 * io_uring does not answer EAGAIN for a full TAP: it waits until the TAP
 * takes the frame, and the pair thread with it. A TAP whose send buffer is
 * not unlimited (TUNSETSNDBUF, the default being INT_MAX; a --tap-fd TAP
 * may have another) is therefore written frame by frame, and so is
 * anything that is not a TAP. Where io_uring is missing (not built,
 * ENOSYS, a seccomp filter or kernel.io_uring_disabled saying EPERM) the
 * same call makes one writev() per frame: the results are the same, but
 * that path stops at the first EAGAIN (the frames after it are not
 * written, -ECANCELED), so that the caller can give them back to the ring
 * and wait for POLLOUT.
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "net-priv.h"

/**
 * struct TapBatch - what writes the bursts of one TAP fd
 * @fd:		the TAP fd; not owned
 * @max:	frames per burst at most
 * @ring:	the io_uring, if @use_ring
 * @use_ring:	io_uring is there
 */
struct TapBatch {
    int fd;
    unsigned int max;
#ifdef HAVE_LIBURING
    struct io_uring ring;
#endif
    bool use_ring;
};

TapBatch *tap_batch_new(int fd, unsigned int max, bool allow_uring,
                        char **why_not)
{
    TapBatch *b = g_new0(TapBatch, 1);

    b->fd = fd;
    b->max = max;
    if (why_not)
        *why_not = NULL;
#ifdef HAVE_LIBURING
    int sndbuf = 0;

    if (allow_uring &&
        (ioctl(fd, TUNGETSNDBUF, &sndbuf) < 0 || sndbuf != INT_MAX)) {
        if (why_not)
            *why_not = g_strdup("not a TAP with an unlimited send buffer");
    } else if (allow_uring) {
        /* The completion ring is twice as large: a burst always fits. */
        int ret = io_uring_queue_init(max, &b->ring, 0);

        b->use_ring = ret == 0;
        if (ret < 0 && why_not)
            *why_not = g_strdup_printf("io_uring: %s", g_strerror(-ret));
    } else if (why_not) {
        *why_not = g_strdup("io_uring not wanted");
    }
#else
    (void)allow_uring;
    if (why_not)
        *why_not = g_strdup("built without liburing");
#endif
    return b;
}

bool tap_batch_uses_uring(const TapBatch *b)
{
    return b->use_ring;
}

/**
 * write_each() - one writev() per frame, stopping at the first EAGAIN
 * @b:		the writer
 * @frames:	the frames
 * @n:		how many
 * @res:	per frame: bytes written or -errno
 */
static void write_each(TapBatch *b, const TapFrame *frames, unsigned int n,
                       ssize_t *res)
{
    unsigned int i = 0;

    for (; i < n; i++) {
        ssize_t w = writev(b->fd, frames[i].iov, frames[i].iovcnt);

        res[i] = w < 0 ? -errno : w;
        if (res[i] == -EAGAIN)
            break;
    }
    while (++i < n)
        res[i] = -ECANCELED;
}

#ifdef HAVE_LIBURING
/**
 * write_ring() - the frames as hard-linked WRITEV entries, one submission
 * @b:		the writer
 * @frames:	the frames
 * @n:		how many, at most @b->max
 * @res:	per frame: bytes written or -errno; -ECANCELED for one never
 *		submitted
 *
 * Return: false if io_uring failed: some frames may not have been
 * submitted (those say -ECANCELED), and the ring must not be used again.
 */
static bool write_ring(TapBatch *b, const TapFrame *frames, unsigned int n,
                       ssize_t *res)
{
    for (unsigned int i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

        io_uring_prep_writev(sqe, b->fd, frames[i].iov,
                             (unsigned int)frames[i].iovcnt, 0);
        io_uring_sqe_set_data64(sqe, i);
        if (i + 1 < n)
            sqe->flags |= IOSQE_IO_HARDLINK;
        res[i] = -ECANCELED;
    }
    return tap_uring_run(&b->ring, n, res);
}

bool tap_uring_run(struct io_uring *ring, unsigned int n, ssize_t *res)
{
    struct io_uring_cqe *cqe;
    unsigned int seen = 0;
    int submitted;

    do {
        submitted = io_uring_submit_and_wait(ring, n);
    } while (submitted == -EINTR);
    /* What was submitted is reaped whatever happens, so that no buffer
     * the caller reuses (a frame it gives back or pushes, a slot it
     * reads) is still the kernel's. */
    while (submitted > 0 && seen < (unsigned int)submitted) {
        int ret = io_uring_wait_cqe(ring, &cqe);

        if (ret == -EINTR)
            continue;
        if (ret < 0)
            return false;
        if (cqe->user_data < n)
            res[cqe->user_data] = cqe->res;
        io_uring_cqe_seen(ring, cqe);
        seen++;
    }
    return submitted == (int)n;
}
#endif

void tap_batch_write(TapBatch *b, const TapFrame *frames, unsigned int n,
                     ssize_t *res)
{
    g_assert(n <= b->max);
    if (!n)
        return;
#ifdef HAVE_LIBURING
    if (b->use_ring) {
        if (write_ring(b, frames, n, res))
            return;
        /* Say so once and go on without the ring (its exit drops the
         * entries it did not take); the frames it did not take are
         * -ECANCELED, for the caller to give back. */
        g_message("io_uring failed on TAP fd %d: one writev() per frame "
                  "from now on",
                  b->fd);
        io_uring_queue_exit(&b->ring);
        b->use_ring = false;
        return;
    }
#endif
    write_each(b, frames, n, res);
}

void tap_batch_free(TapBatch *b)
{
    if (!b)
        return;
#ifdef HAVE_LIBURING
    if (b->use_ring)
        io_uring_queue_exit(&b->ring);
#endif
    g_free(b);
}
