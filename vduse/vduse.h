/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vduse.h - libvduse: a VDUSE device in userspace, knowing nothing of
 * networking
 *
 * The one public header of vduse/. Three parts:
 *  - the control device (/dev/vduse/control): API version, VDUSE features,
 *    creating and destroying devices;
 *  - a device (/dev/vduse/$NAME): its virtqueues, its per-ASID IOTLB and the
 *    message loop that answers the kernel, run in a GMainContext;
 *  - the vDPA bus: attaching the device with the "vdpa" generic-netlink
 *    family and binding it to virtio_vdpa or vhost_vdpa.
 * The IOTLB and the virtqueue engine are declared in virtq.h, included here.
 *
 * Errors are GErrors in the G_IO_ERROR domain, built from the errno the
 * kernel gave (G_IO_ERROR_EXISTS for a name in use, and so on).
 */
#ifndef VDUSE_NET_VDUSE_H
#define VDUSE_NET_VDUSE_H

#include <gio/gio.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

/* virtio device status bits (virtio 1.2, 2.1). */
#define VDUSE_S_ACKNOWLEDGE 1
#define VDUSE_S_DRIVER 2
#define VDUSE_S_DRIVER_OK 4
#define VDUSE_S_FEATURES_OK 8
#define VDUSE_S_NEEDS_RESET 64
#define VDUSE_S_FAILED 128

/* Transport feature bits every VDUSE device deals with. */
#define VDUSE_F_RING_INDIRECT_DESC 28
#define VDUSE_F_RING_EVENT_IDX 29
#define VDUSE_F_VERSION_1 32
#define VDUSE_F_ACCESS_PLATFORM 33
#define VDUSE_F_RING_PACKED 34

#define VDUSE_BIT(b) (UINT64_C(1) << (b))

/* ------------------------------------------------------------------ */
/* The control device                                                  */

typedef struct VduseControl VduseControl;

/**
 * vduse_control_open() - open /dev/vduse/control and negotiate with it
 * @error:	set on failure (G_IO_ERROR_NOT_FOUND: no such device, i.e.
 *		the vduse module is not loaded; G_IO_ERROR_PERMISSION_DENIED)
 *
 * Chooses API version 1 (groups and address spaces) when the kernel offers
 * it, else 0; on 7.3+ enables VDUSE_F_QUEUE_READY and VDUSE_F_SUSPEND.
 * Return: the control handle, owned by the caller, or NULL.
 */
VduseControl *vduse_control_open(GError **error);

/* vduse_control_close() - close @ctl (NULL is fine). */
void vduse_control_close(VduseControl *ctl);

/* vduse_control_api_version() - the API version in use: 0 or 1. */
uint64_t vduse_control_api_version(const VduseControl *ctl);

/* vduse_control_features() - VDUSE_F_* bits enabled (0 before 7.3). */
uint64_t vduse_control_features(const VduseControl *ctl);

/**
 * struct VduseDevConfig - what a new device looks like
 * @name:	device name, also /dev/vduse/@name and the vDPA device name
 * @device_id:	virtio device id (1: net)
 * @vendor_id:	virtio vendor id
 * @features:	device features offered; must include VERSION_1 and
 *		ACCESS_PLATFORM
 * @vq_num:	number of virtqueues
 * @vq_max_size: maximum size of every virtqueue (power of two)
 * @vq_group:	group of each virtqueue, @vq_num entries, or NULL for all 0
 * @ngroups:	number of virtqueue groups (API 1; ignored with API 0)
 * @nas:	number of address spaces (API 1; ignored with API 0)
 * @config:	initial device config space
 * @config_size: its size in bytes
 */
typedef struct VduseDevConfig {
    const char *name;
    uint32_t device_id;
    uint32_t vendor_id;
    uint64_t features;
    uint32_t vq_num;
    uint16_t vq_max_size;
    const uint32_t *vq_group;
    uint32_t ngroups;
    uint32_t nas;
    const void *config;
    uint32_t config_size;
} VduseDevConfig;

/**
 * vduse_control_create_dev() - VDUSE_CREATE_DEV
 * @ctl:	the control handle
 * @cfg:	the device
 * @error:	set on failure; G_IO_ERROR_EXISTS if the name is taken,
 *		G_IO_ERROR_INVALID_ARGUMENT if the kernel refused the config
 *
 * Return: true once /dev/vduse/@cfg->name exists.
 */
bool vduse_control_create_dev(VduseControl *ctl, const VduseDevConfig *cfg,
                              GError **error);

