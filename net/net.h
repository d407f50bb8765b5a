/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net.h - libnet: the virtio-net device model and its TAP backend
 *
 * The one public header of net/. It turns the user's options into a VDUSE
 * device description (features, config space, queues and their groups)
 * and serves that device once it is open: the control queue in the main
 * context, one dataplane thread per queue pair between its virtqueues and
 * its TAP queue, the link following the TAP. It also opens TAP devices,
 * writes pcap captures, and reads and writes the migration state (the
 * document, its file, and the saver that keeps the file current).
 */
#ifndef VDUSE_NET_NET_H
#define VDUSE_NET_NET_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-glib/json-glib.h>

#include "ctrlvq.h"
#include "util.h"
#include "vduse.h"

/* The most queue pairs a device may have. */
#define NET_MAX_QUEUE_PAIRS 16
/* MTU limits: the Ethernet minimum, and what a TAP accepts. */
#define NET_MIN_MTU 68
#define NET_MAX_MTU 65520
/* Size of every virtqueue the device offers. */
#define NET_VQ_SIZE 256

/**
 * struct NetOptions - what the device looks like
 * @name:	device name (VDUSE, vDPA)
 * @mac:	MAC address in config space
 * @mtu:	MTU in config space
 * @queue_pairs: number of queue pairs offered
 * @ctrl_vq:	offer the control virtqueue (and what needs it)
 * @features_off: feature bits not to offer although the device could
 *		(--features, and for a VMM those it cannot migrate)
 * @speed_set:	@speed is fixed (--speed); otherwise config space follows
 *		the speed of the TAP's ethtool settings
 * @speed:	the speed in config space, Mb/s, with @speed_set
 * @duplex_set:	@duplex is fixed (--duplex); otherwise it follows the TAP
 * @duplex:	the duplex in config space (0 half, 1 full), with @duplex_set
 */
typedef struct NetOptions {
    const char *name;
    uint8_t mac[6];
    uint16_t mtu;
    uint16_t queue_pairs;
    bool ctrl_vq;
    uint64_t features_off;
    bool speed_set;
    uint32_t speed;
    bool duplex_set;
    uint8_t duplex;
} NetOptions;

/* The speed and duplex config space calls unknown (virtio 1.3 5.1.4). */
#define NET_SPEED_UNKNOWN 0xffffffffu
#define NET_DUPLEX_UNKNOWN 0xff

/*
 * Features QEMU's vhost-vdpa cannot shadow, and so will neither migrate
 * nor move the control queue to an address space of its own with:
 * GUEST_ANNOUNCE and USO (QEMU 7.2 to 11.1: "vdpa svq does not work with
 * features 0x..."), DEVICE_STATS, NOTF_COAL and VQ_NOTF_COAL (never in
 * QEMU's list; nor does its control-queue shadow keep or replay the
 * coalescing commands), and RING_PACKED
 * (QEMU's shadow virtqueue is split only through 10.x; not checked with
 * 11.1 here). SPEED_DUPLEX, RSS and HASH_REPORT are left out too until a
 * VMM test shows the QEMU versions we test take them (older ones do not
 * list them). Not offered by default with --bus vhost.
 */
#define NET_VMM_UNSHADOWED_FEATURES                                            \
    (VDUSE_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |                                  \
     VDUSE_BIT(VIRTIO_NET_F_DEVICE_STATS) |                                    \
     VDUSE_BIT(VIRTIO_NET_F_NOTF_COAL) |                                       \
     VDUSE_BIT(VIRTIO_NET_F_VQ_NOTF_COAL) |                                    \
     VDUSE_BIT(VIRTIO_NET_F_SPEED_DUPLEX) | VDUSE_BIT(VIRTIO_NET_F_RSS) |      \
     VDUSE_BIT(VIRTIO_NET_F_HASH_REPORT) |                                     \
     VDUSE_BIT(VIRTIO_NET_F_GUEST_USO4) | VDUSE_BIT(VIRTIO_NET_F_GUEST_USO6) | \
     VDUSE_BIT(VIRTIO_NET_F_HOST_USO) | VDUSE_BIT(VDUSE_F_RING_PACKED))

