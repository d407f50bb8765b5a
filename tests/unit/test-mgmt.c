/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-mgmt.c - the management socket: greeting, replies, errors, events,
 * several clients, and a client misbehaving without hurting the others
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <sys/socket.h>
#include <sys/un.h>
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
    f->m = mgmt_new(f->path, "9.9", &error);
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
    g_autofree char *big = g_malloc(1024 * 1024 + 2);
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
    /* Client b did not notice. */
    client_send(b, "{\"execute\":\"echo\"}\n");
    line = client_line(b);
    g_assert_cmpstr(line, ==, "{\"return\":{}}");
    g_free(line);
    close(a);
    close(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/mgmt/commands", Fixture, NULL, fixture_setup, test_commands,
               fixture_teardown);
    g_test_add("/mgmt/events-and-abuse", Fixture, NULL, fixture_setup,
               test_events_and_abuse, fixture_teardown);
    return g_test_run();
}
