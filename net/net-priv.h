/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net-priv.h - what the files of net/ share and nobody else sees
 */
#ifndef VDUSE_NET_NET_PRIV_H
#define VDUSE_NET_NET_PRIV_H

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "ctrlvq.h"
#include "net.h"
#include "util.h"

/* TAP offload bits newer than Debian bookworm's headers (Linux 6.2+). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/*
 * The virtio-net header on every buffer with VERSION_1: 12 bytes, the
 * TAP's vnet header too; 20 once the driver took HASH_REPORT (the hash
 * and its type follow; the TAP's stays 12 and the pair moves the frame
 * past the 8 bytes).
 */
#define NET_HDR_LEN ((size_t)sizeof(struct virtio_net_hdr_v1))
#define NET_HASH_HDR_LEN ((size_t)sizeof(struct virtio_net_hdr_v1_hash))

typedef struct NetPair NetPair;

/**
 * struct NetPairQueues - what a queue pair's thread serves
 * @rx:		RX virtqueue (started)
 * @tx:		TX virtqueue (started)
 * @rx_index:	RX vq index on the device, for @notify
 * @tx_index:	TX vq index on the device, for @notify
 * @rx_kick:	eventfd the driver's RX kicks arrive on
 * @tx_kick:	eventfd the driver's TX kicks arrive on
 * @notify:	interrupt the driver for vq @index; any thread
 * @opaque:	passed to @notify
 *
 * A VDUSE device gives its queues and kick eventfds; unit tests give
 * their own.
 */
typedef struct NetPairQueues {
    VduseVq *rx;
    VduseVq *tx;
    uint32_t rx_index;
    uint32_t tx_index;
    int rx_kick;
    int tx_kick;
    int (*notify)(void *opaque, uint32_t index);
    void *opaque;
} NetPairQueues;

typedef struct NetLinkWatch NetLinkWatch;

/*
 * Called in the main context when the watched link goes up or down; @gone
 * when it left this network namespace (deleted, or moved to another one).
 */
typedef void (*NetLinkChanged)(bool up, bool gone, void *opaque);

/**
 * net_link_watch_new() - follow the carrier of interface @ifname
 * @ifname:	the interface (in this network namespace)
 * @changed:	called on every change of "up and running"
 * @opaque:	passed to @changed
 * @ctx:	main context to watch in (NULL: the default)
 * @error:	set on failure
 *
 * Return: the watch, owned by the caller (net_link_watch_free()).
 */
NetLinkWatch *net_link_watch_new(const char *ifname, NetLinkChanged changed,
                                 void *opaque, GMainContext *ctx,
                                 GError **error);

/* net_link_watch_is_up() - the link's state as last seen. */
bool net_link_watch_is_up(const NetLinkWatch *w);

/* net_link_watch_free() - stop watching (NULL is fine). */
void net_link_watch_free(NetLinkWatch *w);

/**
 * net_pair_new() - the dataplane of queue pair @index, not yet running
 * @name:	device name, for log lines
 * @index:	queue pair index
 * @tap_fd:	the pair's TAP queue fd; not owned
 *
 * Return: the pair, owned by the caller (net_pair_free()).
 */
NetPair *net_pair_new(const char *name, unsigned int index, int tap_fd);

/**
 * net_pair_set_io_uring() - write TX bursts and read small RX frames in
 * batches with io_uring (the default, where the kernel allows it), or one
 * writev() and readv() per frame
 * @p:		the pair, not running
 * @on:		try io_uring
 */
void net_pair_set_io_uring(NetPair *p, bool on);

/* net_pair_uses_io_uring() - whether TX bursts go through io_uring. */
bool net_pair_uses_io_uring(const NetPair *p);

/* net_pair_reads_io_uring() - whether RX frames are read in batches. */
bool net_pair_reads_io_uring(const NetPair *p);

/**
 * net_pair_set_filter() - what the pair lets through to the driver
 * @p:		the pair, paused or not running
 * @shadow:	the driver's receive filter settings, copied; NULL for no
 *		filter
 * @vlan_filter: VIRTIO_NET_F_CTRL_VLAN was negotiated
 * @guest_offloads: the VIRTIO_NET_F_GUEST_* offloads the driver accepts
 *		now; a received frame needing another is dropped (none at
 *		creation)
 */
void net_pair_set_filter(NetPair *p, const CtrlvqShadow *shadow,
                         bool vlan_filter, uint64_t guest_offloads);

