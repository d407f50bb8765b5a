/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * steer.bpf.c - the TAP's queue for each frame, by RSS (TUNSETSTEERINGEBPF)
 *
 * Runs in the kernel for every frame the host sends into the TAP; the
 * queue it returns is the queue pair whose thread reads it (vduse-net keeps
 * the attached queues a prefix, so the TAP's queue i is pair i). It
 * computes what net/rss.c computes (virtio 1.3 5.1.6.4.3.1: TCP, then
 * UDP, then the addresses, an IPv4 fragment by its addresses; Toeplitz
 * under the driver's key) and looks the hash up in the driver's table.
 * Built with clang -target bpf; vduse-net loads it with libbpf and keeps
 * the map current (net/steer.c).
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steer.h"

#define T_IPV4 1
#define T_TCPV4 2
#define T_UDPV4 4
#define T_IPV6 8
#define T_TCPV6 16
#define T_UDPV6 32

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct steer_config);
} steer_config SEC(".maps");

/*
 * toeplitz() - the hash of the first @len bytes of @in (at most 36) under
 * @key, bit by bit: each set bit of the input XORs in the 32 key bits that
 * start at its position.
 */
static __always_inline __u32 toeplitz(const __u8 *key, const __u8 *in,
                                      __u32 len)
{
    __u32 result = 0;
    __u32 window =
        (__u32)key[0] << 24 | (__u32)key[1] << 16 | (__u32)key[2] << 8 | key[3];

#pragma unroll
    for (int i = 0; i < 36; i++) {
        __u8 k = key[i + 4];

        if (i >= len) {
            break;
        }
#pragma unroll
        for (int bit = 7; bit >= 0; bit--) {
            if (in[i] & (1 << bit)) {
                result ^= window;
            }
            window = window << 1 | ((k >> bit) & 1);
        }
    }
    return result;
}

SEC("socket")
int steer(struct __sk_buff *skb)
{
    const struct steer_config *c;
    __u32 zero = 0, types, len, hash;
    __u8 in[36] = {0}, ip[40];
    __u16 proto;
    int l4 = 0;

    c = bpf_map_lookup_elem(&steer_config, &zero);
    if (!c) {
        return 0;
    }
    types = c->hash_types;
    if (bpf_skb_load_bytes(skb, 12, &proto, 2) < 0) {
        return c->unclassified;
    }
    proto = bpf_ntohs(proto);
    if (proto == 0x0800 && (types & (T_IPV4 | T_TCPV4 | T_UDPV4))) {
        __u32 ihl;

        if (bpf_skb_load_bytes(skb, 14, ip, 20) < 0 || (ip[0] >> 4) != 4 ||
            (ip[0] & 0xf) < 5) {
            return c->unclassified;
        }
        ihl = (ip[0] & 0xf) * 4;
        __builtin_memcpy(in, ip + 12, 8);
        len = 8;
        /* Not a fragment (MF or an offset): the ports may be hashed. */
        if (!((ip[6] & 0x3f) | ip[7]) &&
            ((ip[9] == 6 && (types & T_TCPV4)) ||
             (ip[9] == 17 && (types & T_UDPV4))) &&
            bpf_skb_load_bytes(skb, 14 + ihl, in + 8, 4) == 0) {
            l4 = 1;
            len = 12;
        }
        if (!l4 && !(types & T_IPV4)) {
            return c->unclassified;
        }
    } else if (proto == 0x86dd && (types & (T_IPV6 | T_TCPV6 | T_UDPV6))) {
        if (bpf_skb_load_bytes(skb, 14, ip, 40) < 0 || (ip[0] >> 4) != 6) {
            return c->unclassified;
        }
        __builtin_memcpy(in, ip + 8, 32);
        len = 32;
        if (((ip[6] == 6 && (types & T_TCPV6)) ||
             (ip[6] == 17 && (types & T_UDPV6))) &&
            bpf_skb_load_bytes(skb, 54, in + 32, 4) == 0) {
            l4 = 1;
            len = 36;
        }
        if (!l4 && !(types & T_IPV6)) {
            return c->unclassified;
        }
    } else {
        return c->unclassified;
    }
    hash = toeplitz(c->key, in, len);
    return c->table[hash & c->table_mask & (STEER_TABLE_LEN - 1)];
}

char _license[] SEC("license") = "GPL";
