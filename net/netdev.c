/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netdev.c - the virtio-net device model on a VDUSE device
 *
 * DOC: Theory of operation
 *
 * Queues: pair i has RX vq 2i and TX vq 2i+1, in virtqueue group 0; the
 * control vq, when offered, comes last, alone in group 1, so that the driver
 * may move it to address space 1.
 *
 * The control queue is served in the main context, the one that answers
 * the kernel's messages: a device that offers it must answer from the first
 * moment, since the kernel's virtio-net driver sends commands while it
 * probes and waits for each answer. Each command is copied out of guest
 * memory before it is looked at, then handed to ctrlvq/.
 *
 * TAP ioctls that take the RTNL lock (TUNSETOFFLOAD, TUNSETQUEUE) are
 * never made from the thread that answers the kernel, nor from a dataplane
 * thread the main thread may wait for: the kernel's virtio-net driver holds
 * RTNL while it sets DRIVER_OK or sends control commands, and waits for our
 * answer. They go to a worker thread of their own, in order; until an
 * offload is applied the TAP simply hands us frames that need none.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctrlvq.h"
#include "net-priv.h"

/**
 * struct NetDev - a virtio-net device model
 * @opts:		the options it was made from (@opts.name points to
 * @name)
 * @name:		device name
 * @tap_fds:		TAP queue fds, one per queue pair
 * @n_tap_fds:		number of TAP fds
 * @capable:		features this device could offer (the TAP decides USO)
 * @features:		features offered: @capable less the options' removals
 * @config:		config space
 * @vq_group:		group of each virtqueue
 * @vq_num:		number of virtqueues
 * @ctrl_index:		index of the control vq (valid with @opts.ctrl_vq)
 * @dev:		the open VDUSE device, or NULL
 * @ctx:		main context serving @dev
 * @cvq:		control-queue state
 * @cvq_source:		kick watch of the control vq while it runs
 * @elem:		storage for one popped control command
 * @cmd:		the command copied out of guest memory
 * @result:		the result of the command, before it is copied back
 * @pairs:		the dataplane of each queue pair (while @dev is open)
 * @active_pairs:	pairs the driver uses (1 until it asks for more)
 * @tap_worker:		runs TapJobs one at a time, in order
 * @capture:		where to record frames, or NULL (not owned)
 * @uso:		the TAP takes UDP segmentation offload
 * @event_fn:		where events go, or NULL
 * @event_opaque:	passed to @event_fn
 * @restore:		a state to restore when the driver comes, or NULL
 * @restore_announce:	ask the driver to announce itself after restoring
 * @restore_applied:	@restore was applied at the last FEATURES_OK
 * @adopting:		in net_dev_adopt(): the driver started the device before
 *			this process, and what its TAP queued is not stale
 * @announce_source:	retries the announce after a restore, or NULL
 * @announce_tries:	retries left
 * @link:		watch on the TAP's carrier, or NULL
 * @admin_up:		the link as set by net_dev_set_link()
 * @tap_up:		the TAP's carrier as last seen
 * @link_moved:		the TAP left for another network namespace: not
 *			followed any more
 * @tap_speed:		the TAP's speed and duplex as the TAP worker last
 *			read them: SPEED_VALID | speed << 8 | duplex, or 0
 * @speed_source:	re-reads the TAP's speed every second, or NULL
 * @steer:		the TAP steering program (RSS), or NULL: RSS not offered
 * @steer_attached:	the program steers the TAP (RSS on), or will once the
 *			TAP worker gets to it
 */
struct NetDev {
    NetOptions opts;
    char *name;
    int tap_fds[NET_MAX_QUEUE_PAIRS];
    unsigned int n_tap_fds;
    uint64_t capable;
    uint64_t features;
    struct virtio_net_config config;
    uint32_t vq_group[2 * NET_MAX_QUEUE_PAIRS + 1];
    uint32_t vq_num;
    uint32_t ctrl_index;
    VduseDev *dev;
    GMainContext *ctx;
    Ctrlvq *cvq;
    GSource *cvq_source;
    VduseVqElem *elem;
    uint8_t *cmd;
    uint8_t *result;
    NetPair *pairs[NET_MAX_QUEUE_PAIRS];
    unsigned int active_pairs;
    GThreadPool *tap_worker;
    NetCapture *capture;
    bool uso;
    NetEventFn event_fn;
    void *event_opaque;
    NetState *restore;
    bool restore_announce;
    bool restore_applied;
    bool adopting;
    GSource *announce_source;
    unsigned int announce_tries;
    NetLinkWatch *link;
    bool admin_up;
    bool tap_up;
    bool link_moved;
    uint64_t tap_speed;
    GSource *speed_source;
    NetSteer *steer;
    bool steer_attached;
};

/* NetDev.tap_speed holds a reading. */
#define SPEED_VALID (1ull << 40)

/**
 * emit() - report an event, if anyone listens
 * @nd:		the model
 * @event:	its name
 * @data:	its data; consumed
 */
static void emit(NetDev *nd, const char *event, JsonNode *data)
{
    if (nd->event_fn) {
        nd->event_fn(event, data, nd->event_opaque);
    } else {
        json_node_unref(data);
    }
}

/**
 * emit_int() - report an event whose data is {@key: @value}
 * @nd:		the model
 * @event:	its name
 * @key:	the member
 * @value:	its value
 */
static void emit_int(NetDev *nd, const char *event, const char *key,
                     gint64 value)
{
    JsonObject *o = json_object_new();

    json_object_set_int_member(o, key, value);
    emit(nd, event, json_node_init_object(json_node_alloc(), o));
    json_object_unref(o);
}

/* What a TapJob does. */
typedef enum TapJobKind {
    TAP_JOB_OFFLOAD, /* TUNSETOFFLOAD */
    TAP_JOB_QUEUE,   /* TUNSETQUEUE */
    TAP_JOB_SPEED,   /* SIOCETHTOOL ETHTOOL_GSET into @speed */
    TAP_JOB_STEER,   /* TUNSETSTEERINGEBPF */
} TapJobKind;

/**
 * struct TapJob - a TAP ioctl for the TAP worker
 * @name:	device name, for log lines
 * @kind:	which ioctl
 * @fd:		TAP queue fd
 * @offloads:	TUN_F_* flags for TUNSETOFFLOAD
 * @enable:	attach (true) or detach the queue, for TUNSETQUEUE
 * @speed:	where TAP_JOB_SPEED stores its reading (NetDev.tap_speed)
 * @prog_fd:	the steering program for TAP_JOB_STEER, -1 to detach
 */
typedef struct TapJob {
    const char *name;
    TapJobKind kind;
    int fd;
    unsigned int offloads;
    bool enable;
    uint64_t *speed;
    int prog_fd;
} TapJob;

/**
 * speed_word() - a NetDev.tap_speed word for one reading
 * @speed:	Mb/s
 * @duplex:	DUPLEX_*
 *
 * Return: the word.
 */
static uint64_t speed_word(uint32_t speed, uint8_t duplex)
{
    return SPEED_VALID | (uint64_t)speed << 8 | duplex;
}

/**
 * tap_job_run() - run one TapJob in the TAP worker
 * @data:	the job, freed here
 * @pool_data:	unused
 */
