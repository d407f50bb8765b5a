/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * device.c - one VDUSE device: its fd, its message loop, its queues
 *
 * DOC: Theory of operation
 *
 * The kernel drives the device through messages read from /dev/vduse/$NAME
 * and waits for each answer (msg_timeout, 30 s by default, after which it
 * marks the device broken). Every message is answered from the main context
 * at once: nothing here waits on the dataplane except the model's
 * quiesce(), which is a short handshake.
 *
 * Lifecycle, as the driver sees it:
 *  - SET_STATUS with FEATURES_OK: read the negotiated features
 *    (VDUSE_DEV_GET_FEATURES) and let the model refuse them.
 *  - SET_STATUS with DRIVER_OK: for every queue that is ready, read where the
 *    driver put it (VDUSE_VQ_GET_INFO), give it a kick eventfd and start it
 *    in its group's address space; then tell the model.
 *  - SET_VQ_READY (VDUSE_F_QUEUE_READY, 7.3): a queue enabled or disabled
 *    after DRIVER_OK (vhost-vdpa enables the control queue first when it
 *    restores a device).
 *  - UPDATE_IOTLB: quiesce, drop the cached mappings of that ASID's range
 *    (they are refilled lazily by VDUSE_IOTLB_GET_FD2 on the next miss),
 *    resume.
 *  - SET_VQ_GROUP_ASID: quiesce, re-point the group's queues, resume.
 *  - SUSPEND: quiesce and stay so until reset.
 *  - SET_STATUS 0: reset: the model stops, queues stop, IOTLB is emptied.
 * Every index the kernel hands us is checked against what we declared.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vduse-abi.h"
#include "vduse.h"

/* Messages handled per wake-up, so a flood cannot starve the main loop. */
#define DEV_MSG_BURST 64

/**
 * struct VduseDev - a device we serve
 * @name:		device name
 * @fd:			/dev/vduse/@name, non-blocking
 * @api_version:	control API version (0 or 1)
 * @vduse_features:	VDUSE_F_* bits
 * @vq_num:		number of queues
 * @ngroups:		number of queue groups
 * @nas:		number of address spaces
 * @vq_group:		group of each queue
 * @group_asid:		current ASID of each group
 * @vqs:		the queues
 * @kickfd:		kick eventfd of each started queue, or -1
 * @vq_ready:		ready bit of each queue as the kernel last said
 * @iotlb:		translations of every ASID
 * @ops:		model callbacks
 * @opaque:		passed to @ops
 * @source:		the message source in the main context
 * @status:		last device status the driver set
 * @features:		negotiated features
 * @broken:		the kernel stopped talking to us
 * @suspended:		SUSPEND received since the last reset
 * @quiesced:		the model is quiesced (by SUSPEND)
 */
struct VduseDev {
    char *name;
    int fd;
    uint64_t api_version;
    uint64_t vduse_features;
    uint32_t vq_num;
    uint32_t ngroups;
    uint32_t nas;
    uint32_t *vq_group;
    uint32_t *group_asid;
    VduseVq **vqs;
    int *kickfd;
    bool *vq_ready;
    VduseIotlb *iotlb;
    VduseDevOps ops;
    void *opaque;
    GSource *source;
    uint8_t status;
    uint64_t features;
    bool broken;
    bool suspended;
};

/**
 * dev_iotlb_miss() - fill the IOTLB from the kernel on a miss
 * @opaque:	the device
 * @iotlb:	its IOTLB
 * @asid:	address space of the missing IOVA
 * @iova:	the missing IOVA
 *
 * VDUSE_IOTLB_GET_FD2 returns the region around @iova and an fd to mmap it
 * with; API version 0 kernels only have VDUSE_IOTLB_GET_FD, for ASID 0.
 * Return: 0, or negative errno if the kernel has no mapping there.
 */