/**
 * net_parse_features() - read --features: NAME[,NAME...]
 * @text:	comma-separated feature names (net_feature_names()), each
 *		"-NAME" to stop offering it or "NAME" / "+NAME" to offer it
 * @on:		receives the bits named to offer
 * @off:	receives the bits named not to offer
 * @error:	set for an unknown name or a name given both ways
 *
 * Return: true on success.
 */
bool net_parse_features(const char *text, uint64_t *on, uint64_t *off,
                        GError **error);

/* net_feature_names() - the names --features takes, space-separated. */
const char *net_feature_names(void);

/**
 * net_features_check() - whether @features keep the spec's dependencies
 * @features:	what the device would offer
 * @error:	set naming a feature and the one it needs (virtio 1.2
 *		5.1.3.1: host-tso4 needs csum, ...)
 *
 * Return: true if every offered feature has what it needs.
 */
bool net_features_check(uint64_t features, GError **error);

/**
 * net_parse_mac() - parse "xx:xx:xx:xx:xx:xx" into @mac
 * @text:	the address
 * @mac:	the result
 * @error:	set on failure: not six hex pairs, multicast, or all zero
 *
 * Return: true on success.
 */
bool net_parse_mac(const char *text, uint8_t mac[6], GError **error);

/**
 * net_name_is_valid() - whether @name can name a VDUSE and vDPA device
 * @name:	the name
 *
 * Return: true for 1 to 63 characters of [A-Za-z0-9._-], not starting '.'.
 */
bool net_name_is_valid(const char *name);

/**
 * net_default_mac() - a stable, locally administered MAC derived from @name
 * @name:	device name
 * @mac:	the result
 */
void net_default_mac(const char *name, uint8_t mac[6]);

/**
 * net_offered_features() - the virtio feature bits the device offers
 * @opts:	the device
 *
 * Return: the features, transport bits included.
 */
uint64_t net_offered_features(const NetOptions *opts);

/*
 * net_ctrl_vq_features() - the bits offered with the control queue (MQ
 * comes on top with more than one queue pair).
 */
uint64_t net_ctrl_vq_features(void);

/**
 * struct NetPairStats - counters of one queue pair
 * @tx_packets:	frames the driver sent and the TAP took
 * @tx_bytes:	their bytes, without the virtio-net header
 * @tx_dropped:	frames the driver sent that were lost (malformed, TAP error)
 * @tx_malformed: of @tx_dropped, chains that were not a header and a frame
 * @rx_packets:	frames from the TAP given to the driver
 * @rx_bytes:	their bytes, without the virtio-net header
 * @rx_dropped:	frames from the TAP that were lost (too large, bad buffers)
 * @rx_filtered: frames from the TAP the driver's receive filter refused
 * @tx_kicks:	kicks of the TX vq that woke the thread
 * @rx_kicks:	kicks of the RX vq that woke the thread
 * @tx_irqs:	interrupts sent for the TX vq
 * @rx_irqs:	interrupts sent for the RX vq
 */
typedef struct NetPairStats {
    uint64_t tx_packets;
    uint64_t tx_bytes;
    uint64_t tx_dropped;
    uint64_t tx_malformed;
    uint64_t rx_packets;
    uint64_t rx_bytes;
    uint64_t rx_dropped;
    uint64_t rx_filtered;
    uint64_t tx_kicks;
    uint64_t rx_kicks;
    uint64_t tx_irqs;
    uint64_t rx_irqs;
} NetPairStats;

typedef struct NetDev NetDev;

typedef struct NetCapture NetCapture;

/**
 * net_capture_open() - start a pcap file of every frame in both directions
 * @path:	the file, created or truncated
 * @filter:	a pcap filter expression, or NULL for every frame
 * @error:	set on failure (bad filter, file not writable)
 *
 * Return: the capture, owned by the caller (net_capture_close()).
 */
