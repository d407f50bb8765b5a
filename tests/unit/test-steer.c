/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-steer.c - the TAP steering program in a real TAP: frames the host
 * sends into a two-queue TAP land on the queue net/rss.c computes
 *
 * Needs root (a TAP, an AF_PACKET socket) and bpf(); skipped (77)
 * otherwise, saying why.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net-priv.h"
#include "rss-key.h"

/* Addresses and ports of Microsoft's suite: src, dst, sport, dport. */
static const struct {
    int family;
    const char *src, *dst;
    uint16_t sport, dport;
} flows[] = {
    {AF_INET, "66.9.149.187", "161.142.100.80", 2794, 1766},
    {AF_INET, "199.92.111.2", "65.69.140.83", 14230, 4739},
    {AF_INET, "24.19.198.95", "12.22.207.184", 12898, 38024},
    {AF_INET, "38.27.205.30", "209.142.163.6", 48228, 2217},
    {AF_INET, "153.39.163.191", "202.188.127.2", 44251, 1303},
    {AF_INET6, "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766},
    {AF_INET6, "3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739},
    {AF_INET6, "3ffe:1900:4545:3:200:f8ff:fe21:67cf",
     "fe80::200:f8ff:fe21:67cf", 44251, 38024},
};

/**
 * build() - an Ethernet frame of flow @i, TCP or UDP
 * @i:		the flow
 * @proto:	6 or 17
 * @buf:	at least 128 bytes
 *
 * Return: its length.
 */
static size_t build(size_t i, uint8_t proto, uint8_t *buf)
{
    uint16_t ports[2] = {htons(flows[i].sport), htons(flows[i].dport)};
    size_t ip_len;

    memset(buf, 0, 128);
    memset(buf, 0xff, 6); /* broadcast: the TAP takes it */
    buf[6] = 0x02;
    buf[11] = 0x01;
    if (flows[i].family == AF_INET) {
        buf[12] = 0x08;
        buf[14] = 0x45;
        buf[14 + 3] = 60; /* total length */
        buf[14 + 8] = 64;
        buf[14 + 9] = proto;
        inet_pton(AF_INET, flows[i].src, buf + 14 + 12);
        inet_pton(AF_INET, flows[i].dst, buf + 14 + 16);
        ip_len = 20;
    } else {
        buf[12] = 0x86;
        buf[13] = 0xdd;
        buf[14] = 0x60;
        buf[14 + 5] = 20; /* payload length */
        buf[14 + 6] = proto;
        buf[14 + 7] = 64;
        inet_pton(AF_INET6, flows[i].src, buf + 14 + 8);
        inet_pton(AF_INET6, flows[i].dst, buf + 14 + 24);
        ip_len = 40;
    }
    memcpy(buf + 14 + ip_len, ports, 4);
    return 14 + ip_len + 20;
}

/**
 * arrival() - the queue of @fds the next frame arrives on
 * @fds:	the TAP's two queue fds
 *
 * Return: 0 or 1, or -1 if none came within a second.
 */
static int arrival(const int *fds)
{
    struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    uint8_t buf[2048];

    if (poll(p, 2, 1000) <= 0) {
        return -1;
    }
    for (int q = 0; q < 2; q++) {
        if (p[q].revents & POLLIN) {
            g_assert_cmpint(read(fds[q], buf, sizeof(buf)), >, 0);
            return q;
        }
    }
    return -1;
}

/* drain() - read whatever the TAP has queued (IPv6 chatter, ...). */
static void drain(const int *fds)
{
    while (arrival(fds) >= 0) {
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *ifname = g_strdup_printf("vnsteer%d", (int)getpid());
    struct sockaddr_ll to = {.sll_family = AF_PACKET};
    CtrlvqRss rss = {.enabled = true, .hash_types = 0x3f, .key_len = 40};
    NetSteer *steer;
    int fds[2], pkt, checked = 0, on[2] = {0, 0};

    g_test_init(&argc, &argv, NULL);
    if (geteuid() != 0) {
        printf("1..0 # SKIP needs root (a TAP, an AF_PACKET socket)\n");
        return 77;
    }
    steer = net_steer_new(&error);
    if (!steer) {
        printf("1..0 # SKIP %s\n", error->message);
        return 77;
    }
    if (!tap_open(ifname, 2, fds, &error) ||
        !tap_setup_link(ifname, 1500, NULL, &error)) {
        printf("1..0 # SKIP no TAP: %s\n", error->message);
        return 77;
    }
    g_assert_cmpint(tap_set_steering(fds[0], net_steer_prog_fd(steer)), ==, 0);
    pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    g_assert_cmpint(pkt, >=, 0);
    {
        struct ifreq ifr = {0};

        g_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
        g_assert_cmpint(ioctl(pkt, SIOCGIFFLAGS, &ifr), ==, 0);
        ifr.ifr_flags |= IFF_UP;
        g_assert_cmpint(ioctl(pkt, SIOCSIFFLAGS, &ifr), ==, 0);
    }
    to.sll_ifindex = (int)if_nametoindex(ifname);
    to.sll_halen = 6;
    drain(fds);

    /* A table of one entry: everything to that queue, either one. */
    for (uint16_t q = 0; q < 2; q++) {
        rss.table_len = 1;
        rss.table[0] = q;
        g_assert_true(net_steer_set(steer, &rss));
        for (size_t i = 0; i < G_N_ELEMENTS(flows); i++) {
            uint8_t buf[128];
            size_t len = build(i, 6, buf);

            g_assert_cmpint(
                sendto(pkt, buf, len, 0, (struct sockaddr *)&to, sizeof(to)),
                ==, (ssize_t)len);
            g_assert_cmpint(arrival(fds), ==, q);
        }
    }

    /* A 128-entry table that alternates in an irregular way: each flow on
     * the queue the hash net/rss.c computes picks, for TCP, UDP, and the
     * addresses alone. */
    memcpy(rss.key, ms_key, 40);
    rss.table_len = 128;
    for (int i = 0; i < 128; i++) {
        rss.table[i] = (uint16_t)((i * 37 / 7) & 1);
    }
    for (uint32_t types = 0; types < 3; types++) {
        rss.hash_types = types == 0 ? 0x3f : types == 1 ? 0x2d : 0x09;
        g_assert_true(net_steer_set(steer, &rss));
        for (size_t i = 0; i < G_N_ELEMENTS(flows); i++) {
            for (int p = 0; p < 2; p++) {
                uint8_t buf[128];
                size_t len = build(i, p ? 17 : 6, buf);
                uint32_t hash;
                uint8_t report = net_rss_hash(&rss, buf, len, &hash);
                int want = net_rss_queue(&rss, report, hash);

                g_assert_cmpint(sendto(pkt, buf, len, 0, (struct sockaddr *)&to,
                                       sizeof(to)),
                                ==, (ssize_t)len);
                g_assert_cmpint(arrival(fds), ==, want);
                on[want]++;
                checked++;
            }
        }
    }
    /* The table sent flows to both queues: the check can tell. */
    g_assert_cmpint(on[0], >, 0);
    g_assert_cmpint(on[1], >, 0);
    printf("ok 1 /steer/tap: %d frames on the queue net/rss.c picks (%d on "
           "queue 0, %d on queue 1)\n",
           checked, on[0], on[1]);
    printf("1..1\n");
    g_assert_cmpint(tap_set_steering(fds[0], -1), ==, 0);
    close(pkt);
    close(fds[0]);
    close(fds[1]);
    net_steer_free(steer);
    return 0;
}
