/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctrl-rtt.c - time N link changes that a virtio-net driver turns into
 * control-queue commands, one by one, and print p50/p99/max
 *
 * Usage: ctrl-rtt mac|promisc IFNAME N
 *
 * mac: SIOCSIFHWADDR alternating two addresses (VIRTIO_NET_CTRL_MAC
 * ADDR_SET); promisc: SIOCSIFFLAGS toggling IFF_PROMISC (CTRL_RX
 * PROMISC). Each ioctl returns once the kernel's driver has its answer,
 * so its time is the command's round trip plus rtnetlink's own cost; the
 * same run on a veth gives the latter. The VM benchmark runs it in the
 * guest (tests/vm/scenarios/bench-iperf.sh), where busybox has no clock
 * finer than 10 ms.
 */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_N 100000

/**
 * now_us() - monotonic time
 *
 * Return: microseconds.
 */
static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/**
 * cmp_double() - qsort() order of two doubles
 * @a:		one
 * @b:		the other
 *
 * Return: <0, 0 or >0.
 */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/**
 * change() - make change number @i on @ifname
 * @s:		a socket for the ioctls
 * @mac:	true for an address change, false for promiscuous mode
 * @ifname:	the interface
 * @i:		the change's number (its parity picks the value)
 *
 * Return: 0 or a negative errno.
 */
static int change(int s, int mac, const char *ifname, int i)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (mac) {
        static const unsigned char addr[2][6] = {{2, 0, 0, 0, 1, 1},
                                                 {2, 0, 0, 0, 1, 2}};

        ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(ifr.ifr_hwaddr.sa_data, addr[i & 1], 6);
        return ioctl(s, SIOCSIFHWADDR, &ifr) < 0 ? -errno : 0;
    }
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        return -errno;
    }
    if (i & 1) {
        ifr.ifr_flags &= ~IFF_PROMISC;
    } else {
        ifr.ifr_flags |= IFF_PROMISC;
    }
    return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
    static double t[MAX_N];
    int n, s, mac;
    double sum = 0;

    if (argc != 4 || (strcmp(argv[1], "mac") && strcmp(argv[1], "promisc")) ||
        (n = atoi(argv[3])) < 1 || n > MAX_N) {
        fprintf(stderr, "usage: ctrl-rtt mac|promisc IFNAME N (N <= %d)\n",
                MAX_N);
        return 2;
    }
    mac = !strcmp(argv[1], "mac");
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        perror("ctrl-rtt: socket");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        double t0 = now_us();
        int ret = change(s, mac, argv[2], i);

        t[i] = now_us() - t0;
        if (ret < 0) {
            fprintf(stderr, "ctrl-rtt: %s %s: %s\n", argv[1], argv[2],
                    strerror(-ret));
            close(s);
            return 1;
        }
        sum += t[i];
    }
    close(s);
    qsort(t, (size_t)n, sizeof(t[0]), cmp_double);
    printf("%s %s n=%d p50=%.0f p99=%.0f max=%.0f mean=%.0f us\n", argv[1],
           argv[2], n, t[n / 2], t[(size_t)n * 99 / 100], t[n - 1], sum / n);
    return 0;
}
