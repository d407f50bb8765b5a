/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * takeover.c - remove a device of our name that someone else left
 *
 * A device left by a process that is gone may still be on the vDPA bus
 * with a driver bound to it. Taking it off the bus makes that driver talk
 * to the device (reset, status) and wait for answers, so the device is
 * served while VDPA_CMD_DEV_DEL runs in a worker thread; then it is
 * destroyed. All of it runs in a main context of its own, so that nothing
 * else of the program (signals, the management socket) runs meanwhile
 * against a program that has no device yet.
 */
#include "config.h"

#include <gio/gio.h>

#include "vduse.h"

/**
 * count_vqs() - how many virtqueues an existing device has, from sysfs
 * @name:	device name
 *
 * Return: the number of vqN entries under /sys/class/vduse/@name, or 0.
 */
static uint32_t count_vqs(const char *name)
{
    g_autofree char *path = g_strdup_printf("/sys/class/vduse/%s", name);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *entry;
    uint32_t n = 0;

    while (dir && (entry = g_dir_read_name(dir)))
        n += g_str_has_prefix(entry, "vq");
    return n;
}

/**
 * struct RemoveWait - the outcome of taking the device off the bus
 * @done:	the worker finished
 * @error:	why it failed, or NULL
 */
typedef struct RemoveWait {
    bool done;
    GError *error;
} RemoveWait;

/* remove_bus_done() - the device left the bus (or failed to). */
static void remove_bus_done(GObject *source, GAsyncResult *res, gpointer data)
{
    RemoveWait *wait = data;

    vdpa_bus_finish(res, &wait->error);
    wait->done = true;
}

bool vduse_control_remove_dev(VduseControl *ctl, const char *name,
                              GError **error)
{
    VduseDevConfig cfg = {
        .name = name,
        .vq_num = count_vqs(name),
        /* The most any device may have: we only answer its messages. */
        .ngroups = 64,
        .nas = 64,
    };
    GMainContext *ctx;
    RemoveWait wait = {0};
    VduseDev *old;

    if (cfg.vq_num == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "cannot read the queues of the existing device %s from "
                    "/sys/class/vduse",
                    name);
        return false;
    }
    ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    old = vduse_dev_open(&cfg, false, vduse_control_api_version(ctl),
                         vduse_control_features(ctl), NULL, NULL, ctx, error);
    if (!old) {
        g_prefix_error(error, "cannot take over %s: ", name);
        goto out;
    }
    vdpa_bus_del_async(name, remove_bus_done, &wait);
    while (!wait.done)
        g_main_context_iteration(ctx, TRUE);
    vduse_dev_close(old);
    if (wait.error) {
        g_propagate_prefixed_error(error, wait.error,
                                   "cannot take %s off the vDPA bus: ", name);
        goto out;
    }
    if (!vduse_control_destroy_dev(ctl, name, error))
        goto out;
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    return true;

out:
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    return false;
}