/**
 * net_pair_set_coalescing() - the notification coalescing of the pair's
 * queues, as the driver set it (NOTF_COAL)
 * @p:		the pair, paused or not running
 * @rx:		the RX queue's, copied (both 0 at creation: none)
 * @tx:		the TX queue's, copied
 */
void net_pair_set_coalescing(NetPair *p, const CtrlvqCoal *rx,
                             const CtrlvqCoal *tx);

/**
 * net_pair_set_hash() - what the pair hashes received frames on for their
 * header's hash report (VIRTIO_NET_F_HASH_REPORT)
 * @p:		the pair, paused or not running
 * @cfg:	hash types and key (RSS_CONFIG's or HASH_CONFIG's), copied;
 *		NULL reports no hash (the state at creation and reset)
 */
void net_pair_set_hash(NetPair *p, const CtrlvqRss *cfg);

/**
 * net_pair_drop_queued() - drop the frames waiting in the pair's TAP queue
 * @p:		the pair, not running
 *
 * For a start by the driver: what the TAP queued while no driver ran is
 * from before it (a migration target waits minutes with its TAP on the
 * bridge, and an old ARP answer would mislead the guest); a NIC without
 * buffers drops such frames. They count as rx-dropped. At most 4096.
 * Return: how many were dropped.
 */
unsigned int net_pair_drop_queued(NetPair *p);

/* net_pair_set_capture() - record @p's frames to @cap (not owned). */
void net_pair_set_capture(NetPair *p, NetCapture *cap);

/* net_pair_free() - stop and free @p (NULL is fine). */
void net_pair_free(NetPair *p);

/**
 * net_pair_start() - start the pair's thread on its started queues
 *
 * The TAP's offloads are not touched here: TUNSETOFFLOAD takes the RTNL
 * lock, which the kernel's virtio-net driver may hold while it waits for
 * the device (see net_dev's TAP worker).
 * @p:		the pair
 * @q:		the queues to serve, copied
 * @features:	negotiated features
 * @mtu:	the MTU offered in config space
 * @error:	set on failure
 *
 * Return: true if the thread runs.
 */
bool net_pair_start(NetPair *p, const NetPairQueues *q, uint64_t features,
                    uint16_t mtu, GError **error);

/**
 * net_pair_attach() - set @p up as net_pair_start() does, without its thread
 * @p:		the pair, not running
 * @q:		the queues to serve, copied (the kick fds are not used)
 * @features:	negotiated features
 * @mtu:	the MTU offered in config space
 *
 * For the fuzz target (tests/fuzz/fuzz-datapath.c): the caller then runs
 * the pair's loop itself, one round at a time, with net_pair_step().
 */
void net_pair_attach(NetPair *p, const NetPairQueues *q, uint64_t features,
                     uint16_t mtu);

/**
 * net_pair_step() - one round of the pair's loop, in the caller's thread
 * @p:		a pair set up by net_pair_attach()
 * @pause:	end the round as a pause does: the RX chains held are given
 *		back
 *
 * As if poll() had said everything is ready (both queues kicked, the TAP
 * readable and writable): a TX burst, then an RX burst, each published
 * with its interrupt (coalesced ones when their window ends, by count or
 * by the clock at the start of a round, or at a pause); then kicks asked
 * for again.
 * Return: TX chains and RX frames handled, or -EIO if a queue failed.
 */
int net_pair_step(NetPair *p, bool pause);

/* net_pair_stop() - stop the thread and wait for it; nothing is in flight. */
void net_pair_stop(NetPair *p);

/**
 * net_pair_pause() - wait until the thread touches neither guest memory nor
 * the queues; every popped chain has been pushed and published
 */
void net_pair_pause(NetPair *p);

/* net_pair_resume() - undo net_pair_pause(). */
void net_pair_resume(NetPair *p);

/* net_pair_get_stats() - a snapshot of @p's counters. */
void net_pair_get_stats(const NetPair *p, NetPairStats *out);

/* net_pair_is_running() - whether the thread runs. */
bool net_pair_is_running(const NetPair *p);

/**
 * net_tap_offloads() - TUNSETOFFLOAD flags for negotiated @features
 *
 * Return: the TUN_F_* flags the driver can take on receive.
 */
unsigned int net_tap_offloads(uint64_t features);

