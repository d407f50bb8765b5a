/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * steer.h - what the TAP steering program (steer.bpf.c) and vduse-net
 * (steer.c) share: the one entry of its configuration map
 */
#ifndef VDUSE_NET_STEER_H
#define VDUSE_NET_STEER_H

#define STEER_KEY_LEN 40
#define STEER_TABLE_LEN 128

/**
 * struct steer_config - RSS as the driver set it, for the program
 * @hash_types:	VIRTIO_NET_RSS_HASH_TYPE_* (IPv4 1, TCPv4 2, UDPv4 4, IPv6
 *		8, TCPv6 16, UDPv6 32)
 * @table_mask:	indirection table entries - 1 (a power of two - 1)
 * @unclassified: the queue of frames no enabled type covers
 * @key:	the Toeplitz key, zero-padded
 * @table:	the indirection table
 */
struct steer_config {
    __u32 hash_types;
    __u16 table_mask;
    __u16 unclassified;
    __u8 key[STEER_KEY_LEN];
    __u16 table[STEER_TABLE_LEN];
};

#endif /* VDUSE_NET_STEER_H */
