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
 *  - UPDATE_IOTLB: quiesce the started queues of that ASID, drop the cached
 *    mappings of its range (they are refilled lazily by VDUSE_IOTLB_GET_FD2
 *    on the next miss), resume them.
 *  - SET_VQ_GROUP_ASID: quiesce the group's started queues, re-point them,
 *    resume them.
 *  - SUSPEND: quiesce every started queue and stay so until reset.
 *  - SET_STATUS 0: reset: the model stops, queues stop, IOTLB is emptied.
 * A quiesce names its scope (struct VduseVqSet), so that an IOTLB update in
 * the control queue's address space does not stop the data queues.
 * Every index the kernel hands us is checked against what we declared.
 *
 * The kernel is reached through a table of three calls (device-kernel.h):
 * the system calls, or a test's own kernel.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "device-kernel.h"
#include "vduse-abi.h"
#include "vduse.h"

/* Messages handled per wake-up, so a flood cannot starve the main loop. */
#define DEV_MSG_BURST 64

/**
 * struct VduseDev - a device we serve
 * @name:		device name
 * @fd:			/dev/vduse/@name, non-blocking
 * @kops:		how the kernel is reached through @fd
 * @kopaque:		passed to @kops
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
 * @scope:		room for the indices of one quiesce's scope (@vq_num)
 * @used_log:		where packed queues record their used position (@vq_num
 *			entries, a shared file), or NULL
 * @adopting:		queues start inside vduse_dev_adopt()
 */
struct VduseDev {
    char *name;
    int fd;
    const VduseKernelOps *kops;
    void *kopaque;
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
    uint32_t *scope;
    VduseVqUsedLog *used_log;
    bool adopting;
};

/**
 * sys_ioctl() - ioctl(2) with the errno returned
 * @opaque:	unused
 * @fd:		the device fd
 * @request:	the ioctl
 * @arg:	its argument
 *
 * Return: what ioctl() returned, or negative errno.
 */
static int sys_ioctl(void *opaque, int fd, unsigned long request, void *arg)
{
    int ret = ioctl(fd, request, arg);

    return ret < 0 ? -errno : ret;
}

/**
 * sys_read_msg() - read(2) with the errno returned
 * @opaque:	unused
 * @fd:		the device fd
 * @req:	where the message goes
 * @len:	room in @req
 *
 * Return: bytes read, or negative errno.
 */
static ssize_t sys_read_msg(void *opaque, int fd, void *req, size_t len)
{
    ssize_t ret = read(fd, req, len);

    return ret < 0 ? -errno : ret;
}

/**
 * sys_write_msg() - write(2) with the errno returned
 * @opaque:	unused
 * @fd:		the device fd
 * @resp:	the answer
 * @len:	its size
 *
 * Return: bytes written, or negative errno.
 */
static ssize_t sys_write_msg(void *opaque, int fd, const void *resp, size_t len)
{
    ssize_t ret = write(fd, resp, len);

    return ret < 0 ? -errno : ret;
}

const VduseKernelOps vduse_kernel_sys = {
    .ioctl = sys_ioctl,
    .read_msg = sys_read_msg,
    .write_msg = sys_write_msg,
};

/**
 * dev_ioctl() - an ioctl on the device fd, through the kernel table
 * @dev:	the device
 * @request:	the ioctl
 * @arg:	its argument
 *
 * Return: what the ioctl returned, or negative errno.
 */
static int dev_ioctl(VduseDev *dev, unsigned long request, void *arg)
{
    return dev->kops->ioctl(dev->kopaque, dev->fd, request, arg);
}

bool vduse_vq_set_has(const VduseVqSet *set, uint32_t index)
{
    uint32_t lo = 0, hi = set->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (set->index[mid] == index)
            return true;
        if (set->index[mid] < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

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
        fd = dev_ioctl(dev, VDUSE_IOTLB_GET_FD2, &entry);
    } else {
        struct vduse_iotlb_entry v0 = {.start = iova, .last = iova};

        if (asid != 0)
            return -EINVAL;
        fd = dev_ioctl(dev, VDUSE_IOTLB_GET_FD, &v0);
        entry.offset = v0.offset;
        entry.start = v0.start;
        entry.last = v0.last;
        entry.perm = v0.perm;
    }
    if (fd < 0)
        return fd;
    /* VDUSE_ACCESS_RO/WO are the device's read/write, as ours. */
    ret = vduse_iotlb_map_fd(
        iotlb, asid, entry.start, entry.last,
        entry.perm & (VDUSE_IOTLB_READ | VDUSE_IOTLB_WRITE), fd, entry.offset);
    close(fd);
    return ret;
}