static int dev_iotlb_miss(void *opaque, VduseIotlb *iotlb, uint32_t asid,
                          uint64_t iova)
{
    VduseDev *dev = opaque;
    struct vduse_iotlb_entry_v2 entry = {
        .start = iova,
        .last = iova,
        .asid = asid,
    };
    int fd, ret;

    if (dev->api_version >= VDUSE_API_VERSION_1) {
        fd = ioctl(dev->fd, VDUSE_IOTLB_GET_FD2, &entry);
    } else {
        struct vduse_iotlb_entry v0 = {.start = iova, .last = iova};

        if (asid != 0)
            return -EINVAL;
        fd = ioctl(dev->fd, VDUSE_IOTLB_GET_FD, &v0);
        entry.offset = v0.offset;
        entry.start = v0.start;
        entry.last = v0.last;
        entry.perm = v0.perm;
    }
    if (fd < 0)
        return -errno;
    /* VDUSE_ACCESS_RO/WO are the device's read/write, as ours. */
    ret = vduse_iotlb_map_fd(
        iotlb, asid, entry.start, entry.last,
        entry.perm & (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE), fd, entry.offset);
    close(fd);
    return ret;
}

/**
 * dev_quiesce() - ask the model to stop touching guest memory
 * @dev:	the device
 *
 * A suspended device is quiesced already, and stays so.
 */
static void dev_quiesce(VduseDev *dev)
{
    if (!dev->suspended && dev->ops.quiesce)
        dev->ops.quiesce(dev, dev->opaque);
}

/**
 * dev_resume() - undo dev_quiesce()
 * @dev:	the device
 */
static void dev_resume(VduseDev *dev)
{
    if (!dev->suspended && dev->ops.resume)
        dev->ops.resume(dev, dev->opaque);
}

/**
 * dev_vq_stop() - stop queue @i and drop its kick eventfd
 * @dev:	the device
 * @i:		queue index, checked by the caller
 */
static void dev_vq_stop(VduseDev *dev, uint32_t i)
{
    vduse_vq_stop(dev->vqs[i]);
    if (dev->kickfd[i] >= 0) {
        struct vduse_vq_eventfd efd = {.index = i,
                                       .fd = VDUSE_EVENTFD_DEASSIGN};

        /* After a reset the kernel has dropped it already: no error. */
        ioctl(dev->fd, VDUSE_VQ_SETUP_KICKFD, &efd);
        close(dev->kickfd[i]);
        dev->kickfd[i] = -1;
    }
}

/**
 * dev_vq_start() - start queue @i where the driver put it
 * @dev:	the device
 * @i:		queue index, checked by the caller
 *
 * Return: true if the queue runs; false if it is not ready or the driver
 * gave it bad addresses (logged; the queue stays stopped).
 */
static bool dev_vq_start(VduseDev *dev, uint32_t i)
{
    struct vduse_vq_info info = {.index = i};
    struct vduse_vq_eventfd efd = {.index = i};
    g_autoptr(GError) err = NULL;
    bool event_idx = dev->features & VDUSE_BIT(VDUSE_F_RING_EVENT_IDX);
    int fd;

    if (ioctl(dev->fd, VDUSE_VQ_GET_INFO, &info) < 0) {
        g_message("%s: vq %u: VDUSE_VQ_GET_INFO: %s", dev->name, i,
                  g_strerror(errno));
        return false;
    }
    /*
     * With VDUSE_F_QUEUE_READY the kernel sets its ready bit only after we
     * answered SET_VQ_READY, so a queue enabled after DRIVER_OK is ready by
     * our record before it is by the kernel's.
     */
    dev->vq_ready[i] = dev->vq_ready[i] || info.ready;
    if (!dev->vq_ready[i] || info.num == 0) {
        g_debug("%s: vq %u: not ready (num %u)", dev->name, i, info.num);
        return false;
    }

    if (!vduse_vq_start(dev->vqs[i], dev->group_asid[dev->vq_group[i]],
                        info.num, info.desc_addr, info.driver_addr,
                        info.device_addr, info.split.avail_index, event_idx,
                        &err)) {
        g_message("%s: vq %u not started: %s", dev->name, i, err->message);
        return false;
    }

    fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        g_message("%s: vq %u: eventfd: %s", dev->name, i, g_strerror(errno));
        vduse_vq_stop(dev->vqs[i]);
        return false;
    }
    efd.fd = fd;
    if (ioctl(dev->fd, VDUSE_VQ_SETUP_KICKFD, &efd) < 0) {
        g_message("%s: vq %u: VDUSE_VQ_SETUP_KICKFD: %s", dev->name, i,
                  g_strerror(errno));
        close(fd);
        vduse_vq_stop(dev->vqs[i]);
        return false;
    }
    dev->kickfd[i] = fd;
    g_debug("%s: vq %u: started, size %u, ASID %u, avail index %u", dev->name,
            i, info.num, dev->group_asid[dev->vq_group[i]],
            info.split.avail_index);
    return true;
}

