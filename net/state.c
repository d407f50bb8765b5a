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
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    g_autofree char *text = mac_format(mac);

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
    json_object_set_member(root, "shadow", net_shadow_to_json(&st->shadow));
    node = json_node_init_object(json_node_alloc(), root);
    json_object_unref(root);
    return node;
}

/**
 * read_vqs() - the "vqs" array into @st
 * @in:		the reader
 * @root:	the document
 * @st:		receives vq_num and vqs
 */
static void read_vqs(JsonIn *in, JsonObject *root, NetState *st)
{
    JsonArray *a = json_in_array(in, root, "vqs", G_N_ELEMENTS(st->vqs));
    guint n = a ? json_array_get_length(a) : 0;

    st->vq_num = n;
    in->where = "vqs[]";
    for (guint i = 0; i < n && !in->error; i++) {
        JsonNode *e = json_array_get_element(a, i);
        JsonObject *vq =
            JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;

        if (json_in_uint(in, vq, "index", 0, G_MAXUINT32) != i) {
            json_in_fail(in, "index", "the queue's position in the array");
        }
        st->vqs[i].ready = json_in_bool(in, vq, "ready");
        st->vqs[i].size = (uint32_t)json_in_uint(in, vq, "size", 0, 32768);
        st->vqs[i].avail_index =
            (uint16_t)json_in_uint(in, vq, "avail-index", 0, G_MAXUINT16);
        st->vqs[i].used_index =
            (uint16_t)json_in_uint(in, vq, "used-index", 0, G_MAXUINT16);
    }
    in->where = "";
}

bool net_state_from_json(JsonNode *node, NetState *st, GError **error)
{
    JsonIn in = {.where = ""};
    JsonObject *root = node && JSON_NODE_HOLDS_OBJECT(node)
                           ? json_node_get_object(node)
                           : NULL;
    JsonObject *dev, *drv, *cfg, *shadow;
    JsonArray *asids;
    const char *name;
    guint64 version;

    memset(st, 0, sizeof(*st));
    version = json_in_uint(&in, root, "version", 0, G_MAXUINT32);
    if (!in.error && version != NET_STATE_VERSION) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "state: version %" G_GUINT64_FORMAT
                    " is not the version this vduse-net reads (%d)",
                    version, NET_STATE_VERSION);
        return false;
    }
    dev = json_in_object(&in, root, "device");
    drv = json_in_object(&in, root, "driver");
    cfg = json_in_object(&in, root, "config");
    asids =
        json_in_array(&in, root, "group-asids", G_N_ELEMENTS(st->group_asid));
    st->link_up = json_in_bool(&in, root, "link-up");
    shadow = json_in_object(&in, root, "shadow");

    in.where = "device";
    name = json_in_string(&in, dev, "name", "a device name");
    if (name && !net_name_is_valid(name)) {
        json_in_fail(&in, "name",
                     "a device name of 1 to 63 characters of "
                     "A-Z a-z 0-9 . _ -");
    } else if (name) {
        g_strlcpy(st->name, name, sizeof(st->name));
    }
    json_in_mac(&in, dev, "mac", st->mac);
    st->mtu = (uint16_t)json_in_uint(&in, dev, "mtu", NET_MIN_MTU, NET_MAX_MTU);
    st->queue_pairs =
        (uint16_t)json_in_uint(&in, dev, "queue-pairs", 1, NET_MAX_QUEUE_PAIRS);
    st->ctrl_vq = json_in_bool(&in, dev, "ctrl-vq");
    st->offered = json_in_uint(&in, dev, "features", 0, G_MAXUINT64);

    in.where = "driver";
    st->status = (uint8_t)json_in_uint(&in, drv, "status", 0, G_MAXUINT8);
    st->negotiated = json_in_uint(&in, drv, "features", 0, G_MAXUINT64);
    st->suspended = json_in_bool(&in, drv, "suspended");

    in.where = "config";
    json_in_mac(&in, cfg, "mac", st->config_mac);
    st->config_status =
        (uint16_t)json_in_uint(&in, cfg, "status", 0, G_MAXUINT16);

    in.where = "";
    st->ngroups = asids ? json_array_get_length(asids) : 0;
    for (uint32_t g = 0; g < st->ngroups; g++) {
        st->group_asid[g] =
            (uint32_t)json_in_uint_at(&in, asids, g, "group-asids", 1);
    }
    read_vqs(&in, root, st);
    if (!in.error) {
        net_shadow_read(&in, shadow, st->queue_pairs, &st->shadow);
    }
    return json_in_finish(&in, error);
}

/**
 * read_bounded() - read all of @fd, refusing more than @max bytes
 * @fd:		an open file or pipe
 * @max:	the most bytes accepted
 * @len:	receives the length
 * @error:	set on failure, not naming the file
 *
 * Return: the bytes, NUL-terminated (g_free()), or NULL.
 */