/* What a quiesce is about; see dev_scope(). */
typedef enum DevScopeKind {
    DEV_SCOPE_ALL,   /* every started queue */
    DEV_SCOPE_ASID,  /* the started queues whose group is in an ASID */
    DEV_SCOPE_GROUP, /* the started queues of a group */
    DEV_SCOPE_VQ,    /* one queue, if started */
} DevScopeKind;

/**
 * dev_scope() - the started queues a change touches
 * @dev:	the device
 * @kind:	what the change is about
 * @which:	the ASID, group or queue index @kind names (unused for ALL)
 *
 * A queue that is not started touches no guest memory and needs no
 * quiesce. The indices go to @dev->scope, valid until the next call.
 * Return: the set, in ascending order.
 */
static VduseVqSet dev_scope(VduseDev *dev, DevScopeKind kind, uint32_t which)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < dev->vq_num; i++) {
        uint32_t group = dev->vq_group[i];
        bool in;

        if (dev->kickfd[i] < 0)
            continue;
        switch (kind) {
        case DEV_SCOPE_ASID:
            in = dev->group_asid[group] == which;
            break;
        case DEV_SCOPE_GROUP:
            in = group == which;
            break;
        case DEV_SCOPE_VQ:
            in = i == which;
            break;
        default:
            in = true;
            break;
        }
        if (in)
            dev->scope[n++] = i;
    }
    return (VduseVqSet){.n = n, .index = n ? dev->scope : NULL};
}

/**
 * dev_quiesce() - ask the model to stop the queues in @vqs
 * @dev:	the device
 * @vqs:	the scope, from dev_scope()
 *
 * A suspended device is quiesced already, and stays so; an empty scope
 * needs nobody to stop.
 */
static void dev_quiesce(VduseDev *dev, const VduseVqSet *vqs)
{
    if (!dev->suspended && vqs->n && dev->ops.quiesce)
        dev->ops.quiesce(dev, vqs, dev->opaque);
}

/**
 * dev_resume() - undo dev_quiesce() with the same scope
 * @dev:	the device
 * @vqs:	the scope given to dev_quiesce()
 */