/**
 * dev_reset() - the driver reset the device
 * @dev:	the device
 */
static void dev_reset(VduseDev *dev)
{
    if (dev->ops.reset)
        dev->ops.reset(dev, dev->opaque);
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        dev_vq_stop(dev, i);
        dev->vq_ready[i] = false;
    }
    for (uint32_t g = 0; g < dev->ngroups; g++)
        dev->group_asid[g] = 0;
    for (uint32_t i = 0; i < dev->vq_num; i++)
        vduse_vq_set_asid(dev->vqs[i], 0);
    vduse_iotlb_invalidate_all(dev->iotlb);
    dev->features = 0;
    dev->suspended = false;
}

/**
 * dev_set_status() - handle VDUSE_SET_STATUS
 * @dev:	the device
 * @status:	the new status
 *
 * Return: true to answer OK.
 */
static bool dev_set_status(VduseDev *dev, uint8_t status)
{
    uint8_t old = dev->status;

    g_debug("%s: status 0x%02x -> 0x%02x", dev->name, old, status);
    if (status == 0) {
        dev->status = 0; /* what the model's reset() sees */
        dev_reset(dev);
        return true;
    }

    if ((status & VDUSE_S_FEATURES_OK) && !(old & VDUSE_S_FEATURES_OK)) {
        uint64_t features;

        if (ioctl(dev->fd, VDUSE_DEV_GET_FEATURES, &features) < 0) {
            g_message("%s: VDUSE_DEV_GET_FEATURES: %s", dev->name,
                      g_strerror(errno));
            return false;
        }
        if (features & VDUSE_BIT(VDUSE_F_RING_PACKED)) {
            g_message("%s: driver chose packed rings, which we never offer",
                      dev->name);
            return false;
        }
        if (dev->ops.features_ok &&
            !dev->ops.features_ok(dev, features, dev->opaque))
            return false;
        dev->features = features;
    }

    if ((status & VDUSE_S_DRIVER_OK) && !(old & VDUSE_S_DRIVER_OK)) {
        dev->status = status;
        for (uint32_t i = 0; i < dev->vq_num; i++)
            dev_vq_start(dev, i);
        if (dev->ops.driver_ok)
            dev->ops.driver_ok(dev, dev->opaque);
    } else if (!(status & VDUSE_S_DRIVER_OK) && (old & VDUSE_S_DRIVER_OK)) {
        /* DRIVER_OK taken back without a reset (FAILED, NEEDS_RESET). */
        dev_quiesce(dev);
        for (uint32_t i = 0; i < dev->vq_num; i++)
            dev_vq_stop(dev, i);
    }
    dev->status = status;
    return true;
}

/**
 * dev_set_vq_ready() - handle VDUSE_SET_VQ_READY
 * @dev:	the device
 * @index:	queue index, unchecked
 * @ready:	the new ready bit
 *
 * Return: true to answer OK.
 */
