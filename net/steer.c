/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * steer.c - RSS where the frame is: the TAP's steering eBPF program
 *
 * DOC: Theory of operation
 *
 * The TAP picks the queue, hence the pair, of every frame the host sends
 * into it; with TUNSETSTEERINGEBPF a socket-filter program picks it instead
 * of the TAP's own flow hash (QEMU's TAP backend does the same with
 * ebpf/rss.bpf.c). Our program (bpf/steer.bpf.c, compiled with clang
 * -target bpf at build time and embedded here) hashes as net/rss.c does
 * and reads the driver's table and key from a one-entry array map, which
 * net_steer_set() rewrites when RSS_CONFIG arrives: a bpf() call, no RTNL,
 * so the command is answered with the map already current.
 *
 * Without libbpf or clang at build time, or without bpf() at run time (no
 * privilege, a kernel without CONFIG_BPF_SYSCALL), net_steer_new() fails
 * and the device does not offer VIRTIO_NET_F_RSS.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <linux/if_tun.h>
#include <linux/types.h>
#include <sys/ioctl.h>

#include "net-priv.h"

#ifdef HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/steer.h"

extern const unsigned char net_steer_bpf_obj[];
extern const size_t net_steer_bpf_obj_len;

/**
 * struct NetSteer - the loaded steering program
 * @obj:	libbpf's object
 * @prog_fd:	the program
 * @map_fd:	its configuration map
 */
struct NetSteer {
    struct bpf_object *obj;
    int prog_fd;
    int map_fd;
};

/* libbpf_log() - libbpf's messages, as debug lines. */
G_GNUC_PRINTF(2, 0)
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
                      va_list ap)
{
    if (level != LIBBPF_DEBUG) {
        g_autofree char *line = g_strdup_vprintf(fmt, ap);

        g_debug("libbpf: %s", g_strchomp(line));
    }
    return 0;
}

NetSteer *net_steer_new(GError **error)
{
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "steer");
    g_autofree NetSteer *s = g_new0(NetSteer, 1);
    struct bpf_program *prog;
    int err;

    libbpf_set_print(libbpf_log);
    s->obj =
        bpf_object__open_mem(net_steer_bpf_obj, net_steer_bpf_obj_len, &opts);
    if (!s->obj) {
        err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "the steering program does not open: %s", g_strerror(err));
        return NULL;
    }
    err = bpf_object__load(s->obj);
    if (err) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-err),
                    "the steering program does not load (bpf(): %s)",
                    g_strerror(-err));
        bpf_object__close(s->obj);
        return NULL;
    }
    prog = bpf_object__find_program_by_name(s->obj, "steer");
    s->prog_fd = prog ? bpf_program__fd(prog) : -1;
    s->map_fd = bpf_object__find_map_fd_by_name(s->obj, "steer_config");
    if (s->prog_fd < 0 || s->map_fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the steering program lacks its program or map");
        bpf_object__close(s->obj);
        return NULL;
    }
    return g_steal_pointer(&s);
}

void net_steer_free(NetSteer *s)
{
    if (s) {
        bpf_object__close(s->obj);
        g_free(s);
    }
}

bool net_steer_set(NetSteer *s, const CtrlvqRss *rss)
{
    struct steer_config c = {0};
    __u32 zero = 0;

    G_STATIC_ASSERT(STEER_KEY_LEN == CTRLVQ_RSS_MAX_KEY);
    G_STATIC_ASSERT(STEER_TABLE_LEN == CTRLVQ_RSS_MAX_TABLE);
    if (rss->enabled && rss->table_len) {
        c.hash_types = rss->hash_types;
        c.table_mask = (uint16_t)(rss->table_len - 1);
        c.unclassified = rss->unclassified;
        memcpy(c.key, rss->key, sizeof(c.key));
        memcpy(c.table, rss->table, sizeof(c.table));
    }
    if (bpf_map_update_elem(s->map_fd, &zero, &c, BPF_ANY) < 0) {
        g_message("steering map update: %s", g_strerror(errno));
        return false;
    }
    return true;
}

int net_steer_prog_fd(const NetSteer *s)
{
    return s->prog_fd;
}

#else /* !HAVE_BPF */

NetSteer *net_steer_new(GError **error)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "vduse-net was built without libbpf (meson option bpf)");
    return NULL;
}

void net_steer_free(NetSteer *s)
{
}

bool net_steer_set(NetSteer *s, const CtrlvqRss *rss)
{
    return false;
}

int net_steer_prog_fd(const NetSteer *s)
{
    return -1;
}

#endif /* HAVE_BPF */

int tap_set_steering(int fd, int prog_fd)
{
    return ioctl(fd, TUNSETSTEERINGEBPF, &prog_fd) < 0 ? -errno : 0;
}
