/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctrlvq.h - libctrlvq: virtio-net control commands and their shadow state
 *
 * The one public header of ctrlvq/. Pure logic on GLib: no fds, no threads.
 * The caller (net/) pops a command from the control virtqueue, copies it
 * into its own buffer, and hands the copy here; the answer is the status
 * byte to write back.
 *
 * Each command is validated to the letter of virtio 1.2 §5.1.6.5 (class
 * allowed by a negotiated feature, exact payload length, ranges, reserved
 * values); then its effect on the device is applied through CtrlvqOps;
 * only if that succeeded is it recorded in the shadow and acknowledged
 * VIRTIO_NET_OK. Anything else is VIRTIO_NET_ERR with one log line, and
 * changes nothing.
 */
#ifndef VDUSE_NET_CTRLVQ_H
#define VDUSE_NET_CTRLVQ_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest command we copy in (header + payload), in bytes. */
#define CTRLVQ_MAX_COMMAND (64 * 1024)

/*
 * Entries kept per MAC table (unicast, multicast). A table set with more
 * entries "overflows": the shadow keeps none of them and the receive filter
 * accepts every address of that kind, as QEMU does; the driver loses no
 * traffic it asked for.
 */
#define CTRLVQ_MAC_TABLE_MAX 64

/*
 * The largest result a command may write after its status byte (STATS_GET
 * of every queue of NET_MAX_QUEUE_PAIRS pairs takes about 2 KiB).
 */
#define CTRLVQ_MAX_RESULT (16 * 1024)

/*
 * RSS limits the device announces in config space: the spec's minimums
 * (virtio 1.3 5.1.4.1), which are what Linux uses.
 */
#define CTRLVQ_RSS_MAX_KEY 40
#define CTRLVQ_RSS_MAX_TABLE 128
/*
 * The hash types computed (VIRTIO_NET_RSS_HASH_TYPE_*): IPv4, TCPv4,
 * UDPv4, IPv6, TCPv6, UDPv6; not the _EX ones (IPv6 extension headers).
 */
#define CTRLVQ_RSS_HASH_TYPES 0x3fu

/**
 * struct CtrlvqRss - receive-side scaling or hash reporting as the driver
 * configured it (RSS_CONFIG or HASH_CONFIG)
 * @enabled:	a command set it (RSS: steering by the table; hash: reports)
 * @hash_types:	VIRTIO_NET_RSS_HASH_TYPE_* to hash on
 * @table_len:	entries in @table, a power of two (RSS only)
 * @table:	receive queue (0: receiveq1) per entry (RSS only)
 * @unclassified: receive queue for frames of no hash type (RSS only)
 * @max_tx_vq:	transmit queues the driver uses (RSS only)
 * @key_len:	bytes of @key
 * @key:	the Toeplitz key; bytes past @key_len are zero
 */
typedef struct CtrlvqRss {
    bool enabled;
    uint32_t hash_types;
    uint16_t table_len;
    uint16_t table[CTRLVQ_RSS_MAX_TABLE];
    uint16_t unclassified;
    uint16_t max_tx_vq;
    uint8_t key_len;
    uint8_t key[CTRLVQ_RSS_MAX_KEY];
} CtrlvqRss;

/* The number of VLAN ids (0..4095). */
#define CTRLVQ_VLAN_IDS 4096

/* The most queue pairs a device may have (ctrlvq_new()). */
#define CTRLVQ_MAX_QUEUE_PAIRS 16

/**
 * struct CtrlvqCoal - notification coalescing of a virtqueue, as the
 * NOTF_COAL commands set it (virtio 1.3, "Notifications Coalescing")
 * @max_packets: interrupt once this many packets were used since the last
 *		one
 * @max_usecs:	or this many microseconds after the first of them
 *
 * Either 0: an interrupt for every packet, as without coalescing (the
 * spec: "when the device has max_usecs = 0 or max_packets = 0, the
 * notification conditions are met after every packet").
 */