static bool dev_set_vq_ready(VduseDev *dev, uint32_t index, bool ready)
{
    if (index >= dev->vq_num) {
        g_message("%s: SET_VQ_READY for queue %u of %u", dev->name, index,
                  dev->vq_num);
        return false;
    }
    dev->vq_ready[index] = ready;
    if (!(dev->status & VDUSE_S_DRIVER_OK))
        return true;

    if (ready && dev->kickfd[index] < 0) {
        if (dev_vq_start(dev, index) && dev->ops.vq_ready)
            dev->ops.vq_ready(dev, index, true, dev->opaque);
    } else if (!ready && dev->kickfd[index] >= 0) {
        if (dev->ops.vq_ready)
            dev->ops.vq_ready(dev, index, false, dev->opaque);
        dev_vq_stop(dev, index);
    }
    return true;
}

/**
 * dev_set_group_asid() - handle VDUSE_SET_VQ_GROUP_ASID
 * @dev:	the device
 * @group:	group index, unchecked
 * @asid:	address space, unchecked
 *
 * Return: true to answer OK.
 */
static bool dev_set_group_asid(VduseDev *dev, uint32_t group, uint32_t asid)
{
    if (group >= dev->ngroups || asid >= dev->nas) {
        g_message("%s: SET_VQ_GROUP_ASID group %u asid %u out of range",
                  dev->name, group, asid);
        return false;
    }
    dev_quiesce(dev);
    dev->group_asid[group] = asid;
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        if (dev->vq_group[i] == group)
            vduse_vq_set_asid(dev->vqs[i], asid);
    }
    dev_resume(dev);
    return true;
}

/**
 * dev_update_iotlb() - handle VDUSE_UPDATE_IOTLB
 * @dev:	the device
 * @asid:	address space, unchecked
 * @start:	first IOVA
 * @last:	last IOVA
 *
 * Return: true to answer OK.
 */
static bool dev_update_iotlb(VduseDev *dev, uint32_t asid, uint64_t start,
                             uint64_t last)
{
    if (asid >= dev->nas || last < start) {
        g_message("%s: UPDATE_IOTLB asid %u [0x%" G_GINT64_MODIFIER
                  "x, 0x%" G_GINT64_MODIFIER "x] invalid",
                  dev->name, asid, start, last);
        return false;
    }
    dev_quiesce(dev);
    vduse_iotlb_invalidate(dev->iotlb, asid, start, last);
    dev_resume(dev);
    return true;
}

/**
 * dev_get_vq_state() - handle VDUSE_GET_VQ_STATE
 * @dev:	the device
 * @req:	the request
 * @resp:	filled with the state
 *
 * A running queue answers the next index it will consume; a stopped one
 * answers what the driver last set, so a state round-trips unchanged.
 * Return: true to answer OK.
 */
static bool dev_get_vq_state(VduseDev *dev, const struct vduse_dev_request *req,
                             struct vduse_dev_response *resp)
{
    uint32_t i = req->vq_state.index;
    struct vduse_vq_info info = {.index = i};

    if (i >= dev->vq_num) {
        g_message("%s: GET_VQ_STATE for queue %u of %u", dev->name, i,
                  dev->vq_num);
        return false;
    }
    resp->vq_state.index = i;
    if (dev->kickfd[i] >= 0) {
        resp->vq_state.split.avail_index = vduse_vq_last_avail(dev->vqs[i]);
        return true;
    }
    if (ioctl(dev->fd, VDUSE_VQ_GET_INFO, &info) < 0)
        return false;
    resp->vq_state.packed = info.packed;
    return true;
}

/**
 * dev_handle_request() - answer one message from the kernel
 * @dev:	the device
 * @req:	the message
 */
