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
           VDUSE_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) |
           VDUSE_BIT(VIRTIO_NET_F_DEVICE_STATS) |
           VDUSE_BIT(VIRTIO_NET_F_NOTF_COAL) |
           VDUSE_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) |
           VDUSE_BIT(VIRTIO_NET_F_HASH_REPORT);
}

uint64_t net_offered_features(const NetOptions *opts)
{
    uint64_t f =
        VDUSE_BIT(VDUSE_F_VERSION_1) | VDUSE_BIT(VDUSE_F_ACCESS_PLATFORM) |
        VDUSE_BIT(VDUSE_F_RING_INDIRECT_DESC) |
        VDUSE_BIT(VDUSE_F_RING_EVENT_IDX) | VDUSE_BIT(VDUSE_F_RING_PACKED) |
        VDUSE_BIT(VIRTIO_NET_F_MAC) | VDUSE_BIT(VIRTIO_NET_F_MTU) |
        VDUSE_BIT(VIRTIO_NET_F_STATUS) | VDUSE_BIT(VIRTIO_NET_F_MRG_RXBUF) |
        VDUSE_BIT(VIRTIO_NET_F_SPEED_DUPLEX);

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

/* The features --features names, as the virtio spec does, in its order. */
static const struct {
    const char *name;
    unsigned int bit;
} features[] = {
    {"csum", VIRTIO_NET_F_CSUM},
    {"guest-csum", VIRTIO_NET_F_GUEST_CSUM},
    {"ctrl-guest-offloads", VIRTIO_NET_F_CTRL_GUEST_OFFLOADS},
    {"mtu", VIRTIO_NET_F_MTU},
    {"mac", VIRTIO_NET_F_MAC},
    {"guest-tso4", VIRTIO_NET_F_GUEST_TSO4},
    {"guest-tso6", VIRTIO_NET_F_GUEST_TSO6},
    {"guest-ecn", VIRTIO_NET_F_GUEST_ECN},
    {"host-tso4", VIRTIO_NET_F_HOST_TSO4},
    {"host-tso6", VIRTIO_NET_F_HOST_TSO6},
    {"host-ecn", VIRTIO_NET_F_HOST_ECN},
    {"mrg-rxbuf", VIRTIO_NET_F_MRG_RXBUF},
    {"status", VIRTIO_NET_F_STATUS},
    {"ctrl-rx", VIRTIO_NET_F_CTRL_RX},
    {"ctrl-vlan", VIRTIO_NET_F_CTRL_VLAN},
    {"ctrl-rx-extra", VIRTIO_NET_F_CTRL_RX_EXTRA},
    {"guest-announce", VIRTIO_NET_F_GUEST_ANNOUNCE},
    {"ctrl-mac-addr", VIRTIO_NET_F_CTRL_MAC_ADDR},
    {"guest-uso4", VIRTIO_NET_F_GUEST_USO4},
    {"guest-uso6", VIRTIO_NET_F_GUEST_USO6},
    {"host-uso", VIRTIO_NET_F_HOST_USO},
    {"device-stats", VIRTIO_NET_F_DEVICE_STATS},
    {"vq-notf-coal", VIRTIO_NET_F_VQ_NOTF_COAL},
    {"notf-coal", VIRTIO_NET_F_NOTF_COAL},
    {"speed-duplex", VIRTIO_NET_F_SPEED_DUPLEX},
    {"rss", VIRTIO_NET_F_RSS},
    {"hash-report", VIRTIO_NET_F_HASH_REPORT},
    {"indirect-desc", VDUSE_F_RING_INDIRECT_DESC},
    {"event-idx", VDUSE_F_RING_EVENT_IDX},
    {"ring-packed", VDUSE_F_RING_PACKED},
};

/* What each feature needs (virtio 1.2 5.1.3.1): one of @needs. */
static const struct {
    unsigned int bit;
    uint64_t needs;
} feature_deps[] = {
    {VIRTIO_NET_F_GUEST_TSO4, VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VIRTIO_NET_F_GUEST_TSO6, VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VIRTIO_NET_F_GUEST_ECN,
     VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO4) | VDUSE_BIT(VIRTIO_NET_F_GUEST_TSO6)},
    {VIRTIO_NET_F_GUEST_USO4, VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VIRTIO_NET_F_GUEST_USO6, VDUSE_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VIRTIO_NET_F_HOST_TSO4, VDUSE_BIT(VIRTIO_NET_F_CSUM)},
    {VIRTIO_NET_F_HOST_TSO6, VDUSE_BIT(VIRTIO_NET_F_CSUM)},
    {VIRTIO_NET_F_HOST_ECN,
     VDUSE_BIT(VIRTIO_NET_F_HOST_TSO4) | VDUSE_BIT(VIRTIO_NET_F_HOST_TSO6)},
    {VIRTIO_NET_F_HOST_USO, VDUSE_BIT(VIRTIO_NET_F_CSUM)},
    {VIRTIO_NET_F_CTRL_RX_EXTRA, VDUSE_BIT(VIRTIO_NET_F_CTRL_RX)},
};

/**
 * feature_name() - the --features name of @bit
 * Return: a static string.
 */
static const char *feature_name(unsigned int bit)
{
    for (size_t i = 0; i < G_N_ELEMENTS(features); i++) {
        if (features[i].bit == bit) {
            return features[i].name;
        }
    }
    return "a feature without a name";
}

const char *net_feature_names(void)
{
    static char *names;

    if (g_once_init_enter(&names)) {
        GString *s = g_string_new(NULL);

        for (size_t i = 0; i < G_N_ELEMENTS(features); i++) {
            g_string_append_printf(s, "%s%s", i ? " " : "", features[i].name);
        }
        g_once_init_leave(&names, g_string_free(s, FALSE));
    }
    return names;
}

bool net_parse_features(const char *text, uint64_t *on, uint64_t *off,
                        GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);

    *on = *off = 0;
    for (char **p = parts; *p; p++) {
        const char *name = **p == '-' || **p == '+' ? *p + 1 : *p;
        uint64_t *set = **p == '-' ? off : on;
        size_t i;

        for (i = 0; i < G_N_ELEMENTS(features); i++) {
            if (!strcmp(features[i].name, name)) {
                break;
            }
        }
        if (i == G_N_ELEMENTS(features)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "unknown feature '%s' (known: %s)", name,
                        net_feature_names());
            return false;
        }
        *set |= VDUSE_BIT(features[i].bit);
    }
    if (*on & *off) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "feature '%s' both added and removed",
                    feature_name((unsigned int)g_bit_nth_lsf(*on & *off, -1)));
        return false;
    }
    return true;
}

bool net_features_check(uint64_t f, GError **error)
{
    for (size_t i = 0; i < G_N_ELEMENTS(feature_deps); i++) {
        if ((f & VDUSE_BIT(feature_deps[i].bit)) &&
            !(f & feature_deps[i].needs)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "%s needs %s", feature_name(feature_deps[i].bit),
                        feature_name((unsigned int)g_bit_nth_lsf(
                            feature_deps[i].needs, -1)));
            return false;
        }
    }
    return true;
}