typedef struct CtrlvqCoal {
    uint32_t max_packets;
    uint32_t max_usecs;
} CtrlvqCoal;

/**
 * struct CtrlvqShadow - everything the driver set through the control queue
 * @mac:		MAC address (from config space, then MAC_ADDR_SET)
 * @promisc:		RX mode PROMISC
 * @allmulti:		RX mode ALLMULTI
 * @alluni:		RX mode ALLUNI
 * @nomulti:		RX mode NOMULTI
 * @nouni:		RX mode NOUNI
 * @nobcast:		RX mode NOBCAST
 * @uni_count:		entries in @uni
 * @uni_overflow:	the last unicast table was larger than we keep
 * @uni:		unicast MAC table
 * @multi_count:	entries in @multi
 * @multi_overflow:	the last multicast table was larger than we keep
 * @multi:		multicast MAC table
 * @vlans:		VLAN filter bitmap, bit n for VLAN id n
 * @queue_pairs:	queue pairs in use (VQ_PAIRS_SET; 1 at reset)
 * @guest_offloads:	guest offloads in force (VIRTIO_NET_F_GUEST_* bits)
 * @announce_acks:	GUEST_ANNOUNCE ACKs received
 * @rss:		RSS_CONFIG in force (VQ_PAIRS_SET and reset turn it off)
 * @hash:		HASH_CONFIG in force (reset turns it off)
 * @coal_tx:		what NOTF_COAL_TX_SET set last: every TX queue's, and
 *			the one a TX queue gets when its pair is enabled again
 * @coal_rx:		the same for NOTF_COAL_RX_SET and the RX queues
 * @coal_vq:		coalescing in force per data vq (2n: RX of pair n,
 *			2n+1: its TX), set by TX_SET, RX_SET and VQ_SET; those
 *			of pairs not in use always equal @coal_rx and @coal_tx
 */
typedef struct CtrlvqShadow {
    uint8_t mac[6];
    bool promisc;
    bool allmulti;
    bool alluni;
    bool nomulti;
    bool nouni;
    bool nobcast;
    uint32_t uni_count;
    bool uni_overflow;
    uint8_t uni[CTRLVQ_MAC_TABLE_MAX][6];
    uint32_t multi_count;
    bool multi_overflow;
    uint8_t multi[CTRLVQ_MAC_TABLE_MAX][6];
    uint32_t vlans[CTRLVQ_VLAN_IDS / 32];
    uint16_t queue_pairs;
    uint64_t guest_offloads;
    uint64_t announce_acks;
    CtrlvqRss rss;
    CtrlvqRss hash;
    CtrlvqCoal coal_tx;
    CtrlvqCoal coal_rx;
    CtrlvqCoal coal_vq[2 * CTRLVQ_MAX_QUEUE_PAIRS];
} CtrlvqShadow;

/**
 * struct CtrlvqQueueStats - the counters of one data virtqueue, as
 * VIRTIO_NET_CTRL_STATS_GET reports them (RX_BASIC or TX_BASIC, virtio 1.3
 * 5.1.6.5.11)
 * @notifications: driver notifications (kicks) the device took
 * @packets:	frames delivered (RX) or sent (TX)
 * @bytes:	their bytes, without the virtio-net header
 * @interrupts:	interrupts sent for the queue
 * @drops:	frames lost, of every kind
 * @drops_kind:	of @drops, those lost for want of RX buffers (RX:
 *		drop_overruns) or because the chain was malformed (TX:
 *		drop_malformed)
 */
typedef struct CtrlvqQueueStats {
    uint64_t notifications;
    uint64_t packets;
    uint64_t bytes;
    uint64_t interrupts;
    uint64_t drops;
    uint64_t drops_kind;
} CtrlvqQueueStats;