NetCapture *net_capture_open(const char *path, const char *filter,
                             GError **error);

/* net_capture_close() - flush and close @cap (NULL is fine). */
void net_capture_close(NetCapture *cap);

/**
 * net_dev_new() - the device model for @opts
 * @opts:	the device; copied
 * @tap_fds:	one TAP queue fd per queue pair; owned by the model from now
 * @n_tap_fds:	number of fds
 *
 * Return: the model, owned by the caller (net_dev_free()).
 */
NetDev *net_dev_new(const NetOptions *opts, const int *tap_fds,
                    unsigned int n_tap_fds);

/* net_dev_free() - stop serving, close the TAP fds, free (NULL is fine). */
void net_dev_free(NetDev *nd);

/**
 * net_dev_create() - VDUSE_CREATE_DEV for the model's device
 * @nd:		the model
 * @ctl:	the control device
 * @fallback:	if the kernel refuses VIRTIO_NET_F_CTRL_VQ (as upstream
 *		kernels do for VDUSE net devices), create the device without
 *		it, the features that need it and every queue pair but the
 *		first (net_dev_has_ctrl_vq() then says false)
 * @error:	set on failure: G_IO_ERROR_EXISTS for a name in use,
 *		G_IO_ERROR_NOT_SUPPORTED when the control queue is refused
 *		and @fallback is false, what the kernel said otherwise
 *
 * Return: true once /dev/vduse/NAME exists.
 */
bool net_dev_create(NetDev *nd, VduseControl *ctl, bool fallback,
                    GError **error);

/* net_dev_offered_features() - the feature bits the device offers. */
uint64_t net_dev_offered_features(const NetDev *nd);

/* net_dev_has_ctrl_vq() - whether the device offers the control queue. */
bool net_dev_has_ctrl_vq(const NetDev *nd);

/**
 * net_dev_open() - open /dev/vduse/NAME and serve it in @ctx
 * @nd:		the model
 * @ctl:	the control device (API version, VDUSE features)
 * @setup_vqs:	false to adopt a device created earlier
 * @ctx:	main context of the message loop and the control queue
 * @error:	set on failure
 *
 * Return: true on success.
 */
bool net_dev_open(NetDev *nd, VduseControl *ctl, bool setup_vqs,
                  GMainContext *ctx, GError **error);

/* net_dev_vduse() - the open VDUSE device, or NULL; owned by @nd. */
VduseDev *net_dev_vduse(NetDev *nd);

/* net_dev_close() - stop serving /dev/vduse/NAME and close it. */
void net_dev_close(NetDev *nd);

/**
 * net_dev_get_stats() - the counters of queue pair @pair
 * @nd:		the model
 * @pair:	pair index
 * @out:	filled in
 *
 * Return: false if @pair is out of range.
 */
bool net_dev_get_stats(NetDev *nd, unsigned int pair, NetPairStats *out);

/**
 * net_dev_set_capture() - record the device's frames to @cap
 * @nd:		the model, before net_dev_open()
 * @cap:	the capture, not owned; NULL to stop
 */
void net_dev_set_capture(NetDev *nd, NetCapture *cap);

/**
 * net_dev_set_link() - the administrative link state (default up)
 * @nd:		the model
 * @up:		the new state
 *
 * The driver sees the link up while it is up here and the TAP has carrier
 * (followed from net_dev_open() on, when the TAP can be watched): a
 * change of VIRTIO_NET_S_LINK_UP in config space, with a config interrupt
 * if the driver negotiated VIRTIO_NET_F_STATUS.
 */
void net_dev_set_link(NetDev *nd, bool up);

/* net_dev_queue_pairs() - the number of queue pairs offered. */
unsigned int net_dev_queue_pairs(const NetDev *nd);

