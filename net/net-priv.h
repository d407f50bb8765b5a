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

/* Bits newer than Debian bookworm's headers (Linux 6.2+). */
#ifndef VIRTIO_NET_F_GUEST_USO4
#define VIRTIO_NET_F_GUEST_USO4 54
#define VIRTIO_NET_F_GUEST_USO6 55
#define VIRTIO_NET_F_HOST_USO 56
#endif
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* The virtio-net header on every buffer (VERSION_1: always 12 bytes). */
#define NET_HDR_LEN ((size_t)sizeof(struct virtio_net_hdr_v1))

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
 * net_pair_set_filter() - the receive filter the pair applies
 * @p:		the pair, paused or not running
 * @shadow:	the driver's settings, copied; NULL for no filter
 * @vlan_filter: VIRTIO_NET_F_CTRL_VLAN was negotiated
 */
void net_pair_set_filter(NetPair *p, const CtrlvqShadow *shadow,
                         bool vlan_filter);

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

#endif /* VDUSE_NET_NET_PRIV_H */
