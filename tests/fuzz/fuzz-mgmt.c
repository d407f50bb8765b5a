/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-mgmt.c - the management line protocol and the device commands, in
 * process
 *
 * The input is what a client sends: lines, each run through
 * mgmt_execute_line() (mgmt-priv.h), the parsing, dispatch and reply a
 * socket client gets, against a device model that was never opened (as
 * before the driver comes) and a state directory holding a good state
 * file, a deeply nested one, a symbolic link and a directory. A few bytes
 * in front pick what the program would have told the commands (bus, where
 * the driver put the device).
 *
 * Checked: no crash, no warning or critical; every reply is exactly one
 * line of valid UTF-8 that parses as a JSON object with "return" or
 * "error" ({"class": string, "desc": string}); every event the commands
 * raise serializes to valid UTF-8. At most MAX_LINES lines per input;
 * files the commands wrote are removed after each. FUZZ_VERBOSE=1 in the
 * environment prints every request and reply (to check a seed).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "mgmt-priv.h"
#include "mgmt.h"
#include "net.h"

#define MAX_LINES 64

/* The files the state directory starts with; the rest is removed. */
static const char *const state_files[] = {"good.json", "deep.json", "link",
                                          "sub"};

/**
 * struct World - made once for the process
 * @dir:	a private directory (tmpfs if there is one: fsync is free)
 * @m:		the listener, on @dir/sock (never connected to)
 * @dev:	what the device commands act on
 * @opts:	the device model's options
 * @verbose:	FUZZ_VERBOSE is set: print every request and reply
 */
typedef struct World {
    char *dir;
    Mgmt *m;
    MgmtDevice dev;
    NetOptions opts;
    bool verbose;
} World;

/**
 * check_event() - an event the commands raised: it must be valid JSON
 * @event:	its name
 * @data:	its data; consumed
 * @opaque:	unused
 */
static void check_event(const char *event, JsonNode *data, void *opaque)
{
    g_autofree char *text = json_to_string(data, FALSE);

    fuzz_check(event && *event);
    if (!g_utf8_validate(text, -1, NULL)) {
        fuzz_fail("event %s is not UTF-8", event);
    }
    json_node_unref(data);
}

/**
 * make_state_dir() - the state directory and its files
 * @w:		the world, with @w->opts set
 *
 * Return: the directory's fd.
 */