static void tap_job_run(gpointer data, gpointer pool_data)
{
    g_autofree TapJob *job = data;
    int ret;

    if (job->kind == TAP_JOB_SPEED) {
        uint32_t speed;
        uint8_t duplex;

        __atomic_store_n(job->speed,
                         tap_get_speed(job->fd, &speed, &duplex)
                             ? speed_word(speed, duplex)
                             : 0,
                         __ATOMIC_RELAXED);
    } else if (job->kind == TAP_JOB_STEER) {
        ret = tap_set_steering(job->fd, job->prog_fd);
        if (ret < 0) {
            g_message("%s: TUNSETSTEERINGEBPF %s: %s", job->name,
                      job->prog_fd < 0 ? "detach" : "attach", g_strerror(-ret));
        }
    } else if (job->kind == TAP_JOB_QUEUE) {
        ret = tap_set_queue_enabled(job->fd, job->enable);
        if (ret < 0) {
            g_message("%s: TUNSETQUEUE %s: %s", job->name,
                      job->enable ? "attach" : "detach", g_strerror(-ret));
        }
    } else if (ioctl(job->fd, TUNSETOFFLOAD, job->offloads) < 0) {
        g_message("%s: TUNSETOFFLOAD 0x%x: %s", job->name, job->offloads,
                  g_strerror(errno));
    }
}

/**
 * tap_job_push() - queue a TAP ioctl for the TAP worker
 * @nd:		the model
 * @job:	the job; copied
 */
static void tap_job_push(NetDev *nd, const TapJob *job)
{
    TapJob *copy = g_memdup2(job, sizeof(*job));

    copy->name = nd->name;
    g_thread_pool_push(nd->tap_worker, copy, NULL);
}

/**
 * pair_set_shadow() - give pair @i what the driver set: its receive filter,
 * if it set one, and the coalescing of the pair's two queues
 * @nd:		the model
 * @i:		the pair, paused or not running
 */
static void pair_set_shadow(NetDev *nd, unsigned int i)
{
    const CtrlvqShadow *s = ctrlvq_shadow(nd->cvq);
    uint64_t f = nd->dev ? vduse_dev_features(nd->dev) : 0;
    bool rx = f & VDUSE_BIT(VIRTIO_NET_F_CTRL_RX);
    bool vlan = f & VDUSE_BIT(VIRTIO_NET_F_CTRL_VLAN);

    /* RSS_CONFIG's hash types and key while it is on, else HASH_CONFIG's. */
    const CtrlvqRss *hash = s->rss.enabled    ? &s->rss
                            : s->hash.enabled ? &s->hash
                                              : NULL;

    net_pair_set_filter(nd->pairs[i], rx || vlan ? s : NULL, vlan,
                        s->guest_offloads);
    net_pair_set_hash(nd->pairs[i],
                      f & VDUSE_BIT(VIRTIO_NET_F_HASH_REPORT) ? hash : NULL);
    net_pair_set_coalescing(nd->pairs[i], &s->coal_vq[2 * i],
                            &s->coal_vq[2 * i + 1]);
}

static void pair_start(NetDev *nd, unsigned int i);
static void link_follow_tap(NetDev *nd);

/* cvq_set_queue_pairs() - VQ_PAIRS_SET: start and stop pairs. */
static bool cvq_set_queue_pairs(uint16_t pairs, void *opaque)
{
    NetDev *nd = opaque;
    unsigned int old = nd->active_pairs;

    if (pairs > nd->n_tap_fds) {
        g_message("%s: %u queue pairs asked, %u TAP queues", nd->name, pairs,
                  nd->n_tap_fds);
        return false;
    }
    nd->active_pairs = pairs;
    for (unsigned int i = pairs; i < old; i++) {
        /* Between two bursts: nothing popped is left unpushed. */
        net_pair_stop(nd->pairs[i]);
        tap_job_push(nd, &(TapJob){.kind = TAP_JOB_QUEUE,
                                   .fd = nd->tap_fds[i],
                                   .enable = false});
    }
    for (unsigned int i = old; i < pairs; i++) {
        tap_job_push(nd, &(TapJob){.kind = TAP_JOB_QUEUE,
                                   .fd = nd->tap_fds[i],
                                   .enable = true});
        pair_start(nd, i);
    }
    return true;
}

/* cvq_set_guest_offloads() - GUEST_OFFLOADS_SET: tell the TAP. */
static bool cvq_set_guest_offloads(uint64_t offloads, void *opaque)
{
    NetDev *nd = opaque;
    unsigned int flags = net_tap_offloads(offloads);

    for (unsigned int i = 0; i < nd->n_tap_fds; i++) {
        tap_job_push(nd, &(TapJob){.kind = TAP_JOB_OFFLOAD,
                                   .fd = nd->tap_fds[i],
                                   .offloads = flags});
    }
    return true;
}

/* cvq_set_mac() - MAC_ADDR_SET: config space follows. */
static void cvq_set_mac(const uint8_t mac[6], void *opaque)
{
    NetDev *nd = opaque;

    memcpy(nd->config.mac, mac, 6);
    if (nd->dev &&
        vduse_dev_set_config(nd->dev, offsetof(struct virtio_net_config, mac),
                             mac, 6, false) < 0) {
        g_message("%s: cannot update the MAC in config space", nd->name);
    }
}

/* cvq_announce_ack() - the driver announced itself: clear the request. */
static void cvq_announce_ack(void *opaque)
{
    NetDev *nd = opaque;
    uint16_t status = le16toh(nd->config.status) & ~VIRTIO_NET_S_ANNOUNCE;

    nd->config.status = htole16(status);
    if (nd->dev && vduse_dev_set_config(
                       nd->dev, offsetof(struct virtio_net_config, status),
                       &nd->config.status, 2, false) < 0) {
        g_message("%s: cannot update the status in config space", nd->name);
    }
}

/*
 * cvq_changed() - the shadow changed: the running pairs filter and
 * coalesce anew (a pause sends what a coalescing window owes first).
 */
static void cvq_changed(const CtrlvqShadow *shadow, const char *what,
                        void *opaque)
{
    NetDev *nd = opaque;
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "command", what);
    json_object_set_member(o, "shadow", net_shadow_to_json(shadow));
    emit(nd, "SHADOW_CHANGED", json_node_init_object(json_node_alloc(), o));
    json_object_unref(o);

    for (unsigned int i = 0; i < nd->opts.queue_pairs; i++) {
        if (nd->pairs[i]) {
            net_pair_pause(nd->pairs[i]);
            pair_set_shadow(nd, i);
            net_pair_resume(nd->pairs[i]);
        }
    }
}

/**
 * cvq_get_queue_stats() - STATS_GET: the counters of data vq @vq
 * @vq:		2n: RX of pair n, 2n+1: its TX
 * @out:	filled in (zero for a pair that never ran)
 * @opaque:	the model
 */
static void cvq_get_queue_stats(uint16_t vq, CtrlvqQueueStats *out,
                                void *opaque)
{
    NetDev *nd = opaque;
    NetPairStats st;

    net_dev_get_stats(nd, vq / 2, &st);
    if (vq % 2) {
        *out = (CtrlvqQueueStats){
            .notifications = st.tx_kicks,
            .packets = st.tx_packets,
            .bytes = st.tx_bytes,
            .interrupts = st.tx_irqs,
            .drops = st.tx_dropped,
            .drops_kind = st.tx_malformed,
        };
    } else {
        /* Filtered frames are drops too; none is lost for want of
         * buffers: the TAP is not read until the driver gives some. */
        *out = (CtrlvqQueueStats){
            .notifications = st.rx_kicks,
            .packets = st.rx_packets,
            .bytes = st.rx_bytes,
            .interrupts = st.rx_irqs,
            .drops = st.rx_dropped + st.rx_filtered,
            .drops_kind = 0,
        };
    }
}