/**
 * struct CtrlvqOps - how an accepted command takes effect on the device;
 * every member may be NULL (no effect beyond the shadow)
 * @set_queue_pairs:	use @pairs queue pairs; return false to refuse
 * @set_guest_offloads:	apply @offloads (VIRTIO_NET_F_GUEST_* bits) to the
 *			backend; return false to refuse
 * @set_mac:		the MAC changed: update config space
 * @announce_ack:	the driver announced itself: clear
 *			VIRTIO_NET_S_ANNOUNCE
 * @changed:		the shadow changed (receive filter, coalescing, events);
 *			@what
 *			names the command ("mac-table-set", ...); not called
 *			for queries (STATS_QUERY, STATS_GET)
 * @set_rss:		steer by @rss (@rss->enabled false: stop steering, as
 *			after VQ_PAIRS_SET); return false to refuse
 * @get_queue_stats:	the counters of data vq @vq (2n: RX of pair n, 2n+1:
 *			its TX); without it STATS_QUERY offers the control
 *			queue's own counters only
 */
typedef struct CtrlvqOps {
    bool (*set_queue_pairs)(uint16_t pairs, void *opaque);
    bool (*set_guest_offloads)(uint64_t offloads, void *opaque);
    void (*set_mac)(const uint8_t mac[6], void *opaque);
    void (*announce_ack)(void *opaque);
    void (*changed)(const CtrlvqShadow *shadow, const char *what, void *opaque);
    void (*get_queue_stats)(uint16_t vq, CtrlvqQueueStats *out, void *opaque);
    bool (*set_rss)(const CtrlvqRss *rss, void *opaque);
} CtrlvqOps;

typedef struct Ctrlvq Ctrlvq;

/**
 * ctrlvq_new() - the control-queue state of one device
 * @name:	device name, for log lines; copied
 * @mac:	the MAC in config space
 * @max_queue_pairs: the most queue pairs VQ_PAIRS_SET may ask for, 1 to
 *		CTRLVQ_MAX_QUEUE_PAIRS
 * @ops:	effects on the device; copied (NULL: none)
 * @opaque:	passed to @ops
 *
 * Return: the state, owned by the caller (ctrlvq_free()).
 */
Ctrlvq *ctrlvq_new(const char *name, const uint8_t mac[6],
                   uint16_t max_queue_pairs, const CtrlvqOps *ops,
                   void *opaque);

/* ctrlvq_free() - free @cvq (NULL is fine). */
void ctrlvq_free(Ctrlvq *cvq);

/**
 * ctrlvq_reset() - the device was reset: back to the defaults
 * @cvq:	the state
 * @features:	the features the driver negotiated now (0 at reset), which
 *		decide the classes accepted
 *
 * Defaults: PROMISC on (as QEMU, so a driver without VIRTIO_NET_F_CTRL_RX
 * receives everything; Linux turns it off when the interface comes up),
 * other RX modes off, empty tables, no VLANs, one queue pair, every
 * negotiated guest offload on (§5.1.6.5.6.1), no notification coalescing.
 */
void ctrlvq_reset(Ctrlvq *cvq, uint64_t features);

/**
 * ctrlvq_execute() - run one control command
 * @cvq:	the state
 * @cmd:	the command as the driver wrote it (class, command, payload),
 *		already copied out of guest memory
 * @len:	its length in bytes
 *
 * Return: VIRTIO_NET_OK or VIRTIO_NET_ERR, the status byte to write back.
 */
uint8_t ctrlvq_execute(Ctrlvq *cvq, const uint8_t *cmd, size_t len);

/**
 * ctrlvq_execute_reply() - run one control command that may have a result
 * @cvq:	the state
 * @cmd:	the command, as for ctrlvq_execute()
 * @len:	its length in bytes
 * @result:	where the command-specific result goes (the device-writable
 *		bytes after the status byte), or NULL
 * @result_max:	room in @result: what the driver made writable after the
 *		status byte; a command whose result does not fit is refused
 * @result_len:	receives the bytes written to @result (0 unless OK)
 *
 * Return: VIRTIO_NET_OK or VIRTIO_NET_ERR, the status byte to write back.
 */
