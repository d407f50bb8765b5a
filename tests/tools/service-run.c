/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service-run.c - the parts of systemd a daemon talks to, for the VM tests
 *
 * Usage: service-run [-j] LOG COMMAND [ARG...]
 *
 * Runs COMMAND as systemd would run a Type=notify service, minus the
 * rest of systemd: a datagram socket in NOTIFY_SOCKET receives its
 * sd_notify() messages; with -j, its standard error is a stream connected
 * to /run/systemd/journal/stdout (so that GLib takes it for the journal)
 * and /run/systemd/journal/socket receives its structured log messages.
 * Everything goes to LOG, one line each, flushed at once:
 *
 *   notify: READY=1 | STATUS=ready: netdev eth0
 *   ready-snapshot: net: eth0 lo tap0 | dev: vhost-vdpa-0
 *   journal: PRIORITY=5 | MESSAGE=... | VDUSE_NET_DEVICE=vnet0
 *   stderr: vduse-net: ...
 *
 * The snapshot is taken the moment READY=1 arrives, before anything else
 * runs: which netdevs and vhost-vdpa nodes existed then. SIGINT and
 * SIGTERM are passed on to COMMAND; service-run exits with its status
 * once it exited and the sockets are drained. The VM has no python or
 * socat, hence a tool.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define JOURNAL_DIR "/run/systemd/journal"

static pid_t child;
static FILE *log_file;

/* forward() - SIGINT, SIGTERM: to the child. */
static void forward(int sig)
{
    if (child > 0) {
        kill(child, sig);
    }
}

/**
 * die() - print "service-run: MESSAGE: strerror" and exit 1
 * @what:	what failed
 */
static void die(const char *what)
{
    fprintf(stderr, "service-run: %s: %s\n", what, strerror(errno));
    exit(1);
}

/**
 * bind_unix() - a UNIX socket bound to @path (an old file there removed)
 * @path:	where
 * @type:	SOCK_DGRAM or SOCK_STREAM (then listening)
 *
 * Return: the socket; exits on failure.
 */
static int bind_unix(const char *path, int type)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        (type == SOCK_STREAM && listen(fd, 1) < 0)) {
        die(path);
    }
    return fd;
}

/**
 * log_message() - one message on one line of LOG, newlines shown as " | "
 * @prefix:	what it is ("notify", "journal", "stderr")
 * @buf:	the message
 * @len:	its length
 */
static void log_message(const char *prefix, const char *buf, size_t len)
{
    while (len && buf[len - 1] == '\n') {
        len--;
    }
    fprintf(log_file, "%s: ", prefix);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            fputs(" | ", log_file);
        } else if ((unsigned char)buf[i] < ' ') {
            fputc('?', log_file);
        } else {
            fputc(buf[i], log_file);
        }
    }
    fputc('\n', log_file);
    fflush(log_file);
}

/**
 * list_dir() - the names in @dir that start with @prefix, on LOG
 * @dir:	the directory
 * @prefix:	the names' start ("" for all)
 */
static void list_dir(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    while (d && (e = readdir(d))) {
        if (e->d_name[0] != '.' &&
            !strncmp(e->d_name, prefix, strlen(prefix))) {
            fprintf(log_file, " %s", e->d_name);
        }
    }
    if (d) {
        closedir(d);
    }
}

/* snapshot() - the netdevs and vhost-vdpa nodes there are now, on LOG. */
static void snapshot(void)
{
    fputs("ready-snapshot: net:", log_file);
    list_dir("/sys/class/net", "");
    fputs(" | dev:", log_file);
    list_dir("/dev", "vhost-vdpa-");
    fputc('\n', log_file);
    fflush(log_file);
}

int main(int argc, char **argv)
{
    char notify_path[108];
    struct sigaction sa = {.sa_handler = forward};
    struct pollfd fds[3];
    char buf[65536];
    int journal = 0, arg = 1, nfds, status, child_done = 0;
    int err_stream = -1, err_child = -1;
    size_t err_len = 0;
    static char err_line[4096];

    if (argc > 1 && !strcmp(argv[1], "-j")) {
        journal = 1;
        arg = 2;
    }
    if (argc - arg < 2) {
        fprintf(stderr, "usage: service-run [-j] LOG COMMAND [ARG...]\n");
        return 2;
    }
    log_file = fopen(argv[arg], "a");
    if (!log_file) {
        die(argv[arg]);
    }
    snprintf(notify_path, sizeof(notify_path), "/run/service-run.%d.notify",
             (int)getpid());
    fds[0] = (struct pollfd){.fd = bind_unix(notify_path, SOCK_DGRAM),
                             .events = POLLIN};
    nfds = 1;
    if (journal) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        int listener;

        mkdir("/run/systemd", 0755);
        mkdir(JOURNAL_DIR, 0755);
        fds[1] =
            (struct pollfd){.fd = bind_unix(JOURNAL_DIR "/socket", SOCK_DGRAM),
                            .events = POLLIN};
        listener = bind_unix(JOURNAL_DIR "/stdout", SOCK_STREAM);
        strcpy(sun.sun_path, JOURNAL_DIR "/stdout");
        err_child = socket(AF_UNIX, SOCK_STREAM, 0);
        if (err_child < 0 ||
            connect(err_child, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
            die("connecting to " JOURNAL_DIR "/stdout");
        }
        err_stream = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (err_stream < 0) {
            die("accept");
        }
        close(listener);
        fds[2] = (struct pollfd){.fd = err_stream, .events = POLLIN};
        nfds = 3;
    }
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    child = fork();
    if (child < 0) {
        die("fork");
    }
    if (child == 0) {
        setenv("NOTIFY_SOCKET", notify_path, 1);
        if (err_child >= 0) {
            dup2(err_child, STDERR_FILENO);
        }
        execvp(argv[arg + 1], argv + arg + 1);
        die(argv[arg + 1]);
    }
    if (err_child >= 0) {
        close(err_child);
    }
    for (;;) {
        int n;

        if (!child_done && waitpid(child, &status, WNOHANG) == child) {
            child_done = 1;
        }
        n = poll(fds, nfds, child_done ? 0 : 100);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 && child_done) {
            break;
        }
        for (int i = 0; i < nfds && n > 0; i++) {
            ssize_t len;

            if (!(fds[i].revents & (POLLIN | POLLHUP))) {
                continue;
            }
            if (i < 2) {
                len = recv(fds[i].fd, buf, sizeof(buf), 0);
                if (len <= 0) {
                    continue;
                }
                log_message(i == 0 ? "notify" : "journal", buf, (size_t)len);
                if (i == 0 && memmem(buf, (size_t)len, "READY=1", 7)) {
                    snapshot();
                }
                continue;
            }
            len =
                read(fds[i].fd, err_line + err_len, sizeof(err_line) - err_len);
            if (len <= 0) {
                fds[i].fd = -1; /* the child closed its stderr */
                continue;
            }
            err_len += (size_t)len;
            for (char *nl; (nl = memchr(err_line, '\n', err_len));) {
                size_t one = (size_t)(nl - err_line) + 1;

                log_message("stderr", err_line, one);
                memmove(err_line, err_line + one, err_len - one);
                err_len -= one;
            }
            if (err_len == sizeof(err_line)) {
                log_message("stderr", err_line, err_len);
                err_len = 0;
            }
        }
    }
    unlink(notify_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
