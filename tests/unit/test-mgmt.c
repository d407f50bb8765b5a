/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-mgmt.c - the management socket: greeting, replies, errors, events,
 * several clients, a client misbehaving without hurting the others, who
 * may connect, and the files the device commands may touch
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mgmt.h"

/**
 * struct Fixture - a listener in a temporary directory
 * @dir:	the directory
 * @path:	the socket
 * @m:		the listener
 */
typedef struct Fixture {
    char *dir;
    char *path;
    Mgmt *m;
} Fixture;

/* cmd_echo() - return the arguments, or fail with "boom" if asked. */
static JsonNode *cmd_echo(JsonObject *args, GError **error, void *opaque)
{
    if (json_object_has_member(args, "fail")) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC, "boom");
        return NULL;
    }
    return json_node_init_object(json_node_alloc(), args);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("vduse-net-mgmt-XXXXXX", &error);
    g_assert_no_error(error);
    f->path = g_build_filename(f->dir, "sock", NULL);
    f->m = mgmt_new(f->path, "9.9", NULL, &error);
    g_assert_no_error(error);
    mgmt_add_command(f->m, "echo", cmd_echo, NULL);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    mgmt_free(f->m);
    g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
    rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
}

/* client_connect() - a raw client socket. */
static int client_connect(Fixture *f)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    g_strlcpy(sun.sun_path, f->path, sizeof(sun.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    return fd;
}

/* client_send() - write @text; the test's own side never blocks long. */
static void client_send(int fd, const char *text)
{
    size_t len = strlen(text), done = 0;

    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno == EAGAIN) {
            g_main_context_iteration(NULL, FALSE);
            continue;
        }
        if (n < 0) {
            return; /* the server hung up on us */
        }
        done += (size_t)n;
    }
}

/**
 * client_line() - the next line from the server, running the main loop
 *
 * Return: the line (newly allocated), or NULL if the server closed.
 */