/**
 * NetEventFn - something happened to the device (main context)
 * @event:	"SHADOW_CHANGED" {command, shadow}, "STATUS_CHANGED" {status},
 *		"LINK_CHANGED" {up}, "QUEUE_FAILED" {queue}, "DEVICE_BROKEN" {}
 *		(the kernel gave up on the device: only a new one serves the
 *		driver again; the owner should remove it)
 * @data:	event data; consumed
 * @opaque:	what was given to net_dev_set_event_handler()
 */
typedef void (*NetEventFn)(const char *event, JsonNode *data, void *opaque);

/* net_dev_set_event_handler() - where the device's events go. */
void net_dev_set_event_handler(NetDev *nd, NetEventFn fn, void *opaque);

/**
 * net_dev_announce() - ask the driver to announce itself
 * @nd:		the model
 * @error:	set if the driver did not negotiate VIRTIO_NET_F_GUEST_ANNOUNCE
 *		or is not running
 *
 * Sets VIRTIO_NET_S_ANNOUNCE with a config interrupt; the driver's
 * ANNOUNCE_ACK clears it. Return: true on success.
 */
bool net_dev_announce(NetDev *nd, GError **error);

/**
 * net_dev_report() - the device as JSON: name, driver status, negotiated
 * features, link, queue pairs with their counters, and the control-queue
 * shadow
 *
 * Return: a new JsonNode, owned by the caller.
 */
JsonNode *net_dev_report(NetDev *nd);

/* net_dev_ctrl_commands() - control commands served so far. */
uint64_t net_dev_ctrl_commands(const NetDev *nd);

/* The version of the migration state document (docs/migration.md). */
#define NET_STATE_VERSION 1

/**
 * struct NetVqSaved - one virtqueue in the migration state
 * @ready:	the driver enabled it
 * @size:	its size (0: not running)
 * @avail_index: the next available index the device consumes
 * @used_index:	the used index the device published
 */
typedef struct NetVqSaved {
    bool ready;
    uint32_t size;
    uint16_t avail_index;
    uint16_t used_index;
} NetVqSaved;

/**
 * struct NetState - the migration state of a device
 * @name:	device name
 * @mac:	MAC the device was created with
 * @mtu:	MTU in config space
 * @queue_pairs: queue pairs offered
 * @ctrl_vq:	the control queue is offered
 * @offered:	features offered
 * @negotiated:	features the driver negotiated (0 before FEATURES_OK)
 * @status:	the driver's status bits
 * @suspended:	the device was suspended (the indices are final)
 * @config_mac:	MAC in config space now (MAC_ADDR_SET moves it)
 * @config_status: status word of config space (LINK_UP, ANNOUNCE)
 * @ngroups:	number of virtqueue groups
 * @group_asid:	address space of each group
 * @vq_num:	number of virtqueues
 * @vqs:	each virtqueue
 * @link_up:	the link the driver was shown
 * @shadow:	what the driver set through the control queue
 */
typedef struct NetState {
    char name[64];
    uint8_t mac[6];
    uint16_t mtu;
    uint16_t queue_pairs;
    bool ctrl_vq;
    uint64_t offered;
    uint64_t negotiated;
    uint8_t status;
    bool suspended;
    uint8_t config_mac[6];
    uint16_t config_status;
    uint32_t ngroups;
    uint32_t group_asid[2];
    uint32_t vq_num;
    NetVqSaved vqs[2 * NET_MAX_QUEUE_PAIRS + 1];
    bool link_up;
    CtrlvqShadow shadow;
} NetState;

/**
 * net_state_to_json() - @st as the versioned JSON document
 * Return: a new JsonNode, owned by the caller.
 */
JsonNode *net_state_to_json(const NetState *st);

/**
 * net_state_from_json() - read a document net_state_to_json() wrote
 * @node:	the document
 * @st:		filled in
 * @error:	set if the version is not NET_STATE_VERSION
 *		(G_IO_ERROR_NOT_SUPPORTED) or a member is missing, of the wrong
 *		type or out of range (G_IO_ERROR_INVALID_DATA, naming it)
 * Return: true on success.
 */
bool net_state_from_json(JsonNode *node, NetState *st, GError **error);