/**
 * steer_attach() - have the TAP worker attach or detach the steering
 * @nd:		the model, with a steering program
 * @on:		attach (RSS on) or detach (the TAP's own flow steering)
 */
static void steer_attach(NetDev *nd, bool on)
{
    if (on == nd->steer_attached) {
        return;
    }
    tap_job_push(nd,
                 &(TapJob){.kind = TAP_JOB_STEER,
                           .fd = nd->tap_fds[0],
                           .prog_fd = on ? net_steer_prog_fd(nd->steer) : -1});
    nd->steer_attached = on;
}

/*
 * cvq_set_rss() - RSS_CONFIG (or RSS off): the map now, the program
 * attached or detached by the TAP worker (TUNSETSTEERINGEBPF takes RTNL);
 * until then the TAP steers by its own flow hash.
 */
static bool cvq_set_rss(const CtrlvqRss *rss, void *opaque)
{
    NetDev *nd = opaque;

    if (!nd->steer || !net_steer_set(nd->steer, rss)) {
        return false;
    }
    steer_attach(nd, rss->enabled);
    return true;
}

static const CtrlvqOps cvq_ops = {
    .set_rss = cvq_set_rss,
    .get_queue_stats = cvq_get_queue_stats,
    .set_queue_pairs = cvq_set_queue_pairs,
    .set_guest_offloads = cvq_set_guest_offloads,
    .set_mac = cvq_set_mac,
    .announce_ack = cvq_announce_ack,
    .changed = cvq_changed,
};

/**
 * speed_show() - put the speed and duplex in config space
 * @nd:		the model
 *
 * What the options fix, else what the TAP said last (unknown if it said
 * nothing). A change is sent with a config interrupt once the driver
 * negotiated VIRTIO_NET_F_SPEED_DUPLEX and runs; Linux's virtio-net (7.3)
 * takes it in at the next link up, as it does not read the speed on a
 * config change that leaves the link as it was.
 */
static void speed_show(NetDev *nd)
{
    uint64_t word = __atomic_load_n(&nd->tap_speed, __ATOMIC_RELAXED);
    uint32_t speed = NET_SPEED_UNKNOWN;
    uint8_t duplex = NET_DUPLEX_UNKNOWN;
    bool notify;

    if (word & SPEED_VALID) {
        speed = (uint32_t)(word >> 8);
        duplex = (uint8_t)word;
    }
    if (nd->opts.speed_set) {
        speed = nd->opts.speed;
    }
    if (nd->opts.duplex_set) {
        duplex = nd->opts.duplex;
    }
    /* Config space knows half (0) and full (1); anything else: unknown. */
    if (duplex > 1) {
        duplex = NET_DUPLEX_UNKNOWN;
    }
    if (speed > G_MAXINT32) {
        speed = NET_SPEED_UNKNOWN;
    }
    if (le32toh(nd->config.speed) == speed && nd->config.duplex == duplex) {
        return;
    }
    g_debug("%s: speed %u Mb/s, duplex %u", nd->name, speed, duplex);
    nd->config.speed = htole32(speed);
    nd->config.duplex = duplex;
    if (!nd->dev) {
        return;
    }
    notify =
        (vduse_dev_features(nd->dev) & VDUSE_BIT(VIRTIO_NET_F_SPEED_DUPLEX)) &&
        (vduse_dev_status(nd->dev) & VDUSE_S_DRIVER_OK);
    /* speed and duplex are next to each other: one update. */
    if (vduse_dev_set_config(
            nd->dev, offsetof(struct virtio_net_config, speed),
            &nd->config.speed,
            sizeof(nd->config.speed) + sizeof(nd->config.duplex), notify) < 0) {
        g_message("%s: cannot update the speed in config space", nd->name);
    }
}

/**
 * speed_poll() - show what the TAP said, and ask it again
 * @opaque:	the model
 *
 * The TAP worker reads (SIOCETHTOOL takes RTNL, see the top of the
 * file); the next tick shows it. Return: G_SOURCE_CONTINUE.
 */
static gboolean speed_poll(gpointer opaque)
{
    NetDev *nd = opaque;

    speed_show(nd);
    tap_job_push(nd, &(TapJob){.kind = TAP_JOB_SPEED,
                               .fd = nd->tap_fds[0],
                               .speed = &nd->tap_speed});
    return G_SOURCE_CONTINUE;
}

/**
 * speed_follow_tap() - follow the TAP's speed and duplex, unless both are
 * fixed or SPEED_DUPLEX is not offered
 * @nd:		the model, being opened
 */
static void speed_follow_tap(NetDev *nd)
{
    /* Nothing to follow for a driver that cannot be told (the default
     * with --bus vhost): the read takes RTNL every second. */
    if ((nd->opts.speed_set && nd->opts.duplex_set) || !nd->n_tap_fds ||
        !(nd->features & VDUSE_BIT(VIRTIO_NET_F_SPEED_DUPLEX))) {
        return;
    }
    nd->speed_source = g_timeout_source_new_seconds(1);
    g_source_set_callback(nd->speed_source, speed_poll, nd, NULL);
    g_source_attach(nd->speed_source, nd->ctx);
}

/**
 * net_dev_layout() - features, config space and queues from @nd->opts
 * @nd:		the model
 */
static void net_dev_layout(NetDev *nd)
{
    const NetOptions *opts = &nd->opts;

    nd->capable = net_offered_features(opts);
    if (nd->uso) {
        nd->capable |= VDUSE_BIT(VIRTIO_NET_F_HOST_USO) |
                       VDUSE_BIT(VIRTIO_NET_F_GUEST_USO4) |
                       VDUSE_BIT(VIRTIO_NET_F_GUEST_USO6);
    }
    if (nd->steer && opts->ctrl_vq) {
        nd->capable |= VDUSE_BIT(VIRTIO_NET_F_RSS);
    }
    nd->features = nd->capable & ~opts->features_off;
    /* The key and the hash types are RSS's and the hash reports' both. */
    if (nd->features &
        (VDUSE_BIT(VIRTIO_NET_F_RSS) | VDUSE_BIT(VIRTIO_NET_F_HASH_REPORT))) {
        nd->config.rss_max_key_size = CTRLVQ_RSS_MAX_KEY;
        nd->config.supported_hash_types = htole32(CTRLVQ_RSS_HASH_TYPES);
    } else {
        nd->config.rss_max_key_size = 0;
        nd->config.supported_hash_types = 0;
    }
    nd->config.rss_max_indirection_table_length =
        nd->features & VDUSE_BIT(VIRTIO_NET_F_RSS)
            ? htole16(CTRLVQ_RSS_MAX_TABLE)
            : 0;
    memcpy(nd->config.mac, opts->mac, 6);
    nd->config.status = htole16(VIRTIO_NET_S_LINK_UP);
    nd->config.max_virtqueue_pairs = htole16(opts->queue_pairs);
    nd->config.mtu = htole16(opts->mtu);
    speed_show(nd);

    memset(nd->vq_group, 0, sizeof(nd->vq_group));
    nd->vq_num = 2 * opts->queue_pairs;
    if (opts->ctrl_vq) {
        nd->ctrl_index = nd->vq_num++;
        nd->vq_group[nd->ctrl_index] = 1;
    }
}

