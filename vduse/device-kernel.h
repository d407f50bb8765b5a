/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * device-kernel.h - the kernel side of a VDUSE device, as device.c sees it
 *
 * Internal to vduse/ and its unit tests; not part of libvduse's interface.
 *
 * DOC: Why this seam exists
 *
 * device.c talks to the kernel through three calls on /dev/vduse/$NAME:
 * ioctl(), read() of one message and write() of one answer. Behind this
 * table they are the system calls (vduse_kernel_sys); a unit test puts a
 * kernel of its own there, which follows the uAPI's rules, and so drives
 * the message loop, the quiesce protocol and the IOTLB in process.
 */
#ifndef VDUSE_NET_DEVICE_KERNEL_H
#define VDUSE_NET_DEVICE_KERNEL_H

#include <sys/types.h>

#include "vduse.h"

/**
 * struct VduseKernelOps - how a device reaches the kernel
 * @ioctl:	ioctl(@fd, @request, @arg); return what the ioctl returns
 *		(an fd for VDUSE_IOTLB_GET_FD2), or negative errno. Called
 *		from any thread: dataplane threads resolve IOTLB misses.
 * @read_msg:	read one message from @fd into @req (non-blocking); return
 *		its size, or negative errno (-EAGAIN: none is pending)
 * @write_msg:	write one answer to @fd; return the bytes written, or
 *		negative errno
 */
typedef struct VduseKernelOps {
    int (*ioctl)(void *opaque, int fd, unsigned long request, void *arg);
    ssize_t (*read_msg)(void *opaque, int fd, void *req, size_t len);
    ssize_t (*write_msg)(void *opaque, int fd, const void *resp, size_t len);
} VduseKernelOps;

/* The system calls: what vduse_dev_open() uses. */
extern const VduseKernelOps vduse_kernel_sys;

/**
 * vduse_dev_open_kernel() - serve a device through @kops
 * @cfg:	as for vduse_dev_open()
 * @setup_vqs:	as for vduse_dev_open()
 * @api_version: as for vduse_dev_open()
 * @vduse_features: as for vduse_dev_open()
 * @ops:	as for vduse_dev_open()
 * @opaque:	as for vduse_dev_open()
 * @ctx:	as for vduse_dev_open()
 * @fd:		the device fd, polled for G_IO_IN (messages pending); owned
 *		from now on, even on failure
 * @kops:	how to reach the kernel; not copied, must outlive the device
 * @kopaque:	passed to @kops
 * @error:	set on failure
 *
 * Return: the device, or NULL.
 */
VduseDev *vduse_dev_open_kernel(const VduseDevConfig *cfg, bool setup_vqs,
                                uint64_t api_version, uint64_t vduse_features,
                                const VduseDevOps *ops, void *opaque,
                                GMainContext *ctx, int fd,
                                const VduseKernelOps *kops, void *kopaque,
                                GError **error);

#endif /* VDUSE_NET_DEVICE_KERNEL_H */
