/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap-read.c - frames read from a TAP in batches, one system call each
 *
 * DOC: Theory of operation
 *
 * A TAP gives one frame per read. One readv() per frame costs a system
 * call entry and exit per frame, about 1 us of the 1.7 us a 60-byte frame
 * costs on the machines here (tests/bench/bench-uring). With io_uring a
 * batch of IORING_OP_READ entries, each into a slot of the reader's own,
 * goes in with one io_uring_enter() that also waits for them all. The
 * entries carry RWF_NOWAIT: a TAP with no frame answers -EAGAIN at once
 * instead of leaving the entry waiting (the reader must never wait for
 * the network: its thread serves the TX ring too). O_NONBLOCK on the fd
 * is not enough: io_uring then waits for the fd to be readable, as a
 * test showed. A kernel whose TAP does not take RWF_NOWAIT (no
 * FMODE_NOWAIT) fails such entries with -EOPNOTSUPP without reading:
 * the reader then says so once and reads no more.
 *
 * The entries are not linked. A read that is shorter than its buffer
 * (almost every TAP read) counts to io_uring as a failed link member and
 * would cancel the entries after it. Unlinked, they still run at
 * submission one after another, in order, so their frames come in the
 * TAP's order. One that found the queue empty can be followed by one that
 * found a frame that came in between: the caller skips the -EAGAIN
 * results.
 *
 * Each slot is as large as the largest frame a driver may receive. The
 * caller copies each frame into the driver's buffers: one copy more than a
 * readv() straight into them, which is cheap for the small frames whose
 * cost is mostly the system call; large (GSO) frames are better read
 * straight into the buffers (datapath.c does so).
 *
 * Without liburing, or where io_uring is refused, there is no reader: the
 * caller reads frame by frame. Any fd that gives one frame per read and
 * takes RWF_NOWAIT will do: a TAP, or a datagram socket in tests.
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <sys/uio.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "net-priv.h"

/**
 * struct TapReader - what reads batches of frames from one TAP fd
 * @fd:		the TAP fd; not owned
 * @nslots:	slots, the most entries of a batch
 * @slot_size:	bytes of a slot
 * @slots:	@nslots slots of @slot_size bytes, allocated at the first
 *		read
 * @res:	per slot, what its last read returned (bytes or -errno)
 * @broken:	io_uring failed: the reader reads no more
 * @ring:	the io_uring
 */
struct TapReader {
    int fd;
    unsigned int nslots;
    size_t slot_size;
    uint8_t *slots;
    ssize_t *res;
    bool broken;
#ifdef HAVE_LIBURING
    struct io_uring ring;
#endif
};

TapReader *tap_reader_new(int fd, unsigned int nslots, size_t slot_size,
                          char **why_not)
{
#ifdef HAVE_LIBURING
    TapReader *r = g_new0(TapReader, 1);
    int ret;

    ret = io_uring_queue_init(nslots, &r->ring, 0);
    if (ret < 0) {
        *why_not = g_strdup_printf("io_uring: %s", g_strerror(-ret));
        g_free(r);
        return NULL;
    }
    r->fd = fd;
    r->nslots = nslots;
    r->slot_size = slot_size;
    r->res = g_new0(ssize_t, nslots);
    *why_not = NULL;
    return r;
#else
    (void)fd;
    (void)nslots;
    (void)slot_size;
    *why_not = g_strdup("built without liburing");
    return NULL;
#endif
}

unsigned int tap_reader_read(TapReader *r, unsigned int n, size_t headroom)
{
#ifdef HAVE_LIBURING
    g_assert(n <= r->nslots && headroom < r->slot_size);
    if (r->broken || n == 0) {
        return 0;
    }
    if (!r->slots) {
        /* Large enough to be mapped on demand: a slot that only ever
         * holds small frames costs one page. */
        r->slots = g_malloc((size_t)r->nslots * r->slot_size);
    }
    for (unsigned int i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

        io_uring_prep_read(sqe, r->fd, r->slots + i * r->slot_size + headroom,
                           (unsigned int)(r->slot_size - headroom), 0);
        sqe->rw_flags = RWF_NOWAIT;
        io_uring_sqe_set_data64(sqe, i);
        r->res[i] = -ECANCELED;
    }
    if (!tap_uring_run(&r->ring, n, r->res)) {
        g_message("io_uring failed on TAP fd %d: one read per frame from now "
                  "on",
                  r->fd);
        r->broken = true;
    }
    for (unsigned int i = 0; i < n; i++) {
        if (r->res[i] == -ECANCELED) {
            /* Never completed (io_uring failed): nothing was read. */
            r->res[i] = -EAGAIN;
        } else if (r->res[i] == -EOPNOTSUPP) {
            /* Not read: as if the queue had been empty. */
            r->res[i] = -EAGAIN;
            if (!r->broken) {
                g_message("TAP fd %d does not take reads that do not wait "
                          "(RWF_NOWAIT) through io_uring: one read per "
                          "frame",
                          r->fd);
            }
            r->broken = true;
        }
    }
    return n;
#else
    (void)r;
    (void)n;
    (void)headroom;
    return 0;
#endif
}

bool tap_reader_broken(const TapReader *r)
{
    return r->broken;
}

uint8_t *tap_reader_slot(TapReader *r, unsigned int i, ssize_t *res)
{
    g_assert(i < r->nslots);
    *res = r->res[i];
    return r->slots + i * r->slot_size;
}

void tap_reader_free(TapReader *r)
{
    if (!r) {
        return;
    }
#ifdef HAVE_LIBURING
    io_uring_queue_exit(&r->ring);
#endif
    g_free(r->slots);
    g_free(r->res);
    g_free(r);
}