/**
 * net_hdr_len() - the driver's virtio-net header for @features
 * Return: NET_HASH_HDR_LEN with VIRTIO_NET_F_HASH_REPORT, else NET_HDR_LEN.
 */
size_t net_hdr_len(uint64_t features);

/**
 * net_rx_frame_max() - the largest frame, header included, the driver may
 * have to receive
 * @features:	negotiated features
 * @mtu:	MTU offered in config space
 *
 * Return: bytes.
 */
size_t net_rx_frame_max(uint64_t features, uint16_t mtu);

/**
 * net_capture_frame() - record one frame
 * @cap:	the capture
 * @iov:	segments holding the frame
 * @n:		number of segments
 * @skip:	bytes to skip first (the virtio-net header)
 * @len:	frame length after @skip
 *
 * Safe from any thread.
 */
void net_capture_frame(NetCapture *cap, const struct iovec *iov, unsigned int n,
                       size_t skip, size_t len);

/**
 * struct JsonIn - reads members of an untrusted JSON document (json-in.c)
 * @error:	the first error, or NULL
 * @where:	path of the object being read, for messages ("" at the top,
 *		"device", "shadow.mac-table", ...)
 *
 * Each json_in_*() reader returns a zero value once an error is
 * remembered; json_in_finish() hands the first one over.
 */
typedef struct JsonIn {
    GError *error;
    const char *where;
} JsonIn;

/**
 * json_in_fail() - remember "member @key is missing or not WHAT"
 * @in:		the reader; an earlier error is kept
 * @key:	the member
 * @fmt:	printf format of what it should have been
 */
G_GNUC_PRINTF(3, 4)
void json_in_fail(JsonIn *in, const char *key, const char *fmt, ...);

/* json_in_object() - the object member @key of @o (NULL: failed). */
JsonObject *json_in_object(JsonIn *in, JsonObject *o, const char *key);

/* json_in_array() - the array member @key with at most @max_len entries. */
JsonArray *json_in_array(JsonIn *in, JsonObject *o, const char *key,
                         guint max_len);

/**
 * json_in_uint() - the integer member @key of @o, from @min to @max
 *
 * With the whole range (0, G_MAXUINT64) a negative JSON integer is read as
 * its two's complement (feature words). Return: the value, or 0.
 */
guint64 json_in_uint(JsonIn *in, JsonObject *o, const char *key, guint64 min,
                     guint64 max);

/* json_in_uint_at() - entry @i of array @a (member @key), 0 to @max. */
guint64 json_in_uint_at(JsonIn *in, JsonArray *a, guint i, const char *key,
                        guint64 max);

/* json_in_bool() - the boolean member @key of @o (false: failed). */
bool json_in_bool(JsonIn *in, JsonObject *o, const char *key);

/**
 * json_in_string() - the string member @key of @o, valid UTF-8
 * @what:	what it should be, for the error
 * Return: the string, owned by @o, or NULL.
 */
const char *json_in_string(JsonIn *in, JsonObject *o, const char *key,
                           const char *what);

/* json_in_mac() - the member @key of @o as a unicast, non-zero MAC. */
void json_in_mac(JsonIn *in, JsonObject *o, const char *key, uint8_t mac[6]);

/**
 * json_in_mac_at() - entry @i of array @a (member @key) as any MAC
 * Return: true on success.
 */
bool json_in_mac_at(JsonIn *in, JsonArray *a, guint i, const char *key,
                    uint8_t mac[6]);

/**
 * json_in_finish() - the outcome of a reader
 * @in:		the reader
 * @error:	receives the first error, if there was one
 * Return: true if every member read was as it should be.
 */
bool json_in_finish(JsonIn *in, GError **error);

/**
 * net_state_write() - replace the file @path with @text, atomically
 * @text:	the document as text
 * @path:	the file; a temporary file is made beside it
 * @error:	set on failure (the old file, if any, is whole and untouched)
 *
 * Safe from any thread. Return: true on success.
 */
bool net_state_write(const char *text, const char *path, GError **error);

/**
 * NetDevOpener - open the VDUSE device a model describes
 * @cfg:	the device
 * @ops:	the model's callbacks
 * @ops_opaque:	passed to @ops
 * @ctx:	main context to serve it in
 * @data:	what was given to net_dev_open_with()
 * @error:	set on failure
 *
 * Return: the open device, or NULL.
 */
typedef VduseDev *(*NetDevOpener)(const VduseDevConfig *cfg,
                                  const VduseDevOps *ops, void *ops_opaque,
                                  GMainContext *ctx, void *data,
                                  GError **error);

