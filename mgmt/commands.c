/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * commands.c - the device commands of the management socket
 *
 * Each command reads its arguments, asks the device model (net.h), and
 * answers with a JSON value or an error whose text says what was wrong.
 * docs/management.md lists them with an example each.
 */
#include "config.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>

#include "mgmt.h"

/**
 * fail() - turn @err into the reply's error
 * @error:	the reply's error
 * @err:	what went wrong; freed
 *
 * Return: NULL, for the command to return.
 */
static JsonNode *fail(GError **error, GError *err)
{
    g_set_error_literal(error, MGMT_ERROR, MGMT_ERROR_GENERIC, err->message);
    g_error_free(err);
    return NULL;
}

/**
 * run_action() - run a device action that only succeeds or fails
 * @dev:	the device
 * @action:	net_dev_announce, net_dev_suspend, ...
 * @error:	the reply's error
 *
 * Return: {} or NULL with @error set.
 */
static JsonNode *run_action(MgmtDevice *dev,
                            bool (*action)(NetDev *nd, GError **error),
                            GError **error)
{
    GError *err = NULL;

    if (!action(dev->nd, &err)) {
        return fail(error, err);
    }
    return mgmt_reply_empty();
}

/* cmd_query_status() - the device, its driver, its binding. */
static JsonNode *cmd_query_status(JsonObject *args, GError **error,
                                  void *opaque)
{
    MgmtDevice *dev = opaque;
    g_autoptr(JsonNode) report = net_dev_report(dev->nd);
    JsonObject *o = json_node_get_object(report);

    json_object_remove_member(o, "pairs");
    json_object_remove_member(o, "shadow");
    json_object_set_string_member(o, "bus", dev->bus);
    json_object_set_boolean_member(o, "on-bus", dev->on_bus);
    /* As named when it appeared: a netdev moved to another namespace is no
     * longer visible here. */
    if (dev->where && g_str_has_prefix(dev->where, "/dev/")) {
        json_object_set_string_member(o, "vhost-vdpa", dev->where);
    } else if (dev->where) {
        json_object_set_string_member(o, "netdev", dev->where);
    }
    return g_steal_pointer(&report);
}

/* cmd_query_stats() - counters per queue pair. */
static JsonNode *cmd_query_stats(JsonObject *args, GError **error, void *opaque)
{
    MgmtDevice *dev = opaque;
    g_autoptr(JsonNode) report = net_dev_report(dev->nd);

    return json_node_copy(
        json_object_get_member(json_node_get_object(report), "pairs"));
}

/* cmd_set_link() - {"up": bool}: the link as the driver sees it. */
static JsonNode *cmd_set_link(JsonObject *args, GError **error, void *opaque)
{
    MgmtDevice *dev = opaque;
    JsonNode *up = json_object_get_member(args, "up");

    if (!up || !JSON_NODE_HOLDS_VALUE(up) ||
        json_node_get_value_type(up) != G_TYPE_BOOLEAN) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC,
                    "set-link needs \"up\": true or false");
        return NULL;
    }
    net_dev_set_link(dev->nd, json_node_get_boolean(up));
    return mgmt_reply_empty();
}

/* cmd_announce() - ask the driver to announce itself. */
static JsonNode *cmd_announce(JsonObject *args, GError **error, void *opaque)
{
    return run_action(opaque, net_dev_announce, error);
}

/* cmd_suspend() - quiesce for good, as the kernel's SUSPEND does. */
static JsonNode *cmd_suspend(JsonObject *args, GError **error, void *opaque)
{
    return run_action(opaque, net_dev_suspend, error);
}

/**
 * state_file_arg() - the "file" argument: a file name in --state-dir
 * @dev:	the device
 * @args:	the arguments
 * @command:	the command's name, for messages
 * @name:	receives the name (owned by @args), NULL if none was given
 * @error:	set if the name breaks a rule, naming the rule
 *
 * A client may name a file only inside the state directory: one path
 * component, not "." or "..", and not a symbolic link or anything but a
 * regular file where it exists. Return: true if the argument is usable.
 */
