/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server.c - the management socket: a QMP-style JSON line server (mgmt.h)
 *
 * DOC: Theory of operation
 *
 * A GSocketService accepts clients in the main context. Each client's input
 * is read in chunks into a buffer bounded at MGMT_MAX_LINE, split into
 * lines, and each line parsed with json-glib and executed at once; the
 * reply and events are queued on the client and written asynchronously, so
 * a client that does not read never blocks the main loop (its queue is
 * bounded too: past MGMT_MAX_QUEUED bytes it is dropped).
 */
#include "config.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mgmt-priv.h"
#include "mgmt.h"
#include "util.h"

#define MGMT_MAX_LINE (1024 * 1024)
#define MGMT_MAX_QUEUED (4 * 1024 * 1024)
#define MGMT_READ_CHUNK 4096

GQuark mgmt_error_quark(void)
{
    return g_quark_from_static_string("mgmt-error-quark");
}

typedef struct MgmtClient MgmtClient;

/**
 * struct Mgmt - the listener
 * @path:	socket path
 * @version:	program version
 * @service:	the socket service
 * @commands:	name -> MgmtCommand
 * @clients:	connected clients
 * @uids:	the uids served besides our own, or NULL for any that may open
 *		the socket
 * @n_uids:	entries in @uids
 * @next_id:	number of the next client, for log lines
 */
struct Mgmt {
    char *path;
    char *version;
    uid_t *uids;
    unsigned int n_uids;
    unsigned int next_id;
    GSocketService *service;
    GHashTable *commands;
    GList *clients;
};

/**
 * struct MgmtCommand - a registered command
 * @fn:		handler
 * @opaque:	its data
 */
typedef struct MgmtCommand {
    MgmtCommandFn fn;
    void *opaque;
} MgmtCommand;

/**
 * struct MgmtClient - one connection
 * @m:		the listener
 * @conn:	the connection
 * @cancel:	cancels pending I/O when the client goes
 * @in:		bytes read, not yet a whole line
 * @chunk:	read buffer
 * @out:	queued output lines (GBytes)
 * @queued:	bytes in @out
 * @writing:	an asynchronous write is in flight
 * @refs:	one for the client list, one per asynchronous operation
 * @dropped:	gone from the list; callbacks only release their reference
 * @eof:	the client closed its side: drop it once its replies are out
 */
struct MgmtClient {
    Mgmt *m;
    GSocketConnection *conn;
    GCancellable *cancel;
    GByteArray *in;
    uint8_t chunk[MGMT_READ_CHUNK];
    GQueue out;
    size_t queued;
    bool writing;
    int refs;
    bool dropped;
    bool eof;
};

static void client_read(MgmtClient *c);
static void client_write_next(MgmtClient *c);

/* client_unref() - release a reference; the last frees @c. */
static void client_unref(MgmtClient *c)
{
    GBytes *b;

    if (--c->refs > 0) {
        return;
    }
    g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    g_object_unref(c->conn);
    g_object_unref(c->cancel);
    g_byte_array_unref(c->in);
    while ((b = g_queue_pop_head(&c->out))) {
        g_bytes_unref(b);
    }
    g_free(c);
}

/*
 * client_drop() - disconnect @c: off the list, pending I/O cancelled; it is
 * freed when the cancelled operations have returned.
 */
static void client_drop(MgmtClient *c)
{
    if (c->dropped) {
        return;
    }
    c->dropped = true;
    c->m->clients = g_list_remove(c->m->clients, c);
    g_cancellable_cancel(c->cancel);
    client_unref(c);
}

/**
 * line_bytes() - @node as one line of valid UTF-8 JSON
 * @node:	the message
 *
 * Return: the line with its newline, a new GBytes.
 */
static GBytes *line_bytes(JsonNode *node)
{
    g_autofree char *text = json_to_string(node, FALSE);
    size_t len;

    /* A string json-glib accepted (a lone surrogate escape, say) can come
     * out as bytes that are not UTF-8: every line we send is valid JSON. */
    if (!g_utf8_validate(text, -1, NULL)) {
        char *valid = g_utf8_make_valid(text, -1);

        g_free(text);
        text = valid;
    }
    len = strlen(text);
    text = g_realloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = 0;
    return g_bytes_new_take(g_steal_pointer(&text), len + 1);
}

