/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state.c - the migration state: NetState to JSON and back, and its file
 *
 * DOC: Theory of operation
 *
 * docs/migration.md is the schema. The document is versioned as a whole
 * (NET_STATE_VERSION); a reader refuses any other version rather than
 * guess. Every member is checked for type and range, since the file may
 * come from another host or a hand; a state read back is only a
 * description; whether this device can honour it is netdev.c's question.
 *
 * The state file is replaced atomically (a temporary file in the same
 * directory, fsync, rename, fsync of the directory), so a crash at any
 * moment leaves the old state or the new one, never a mix.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "net-priv.h"

/* The largest state file read: a real one is a few kilobytes. */
#define STATE_MAX_FILE (1 << 20)

/**
 * mac_node() - @mac as a JSON string
 * Return: a new node.
 */
static JsonNode *mac_node(const uint8_t mac[6])
{
    g_autofree char *text = net_format_mac(mac);

    return json_node_init_string(json_node_alloc(), text);
}

JsonNode *net_state_to_json(const NetState *st)
{
    JsonObject *root = json_object_new();
    JsonObject *dev = json_object_new();
    JsonObject *drv = json_object_new();
    JsonObject *cfg = json_object_new();
    JsonArray *asids = json_array_new();
    JsonArray *vqs = json_array_new();
    JsonNode *node;

    json_object_set_string_member(dev, "name", st->name);
    json_object_set_member(dev, "mac", mac_node(st->mac));
    json_object_set_int_member(dev, "mtu", st->mtu);
    json_object_set_int_member(dev, "queue-pairs", st->queue_pairs);
    json_object_set_boolean_member(dev, "ctrl-vq", st->ctrl_vq);
    json_object_set_int_member(dev, "features", (gint64)st->offered);

    json_object_set_int_member(drv, "status", st->status);
    json_object_set_int_member(drv, "features", (gint64)st->negotiated);
    json_object_set_boolean_member(drv, "suspended", st->suspended);

    json_object_set_member(cfg, "mac", mac_node(st->config_mac));
    json_object_set_int_member(cfg, "status", st->config_status);

    for (uint32_t g = 0; g < st->ngroups; g++) {
        json_array_add_int_element(asids, st->group_asid[g]);
    }
    for (uint32_t i = 0; i < st->vq_num; i++) {
        JsonObject *vq = json_object_new();

        json_object_set_int_member(vq, "index", i);
        json_object_set_boolean_member(vq, "ready", st->vqs[i].ready);
        json_object_set_int_member(vq, "size", st->vqs[i].size);
        json_object_set_int_member(vq, "avail-index", st->vqs[i].avail_index);
        json_object_set_int_member(vq, "used-index", st->vqs[i].used_index);
        json_array_add_object_element(vqs, vq);
    }

    json_object_set_int_member(root, "version", NET_STATE_VERSION);
    json_object_set_object_member(root, "device", dev);
    json_object_set_object_member(root, "driver", drv);
    json_object_set_object_member(root, "config", cfg);
    json_object_set_array_member(root, "group-asids", asids);
    json_object_set_array_member(root, "vqs", vqs);
    json_object_set_boolean_member(root, "link-up", st->link_up);
    json_object_set_member(root, "shadow", ctrlvq_shadow_to_json(&st->shadow));
    node = json_node_init_object(json_node_alloc(), root);
    json_object_unref(root);
    return node;
}

/**
 * struct StateReader - reads members, remembering the first error
 * @error:	the first error, or NULL
 * @where:	the object being read, for messages ("device", ...)
 */
typedef struct StateReader {
    GError *error;
    const char *where;
} StateReader;

/**
 * rd_fail() - remember an error about member @key, if none yet
 * @rd:		the reader
 * @key:	the member
 * @what:	what it should have been
 */
static void rd_fail(StateReader *rd, const char *key, const char *what)
{
    if (!rd->error) {
        rd->error = g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                "state: %s%s\"%s\" is missing or not %s",
                                rd->where, *rd->where ? "." : "", key, what);
    }
}

/**
 * rd_node() - member @key of @o if it has JSON type @type
 * Return: the node (owned by @o), or NULL with the error remembered.
 */
static JsonNode *rd_node(StateReader *rd, JsonObject *o, const char *key,
                         JsonNodeType type, const char *what)
{
    JsonNode *n = o ? json_object_get_member(o, key) : NULL;

    if (!n || JSON_NODE_TYPE(n) != type) {
        rd_fail(rd, key, what);
        return NULL;
    }
    return n;
}

/* rd_object() - the object member @key of @o, or NULL. */
static JsonObject *rd_object(StateReader *rd, JsonObject *o, const char *key)
{
    JsonNode *n = rd_node(rd, o, key, JSON_NODE_OBJECT, "an object");

    return n ? json_node_get_object(n) : NULL;
}

