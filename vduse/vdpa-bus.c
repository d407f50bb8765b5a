/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vdpa-bus.c - put a VDUSE device on the vDPA bus and bind its driver
 *
 * The "vdpa" generic-netlink family adds and removes vDPA devices; sysfs
 * chooses the driver. To make sure a device binds to the driver the user
 * asked for and never to the other one first, autoprobe is switched off
 * around the add and the driver is bound by hand through driver_override.
 *
 * VDPA_CMD_DEV_NEW and VDPA_CMD_DEV_DEL return only once the driver probed
 * or removed the device, and the driver talks to the device meanwhile: the
 * caller runs these from a thread that does not serve the device.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <gio/gio.h>
#include <linux/vdpa.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "vduse.h"

#define VDPA_SYSFS "/sys/bus/vdpa"

/**
 * vdpa_send() - send one vdpa generic-netlink command and wait for its ack
 * @cmd:	VDPA_CMD_*
 * @name:	the vDPA device name
 * @error:	set on failure
 *
 * Return: 0 on success, else a negative libnl error code with @error set.
 */
static int vdpa_send(uint8_t cmd, const char *name, GError **error)
{
    struct nl_sock *sk = nl_socket_alloc();
    struct nl_msg *msg = NULL;
    int family, ret;

    if (!sk) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "cannot allocate a netlink socket");
        return -NLE_NOMEM;
    }
    ret = genl_connect(sk);
    if (ret < 0) {
        netlink_set_error(error, ret, "generic netlink");
        goto out;
    }
    family = genl_ctrl_resolve(sk, VDPA_GENL_NAME);
    if (family < 0) {
        ret = family;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "no \"vdpa\" generic netlink family (modprobe vdpa): %s",
                    nl_geterror(ret));
        goto out;
    }
    msg = nlmsg_alloc();
    if (!msg ||
        !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_ACK, cmd,
                     VDPA_GENL_VERSION) ||
        nla_put_string(msg, VDPA_ATTR_DEV_NAME, name) < 0 ||
        (cmd == VDPA_CMD_DEV_NEW &&
         nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, "vduse") < 0)) {
        ret = -NLE_NOMEM;
        netlink_set_error(error, ret, "building a vdpa netlink message");
        goto out;
    }
    ret = nl_send_sync(sk, msg); /* frees msg */
    msg = NULL;
    if (ret < 0)
        netlink_set_error(error, ret, "%s",
                          cmd == VDPA_CMD_DEV_NEW ? "vdpa dev add"
                                                  : "vdpa dev del");
out:
    nlmsg_free(msg);
    nl_socket_free(sk);
    return ret;
}

/**
 * sysfs_write() - write @value to the sysfs file @path
 * @path:	the file
 * @value:	what to write
 * @error:	set on failure
 *
 * Return: true on success.
 */
static bool sysfs_write(const char *path, const char *value, GError **error)
{
    FILE *f = fopen(path, "we");
    int err = 0;

    if (!f) {
        err = errno;
    } else {
        if (fputs(value, f) < 0)
            err = errno;
        if (fclose(f) != 0 && !err)
            err = errno;
    }
    if (err) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "writing \"%s\" to %s: %s", value, path, g_strerror(err));
        return false;
    }
    return true;
}

/**
 * bus_driver_name() - the kernel driver for @driver
 * @driver:	VDPA_BUS_VIRTIO or VDPA_BUS_VHOST
 *
 * Return: a static string.
 */
static const char *bus_driver_name(VdpaBusDriver driver)
{
    return driver == VDPA_BUS_VHOST ? "vhost_vdpa" : "virtio_vdpa";
}

/**
 * autoprobe_lock() - serialise the autoprobe dance between processes
 *
 * drivers_autoprobe is one switch for the whole host: two vduse-net
 * starting at once could each read the other's "0" and leave it off for
 * good. A lock file in /run (or the temporary directory) orders them.
 * Return: the locked fd (close() unlocks), or -1 if no lock could be had
 * (then we go on unlocked, as before).
 */
static int autoprobe_lock(void)
{
    const char *dirs[] = {"/run/lock", "/run", g_get_tmp_dir()};

    for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *path =
            g_build_filename(dirs[i], "vduse-net-vdpa-bus.lock", NULL);
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
            continue;
        while (flock(fd, LOCK_EX) < 0) {
            if (errno != EINTR) {
                close(fd);
                return -1;
            }
        }
        return fd;
    }
    return -1;
}