static void dev_handle_request(VduseDev *dev,
                               const struct vduse_dev_request *req)
{
    struct vduse_dev_response resp = {.request_id = req->request_id};
    bool ok;

    g_debug("%s: message %u: type %u", dev->name, req->request_id, req->type);
    switch (req->type) {
    case VDUSE_GET_VQ_STATE:
        ok = dev_get_vq_state(dev, req, &resp);
        break;
    case VDUSE_SET_STATUS:
        ok = dev_set_status(dev, req->s.status);
        break;
    case VDUSE_UPDATE_IOTLB:
        if (dev->api_version >= VDUSE_API_VERSION_1)
            ok = dev_update_iotlb(dev, req->iova_v2.asid, req->iova_v2.start,
                                  req->iova_v2.last);
        else
            ok = dev_update_iotlb(dev, 0, req->iova.start, req->iova.last);
        break;
    case VDUSE_SET_VQ_GROUP_ASID:
        ok = dev_set_group_asid(dev, req->vq_group_asid.group,
                                req->vq_group_asid.asid);
        break;
    case VDUSE_SET_VQ_READY:
        ok = dev_set_vq_ready(dev, req->vq_ready.num, req->vq_ready.ready);
        break;
    case VDUSE_SUSPEND:
        dev_quiesce(dev);
        dev->suspended = true;
        ok = true;
        break;
    default:
        g_message("%s: unknown VDUSE message type %u", dev->name, req->type);
        ok = false;
        break;
    }

    resp.result = ok ? VDUSE_REQ_RESULT_OK : VDUSE_REQ_RESULT_FAILED;
    if (write(dev->fd, &resp, sizeof(resp)) != sizeof(resp))
        g_message("%s: cannot answer message %u: %s", dev->name,
                  req->request_id, g_strerror(errno));
}

/**
 * dev_on_message() - the device fd is readable: answer what is queued
 * @fd:		the device fd
 * @cond:	what poll saw
 * @opaque:	the device
 *
 * Return: G_SOURCE_CONTINUE, or G_SOURCE_REMOVE once the fd failed.
 */
static gboolean dev_on_message(int fd, GIOCondition cond, gpointer opaque)
{
    VduseDev *dev = opaque;

    for (int n = 0; n < DEV_MSG_BURST; n++) {
        struct vduse_dev_request req;
        ssize_t len = read(fd, &req, sizeof(req));

        if (len == sizeof(req)) {
            dev_handle_request(dev, &req);
            continue;
        }
        if (len < 0 && (errno == EAGAIN || errno == EINTR))
            return G_SOURCE_CONTINUE;
        g_message("%s: reading VDUSE messages: %s", dev->name,
                  len < 0 ? g_strerror(errno) : "short read");
        dev->broken = true;
        g_clear_pointer(&dev->source, g_source_unref);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/**
 * dev_setup_vqs() - VDUSE_VQ_SETUP for every queue of a new device
 * @dev:	the device
 * @max_size:	maximum queue size
 * @error:	set on failure
 *
 * Return: true on success.
 */
static bool dev_setup_vqs(VduseDev *dev, uint16_t max_size, GError **error)
{
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        struct vduse_vq_config vc = {
            .index = i,
            .max_size = max_size,
            .group =
                dev->api_version >= VDUSE_API_VERSION_1 ? dev->vq_group[i] : 0,
        };

        if (ioctl(dev->fd, VDUSE_VQ_SETUP, &vc) < 0) {
            int err = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                        "VDUSE_VQ_SETUP of queue %u: %s", i, g_strerror(err));
            return false;
        }
    }
    return true;
}