/**
 * drop_ctrl_vq() - describe the device without the control queue
 * @nd:		the model, not yet created
 *
 * For kernels that refuse VIRTIO_NET_F_CTRL_VQ: drops it, the features that
 * need it, and every queue pair but the first.
 */
static void drop_ctrl_vq(NetDev *nd)
{
    nd->opts.ctrl_vq = false;
    nd->opts.queue_pairs = 1; /* without VIRTIO_NET_F_MQ the driver uses one */
    net_dev_layout(nd);
}

NetDev *net_dev_new(const NetOptions *opts, const int *tap_fds,
                    unsigned int n_tap_fds)
{
    NetDev *nd = g_new0(NetDev, 1);

    g_return_val_if_fail(opts->queue_pairs >= 1 &&
                             opts->queue_pairs <= NET_MAX_QUEUE_PAIRS &&
                             n_tap_fds <= NET_MAX_QUEUE_PAIRS,
                         NULL);
    nd->name = g_strdup(opts->name);
    nd->opts = *opts;
    nd->opts.name = nd->name;
    if (n_tap_fds > 0) { /* memcpy() from NULL is undefined, even of 0 */
        memcpy(nd->tap_fds, tap_fds, n_tap_fds * sizeof(int));
    }
    nd->n_tap_fds = n_tap_fds;
    nd->uso = n_tap_fds > 0 && tap_supports_uso(tap_fds[0]);
    nd->active_pairs = 1;
    nd->admin_up = nd->tap_up = true;
    /* No driver holds RTNL yet: the TAP's speed can be read here. */
    if (n_tap_fds > 0 && !(opts->speed_set && opts->duplex_set)) {
        uint32_t speed;
        uint8_t duplex;

        if (tap_get_speed(tap_fds[0], &speed, &duplex)) {
            nd->tap_speed = speed_word(speed, duplex);
        }
    }
    if (opts->ctrl_vq && n_tap_fds > 0 &&
        !(opts->features_off & VDUSE_BIT(VIRTIO_NET_F_RSS))) {
        g_autoptr(GError) error = NULL;

        nd->steer = net_steer_new(&error);
        if (!nd->steer) {
            g_message("%s: RSS not offered: %s", nd->name, error->message);
        }
    }
    net_dev_layout(nd);
    nd->cvq = ctrlvq_new(nd->name, opts->mac, opts->queue_pairs, &cvq_ops, nd);
    /* Only the queues of active pairs may receive: the TAP would steer
     * flows to the others and nobody would read them. No driver holds RTNL
     * yet, so this may be done here. */
    /* A TAP we were given (--tap-fd, or kept by a process killed with
     * RSS on) may still carry a steering program whose map nobody
     * updates: take it off; ours is attached when the driver asks. */
    if (n_tap_fds > 0) {
        int ret = tap_set_steering(tap_fds[0], -1);

        if (ret < 0) {
            g_debug("%s: detaching a TAP steering program: %s", nd->name,
                    g_strerror(-ret));
        }
    }
    for (unsigned int i = 1; i < n_tap_fds; i++) {
        int ret = tap_set_queue_enabled(tap_fds[i], false);

        if (ret < 0) {
            g_debug("%s: detaching TAP queue %u: %s", nd->name, i,
                    g_strerror(-ret));
        }
    }
    nd->elem = g_new(VduseVqElem, 1);
    nd->cmd = g_malloc(CTRLVQ_MAX_COMMAND);
    nd->result = g_malloc(CTRLVQ_MAX_RESULT);
    nd->tap_worker = g_thread_pool_new(tap_job_run, NULL, 1, FALSE, NULL);
    return nd;
}

void net_dev_free(NetDev *nd)
{
    if (!nd) {
        return;
    }
    net_dev_close(nd);
    /* The TAP may outlive us (--tap-fd): not with our program on it. */
    if (nd->steer) {
        steer_attach(nd, false);
    }
    /* Let queued TAP jobs finish before their fds close. */
    g_thread_pool_free(nd->tap_worker, FALSE, TRUE);
    for (unsigned int i = 0; i < nd->n_tap_fds; i++) {
        close(nd->tap_fds[i]);
    }
    ctrlvq_free(nd->cvq);
    net_steer_free(nd->steer);
    g_free(nd->restore);
    g_free(nd->elem);
    g_free(nd->cmd);
    g_free(nd->result);
    g_free(nd->name);
    g_free(nd);
}

/**
 * net_dev_config() - describe the device for libvduse
 * @nd:		the model
 * @cfg:	filled in; points into @nd
 */
static void net_dev_config(NetDev *nd, VduseDevConfig *cfg)
{
    *cfg = (VduseDevConfig){
        .name = nd->name,
        .device_id = VIRTIO_ID_NET,
        .features = nd->features,
        .vq_num = nd->vq_num,
        .vq_max_size = NET_VQ_SIZE,
        .vq_group = nd->vq_group,
        .ngroups = 2,
        .nas = 2,
        .config = &nd->config,
        .config_size = sizeof(nd->config),
    };
}

bool net_dev_create(NetDev *nd, VduseControl *ctl, bool fallback,
                    GError **error)
{
    GError *err = NULL;
    VduseDevConfig cfg;

    net_dev_config(nd, &cfg);
    if (vduse_control_create_dev(ctl, &cfg, &err)) {
        return true;
    }
    if (!nd->opts.ctrl_vq ||
        !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) {
        g_propagate_error(error, err);
        return false;
    }
    if (!fallback) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "this kernel refuses the control virtqueue for VDUSE net "
                    "devices: %s",
                    err->message);
        g_error_free(err);
        return false;
    }
    /* Try again without it: if that works, the control queue was refused. */
    g_error_free(err);
    drop_ctrl_vq(nd);
    net_dev_config(nd, &cfg);
    return vduse_control_create_dev(ctl, &cfg, error);
}

uint64_t net_dev_offered_features(const NetDev *nd)
{
    return nd->features;
}

bool net_dev_has_ctrl_vq(const NetDev *nd)
{
    return nd->opts.ctrl_vq;
}

/**
 * cvq_serve_one() - answer the control command in @nd->elem
 * @nd:		the model
 * @vq:		the control vq
 */
static void cvq_serve_one(NetDev *nd, VduseVq *vq)
{
    VduseVqElem *e = nd->elem;
    const struct iovec *in = &e->iov[e->out_num];
    uint8_t status = VIRTIO_NET_ERR;
    size_t len, room, result_len = 0;

    if (e->in_num == 0 || e->in_len == 0) {
        g_message("%s: control command without a status buffer", nd->name);
        vduse_vq_push(vq, e->id, 0);
        return;
    }
    /* The status is the first device-writable byte; a result (STATS)
     * follows it (virtio 1.3 5.1.6.5: ack, then command-specific-result). */
    room = MIN(e->in_len - 1, (size_t)CTRLVQ_MAX_RESULT);
    if (e->out_len > CTRLVQ_MAX_COMMAND) {
        g_message("%s: control command of %zu bytes is larger than %u",
                  nd->name, e->out_len, CTRLVQ_MAX_COMMAND);
    } else {
        len = iov_to_buf(e->iov, e->out_num, 0, nd->cmd, CTRLVQ_MAX_COMMAND);
        status = ctrlvq_execute_reply(nd->cvq, nd->cmd, len, nd->result, room,
                                      &result_len);
    }
    iov_from_buf(in, e->in_num, 0, &status, 1);
    if (result_len) {
        iov_from_buf(in, e->in_num, 1, nd->result, result_len);
    }
    vduse_vq_push(vq, e->id, (uint32_t)(result_len + 1));
}