static void dev_resume(VduseDev *dev, const VduseVqSet *vqs)
{
    if (!dev->suspended && vqs->n && dev->ops.resume)
        dev->ops.resume(dev, vqs, dev->opaque);
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
        dev_ioctl(dev, VDUSE_VQ_SETUP_KICKFD, &efd);
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
    bool packed = dev->features & VDUSE_BIT(VDUSE_F_RING_PACKED);
    uint32_t asid = dev->group_asid[dev->vq_group[i]];
    bool started;
    int fd, ret;

    ret = dev_ioctl(dev, VDUSE_VQ_GET_INFO, &info);
    if (ret < 0) {
        g_message("%s: vq %u: VDUSE_VQ_GET_INFO: %s", dev->name, i,
                  g_strerror(-ret));
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

    if (packed) {
        /* Counters in bit 15, as vhost's VRING_BASE has them. */
        uint16_t avail =
            (uint16_t)(info.packed.last_avail_idx |
                       (info.packed.last_avail_counter ? 0x8000 : 0));
        uint16_t used =
            (uint16_t)(info.packed.last_used_idx |
                       (info.packed.last_used_counter ? 0x8000 : 0));

        started = vduse_vq_start_packed(
            dev->vqs[i], asid, info.num, info.desc_addr, info.driver_addr,
            info.device_addr, avail, used, event_idx, &err);
    } else {
        started = vduse_vq_start(dev->vqs[i], asid, info.num, info.desc_addr,
                                 info.driver_addr, info.device_addr,
                                 info.split.avail_index, event_idx, &err);
    }
    if (!started) {
        /* The kernel could not hand out the ring: it has no file behind
         * the driver's memory (a VMM's anonymous or private RAM). */
        bool unmapped = !vduse_iotlb_ptr(dev->iotlb, asid, info.desc_addr, 1,
                                         VDUSE_IOTLB_READ) ||
                        !vduse_iotlb_ptr(dev->iotlb, asid, info.driver_addr, 1,
                                         VDUSE_IOTLB_READ) ||
                        !vduse_iotlb_ptr(dev->iotlb, asid, info.device_addr, 1,
                                         VDUSE_IOTLB_READ);

        g_message("%s: vq %u not started: %s%s", dev->name, i, err->message,
                  unmapped ? " (the kernel maps no file there: a VMM's guest "
                             "memory must be shared and file-backed, with "
                             "QEMU -object memory-backend-memfd,id=mem0,"
                             "size=...,share=on -machine memory-backend=mem0)"
                           : "");
        return false;
    }

    fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        g_message("%s: vq %u: eventfd: %s", dev->name, i, g_strerror(errno));
        vduse_vq_stop(dev->vqs[i]);
        return false;
    }
    efd.fd = fd;
    ret = dev_ioctl(dev, VDUSE_VQ_SETUP_KICKFD, &efd);
    if (ret < 0) {
        g_message("%s: vq %u: VDUSE_VQ_SETUP_KICKFD: %s", dev->name, i,
                  g_strerror(-ret));
        close(fd);
        vduse_vq_stop(dev->vqs[i]);
        return false;
    }
    dev->kickfd[i] = fd;
    /* A take-over reads the dead process's log before it writes its own. */
    if (dev->used_log && !dev->adopting) {
        vduse_vq_set_used_log(dev->vqs[i], &dev->used_log[i]);
    }
    g_debug("%s: vq %u: started %s, size %u, ASID %u, avail %s0x%04x",
            dev->name, i, packed ? "packed" : "split", info.num, asid,
            packed ? "position " : "index ", vduse_vq_last_avail(dev->vqs[i]));
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
        int ret = dev_ioctl(dev, VDUSE_DEV_GET_FEATURES, &features);

        if (ret < 0) {
            g_message("%s: VDUSE_DEV_GET_FEATURES: %s", dev->name,
                      g_strerror(-ret));
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
        /* DRIVER_OK taken back without a reset (FAILED, NEEDS_RESET):
         * quiesced until the reset, which the model's reset() ends. */
        VduseVqSet all = dev_scope(dev, DEV_SCOPE_ALL, 0);

        dev_quiesce(dev, &all);
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
    VduseVqSet vqs;

    if (group >= dev->ngroups || asid >= dev->nas) {
        g_message("%s: SET_VQ_GROUP_ASID group %u asid %u out of range",
                  dev->name, group, asid);
        return false;
    }
    if (dev->group_asid[group] == asid)
        return true; /* nothing moves: nobody stops */
    vqs = dev_scope(dev, DEV_SCOPE_GROUP, group);
    dev_quiesce(dev, &vqs);
    dev->group_asid[group] = asid;
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        if (dev->vq_group[i] == group)
            vduse_vq_set_asid(dev->vqs[i], asid);
    }
    dev_resume(dev, &vqs);
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
    VduseVqSet vqs;

    if (asid >= dev->nas || last < start) {
        g_message("%s: UPDATE_IOTLB asid %u [0x%" G_GINT64_MODIFIER
                  "x, 0x%" G_GINT64_MODIFIER "x] invalid",
                  dev->name, asid, start, last);
        return false;
    }
    vqs = dev_scope(dev, DEV_SCOPE_ASID, asid);
    dev_quiesce(dev, &vqs);
    vduse_iotlb_invalidate(dev->iotlb, asid, start, last);
    dev_resume(dev, &vqs);
    return true;
}

