/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vduse-netctl.c - drive a running vduse-net through its management socket
 *
 * DOC: Theory of operation
 *
 * One connection per run: read the greeting, send one command of the
 * protocol (docs/management.md), wait for its reply (events that arrive
 * meanwhile are skipped), print it for a person or, with --json, as the
 * reply's one line of JSON for a script. "events" instead prints events
 * until it is interrupted or the daemon closes the socket.
 *
 * Plain blocking I/O with poll() and a deadline: a daemon that does not
 * answer within TIMEOUT_S is an error, never a hang. Exit status as the
 * daemon's: 0, 1 for an error (cannot connect, an error reply: one line),
 * 2 for bad usage (one line and "see --help").
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How long to wait for the greeting and for a reply. */
#define TIMEOUT_S 30

/* The longest line accepted from the daemon. */
#define MAX_LINE (16 << 20)

/**
 * struct Command - a command of this tool
 * @name:	what the user types
 * @execute:	the protocol's command, or NULL for "events"
 * @arg:	what its one argument is called, or NULL if it takes none
 * @help:	one line for --help
 */
typedef struct Command {
    const char *name;
    const char *execute;
    const char *arg;
    const char *help;
} Command;

static const Command commands[] = {
    {"status", "query-status", NULL, "the device, its driver and binding"},
    {"stats", "query-stats", NULL, "counters per queue pair, as a table"},
    {"state", "query-state", NULL, "the migration state (JSON)"},
    {"export", "export-state", "NAME",
     "write the state to file NAME in the daemon's --state-dir"},
    {"restore", "restore-state", "NAME",
     "restore the state in file NAME of the daemon's --state-dir at the "
     "driver's next start"},
    {"suspend", "suspend", NULL,
     "stop the datapath until the driver resets the device"},
    {"link", "set-link", "up|down", "set the link the driver sees"},
    {"announce", "announce", NULL,
     "ask the driver to announce itself (gratuitous ARP, ND)"},
    {"events", NULL, NULL, "print events as they come, until interrupted"},
};

/**
 * struct Ctl - the connection
 * @path:	the socket's path, for messages
 * @fd:		the connected socket
 * @buf:	what was read and not yet returned as a line
 */
typedef struct Ctl {
    const char *path;
    int fd;
    GString *buf;
} Ctl;

/* Set by SIGINT or SIGTERM while following events. */
static volatile sig_atomic_t interrupted;

/**
 * usage_error() - bad usage: one line, a pointer to --help, exit 2
 * @fmt:	printf format
 */
G_GNUC_PRINTF(1, 2)
G_GNUC_NORETURN static void usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("vduse-netctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see --help)\n", stderr);
    exit(2);
}

/**
 * fail() - an error: one line "vduse-netctl: ...", exit 1
 * @fmt:	printf format
 */
G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("vduse-netctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* on_interrupt() - SIGINT, SIGTERM: stop following events. */
static void on_interrupt(int sig)
{
    interrupted = 1;
}

/**
 * ctl_connect() - connect to the daemon's socket
 * @ctl:	filled in
 * @path:	the socket
 * @error:	set on failure
 *
 * Return: true on success.
 */
static bool ctl_connect(Ctl *ctl, const char *path, GError **error)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                    "cannot connect to %s: the path is too long", path);
        return false;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int err = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "cannot connect to %s: %s", path, g_strerror(err));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    *ctl = (Ctl){.path = path, .fd = fd, .buf = g_string_new(NULL)};
    return true;
}

/**
 * ctl_close() - close the connection
 * @ctl:	the connection
 */
static void ctl_close(Ctl *ctl)
{
    close(ctl->fd);
    g_string_free(ctl->buf, TRUE);
}

/**
 * ctl_read_line() - the next line from the daemon
 * @ctl:	the connection
 * @timeout_ms:	how long to wait for it; -1: as long as it takes
 * @error:	set on failure: timeout, end of stream (G_IO_ERROR_CLOSED),
 *		an interrupt (G_IO_ERROR_CANCELLED), a line over MAX_LINE
 *
 * Return: the line without its newline (g_free()), or NULL.
 */
static char *ctl_read_line(Ctl *ctl, int timeout_ms, GError **error)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        char *nl = memchr(ctl->buf->str, '\n', ctl->buf->len);
        struct pollfd p = {.fd = ctl->fd, .events = POLLIN};
        char chunk[65536];
        int wait = timeout_ms;
        ssize_t n;

        if (nl) {
            char *line = g_strndup(ctl->buf->str, nl - ctl->buf->str);

            g_string_erase(ctl->buf, 0, nl - ctl->buf->str + 1);
            return line;
        }
        if (ctl->buf->len > MAX_LINE) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                        "%s: a line over %d bytes", ctl->path, MAX_LINE);
            return NULL;
        }
        if (timeout_ms >= 0) {
            wait = (int)MAX(0, (end - g_get_monotonic_time()) / 1000);
        }
        if (interrupted) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted");
            return NULL;
        }
        n = poll(&p, 1, wait);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "%s: no answer within %d s", ctl->path, TIMEOUT_S);
            return NULL;
        }
        n = read(ctl->fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                        "%s: the daemon closed the connection%s%s", ctl->path,
                        n < 0 ? ": " : "", n < 0 ? g_strerror(errno) : "");
            return NULL;
        }
        g_string_append_len(ctl->buf, chunk, n);
    }
}