/* rd_array() - the array member @key of @o, or NULL. */
static JsonArray *rd_array(StateReader *rd, JsonObject *o, const char *key)
{
    JsonNode *n = rd_node(rd, o, key, JSON_NODE_ARRAY, "an array");

    return n ? json_node_get_array(n) : NULL;
}

/* rd_value() - the value member @key of @o if it has GType @type. */
static JsonNode *rd_value(StateReader *rd, JsonObject *o, const char *key,
                          GType type, const char *what)
{
    JsonNode *n = rd_node(rd, o, key, JSON_NODE_VALUE, what);

    if (n && json_node_get_value_type(n) != type) {
        rd_fail(rd, key, what);
        return NULL;
    }
    return n;
}

/* rd_uint() - the integer member @key of @o, 0 to @max (0 on error). */
static guint64 rd_uint(StateReader *rd, JsonObject *o, const char *key,
                       guint64 max)
{
    JsonNode *n = rd_value(rd, o, key, G_TYPE_INT64, "an integer");
    g_autofree char *what = NULL;

    if (!n) {
        return 0;
    }
    /* Feature words use all 64 bits: the JSON integer is their two's
     * complement, so a negative one is fine when the range is all. */
    if (max == G_MAXUINT64 ||
        (json_node_get_int(n) >= 0 && (guint64)json_node_get_int(n) <= max)) {
        return (guint64)json_node_get_int(n);
    }
    what = g_strdup_printf("an integer from 0 to %" G_GUINT64_FORMAT, max);
    rd_fail(rd, key, what);
    return 0;
}

/* rd_bool() - the boolean member @key of @o (false on error). */
static bool rd_bool(StateReader *rd, JsonObject *o, const char *key)
{
    JsonNode *n = rd_value(rd, o, key, G_TYPE_BOOLEAN, "a boolean");

    return n && json_node_get_boolean(n);
}

/* rd_mac() - the MAC member @key of @o into @mac. */
static void rd_mac(StateReader *rd, JsonObject *o, const char *key,
                   uint8_t mac[6])
{
    JsonNode *n = rd_value(rd, o, key, G_TYPE_STRING, "a MAC address");
    g_autoptr(GError) error = NULL;

    if (n && !net_parse_mac(json_node_get_string(n), mac, &error)) {
        rd_fail(rd, key, "a unicast MAC address");
    }
}

/**
 * rd_vqs() - the "vqs" array into @st
 * @rd:		the reader
 * @root:	the document
 * @st:		receives vq_num and vqs
 */
static void rd_vqs(StateReader *rd, JsonObject *root, NetState *st)
{
    JsonArray *a = rd_array(rd, root, "vqs");
    guint n = a ? json_array_get_length(a) : 0;

    if (n > G_N_ELEMENTS(st->vqs)) {
        rd_fail(rd, "vqs", "an array of at most 33 queues");
        return;
    }
    st->vq_num = n;
    rd->where = "vqs[]";
    for (guint i = 0; i < n && !rd->error; i++) {
        JsonNode *e = json_array_get_element(a, i);
        JsonObject *vq =
            JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;

        if (rd_uint(rd, vq, "index", G_MAXUINT32) != i) {
            rd_fail(rd, "index", "the queue's position in the array");
        }
        st->vqs[i].ready = rd_bool(rd, vq, "ready");
        st->vqs[i].size = (uint32_t)rd_uint(rd, vq, "size", 32768);
        st->vqs[i].avail_index =
            (uint16_t)rd_uint(rd, vq, "avail-index", G_MAXUINT16);
        st->vqs[i].used_index =
            (uint16_t)rd_uint(rd, vq, "used-index", G_MAXUINT16);
    }
}

