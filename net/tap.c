/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap.c - TAP devices: open, attach, check
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net-priv.h"

/**
 * tap_set_vnet_hdr_size() - make @fd carry a 12-byte virtio-net v1 header
 * @fd:		TAP queue fd
 * @error:	set on failure
 *
 * Return: true on success.
 */
static bool tap_set_vnet_hdr_size(int fd, GError **error)
{
    int size = sizeof(struct virtio_net_hdr_v1);

    if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "TUNSETVNETHDRSZ: %s", g_strerror(errno));
        return false;
    }
    return true;
}

bool tap_open(const char *ifname, unsigned int queues, int *fds, GError **error)
{
    struct ifreq ifr = {0};
    unsigned int i;

    if (strlen(ifname) == 0 || strlen(ifname) >= IFNAMSIZ) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "invalid TAP name '%s' (1 to %d characters)", ifname,
                    IFNAMSIZ - 1);
        return false;
    }
    for (i = 0; i < queues; i++) {
        int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        int err;

        if (fd < 0) {
            err = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                        "cannot open /dev/net/tun: %s", g_strerror(err));
            goto fail;
        }
        memset(&ifr, 0, sizeof(ifr));
        g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        if (queues > 1) {
            ifr.ifr_flags |= IFF_MULTI_QUEUE;
        }
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
            err = errno;
            close(fd);
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                        "cannot attach TAP %s: %s%s", ifname, g_strerror(err),
                        err == EINVAL ? " (it exists with other flags, or "
                                        "is not a TAP)"
                                      : "");
            goto fail;
        }
        fds[i] = fd;
        if (!tap_set_vnet_hdr_size(fd, error)) {
            i++;
            goto fail;
        }
    }
    return true;

fail:
    while (i-- > 0) {
        close(fds[i]);
        fds[i] = -1;
    }
    return false;
}

bool tap_check_fd(int fd, GError **error)
{
    struct ifreq ifr = {0};

    if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "fd %d is not a TAP device: %s", fd, g_strerror(errno));
        return false;
    }
    if (!(ifr.ifr_flags & IFF_TAP) || !(ifr.ifr_flags & IFF_VNET_HDR) ||
        !(ifr.ifr_flags & IFF_NO_PI)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "fd %d (%s) must be a TAP opened with "
                    "IFF_TAP|IFF_NO_PI|IFF_VNET_HDR",
                    fd, ifr.ifr_name);
        return false;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "fd %d: %s", fd, g_strerror(errno));
        return false;
    }
    return tap_set_vnet_hdr_size(fd, error);
}

bool tap_supports_uso(int fd)
{
    bool ok =
        ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6) == 0;

    ioctl(fd, TUNSETOFFLOAD, 0);
    return ok;
}

char *tap_fd_ifname(int fd)
{
    struct ifreq ifr = {0};

    if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
        return NULL;
    }
    return g_strndup(ifr.ifr_name, IFNAMSIZ);
}

int tap_set_queue_enabled(int fd, bool enabled)
{
    struct ifreq ifr = {0};

    ifr.ifr_flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
    return ioctl(fd, TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}

bool tap_get_speed(int fd, uint32_t *speed, uint8_t *duplex)
{
    g_autofree char *ifname = tap_fd_ifname(fd);
    struct ethtool_cmd cmd = {.cmd = ETHTOOL_GSET};
    struct ifreq ifr = {0};
    int sock;
    bool ok;

    if (!ifname) {
        return false;
    }
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return false;
    }
    g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
    ifr.ifr_data = (void *)&cmd;
    ok = ioctl(sock, SIOCETHTOOL, &ifr) == 0;
    close(sock);
    if (ok) {
        *speed = ethtool_cmd_speed(&cmd);
        *duplex = cmd.duplex;
    }
    return ok;
}