/**
 * net_dev_open_with() - net_dev_open() through @open
 * @nd:		the model
 * @open:	opens the device (net_dev_open(): /dev/vduse/NAME; the unit
 *		tests: an in-process kernel)
 * @data:	passed to @open
 * @ctx:	main context of the message loop and the control queue
 * @error:	set on failure
 *
 * Return: true on success.
 */
bool net_dev_open_with(NetDev *nd, NetDevOpener open, void *data,
                       GMainContext *ctx, GError **error);

/**
 * net_shadow_to_json() - @shadow as a JSON object (shadow-json.c)
 *
 * Keys: "mac", "rx-mode" (promisc, allmulti, alluni, nomulti, nouni,
 * nobcast), "mac-table" (unicast, unicast-overflow, multicast,
 * multicast-overflow), "vlans" (ids), "queue-pairs", "guest-offloads",
 * "announce-acks", "rss", "hash-config", "notf-coal" (tx, rx, vqs: each
 * max-packets and max-usecs). Return: a new JsonNode, owned by the caller.
 */
JsonNode *net_shadow_to_json(const CtrlvqShadow *shadow);

/**
 * net_shadow_read() - read back what net_shadow_to_json() wrote
 * @in:		the reader (errors name "shadow.MEMBER")
 * @o:		the object, or NULL (an earlier failure)
 * @max_pairs:	the device's queue pairs
 * @out:	filled in on success
 *
 * Every value must pass the rule of the command that would have set it
 * (a unicast, non-zero MAC; multicast entries in the multicast table;
 * VLAN ids below 4096; from one queue pair to @max_pairs).
 * Return: true on success.
 */
bool net_shadow_read(JsonIn *in, JsonObject *o, uint16_t max_pairs,
                     CtrlvqShadow *out);

/**
 * net_toeplitz() - the Toeplitz hash of @data under @key (rss.c)
 * @key:	the key; bytes past @key_len count as zero
 * @key_len:	its length
 * @data:	the input
 * @len:	its length
 *
 * Return: the hash.
 */
uint32_t net_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *data,
                      size_t len);

/**
 * net_rss_hash() - the hash virtio-net defines for a received frame
 * @cfg:	the hash types and key the driver set
 * @frame:	the Ethernet frame (one VLAN tag allowed)
 * @len:	its length
 * @hash:	receives the hash (0 for none)
 *
 * Return: VIRTIO_NET_HASH_REPORT_*: what was hashed (NONE: nothing the
 * enabled types cover).
 */
uint8_t net_rss_hash(const CtrlvqRss *cfg, const uint8_t *frame, size_t len,
                     uint32_t *hash);

/**
 * net_rss_queue() - the receive queue RSS picks for a hash
 * @cfg:	the RSS configuration
 * @report:	what net_rss_hash() returned
 * @hash:	the hash it gave
 *
 * Return: the unclassified queue for NONE, else the table's entry.
 */
uint16_t net_rss_queue(const CtrlvqRss *cfg, uint8_t report, uint32_t hash);

typedef struct NetSteer NetSteer;

/**
 * net_steer_new() - load the TAP steering program (steer.c)
 * @error:	set if it cannot be (built without libbpf, no bpf(): no
 *		privilege or CONFIG_BPF_SYSCALL)
 *
 * Return: the program, owned by the caller (net_steer_free()).
 */
NetSteer *net_steer_new(GError **error);

/* net_steer_free() - unload (NULL is fine). */
void net_steer_free(NetSteer *s);

/**
 * net_steer_set() - what the program steers by from now on
 * @s:		the program
 * @rss:	the driver's RSS configuration (disabled: every frame to
 *		queue 0, until the program is detached)
 *
 * Return: false if the map could not be written (logged).
 */
bool net_steer_set(NetSteer *s, const CtrlvqRss *rss);

/* net_steer_prog_fd() - the program's fd, for tap_set_steering(). */
int net_steer_prog_fd(const NetSteer *s);

/**
 * tap_set_steering() - TUNSETSTEERINGEBPF: attach @prog_fd to the TAP of
 * queue fd @fd, or detach with -1
 *
 * Takes the RTNL lock: the TAP worker's job. Return: 0 or negative errno.
 */
int tap_set_steering(int fd, int prog_fd);

/* tap-batch.c: a burst of frames to a TAP in one system call. */