VduseDev *vduse_dev_open(const VduseDevConfig *cfg, bool setup_vqs,
                         uint64_t api_version, uint64_t vduse_features,
                         const VduseDevOps *ops, void *opaque,
                         GMainContext *ctx, GError **error)
{
    g_autofree char *path = g_strdup_printf("/dev/vduse/%s", cfg->name);
    VduseDev *dev;
    bool v1 = api_version >= VDUSE_API_VERSION_1;

    if (cfg->vq_num == 0 || (v1 && (cfg->ngroups == 0 || cfg->nas == 0))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: a device needs queues, groups and address spaces",
                    cfg->name);
        return NULL;
    }

    dev = g_new0(VduseDev, 1);
    dev->name = g_strdup(cfg->name);
    dev->api_version = api_version;
    dev->vduse_features = vduse_features;
    dev->vq_num = cfg->vq_num;
    dev->ngroups = v1 ? cfg->ngroups : 1;
    dev->nas = v1 ? cfg->nas : 1;
    dev->vq_group = g_new0(uint32_t, dev->vq_num);
    for (uint32_t i = 0; i < dev->vq_num && cfg->vq_group && v1; i++)
        dev->vq_group[i] = MIN(cfg->vq_group[i], dev->ngroups - 1);
    dev->group_asid = g_new0(uint32_t, dev->ngroups);
    dev->kickfd = g_new(int, dev->vq_num);
    dev->vq_ready = g_new0(bool, dev->vq_num);
    dev->vqs = g_new0(VduseVq *, dev->vq_num);
    dev->iotlb = vduse_iotlb_new(dev->nas, dev_iotlb_miss, dev);
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        dev->kickfd[i] = -1;
        dev->vqs[i] = vduse_vq_new(i, dev->iotlb);
    }
    if (ops)
        dev->ops = *ops;
    dev->opaque = opaque;

    dev->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (dev->fd < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "cannot open %s: %s", path, g_strerror(err));
        vduse_dev_close(dev);
        return NULL;
    }
    if (setup_vqs && !dev_setup_vqs(dev, cfg->vq_max_size, error)) {
        vduse_dev_close(dev);
        return NULL;
    }

    dev->source = g_unix_fd_source_new(dev->fd, G_IO_IN);
    g_source_set_callback(dev->source, G_SOURCE_FUNC(dev_on_message), dev,
                          NULL);
    g_source_set_name(dev->source, "vduse-messages");
    g_source_attach(dev->source, ctx);
    return dev;
}

void vduse_dev_close(VduseDev *dev)
{
    if (!dev)
        return;
    if (dev->source) {
        g_source_destroy(dev->source);
        g_source_unref(dev->source);
    }
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        if (dev->kickfd[i] >= 0)
            close(dev->kickfd[i]);
        vduse_vq_free(dev->vqs[i]);
    }
    vduse_iotlb_free(dev->iotlb);
    if (dev->fd >= 0)
        close(dev->fd);
    g_free(dev->vqs);
    g_free(dev->vq_ready);
    g_free(dev->kickfd);
    g_free(dev->group_asid);
    g_free(dev->vq_group);
    g_free(dev->name);
    g_free(dev);
}

const char *vduse_dev_name(const VduseDev *dev)
{
    return dev->name;
}

uint8_t vduse_dev_status(const VduseDev *dev)
{
    return dev->status;
}

uint64_t vduse_dev_features(const VduseDev *dev)
{
    return dev->features;
}

bool vduse_dev_is_broken(const VduseDev *dev)
{
    return dev->broken;
}

bool vduse_dev_is_suspended(const VduseDev *dev)
{
    return dev->suspended;
}

VduseVq *vduse_dev_vq(VduseDev *dev, uint32_t index)
{
    return index < dev->vq_num ? dev->vqs[index] : NULL;
}

int vduse_dev_vq_kickfd(VduseDev *dev, uint32_t index)
{
    return index < dev->vq_num ? dev->kickfd[index] : -1;
}

bool vduse_dev_vq_is_started(VduseDev *dev, uint32_t index)
{
    return index < dev->vq_num && dev->kickfd[index] >= 0;
}

int vduse_dev_vq_notify(VduseDev *dev, uint32_t index)
{
    if (index >= dev->vq_num)
        return -EINVAL;
    if (ioctl(dev->fd, VDUSE_VQ_INJECT_IRQ, &index) < 0)
        return -errno;
    return 0;
}