/**
 * net_state_load() - net_state_from_json() of the file @path
 * @path:	the file (at most 1 MiB, JSON nested at most JSON_MAX_DEPTH
 *		deep)
 * @st:		filled in
 * @error:	set on failure, naming the file
 * Return: true on success.
 */
bool net_state_load(const char *path, NetState *st, GError **error);

/**
 * net_state_load_at() - net_state_load() of @name in directory @dirfd
 *
 * For names that come from a client: a symbolic link is refused (ELOOP).
 * Return: true on success.
 */
bool net_state_load_at(int dirfd, const char *name, NetState *st,
                       GError **error);

/**
 * net_state_save() - replace the file @path with @state, atomically
 * @state:	the document
 * @path:	the file; a temporary file is made beside it
 * @error:	set on failure (the old file, if any, is untouched)
 * Return: true on success.
 */
bool net_state_save(JsonNode *state, const char *path, GError **error);

/**
 * net_state_write_at() - replace @name in directory @dirfd with @text,
 * atomically
 * @dirfd:	the directory
 * @name:	a file name in it; a symbolic link there is replaced, never
 *		followed
 * @text:	the document
 * @error:	set on failure, naming @name (the old file stays whole)
 *
 * Safe from any thread. Return: true on success.
 */
bool net_state_write_at(int dirfd, const char *name, const char *text,
                        GError **error);

typedef struct NetStateSaver NetStateSaver;

/**
 * net_state_saver_new() - keep the file @path up to date with @nd's state
 * @nd:		the device model; must outlive the saver
 * @path:	the state file
 * @ctx:	the model's main context (NULL: the default)
 *
 * Saves happen off the message path (see state-saver.c): after the
 * answer to whatever asked for them, coalesced, written by a thread.
 * Return: the saver, owned by the caller (net_state_saver_free()).
 */
NetStateSaver *net_state_saver_new(NetDev *nd, const char *path,
                                   GMainContext *ctx);

/**
 * net_state_saver_request() - the state changed: save it soon
 * @s:		the saver (NULL: nothing happens)
 *
 * Returns at once; call it from the model's main context.
 */
void net_state_saver_request(NetStateSaver *s);

/**
 * net_state_saver_flush() - save what was requested and wait until it is on
 * disk (or failed)
 * @s:		the saver (NULL: nothing happens)
 */
void net_state_saver_flush(NetStateSaver *s);

/* net_state_saver_free() - flush, stop the writer, free (NULL is fine). */
void net_state_saver_free(NetStateSaver *s);

/**
 * net_dev_get_state() - the device's migration state now
 * @nd:		the model
 * @st:		filled in
 * Unless the device is suspended, the queue pairs pause while their
 * indices are read, so the indices of each queue agree with each other.
 */
void net_dev_get_state(NetDev *nd, NetState *st);

/**
 * net_dev_check_state() - whether this device can take over @st
 * @nd:		the model
 * @st:		the state
 * @error:	set if the identity differs (queue pairs, control queue, MTU)
 *		or @st needs features this device cannot offer
 * Return: true if it can; a device not yet created then offers exactly
 * @st->offered.
 */
bool net_dev_check_state(NetDev *nd, const NetState *st, GError **error);

/**
 * net_dev_restore() - restore @st when the driver comes (migration)
 * @nd:		the model, checked by net_dev_check_state()
 * @st:		the state; copied
 * When the driver negotiates @st->negotiated again (as a VMM restoring a
 * guest does), the shadow is applied before DRIVER_OK (queue pairs,
 * offloads, filters, MAC), and after DRIVER_OK the driver is asked to
 * announce itself (VIRTIO_NET_S_ANNOUNCE with a config interrupt) if it
 * negotiated VIRTIO_NET_F_GUEST_ANNOUNCE. Other features: logged, and the
 * device starts from its defaults.
 */
void net_dev_restore(NetDev *nd, const NetState *st);