typedef struct TapBatch TapBatch;

/**
 * struct TapFrame - one frame to write: its segments, vnet header first
 * @iov:	the segments
 * @iovcnt:	how many
 */
typedef struct TapFrame {
    const struct iovec *iov;
    int iovcnt;
} TapFrame;

/**
 * tap_batch_new() - a writer for bursts of up to @max frames on @fd
 * @fd:		the TAP fd; not owned
 * @max:	frames per burst at most
 * @allow_uring: try io_uring (false: one writev() per frame)
 * @why_not:	receives why io_uring is not used (g_free()), or NULL; may
 *		be NULL
 *
 * Return: the writer, owned by the caller (tap_batch_free()); never NULL:
 * without io_uring it writes frame by frame.
 */
TapBatch *tap_batch_new(int fd, unsigned int max, bool allow_uring,
                        char **why_not);

/* tap_batch_uses_uring() - whether bursts go through io_uring. */
bool tap_batch_uses_uring(const TapBatch *b);

/**
 * tap_batch_write() - write @n frames in order, in one system call where
 * io_uring is used
 * @b:		the writer
 * @frames:	the frames; their segments must stay valid until it returns
 * @n:		how many (at most the writer's @max)
 * @res:	receives per frame the bytes written or -errno; -ECANCELED
 *		for those not written, which are always the last ones: after
 *		the first -EAGAIN (frame by frame), or those io_uring did not
 *		take when it failed (it is not used again then)
 */
void tap_batch_write(TapBatch *b, const TapFrame *frames, unsigned int n,
                     ssize_t *res);

/* tap_batch_free() - close the ring; NULL is fine. */
void tap_batch_free(TapBatch *b);

#ifdef HAVE_LIBURING
struct io_uring;

/**
 * tap_uring_run() - submit the @n entries prepared on @ring, their user
 * data their index, and wait for every one submitted (tap-batch.c)
 * @ring:	the ring
 * @n:		entries prepared
 * @res:	per entry, what it returned (bytes or -errno); an entry
 *		never completed keeps what the caller put there
 *
 * Return: true if all @n were submitted and reaped; false if io_uring
 * failed, and the ring should not be used again.
 */
bool tap_uring_run(struct io_uring *ring, unsigned int n, ssize_t *res);
#endif

typedef struct TapReader TapReader;

/**
 * tap_reader_new() - a reader of batches of up to @nslots frames from @fd
 * through io_uring (tap-read.c)
 * @fd:		the TAP fd (or any that gives one frame per read); not owned
 * @nslots:	frames per batch at most
 * @slot_size:	bytes of each frame's slot: the largest frame with its
 *		header, and any headroom
 * @why_not:	receives why there is no reader (g_free()), else NULL
 *
 * Return: the reader, owned by the caller (tap_reader_free()), or NULL
 * without io_uring: read frame by frame then.
 */
TapReader *tap_reader_new(int fd, unsigned int nslots, size_t slot_size,
                          char **why_not);

/**
 * tap_reader_read() - read up to @n frames, in one system call
 * @r:		the reader
 * @n:		entries to submit, at most its @nslots
 * @headroom:	bytes left free at the start of each slot
 *
 * Slot i gets the i-th entry's frame, @headroom bytes in, in the TAP's
 * order; tap_reader_slot() says what each read returned (-EAGAIN: the
 * queue was empty then; later entries may still have frames).
 * Return: @n, the slots with a result; 0 once the reader is broken
 * (tap_reader_broken(): io_uring failed, or the fd refused RWF_NOWAIT,
 * said once; the entries it refused say -EAGAIN).
 */
unsigned int tap_reader_read(TapReader *r, unsigned int n, size_t headroom);

/* tap_reader_broken() - io_uring failed; read frame by frame from now on. */
bool tap_reader_broken(const TapReader *r);

/**
 * tap_reader_slot() - slot @i and what its last read returned
 * @r:		the reader
 * @i:		the slot
 * @res:	receives bytes read (the TAP's header and the frame) or -errno
 *
 * Return: the slot's start; the frame is at its headroom. Valid until the
 * next tap_reader_read().
 */
uint8_t *tap_reader_slot(TapReader *r, unsigned int i, ssize_t *res);

/* tap_reader_free() - close the ring, free the slots; NULL is fine. */
void tap_reader_free(TapReader *r);

#endif /* VDUSE_NET_NET_PRIV_H */
