/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netdev.c - the virtio-net device model on a VDUSE device
 *
 * DOC: Theory of operation
 *
 * Queues: pair i has RX vq 2i and TX vq 2i+1, in virtqueue group 0; the
 * control vq, when offered, comes last, alone in group 1, so that the driver
 * may move it to address space 1.
 *
 * The control queue is served in the main context, the one that answers
 * the kernel's messages: a device that offers it must answer from the first
 * moment, since the kernel's virtio-net driver sends commands while it
 * probes and waits for each answer. Each command is copied out of guest
 * memory before it is looked at, then handed to ctrlvq/.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <unistd.h>

#include "ctrlvq.h"
#include "net.h"

/**
 * struct NetDev - a virtio-net device model
 * @opts:		the options it was made from (@opts.name points to
 * @name)
 * @name:		device name
 * @tap_fds:		TAP queue fds, one per queue pair
 * @n_tap_fds:		number of TAP fds
 * @features:		features offered
 * @config:		config space
 * @vq_group:		group of each virtqueue
 * @vq_num:		number of virtqueues
 * @ctrl_index:		index of the control vq (valid with @opts.ctrl_vq)
 * @dev:		the open VDUSE device, or NULL
 * @ctx:		main context serving @dev
 * @cvq:		control-queue state
 * @cvq_source:		kick watch of the control vq while it runs
 * @elem:		storage for one popped control command
 * @cmd:		the command copied out of guest memory
 */
struct NetDev {
    NetOptions opts;
    char *name;
    int tap_fds[NET_MAX_QUEUE_PAIRS];
    unsigned int n_tap_fds;
    uint64_t features;
    struct virtio_net_config config;
    uint32_t vq_group[2 * NET_MAX_QUEUE_PAIRS + 1];
    uint32_t vq_num;
    uint32_t ctrl_index;
    VduseDev *dev;
    GMainContext *ctx;
    Ctrlvq *cvq;
    GSource *cvq_source;
    VduseVqElem *elem;
    uint8_t *cmd;
};

NetDev *net_dev_new(const NetOptions *opts, const int *tap_fds,
                    unsigned int n_tap_fds)
{
    NetDev *nd = g_new0(NetDev, 1);

    g_return_val_if_fail(opts->queue_pairs >= 1 &&
                             opts->queue_pairs <= NET_MAX_QUEUE_PAIRS &&
                             n_tap_fds <= NET_MAX_QUEUE_PAIRS,
                         NULL);
    nd->name = g_strdup(opts->name);
    nd->opts = *opts;
    nd->opts.name = nd->name;
    memcpy(nd->tap_fds, tap_fds, n_tap_fds * sizeof(int));
    nd->n_tap_fds = n_tap_fds;
    nd->features = net_offered_features(opts);

    memcpy(nd->config.mac, opts->mac, 6);
    nd->config.status = htole16(VIRTIO_NET_S_LINK_UP);
    nd->config.max_virtqueue_pairs = htole16(opts->queue_pairs);
    nd->config.mtu = htole16(opts->mtu);

    nd->vq_num = 2 * opts->queue_pairs;
    if (opts->ctrl_vq) {
        nd->ctrl_index = nd->vq_num++;
        nd->vq_group[nd->ctrl_index] = 1;
    }
    nd->cvq = ctrlvq_new(nd->name);
    nd->elem = g_new(VduseVqElem, 1);
    nd->cmd = g_malloc(CTRLVQ_MAX_COMMAND);
    return nd;
}

void net_dev_free(NetDev *nd)
{
    if (!nd) {
        return;
    }
    net_dev_close(nd);
    for (unsigned int i = 0; i < nd->n_tap_fds; i++) {
        close(nd->tap_fds[i]);
    }
    ctrlvq_free(nd->cvq);
    g_free(nd->elem);
    g_free(nd->cmd);
    g_free(nd->name);
    g_free(nd);
}

/**
 * net_dev_config() - describe the device for libvduse
 * @nd:		the model
 * @cfg:	filled in; points into @nd
 */