/**
 * vduse_control_destroy_dev() - VDUSE_DESTROY_DEV
 *
 * Fails with G_IO_ERROR_BUSY while the device is on the vDPA bus or open.
 * Return: true if the device is gone.
 */
bool vduse_control_destroy_dev(VduseControl *ctl, const char *name,
                               GError **error);

/**
 * vduse_control_remove_dev() - take down device @name that another process
 * left (--replace)
 * @ctl:	the control handle
 * @name:	the device
 * @error:	set on failure (G_IO_ERROR_BUSY: another process serves it)
 *
 * Serves the old device's messages while it leaves the vDPA bus, then
 * destroys it; runs in a main context of its own and returns when done.
 * Return: true if the device is gone.
 */
bool vduse_control_remove_dev(VduseControl *ctl, const char *name,
                              GError **error);

/* ------------------------------------------------------------------ */
/* A device                                                            */

typedef struct VduseDev VduseDev;

/**
 * struct VduseVqSet - a set of a device's virtqueues
 * @n:		how many queues are in it
 * @index:	their indices, ascending, no duplicates, each below the
 *		device's number of queues; NULL when @n is 0
 *
 * The scope of a quiesce: the queues that must stop touching guest memory.
 * Valid only during the callback it is given to; copy what you keep.
 */
typedef struct VduseVqSet {
    uint32_t n;
    const uint32_t *index;
} VduseVqSet;

/**
 * vduse_vq_set_has() - whether queue @index is in @set
 * @set:	the set
 * @index:	a queue index
 *
 * Return: true if @index is one of @set's queues (binary search).
 */
bool vduse_vq_set_has(const VduseVqSet *set, uint32_t index);

/**
 * struct VduseDevOps - what the device model is told; all run in the
 * device's main context
 * @features_ok:	the driver set FEATURES_OK with @features; return false
 *			to refuse (the kernel then fails the status change)
 * @driver_ok:		DRIVER_OK: the ready queues are started
 * @quiesce:		the queues in @vqs must stop touching guest memory
 *			and their rings; return only when every dataplane
 *			user of them has stopped (a short handshake)
 * @resume:		the queues in @vqs may go on: undoes the last
 *			@quiesce, with the same set
 * @vq_ready:		after DRIVER_OK, queue @index was started (@ready) or
 *			stopped by VDUSE_SET_VQ_READY
 * @reset:		the driver reset the device: stop every user of the
 *			queues; when it returns the queues are stopped and the
 *			IOTLB is emptied
 * @broken:		the kernel stopped talking to us (it marked the device
 *			broken after an unanswered request, or the fd failed):
 *			no message comes any more; only destroying the device
 *			ends that. Called once.
 *
 * The scope of a quiesce is what the message touches, among the queues
 * that are started (a stopped queue touches nothing):
 *  - UPDATE_IOTLB of ASID a: the queues whose group is in ASID a;
 *  - SET_VQ_GROUP_ASID of group g (to another ASID): the queues of group g;
 *  - GET_VQ_STATE of a started queue: that queue, so that its index is
 *    exact;
 *  - SUSPEND (or vduse_dev_suspend()) and DRIVER_OK taken back: all.
 * An empty scope calls nothing. Each @quiesce is followed by a @resume with
 * the same set before the message is answered, except for SUSPEND and
 * DRIVER_OK taken back: those stay quiesced until @reset, and while the
 * device is suspended no further quiesce is asked for.
 */
typedef struct VduseDevOps {
    bool (*features_ok)(VduseDev *dev, uint64_t features, void *opaque);
    void (*driver_ok)(VduseDev *dev, void *opaque);
    void (*quiesce)(VduseDev *dev, const VduseVqSet *vqs, void *opaque);
    void (*resume)(VduseDev *dev, const VduseVqSet *vqs, void *opaque);
    void (*vq_ready)(VduseDev *dev, uint32_t index, bool ready, void *opaque);
    void (*reset)(VduseDev *dev, void *opaque);
    void (*broken)(VduseDev *dev, void *opaque);
} VduseDevOps;

/**
 * vduse_dev_open() - open /dev/vduse/@cfg->name and serve it
 * @cfg:	the device as created; @cfg->config may be NULL
 * @setup_vqs:	send VDUSE_VQ_SETUP for every queue (a new device); false
 *		to adopt a device that is already set up (restart, --replace)
 * @api_version: the control device's API version
 * @vduse_features: the control device's VDUSE_F_* bits
 * @ops:	callbacks, copied; every member may be NULL
 * @opaque:	passed to @ops
 * @ctx:	main context to attach the message source to (NULL: default)
 * @error:	set on failure (G_IO_ERROR_BUSY: somebody else serves it)
 *
 * Return: the device, owned by the caller (vduse_dev_close()), or NULL.
 */