static void cvq_stop(NetDev *nd);

/**
 * cvq_serve() - answer every pending control command
 * @nd:		the model
 *
 * Bounded: at most one queue's worth per call; the rest is picked up by
 * dispatching the watch again at once.
 */
static void cvq_serve(NetDev *nd)
{
    VduseVq *vq = vduse_dev_vq(nd->dev, nd->ctrl_index);
    unsigned int served = 0;
    bool more = true;

    /* A suspended device changes nothing: the commands wait (migration
     * hands them to the destination with the ring). */
    if (vduse_dev_is_suspended(nd->dev)) {
        return;
    }
    vduse_vq_enable_notify(vq, false);
    while (more && served < NET_VQ_SIZE) {
        int ret = vduse_vq_pop(vq, nd->elem);

        if (ret < 0) {
            emit_int(nd, "QUEUE_FAILED", "queue", nd->ctrl_index);
            cvq_stop(nd);
            return;
        }
        if (ret == 0) {
            more = vduse_vq_enable_notify(vq, true);
            if (more) {
                vduse_vq_enable_notify(vq, false);
            }
            continue;
        }
        cvq_serve_one(nd, vq);
        served++;
    }
    if (vduse_vq_flush(vq)) {
        vduse_dev_vq_notify(nd->dev, nd->ctrl_index);
    }
    if (more) {
        g_source_set_ready_time(nd->cvq_source, 0);
    }
}

/**
 * cvq_kicked() - the control vq's kick eventfd fired
 * @fd:		the eventfd
 * @cond:	G_IO_IN
 * @opaque:	the model
 *
 * Return: G_SOURCE_CONTINUE.
 */
static gboolean cvq_kicked(int fd, GIOCondition cond, gpointer opaque)
{
    NetDev *nd = opaque;
    uint64_t count;

    g_source_set_ready_time(nd->cvq_source, -1);
    if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
        g_message("%s: control vq kick: %s", nd->name, g_strerror(errno));
    }
    cvq_serve(nd);
    return G_SOURCE_CONTINUE;
}

/**
 * cvq_start() - watch the control vq's kicks and serve what is pending
 * @nd:		the model
 */
static void cvq_start(NetDev *nd)
{
    int kickfd;

    if (!nd->opts.ctrl_vq || nd->cvq_source ||
        !(vduse_dev_features(nd->dev) & VDUSE_BIT(VIRTIO_NET_F_CTRL_VQ)) ||
        !vduse_dev_vq_is_started(nd->dev, nd->ctrl_index)) {
        return;
    }
    kickfd = vduse_dev_vq_kickfd(nd->dev, nd->ctrl_index);
    if (kickfd < 0) {
        return;
    }
    nd->cvq_source = g_unix_fd_source_new(kickfd, G_IO_IN);
    g_source_set_callback(nd->cvq_source, G_SOURCE_FUNC(cvq_kicked), nd, NULL);
    g_source_attach(nd->cvq_source, nd->ctx);
    cvq_serve(nd);
}

/**
 * cvq_stop() - stop watching the control vq
 * @nd:		the model
 */
static void cvq_stop(NetDev *nd)
{
    if (nd->cvq_source) {
        g_source_destroy(nd->cvq_source);
        g_clear_pointer(&nd->cvq_source, g_source_unref);
    }
}

/**
 * vduse_vq_irq() - interrupt the driver for vq @index of a VDUSE device
 * @opaque:	the VduseDev
 * @index:	the vq
 *
 * Return: 0 or negative errno.
 */
static int vduse_vq_irq(void *opaque, uint32_t index)
{
    return vduse_dev_vq_notify(opaque, index);
}

/**
 * pair_start() - start pair @i if the driver uses it and its queues run
 * @nd:		the model
 * @i:		pair index
 */
static void pair_start(NetDev *nd, unsigned int i)
{
    g_autoptr(GError) error = NULL;
    NetPairQueues q;

    if (i >= nd->active_pairs || i >= nd->n_tap_fds || !nd->pairs[i] ||
        net_pair_is_running(nd->pairs[i])) {
        return;
    }
    if (!vduse_dev_vq_is_started(nd->dev, 2 * i) ||
        !vduse_dev_vq_is_started(nd->dev, 2 * i + 1)) {
        g_debug("%s: pair %u: queues not started yet", nd->name, i);
        return;
    }
    q = (NetPairQueues){
        .rx = vduse_dev_vq(nd->dev, 2 * i),
        .tx = vduse_dev_vq(nd->dev, 2 * i + 1),
        .rx_index = 2 * i,
        .tx_index = 2 * i + 1,
        .rx_kick = vduse_dev_vq_kickfd(nd->dev, 2 * i),
        .tx_kick = vduse_dev_vq_kickfd(nd->dev, 2 * i + 1),
        .notify = vduse_vq_irq,
        .opaque = nd->dev,
    };
    pair_set_shadow(nd, i);
    g_debug("%s: pair %u: starting", nd->name, i);
    if (!net_pair_start(nd->pairs[i], &q, vduse_dev_features(nd->dev),
                        nd->opts.mtu, &error)) {
        /* Its queues are not served: say so where an operator looks. */
        g_message("%s: pair %u not started: %s", nd->name, i, error->message);
        emit_int(nd, "QUEUE_FAILED", "queue", 2 * i);
        emit_int(nd, "QUEUE_FAILED", "queue", 2 * i + 1);
    }
}

/**
 * pairs_foreach() - apply @fn to every pair that exists
 * @nd:		the model
 * @fn:		net_pair_stop, net_pair_pause or net_pair_resume
 */
static void pairs_foreach(NetDev *nd, void (*fn)(NetPair *))
{
    for (unsigned int i = 0; i < nd->opts.queue_pairs; i++) {
        if (nd->pairs[i]) {
            fn(nd->pairs[i]);
        }
    }
}

/**
 * restore_at_features_ok() - apply a pending restore for these features
 * @nd:		the model
 * @features:	what the driver negotiated
 *
 * The restore stays pending until DRIVER_OK: a VMM probes the device
 * (FEATURES_OK, then a reset) before it starts it for real.
 */
static void restore_at_features_ok(NetDev *nd, uint64_t features)
{
    g_autoptr(GError) error = NULL;

    nd->restore_applied = false;
    if (!nd->restore) {
        return;
    }
    if (features != nd->restore->negotiated) {
        g_message("%s: the driver negotiated features 0x%" G_GINT64_MODIFIER
                  "x, the saved state 0x%" G_GINT64_MODIFIER
                  "x: the state is not restored",
                  nd->name, (guint64)features,
                  (guint64)nd->restore->negotiated);
        return;
    }
    if (!ctrlvq_restore(nd->cvq, features, &nd->restore->shadow, &error)) {
        g_message("%s: the saved state is not restored: %s", nd->name,
                  error->message);
        return;
    }
    nd->restore_applied = true;
}