/**
 * dev_get_vq_state() - handle VDUSE_GET_VQ_STATE
 * @dev:	the device
 * @req:	the request
 * @resp:	filled with the state
 *
 * A running queue answers the next index it will consume, read while that
 * queue alone is quiesced (its user may have popped ahead and gives back
 * what it did not use when it pauses); a stopped one answers what the
 * driver last set, so a state round-trips unchanged.
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
        VduseVqSet vqs = dev_scope(dev, DEV_SCOPE_VQ, i);

        dev_quiesce(dev, &vqs);
        if (vduse_vq_is_packed(dev->vqs[i])) {
            uint16_t avail = vduse_vq_last_avail(dev->vqs[i]);
            uint16_t used = vduse_vq_used_idx(dev->vqs[i]);

            resp->vq_state.packed = (struct vduse_vq_state_packed){
                .last_avail_counter = avail >> 15,
                .last_avail_idx = avail & 0x7fff,
                .last_used_counter = used >> 15,
                .last_used_idx = used & 0x7fff,
            };
        } else {
            resp->vq_state.split.avail_index = vduse_vq_last_avail(dev->vqs[i]);
        }
        g_debug("%s: vq %u: state asked: avail 0x%04x, used 0x%04x%s",
                dev->name, i, vduse_vq_last_avail(dev->vqs[i]),
                vduse_vq_used_idx(dev->vqs[i]),
                dev->suspended ? " (suspended)" : "");
        dev_resume(dev, &vqs);
        return true;
    }
    if (dev_ioctl(dev, VDUSE_VQ_GET_INFO, &info) < 0)
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
    ssize_t len;
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
        vduse_dev_suspend(dev);
        ok = true;
        break;
    default:
        g_message("%s: unknown VDUSE message type %u", dev->name, req->type);
        ok = false;
        break;
    }

    resp.result = ok ? VDUSE_REQ_RESULT_OK : VDUSE_REQ_RESULT_FAILED;
    len = dev->kops->write_msg(dev->kopaque, dev->fd, &resp, sizeof(resp));
    if (len != sizeof(resp))
        g_message("%s: cannot answer message %u: %s", dev->name,
                  req->request_id,
                  len < 0 ? g_strerror((int)-len) : "short write");
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
        ssize_t len = dev->kops->read_msg(dev->kopaque, fd, &req, sizeof(req));

        if (len == sizeof(req)) {
            dev_handle_request(dev, &req);
            continue;
        }
        if ((len == -EAGAIN || len == -EINTR) && !(cond & G_IO_ERR))
            return G_SOURCE_CONTINUE;
        /* POLLERR with nothing to read: the kernel gave up waiting for an
         * answer (vduse_dev_broken()); it stays so until destroyed. */
        if (len == -EAGAIN || len == -EINTR) {
            g_message("%s: the kernel marked the device broken (a request "
                      "went unanswered for longer than "
                      "/sys/class/vduse/%s/msg_timeout)",
                      dev->name, dev->name);
        } else {
            g_message("%s: reading VDUSE messages: %s", dev->name,
                      len < 0 ? g_strerror((int)-len) : "short read");
        }
        dev->broken = true;
        g_clear_pointer(&dev->source, g_source_unref);
        if (dev->ops.broken)
            dev->ops.broken(dev, dev->opaque);
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

        int ret = dev_ioctl(dev, VDUSE_VQ_SETUP, &vc);

        if (ret < 0) {
            int err = -ret;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                        "VDUSE_VQ_SETUP of queue %u: %s", i, g_strerror(err));
            return false;
        }
    }
    return true;
}

VduseDev *vduse_dev_open_kernel(const VduseDevConfig *cfg, bool setup_vqs,
                                uint64_t api_version, uint64_t vduse_features,
                                const VduseDevOps *ops, void *opaque,
                                GMainContext *ctx, int fd,
                                const VduseKernelOps *kops, void *kopaque,
                                GError **error)
{
    VduseDev *dev;
    bool v1 = api_version >= VDUSE_API_VERSION_1;

    if (cfg->vq_num == 0 || (v1 && (cfg->ngroups == 0 || cfg->nas == 0))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: a device needs queues, groups and address spaces",
                    cfg->name);
        close(fd);
        return NULL;
    }

    dev = g_new0(VduseDev, 1);
    dev->fd = fd;
    dev->kops = kops;
    dev->kopaque = kopaque;
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
    dev->scope = g_new0(uint32_t, dev->vq_num);
    dev->iotlb = vduse_iotlb_new(dev->nas, dev_iotlb_miss, dev);
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        dev->kickfd[i] = -1;
        dev->vqs[i] = vduse_vq_new(i, dev->iotlb);
    }
    if (ops)
        dev->ops = *ops;
    dev->opaque = opaque;

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

/**
 * fd_marked_broken() - whether the kernel marked the device of @fd broken
 * (it then polls POLLERR for good)
 * @fd:		an open device fd
 *
 * Return: true if so.
 */
static bool fd_marked_broken(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR);
}