bool vdpa_bus_add(const char *name, VdpaBusDriver driver, GError **error)
{
    g_autofree char *autoprobe = NULL;
    g_autofree char *override = NULL;
    g_autofree char *bind = NULL;
    int lock;
    bool ok;

    if (driver == VDPA_BUS_NONE)
        return vdpa_send(VDPA_CMD_DEV_NEW, name, error) >= 0;

    lock = autoprobe_lock();
    ok = g_file_get_contents(VDPA_SYSFS "/drivers_autoprobe", &autoprobe, NULL,
                             error);
    if (ok) {
        g_strstrip(autoprobe);
        ok = sysfs_write(VDPA_SYSFS "/drivers_autoprobe", "0", error);
    }
    if (ok) {
        ok = vdpa_send(VDPA_CMD_DEV_NEW, name, error) >= 0;
        /* Put autoprobe back whatever happened: the host's setting. */
        sysfs_write(VDPA_SYSFS "/drivers_autoprobe", autoprobe, NULL);
    }
    if (lock >= 0)
        close(lock);
    if (!ok)
        return false;

    override = g_strdup_printf(VDPA_SYSFS "/devices/%s/driver_override", name);
    bind =
        g_strdup_printf(VDPA_SYSFS "/drivers/%s/bind", bus_driver_name(driver));
    if (!sysfs_write(override, bus_driver_name(driver), error) ||
        !sysfs_write(bind, name, error)) {
        g_prefix_error(error, "binding %s to %s: ", name,
                       bus_driver_name(driver));
        vdpa_send(VDPA_CMD_DEV_DEL, name, NULL);
        return false;
    }
    return true;
}

bool vdpa_bus_del(const char *name, GError **error)
{
    if (!vdpa_bus_has(name))
        return true;
    return vdpa_send(VDPA_CMD_DEV_DEL, name, error) >= 0;
}

bool vdpa_bus_has(const char *name)
{
    g_autofree char *path = g_strdup_printf(VDPA_SYSFS "/devices/%s", name);

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

/**
 * first_entry_with_prefix() - the first entry of @dir whose name starts
 * with @prefix
 * @dir:	a directory
 * @prefix:	the name prefix
 *
 * Return: a newly allocated name, or NULL.
 */
static char *first_entry_with_prefix(const char *dir, const char *prefix)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *entry;

    if (!d)
        return NULL;
    while ((entry = g_dir_read_name(d))) {
        if (g_str_has_prefix(entry, prefix))
            return g_strdup(entry);
    }
    return NULL;
}

char *vdpa_bus_describe(const char *name)
{
    g_autofree char *dir = g_strdup_printf(VDPA_SYSFS "/devices/%s", name);
    g_autofree char *vhost = first_entry_with_prefix(dir, "vhost-vdpa-");
    g_autofree char *virtio = NULL;
    g_autofree char *netdir = NULL;

    if (vhost)
        return g_strdup_printf("/dev/%s", vhost);
    virtio = first_entry_with_prefix(dir, "virtio");
    if (!virtio)
        return NULL;
    netdir = g_strdup_printf("%s/%s/net", dir, virtio);
    return first_entry_with_prefix(netdir, "");
}

/**
 * struct BusJob - a vDPA bus operation for a worker thread
 * @name:	device name
 * @driver:	driver to bind, for an add
 * @add:	true to add, false to delete
 */
typedef struct BusJob {
    char *name;
    VdpaBusDriver driver;
    bool add;
} BusJob;

/* bus_job_free() - free a BusJob. */
static void bus_job_free(gpointer data)
{
    BusJob *job = data;

    g_free(job->name);
    g_free(job);
}

/**
 * bus_thread() - run a vDPA bus add or del off the calling thread
 * @task:	the task
 * @source:	unused
 * @data:	the BusJob
 * @cancel:	unused
 */
static void bus_thread(GTask *task, gpointer source, gpointer data,
                       GCancellable *cancel)
{
    BusJob *job = data;
    GError *error = NULL;
    bool ok = job->add ? vdpa_bus_add(job->name, job->driver, &error)
                       : vdpa_bus_del(job->name, &error);

    if (ok)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

/**
 * bus_start() - start a bus operation in a worker thread
 * @job:	the operation; owned by the task from now
 * @done:	called in the thread-default main context of the caller
 * @data:	passed to @done
 */
static void bus_start(BusJob *job, GAsyncReadyCallback done, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, done, data);

    g_task_set_task_data(task, job, bus_job_free);
    g_task_run_in_thread(task, bus_thread);
}

void vdpa_bus_add_async(const char *name, VdpaBusDriver driver,
                        GAsyncReadyCallback done, gpointer data)
{
    BusJob *job = g_new(BusJob, 1);

    *job = (BusJob){.name = g_strdup(name), .driver = driver, .add = true};
    bus_start(job, done, data);
}

void vdpa_bus_del_async(const char *name, GAsyncReadyCallback done,
                        gpointer data)
{
    BusJob *job = g_new(BusJob, 1);

    *job = (BusJob){.name = g_strdup(name), .add = false};
    bus_start(job, done, data);
}

bool vdpa_bus_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_boolean(G_TASK(res), error);
}