static char *client_line(int fd)
{
    GString *s = g_string_new(NULL);

    for (int i = 0; i < 5000; i++) {
        char ch;
        ssize_t n = read(fd, &ch, 1);

        if (n == 1) {
            if (ch == '\n') {
                return g_string_free(s, FALSE);
            }
            g_string_append_c(s, ch);
            continue;
        }
        if (n == 0) {
            g_string_free(s, TRUE);
            return NULL;
        }
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
    g_assert_not_reached();
}

/* A greeting, then replies with the ids echoed, and errors by class. */
static void test_commands(Fixture *f, gconstpointer data)
{
    int fd = client_connect(f);
    g_autofree char *greeting = client_line(fd);
    char *line;

    g_assert_cmpstr(greeting, ==,
                    "{\"QMP\":{\"version\":{\"vduse-net\":\"9.9\"},"
                    "\"capabilities\":[]}}");
    client_send(fd, "{\"execute\":\"qmp_capabilities\"}\n");
    line = client_line(fd);
    g_assert_cmpstr(line, ==, "{\"return\":{}}");
    g_free(line);
    client_send(fd, "{\"execute\":\"echo\",\"arguments\":{\"a\":1},"
                    "\"id\":\"x1\"}\n");
    line = client_line(fd);
    g_assert_cmpstr(line, ==, "{\"return\":{\"a\":1},\"id\":\"x1\"}");
    g_free(line);
    client_send(fd, "{\"execute\":\"nope\",\"id\":2}\n");
    line = client_line(fd);
    g_assert_nonnull(strstr(line, "\"class\":\"CommandNotFound\""));
    g_assert_nonnull(strstr(line, "\"id\":2"));
    g_free(line);
    client_send(fd, "{\"execute\":\"echo\",\"arguments\":{\"fail\":1}}\n");
    line = client_line(fd);
    g_assert_cmpstr(
        line, ==, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"boom\"}}");
    g_free(line);
    /* Malformed input: an error each, and the connection stays. */
    client_send(fd, "{not json\n");
    line = client_line(fd);
    g_assert_nonnull(strstr(line, "GenericError"));
    g_free(line);
    client_send(fd, "[1,2]\n{\"execute\":5}\n{\"execute\":\"echo\","
                    "\"arguments\":[1]}\n");
    for (int i = 0; i < 3; i++) {
        line = client_line(fd);
        g_assert_nonnull(strstr(line, "GenericError"));
        g_free(line);
    }
    /* Two commands in one write, one split over two writes. */
    client_send(fd, "{\"execute\":\"echo\",\"id\":1}\n{\"execute\":\"ec");
    line = client_line(fd);
    g_assert_cmpstr(line, ==, "{\"return\":{},\"id\":1}");
    g_free(line);
    client_send(fd, "ho\",\"id\":2}\n");
    line = client_line(fd);
    g_assert_cmpstr(line, ==, "{\"return\":{},\"id\":2}");
    g_free(line);
    close(fd);
}

/* Events reach every client; a client sending a huge line is dropped
 * alone. */
static void test_events_and_abuse(Fixture *f, gconstpointer data)
{
    int a = client_connect(f), b = client_connect(f);
    g_autofree char *ga = client_line(a), *gb = client_line(b);
    g_autofree char *big = g_malloc(1024 * 1024 + 3);
    JsonObject *o = json_object_new();
    char *line;

    g_assert_true(g_str_has_prefix(ga, "{\"QMP\""));
    g_assert_true(g_str_has_prefix(gb, "{\"QMP\""));
    json_object_set_boolean_member(o, "up", FALSE);
    mgmt_emit_event(f->m, "LINK_CHANGED",
                    json_node_init_object(json_node_alloc(), o));
    json_object_unref(o);
    for (int i = 0; i < 2; i++) {
        line = client_line(i ? b : a);
        g_assert_nonnull(g_strstr_len(line, -1,
                                      "{\"event\":\"LINK_CHANGED\","
                                      "\"data\":{\"up\":false},"
                                      "\"timestamp\":{\"seconds\":"));
        g_free(line);
    }
    /* Client a: over a megabyte without a newline. */
    memset(big, 'x', 1024 * 1024 + 1);
    big[1024 * 1024 + 1] = 0;
    client_send(a, big);
    g_assert_null(client_line(a));
    /* The bound is on the line without its newline, however the bytes
     * arrive: exactly 1 MiB is answered (an error: it is no JSON), a byte
     * more is not, even when its last byte comes with the newline. */
    for (int extra = 0; extra < 2; extra++) {
        int c = client_connect(f);
        g_autofree char *reply = NULL;

        g_free(client_line(c)); /* the greeting */
        memset(big, 'x', 1024 * 1024 + extra);
        strcpy(big + 1024 * 1024 + extra, "\n");
        client_send(c, big);
        reply = client_line(c);
        if (extra) {
            g_assert_null(reply);
        } else {
            g_assert_nonnull(reply);
            g_assert_true(g_str_has_prefix(reply, "{\"error\""));
        }
        close(c);
    }
    /* Client b did not notice. */
    client_send(b, "{\"execute\":\"echo\"}\n");
    line = client_line(b);
    g_assert_cmpstr(line, ==, "{\"return\":{}}");
    g_free(line);
    close(a);
    close(b);
}

/* Deep nesting is refused before json-glib recurses; a client that
 * half-closes after its command still gets the reply. */
static void test_nesting_and_half_close(Fixture *f, gconstpointer data)
{
    int fd = client_connect(f);
    g_autofree char *deep = g_malloc(200001 + 2);
    char *line;

    g_free(client_line(fd)); /* the greeting */
    memset(deep, '[', 200001);
    strcpy(deep + 200001, "\n");
    client_send(fd, deep);
    line = client_line(fd);
    g_assert_nonnull(line);
    g_assert_nonnull(strstr(line, "nested deeper than 64"));
    g_free(line);
    client_send(fd, "{\"execute\":\"echo\",\"id\":7}\n");
    shutdown(fd, SHUT_WR);
    line = client_line(fd);
    g_assert_cmpstr(line, ==, "{\"return\":{},\"id\":7}");
    g_free(line);
    g_assert_null(client_line(fd));
    close(fd);
}

/* Where log_capture() keeps messages while a test looks at them. */
static GString *captured_log;

/* log_capture() - keep each message's text, then log it as usual. */
static GLogWriterOutput log_capture(GLogLevelFlags level,
                                    const GLogField *fields, gsize n_fields,
                                    gpointer data)
{
    for (gsize i = 0; i < n_fields && captured_log; i++) {
        if (!strcmp(fields[i].key, "MESSAGE")) {
            g_string_append_printf(captured_log, "%s\n",
                                   (const char *)fields[i].value);
        }
    }
    return g_log_writer_default(level, fields, n_fields, data);
}

/**
 * connect_as() - try the socket as another user, in a child process
 * @path:	the socket
 * @uid:	the user
 * @gid:	its group
 *
 * Runs the main loop while the child tries. Return: 0 if the child got
 * the greeting, 1 if connect() was refused, 2 if the server closed the
 * connection without a greeting.
 */
static int connect_as(const char *path, uid_t uid, gid_t gid)
{
    pid_t pid = fork();
    int status = -1;

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        char buf[8] = {0};
        int fd;

        if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
            _exit(3);
        }
        g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
            _exit(errno == EACCES ? 1 : 3);
        }
        _exit(read(fd, buf, 6) == 6 && !memcmp(buf, "{\"QMP\"", 6) ? 0 : 2);
    }
    for (int i = 0; i < 5000; i++) {
        g_main_context_iteration(NULL, FALSE);
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        g_usleep(1000);
    }
    g_assert_not_reached();
}