static void net_dev_config(NetDev *nd, VduseDevConfig *cfg)
{
    *cfg = (VduseDevConfig){
        .name = nd->name,
        .device_id = VIRTIO_ID_NET,
        .features = nd->features,
        .vq_num = nd->vq_num,
        .vq_max_size = NET_VQ_SIZE,
        .vq_group = nd->vq_group,
        .ngroups = 2,
        .nas = 2,
        .config = &nd->config,
        .config_size = sizeof(nd->config),
    };
}

bool net_dev_create(NetDev *nd, VduseControl *ctl, GError **error)
{
    VduseDevConfig cfg;

    net_dev_config(nd, &cfg);
    return vduse_control_create_dev(ctl, &cfg, error);
}

/**
 * iov_copy_out() - gather @iov into @buf
 * @iov:	segments
 * @n:		number of segments
 * @buf:	destination
 * @size:	room in @buf
 *
 * Return: bytes copied, at most @size.
 */
static size_t iov_copy_out(const struct iovec *iov, unsigned int n,
                           uint8_t *buf, size_t size)
{
    size_t done = 0;

    for (unsigned int i = 0; i < n && done < size; i++) {
        size_t chunk = MIN(iov[i].iov_len, size - done);

        memcpy(buf + done, iov[i].iov_base, chunk);
        done += chunk;
    }
    return done;
}

/**
 * cvq_serve_one() - answer the control command in @nd->elem
 * @nd:		the model
 * @vq:		the control vq
 */
static void cvq_serve_one(NetDev *nd, VduseVq *vq)
{
    VduseVqElem *e = nd->elem;
    struct iovec *status_iov = &e->iov[e->out_num];
    uint8_t status = VIRTIO_NET_ERR;
    size_t len;

    if (e->in_num == 0) {
        g_message("%s: control command without a status buffer", nd->name);
        vduse_vq_push(vq, e->id, 0);
        return;
    }
    if (e->out_len > CTRLVQ_MAX_COMMAND) {
        g_message("%s: control command of %zu bytes is larger than %u",
                  nd->name, e->out_len, CTRLVQ_MAX_COMMAND);
    } else {
        len = iov_copy_out(e->iov, e->out_num, nd->cmd, CTRLVQ_MAX_COMMAND);
        status = ctrlvq_execute(nd->cvq, nd->cmd, len);
    }
    *(uint8_t *)status_iov->iov_base = status;
    vduse_vq_push(vq, e->id, 1);
}

static void cvq_stop(NetDev *nd);

/**
 * cvq_serve() - answer every pending control command
 * @nd:		the model
 *
 * Bounded: at most one queue's worth per call; the rest is picked up by
 * dispatching the watch again at once.
 */
static void cvq_serve(NetDev *nd)
{
    VduseVq *vq = vduse_dev_vq(nd->dev, nd->ctrl_index);
    unsigned int served = 0;
    bool more = true;

    vduse_vq_enable_notify(vq, false);
    while (more && served < NET_VQ_SIZE) {
        int ret = vduse_vq_pop(vq, nd->elem);

        if (ret < 0) {
            cvq_stop(nd);
            return;
        }
        if (ret == 0) {
            more = vduse_vq_enable_notify(vq, true);
            if (more) {
                vduse_vq_enable_notify(vq, false);
            }
            continue;
        }
        cvq_serve_one(nd, vq);
        served++;
    }
    if (vduse_vq_flush(vq)) {
        vduse_dev_vq_notify(nd->dev, nd->ctrl_index);
    }
    if (more) {
        g_source_set_ready_time(nd->cvq_source, 0);
    }
}

/**
 * cvq_kicked() - the control vq's kick eventfd fired
 * @fd:		the eventfd
 * @cond:	G_IO_IN
 * @opaque:	the model
 *
 * Return: G_SOURCE_CONTINUE.
 */
static gboolean cvq_kicked(int fd, GIOCondition cond, gpointer opaque)
{
    NetDev *nd = opaque;
    uint64_t count;

    g_source_set_ready_time(nd->cvq_source, -1);
    if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
        g_message("%s: control vq kick: %s", nd->name, g_strerror(errno));
    }
    cvq_serve(nd);
    return G_SOURCE_CONTINUE;
}