static int make_state_dir(World *w)
{
    g_autofree char *path = g_build_filename(w->dir, "state", NULL);
    g_autofree NetState *st = g_new0(NetState, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *text = NULL, *deep = NULL;
    NetDev *nd = net_dev_new(&w->opts, NULL, 0);
    int fd;

    fuzz_check(mkdir(path, 0700) == 0);
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    fuzz_check(fd >= 0);
    net_dev_get_state(nd, st);
    net_dev_free(nd);
    node = net_state_to_json(st);
    text = json_to_string(node, TRUE);
    fuzz_check(net_state_write_at(fd, "good.json", text, &error));
    deep = g_strnfill(4096, '[');
    fuzz_check(net_state_write_at(fd, "deep.json", deep, &error));
    fuzz_check(symlinkat("good.json", fd, "link") == 0);
    fuzz_check(mkdirat(fd, "sub", 0700) == 0);
    return fd;
}

static World *the_world;

/**
 * remove_world() - at exit: close the listener, remove the directories
 *
 * Without it every run would leave a directory in /dev/shm.
 */
static void remove_world(void)
{
    World *w = the_world;
    g_autofree char *state = NULL;

    if (!w) {
        return;
    }
    mgmt_free(w->m);
    for (size_t i = 0; i < G_N_ELEMENTS(state_files); i++) {
        unlinkat(w->dev.state_dir, state_files[i],
                 !strcmp(state_files[i], "sub") ? AT_REMOVEDIR : 0);
    }
    close(w->dev.state_dir);
    state = g_build_filename(w->dir, "state", NULL);
    rmdir(state);
    rmdir(w->dir);
}

/**
 * world() - the listener and its directories, made once
 * Return: the world.
 */
static World *world(void)
{
    static World *w;
    g_autoptr(GError) error = NULL;
    g_autofree char *sock = NULL;
    char shm[] = "/dev/shm/vduse-net-fuzz-XXXXXX";

    if (w) {
        return w;
    }
    fuzz_log_init();
    w = g_new0(World, 1);
    w->verbose = g_getenv("FUZZ_VERBOSE");
    w->dir = g_strdup(mkdtemp(shm));
    if (!w->dir) {
        w->dir = g_dir_make_tmp("vduse-net-fuzz-XXXXXX", &error);
        fuzz_check(w->dir);
    }
    sock = g_build_filename(w->dir, "sock", NULL);
    w->m = mgmt_new(sock, "fuzz", NULL, &error);
    if (!w->m) {
        fuzz_fail("%s", error->message);
    }
    w->opts = (NetOptions){
        .name = "fuzz0",
        .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
        .mtu = 1500,
        .queue_pairs = 2,
        .ctrl_vq = true,
    };
    w->dev.bus = "virtio";
    w->dev.state_dir = make_state_dir(w);
    mgmt_add_device_commands(w->m, &w->dev);
    the_world = w;
    atexit(remove_world);
    return w;
}

/**
 * clean_state_dir() - remove what the commands wrote
 * @w:		the world
 */
static void clean_state_dir(World *w)
{
    int fd = dup(w->dev.state_dir);
    DIR *d = fdopendir(fd);
    struct dirent *e;

    fuzz_check(d);
    rewinddir(d);
    while ((e = readdir(d))) {
        bool keep = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");

        for (size_t i = 0; i < G_N_ELEMENTS(state_files); i++) {
            keep = keep || !strcmp(e->d_name, state_files[i]);
        }
        if (!keep) {
            unlinkat(w->dev.state_dir, e->d_name, 0);
        }
    }
    closedir(d);
}

/**
 * check_reply() - one reply line, as a client would read it
 * @reply:	the line
 */
static void check_reply(const char *reply)
{
    size_t len = strlen(reply);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonObject *o, *err;
    JsonNode *root;

    fuzz_check(len > 1 && reply[len - 1] == '\n');
    fuzz_check(!memchr(reply, '\n', len - 1));
    if (!g_utf8_validate(reply, -1, NULL)) {
        fuzz_fail("a reply is not UTF-8: %s", reply);
    }
    if (!json_parser_load_from_data(parser, reply, -1, &error)) {
        fuzz_fail("a reply is not JSON (%s): %s", error->message, reply);
    }
    root = json_parser_get_root(parser);
    fuzz_check(root && JSON_NODE_HOLDS_OBJECT(root));
    o = json_node_get_object(root);
    fuzz_check(json_object_has_member(o, "return") !=
               json_object_has_member(o, "error"));
    if (!json_object_has_member(o, "error")) {
        return;
    }
    fuzz_check(JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "error")));
    err = json_object_get_object_member(o, "error");
    fuzz_check(json_object_has_member(err, "class") &&
               json_node_get_value_type(json_object_get_member(err, "class")) ==
                   G_TYPE_STRING);
    fuzz_check(json_object_has_member(err, "desc") &&
               json_node_get_value_type(json_object_get_member(err, "desc")) ==
                   G_TYPE_STRING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const wheres[] = {NULL, "eth7", "/dev/vhost-vdpa-3", ""};
    World *w = world();
    FuzzIn in = {data, size};
    uint8_t b = fuzz_u8(&in);
    const char *p = (const char *)in.data, *end = p + in.left;
    unsigned int lines = 0;

    w->dev.nd = net_dev_new(&w->opts, NULL, 0);
    net_dev_set_event_handler(w->dev.nd, check_event, NULL);
    w->dev.on_bus = b & 1;
    w->dev.where = wheres[(b >> 1) & 3];
    /* Lines as the server splits them: at '\n', each cut at its first
     * NUL (the server hands the line on as a C string). */
    while (p < end && lines < MAX_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        g_autofree char *line = g_strndup(p, (size_t)(stop - p));

        if (*line) {
            g_autofree char *reply = mgmt_execute_line(w->m, line);

            check_reply(reply);
            if (w->verbose) {
                printf("> %s\n< %s", line, reply);
            }
            lines++;
        }
        p = nl ? nl + 1 : end;
    }
    net_dev_free(w->dev.nd);
    w->dev.nd = NULL;
    clean_state_dir(w);
    return 0;
}