uint8_t ctrlvq_execute_reply(Ctrlvq *cvq, const uint8_t *cmd, size_t len,
                             uint8_t *result, size_t result_max,
                             size_t *result_len);

/* ctrlvq_shadow() - the shadow, owned by @cvq; valid until the next call. */
const CtrlvqShadow *ctrlvq_shadow(const Ctrlvq *cvq);

/* ctrlvq_commands_seen() - how many commands were executed so far. */
uint64_t ctrlvq_commands_seen(const Ctrlvq *cvq);

/* ctrlvq_commands_ok() - how many of them were answered VIRTIO_NET_OK. */
uint64_t ctrlvq_commands_ok(const Ctrlvq *cvq);

/**
 * ctrlvq_rss_check() - whether @rss is one RSS_CONFIG could have set
 * @rss:	the configuration (@rss->enabled: an RSS one)
 * @max_pairs:	the device's queue pairs
 * @error:	set naming what is wrong
 *
 * For configurations from elsewhere (a migration state). Return: true if
 * it is (a disabled one always is, if it is all zero).
 */
bool ctrlvq_rss_check(const CtrlvqRss *rss, uint16_t max_pairs, GError **error);

/**
 * ctrlvq_hash_check() - whether @r is one HASH_CONFIG could have set
 * @r:		the configuration (no steering members)
 * @error:	set naming what is wrong
 *
 * Return: true if it is (a disabled one always is, if it is all zero).
 */
bool ctrlvq_hash_check(const CtrlvqRss *r, GError **error);

/**
 * ctrlvq_coal_check() - whether @s's coalescing is one the commands could
 *			 have set
 * @s:		the shadow (its queue pairs are taken as they are)
 * @features:	the features the driver negotiated
 * @error:	set naming what is wrong
 *
 * TX_SET and RX_SET need VIRTIO_NET_F_NOTF_COAL, a queue set apart from
 * them VIRTIO_NET_F_VQ_NOTF_COAL, and the queues of pairs not in use carry
 * the TX_SET and RX_SET values. Return: true if it is.
 */
bool ctrlvq_coal_check(const CtrlvqShadow *s, uint64_t features,
                       GError **error);

/* ctrlvq_vlan_is_set() - whether VLAN id @vid is in @shadow's filter. */
bool ctrlvq_vlan_is_set(const CtrlvqShadow *shadow, uint16_t vid);

/**
 * ctrlvq_filter_accepts() - whether a frame to @dst passes the receive
 * filter the driver set
 * @shadow:	the shadow
 * @dst:	the frame's destination MAC
 * @vlan:	the frame's VLAN id, or -1 if it carries no tag
 * @vlan_filter: VIRTIO_NET_F_CTRL_VLAN was negotiated
 *
 * Return: true to deliver the frame.
 */
bool ctrlvq_filter_accepts(const CtrlvqShadow *shadow, const uint8_t dst[6],
                           int vlan, bool vlan_filter);

/**
 * ctrlvq_restore() - take over a shadow from elsewhere (migration, restart)
 * @cvq:	the state
 * @features:	the features the driver negotiated
 * @shadow:	the shadow to restore; copied
 * @error:	set if @features cannot honour it (queue pairs without MQ,
 *		offloads not negotiated, RSS or hash configuration without
 *		RSS or HASH_REPORT, coalescing without NOTF_COAL or
 *		VQ_NOTF_COAL) or the device refused an effect
 * Applies the effects through CtrlvqOps as the commands would have
 * (queue pairs, RSS, guest offloads, MAC), then reports "restore" to
 * changed().
 * Return: true on success; on failure the state is the reset one.
 */
bool ctrlvq_restore(Ctrlvq *cvq, uint64_t features, const CtrlvqShadow *shadow,
                    GError **error);

#endif /* VDUSE_NET_CTRLVQ_H */