/**
 * client_queue() - queue a line for @c
 * @c:		the client
 * @line:	the line; a reference is taken
 *
 * A client whose queue would pass MGMT_MAX_QUEUED is dropped.
 */
static void client_queue(MgmtClient *c, GBytes *line)
{
    size_t len = g_bytes_get_size(line);

    if (c->dropped) {
        return;
    }
    if (c->queued + len > MGMT_MAX_QUEUED) {
        g_message("mgmt: a client does not read its replies; dropping it");
        client_drop(c);
        return;
    }
    g_queue_push_tail(&c->out, g_bytes_ref(line));
    c->queued += len;
    client_write_next(c);
}

/**
 * client_send() - queue @node as one line for @c
 * @c:		the client
 * @node:	the message; not consumed
 */
static void client_send(MgmtClient *c, JsonNode *node)
{
    g_autoptr(GBytes) line = line_bytes(node);

    client_queue(c, line);
}

/* client_written() - an asynchronous write finished. */
static void client_written(GObject *src, GAsyncResult *res, gpointer data)
{
    MgmtClient *c = data;
    bool ok =
        g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, NULL, NULL);
    GBytes *b;

    c->writing = false;
    if (!ok || c->dropped) {
        if (!c->dropped) {
            client_drop(c);
        }
        client_unref(c);
        return;
    }
    b = g_queue_pop_head(&c->out);
    c->queued -= g_bytes_get_size(b);
    g_bytes_unref(b);
    if (c->eof && g_queue_is_empty(&c->out)) {
        client_drop(c);
    } else {
        client_write_next(c);
    }
    client_unref(c);
}

/* client_write_next() - start writing the next queued line, if idle. */
static void client_write_next(MgmtClient *c)
{
    GBytes *b = g_queue_peek_head(&c->out);
    size_t len;
    const void *data;

    if (c->writing || !b || c->dropped) {
        return;
    }
    data = g_bytes_get_data(b, &len);
    c->writing = true;
    c->refs++;
    g_output_stream_write_all_async(
        g_io_stream_get_output_stream(G_IO_STREAM(c->conn)), data, len,
        G_PRIORITY_DEFAULT, c->cancel, client_written, c);
}

/**
 * reply_error() - an error reply
 * @id:		the request's "id", or NULL
 * @class:	error class
 * @desc:	human-readable description
 *
 * Return: the reply, a new node.
 */