static bool state_file_arg(MgmtDevice *dev, JsonObject *args,
                           const char *command, const char **name,
                           GError **error)
{
    JsonNode *file = json_object_get_member(args, "file");
    const char *rule = NULL;
    struct stat sb;

    *name = NULL;
    if (!file) {
        return true;
    }
    if (!JSON_NODE_HOLDS_VALUE(file) ||
        json_node_get_value_type(file) != G_TYPE_STRING) {
        rule = "must be a file name";
    } else if (dev->state_dir < 0) {
        rule = "needs a state directory (vduse-net --state-dir DIR)";
    } else {
        *name = json_node_get_string(file);
        if (!**name || strchr(*name, '/') || !strcmp(*name, ".") ||
            !strcmp(*name, "..")) {
            rule = "must be a file name inside the state directory (no "
                   "'/', no '..', not absolute)";
        } else if (fstatat(dev->state_dir, *name, &sb, AT_SYMLINK_NOFOLLOW) ==
                       0 &&
                   !S_ISREG(sb.st_mode)) {
            rule = "names a symbolic link or something else than a regular "
                   "file in the state directory";
        }
    }
    if (rule) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC, "%s: \"file\" %s",
                    command, rule);
        return false;
    }
    return true;
}

/* cmd_export_state() - the migration state; {"file": NAME} writes it. */
static JsonNode *cmd_export_state(JsonObject *args, GError **error,
                                  void *opaque)
{
    MgmtDevice *dev = opaque;
    g_autoptr(JsonNode) node = NULL;
    g_autofree NetState *st = g_new(NetState, 1);
    g_autofree char *text = NULL;
    const char *name;
    GError *err = NULL;

    if (!state_file_arg(dev, args, "export-state", &name, error)) {
        return NULL;
    }
    net_dev_get_state(dev->nd, st);
    node = net_state_to_json(st);
    if (!name) {
        return g_steal_pointer(&node);
    }
    text = json_to_string(node, TRUE);
    if (!net_state_write_at(dev->state_dir, name, text, &err)) {
        return fail(error, err);
    }
    return mgmt_reply_empty();
}

/*
 * cmd_restore_state() - {"state": STATE} or {"file": NAME}: restore it
 * when the driver comes.
 */
static JsonNode *cmd_restore_state(JsonObject *args, GError **error,
                                   void *opaque)
{
    MgmtDevice *dev = opaque;
    JsonNode *state = json_object_get_member(args, "state");
    g_autofree NetState *st = g_new(NetState, 1);
    const char *name;
    GError *err = NULL;

    if (!state_file_arg(dev, args, "restore-state", &name, error)) {
        return NULL;
    }
    if (!state == !name) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC,
                    "restore-state needs either \"state\": an exported "
                    "state, or \"file\": a file in the state directory");
        return NULL;
    }
    if (!(state ? net_state_from_json(state, st, &err)
                : net_state_load_at(dev->state_dir, name, st, &err)) ||
        !net_dev_check_state(dev->nd, st, &err)) {
        return fail(error, err);
    }
    if (net_dev_vduse(dev->nd) &&
        (vduse_dev_status(net_dev_vduse(dev->nd)) & VDUSE_S_DRIVER_OK)) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC,
                    "restore-state: the driver runs the device already");
        return NULL;
    }
    net_dev_restore(dev->nd, st);
    return mgmt_reply_empty();
}

void mgmt_add_device_commands(Mgmt *m, MgmtDevice *dev)
{
    mgmt_add_command(m, "query-status", cmd_query_status, dev);
    mgmt_add_command(m, "query-stats", cmd_query_stats, dev);
    /* The same document: query to look at it, export to move it. */
    mgmt_add_command(m, "query-state", cmd_export_state, dev);
    mgmt_add_command(m, "export-state", cmd_export_state, dev);
    mgmt_add_command(m, "restore-state", cmd_restore_state, dev);
    mgmt_add_command(m, "set-link", cmd_set_link, dev);
    mgmt_add_command(m, "announce", cmd_announce, dev);
    mgmt_add_command(m, "suspend", cmd_suspend, dev);
}
