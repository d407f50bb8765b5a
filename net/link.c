/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * link.c - the TAP's link: MTU, bridge, and watching its carrier
 *
 * Through libnl-route-3. Configuration happens once, before the device
 * exists, so taking the RTNL lock cannot meet a virtio-net driver holding
 * it. The watch is a netlink socket subscribed to link notifications,
 * read in the main loop.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "net-priv.h"

bool tap_setup_link(const char *ifname, uint16_t mtu, const char *bridge,
                    GError **error)
{
    struct nl_sock *sk = nl_socket_alloc();
    struct rtnl_link *tap = NULL, *br = NULL, *change = NULL;
    bool ok = false;
    int ret;

    if (!sk) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "out of memory");
        return false;
    }
    ret = nl_connect(sk, NETLINK_ROUTE);
    if (ret < 0) {
        netlink_set_error(error, ret, "rtnetlink");
        goto out;
    }
    ret = rtnl_link_get_kernel(sk, 0, ifname, &tap);
    if (ret < 0) {
        netlink_set_error(error, ret, "TAP %s", ifname);
        goto out;
    }
    change = rtnl_link_alloc();
    rtnl_link_set_mtu(change, mtu);
    if (bridge) {
        ret = rtnl_link_get_kernel(sk, 0, bridge, &br);
        if (ret < 0) {
            netlink_set_error(error, ret, "bridge %s", bridge);
            goto out;
        }
        rtnl_link_set_master(change, rtnl_link_get_ifindex(br));
        rtnl_link_set_flags(change, IFF_UP);
    }
    ret = rtnl_link_change(sk, tap, change, 0);
    if (ret < 0) {
        netlink_set_error(error, ret, "setting %s (MTU %u%s%s)", ifname, mtu,
                          bridge ? ", bridge " : "", bridge ? bridge : "");
        goto out;
    }
    if (bridge && !(rtnl_link_get_flags(br) & IFF_UP)) {
        struct rtnl_link *up = rtnl_link_alloc();

        rtnl_link_set_flags(up, IFF_UP);
        ret = rtnl_link_change(sk, br, up, 0);
        rtnl_link_put(up);
        if (ret < 0) {
            netlink_set_error(error, ret, "setting bridge %s up", bridge);
            goto out;
        }
    }
    ok = true;
out:
    if (change) {
        rtnl_link_put(change);
    }
    if (br) {
        rtnl_link_put(br);
    }
    if (tap) {
        rtnl_link_put(tap);
    }
    nl_socket_free(sk);
    return ok;
}

/**
 * struct NetLinkWatch - a watch on one interface's carrier
 * @sk:		netlink socket subscribed to RTNLGRP_LINK
 * @ifindex:	the interface
 * @up:		its last known state
 * @source:	the socket's source in the main loop
 * @changed:	called when @up changes
 * @opaque:	passed to @changed
 * @deleting:	the message being parsed is an RTM_DELLINK
 */
struct NetLinkWatch {
    struct nl_sock *sk;
    int ifindex;
    bool up;
    GSource *source;
    NetLinkChanged changed;
    void *opaque;
    bool deleting;
};

/**
 * link_is_up() - whether @link passes traffic: up and with carrier
 * @link:	the link
 *
 * Return: true if IFF_UP and IFF_RUNNING are set.
 */
static bool link_is_up(struct rtnl_link *link)
{
    unsigned int flags = rtnl_link_get_flags(link);

    return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

/**
 * watch_on_object() - a parsed link notification
 * @obj:	the link object
 * @arg:	the watch
 */
static void watch_on_object(struct nl_object *obj, void *arg)
{
    NetLinkWatch *w = arg;
    struct rtnl_link *link = (struct rtnl_link *)obj;
    /* A link gone from this namespace is down here for good; its going
     * is always told, down or not (it may have moved, not died). */
    bool up = !w->deleting && link_is_up(link);

    if (rtnl_link_get_ifindex(link) == w->ifindex &&
        (up != w->up || w->deleting)) {
        w->up = up;
        w->changed(w->up, w->deleting, w->opaque);
    }
}

/**
 * watch_on_msg() - a link notification arrived
 * @msg:	the message
 * @arg:	the watch
 *
 * Return: NL_OK.
 */
static int watch_on_msg(struct nl_msg *msg, void *arg)
{
    NetLinkWatch *w = arg;
    int type = nlmsg_hdr(msg)->nlmsg_type;

    if (type == RTM_NEWLINK || type == RTM_DELLINK) {
        w->deleting = type == RTM_DELLINK;
        nl_msg_parse(msg, watch_on_object, arg);
        w->deleting = false;
    }
    return NL_OK;
}

/**
 * watch_readable() - read the pending notifications
 * @fd:		the netlink socket
 * @cond:	what poll saw
 * @data:	the watch
 *
 * Return: G_SOURCE_CONTINUE.
 */
static gboolean watch_readable(int fd, GIOCondition cond, gpointer data)
{
    NetLinkWatch *w = data;
    int ret = nl_recvmsgs_default(w->sk);

    if (ret < 0 && ret != -NLE_AGAIN) {
        /* Lost notifications (ENOBUFS): nothing to do but go on. */
        g_debug("link watch: %s", nl_geterror(ret));
    }
    return G_SOURCE_CONTINUE;
}

NetLinkWatch *net_link_watch_new(const char *ifname, NetLinkChanged changed,
                                 void *opaque, GMainContext *ctx,
                                 GError **error)
{
    g_autofree NetLinkWatch *w = g_new0(NetLinkWatch, 1);
    struct rtnl_link *link = NULL;
    int ret;

    w->sk = nl_socket_alloc();
    if (!w->sk) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "out of memory");
        return NULL;
    }
    nl_socket_disable_seq_check(w->sk);
    nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, watch_on_msg, w);
    ret = nl_connect(w->sk, NETLINK_ROUTE);
    if (ret >= 0) {
        ret = nl_socket_add_membership(w->sk, RTNLGRP_LINK);
    }
    if (ret >= 0) {
        ret = rtnl_link_get_kernel(w->sk, 0, ifname, &link);
    }
    if (ret < 0) {
        netlink_set_error(error, ret, "watching %s", ifname);
        nl_socket_free(w->sk);
        return NULL;
    }
    w->ifindex = rtnl_link_get_ifindex(link);
    w->up = link_is_up(link);
    rtnl_link_put(link);
    nl_socket_set_nonblocking(w->sk);
    w->changed = changed;
    w->opaque = opaque;
    w->source = g_unix_fd_source_new(nl_socket_get_fd(w->sk), G_IO_IN);
    g_source_set_callback(w->source, G_SOURCE_FUNC(watch_readable), w, NULL);
    g_source_attach(w->source, ctx);
    return g_steal_pointer(&w);
}

bool net_link_watch_is_up(const NetLinkWatch *w)
{
    return w->up;
}

void net_link_watch_free(NetLinkWatch *w)
{
    if (!w) {
        return;
    }
    g_source_destroy(w->source);
    g_source_unref(w->source);
    nl_socket_free(w->sk);
    g_free(w);
}