static JsonNode *reply_error(JsonNode *id, const char *class, const char *desc)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "class");
    json_builder_add_string_value(b, class);
    json_builder_set_member_name(b, "desc");
    json_builder_add_string_value(b, desc);
    json_builder_end_object(b);
    if (id) {
        json_builder_set_member_name(b, "id");
        json_builder_add_value(b, json_node_copy(id));
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/**
 * execute_line() - run one request line
 * @m:		the listener
 * @line:	the line, NUL-terminated, without its newline
 *
 * Return: the reply, a new node.
 */
static JsonNode *execute_line(Mgmt *m, const char *line)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) empty = json_object_new();
    g_autoptr(JsonBuilder) b = NULL;
    JsonNode *root, *id = NULL, *ret;
    JsonObject *req, *args = empty;
    const char *name;
    MgmtCommand *cmd;

    if (!json_depth_ok(line, strlen(line), JSON_MAX_DEPTH)) {
        return reply_error(
            NULL, "GenericError",
            "JSON nested deeper than " G_STRINGIFY(JSON_MAX_DEPTH) " levels");
    }
    if (!json_parser_load_from_data(parser, line, -1, &error)) {
        return reply_error(NULL, "GenericError", error->message);
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        return reply_error(NULL, "GenericError", "expected a JSON object");
    }
    req = json_node_get_object(root);
    id = json_object_get_member(req, "id");
    if (!json_object_has_member(req, "execute") ||
        json_node_get_value_type(json_object_get_member(req, "execute")) !=
            G_TYPE_STRING) {
        return reply_error(id, "GenericError",
                           "\"execute\" must be a command name (a string)");
    }
    name = json_object_get_string_member(req, "execute");
    if (json_object_has_member(req, "arguments")) {
        JsonNode *a = json_object_get_member(req, "arguments");

        if (!JSON_NODE_HOLDS_OBJECT(a)) {
            return reply_error(id, "GenericError",
                               "\"arguments\" must be an object");
        }
        args = json_node_get_object(a);
    }
    cmd = g_hash_table_lookup(m->commands, name);
    if (!cmd) {
        g_autofree char *desc = g_strdup_printf("unknown command '%s'", name);

        return reply_error(id, "CommandNotFound", desc);
    }
    ret = cmd->fn(args, &error, cmd->opaque);
    if (!ret) {
        return reply_error(
            id,
            g_error_matches(error, MGMT_ERROR, MGMT_ERROR_NOT_FOUND)
                ? "CommandNotFound"
                : "GenericError",
            error ? error->message : "failed");
    }
    b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "return");
    json_builder_add_value(b, ret);
    if (id) {
        json_builder_set_member_name(b, "id");
        json_builder_add_value(b, json_node_copy(id));
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/**
 * client_execute() - run one line from @c and queue the reply
 * @c:		the client
 * @line:	the line, NUL-terminated, without its newline
 */
static void client_execute(MgmtClient *c, const char *line)
{
    g_autoptr(JsonNode) reply = execute_line(c->m, line);

    client_send(c, reply);
}

char *mgmt_execute_line(Mgmt *m, const char *line)
{
    g_autoptr(JsonNode) reply = execute_line(m, line);
    g_autoptr(GBytes) bytes = line_bytes(reply);
    gsize len;
    const char *data = g_bytes_get_data(bytes, &len);

    return g_strndup(data, len);
}

/* client_on_read() - a chunk arrived: execute every whole line. */
static void client_on_read(GObject *src, GAsyncResult *res, gpointer data)
{
    MgmtClient *c = data;
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &error);
    guint start = 0;

    if (n == 0 && !c->dropped && (c->writing || !g_queue_is_empty(&c->out))) {
        /* Half-closed after its last command: the replies still go out. */
        c->eof = true;
        client_unref(c);
        return;
    }
    if (n <= 0 || c->dropped) {
        client_drop(c); /* EOF, error, or dropped already */
        client_unref(c);
        return;
    }
    g_byte_array_append(c->in, c->chunk, (guint)n);
    /* What came before this chunk holds no newline: look at the chunk. */
    for (guint i = c->in->len - (guint)n; i < c->in->len; i++) {
        if (c->in->data[i] != '\n') {
            continue;
        }
        if (i - start > MGMT_MAX_LINE) {
            break; /* over the bound, whatever the chunks were */
        }
        c->in->data[i] = 0;
        if (i > start && !c->dropped) {
            client_execute(c, (const char *)c->in->data + start);
        }
        start = i + 1;
    }
    g_byte_array_remove_range(c->in, 0, start);
    if (c->in->len > MGMT_MAX_LINE) {
        g_message("mgmt: a client sent a line over %u bytes; dropping it",
                  MGMT_MAX_LINE);
        client_drop(c);
        client_unref(c);
        return;
    }
    client_read(c);
    client_unref(c);
}

/* client_read() - read the next chunk. */
static void client_read(MgmtClient *c)
{
    c->refs++;
    g_input_stream_read_async(
        g_io_stream_get_input_stream(G_IO_STREAM(c->conn)), c->chunk,
        sizeof(c->chunk), G_PRIORITY_DEFAULT, c->cancel, client_on_read, c);
}

/**
 * peer_allowed() - log who connected, and whether they may talk to us
 * @m:		the listener
 * @conn:	the new connection
 *
 * Return: true to serve the connection.
 */