/**
 * announce_retry() - try the announce; again in a while if too early
 * @opaque:	the model
 *
 * Return: G_SOURCE_CONTINUE until it went through or the tries ran out.
 */
static gboolean announce_retry(gpointer opaque)
{
    NetDev *nd = opaque;
    g_autoptr(GError) error = NULL;

    if (net_dev_announce(nd, &error)) {
        g_debug("%s: asked the driver to announce itself", nd->name);
    } else if (--nd->announce_tries > 0) {
        return G_SOURCE_CONTINUE;
    } else {
        g_message("%s: announce after restore: %s", nd->name, error->message);
    }
    g_clear_pointer(&nd->announce_source, g_source_unref);
    return G_SOURCE_REMOVE;
}

/**
 * announce_later() - ask the driver to announce itself once it runs
 * @nd:		the model
 *
 * Called while DRIVER_OK is being answered: the kernel takes a config
 * interrupt only once it has our answer, so the interrupt is sent from a
 * timer, tried every 10 ms for up to a second.
 */
static void announce_later(NetDev *nd)
{
    if (nd->announce_source) {
        return;
    }
    nd->announce_tries = 100;
    nd->announce_source = g_timeout_source_new(10);
    g_source_set_callback(nd->announce_source, announce_retry, nd, NULL);
    g_source_attach(nd->announce_source, nd->ctx);
}

/* announce_cancel() - forget a pending announce (reset, close). */
static void announce_cancel(NetDev *nd)
{
    if (nd->announce_source) {
        g_source_destroy(nd->announce_source);
        g_clear_pointer(&nd->announce_source, g_source_unref);
    }
}

/**
 * restore_at_driver_ok() - the driver is up: the pending restore is done
 * @nd:		the model
 */
static void restore_at_driver_ok(NetDev *nd)
{
    if (!nd->restore) {
        return;
    }
    if (nd->restore_applied) {
        g_message("%s: state restored: MAC, filters, %u queue pair(s), "
                  "offloads",
                  nd->name, ctrlvq_shadow(nd->cvq)->queue_pairs);
        if (nd->restore_announce && (vduse_dev_features(nd->dev) &
                                     VDUSE_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE))) {
            announce_later(nd);
        }
    }
    g_clear_pointer(&nd->restore, g_free);
    nd->restore_applied = false;
}

/**
 * net_features_ok() - the driver chose its features: can we serve them?
 * @dev:	the device
 * @features:	the negotiated features
 * @opaque:	the model
 *
 * Return: true to accept.
 */
static bool net_features_ok(VduseDev *dev, uint64_t features, void *opaque)
{
    NetDev *nd = opaque;

    if (!(features & VDUSE_BIT(VDUSE_F_VERSION_1))) {
        g_message("%s: driver did not accept VIRTIO_F_VERSION_1", nd->name);
        return false;
    }
    if (features & ~nd->features) {
        g_message("%s: driver set features 0x%" G_GINT64_MODIFIER
                  "x we did not offer",
                  nd->name, features & ~nd->features);
        return false;
    }
    ctrlvq_reset(nd->cvq, features);
    restore_at_features_ok(nd, features);
    return true;
}

/* net_driver_ok() - DRIVER_OK: start serving the ready queues. */
static void net_driver_ok(VduseDev *dev, void *opaque)
{
    NetDev *nd = opaque;
    /* What the driver negotiated, or what a restored shadow says. */
    unsigned int offloads =
        net_tap_offloads(ctrlvq_shadow(nd->cvq)->guest_offloads);

    cvq_start(nd);
    for (unsigned int i = 0; i < nd->n_tap_fds; i++) {
        tap_job_push(nd, &(TapJob){.kind = TAP_JOB_OFFLOAD,
                                   .fd = nd->tap_fds[i],
                                   .offloads = offloads});
    }
    for (unsigned int i = 0; i < nd->opts.queue_pairs; i++) {
        if (nd->pairs[i] && !nd->adopting &&
            !net_pair_is_running(nd->pairs[i])) {
            unsigned int n = net_pair_drop_queued(nd->pairs[i]);

            if (n) {
                g_debug("%s: pair %u: %u frames from before DRIVER_OK dropped",
                        nd->name, i, n);
            }
        }
        pair_start(nd, i);
    }
    restore_at_driver_ok(nd);
    emit_int(nd, "STATUS_CHANGED", "status", vduse_dev_status(dev));
}

/**
 * pairs_in_scope() - apply @fn to every pair with a queue in @vqs
 * @nd:		the model
 * @vqs:	the queues a quiesce is about
 * @fn:		net_pair_pause or net_pair_resume
 *
 * The control queue needs nothing: it is served in the main thread, the
 * one that answers the message.
 */
static void pairs_in_scope(NetDev *nd, const VduseVqSet *vqs,
                           void (*fn)(NetPair *))
{
    for (unsigned int i = 0; i < nd->opts.queue_pairs; i++) {
        if (nd->pairs[i] && (vduse_vq_set_has(vqs, 2 * i) ||
                             vduse_vq_set_has(vqs, 2 * i + 1))) {
            fn(nd->pairs[i]);
        }
    }
}

/**
 * net_quiesce() - stop the pairs of @vqs touching guest memory
 * @dev:	the device
 * @vqs:	the queues that must stop
 * @opaque:	the model
 */
static void net_quiesce(VduseDev *dev, const VduseVqSet *vqs, void *opaque)
{
    pairs_in_scope(opaque, vqs, net_pair_pause);
}

/**
 * net_resume() - let the pairs of @vqs go on
 * @dev:	the device
 * @vqs:	the queues net_quiesce() stopped
 * @opaque:	the model
 */
static void net_resume(VduseDev *dev, const VduseVqSet *vqs, void *opaque)
{
    pairs_in_scope(opaque, vqs, net_pair_resume);
}

/* net_vq_ready() - a queue was enabled or disabled after DRIVER_OK. */
static void net_vq_ready(VduseDev *dev, uint32_t index, bool ready,
                         void *opaque)
{
    NetDev *nd = opaque;

    if (nd->opts.ctrl_vq && index == nd->ctrl_index) {
        if (ready) {
            cvq_start(nd);
        } else {
            cvq_stop(nd);
        }
    } else if (index < 2u * nd->opts.queue_pairs && nd->pairs[index / 2]) {
        if (ready) {
            pair_start(nd, index / 2);
        } else {
            net_pair_stop(nd->pairs[index / 2]);
        }
    }
}

/* net_reset() - the driver reset the device: stop every user. */
static void net_reset(VduseDev *dev, void *opaque)
{
    NetDev *nd = opaque;

    cvq_stop(nd);
    announce_cancel(nd);
    pairs_foreach(nd, net_pair_stop);
    for (unsigned int i = 1; i < nd->active_pairs && i < nd->n_tap_fds; i++) {
        tap_job_push(nd, &(TapJob){.kind = TAP_JOB_QUEUE,
                                   .fd = nd->tap_fds[i],
                                   .enable = false});
    }
    nd->active_pairs = 1;
    if (nd->steer) {
        steer_attach(nd, false);
    }
    ctrlvq_reset(nd->cvq, 0);
    /* A MAC_ADDR_SET lasts until the reset, as in QEMU: config space gets
     * the MAC the device was made with again, as the shadow does. */
    if (memcmp(nd->config.mac, nd->opts.mac, 6)) {
        cvq_set_mac(nd->opts.mac, nd);
    }
    emit_int(nd, "STATUS_CHANGED", "status", 0);
}