/**
 * net_dev_set_used_log() - where the opened device's packed queues keep
 * their used positions (vduse_dev_set_used_log(): one entry per queue, in
 * a shared file that outlives the process); before net_dev_adopt() to
 * take packed queues over
 */
void net_dev_set_used_log(NetDev *nd, VduseVqUsedLog *log);

/**
 * net_dev_adopt() - serve a running device a dead process served
 * @nd:		the model, opened with setup_vqs false
 * @st:		that process's last saved state
 * @error:	set on failure
 * The driver keeps running: its status, the groups' address spaces and the
 * shadow come from @st, features and rings from the kernel
 * (vduse_dev_adopt()). Return: true on success.
 */
bool net_dev_adopt(NetDev *nd, const NetState *st, GError **error);

/**
 * net_dev_suspend() - quiesce the device for good (until a reset)
 * @nd:		the model
 * @error:	set if the device is not open
 * For kernels without VDUSE_F_SUSPEND; afterwards the state is final.
 * Return: true on success.
 */
bool net_dev_suspend(NetDev *nd, GError **error);

/**
 * tap_open() - create or attach TAP @ifname with @queues queues
 * @ifname:	interface name (may be a new one)
 * @queues:	number of queue fds to open (IFF_MULTI_QUEUE when > 1)
 * @fds:	receives @queues fds, owned by the caller
 * @error:	set on failure
 *
 * The fds carry a virtio-net v1 header (IFF_VNET_HDR, 12 bytes). A TAP
 * that did not exist disappears when its last fd is closed.
 * Return: true on success.
 */
bool tap_open(const char *ifname, unsigned int queues, int *fds,
              GError **error);

/**
 * tap_check_fd() - check that @fd, handed over by a VMM, is a TAP queue
 * @fd:		the fd
 * @error:	set if it is not a TAP with IFF_VNET_HDR
 *
 * Also sets the vnet header size to 12 bytes.
 * Return: true on success.
 */
bool tap_check_fd(int fd, GError **error);

/**
 * tap_setup_link() - set a TAP's MTU and, optionally, put it on a bridge
 * @ifname:	the TAP
 * @mtu:	its MTU
 * @bridge:	bridge to enslave it to (the TAP and bridge are set up), or
 *		NULL
 * @error:	set on failure
 *
 * Return: true on success.
 */
bool tap_setup_link(const char *ifname, uint16_t mtu, const char *bridge,
                    GError **error);

/**
 * tap_fd_ifname() - the interface name of TAP fd @fd
 *
 * Return: a newly allocated name, or NULL.
 */
char *tap_fd_ifname(int fd);

/**
 * tap_set_queue_enabled() - attach or detach a queue of a multiqueue TAP
 * @fd:		the queue's fd
 * @enabled:	true to attach (TUNSETQUEUE IFF_ATTACH_QUEUE)
 *
 * Takes the RTNL lock: never call it where the virtio-net driver may hold
 * it and wait for us. Return: 0 or negative errno.
 */
int tap_set_queue_enabled(int fd, bool enabled);

/**
 * tap_get_speed() - the speed and duplex the TAP's ethtool settings say
 * @fd:		a TAP queue fd (its interface must be in our network
 *		namespace)
 * @speed:	receives Mb/s (SPEED_UNKNOWN, ~0, when unknown)
 * @duplex:	receives DUPLEX_HALF (0), DUPLEX_FULL (1) or DUPLEX_UNKNOWN
 *
 * Takes the RTNL lock (SIOCETHTOOL): never call it where the virtio-net
 * driver may hold it and wait for us. Return: false if it cannot be read.
 */
bool tap_get_speed(int fd, uint32_t *speed, uint8_t *duplex);

/**
 * tap_supports_uso() - whether the TAP takes UDP segmentation offload
 * @fd:		a TAP queue fd
 *
 * Leaves the fd's offloads cleared. Return: true if TUN_F_USO4/6 work.
 */
bool tap_supports_uso(int fd);

#endif /* VDUSE_NET_NET_H */