static bool peer_allowed(Mgmt *m, GSocketConnection *conn)
{
    g_autoptr(GCredentials) cred =
        g_socket_get_credentials(g_socket_connection_get_socket(conn), NULL);
    unsigned int id = m->next_id++;
    pid_t pid;
    uid_t uid;

    if (!cred) {
        g_message("mgmt: client %u: no peer credentials; refused", id);
        return false;
    }
    pid = g_credentials_get_unix_pid(cred, NULL);
    uid = g_credentials_get_unix_user(cred, NULL);
    if (m->uids && uid != geteuid()) {
        bool listed = false;

        for (unsigned int i = 0; i < m->n_uids; i++) {
            listed = listed || m->uids[i] == uid;
        }
        if (!listed) {
            g_message("mgmt: client %u: pid %d uid %u is not an allowed uid; "
                      "refused",
                      id, (int)pid, (unsigned int)uid);
            return false;
        }
    }
    g_message("mgmt: client %u: pid %d uid %u connected", id, (int)pid,
              (unsigned int)uid);
    return true;
}

/* on_incoming() - a client connected: greet it and start reading. */
static gboolean on_incoming(GSocketService *service, GSocketConnection *conn,
                            GObject *source, gpointer data)
{
    Mgmt *m = data;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) greeting = NULL;
    MgmtClient *c;

    if (!peer_allowed(m, conn)) {
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        return TRUE;
    }
    c = g_new0(MgmtClient, 1);
    c->m = m;
    c->refs = 1; /* the list's */
    c->conn = g_object_ref(conn);
    c->cancel = g_cancellable_new();
    c->in = g_byte_array_new();
    g_queue_init(&c->out);
    m->clients = g_list_prepend(m->clients, c);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "QMP");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "vduse-net");
    json_builder_add_string_value(b, m->version);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "capabilities");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
    greeting = json_builder_get_root(b);
    client_send(c, greeting);
    client_read(c);
    return TRUE;
}

JsonNode *mgmt_reply_empty(void)
{
    g_autoptr(JsonObject) o = json_object_new();

    /* The node takes a reference of its own. */
    return json_node_init_object(json_node_alloc(), o);
}

/* cmd_qmp_capabilities() - accepted for QMP clients; nothing to negotiate. */
static JsonNode *cmd_qmp_capabilities(JsonObject *args, GError **error,
                                      void *opaque)
{
    return mgmt_reply_empty();
}

/**
 * check_directory() - refuse a socket directory anyone may write to
 * @path:	the socket's path
 * @error:	set if its directory is world-writable or cannot be read
 *
 * In such a directory anyone could put their own socket or a link where
 * ours goes. Return: true if the directory is fine.
 */
static bool check_directory(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    struct stat sb;

    if (stat(dir, &sb) < 0) {
        int err = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "management socket %s: %s: %s", path, dir, g_strerror(err));
        return false;
    }
    if (sb.st_mode & S_IWOTH) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "management socket %s: the directory %s is "
                    "world-writable; use one only its owner can write "
                    "(e.g. /run/vduse-net)",
                    path, dir);
        return false;
    }
    return true;
}

/**
 * remove_stale() - remove a socket a killed process of ours left at @path
 * @path:	the socket's path
 * @error:	set if something else is there, or someone listens on it
 *
 * Return: true if @path is free now.
 */
static bool remove_stale(const char *path, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat sb;
    bool listening;
    int fd;

    if (lstat(path, &sb) < 0) {
        return true; /* nothing there (or bind() will say why) */
    }
    if (!S_ISSOCK(sb.st_mode) || sb.st_uid != geteuid()) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "management socket %s: something else is there (not a "
                    "socket of ours)",
                    path);
        return false;
    }
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    listening = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    if (listening) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                    "management socket %s: another process serves it", path);
        return false;
    }
    unlink(path);
    return true;
}

/**
 * listen_on() - bind @path with mode 0600 (0660 for @group) and listen
 * @m:		the listener
 * @path:	the socket
 * @group:	the group given access, or (gid_t)-1
 * @error:	set on failure
 *
 * Return: true on success.
 */