/**
 * ctl_read_object() - the next line from the daemon, as a JSON object
 * @ctl:	the connection
 * @timeout_ms:	see ctl_read_line()
 * @error:	set on failure
 *
 * Return: the object's node (json_node_unref()), or NULL.
 */
static JsonNode *ctl_read_object(Ctl *ctl, int timeout_ms, GError **error)
{
    g_autofree char *line = ctl_read_line(ctl, timeout_ms, error);
    g_autoptr(JsonNode) node = NULL;

    if (!line) {
        return NULL;
    }
    node = json_from_string(line, NULL);
    if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: the daemon sent something that is not a JSON "
                    "object: %.60s",
                    ctl->path, line);
        return NULL;
    }
    return g_steal_pointer(&node);
}

/**
 * ctl_greeting() - read the greeting and check it is vduse-net's
 * @ctl:	the connection
 * @error:	set on failure
 *
 * Return: true if the greeting came.
 */
static bool ctl_greeting(Ctl *ctl, GError **error)
{
    g_autoptr(JsonNode) hello = ctl_read_object(ctl, TIMEOUT_S * 1000, error);

    if (!hello) {
        return false;
    }
    if (!json_object_has_member(json_node_get_object(hello), "QMP")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: no greeting: not a vduse-net management socket?",
                    ctl->path);
        return false;
    }
    return true;
}

/**
 * ctl_call() - send a command and wait for its reply
 * @ctl:	the connection
 * @execute:	the command
 * @args:	its arguments (consumed), or NULL
 * @error:	set on failure; an error reply's "desc" is its message
 *
 * Events that arrive before the reply are skipped.
 * Return: the reply's "return" value (json_node_unref()), or NULL.
 */
static JsonNode *ctl_call(Ctl *ctl, const char *execute, JsonObject *args,
                          GError **error)
{
    g_autoptr(JsonObject) cmd = json_object_new();
    g_autoptr(JsonNode) node = json_node_alloc();
    g_autofree char *line = NULL;
    g_autofree char *text = NULL;
    size_t done = 0, len;

    json_object_set_string_member(cmd, "execute", execute);
    if (args) {
        json_object_set_object_member(cmd, "arguments", args);
    }
    json_node_init_object(node, cmd);
    line = json_to_string(node, FALSE);
    text = g_strconcat(line, "\n", NULL);
    len = strlen(text);
    while (done < len) {
        ssize_t n = write(ctl->fd, text + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                        "%s: %s", ctl->path, g_strerror(errno));
            return NULL;
        }
        done += (size_t)n;
    }
    for (;;) {
        g_autoptr(JsonNode) reply =
            ctl_read_object(ctl, TIMEOUT_S * 1000, error);
        JsonObject *o;

        if (!reply) {
            return NULL;
        }
        o = json_node_get_object(reply);
        if (json_object_has_member(o, "return")) {
            return json_node_copy(json_object_get_member(o, "return"));
        }
        if (json_object_has_member(o, "error")) {
            JsonNode *err = json_object_get_member(o, "error");
            const char *desc = NULL;

            if (JSON_NODE_HOLDS_OBJECT(err)) {
                desc = json_object_get_string_member_with_default(
                    json_node_get_object(err), "desc", NULL);
            }
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                        desc ? desc : "the daemon refused the command");
            return NULL;
        }
    }
}

/**
 * show_value() - a JSON value as a person reads it
 * @key:	its name in the reply
 * @value:	the value
 *
 * Return: the text (g_free()).
 */