/*
 * The socket is 0600 whatever the umask, so another user cannot connect;
 * with a group it is 0660 and a member can; an allow list turns away the
 * rest; every peer is logged. A world-writable directory, a live socket
 * and something that is not our socket are refused; a stale one replaced.
 */
static void test_access(void)
{
    g_autofree char *dir = g_dir_make_tmp("vduse-net-mgmt-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "sock", NULL);
    g_autoptr(GString) log = g_string_new(NULL);
    const uid_t nobody = 65534, other = 12345;
    g_autoptr(GError) error = NULL;
    MgmtAccess access = {.group = (gid_t)-1};
    struct stat sb;
    mode_t old;
    Mgmt *m;

    if (geteuid() != 0) {
        g_test_skip("needs root to act as another user");
        return;
    }
    g_assert_cmpint(chmod(dir, 0755), ==, 0);
    captured_log = log;

    old = umask(0);
    m = mgmt_new(path, "9.9", NULL, &error);
    umask(old);
    g_assert_no_error(error);
    g_assert_cmpint(stat(path, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 0777, ==, 0600);
    g_assert_cmpint(connect_as(path, nobody, nobody), ==, 1);
    g_assert_cmpint(connect_as(path, 0, 0), ==, 0);
    g_assert_nonnull(strstr(log->str, "uid 0 connected"));

    /* A second listener on the same path: refused, the first unhurt. */
    g_assert_null(mgmt_new(path, "9.9", NULL, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
    g_clear_error(&error);
    g_assert_cmpint(connect_as(path, 0, 0), ==, 0);
    mgmt_free(m);

    /* With a group: 0660, a member connects and is logged. */
    access.group = nobody;
    m = mgmt_new(path, "9.9", &access, &error);
    g_assert_no_error(error);
    g_assert_cmpint(stat(path, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 0777, ==, 0660);
    g_assert_cmpint(sb.st_gid, ==, nobody);
    g_assert_cmpint(connect_as(path, nobody, nobody), ==, 0);
    g_assert_nonnull(strstr(log->str, "uid 65534 connected"));
    mgmt_free(m);

    /* The group may open it, but only the listed uids are served. */
    access.uids = &other;
    access.n_uids = 1;
    m = mgmt_new(path, "9.9", &access, &error);
    g_assert_no_error(error);
    g_assert_cmpint(connect_as(path, nobody, nobody), ==, 2);
    g_assert_nonnull(strstr(log->str, "uid 65534 is not an allowed uid"));
    g_assert_cmpint(connect_as(path, other, nobody), ==, 0);
    g_assert_cmpint(connect_as(path, 0, 0), ==, 0); /* our own uid */
    /* Killed: the socket stays behind, and the next start replaces it. */
    mgmt_free(m);
    {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
        g_assert_cmpint(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
        close(fd); /* bound, never listened: stale */
    }
    m = mgmt_new(path, "9.9", NULL, &error);
    g_assert_no_error(error);
    mgmt_free(m);

    /* Not our socket: a regular file stays and is refused. */
    g_assert_true(g_file_set_contents(path, "x", -1, NULL));
    g_assert_null(mgmt_new(path, "9.9", NULL, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
    g_clear_error(&error);
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    g_unlink(path);

    /* A world-writable directory, sticky or not. */
    g_assert_cmpint(chmod(dir, 01777), ==, 0);
    g_assert_null(mgmt_new(path, "9.9", NULL, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_assert_nonnull(strstr(error->message, "world-writable"));
    g_clear_error(&error);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

    captured_log = NULL;
    g_rmdir(dir);
}

/* request() - send one command on @fd and return the reply line. */
static char *request(int fd, const char *command)
{
    client_send(fd, command);
    client_send(fd, "\n");
    return client_line(fd);
}

/*
 * Faults: 100 clients at once, ten of which never read while 8 MB of
 * events flow (each is dropped when its queue passes 4 MiB; walking the
 * client list while dropping was a use-after-free), and the others get
 * every event and still get replies. Run under ASan in CI.
 */
static void test_many_clients(Fixture *f, gconstpointer data)
{
    enum { CLIENTS = 100, STALLED = 10, EVENTS = 2000 };
    g_autofree char *blob = g_malloc(4097);
    int fds[CLIENTS];
    unsigned int got[CLIENTS] = {0};
    char *line;

    memset(blob, 'x', 4096);
    blob[4096] = 0;
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = client_connect(f);
    }
    for (int i = 0; i < CLIENTS; i++) {
        line = client_line(fds[i]);
        g_assert_true(g_str_has_prefix(line, "{\"QMP\""));
        g_free(line);
    }
    for (int e = 0; e < EVENTS; e++) {
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "blob", blob);
        mgmt_emit_event(f->m, "BIG",
                        json_node_init_object(json_node_alloc(), o));
        json_object_unref(o);
        /* The readers read as the events come; the stalled ones never. */
        for (int k = 0; k < 4; k++) {
            g_main_context_iteration(NULL, FALSE);
        }
        for (int i = STALLED; i < CLIENTS && e % 16 == 0; i++) {
            char buf[65536];
            ssize_t n;

            while ((n = read(fds[i], buf, sizeof(buf))) > 0) {
                for (ssize_t k = 0; k < n; k++) {
                    got[i] += buf[k] == '\n';
                }
            }
        }
    }
    for (int spin = 0; spin < 5000; spin++) {
        bool all = true;

        g_main_context_iteration(NULL, FALSE);
        for (int i = STALLED; i < CLIENTS; i++) {
            char buf[65536];
            ssize_t n;

            while ((n = read(fds[i], buf, sizeof(buf))) > 0) {
                for (ssize_t k = 0; k < n; k++) {
                    got[i] += buf[k] == '\n';
                }
            }
            all = all && got[i] == EVENTS;
        }
        if (all) {
            break;
        }
        g_usleep(1000);
    }
    for (int i = STALLED; i < CLIENTS; i++) {
        g_assert_cmpuint(got[i], ==, EVENTS);
    }
    /* The stalled clients were dropped: their connections end. */
    for (int i = 0; i < STALLED; i++) {
        char buf[65536];
        ssize_t n;
        int spin = 0;

        while ((n = read(fds[i], buf, sizeof(buf))) != 0 && spin < 50000) {
            if (n < 0) {
                g_main_context_iteration(NULL, FALSE);
                spin++;
            }
        }
        g_assert_cmpint(n, ==, 0);
    }
    /* A reader still gets a reply. */
    line = request(fds[STALLED], "{\"execute\":\"echo\",\"id\":1}");
    g_assert_cmpstr(line, ==, "{\"return\":{},\"id\":1}");
    g_free(line);
    for (int i = 0; i < CLIENTS; i++) {
        close(fds[i]);
    }
}

/*
 * export-state and restore-state name files only inside --state-dir: no
 * path, no "..", no symbolic link planted there; without a state
 * directory only the reply form works.
 */
static void test_state_files(Fixture *f, gconstpointer data)
{
    g_autofree char *sdir = g_build_filename(f->dir, "state", NULL);
    g_autofree char *outside = g_build_filename(f->dir, "outside", NULL);
    g_autofree char *link = g_build_filename(sdir, "x", NULL);
    g_autofree char *good = g_build_filename(sdir, "y", NULL);
    g_autofree char *text = NULL;
    NetOptions opts = {.name = "vm0",
                       .mac = {2, 0, 0, 0, 0, 1},
                       .mtu = 1500,
                       .queue_pairs = 1,
                       .ctrl_vq = true};
    NetDev *nd = net_dev_new(&opts, NULL, 0);
    MgmtDevice dev = {.nd = nd, .bus = "none", .state_dir = -1};
    g_autoptr(GError) error = NULL;
    NetState st;
    int fd;
    static const struct {
        const char *command, *expect;
    } refused[] = {
        {"{\"execute\":\"export-state\",\"arguments\":{\"file\":"
         "\"/etc/x\"}}",
         "no '/', no '..'"},
        {"{\"execute\":\"export-state\",\"arguments\":{\"file\":"
         "\"../x\"}}",
         "no '/', no '..'"},
        {"{\"execute\":\"export-state\",\"arguments\":{\"file\":\"..\"}}",
         "no '/', no '..'"},
        {"{\"execute\":\"export-state\",\"arguments\":{\"file\":\"x\"}}",
         "symbolic link"},
        {"{\"execute\":\"restore-state\",\"arguments\":{\"file\":\"x\"}}",
         "symbolic link"},
        {"{\"execute\":\"export-state\",\"arguments\":{\"file\":5}}",
         "must be a file name"},
    };

    mgmt_add_device_commands(f->m, &dev);
    fd = client_connect(f);
    g_free(client_line(fd));

    /* No state directory: the reply form only. */
    text = request(fd, "{\"execute\":\"export-state\",\"arguments\":"
                       "{\"file\":\"y\"}}");
    g_assert_nonnull(strstr(text, "needs a state directory"));
    g_clear_pointer(&text, g_free);
    text = request(fd, "{\"execute\":\"export-state\"}");
    g_assert_true(g_str_has_prefix(text, "{\"return\":{\"version\":1,"));
    g_clear_pointer(&text, g_free);

    g_assert_cmpint(g_mkdir(sdir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(outside, "keep", -1, NULL));
    g_assert_cmpint(symlink(outside, link), ==, 0);
    dev.state_dir = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        text = request(fd, refused[i].command);
        if (!strstr(text, refused[i].expect)) {
            g_error("case %zu: %s", i, text);
        }
        g_clear_pointer(&text, g_free);
    }
    g_assert_true(g_file_get_contents(outside, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "keep");
    g_clear_pointer(&text, g_free);
    g_assert_true(g_file_test(link, G_FILE_TEST_IS_SYMLINK));

    /* A name inside it: written there, and read back by restore-state. */
    text = request(fd, "{\"execute\":\"export-state\",\"arguments\":"
                       "{\"file\":\"y\"}}");
    g_assert_cmpstr(text, ==, "{\"return\":{}}");
    g_clear_pointer(&text, g_free);
    g_assert_true(net_state_load(good, &st, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(st.name, ==, "vm0");
    text = request(fd, "{\"execute\":\"restore-state\",\"arguments\":"
                       "{\"file\":\"y\"}}");
    g_assert_cmpstr(text, ==, "{\"return\":{}}");
    g_clear_pointer(&text, g_free);

    close(fd);
    close(dev.state_dir);
    g_unlink(good);
    g_unlink(link);
    g_unlink(outside);
    g_rmdir(sdir);
    mgmt_free(f->m);
    f->m = NULL;
    net_dev_free(nd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_writer_func(log_capture, NULL, NULL);
    g_test_add("/mgmt/commands", Fixture, NULL, fixture_setup, test_commands,
               fixture_teardown);
    g_test_add("/mgmt/events-and-abuse", Fixture, NULL, fixture_setup,
               test_events_and_abuse, fixture_teardown);
    g_test_add("/mgmt/nesting-and-half-close", Fixture, NULL, fixture_setup,
               test_nesting_and_half_close, fixture_teardown);
    g_test_add_func("/mgmt/access", test_access);
    g_test_add("/mgmt/many-clients", Fixture, NULL, fixture_setup,
               test_many_clients, fixture_teardown);
    g_test_add("/mgmt/state-files", Fixture, NULL, fixture_setup,
               test_state_files, fixture_teardown);
    return g_test_run();
}
