/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmt-stress.c - clients that a management socket must survive
 *
 * Usage:
 *   mgmt-stress many SOCKET N       N clients connected at once, then each
 *                                   asks query-status; prints how many got
 *                                   their own answer; exit 1 unless all did
 *   mgmt-stress long SOCKET BYTES   one line of BYTES bytes (newline
 *                                   included: a query-status with an
 *                                   argument padding it); prints the first
 *                                   160 bytes of the answer, or
 *                                   "disconnected"
 *   mgmt-stress stall SOCKET SECONDS
 *                                   a client that asks query-state again
 *                                   and again and never reads; prints
 *                                   "dropped after N requests, S s" once
 *                                   the server hangs up, or "still
 *                                   connected" after SECONDS (exit 1)
 *
 * Used by the VM scenario fault-mgmt, against the real daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_READ (64 * 1024)

/* die() - print and exit 2: the tool itself failed. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("mgmt-stress: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* now_s() - monotonic seconds. */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* connect_to() - a connected socket to @path; exits on failure. */
static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
        die("socket: %s", strerror(errno));
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("connect %s: %s", path, strerror(errno));
    return fd;
}

/* write_all() - the whole buffer, blocking; false if the peer went. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

/**
 * struct Reader - lines from one socket
 * @buf:	what was read and not yet returned
 * @have:	bytes in @buf
 */
typedef struct Reader {
    char buf[LINE_MAX_READ];
    size_t have;
} Reader;

/**
 * read_line() - the next line from @fd into @out (NUL-terminated, at most
 * @size - 1 bytes kept; the rest of a longer line is dropped)
 * Return: 1, or 0 at EOF, error or after @timeout_s.
 */
static int read_line(int fd, Reader *r, char *out, size_t size,
                     double timeout_s)
{
    double end = now_s() + timeout_s;

    for (;;) {
        char *nl = memchr(r->buf, '\n', r->have);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        double left = end - now_s();
        ssize_t n;

        if (nl) {
            size_t len = (size_t)(nl - r->buf);
            size_t keep = len < size - 1 ? len : size - 1;

            memcpy(out, r->buf, keep);
            out[keep] = 0;
            memmove(r->buf, nl + 1, r->have - len - 1);
            r->have -= len + 1;
            return 1;
        }
        if (r->have == sizeof(r->buf))
            r->have = 0; /* a line longer than we care for: skip it */
        if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            return 0;
        n = read(fd, r->buf + r->have, sizeof(r->buf) - r->have);
        if (n <= 0)
            return 0;
        r->have += (size_t)n;
    }
}

/* many() - N clients at once, each asks and must get its own answer. */
static int many(const char *path, int n)
{
    int *fd = calloc((size_t)n, sizeof(*fd));
    Reader *r = calloc((size_t)n, sizeof(*r));
    char line[256], want[64], req[96];
    int answered = 0;

    if (!fd || !r)
        die("out of memory");
    for (int i = 0; i < n; i++)
        fd[i] = connect_to(path);
    for (int i = 0; i < n; i++) {
        snprintf(req, sizeof(req), "{\"execute\":\"query-status\",\"id\":%d}\n",
                 i);
        if (!write_all(fd[i], req, strlen(req)))
            die("client %d: the server hung up", i);
    }
    for (int i = 0; i < n; i++) {
        snprintf(want, sizeof(want), ",\"id\":%d}", i);
        while (read_line(fd[i], &r[i], line, sizeof(line), 30)) {
            if (strstr(line, "\"return\"") && strstr(line, want)) {
                answered++;
                break;
            }
        }
        close(fd[i]);
    }
    printf("%d/%d clients answered\n", answered, n);
    free(fd);
    free(r);
    return answered == n ? 0 : 1;
}

/* long_line() - one line of @bytes bytes; print what comes back. */
static int long_line(const char *path, size_t bytes)
{
    static const char head[] =
        "{\"execute\":\"query-status\",\"arguments\":{\"pad\":\"";
    static const char tail[] = "\"}}\n";
    static Reader r;
    char line[161];
    char *buf;
    int fd;

    if (bytes < sizeof(head) + sizeof(tail))
        die("long: at least %zu bytes", sizeof(head) + sizeof(tail));
    buf = malloc(bytes);
    if (!buf)
        die("out of memory");
    memcpy(buf, head, sizeof(head) - 1);
    memset(buf + sizeof(head) - 1, 'x',
           bytes - (sizeof(head) - 1) - (sizeof(tail) - 1));
    memcpy(buf + bytes - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    fd = connect_to(path);
    if (!read_line(fd, &r, line, sizeof(line), 10))
        die("no greeting");
    if (!write_all(fd, buf, bytes)) {
        puts("disconnected");
    } else {
        /* The answer, past the events that come meanwhile. */
        int got;

        while ((got = read_line(fd, &r, line, sizeof(line), 30)) &&
               !strncmp(line, "{\"event\":", 9))
            ;
        puts(got ? line : "disconnected");
    }
    free(buf);
    close(fd);
    return 0;
}

/* stall() - ask and never read, until the server hangs up. */
static int stall(const char *path, double seconds)
{
    static const char req[] = "{\"execute\":\"query-state\"}\n";
    double t0 = now_s();
    long sent = 0;
    int fd = connect_to(path);

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while (now_s() - t0 < seconds) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        ssize_t n;

        if (poll(&p, 1, 100) < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        if (p.revents & (POLLHUP | POLLERR)) {
            printf("dropped after %ld requests, %.1f s\n", sent, now_s() - t0);
            close(fd);
            return 0;
        }
        if (!(p.revents & POLLOUT))
            continue;
        n = write(fd, req, sizeof(req) - 1);
        if (n == (ssize_t)sizeof(req) - 1)
            sent++;
        else if (n < 0 && errno == EPIPE) {
            printf("dropped after %ld requests, %.1f s\n", sent, now_s() - t0);
            close(fd);
            return 0;
        }
        /* A partial write leaves a torn line: the server sees one bad
         * request, which is fine for a client this rude. */
    }
    printf("still connected after %ld requests, %.0f s\n", sent, seconds);
    close(fd);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: mgmt-stress many|long|stall SOCKET N\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(argv[1], "many"))
        return many(argv[2], atoi(argv[3]));
    if (!strcmp(argv[1], "long"))
        return long_line(argv[2], (size_t)strtoul(argv[3], NULL, 10));
    if (!strcmp(argv[1], "stall"))
        return stall(argv[2], atof(argv[3]));
    fprintf(stderr, "mgmt-stress: unknown mode %s\n", argv[1]);
    return 2;
}
