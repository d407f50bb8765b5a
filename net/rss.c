/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rss.c - the Toeplitz hash of a received frame, as virtio-net defines it
 *
 * DOC: Theory of operation
 *
 * virtio 1.3 5.1.6.4.3.1 picks, for a frame and the hash types the driver
 * enabled, which fields are hashed: for IPv4, TCPv4 if the frame is TCP
 * and not a fragment, else UDPv4 if UDP, else IPv4 (the two addresses);
 * IPv6 the same way. The input is source address, destination address,
 * then source and destination port, in network order, and the hash is the
 * Toeplitz hash of that input under the driver's key (Microsoft's RSS
 * definition, whose verification suite the unit tests replay).
 *
 * The _EX types (IPv6 extension headers: home address, routing header)
 * are not offered: an IPv6 frame whose next header is not TCP or UDP at
 * once is hashed on its addresses (type IPv6) if that is enabled.
 */
#include "config.h"

#include <linux/virtio_net.h>
#include <string.h>

#include "net-priv.h"

#define ETH_HLEN_ 14
#define ETH_P_IPV4_ 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8
#define PROTO_TCP 6
#define PROTO_UDP 17

uint32_t net_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *data,
                      size_t len)
{
    uint32_t result = 0, window = 0;
    size_t next = 4; /* the key byte whose bits enter the window next */

    for (size_t i = 0; i < 4; i++) {
        window = window << 8 | (i < key_len ? key[i] : 0);
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t k = next < key_len ? key[next] : 0;

        for (int bit = 7; bit >= 0; bit--) {
            if (data[i] & (1u << bit)) {
                result ^= window;
            }
            window = window << 1 | ((k >> bit) & 1);
        }
        next++;
    }
    return result;
}

/**
 * be16_at() - the big-endian u16 at @p
 * Return: its value.
 */
static uint16_t be16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/**
 * l4_type() - which of TCP, UDP or neither an enabled type picks
 * @types:	the enabled hash types
 * @proto:	the L4 protocol, or -1 for none (a fragment)
 * @tcp:	the TCP type of this IP version
 * @udp:	its UDP type
 * @l4_len:	bytes of L4 header present
 *
 * Return: @tcp, @udp, or 0 to hash on the addresses only.
 */
static uint32_t l4_type(uint32_t types, int proto, uint32_t tcp, uint32_t udp,
                        size_t l4_len)
{
    if (l4_len < 4) {
        return 0;
    }
    if (proto == PROTO_TCP && (types & tcp)) {
        return tcp;
    }
    if (proto == PROTO_UDP && (types & udp)) {
        return udp;
    }
    return 0;
}

/**
 * struct IpFamily - what IPv4 or IPv6 hashes on, and how it is reported
 * @ip:		the hash type of the addresses alone
 * @tcp:	the hash type with TCP ports
 * @udp:	the hash type with UDP ports
 * @report_ip:	VIRTIO_NET_HASH_REPORT_* of @ip
 * @report_tcp:	of @tcp
 * @report_udp:	of @udp
 * @addr_off:	where source and destination addresses start in the header
 * @addr_len:	their bytes together
 */
typedef struct IpFamily {
    uint32_t ip, tcp, udp;
    uint8_t report_ip, report_tcp, report_udp;
    size_t addr_off, addr_len;
} IpFamily;

static const IpFamily ipv4 = {VIRTIO_NET_RSS_HASH_TYPE_IPv4,
                              VIRTIO_NET_RSS_HASH_TYPE_TCPv4,
                              VIRTIO_NET_RSS_HASH_TYPE_UDPv4,
                              VIRTIO_NET_HASH_REPORT_IPv4,
                              VIRTIO_NET_HASH_REPORT_TCPv4,
                              VIRTIO_NET_HASH_REPORT_UDPv4,
                              12,
                              8};
static const IpFamily ipv6 = {VIRTIO_NET_RSS_HASH_TYPE_IPv6,
                              VIRTIO_NET_RSS_HASH_TYPE_TCPv6,
                              VIRTIO_NET_RSS_HASH_TYPE_UDPv6,
                              VIRTIO_NET_HASH_REPORT_IPv6,
                              VIRTIO_NET_HASH_REPORT_TCPv6,
                              VIRTIO_NET_HASH_REPORT_UDPv6,
                              8,
                              32};

uint8_t net_rss_hash(const CtrlvqRss *cfg, const uint8_t *frame, size_t len,
                     uint32_t *hash)
{
    const IpFamily *fam;
    const uint8_t *ip;
    uint8_t input[36];
    size_t off = ETH_HLEN_, hlen, in_len;
    uint16_t proto;
    uint32_t l4;
    int l4_proto;

    *hash = 0;
    if (len < ETH_HLEN_) {
        return VIRTIO_NET_HASH_REPORT_NONE;
    }
    proto = be16_at(frame + 12);
    /* One VLAN tag: the TAP hands tagged frames as they are. */
    if ((proto == ETH_P_8021Q_ || proto == ETH_P_8021AD_) && len >= off + 4) {
        proto = be16_at(frame + 16);
        off += 4;
    }
    ip = frame + off;
    if (proto == ETH_P_IPV4_ && len >= off + 20 && (ip[0] >> 4) == 4 &&
        (ip[0] & 0xf) >= 5 && len >= off + 4u * (ip[0] & 0xf)) {
        fam = &ipv4;
        hlen = 4u * (ip[0] & 0xf);
        /* A fragment (MF or an offset) hashes on its addresses only. */
        l4_proto = (be16_at(ip + 6) & 0x3fff) ? -1 : ip[9];
    } else if (proto == ETH_P_IPV6_ && len >= off + 40 && (ip[0] >> 4) == 6) {
        fam = &ipv6;
        hlen = 40;
        l4_proto = ip[6];
    } else {
        return VIRTIO_NET_HASH_REPORT_NONE;
    }
    if (!(cfg->hash_types & (fam->ip | fam->tcp | fam->udp))) {
        return VIRTIO_NET_HASH_REPORT_NONE;
    }
    l4 = l4_type(cfg->hash_types, l4_proto, fam->tcp, fam->udp,
                 len - off - hlen);
    if (!l4 && !(cfg->hash_types & fam->ip)) {
        return VIRTIO_NET_HASH_REPORT_NONE;
    }
    memcpy(input, ip + fam->addr_off, fam->addr_len);
    in_len = fam->addr_len;
    if (l4) {
        memcpy(input + in_len, ip + hlen, 4); /* both ports */
        in_len += 4;
    }
    *hash = net_toeplitz(cfg->key, MIN(cfg->key_len, CTRLVQ_RSS_MAX_KEY), input,
                         in_len);
    return l4 == fam->tcp   ? fam->report_tcp
           : l4 == fam->udp ? fam->report_udp
                            : fam->report_ip;
}

uint16_t net_rss_queue(const CtrlvqRss *cfg, uint8_t report, uint32_t hash)
{
    if (!cfg->enabled || cfg->table_len == 0) {
        return 0;
    }
    if (report == VIRTIO_NET_HASH_REPORT_NONE) {
        return cfg->unclassified;
    }
    return cfg
        ->table[hash & (cfg->table_len - 1u) & (CTRLVQ_RSS_MAX_TABLE - 1)];
}