static char *read_bounded(int fd, size_t max, size_t *len, GError **error)
{
    g_autofree char *buf = NULL;
    struct stat sb;
    size_t done = 0, cap;

    if (fstat(fd, &sb) < 0) {
        int err = errno;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s",
                    g_strerror(err));
        return NULL;
    }
    if (S_ISDIR(sb.st_mode)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY, "a directory");
        return NULL;
    }
    /* A pipe (--restore <(...)) has no size: the read loop bounds it. */
    if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > max) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "larger than %zu bytes", max);
        return NULL;
    }
    /*
     * Room for what fstat() says and one byte more, grown as needed: a
     * file that grew meanwhile is read whole or refused, and a 2 KB state
     * does not cost a buffer of @max bytes. A pipe starts at 4 KiB.
     */
    cap = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 2 : 4096;
    buf = g_malloc(cap);
    for (;;) {
        ssize_t n;

        if (done + 1 == cap) {
            cap = MIN(MAX(cap * 2, 4096), max + 2);
            buf = g_realloc(buf, cap);
        }
        n = read(fd, buf + done, cap - 1 - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;

            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s",
                        g_strerror(err));
            return NULL;
        }
        if (n == 0) {
            break;
        }
        done += (size_t)n;
        if (done > max) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "larger than %zu bytes", max);
            return NULL;
        }
    }
    buf[done] = 0;
    *len = done;
    return g_steal_pointer(&buf);
}

/**
 * load_fd() - read the state document in @fd
 * @fd:		the open file; closed here
 * @what:	its name, for messages
 * @st:		filled in
 * @error:	set on failure, naming @what
 *
 * Return: true on success.
 */
static bool load_fd(int fd, const char *what, NetState *st, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *text = NULL;
    GError *err = NULL;
    size_t len = 0;

    text = read_bounded(fd, STATE_MAX_FILE, &len, &err);
    close(fd);
    if (!text) {
        g_set_error(error, err->domain, err->code, "%s: %s", what,
                    err->message);
        g_error_free(err);
        return false;
    }
    if (!json_depth_ok(text, len, JSON_MAX_DEPTH)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: JSON nested deeper than %d levels", what,
                    JSON_MAX_DEPTH);
        return false;
    }
    if (!json_parser_load_from_data(parser, text, (gssize)len, &err)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not JSON: %s", what, err->message);
        g_error_free(err);
        return false;
    }
    if (!net_state_from_json(json_parser_get_root(parser), st, &err)) {
        g_set_error(error, err->domain, err->code, "%s: %s", what,
                    err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

/**
 * set_open_error() - the error of a failed open of @what
 * @error:	set
 * @what:	the file
 * @err:	errno
 */
static void set_open_error(GError **error, const char *what, int err)
{
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s%s", what,
                g_strerror(err),
                err == ELOOP ? " (a symbolic link: refused)" : "");
}

bool net_state_load_at(int dirfd, const char *name, NetState *st,
                       GError **error)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        set_open_error(error, name, errno);
        return false;
    }
    return load_fd(fd, name, st, error);
}

bool net_state_load(const char *path, NetState *st, GError **error)
{
    /* The user's own file (--restore, --state-file): a link is fine. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        set_open_error(error, path, errno);
        return false;
    }
    return load_fd(fd, path, st, error);
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
    g_autofree char *text = json_to_string(state, TRUE);

    return net_state_write(text, path, error);
}

/**
 * open_temp_at() - create a new file beside @name in @dirfd
 * @dirfd:	the directory
 * @name:	the file it will replace
 * @tmp:	receives the temporary name (g_free())
 *
 * Return: the fd, or negative errno.
 */
static int open_temp_at(int dirfd, const char *name, char **tmp)
{
    for (int tries = 0; tries < 100; tries++) {
        g_autofree char *t =
            g_strdup_printf(".%s.tmp.%08x", name, g_random_int());
        int fd =
            openat(dirfd, t,
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd >= 0) {
            *tmp = g_steal_pointer(&t);
            return fd;
        }
        if (errno != EEXIST) {
            return -errno;
        }
    }
    return -EEXIST;
}

/**
 * write_at() - replace @name in @dirfd with @text and a newline
 * @dirfd:	the directory
 * @name:	the file
 * @text:	the document
 *
 * Return: 0, or negative errno (the old file is whole and untouched).
 */
static int write_at(int dirfd, const char *name, const char *text)
{
    g_autofree char *tmp = NULL;
    int fd, ret;

    fd = open_temp_at(dirfd, name, &tmp);
    if (fd < 0) {
        return fd;
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
    /* renameat() replaces a symbolic link at @name itself: nothing is ever
     * written through one. */
    if (ret == 0 && renameat(dirfd, tmp, dirfd, name) < 0) {
        ret = -errno;
    }
    if (ret < 0) {
        unlinkat(dirfd, tmp, 0);
        return ret;
    }
    /* The rename itself must reach the disk. */
    if (fsync(dirfd) < 0) {
        g_debug("%s: the rename may not be on disk yet: %s", name,
                g_strerror(errno));
    }
    return 0;
}

/**
 * set_write_error() - the error of a failed state write to @what
 * @error:	set
 * @what:	the file
 * @ret:	negative errno
 *
 * Return: false.
 */
static bool set_write_error(GError **error, const char *what, int ret)
{
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret),
                "cannot write the state to %s: %s", what, g_strerror(-ret));
    return false;
}

bool net_state_write_at(int dirfd, const char *name, const char *text,
                        GError **error)
{
    int ret = write_at(dirfd, name, text);

    return ret == 0 || set_write_error(error, name, ret);
}

bool net_state_write(const char *text, const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ret;

    if (dfd < 0) {
        return set_write_error(error, path, -errno);
    }
    ret = write_at(dfd, base, text);
    close(dfd);
    return ret == 0 || set_write_error(error, path, ret);
}