VduseDev *vduse_dev_open(const VduseDevConfig *cfg, bool setup_vqs,
                         uint64_t api_version, uint64_t vduse_features,
                         const VduseDevOps *ops, void *opaque,
                         GMainContext *ctx, GError **error);

/**
 * vduse_dev_name_is_broken() - whether /dev/vduse/@name exists, nobody
 * serves it, and the kernel marked it broken (a request it sent went
 * unanswered past msg_timeout: only destroying it helps)
 * @name:	device name
 *
 * Return: true if so; false also when it cannot be opened.
 */
bool vduse_dev_name_is_broken(const char *name);

/**
 * vduse_dev_close() - stop serving and close the device fd
 *
 * The device itself lives on in the kernel until destroyed. NULL is fine.
 */
void vduse_dev_close(VduseDev *dev);

/* vduse_dev_name() - the device name, owned by @dev. */
const char *vduse_dev_name(const VduseDev *dev);

/* vduse_dev_status() - the last status the driver set. */
uint8_t vduse_dev_status(const VduseDev *dev);

/* vduse_dev_features() - the negotiated features (valid after FEATURES_OK). */
uint64_t vduse_dev_features(const VduseDev *dev);

/* vduse_dev_is_broken() - whether the kernel stopped talking to us. */
bool vduse_dev_is_broken(const VduseDev *dev);

/* vduse_dev_is_suspended() - whether the kernel suspended the device. */
bool vduse_dev_is_suspended(const VduseDev *dev);

/**
 * vduse_dev_suspend() - quiesce as on the kernel's SUSPEND message
 * @dev:	the device
 *
 * For kernels without VDUSE_F_SUSPEND: the model stops touching guest
 * memory and stays so until the driver resets the device. Afterwards the
 * queue indices are final.
 */
void vduse_dev_suspend(VduseDev *dev);

/**
 * struct VduseVqState - one queue as the device sees it
 * @ready:	the driver enabled it
 * @started:	it is being served
 * @group:	its queue group
 * @asid:	its group's address space
 * @size:	queue size (0 if not started)
 * @avail_index: the next available index the device will consume
 * @used_index:	the used index published to the driver
 */
typedef struct VduseVqState {
    bool ready;
    bool started;
    uint32_t group;
    uint32_t asid;
    uint32_t size;
    uint16_t avail_index;
    uint16_t used_index;
} VduseVqState;

/**
 * vduse_dev_get_vq_state() - the state of queue @index
 * Return: false if @index is out of range.
 */
bool vduse_dev_get_vq_state(VduseDev *dev, uint32_t index, VduseVqState *out);

/* vduse_dev_ngroups() - the number of queue groups. */
uint32_t vduse_dev_ngroups(const VduseDev *dev);

/* vduse_dev_group_asid() - the address space of queue group @group. */
uint32_t vduse_dev_group_asid(const VduseDev *dev, uint32_t group);

/**
 * vduse_dev_set_used_log() - where packed queues record their used position
 * @dev:	the device
 * @log:	@dev's queue count of entries, zeroed or as a dead process left
 *		them; NULL to stop. Must outlive its use (until
 *		vduse_dev_close() or another call).
 *
 * A packed ring does not say where the device writes its next used
 * descriptor, so taking over a packed queue (vduse_dev_adopt()) needs the
 * log the dead process kept, in a shared file mapping that outlives it.
 * Set it before vduse_dev_adopt(), which reads it before writing to it.
 */
void vduse_dev_set_used_log(VduseDev *dev, VduseVqUsedLog *log);

/**
 * vduse_dev_adopt() - take over a device a dead process served
 * @dev:	opened with setup_vqs false, no message handled yet
 * @status:	the driver status that process last saw
 * @group_asid:	the address space of each group, as that process saw them
 * @ngroups:	number of entries in @group_asid
 * @error:	set on failure
 *
 * The kernel keeps the driver's state (features, rings, mappings) and the
 * messages that were not answered; it cannot tell us the status or the
 * groups' address spaces, hence the arguments. With FEATURES_OK the
 * negotiated features are read back and offered to ops.features_ok(); with
 * DRIVER_OK every ready queue starts again from its used index (the device
 * is in order: what was popped and not completed is served again; a packed
 * queue's used position comes from the used log, vduse_dev_set_used_log(),
 * and without one the queue is not served) and ops.driver_ok() is called.
 * Return: true on success.
 */
