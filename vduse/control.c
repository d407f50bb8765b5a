/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.c - /dev/vduse/control: API version, VDUSE features, create and
 * destroy devices
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vduse-abi.h"
#include "vduse.h"

#define VDUSE_CONTROL_PATH "/dev/vduse/control"

/**
 * struct VduseControl - an open control device
 * @fd:			/dev/vduse/control
 * @api_version:	negotiated API version
 * @features:		VDUSE_F_* bits enabled on @fd
 */
struct VduseControl {
    int fd;
    uint64_t api_version;
    uint64_t features;
};

/**
 * control_negotiate() - pick the API version and the VDUSE features
 * @ctl:	the control device, @fd open
 * @error:	set on failure
 *
 * Kernels before 6.x do not know VDUSE_GET_API_VERSION's version 1, and
 * kernels before 7.3 do not know VDUSE_GET_FEATURES (ENOTTY or EINVAL):
 * both are fine, we use what the kernel has.
 * Return: true on success.
 */
static bool control_negotiate(VduseControl *ctl, GError **error)
{
    uint64_t version = 0;
    uint64_t features = 0;

    if (ioctl(ctl->fd, VDUSE_GET_API_VERSION, &version) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "VDUSE_GET_API_VERSION: %s", g_strerror(err));
        return false;
    }
    ctl->api_version = MIN(version, (uint64_t)VDUSE_API_VERSION_1);
    if (ioctl(ctl->fd, VDUSE_SET_API_VERSION, &ctl->api_version) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "VDUSE_SET_API_VERSION %" G_GUINT64_FORMAT ": %s",
                    ctl->api_version, g_strerror(err));
        return false;
    }

    if (ioctl(ctl->fd, VDUSE_GET_FEATURES, &features) < 0)
        return true; /* before 7.3: no VDUSE features at all */
    features &= VDUSE_BIT(VDUSE_F_QUEUE_READY) | VDUSE_BIT(VDUSE_F_SUSPEND);
    if (features && ioctl(ctl->fd, VDUSE_SET_FEATURES, &features) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "VDUSE_SET_FEATURES 0x%" G_GINT64_MODIFIER "x: %s",
                    features, g_strerror(err));
        return false;
    }
    ctl->features = features;
    return true;
}

VduseControl *vduse_control_open(GError **error)
{
    g_autofree VduseControl *ctl = g_new0(VduseControl, 1);

    ctl->fd = open(VDUSE_CONTROL_PATH, O_RDWR | O_CLOEXEC);
    if (ctl->fd < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "cannot open %s: %s", VDUSE_CONTROL_PATH, g_strerror(err));
        return NULL;
    }
    if (!control_negotiate(ctl, error)) {
        close(ctl->fd);
        return NULL;
    }
    return g_steal_pointer(&ctl);
}

void vduse_control_close(VduseControl *ctl)
{
    if (!ctl)
        return;
    close(ctl->fd);
    g_free(ctl);
}

uint64_t vduse_control_api_version(const VduseControl *ctl)
{
    return ctl->api_version;
}

uint64_t vduse_control_features(const VduseControl *ctl)
{
    return ctl->features;
}

bool vduse_control_create_dev(VduseControl *ctl, const VduseDevConfig *cfg,
                              GError **error)
{
    size_t size = sizeof(struct vduse_dev_config) + cfg->config_size;
    g_autofree struct vduse_dev_config *dc = g_malloc0(size);

    if (strlen(cfg->name) >= VDUSE_NAME_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "device name longer than %d bytes", VDUSE_NAME_MAX - 1);
        return false;
    }
    g_strlcpy(dc->name, cfg->name, sizeof(dc->name));
    dc->vendor_id = cfg->vendor_id;
    dc->device_id = cfg->device_id;
    dc->features = cfg->features;
    dc->vq_num = cfg->vq_num;
    dc->vq_align = 4096;
    if (ctl->api_version >= VDUSE_API_VERSION_1) {
        dc->ngroups = cfg->ngroups;
        dc->nas = cfg->nas;
    }
    dc->config_size = cfg->config_size;
    memcpy(dc->config, cfg->config, cfg->config_size);

    if (ioctl(ctl->fd, VDUSE_CREATE_DEV, dc) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "cannot create VDUSE device %s: %s", cfg->name,
                    g_strerror(err));
        return false;
    }
    return true;
}

bool vduse_control_destroy_dev(VduseControl *ctl, const char *name,
                               GError **error)
{
    char buf[VDUSE_NAME_MAX] = {0};

    g_strlcpy(buf, name, sizeof(buf));
    if (ioctl(ctl->fd, VDUSE_DESTROY_DEV, buf) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "cannot destroy VDUSE device %s: %s", name,
                    g_strerror(err));
        return false;
    }
    return true;
}
