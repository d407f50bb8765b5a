/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-rss.c - the Toeplitz hash against Microsoft's RSS verification
 * suite ("Verifying the RSS Hash Calculation"), and which fields of a
 * frame virtio-net's hash types pick
 */
#include "config.h"

#include <arpa/inet.h>
#include <glib.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "net-priv.h"
#include "rss-key.h"

/**
 * struct Vector - one row of the suite
 * @family:	AF_INET or AF_INET6
 * @dst:	destination address
 * @dport:	destination port
 * @src:	source address
 * @sport:	source port
 * @ip:		the hash of the addresses
 * @tcp:	the hash of addresses and ports
 */
typedef struct Vector {
    int family;
    const char *dst;
    uint16_t dport;
    const char *src;
    uint16_t sport;
    uint32_t ip;
    uint32_t tcp;
} Vector;

static const Vector vectors[] = {
    {AF_INET, "161.142.100.80", 1766, "66.9.149.187", 2794, 0x323e8fc2,
     0x51ccc178},
    {AF_INET, "65.69.140.83", 4739, "199.92.111.2", 14230, 0xd718262a,
     0xc626b0ea},
    {AF_INET, "12.22.207.184", 38024, "24.19.198.95", 12898, 0xd2d0a5de,
     0x5c2b394a},
    {AF_INET, "209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176,
     0xafc7327f},
    {AF_INET, "202.188.127.2", 1303, "153.39.163.191", 44251, 0x5d1809c5,
     0x10e828a2},
    {AF_INET6, "3ffe:2501:200:3::1", 1766, "3ffe:2501:200:1fff::7", 2794,
     0x2cc18cd5, 0x40207d3d},
    {AF_INET6, "ff02::1", 4739, "3ffe:501:8::260:97ff:fe40:efab", 14230,
     0x0f0c461c, 0xdde51bbf},
    {AF_INET6, "fe80::200:f8ff:fe21:67cf", 38024,
     "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251, 0x4b61e985, 0x02d1feef},
};

/**
 * frame() - an Ethernet frame carrying @v as TCP or UDP
 * @v:		the row
 * @proto:	6 (TCP) or 17 (UDP)
 * @vlan:	with an 802.1Q tag
 * @buf:	room for the frame
 *
 * Return: its length.
 */
static size_t frame(const Vector *v, uint8_t proto, bool vlan, uint8_t *buf)
{
    size_t off = 12, ip_len;
    uint16_t ports[2] = {htons(v->sport), htons(v->dport)};

    memset(buf, 0, 128);
    if (vlan) {
        buf[off] = 0x81;
        buf[off + 3] = 5;
        off += 4;
    }
    if (v->family == AF_INET) {
        buf[off] = 0x08;
        buf[off + 2] = 0x45;
        buf[off + 2 + 9] = proto;
        g_assert_cmpint(inet_pton(AF_INET, v->src, buf + off + 2 + 12), ==, 1);
        g_assert_cmpint(inet_pton(AF_INET, v->dst, buf + off + 2 + 16), ==, 1);
        ip_len = 20;
    } else {
        buf[off] = 0x86;
        buf[off + 1] = 0xdd;
        buf[off + 2] = 0x60;
        buf[off + 2 + 6] = proto;
        g_assert_cmpint(inet_pton(AF_INET6, v->src, buf + off + 2 + 8), ==, 1);
        g_assert_cmpint(inet_pton(AF_INET6, v->dst, buf + off + 2 + 24), ==, 1);
        ip_len = 40;
    }
    memcpy(buf + off + 2 + ip_len, ports, 4);
    return off + 2 + ip_len + 20;
}

/* The raw hash of each row's input, both ways. */
static void test_toeplitz(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++) {
        const Vector *v = &vectors[i];
        uint8_t in[36];
        size_t alen = v->family == AF_INET ? 4 : 16;
        uint16_t ports[2] = {htons(v->sport), htons(v->dport)};

        inet_pton(v->family, v->src, in);
        inet_pton(v->family, v->dst, in + alen);
        memcpy(in + 2 * alen, ports, 4);
        g_assert_cmphex(net_toeplitz(ms_key, 40, in, 2 * alen), ==, v->ip);
        g_assert_cmphex(net_toeplitz(ms_key, 40, in, 2 * alen + 4), ==, v->tcp);
    }
    /* A short key is padded with zeros: the all-zero key hashes to 0. */
    g_assert_cmphex(net_toeplitz(ms_key, 0, ms_key, 36), ==, 0);
}