static char *show_value(const char *key, JsonNode *value)
{
    static const char *const status_bits[] = {
        "ACKNOWLEDGE", "DRIVER", "DRIVER_OK",          "FEATURES_OK",
        NULL,          NULL,     "DEVICE_NEEDS_RESET", "FAILED"};

    if (JSON_NODE_HOLDS_VALUE(value) &&
        json_node_get_value_type(value) == G_TYPE_BOOLEAN) {
        return g_strdup(json_node_get_boolean(value) ? "yes" : "no");
    }
    if (JSON_NODE_HOLDS_VALUE(value) &&
        json_node_get_value_type(value) == G_TYPE_INT64) {
        gint64 n = json_node_get_int(value);

        if (!strcmp(key, "features")) {
            return g_strdup_printf("0x%016" G_GINT64_MODIFIER "x", n);
        }
        if (!strcmp(key, "status")) {
            GString *s = g_string_new(NULL);

            g_string_printf(s, "0x%02x", (unsigned int)n);
            for (unsigned int b = 0; b < G_N_ELEMENTS(status_bits); b++) {
                if ((n & (1 << b)) && status_bits[b]) {
                    g_string_append_printf(s, " %s", status_bits[b]);
                }
            }
            return g_string_free(s, FALSE);
        }
        return g_strdup_printf("%" G_GINT64_FORMAT, n);
    }
    if (JSON_NODE_HOLDS_VALUE(value) &&
        json_node_get_value_type(value) == G_TYPE_STRING) {
        return g_strdup(json_node_get_string(value));
    }
    return json_to_string(value, FALSE);
}

/**
 * print_status() - query-status's reply, one member per line
 * @ret:	the reply's "return"
 */
static void print_status(JsonNode *ret)
{
    g_autoptr(GList) members = NULL;

    if (!JSON_NODE_HOLDS_OBJECT(ret)) {
        fail("status: the daemon's reply is not an object");
    }
    members = json_object_get_members(json_node_get_object(ret));
    for (GList *m = members; m; m = m->next) {
        g_autofree char *text = show_value(
            m->data,
            json_object_get_member(json_node_get_object(ret), m->data));

        printf("%-13s %s\n", (const char *)m->data, text);
    }
}

/**
 * print_stats() - query-stats's reply as a table: a row per counter, a
 * column per queue pair, and a total column when there are several
 * @ret:	the reply's "return": an array of objects
 */
static void print_stats(JsonNode *ret)
{
    JsonArray *pairs;
    JsonObject *first;
    g_autoptr(GList) keys = NULL;
    unsigned int n;

    if (!JSON_NODE_HOLDS_ARRAY(ret) ||
        !json_array_get_length(json_node_get_array(ret)) ||
        !JSON_NODE_HOLDS_OBJECT(
            json_array_get_element(json_node_get_array(ret), 0))) {
        fail("stats: the daemon's reply is not a list of queue pairs");
    }
    pairs = json_node_get_array(ret);
    n = json_array_get_length(pairs);
    first = json_array_get_object_element(pairs, 0);
    keys = json_object_get_members(first);
    printf("%-14s", "");
    for (unsigned int i = 0; i < n; i++) {
        g_autofree char *head = g_strdup_printf("pair %u", i);

        printf(" %14s", head);
    }
    printf(n > 1 ? " %14s\n" : "\n", "total");
    for (GList *k = keys; k; k = k->next) {
        gint64 total = 0;
        bool numeric = true;

        printf("%-14s", (const char *)k->data);
        for (unsigned int i = 0; i < n; i++) {
            JsonNode *pair = json_array_get_element(pairs, i);
            JsonNode *v = JSON_NODE_HOLDS_OBJECT(pair)
                              ? json_object_get_member(
                                    json_node_get_object(pair), k->data)
                              : NULL;
            g_autofree char *text = v ? show_value(k->data, v) : g_strdup("-");

            if (v && JSON_NODE_HOLDS_VALUE(v) &&
                json_node_get_value_type(v) == G_TYPE_INT64) {
                total += json_node_get_int(v);
            } else {
                numeric = false;
            }
            printf(" %14s", text);
        }
        if (n > 1 && numeric) {
            printf(" %14" G_GINT64_FORMAT, total);
        }
        printf("\n");
    }
}

/**
 * print_event() - one event, as a person reads it: local time, name, data
 * @ev:		the event object
 */
static void print_event(JsonObject *ev)
{
    JsonNode *ts = json_object_get_member(ev, "timestamp");
    JsonNode *data = json_object_get_member(ev, "data");
    g_autofree char *when = NULL;
    g_autofree char *text = data ? json_to_string(data, FALSE) : NULL;

    if (ts && JSON_NODE_HOLDS_OBJECT(ts)) {
        JsonObject *t = json_node_get_object(ts);
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(
            json_object_get_int_member_with_default(t, "seconds", 0));

        when = dt ? g_date_time_format(dt, "%F %T") : NULL;
        if (when) {
            g_autofree char *s = when;

            when = g_strdup_printf(
                "%s.%06" G_GINT64_FORMAT, s,
                json_object_get_int_member_with_default(t, "microseconds", 0));
        }
    }
    printf("%s %s%s%s\n", when ? when : "-",
           json_object_get_string_member_with_default(ev, "event", "?"),
           text ? " " : "", text ? text : "");
    fflush(stdout);
}

/**
 * follow_events() - print events until interrupted or the daemon closes
 * @ctl:	the connection, past the greeting
 * @json:	print each event as its JSON line
 *
 * Return: the exit status: 0 when interrupted or the stream ended.
 */
