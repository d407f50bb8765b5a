/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap-exec.c - open queues of a TAP and run a command that inherits them
 *
 * Usage: tap-exec IFNAME QUEUES COMMAND [ARG...]
 *
 * Plays the part of a VMM or libvirt handing TAP fds to vduse-net
 * (--tap-fd): opens QUEUES queue fds of TAP IFNAME with
 * IFF_TAP|IFF_NO_PI|IFF_VNET_HDR (and IFF_MULTI_QUEUE for more than one)
 * and execs COMMAND, with every argument "@FDS@" replaced by the fd
 * numbers, comma-separated.
 */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char fds[256] = "";
    int queues;

    if (argc < 4 || (queues = atoi(argv[2])) < 1 || queues > 16) {
        fprintf(stderr, "usage: tap-exec IFNAME QUEUES COMMAND [ARG...]\n");
        return 2;
    }
    for (int i = 0; i < queues; i++) {
        struct ifreq ifr = {0};
        int fd = open("/dev/net/tun", O_RDWR);

        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
                        (queues > 1 ? IFF_MULTI_QUEUE : 0);
        if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
            perror("tap-exec: TUNSETIFF");
            return 1;
        }
        snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), "%s%d",
                 i ? "," : "", fd);
    }
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "@FDS@") == 0) {
            argv[i] = fds;
        }
    }
    execvp(argv[3], argv + 3);
    perror("tap-exec: exec");
    return 127;
}