static bool listen_on(Mgmt *m, const char *path, gid_t group, GError **error)
{
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    mode_t old;
    bool ok;

    if (!check_directory(path, error) || !remove_stale(path, error)) {
        return false;
    }
    /* Room for a burst of clients before the main loop accepts them. */
    g_socket_listener_set_backlog(G_SOCKET_LISTENER(m->service), 128);
    /* The socket is made with the mode the umask leaves: none for others,
     * whatever the caller's umask was. */
    old = umask(0177);
    ok = g_socket_listener_add_address(
        G_SOCKET_LISTENER(m->service), addr, G_SOCKET_TYPE_STREAM,
        G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, error);
    umask(old);
    if (!ok) {
        g_prefix_error(error, "management socket %s: ", path);
        return false;
    }
    if (group != (gid_t)-1 &&
        (chown(path, (uid_t)-1, group) < 0 || chmod(path, 0660) < 0)) {
        int err = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                    "management socket %s: giving group %u access: %s", path,
                    (unsigned int)group, g_strerror(err));
        unlink(path);
        return false;
    }
    return true;
}

Mgmt *mgmt_new(const char *path, const char *version, const MgmtAccess *access,
               GError **error)
{
    Mgmt *m = g_new0(Mgmt, 1);

    m->path = g_strdup(path);
    m->version = g_strdup(version);
    m->commands =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->service = g_socket_service_new();
    if (access && access->uids) {
        m->uids = g_memdup2(access->uids, access->n_uids * sizeof(uid_t));
        m->n_uids = access->n_uids;
    }
    if (!listen_on(m, path, access ? access->group : (gid_t)-1, error)) {
        g_object_unref(m->service);
        g_hash_table_unref(m->commands);
        g_free(m->uids);
        g_free(m->path);
        g_free(m->version);
        g_free(m);
        return NULL;
    }
    g_signal_connect(m->service, "incoming", G_CALLBACK(on_incoming), m);
    g_socket_service_start(m->service);
    mgmt_add_command(m, "qmp_capabilities", cmd_qmp_capabilities, NULL);
    return m;
}

void mgmt_free(Mgmt *m)
{
    if (!m) {
        return;
    }
    g_socket_service_stop(m->service);
    g_socket_listener_close(G_SOCKET_LISTENER(m->service));
    while (m->clients) {
        client_drop(m->clients->data);
    }
    g_object_unref(m->service);
    unlink(m->path);
    g_hash_table_unref(m->commands);
    g_free(m->uids);
    g_free(m->path);
    g_free(m->version);
    g_free(m);
}

void mgmt_add_command(Mgmt *m, const char *name, MgmtCommandFn fn, void *opaque)
{
    MgmtCommand *cmd = g_new(MgmtCommand, 1);

    cmd->fn = fn;
    cmd->opaque = opaque;
    g_hash_table_replace(m->commands, g_strdup(name), cmd);
}

void mgmt_emit_event(Mgmt *m, const char *name, JsonNode *data)
{
    g_autoptr(JsonBuilder) b = NULL;
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(GBytes) line = NULL;
    gint64 now = g_get_real_time();

    if (!m) {
        if (data) {
            json_node_unref(data);
        }
        return;
    }
    b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, name);
    if (data) {
        json_builder_set_member_name(b, "data");
        json_builder_add_value(b, data);
    }
    json_builder_set_member_name(b, "timestamp");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_int_value(b, now / G_USEC_PER_SEC);
    json_builder_set_member_name(b, "microseconds");
    json_builder_add_int_value(b, now % G_USEC_PER_SEC);
    json_builder_end_object(b);
    json_builder_end_object(b);
    node = json_builder_get_root(b);
    /* One text for every client. client_queue() may drop a client that
     * does not read, which frees its list node: take the next one first. */
    line = line_bytes(node);
    for (GList *l = m->clients, *next; l; l = next) {
        next = l->next;
        client_queue(l->data, line);
    }
}