/* net_broken() - the kernel stopped talking to the device: say so. */
static void net_broken(VduseDev *dev, void *opaque)
{
    NetDev *nd = opaque;
    JsonObject *o = json_object_new();

    emit(nd, "DEVICE_BROKEN", json_node_init_object(json_node_alloc(), o));
    json_object_unref(o);
}

static const VduseDevOps net_dev_ops = {
    .features_ok = net_features_ok,
    .driver_ok = net_driver_ok,
    .quiesce = net_quiesce,
    .resume = net_resume,
    .vq_ready = net_vq_ready,
    .reset = net_reset,
    .broken = net_broken,
};

/**
 * struct SysOpen - how net_dev_open() opens the real device
 * @ctl:	the control device
 * @setup_vqs:	as for vduse_dev_open()
 */
typedef struct SysOpen {
    VduseControl *ctl;
    bool setup_vqs;
} SysOpen;

/* sys_open() - a NetDevOpener for /dev/vduse/NAME. */
static VduseDev *sys_open(const VduseDevConfig *cfg, const VduseDevOps *ops,
                          void *ops_opaque, GMainContext *ctx, void *data,
                          GError **error)
{
    SysOpen *o = data;

    return vduse_dev_open(cfg, o->setup_vqs, vduse_control_api_version(o->ctl),
                          vduse_control_features(o->ctl), ops, ops_opaque, ctx,
                          error);
}

bool net_dev_open(NetDev *nd, VduseControl *ctl, bool setup_vqs,
                  GMainContext *ctx, GError **error)
{
    SysOpen o = {.ctl = ctl, .setup_vqs = setup_vqs};

    return net_dev_open_with(nd, sys_open, &o, ctx, error);
}

bool net_dev_open_with(NetDev *nd, NetDevOpener open, void *data,
                       GMainContext *ctx, GError **error)
{
    VduseDevConfig cfg;

    g_return_val_if_fail(!nd->dev, false);
    net_dev_config(nd, &cfg);
    nd->ctx = ctx;
    nd->dev = open(&cfg, &net_dev_ops, nd, ctx, data, error);
    if (!nd->dev) {
        return false;
    }
    for (unsigned int i = 0; i < nd->opts.queue_pairs && i < nd->n_tap_fds;
         i++) {
        nd->pairs[i] = net_pair_new(nd->name, i, nd->tap_fds[i]);
        net_pair_set_capture(nd->pairs[i], nd->capture);
    }
    link_follow_tap(nd);
    speed_follow_tap(nd);
    return true;
}

VduseDev *net_dev_vduse(NetDev *nd)
{
    return nd->dev;
}

void net_dev_close(NetDev *nd)
{
    cvq_stop(nd);
    announce_cancel(nd);
    g_clear_pointer(&nd->link, net_link_watch_free);
    if (nd->speed_source) {
        g_source_destroy(nd->speed_source);
        g_clear_pointer(&nd->speed_source, g_source_unref);
    }
    for (unsigned int i = 0; i < NET_MAX_QUEUE_PAIRS; i++) {
        g_clear_pointer(&nd->pairs[i], net_pair_free);
    }
    g_clear_pointer(&nd->dev, vduse_dev_close);
}

bool net_dev_get_stats(NetDev *nd, unsigned int pair, NetPairStats *out)
{
    if (pair >= nd->opts.queue_pairs || !nd->pairs[pair]) {
        memset(out, 0, sizeof(*out));
        return pair < nd->opts.queue_pairs;
    }
    net_pair_get_stats(nd->pairs[pair], out);
    return true;
}

unsigned int net_dev_queue_pairs(const NetDev *nd)
{
    return nd->opts.queue_pairs;
}

uint64_t net_dev_ctrl_commands(const NetDev *nd)
{
    return ctrlvq_commands_seen(nd->cvq);
}

void net_dev_set_capture(NetDev *nd, NetCapture *cap)
{
    nd->capture = cap;
}

/**
 * link_show() - show the driver the link up or down
 * @nd:		the model
 * @up:		the new state
 *
 * Changes VIRTIO_NET_S_LINK_UP in config space and, if the driver
 * negotiated VIRTIO_NET_F_STATUS, sends a config interrupt.
 */
static void link_show(NetDev *nd, bool up)
{
    uint16_t status = le16toh(nd->config.status);
    bool notify;

    status =
        up ? (status | VIRTIO_NET_S_LINK_UP) : (status & ~VIRTIO_NET_S_LINK_UP);
    if (status == le16toh(nd->config.status)) {
        return;
    }
    nd->config.status = htole16(status);
    {
        JsonObject *o = json_object_new();

        json_object_set_boolean_member(o, "up", up);
        emit(nd, "LINK_CHANGED", json_node_init_object(json_node_alloc(), o));
        json_object_unref(o);
    }
    if (!nd->dev) {
        return;
    }
    notify = (vduse_dev_features(nd->dev) & VDUSE_BIT(VIRTIO_NET_F_STATUS)) &&
             (vduse_dev_status(nd->dev) & VDUSE_S_DRIVER_OK);
    if (vduse_dev_set_config(
            nd->dev, offsetof(struct virtio_net_config, status),
            &nd->config.status, sizeof(nd->config.status), notify) < 0) {
        g_message("%s: cannot update the link status in config space",
                  nd->name);
    }
}

void net_dev_set_link(NetDev *nd, bool up)
{
    nd->admin_up = up;
    link_show(nd, nd->admin_up && nd->tap_up);
}

/* link_changed() - the TAP's carrier changed: the driver follows. */
static void link_changed(bool up, bool gone, void *opaque)
{
    NetDev *nd = opaque;
    g_autofree char *ifname = NULL;

    if (nd->link_moved) {
        return;
    }
    /* Gone from this namespace, but our fd still has it: it moved to
     * another namespace, where it cannot be watched. Stop following. */
    if (gone && (ifname = tap_fd_ifname(nd->tap_fds[0]))) {
        g_message("%s: TAP %s moved to another network namespace: its link "
                  "is no longer followed",
                  nd->name, ifname);
        nd->link_moved = true;
        up = true;
    }
    g_debug("%s: TAP link %s", nd->name, up ? "up" : "down");
    nd->tap_up = up;
    /* The speed first: Linux's virtio-net reads it again only when it
     * sees the link come up. */
    speed_show(nd);
    link_show(nd, nd->admin_up && nd->tap_up);
}

/**
 * link_follow_tap() - make the device's link follow the TAP's carrier
 * @nd:		the model, being opened
 *
 * A TAP in another network namespace cannot be watched; the link then
 * stays as the administrative state says.
 */
static void link_follow_tap(NetDev *nd)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *ifname =
        nd->n_tap_fds ? tap_fd_ifname(nd->tap_fds[0]) : NULL;

    nd->link_moved = false;
    nd->link =
        ifname ? net_link_watch_new(ifname, link_changed, nd, nd->ctx, &error)
               : NULL;
    if (!nd->link) {
        g_debug("%s: link state not followed: %s", nd->name,
                error ? error->message : "TAP has no name");
        return;
    }
    nd->tap_up = net_link_watch_is_up(nd->link);
    link_show(nd, nd->admin_up && nd->tap_up);
}