bool vduse_dev_name_is_broken(const char *name)
{
    g_autofree char *path = g_strdup_printf("/dev/vduse/%s", name);
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    bool broken;

    if (fd < 0)
        return false;
    broken = fd_marked_broken(fd);
    close(fd);
    return broken;
}

VduseDev *vduse_dev_open(const VduseDevConfig *cfg, bool setup_vqs,
                         uint64_t api_version, uint64_t vduse_features,
                         const VduseDevOps *ops, void *opaque,
                         GMainContext *ctx, GError **error)
{
    g_autofree char *path = g_strdup_printf("/dev/vduse/%s", cfg->name);
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        int err = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "cannot open %s: %s", path, g_strerror(err));
        return NULL;
    }
    return vduse_dev_open_kernel(cfg, setup_vqs, api_version, vduse_features,
                                 ops, opaque, ctx, fd, &vduse_kernel_sys, NULL,
                                 error);
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
    g_free(dev->scope);
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
    int ret;

    if (index >= dev->vq_num)
        return -EINVAL;
    ret = dev_ioctl(dev, VDUSE_VQ_INJECT_IRQ, &index);
    return ret < 0 ? ret : 0;
}

int vduse_dev_set_config(VduseDev *dev, uint32_t offset, const void *buf,
                         uint32_t len, bool notify)
{
    g_autofree struct vduse_config_data *cd = g_malloc0(sizeof(*cd) + len);
    int ret;

    cd->offset = offset;
    cd->length = len;
    memcpy(cd->buffer, buf, len);
    ret = dev_ioctl(dev, VDUSE_DEV_SET_CONFIG, cd);
    if (ret < 0)
        return ret;
    if (notify) {
        ret = dev_ioctl(dev, VDUSE_DEV_INJECT_CONFIG_IRQ, NULL);
        if (ret < 0)
            return ret;
    }
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
    VduseVqSet all = dev_scope(dev, DEV_SCOPE_ALL, 0);

    dev_quiesce(dev, &all);
    dev->suspended = true;
}

/**
 * dev_vq_adopt() - serve a started queue from where the dead process left it
 * @dev:	the device, in vduse_dev_adopt()
 * @i:		a started queue
 *
 * A split queue's used index is in the ring. A packed queue's used
 * position is only in the used log the dead process kept; without one the
 * queue is not served (writing used descriptors at a guessed slot would
 * corrupt the driver's ring).
 * Return: true if the queue is served.
 */
static bool dev_vq_adopt(VduseDev *dev, uint32_t i)
{
    VduseVq *vq = dev->vqs[i];

    if (vduse_vq_is_packed(vq)) {
        if (!dev->used_log) {
            g_message("%s: vq %u: a packed queue cannot be taken over "
                      "without the used log of the process that served it",
                      dev->name, i);
            return false;
        }
        if (!vduse_vq_restore_used(vq, &dev->used_log[i])) {
            return false;
        }
        vduse_vq_set_used_log(vq, &dev->used_log[i]);
    } else {
        vduse_vq_restart_from_used(vq);
        if (dev->used_log) {
            vduse_vq_set_used_log(vq, &dev->used_log[i]);
        }
    }
    g_debug("%s: vq %u: adopted at used %s 0x%04x", dev->name, i,
            vduse_vq_is_packed(vq) ? "position" : "index",
            vduse_vq_used_idx(vq));
    return true;
}

void vduse_dev_set_used_log(VduseDev *dev, VduseVqUsedLog *log)
{
    dev->used_log = log;
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        vduse_vq_set_used_log(dev->vqs[i], log ? &log[i] : NULL);
    }
}

bool vduse_dev_adopt(VduseDev *dev, uint8_t status, const uint32_t *group_asid,
                     uint32_t ngroups, GError **error)
{
    uint64_t features = 0;
    int ret = 0;

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
    if (status & VDUSE_S_FEATURES_OK)
        ret = dev_ioctl(dev, VDUSE_DEV_GET_FEATURES, &features);
    if (ret < 0) {
        int err = -ret;

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
    dev->adopting = true;
    for (uint32_t i = 0; i < dev->vq_num; i++) {
        if (dev_vq_start(dev, i) && !dev_vq_adopt(dev, i)) {
            dev_vq_stop(dev, i);
        }
    }
    dev->adopting = false;
    if (dev->ops.driver_ok) {
        dev->ops.driver_ok(dev, dev->opaque);
    }
    return true;
}