bool net_state_from_json(JsonNode *node, NetState *st, GError **error)
{
    StateReader rd = {.where = ""};
    JsonObject *root =
        JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonObject *dev, *drv, *cfg;
    JsonArray *asids;
    JsonNode *name;
    guint64 version;

    memset(st, 0, sizeof(*st));
    version = rd_uint(&rd, root, "version", G_MAXUINT32);
    if (!rd.error && version != NET_STATE_VERSION) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "state: version %" G_GUINT64_FORMAT
                    " is not the version this vduse-net reads (%d)",
                    version, NET_STATE_VERSION);
        return false;
    }

    dev = rd_object(&rd, root, "device");
    rd.where = "device";
    name = rd_value(&rd, dev, "name", G_TYPE_STRING, "a device name");
    if (name && (!*json_node_get_string(name) ||
                 strlen(json_node_get_string(name)) >= sizeof(st->name))) {
        rd_fail(&rd, "name", "a device name of 1 to 63 characters");
    } else if (name) {
        g_strlcpy(st->name, json_node_get_string(name), sizeof(st->name));
    }
    rd_mac(&rd, dev, "mac", st->mac);
    st->mtu = (uint16_t)rd_uint(&rd, dev, "mtu", NET_MAX_MTU);
    st->queue_pairs =
        (uint16_t)rd_uint(&rd, dev, "queue-pairs", NET_MAX_QUEUE_PAIRS);
    st->ctrl_vq = rd_bool(&rd, dev, "ctrl-vq");
    st->offered = rd_uint(&rd, dev, "features", G_MAXUINT64);
    if (!rd.error && (st->mtu < NET_MIN_MTU || st->queue_pairs < 1)) {
        rd_fail(&rd, st->queue_pairs < 1 ? "queue-pairs" : "mtu", "in range");
    }

    rd.where = "";
    drv = rd_object(&rd, root, "driver");
    rd.where = "driver";
    st->status = (uint8_t)rd_uint(&rd, drv, "status", G_MAXUINT8);
    st->negotiated = rd_uint(&rd, drv, "features", G_MAXUINT64);
    st->suspended = rd_bool(&rd, drv, "suspended");

    rd.where = "";
    cfg = rd_object(&rd, root, "config");
    rd.where = "config";
    rd_mac(&rd, cfg, "mac", st->config_mac);
    st->config_status = (uint16_t)rd_uint(&rd, cfg, "status", G_MAXUINT16);

    rd.where = "";
    asids = rd_array(&rd, root, "group-asids");
    if (asids && json_array_get_length(asids) > G_N_ELEMENTS(st->group_asid)) {
        rd_fail(&rd, "group-asids", "an array of at most 2 ASIDs");
    } else if (asids) {
        st->ngroups = json_array_get_length(asids);
        for (uint32_t g = 0; g < st->ngroups; g++) {
            JsonNode *e = json_array_get_element(asids, g);

            if (!JSON_NODE_HOLDS_VALUE(e) ||
                json_node_get_value_type(e) != G_TYPE_INT64 ||
                json_node_get_int(e) < 0 || json_node_get_int(e) > 1) {
                rd_fail(&rd, "group-asids", "an array of ASIDs 0 or 1");
                break;
            }
            st->group_asid[g] = (uint32_t)json_node_get_int(e);
        }
    }
    rd_vqs(&rd, root, st);
    rd.where = "";
    st->link_up = rd_bool(&rd, root, "link-up");
    if (rd.error) {
        g_propagate_error(error, rd.error);
        return false;
    }
    return ctrlvq_shadow_from_json(json_object_get_member(root, "shadow"),
                                   &st->shadow, error);
}

bool net_state_load(const char *path, NetState *st, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *text = NULL;
    gsize len;
    GError *err = NULL;

    if (!g_file_get_contents(path, &text, &len, &err)) {
        g_propagate_error(error, err);
        return false;
    }
    if (len > STATE_MAX_FILE) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: larger than %d bytes", path, STATE_MAX_FILE);
        return false;
    }
    if (!json_parser_load_from_data(parser, text, (gssize)len, &err)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not JSON: %s", path, err->message);
        g_error_free(err);
        return false;
    }
    if (!net_state_from_json(json_parser_get_root(parser), st, &err)) {
        g_set_error(error, err->domain, err->code, "%s: %s", path,
                    err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

/**
 * write_all() - write @len bytes of @buf to @fd
 * Return: 0 or negative errno.
 */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

bool net_state_save(JsonNode *state, const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *tmp = g_strdup_printf("%s.tmp.XXXXXX", path);
    g_autofree char *text = json_to_string(state, TRUE);
    int fd, dfd, ret;

    fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        ret = -errno;
        goto fail;
    }
    ret = write_all(fd, text, strlen(text));
    if (ret == 0) {
        ret = write_all(fd, "\n", 1);
    }
    if (ret == 0 && fsync(fd) < 0) {
        ret = -errno;
    }
    if (close(fd) < 0 && ret == 0) {
        ret = -errno;
    }
    if (ret == 0 && rename(tmp, path) < 0) {
        ret = -errno;
    }
    if (ret < 0) {
        g_unlink(tmp);
        goto fail;
    }
    /* The rename itself must reach the disk. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        g_debug("%s: the rename may not be on disk yet: %s", path,
                g_strerror(errno));
    }
    if (dfd >= 0) {
        close(dfd);
    }
    return true;

fail:
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret),
                "cannot write the state to %s: %s", path, g_strerror(-ret));
    return false;
}