bool vduse_dev_adopt(VduseDev *dev, uint8_t status, const uint32_t *group_asid,
                     uint32_t ngroups, GError **error);

/**
 * vduse_dev_vq() - the virtqueue @index, owned by @dev
 *
 * Return: NULL for an index out of range.
 */
VduseVq *vduse_dev_vq(VduseDev *dev, uint32_t index);

/**
 * vduse_dev_vq_kickfd() - the eventfd the kernel signals on a kick of @index
 *
 * Valid while the queue is started (after driver_ok). Owned by @dev.
 * Return: the fd, or -1.
 */
int vduse_dev_vq_kickfd(VduseDev *dev, uint32_t index);

/* vduse_dev_vq_is_started() - whether @index was ready at DRIVER_OK. */
bool vduse_dev_vq_is_started(VduseDev *dev, uint32_t index);

/**
 * vduse_dev_vq_notify() - interrupt the driver for virtqueue @index
 *
 * Safe from any thread. Return: 0 or negative errno.
 */
int vduse_dev_vq_notify(VduseDev *dev, uint32_t index);

/**
 * vduse_dev_set_config() - change @len bytes of config space at @offset
 * @notify:	also send a config-change interrupt
 *
 * Return: 0 or negative errno.
 */
int vduse_dev_set_config(VduseDev *dev, uint32_t offset, const void *buf,
                         uint32_t len, bool notify);

/* vduse_dev_iotlb() - the device's IOTLB, owned by @dev. */
VduseIotlb *vduse_dev_iotlb(VduseDev *dev);

/* ------------------------------------------------------------------ */
/* The vDPA bus                                                        */

/* Which driver a device on the vDPA bus binds to. */
typedef enum VdpaBusDriver {
    VDPA_BUS_NONE,   /* the kernel's default (autoprobe) */
    VDPA_BUS_VIRTIO, /* virtio_vdpa: a kernel netdev on this host */
    VDPA_BUS_VHOST,  /* vhost_vdpa: /dev/vhost-vdpa-N for a VMM */
} VdpaBusDriver;

/**
 * vdpa_bus_add() - attach VDUSE device @name to the vDPA bus
 * @name:	VDUSE device name
 * @driver:	which driver must bind first (VDPA_BUS_NONE: leave it to the
 *		kernel's autoprobe)
 * @error:	set on failure (G_IO_ERROR_NOT_SUPPORTED: no "vdpa" netlink
 *		family, i.e. the vdpa module is not loaded)
 *
 * Blocks while the kernel probes the driver, which talks to the device:
 * never call it from the thread that serves the device's messages.
 * Return: true on success.
 */
bool vdpa_bus_add(const char *name, VdpaBusDriver driver, GError **error);

/**
 * vdpa_bus_del() - detach vDPA device @name (VDPA_CMD_DEV_DEL)
 *
 * Same blocking rule as vdpa_bus_add(). A device not on the bus is not an
 * error. Return: true on success.
 */
bool vdpa_bus_del(const char *name, GError **error);

/**
 * vdpa_bus_add_async() - vdpa_bus_add() in a worker thread
 * @name:	VDUSE device name; copied
 * @driver:	which driver must bind first
 * @done:	called in the caller's thread-default main context when it
 *		finished; it calls vdpa_bus_finish()
 * @data:	passed to @done
 *
 * For the thread that serves the device: it goes on answering the driver
 * while the driver probes.
 */
void vdpa_bus_add_async(const char *name, VdpaBusDriver driver,
                        GAsyncReadyCallback done, gpointer data);

/* vdpa_bus_del_async() - vdpa_bus_del() in a worker thread, likewise. */
void vdpa_bus_del_async(const char *name, GAsyncReadyCallback done,
                        gpointer data);

/**
 * vdpa_bus_finish() - the outcome of vdpa_bus_add_async() or
 * vdpa_bus_del_async()
 * @res:	what @done was given
 * @error:	set on failure
 * Return: true on success.
 */
bool vdpa_bus_finish(GAsyncResult *res, GError **error);

/* vdpa_bus_has() - whether vDPA device @name is on the bus. */
bool vdpa_bus_has(const char *name);

/**
 * vdpa_bus_describe() - what the bound driver made of device @name
 *
 * Return: a newly allocated string: the netdev name (virtio_vdpa), the
 * /dev/vhost-vdpa-N path (vhost_vdpa), or NULL if neither exists yet.
 */
char *vdpa_bus_describe(const char *name);

#endif /* VDUSE_NET_VDUSE_H */