/* Frames: the types pick the fields (5.1.6.4.3.1), the report says which. */
static void test_frames(void)
{
    CtrlvqRss cfg = {.enabled = true, .key_len = 40};
    uint8_t buf[128];
    uint32_t hash;

    memcpy(cfg.key, ms_key, 40);
    for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++) {
        const Vector *v = &vectors[i];
        bool v4 = v->family == AF_INET;
        size_t len = frame(v, 6, i % 2, buf);

        cfg.hash_types = 0x3f;
        g_assert_cmpuint(net_rss_hash(&cfg, buf, len, &hash), ==,
                         v4 ? VIRTIO_NET_HASH_REPORT_TCPv4
                            : VIRTIO_NET_HASH_REPORT_TCPv6);
        g_assert_cmphex(hash, ==, v->tcp);
        /* Without the TCP type: the addresses only. */
        cfg.hash_types =
            v4 ? VIRTIO_NET_RSS_HASH_TYPE_IPv4 : VIRTIO_NET_RSS_HASH_TYPE_IPv6;
        g_assert_cmpuint(net_rss_hash(&cfg, buf, len, &hash), ==,
                         v4 ? VIRTIO_NET_HASH_REPORT_IPv4
                            : VIRTIO_NET_HASH_REPORT_IPv6);
        g_assert_cmphex(hash, ==, v->ip);
        /* UDP with the UDP type: the same fields, another report. */
        len = frame(v, 17, false, buf);
        cfg.hash_types = 0x3f;
        g_assert_cmpuint(net_rss_hash(&cfg, buf, len, &hash), ==,
                         v4 ? VIRTIO_NET_HASH_REPORT_UDPv4
                            : VIRTIO_NET_HASH_REPORT_UDPv6);
        g_assert_cmphex(hash, ==, v->tcp);
        /* Only the other IP version's types: nothing. */
        cfg.hash_types = v4 ? 0x38 : 0x07;
        g_assert_cmpuint(net_rss_hash(&cfg, buf, len, &hash), ==,
                         VIRTIO_NET_HASH_REPORT_NONE);
        g_assert_cmphex(hash, ==, 0);
    }
    /* An IPv4 fragment is hashed on its addresses, never its "ports". */
    {
        size_t len = frame(&vectors[0], 6, false, buf);

        buf[14 + 6] = 0x20; /* MF */
        cfg.hash_types = 0x3f;
        g_assert_cmpuint(net_rss_hash(&cfg, buf, len, &hash), ==,
                         VIRTIO_NET_HASH_REPORT_IPv4);
        g_assert_cmphex(hash, ==, vectors[0].ip);
        /* A frame cut inside the IP header: nothing. */
        g_assert_cmpuint(net_rss_hash(&cfg, buf, 14 + 19, &hash), ==,
                         VIRTIO_NET_HASH_REPORT_NONE);
        /* ARP: nothing. */
        buf[12] = 0x08;
        buf[13] = 0x06;
        g_assert_cmpuint(net_rss_hash(&cfg, buf, len, &hash), ==,
                         VIRTIO_NET_HASH_REPORT_NONE);
    }
}

/* The table picks the queue; unclassified frames go where it says. */
static void test_queue(void)
{
    CtrlvqRss cfg = {.enabled = true,
                     .table_len = 4,
                     .table = {3, 2, 1, 0},
                     .unclassified = 2};

    g_assert_cmpuint(
        net_rss_queue(&cfg, VIRTIO_NET_HASH_REPORT_TCPv4, 0x51ccc178), ==, 3);
    g_assert_cmpuint(net_rss_queue(&cfg, VIRTIO_NET_HASH_REPORT_IPv4, 0x6), ==,
                     1);
    g_assert_cmpuint(net_rss_queue(&cfg, VIRTIO_NET_HASH_REPORT_NONE, 0x6), ==,
                     2);
    cfg.enabled = false;
    g_assert_cmpuint(net_rss_queue(&cfg, VIRTIO_NET_HASH_REPORT_IPv4, 0x6), ==,
                     0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rss/toeplitz/microsoft-suite", test_toeplitz);
    g_test_add_func("/rss/hash/frames", test_frames);
    g_test_add_func("/rss/queue", test_queue);
    return g_test_run();
}
