/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.c - virtio-net identity: MAC addresses and offered features
 */
#include "config.h"

#include <gio/gio.h>
#include <linux/virtio_net.h>
#include <stdio.h>

#include "net.h"
#include "util.h"

bool net_parse_mac(const char *text, uint8_t mac[6], GError **error)
{
    if (!mac_parse(text, mac)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "invalid MAC address '%s' (want xx:xx:xx:xx:xx:xx)", text);
        return false;
    }
    if (mac[0] & 1) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "MAC address '%s' is a multicast address", text);
        return false;
    }
    if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "MAC address '%s' is all zero", text);
        return false;
    }
    return true;
}

bool net_name_is_valid(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > 63 || name[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isalnum(name[i]) && !strchr("._-", name[i])) {
            return false;
        }
    }
    return true;
}

void net_default_mac(const char *name, uint8_t mac[6])
{
    guint hash = g_str_hash(name);

    /* Locally administered, unicast; stable for a name across restarts. */
    mac[0] = 0x02;
    mac[1] = 0x00;
    mac[2] = (uint8_t)(hash >> 24);
    mac[3] = (uint8_t)(hash >> 16);
    mac[4] = (uint8_t)(hash >> 8);
    mac[5] = (uint8_t)hash;
}

uint64_t net_ctrl_vq_features(void)
{
    return VDUSE_BIT(VIRTIO_NET_F_CTRL_VQ) | VDUSE_BIT(VIRTIO_NET_F_CTRL_RX) |
           VDUSE_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) |
           VDUSE_BIT(VIRTIO_NET_F_CTRL_VLAN) |
           VDUSE_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
           VDUSE_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
           VDUSE_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
}

uint64_t net_offered_features(const NetOptions *opts)
{
    uint64_t f =
        VDUSE_BIT(VDUSE_F_VERSION_1) | VDUSE_BIT(VDUSE_F_ACCESS_PLATFORM) |
        VDUSE_BIT(VDUSE_F_RING_INDIRECT_DESC) |
        VDUSE_BIT(VDUSE_F_RING_EVENT_IDX) | VDUSE_BIT(VIRTIO_NET_F_MAC) |
        VDUSE_BIT(VIRTIO_NET_F_MTU) | VDUSE_BIT(VIRTIO_NET_F_STATUS) |
        VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF);

    /* TX offloads: the TAP takes GSO frames and finishes checksums. */
    f |= VDUSE_BIT(VIRTIO_NET_F_CSUM) | VDUSE_BIT(VIRTIO_NET_F_HOST_TSO4) |
         VDUSE_BIT(VIRTIO_NET_F_HOST_TSO6) | VDUSE_BIT(VIRTIO_NET_F_HOST_ECN);
    /* RX offloads: applied to the TAP with TUNSETOFFLOAD. */
    f |= VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM) |
         VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4) |
         VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO6) | VDUSE_BIT(VIRTIO_NET_F_GUEST_ECN);

    if (opts->ctrl_vq) {
        f |= net_ctrl_vq_features();
        if (opts->queue_pairs > 1) {
            f |= VDUSE_BIT(VIRTIO_NET_F_MQ);
        }
    }
    return f;
}
