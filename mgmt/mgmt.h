/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmt.h - libmgmt: the management socket, JSON in the style of QMP over
 * a UNIX socket, in the main loop
 *
 * The one public header of mgmt/. The server (server.c) knows nothing of
 * networking: it parses lines, dispatches commands registered with
 * mgmt_add_command() and sends events. The device commands (commands.c)
 * are registered with mgmt_add_device_commands().
 *
 * On connect a client gets a greeting; then each line it sends is one
 * command, {"execute": NAME, "arguments": {...}, "id": ANY}, answered by
 * one line {"return": ..., "id": ...} or {"error": {"class", "desc"},
 * "id": ...}. Events go to every client as {"event": NAME, "data": ...,
 * "timestamp": {...}}. Malformed input gets an error reply; a client that
 * sends a line over 1 MiB is disconnected; the others never notice.
 */
#ifndef VDUSE_NET_MGMT_H
#define VDUSE_NET_MGMT_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "net.h"

typedef struct Mgmt Mgmt;

/**
 * MgmtCommandFn - a command handler
 * @args:	the "arguments" object (empty if none were given)
 * @error:	set on failure; its message becomes the reply's "desc"
 * @opaque:	what was given to mgmt_add_command()
 *
 * Return: the "return" value (a new node, owned by the caller), or NULL
 * with @error set.
 */
typedef JsonNode *(*MgmtCommandFn)(JsonObject *args, GError **error,
                                   void *opaque);

/**
 * struct MgmtAccess - who may use the socket besides its owner
 * @group:	a group given read and write access to the socket (mode
 *		0660), or (gid_t)-1 for none (mode 0600)
 * @uids:	the only uids served besides our own, or NULL for any that
 *		can open the socket
 * @n_uids:	entries in @uids
 */
typedef struct MgmtAccess {
    gid_t group;
    const uid_t *uids;
    unsigned int n_uids;
} MgmtAccess;

/**
 * mgmt_new() - listen on UNIX socket @path
 * @path:	the socket; its directory must not be world-writable
 * @version:	program version for the greeting
 * @access:	who may connect (copied); NULL: the owner only
 * @error:	set on failure: a world-writable directory, something at
 *		@path that is not a stale socket of ours, a live one
 *
 * The socket is made with mode 0600 (0660 with a group) whatever the
 * umask; a socket of ours that nobody listens on is replaced. Each
 * connection's peer (pid, uid) is logged once; one whose uid is not
 * allowed is closed at once.
 * Return: the listener, owned by the caller (mgmt_free()), or NULL.
 */
Mgmt *mgmt_new(const char *path, const char *version, const MgmtAccess *access,
               GError **error);

/* mgmt_free() - close every client and the socket, unlink it (NULL ok). */
void mgmt_free(Mgmt *m);

/* mgmt_add_command() - register command @name. */
void mgmt_add_command(Mgmt *m, const char *name, MgmtCommandFn fn,
                      void *opaque);

/*
 * mgmt_reply_empty() - the return value {} of a command that has nothing
 * to say; a new node, owned by the caller (what an MgmtCommandFn returns).
 */
JsonNode *mgmt_reply_empty(void);

/**
 * mgmt_emit_event() - send an event to every client
 * @m:		the listener (NULL: nothing happens)
 * @name:	event name
 * @data:	event data, or NULL; consumed
 */
void mgmt_emit_event(Mgmt *m, const char *name, JsonNode *data);

/**
 * struct MgmtDevice - what the device commands act on
 * @nd:		the device model
 * @bus:	where the program attaches it: "none", "virtio" or "vhost"
 * @on_bus:	it is on the vDPA bus now
 * @where:	the netdev or /dev/vhost-vdpa-N the driver made, or NULL
 * @state_dir:	directory fd of --state-dir, the only place export-state and
 *		restore-state may name a file in; -1: none (replies only)
 *
 * Owned by the caller, who keeps @on_bus and @where current; read at each
 * command.
 */
typedef struct MgmtDevice {
    NetDev *nd;
    const char *bus;
    bool on_bus;
    const char *where;
    int state_dir;
} MgmtDevice;

/**
 * mgmt_add_device_commands() - register query-status, query-stats,
 * query-state, export-state, restore-state, set-link, announce, suspend
 * @m:		the listener
 * @dev:	the device they act on; must outlive @m
 */
void mgmt_add_device_commands(Mgmt *m, MgmtDevice *dev);

/* The error classes of replies. */
#define MGMT_ERROR mgmt_error_quark()
typedef enum MgmtError {
    MGMT_ERROR_GENERIC,   /* "GenericError" */
    MGMT_ERROR_NOT_FOUND, /* "CommandNotFound" */
} MgmtError;
GQuark mgmt_error_quark(void);

#endif /* VDUSE_NET_MGMT_H */