int vduse_dev_set_config(VduseDev *dev, uint32_t offset, const void *buf,
                         uint32_t len, bool notify)
{
    g_autofree struct vduse_config_data *cd = g_malloc0(sizeof(*cd) + len);

    cd->offset = offset;
    cd->length = len;
    memcpy(cd->buffer, buf, len);
    if (ioctl(dev->fd, VDUSE_DEV_SET_CONFIG, cd) < 0)
        return -errno;
    if (notify && ioctl(dev->fd, VDUSE_DEV_INJECT_CONFIG_IRQ) < 0)
        return -errno;
    return 0;
}

VduseIotlb *vduse_dev_iotlb(VduseDev *dev)
{
    return dev->iotlb;
}

bool vduse_dev_get_vq_state(VduseDev *dev, uint32_t index, VduseVqState *out)
{
    if (index >= dev->vq_num) {
        return false;
    }
    *out = (VduseVqState){
        .ready = dev->vq_ready[index],
        .started = dev->kickfd[index] >= 0,
        .group = dev->vq_group[index],
        .asid = dev->group_asid[dev->vq_group[index]],
    };
    if (out->started) {
        out->size = vduse_vq_size(dev->vqs[index]);
        out->avail_index = vduse_vq_last_avail(dev->vqs[index]);
        out->used_index = vduse_vq_used_idx(dev->vqs[index]);
    }
    return true;
}

uint32_t vduse_dev_group_asid(const VduseDev *dev, uint32_t group)
{
    return group < dev->ngroups ? dev->group_asid[group] : 0;
}

uint32_t vduse_dev_ngroups(const VduseDev *dev)
{
    return dev->ngroups;
}

void vduse_dev_suspend(VduseDev *dev)
{
    dev_quiesce(dev);
    dev->suspended = true;
}

bool vduse_dev_adopt(VduseDev *dev, uint8_t status, const uint32_t *group_asid,
                     uint32_t ngroups, GError **error)
{
    uint64_t features = 0;

    g_return_val_if_fail(dev->status == 0, false);
    if (ngroups != dev->ngroups) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: %u queue groups saved, the device has %u", dev->name,
                    ngroups, dev->ngroups);
        return false;
    }
    for (uint32_t g = 0; g < ngroups; g++) {
        if (group_asid[g] >= dev->nas) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "%s: group %u in ASID %u of %u", dev->name, g,
                        group_asid[g], dev->nas);
            return false;
        }
    }
    if ((status & VDUSE_S_FEATURES_OK) &&
        ioctl(dev->fd, VDUSE_DEV_GET_FEATURES, &features) < 0) {
        int err = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "%s: VDUSE_DEV_GET_FEATURES: %s", dev->name,
                    g_strerror(err));
        return false;
    }
    if ((status & VDUSE_S_FEATURES_OK) && dev->ops.features_ok &&
        !dev->ops.features_ok(dev, features, dev->opaque)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: the driver's features 0x%" G_GINT64_MODIFIER
                    "x cannot be served",
                    dev->name, (guint64)features);
        return false;
    }
    dev->features = features;
    for (uint32_t g = 0; g < ngroups; g++) {
        dev->group_asid[g] = group_asid[g];
    }
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        vduse_vq_set_asid(dev->vqs[i], dev->group_asid[dev->vq_group[i]]);
    }
    dev->status = status;
    if (!(status & VDUSE_S_DRIVER_OK)) {
        return true;
    }
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        if (dev_vq_start(dev, i)) {
            vduse_vq_restart_from_used(dev->vqs[i]);
            g_debug("%s: vq %u: adopted at used index %u", dev->name, i,
                    vduse_vq_used_idx(dev->vqs[i]));
        }
    }
    if (dev->ops.driver_ok) {
        dev->ops.driver_ok(dev, dev->opaque);
    }
    return true;
}
