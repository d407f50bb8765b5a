/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmt-client.c - talk to vduse-net's management socket from a shell
 *
 * Usage: mgmt-client [-w SECONDS] SOCKET [JSON-COMMAND...]
 *
 * Prints every line the server sends: the greeting, one reply per command
 * (sent in order, each after the previous reply), then for -w SECONDS any
 * events that arrive. Used by the VM tests, where there is no socat.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];
static size_t have;

/* read_line() - print the next line from @fd; 0, or -1 at EOF/timeout. */
static int read_line(int fd, int timeout_ms)
{
    for (;;) {
        char *nl = memchr(buf, '\n', have);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (nl) {
            size_t len = (size_t)(nl - buf) + 1;

            fwrite(buf, 1, len, stdout);
            fflush(stdout);
            memmove(buf, buf + len, have - len);
            have -= len;
            return 0;
        }
        if (have == sizeof(buf) || poll(&p, 1, timeout_ms) <= 0) {
            return -1;
        }
        n = read(fd, buf + have, sizeof(buf) - have);
        if (n <= 0) {
            return -1;
        }
        have += (size_t)n;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int wait_s = 0, i = 1, fd;
    time_t end;

    if (argc > 2 && strcmp(argv[1], "-w") == 0) {
        wait_s = atoi(argv[2]);
        i = 3;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: mgmt-client [-w SECONDS] SOCKET [JSON...]\n");
        return 2;
    }
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[i++]);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        perror("mgmt-client: connect");
        return 1;
    }
    if (read_line(fd, 5000) < 0) {
        return 1;
    }
    for (; i < argc; i++) {
        if (write(fd, argv[i], strlen(argv[i])) < 0 || write(fd, "\n", 1) < 0 ||
            read_line(fd, 5000) < 0) {
            return 1;
        }
    }
    end = time(NULL) + wait_s;
    while (time(NULL) < end) {
        read_line(fd, 200);
    }
    close(fd);
    return 0;
}