JsonNode *net_dev_report(NetDev *nd)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, nd->name);
    json_builder_set_member_name(b, "status");
    json_builder_add_int_value(b, nd->dev ? vduse_dev_status(nd->dev) : 0);
    json_builder_set_member_name(b, "features");
    json_builder_add_int_value(b, nd->dev ? (gint64)vduse_dev_features(nd->dev)
                                          : 0);
    json_builder_set_member_name(b, "link-up");
    json_builder_add_boolean_value(b, le16toh(nd->config.status) &
                                          VIRTIO_NET_S_LINK_UP);
    json_builder_set_member_name(b, "active-pairs");
    json_builder_add_int_value(b, nd->active_pairs);
    json_builder_set_member_name(b, "pairs");
    json_builder_begin_array(b);
    for (unsigned int i = 0; i < nd->opts.queue_pairs; i++) {
        NetPairStats st;

        net_dev_get_stats(nd, i, &st);
        const struct {
            const char *name;
            uint64_t value;
        } counters[] = {
            {"tx-packets", st.tx_packets}, {"tx-bytes", st.tx_bytes},
            {"tx-dropped", st.tx_dropped}, {"tx-malformed", st.tx_malformed},
            {"rx-packets", st.rx_packets}, {"rx-bytes", st.rx_bytes},
            {"rx-dropped", st.rx_dropped}, {"rx-filtered", st.rx_filtered},
            {"tx-kicks", st.tx_kicks},     {"rx-kicks", st.rx_kicks},
            {"tx-interrupts", st.tx_irqs}, {"rx-interrupts", st.rx_irqs},
        };

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "running");
        json_builder_add_boolean_value(
            b, nd->pairs[i] && net_pair_is_running(nd->pairs[i]));
        for (size_t c = 0; c < G_N_ELEMENTS(counters); c++) {
            json_builder_set_member_name(b, counters[c].name);
            json_builder_add_int_value(b, (gint64)counters[c].value);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "shadow");
    json_builder_add_value(b, net_shadow_to_json(ctrlvq_shadow(nd->cvq)));
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

void net_dev_set_event_handler(NetDev *nd, NetEventFn fn, void *opaque)
{
    nd->event_fn = fn;
    nd->event_opaque = opaque;
}

bool net_dev_announce(NetDev *nd, GError **error)
{
    uint16_t status;

    if (!nd->dev || !(vduse_dev_status(nd->dev) & VDUSE_S_DRIVER_OK) ||
        !(vduse_dev_features(nd->dev) &
          VDUSE_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "the driver is not running or did not negotiate "
                    "VIRTIO_NET_F_GUEST_ANNOUNCE");
        return false;
    }
    status = le16toh(nd->config.status) | VIRTIO_NET_S_ANNOUNCE;
    nd->config.status = htole16(status);
    if (vduse_dev_set_config(nd->dev,
                             offsetof(struct virtio_net_config, status),
                             &nd->config.status, 2, true) < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "cannot update config space");
        return false;
    }
    return true;
}

void net_dev_get_state(NetDev *nd, NetState *st)
{
    bool pause = nd->dev && !vduse_dev_is_suspended(nd->dev);

    memset(st, 0, sizeof(*st));
    g_strlcpy(st->name, nd->name, sizeof(st->name));
    memcpy(st->mac, nd->opts.mac, 6);
    st->mtu = nd->opts.mtu;
    st->queue_pairs = nd->opts.queue_pairs;
    st->ctrl_vq = nd->opts.ctrl_vq;
    st->offered = nd->features;
    memcpy(st->config_mac, nd->config.mac, 6);
    st->config_status = le16toh(nd->config.status);
    st->link_up = st->config_status & VIRTIO_NET_S_LINK_UP;
    st->ngroups = 2;
    st->vq_num = nd->vq_num;
    st->shadow = *ctrlvq_shadow(nd->cvq);
    if (!nd->dev) {
        return;
    }
    st->negotiated = vduse_dev_features(nd->dev);
    st->status = vduse_dev_status(nd->dev);
    st->suspended = vduse_dev_is_suspended(nd->dev);
    st->ngroups = MIN(vduse_dev_ngroups(nd->dev), G_N_ELEMENTS(st->group_asid));
    for (uint32_t g = 0; g < st->ngroups; g++) {
        st->group_asid[g] = vduse_dev_group_asid(nd->dev, g);
    }
    /* The pairs pause between two bursts: nothing popped is unpushed. */
    if (pause) {
        pairs_foreach(nd, net_pair_pause);
    }
    for (uint32_t i = 0; i < nd->vq_num; i++) {
        VduseVqState vs;

        vduse_dev_get_vq_state(nd->dev, i, &vs);
        st->vqs[i] = (NetVqSaved){
            .ready = vs.ready,
            .size = vs.size,
            .avail_index = vs.avail_index,
            .used_index = vs.used_index,
        };
    }
    if (pause) {
        pairs_foreach(nd, net_pair_resume);
    }
}

bool net_dev_check_state(NetDev *nd, const NetState *st, GError **error)
{
    uint64_t missing = st->offered & ~nd->capable;

    if (st->queue_pairs != nd->opts.queue_pairs ||
        st->ctrl_vq != nd->opts.ctrl_vq || st->vq_num != nd->vq_num ||
        st->mtu != nd->opts.mtu) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "the saved device (%u queue pairs, %s control queue, MTU "
                    "%u, %u virtqueues) is not this one",
                    st->queue_pairs, st->ctrl_vq ? "with" : "without", st->mtu,
                    st->vq_num);
        return false;
    }
    if (missing) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "the saved device offered features 0x%" G_GINT64_MODIFIER
                    "x that this one cannot (is the TAP or the kernel "
                    "different?)",
                    (guint64)missing);
        return false;
    }
    if (st->negotiated & ~st->offered) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "the saved driver features 0x%" G_GINT64_MODIFIER
                    "x were never offered",
                    (guint64)(st->negotiated & ~st->offered));
        return false;
    }
    /* The driver must find the device it left (once it exists, the
     * kernel has the features it was created with). */
    if (!nd->dev) {
        nd->features = st->offered;
    }
    return true;
}

void net_dev_restore(NetDev *nd, const NetState *st)
{
    g_free(nd->restore);
    nd->restore = g_memdup2(st, sizeof(*st));
    nd->restore_announce = true;
}

void net_dev_set_used_log(NetDev *nd, VduseVqUsedLog *log)
{
    g_return_if_fail(nd->dev);
    vduse_dev_set_used_log(nd->dev, log);
}

bool net_dev_adopt(NetDev *nd, const NetState *st, GError **error)
{
    bool ok;

    g_return_val_if_fail(nd->dev, false);
    net_dev_restore(nd, st);
    nd->restore_announce = false; /* the guest did not move */
    nd->adopting = true;
    ok = vduse_dev_adopt(nd->dev, st->status, st->group_asid, st->ngroups,
                         error);
    nd->adopting = false;
    if (!ok) {
        g_clear_pointer(&nd->restore, g_free);
        return false;
    }
    /* Not up yet: the restore waits for the driver's DRIVER_OK. */
    return true;
}

bool net_dev_suspend(NetDev *nd, GError **error)
{
    if (!nd->dev || !(vduse_dev_status(nd->dev) & VDUSE_S_DRIVER_OK)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                    "the driver has not started the device");
        return false;
    }
    vduse_dev_suspend(nd->dev);
    emit_int(nd, "STATUS_CHANGED", "status", vduse_dev_status(nd->dev));
    return true;
}
