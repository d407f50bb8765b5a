/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frame-send.c - send one raw Ethernet frame out of an interface
 *
 * Usage: frame-send IFNAME DST-MAC VLAN|- [COUNT [tcp4]]
 *
 * A 60-byte frame from 02:00:00:00:00:fe to DST-MAC with ethertype 0x88b5,
 * tagged 802.1Q with id VLAN unless VLAN is "-", sent COUNT times (default
 * 1) through an AF_PACKET socket. The VM tests use it where the kernel has
 * no 802.1Q support to make tagged frames. With "tcp4" the frame is IPv4
 * and TCP instead, the first flow of Microsoft's RSS verification suite
 * (66.9.149.187:2794 -> 161.142.100.80:1766), for the hash reports.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    unsigned int m[6];
    unsigned char frame[64] = {0};
    struct sockaddr_ll sll = {.sll_family = AF_PACKET};
    size_t off = 12;
    int fd, count = argc > 4 ? atoi(argv[4]) : 1;

    if (argc < 4 || sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2],
                           &m[3], &m[4], &m[5]) != 6) {
        fprintf(stderr,
                "usage: frame-send IFNAME DST-MAC VLAN|- [COUNT [tcp4]]\n");
        return 2;
    }
    for (int i = 0; i < 6; i++) {
        frame[i] = (unsigned char)m[i];
    }
    memcpy(frame + 6, "\x02\x00\x00\x00\x00\xfe", 6);
    if (strcmp(argv[3], "-") != 0) {
        int vid = atoi(argv[3]);

        frame[off++] = 0x81;
        frame[off++] = 0x00;
        frame[off++] = (unsigned char)(vid >> 8);
        frame[off++] = (unsigned char)vid;
    }
    if (argc > 5 && !strcmp(argv[5], "tcp4")) {
        static const unsigned char ip[24] = {
            0x45, 0,   0,   46, 0,         0,           0,         0,
            64,   6,   0,   0,  66,        9,           149,       187,
            161,  142, 100, 80, 2794 >> 8, 2794 & 0xff, 1766 >> 8, 1766 & 0xff};

        frame[off++] = 0x08;
        frame[off++] = 0x00;
        memcpy(frame + off, ip, sizeof(ip));
    } else {
        frame[off++] = 0x88;
        frame[off++] = 0xb5;
    }
    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    sll.sll_ifindex = (int)if_nametoindex(argv[1]);
    if (fd < 0 || !sll.sll_ifindex) {
        perror("frame-send");
        return 1;
    }
    for (int i = 0; i < count; i++) {
        if (sendto(fd, frame, 60, 0, (struct sockaddr *)&sll, sizeof(sll)) !=
            60) {
            perror("frame-send: sendto");
            return 1;
        }
    }
    close(fd);
    return 0;
}