static int follow_events(Ctl *ctl, bool json)
{
    struct sigaction sa = {.sa_handler = on_interrupt};

    /* No SA_RESTART: poll() returns and the loop sees the flag. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) node = ctl_read_object(ctl, -1, &error);
        JsonObject *o;

        if (!node) {
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
                return 0;
            }
            fail("%s", error->message);
        }
        o = json_node_get_object(node);
        if (!json_object_has_member(o, "event")) {
            continue;
        }
        if (json) {
            g_autofree char *text = json_to_string(node, FALSE);

            printf("%s\n", text);
            fflush(stdout);
        } else {
            print_event(o);
        }
    }
}

/**
 * command_args() - the protocol arguments of a command with an argument
 * @cmd:	the command
 * @arg:	what the user gave
 *
 * Exits with one line (2) on a bad argument.
 * Return: the arguments object (consumed by ctl_call()), or NULL.
 */
static JsonObject *command_args(const Command *cmd, const char *arg)
{
    JsonObject *args;

    if (!cmd->arg) {
        return NULL;
    }
    args = json_object_new();
    if (!strcmp(cmd->name, "link")) {
        if (strcmp(arg, "up") && strcmp(arg, "down")) {
            usage_error("link: '%s': use up or down", arg);
        }
        json_object_set_boolean_member(args, "up", !strcmp(arg, "up"));
    } else {
        json_object_set_string_member(args, "file", arg);
    }
    return args;
}

/**
 * find_command() - the command called @name
 * @name:	what the user typed
 *
 * Return: the command, or NULL.
 */
static const Command *find_command(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (!strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

/**
 * commands_help() - the list of commands for --help
 *
 * Return: the text (g_free()).
 */
static char *commands_help(void)
{
    GString *s = g_string_new("Commands:\n");

    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        g_autofree char *usage = g_strdup_printf(
            "%s%s%s", commands[i].name, commands[i].arg ? " " : "",
            commands[i].arg ? commands[i].arg : "");

        g_string_append_printf(s, "  %-16s %s\n", usage, commands[i].help);
    }
    g_string_append(s, "\nExit status: 0 on success, 1 on an error (cannot "
                       "connect, the daemon refused),\n2 on bad usage. See "
                       "vduse-netctl(1).");
    return g_string_free(s, FALSE);
}

int main(int argc, char **argv)
{
    gboolean json = FALSE, version = FALSE;
    const GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json,
         "Print the reply (or each event) as one line of JSON, for scripts",
         NULL},
        {"version", 0, 0, G_OPTION_ARG_NONE, &version,
         "Print the version and exit", NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) octx =
        g_option_context_new("SOCKET COMMAND [ARG]");
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *help = commands_help();
    const Command *cmd;
    JsonObject *args;
    Ctl ctl;
    int status = 0;

    signal(SIGPIPE, SIG_IGN);
    g_option_context_set_summary(octx, "Drive a running vduse-net through its "
                                       "management socket (vduse-net --mgmt).");
    g_option_context_set_description(octx, help);
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &error)) {
        usage_error("%s", error->message);
    }
    if (version) {
        printf("vduse-netctl %s\n", VDUSE_NET_VERSION);
        return 0;
    }
    if (argc < 3) {
        usage_error(argc < 2 ? "give the daemon's SOCKET and a COMMAND"
                             : "give a COMMAND after the SOCKET");
    }
    cmd = find_command(argv[2]);
    if (!cmd) {
        usage_error("unknown command '%s'", argv[2]);
    }
    if (cmd->arg && argc < 4) {
        usage_error("%s needs %s", cmd->name, cmd->arg);
    }
    if (argc > (cmd->arg ? 4 : 3)) {
        usage_error("%s: unexpected argument '%s'", cmd->name,
                    argv[cmd->arg ? 4 : 3]);
    }
    args = command_args(cmd, argv[3]);
    if (!ctl_connect(&ctl, argv[1], &error) || !ctl_greeting(&ctl, &error)) {
        fail("%s", error->message);
    }
    if (!cmd->execute) {
        status = follow_events(&ctl, json);
        ctl_close(&ctl);
        return status;
    }
    ret = ctl_call(&ctl, cmd->execute, args, &error);
    ctl_close(&ctl);
    if (!ret) {
        fail("%s", error->message);
    }
    if (json) {
        g_autofree char *text = json_to_string(ret, FALSE);

        printf("%s\n", text);
    } else if (!strcmp(cmd->name, "status")) {
        print_status(ret);
    } else if (!strcmp(cmd->name, "stats")) {
        print_stats(ret);
    } else if (!strcmp(cmd->name, "state")) {
        g_autofree char *text = json_to_string(ret, TRUE);

        printf("%s\n", text);
    }
    return 0;
}