/**
 * cvq_start() - watch the control vq's kicks and serve what is pending
 * @nd:		the model
 */
static void cvq_start(NetDev *nd)
{
    int kickfd;

    if (!nd->opts.ctrl_vq || nd->cvq_source ||
        !(vduse_dev_features(nd->dev) & VDUSE_BIT(VIRTIO_NET_F_CTRL_VQ)) ||
        !vduse_dev_vq_is_started(nd->dev, nd->ctrl_index)) {
        return;
    }
    kickfd = vduse_dev_vq_kickfd(nd->dev, nd->ctrl_index);
    if (kickfd < 0) {
        return;
    }
    nd->cvq_source = g_unix_fd_source_new(kickfd, G_IO_IN);
    g_source_set_callback(nd->cvq_source, G_SOURCE_FUNC(cvq_kicked), nd, NULL);
    g_source_attach(nd->cvq_source, nd->ctx);
    cvq_serve(nd);
}

/**
 * cvq_stop() - stop watching the control vq
 * @nd:		the model
 */
static void cvq_stop(NetDev *nd)
{
    if (nd->cvq_source) {
        g_source_destroy(nd->cvq_source);
        g_clear_pointer(&nd->cvq_source, g_source_unref);
    }
}

/**
 * net_features_ok() - the driver chose its features: can we serve them?
 * @dev:	the device
 * @features:	the negotiated features
 * @opaque:	the model
 *
 * Return: true to accept.
 */
static bool net_features_ok(VduseDev *dev, uint64_t features, void *opaque)
{
    NetDev *nd = opaque;

    if (!(features & VDUSE_BIT(VDUSE_F_VERSION_1))) {
        g_message("%s: driver did not accept VIRTIO_F_VERSION_1", nd->name);
        return false;
    }
    if (features & ~nd->features) {
        g_message("%s: driver set features 0x%" G_GINT64_MODIFIER
                  "x we did not offer",
                  nd->name, features & ~nd->features);
        return false;
    }
    return true;
}

/* net_driver_ok() - DRIVER_OK: start serving the ready queues. */
static void net_driver_ok(VduseDev *dev, void *opaque)
{
    cvq_start(opaque);
}

/* net_vq_ready() - a queue was enabled or disabled after DRIVER_OK. */
static void net_vq_ready(VduseDev *dev, uint32_t index, bool ready,
                         void *opaque)
{
    NetDev *nd = opaque;

    if (nd->opts.ctrl_vq && index == nd->ctrl_index) {
        if (ready) {
            cvq_start(nd);
        } else {
            cvq_stop(nd);
        }
    }
}

/* net_reset() - the driver reset the device: stop every user. */
static void net_reset(VduseDev *dev, void *opaque)
{
    cvq_stop(opaque);
}

static const VduseDevOps net_dev_ops = {
    .features_ok = net_features_ok,
    .driver_ok = net_driver_ok,
    .vq_ready = net_vq_ready,
    .reset = net_reset,
};

bool net_dev_open(NetDev *nd, VduseControl *ctl, bool setup_vqs,
                  GMainContext *ctx, GError **error)
{
    VduseDevConfig cfg;

    g_return_val_if_fail(!nd->dev, false);
    net_dev_config(nd, &cfg);
    nd->ctx = ctx;
    nd->dev = vduse_dev_open(&cfg, setup_vqs, vduse_control_api_version(ctl),
                             vduse_control_features(ctl), &net_dev_ops, nd, ctx,
                             error);
    return nd->dev != NULL;
}

VduseDev *net_dev_vduse(NetDev *nd)
{
    return nd->dev;
}

void net_dev_close(NetDev *nd)
{
    cvq_stop(nd);
    g_clear_pointer(&nd->dev, vduse_dev_close);
}

uint64_t net_dev_ctrl_commands(const NetDev *nd)
{
    return ctrlvq_commands_seen(nd->cvq);
}
