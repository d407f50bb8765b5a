/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-ctrlvq.c - every control command with valid, boundary and malformed
 * payloads, the shadow it leaves, and the receive filter it drives
 */
#include "config.h"

#include <endian.h>
#include <gio/gio.h>
#include <glib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "ctrlvq.h"
#include "rss-key.h"
#include "util.h"

#define BIT(b) (1ull << (b))
#define ALL_CTRL                                                               \
    (BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |                   \
     BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | BIT(VIRTIO_NET_F_CTRL_VLAN) |           \
     BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |      \
     BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) |            \
     BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4))

/* Both coalescing features on top of ALL_CTRL. */
#define COAL_F                                                                 \
    (ALL_CTRL | BIT(VIRTIO_NET_F_NOTF_COAL) | BIT(VIRTIO_NET_F_VQ_NOTF_COAL))

static const uint8_t config_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

/**
 * struct Effects - what the device was asked to do
 * @pairs:	last set_queue_pairs, or 0
 * @offloads:	last set_guest_offloads, or ~0
 * @mac_set:	set_mac calls
 * @acks:	announce_ack calls
 * @changes:	changed calls
 * @refuse:	make set_queue_pairs and set_guest_offloads refuse
 * @refuse_offloads: make set_guest_offloads alone refuse
 * @rss_calls:	set_rss calls
 * @rss:	the last set_rss
 * @refuse_rss:	make set_rss refuse
 */
typedef struct Effects {
    uint16_t pairs;
    uint64_t offloads;
    int mac_set;
    int acks;
    int changes;
    bool refuse;
    bool refuse_offloads;
    int rss_calls;
    CtrlvqRss rss;
    bool refuse_rss;
} Effects;

static bool fx_rss(const CtrlvqRss *rss, void *opaque)
{
    Effects *e = opaque;

    e->rss_calls++;
    if (e->refuse_rss) {
        return false;
    }
    e->rss = *rss;
    return true;
}

static bool fx_pairs(uint16_t pairs, void *opaque)
{
    Effects *e = opaque;

    e->pairs = pairs;
    return !e->refuse;
}

static bool fx_offloads(uint64_t offloads, void *opaque)
{
    Effects *e = opaque;

    e->offloads = offloads;
    return !e->refuse && !e->refuse_offloads;
}

static void fx_mac(const uint8_t mac[6], void *opaque)
{
    ((Effects *)opaque)->mac_set++;
}

static void fx_ack(void *opaque)
{
    ((Effects *)opaque)->acks++;
}

static void fx_changed(const CtrlvqShadow *s, const char *what, void *opaque)
{
    ((Effects *)opaque)->changes++;
}

/* fx_stats() - counters that say which vq they are of: 1000 * k + vq. */
static void fx_stats(uint16_t vq, CtrlvqQueueStats *out, void *opaque)
{
    *out = (CtrlvqQueueStats){
        .notifications = 1000 + vq,
        .packets = 2000 + vq,
        .bytes = 3000 + vq,
        .interrupts = 4000 + vq,
        .drops = 5000 + vq,
        .drops_kind = 6000 + vq,
    };
}

static const CtrlvqOps fx_ops = {
    .get_queue_stats = fx_stats,
    .set_rss = fx_rss,
    .set_queue_pairs = fx_pairs,
    .set_guest_offloads = fx_offloads,
    .set_mac = fx_mac,
    .announce_ack = fx_ack,
    .changed = fx_changed,
};

/**
 * struct Case - one command and what must come of it
 * @path:	test path
 * @features:	negotiated features
 * @cmd:	the command bytes
 * @len:	their number
 * @status:	the expected answer
 */
typedef struct Case {
    const char *path;
    uint64_t features;
    uint8_t cmd[64];
    size_t len;
    uint8_t status;
} Case;

#define OK VIRTIO_NET_OK
#define ERR VIRTIO_NET_ERR
#define C(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

static const Case cases[] = {
    /* RX modes: one byte, 0 or 1, behind CTRL_RX / CTRL_RX_EXTRA. */
    {"/ctrlvq/rx/promisc-off", ALL_CTRL, C(0, 0, 0), OK},
    {"/ctrlvq/rx/allmulti-on", ALL_CTRL, C(0, 1, 1), OK},
    {"/ctrlvq/rx/alluni-on", ALL_CTRL, C(0, 2, 1), OK},
    {"/ctrlvq/rx/nomulti-on", ALL_CTRL, C(0, 3, 1), OK},
    {"/ctrlvq/rx/nouni-on", ALL_CTRL, C(0, 4, 1), OK},
    {"/ctrlvq/rx/nobcast-on", ALL_CTRL, C(0, 5, 1), OK},
    {"/ctrlvq/rx/value-2", ALL_CTRL, C(0, 0, 2), ERR},
    {"/ctrlvq/rx/no-payload", ALL_CTRL, C(0, 0), ERR},
    {"/ctrlvq/rx/long-payload", ALL_CTRL, C(0, 0, 1, 0), ERR},
    {"/ctrlvq/rx/unknown-command", ALL_CTRL, C(0, 6, 1), ERR},
    {"/ctrlvq/rx/without-feature", BIT(VIRTIO_NET_F_CTRL_VQ), C(0, 0, 1), ERR},
    {"/ctrlvq/rx/extra-without-feature",
     BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX), C(0, 2, 1), ERR},
    /* MAC table: two tables, exactly. */
    {"/ctrlvq/mac/table-empty", ALL_CTRL, C(1, 0, 0, 0, 0, 0, 0, 0, 0, 0), OK},
    {"/ctrlvq/mac/table-one-each", ALL_CTRL,
     C(1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 7, 1, 0, 0, 0, 1, 0, 0x5e, 0, 0, 1),
     OK},
    {"/ctrlvq/mac/table-count-too-big", ALL_CTRL,
     C(1, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 7, 0, 0, 0, 0), ERR},
    {"/ctrlvq/mac/table-trailing-byte", ALL_CTRL,
     C(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9), ERR},
    {"/ctrlvq/mac/table-missing-multicast", ALL_CTRL, C(1, 0, 0, 0, 0, 0), ERR},
    {"/ctrlvq/mac/table-huge-count", ALL_CTRL,
     C(1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), ERR},
    {"/ctrlvq/mac/table-unicast-in-multicast", ALL_CTRL,
     C(1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 9), ERR},
    {"/ctrlvq/mac/addr-set", ALL_CTRL, C(1, 1, 2, 0, 0, 0, 0, 0x42), OK},
    {"/ctrlvq/mac/addr-set-multicast", ALL_CTRL, C(1, 1, 3, 0, 0, 0, 0, 1),
     ERR},
    {"/ctrlvq/mac/addr-set-zero", ALL_CTRL, C(1, 1, 0, 0, 0, 0, 0, 0), ERR},
    {"/ctrlvq/mac/addr-set-short", ALL_CTRL, C(1, 1, 2, 0, 0, 0, 0), ERR},
    {"/ctrlvq/mac/addr-set-without-feature",
     ALL_CTRL & ~BIT(VIRTIO_NET_F_CTRL_MAC_ADDR), C(1, 1, 2, 0, 0, 0, 0, 0x42),
     ERR},
    /* VLAN: a 16-bit id below 4096. */
    {"/ctrlvq/vlan/add-0", ALL_CTRL, C(2, 0, 0, 0), OK},
    {"/ctrlvq/vlan/add-4095", ALL_CTRL, C(2, 0, 0xff, 0x0f), OK},
    {"/ctrlvq/vlan/add-4096", ALL_CTRL, C(2, 0, 0x00, 0x10), ERR},
    {"/ctrlvq/vlan/del-5", ALL_CTRL, C(2, 1, 5, 0), OK},
    {"/ctrlvq/vlan/add-short", ALL_CTRL, C(2, 0, 5), ERR},
    {"/ctrlvq/vlan/without-feature", ALL_CTRL & ~BIT(VIRTIO_NET_F_CTRL_VLAN),
     C(2, 0, 5, 0), ERR},
    /* Announce: no payload. */
    {"/ctrlvq/announce/ack", ALL_CTRL, C(3, 0), OK},
    {"/ctrlvq/announce/ack-with-payload", ALL_CTRL, C(3, 0, 0), ERR},
    /* MQ: 1..max (4 here); RSS and hash not negotiated here. */
    {"/ctrlvq/mq/pairs-1", ALL_CTRL, C(4, 0, 1, 0), OK},
    {"/ctrlvq/mq/pairs-4", ALL_CTRL, C(4, 0, 4, 0), OK},
    {"/ctrlvq/mq/pairs-0", ALL_CTRL, C(4, 0, 0, 0), ERR},
    {"/ctrlvq/mq/pairs-5", ALL_CTRL, C(4, 0, 5, 0), ERR},
    {"/ctrlvq/mq/pairs-short", ALL_CTRL, C(4, 0, 1), ERR},
    {"/ctrlvq/mq/rss-config", ALL_CTRL, C(4, 1, 0, 0, 0, 0), ERR},
    {"/ctrlvq/mq/hash-config", ALL_CTRL, C(4, 2, 0, 0, 0, 0), ERR},
    /* Guest offloads: only negotiated ones (GUEST_CSUM=bit 1, TSO4=bit 7). */
    {"/ctrlvq/offloads/csum-tso4", ALL_CTRL, C(5, 0, 0x82, 0, 0, 0, 0, 0, 0, 0),
     OK},
    {"/ctrlvq/offloads/none", ALL_CTRL, C(5, 0, 0, 0, 0, 0, 0, 0, 0, 0), OK},
    {"/ctrlvq/offloads/not-negotiated", ALL_CTRL,
     C(5, 0, 0x02, 1, 0, 0, 0, 0, 0, 0), ERR},
    {"/ctrlvq/offloads/short", ALL_CTRL, C(5, 0, 0x02, 0, 0, 0), ERR},
    /* Notification coalescing (more in /ctrlvq/notf-coal/...). One pair in
     * use of 4: vq 0 and 1 enabled, 2..7 not, 8 the control queue. */
    {"/ctrlvq/notf-coal/tx-set", COAL_F, C(6, 0, 8, 0, 0, 0, 0, 0, 0, 0), OK},
    {"/ctrlvq/notf-coal/rx-set", COAL_F, C(6, 1, 16, 0, 0, 0, 50, 0, 0, 0), OK},
    {"/ctrlvq/notf-coal/tx-set-short", COAL_F, C(6, 0, 8, 0, 0, 0, 0, 0, 0),
     ERR},
    {"/ctrlvq/notf-coal/rx-set-long", COAL_F,
     C(6, 1, 16, 0, 0, 0, 50, 0, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/tx-set-without-feature", ALL_CTRL,
     C(6, 0, 0, 0, 0, 0, 0, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/rx-set-with-vq-feature-only",
     ALL_CTRL | BIT(VIRTIO_NET_F_VQ_NOTF_COAL),
     C(6, 1, 16, 0, 0, 0, 50, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/vq-set-rx0", COAL_F,
     C(6, 2, 0, 0, 0, 0, 16, 0, 0, 0, 50, 0, 0, 0), OK},
    {"/ctrlvq/notf-coal/vq-set-tx0", COAL_F,
     C(6, 2, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0), OK},
    {"/ctrlvq/notf-coal/vq-set-reserved-ignored", COAL_F,
     C(6, 2, 1, 0, 0xff, 0xff, 8, 0, 0, 0, 0, 0, 0, 0), OK},
    {"/ctrlvq/notf-coal/vq-set-pair-not-enabled", COAL_F,
     C(6, 2, 2, 0, 0, 0, 16, 0, 0, 0, 50, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/vq-set-control-queue", COAL_F,
     C(6, 2, 8, 0, 0, 0, 16, 0, 0, 0, 50, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/vq-set-out-of-range", COAL_F,
     C(6, 2, 9, 0, 0, 0, 16, 0, 0, 0, 50, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/vq-set-index-ffff", COAL_F,
     C(6, 2, 0xff, 0xff, 0, 0, 16, 0, 0, 0, 50, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/vq-set-short", COAL_F,
     C(6, 2, 0, 0, 0, 0, 16, 0, 0, 0, 50, 0, 0), ERR},
    {"/ctrlvq/notf-coal/vq-set-long", COAL_F,
     C(6, 2, 0, 0, 0, 0, 16, 0, 0, 0, 50, 0, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/vq-set-without-feature",
     ALL_CTRL | BIT(VIRTIO_NET_F_NOTF_COAL),
     C(6, 2, 0, 0, 0, 0, 16, 0, 0, 0, 50, 0, 0, 0), ERR},
    /* VQ_GET needs room for its result: ctrlvq_execute() gives none. */
    {"/ctrlvq/notf-coal/vq-get-no-room", COAL_F, C(6, 3, 0, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/vq-get-without-feature",
     ALL_CTRL | BIT(VIRTIO_NET_F_NOTF_COAL), C(6, 3, 0, 0, 0, 0), ERR},
    {"/ctrlvq/notf-coal/unknown-command", COAL_F,
     C(6, 4, 0, 0, 0, 0, 0, 0, 0, 0), ERR},
    /* Anything else. */
    /* Statistics without VIRTIO_NET_F_DEVICE_STATS (more in /ctrlvq/stats). */
    {"/ctrlvq/stats/query-without-feature", ALL_CTRL, C(8, 0), ERR},
    {"/ctrlvq/stats/get-without-feature", ALL_CTRL,
     C(8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), ERR},
    {"/ctrlvq/unknown-class", ALL_CTRL, C(200, 0), ERR},
    {"/ctrlvq/no-header", ALL_CTRL, C(0), ERR},
};

/*
 * Run one case; an accepted command changes the shadow and fires
 * changed(); a refused one leaves the shadow exactly as it was.
 */
static void test_case(gconstpointer data)
{
    const Case *c = data;
    Effects fx = {.offloads = ~0ull};
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, &fx_ops, &fx);
    CtrlvqShadow before;

    ctrlvq_reset(cvq, c->features);
    before = *ctrlvq_shadow(cvq);
    g_assert_cmpuint(ctrlvq_execute(cvq, c->cmd, c->len), ==, c->status);
    g_assert_cmpuint(ctrlvq_commands_seen(cvq), ==, 1);
    if (c->status == VIRTIO_NET_ERR) {
        g_assert_cmpmem(ctrlvq_shadow(cvq), sizeof(before), &before,
                        sizeof(before));
        g_assert_cmpint(fx.changes, ==, 0);
    } else {
        g_assert_cmpint(fx.changes, ==, 1);
    }
    ctrlvq_free(cvq);
}

/* run() - execute @len bytes on @cvq and assert the status. */
static void run(Ctrlvq *cvq, const uint8_t *cmd, size_t len, uint8_t status)
{
    g_assert_cmpuint(ctrlvq_execute(cvq, cmd, len), ==, status);
}

/* The shadow after a sequence like the one QEMU replays at a destination. */
static void test_shadow(void)
{
    Effects fx = {.offloads = ~0ull};
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, &fx_ops, &fx);
    const CtrlvqShadow *s = ctrlvq_shadow(cvq);
    static const uint8_t mac[] = {1, 1, 2, 0, 0, 0, 0, 0x42};
    static const uint8_t table[] = {1, 0, 1, 0, 0, 0, 2, 0,    0, 0, 0,
                                    7, 1, 0, 0, 0, 1, 0, 0x5e, 0, 0, 1};
    static const uint8_t pairs[] = {4, 0, 3, 0};
    static const uint8_t offl[] = {5, 0, 0x02, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t promisc_off[] = {0, 0, 0}, allmulti_on[] = {0, 1, 1};
    static const uint8_t vlan5[] = {2, 0, 5, 0}, vlan7[] = {2, 0, 7, 0};
    static const uint8_t del5[] = {2, 1, 5, 0}, ack[] = {3, 0};

    ctrlvq_reset(cvq, ALL_CTRL);
    g_assert_true(s->promisc);
    g_assert_cmpuint(s->queue_pairs, ==, 1);
    g_assert_cmpuint(s->guest_offloads, ==,
                     BIT(VIRTIO_NET_F_GUEST_CSUM) |
                         BIT(VIRTIO_NET_F_GUEST_TSO4));
    g_assert_cmpmem(s->mac, 6, config_mac, 6);

    run(cvq, mac, sizeof(mac), OK);
    run(cvq, table, sizeof(table), OK);
    run(cvq, pairs, sizeof(pairs), OK);
    run(cvq, offl, sizeof(offl), OK);
    run(cvq, promisc_off, sizeof(promisc_off), OK);
    run(cvq, allmulti_on, sizeof(allmulti_on), OK);
    run(cvq, vlan5, sizeof(vlan5), OK);
    run(cvq, vlan7, sizeof(vlan7), OK);
    run(cvq, del5, sizeof(del5), OK);
    run(cvq, ack, sizeof(ack), OK);

    g_assert_cmpmem(s->mac, 6, mac + 2, 6);
    g_assert_cmpint(fx.mac_set, ==, 1);
    g_assert_cmpuint(s->uni_count, ==, 1);
    g_assert_cmpmem(s->uni[0], 6, table + 6, 6);
    g_assert_cmpuint(s->multi_count, ==, 1);
    g_assert_cmpmem(s->multi[0], 6, table + 16, 6);
    g_assert_cmpuint(s->queue_pairs, ==, 3);
    g_assert_cmpuint(fx.pairs, ==, 3);
    g_assert_cmpuint(s->guest_offloads, ==, BIT(VIRTIO_NET_F_GUEST_CSUM));
    g_assert_cmpuint(fx.offloads, ==, BIT(VIRTIO_NET_F_GUEST_CSUM));
    g_assert_false(s->promisc);
    g_assert_true(s->allmulti);
    g_assert_false(ctrlvq_vlan_is_set(s, 5));
    g_assert_true(ctrlvq_vlan_is_set(s, 7));
    g_assert_cmpuint(s->announce_acks, ==, 1);
    g_assert_cmpint(fx.acks, ==, 1);

    /* A device that cannot apply it: ERR, and the shadow keeps 3. */
    fx.refuse = true;
    run(cvq, (const uint8_t[]){4, 0, 2, 0}, 4, ERR);
    g_assert_cmpuint(s->queue_pairs, ==, 3);

    /* Reset: back to the defaults. */
    ctrlvq_reset(cvq, 0);
    g_assert_true(s->promisc);
    g_assert_cmpuint(s->queue_pairs, ==, 1);
    g_assert_cmpuint(s->uni_count, ==, 0);
    g_assert_false(ctrlvq_vlan_is_set(s, 7));
    g_assert_cmpmem(s->mac, 6, config_mac, 6);
    ctrlvq_free(cvq);
}

/* A table larger than we keep overflows: none kept, all accepted. */
static void test_table_overflow(void)
{
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 1, NULL, NULL);
    const CtrlvqShadow *s = ctrlvq_shadow(cvq);
    size_t n = CTRLVQ_MAC_TABLE_MAX + 1, len = 2 + 4 + 6 * n + 4;
    g_autofree uint8_t *cmd = g_malloc0(len);
    static const uint8_t any[6] = {0x02, 9, 9, 9, 9, 9};

    ctrlvq_reset(cvq, ALL_CTRL);
    cmd[0] = 1;
    cmd[2] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        cmd[6 + 6 * i] = 0x02;
        cmd[6 + 6 * i + 5] = (uint8_t)i;
    }
    run(cvq, cmd, len, OK);
    g_assert_true(s->uni_overflow);
    g_assert_cmpuint(s->uni_count, ==, 0);
    run(cvq, (const uint8_t[]){0, 0, 0}, 3, OK); /* promisc off */
    g_assert_true(ctrlvq_filter_accepts(s, any, -1, false));
    ctrlvq_free(cvq);
}

/* The receive filter over the combinations that matter. */
static void test_filter(void)
{
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 1, NULL, NULL);
    const CtrlvqShadow *s = ctrlvq_shadow(cvq);
    static const uint8_t own[6] = {0x02, 0, 0, 0, 0, 0x01};
    static const uint8_t other[6] = {0x02, 0, 0, 0, 0, 0x99};
    static const uint8_t listed[6] = {0x02, 0, 0, 0, 0, 0x07};
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};
    static const uint8_t mcast2[6] = {0x01, 0, 0x5e, 0, 0, 2};
    static const uint8_t table[] = {1, 0, 1, 0, 0, 0, 2, 0,    0, 0, 0,
                                    7, 1, 0, 0, 0, 1, 0, 0x5e, 0, 0, 1};

    ctrlvq_reset(cvq, ALL_CTRL);
    /* Promiscuous by default: everything. */
    g_assert_true(ctrlvq_filter_accepts(s, other, -1, true));
    g_assert_true(ctrlvq_filter_accepts(s, other, 9, true));

    run(cvq, (const uint8_t[]){0, 0, 0}, 3, OK);
    run(cvq, table, sizeof(table), OK);
    g_assert_true(ctrlvq_filter_accepts(s, own, -1, true));
    g_assert_true(ctrlvq_filter_accepts(s, listed, -1, true));
    g_assert_false(ctrlvq_filter_accepts(s, other, -1, true));
    g_assert_true(ctrlvq_filter_accepts(s, bcast, -1, true));
    g_assert_true(ctrlvq_filter_accepts(s, mcast, -1, true));
    g_assert_false(ctrlvq_filter_accepts(s, mcast2, -1, true));

    run(cvq, (const uint8_t[]){0, 1, 1}, 3, OK); /* allmulti */
    g_assert_true(ctrlvq_filter_accepts(s, mcast2, -1, true));
    run(cvq, (const uint8_t[]){0, 3, 1}, 3, OK); /* nomulti wins */
    g_assert_false(ctrlvq_filter_accepts(s, mcast, -1, true));
    g_assert_true(ctrlvq_filter_accepts(s, bcast, -1, true));
    run(cvq, (const uint8_t[]){0, 5, 1}, 3, OK); /* nobcast */
    g_assert_false(ctrlvq_filter_accepts(s, bcast, -1, true));
    run(cvq, (const uint8_t[]){0, 2, 1}, 3, OK); /* alluni */
    g_assert_true(ctrlvq_filter_accepts(s, other, -1, true));
    run(cvq, (const uint8_t[]){0, 4, 1}, 3, OK); /* nouni wins */
    g_assert_false(ctrlvq_filter_accepts(s, own, -1, true));

    /* VLANs: tagged frames need their id set, when the filter is on. */
    ctrlvq_reset(cvq, ALL_CTRL);
    run(cvq, (const uint8_t[]){0, 0, 0}, 3, OK);
    run(cvq, (const uint8_t[]){2, 0, 5, 0}, 4, OK);
    g_assert_true(ctrlvq_filter_accepts(s, own, 5, true));
    g_assert_false(ctrlvq_filter_accepts(s, own, 6, true));
    g_assert_true(ctrlvq_filter_accepts(s, own, 6, false));
    g_assert_true(ctrlvq_filter_accepts(s, own, -1, true));
    /* Promiscuous takes everything, tagged or not. */
    run(cvq, (const uint8_t[]){0, 0, 1}, 3, OK);
    g_assert_true(ctrlvq_filter_accepts(s, other, 6, true));
    ctrlvq_free(cvq);
}

/* shadow_equal() - whether two shadows say the same, member by member. */
static bool shadow_equal(const CtrlvqShadow *a, const CtrlvqShadow *b)
{
    return !memcmp(a->mac, b->mac, 6) && a->promisc == b->promisc &&
           a->allmulti == b->allmulti && a->alluni == b->alluni &&
           a->nomulti == b->nomulti && a->nouni == b->nouni &&
           a->nobcast == b->nobcast && a->uni_count == b->uni_count &&
           a->uni_overflow == b->uni_overflow &&
           !memcmp(a->uni, b->uni, sizeof(a->uni[0]) * a->uni_count) &&
           a->multi_count == b->multi_count &&
           a->multi_overflow == b->multi_overflow &&
           !memcmp(a->multi, b->multi, sizeof(a->multi[0]) * a->multi_count) &&
           !memcmp(a->vlans, b->vlans, sizeof(a->vlans)) &&
           a->queue_pairs == b->queue_pairs &&
           a->guest_offloads == b->guest_offloads &&
           a->announce_acks == b->announce_acks &&
           !memcmp(&a->coal_tx, &b->coal_tx, sizeof(a->coal_tx)) &&
           !memcmp(&a->coal_rx, &b->coal_rx, sizeof(a->coal_rx)) &&
           !memcmp(a->coal_vq, b->coal_vq, sizeof(a->coal_vq));
}

/* A shadow restores elsewhere with its effects, or not at all. */
static void test_restore(void)
{
    Effects fx = {.offloads = ~0ull}, fx2 = {.offloads = ~0ull};
    Ctrlvq *src = ctrlvq_new("src", config_mac, 4, &fx_ops, &fx);
    Ctrlvq *dst = ctrlvq_new("dst", config_mac, 4, &fx_ops, &fx2);
    static const uint8_t mac[] = {1, 1, 2, 0, 0, 0, 0, 0x42};
    static const uint8_t table[] = {1, 0, 1, 0, 0, 0, 2, 0,    0, 0, 0,
                                    7, 1, 0, 0, 0, 1, 0, 0x5e, 0, 0, 1};
    g_autoptr(GError) error = NULL;
    CtrlvqShadow copy;

    ctrlvq_reset(src, ALL_CTRL);
    run(src, mac, sizeof(mac), OK);
    run(src, table, sizeof(table), OK);
    run(src, (const uint8_t[]){4, 0, 3, 0}, 4, OK);
    run(src, (const uint8_t[]){5, 0, 0x02, 0, 0, 0, 0, 0, 0, 0}, 10, OK);
    run(src, (const uint8_t[]){0, 0, 0}, 3, OK);
    run(src, (const uint8_t[]){0, 5, 1}, 3, OK);
    run(src, (const uint8_t[]){2, 0, 0xff, 0x0f}, 4, OK);
    run(src, (const uint8_t[]){2, 0, 0, 0}, 4, OK);
    copy = *ctrlvq_shadow(src);

    g_assert_true(ctrlvq_restore(dst, ALL_CTRL, &copy, &error));
    g_assert_no_error(error);
    g_assert_true(shadow_equal(ctrlvq_shadow(src), ctrlvq_shadow(dst)));
    g_assert_cmpuint(fx2.pairs, ==, 3);
    g_assert_cmpuint(fx2.offloads, ==, BIT(VIRTIO_NET_F_GUEST_CSUM));
    g_assert_cmpint(fx2.mac_set, ==, 1);
    g_assert_cmpint(fx2.changes, ==, 1);

    /* Without MQ three pairs cannot be honoured; nor offloads not
     * negotiated. Both leave the reset state. */
    g_assert_false(
        ctrlvq_restore(dst, ALL_CTRL & ~BIT(VIRTIO_NET_F_MQ), &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_clear_error(&error);
    copy.queue_pairs = 1;
    g_assert_false(ctrlvq_restore(dst, ALL_CTRL & ~BIT(VIRTIO_NET_F_GUEST_CSUM),
                                  &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_assert_true(ctrlvq_shadow(dst)->promisc);
    g_clear_error(&error);

    /* The device takes the pairs and refuses the offloads: the pairs it
     * took are undone, as the reset state the shadow is in says. */
    copy.queue_pairs = 3;
    fx2.refuse_offloads = true;
    g_assert_false(ctrlvq_restore(dst, ALL_CTRL, &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
    g_assert_cmpuint(ctrlvq_shadow(dst)->queue_pairs, ==, 1);
    g_assert_cmpuint(fx2.pairs, ==, 1);
    ctrlvq_free(src);
    ctrlvq_free(dst);
}

/* le64_at() - the little-endian u64 at @p. */
static uint64_t le64_at(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return GUINT64_FROM_LE(v);
}

/* le16_at() - the little-endian u16 at @p. */
static uint16_t le16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/**
 * stats_req() - append one STATS_GET entry to @cmd
 * @cmd:	the command being built
 * @vq:		vq_index
 * @types:	types_bitmap
 */
static void stats_req(GByteArray *cmd, uint16_t vq, uint64_t types)
{
    uint8_t e[16] = {0};

    e[0] = (uint8_t)vq;
    e[1] = (uint8_t)(vq >> 8);
    for (int i = 0; i < 8; i++) {
        e[8 + i] = (uint8_t)(types >> (8 * i));
    }
    g_byte_array_append(cmd, e, sizeof(e));
}

/**
 * stats_run() - run a STATS_GET of the entries in @req
 * @cvq:	the state
 * @req:	the entries (16 bytes each)
 * @room:	bytes for the result
 * @out:	receives the result (at least @room bytes)
 * @out_len:	receives its length
 *
 * Return: the status.
 */
static uint8_t stats_run(Ctrlvq *cvq, GByteArray *req, size_t room,
                         uint8_t *out, size_t *out_len)
{
    g_autoptr(GByteArray) cmd = g_byte_array_new();
    static const uint8_t hdr[2] = {VIRTIO_NET_CTRL_STATS,
                                   VIRTIO_NET_CTRL_STATS_GET};

    g_byte_array_append(cmd, hdr, 2);
    g_byte_array_append(cmd, req->data, req->len);
    return ctrlvq_execute_reply(cvq, cmd->data, cmd->len, out, room, out_len);
}

/* check_basic() - a RX/TX BASIC reply of vq @vq at @p, fx_stats' values. */
static void check_basic(const uint8_t *p, uint16_t vq)
{
    g_assert_cmpuint(p[0], ==, vq % 2 ? 16 : 0);
    g_assert_cmpuint(le16_at(p + 2), ==, vq);
    g_assert_cmpuint(le16_at(p + 6), ==, 56);
    for (int k = 0; k < 6; k++) {
        g_assert_cmpuint(le64_at(p + 8 + 8 * k), ==, 1000u * (k + 1) + vq);
    }
}

#define DEV_STATS (ALL_CTRL | BIT(VIRTIO_NET_F_DEVICE_STATS))
#define T_RX VIRTIO_NET_STATS_TYPE_RX_BASIC
#define T_TX VIRTIO_NET_STATS_TYPE_TX_BASIC
#define T_CVQ VIRTIO_NET_STATS_TYPE_CVQ

/* STATS_QUERY: the types, in a buffer large enough, and nothing else. */
static void test_stats_query(void)
{
    Effects fx = {.offloads = ~0ull};
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, &fx_ops, &fx);
    Ctrlvq *bare = ctrlvq_new("bare", config_mac, 4, NULL, NULL);
    static const uint8_t query[] = {8, 0}, query_payload[] = {8, 0, 0};
    uint8_t out[16];
    size_t len;

    ctrlvq_reset(cvq, DEV_STATS);
    g_assert_cmpuint(ctrlvq_execute_reply(cvq, query, 2, out, 8, &len), ==, OK);
    g_assert_cmpuint(len, ==, 8);
    g_assert_cmpuint(le64_at(out), ==, T_RX | T_TX | T_CVQ);
    /* A query does not change the shadow: no changed(). */
    g_assert_cmpint(fx.changes, ==, 0);
    g_assert_cmpuint(ctrlvq_execute_reply(cvq, query, 2, out, 7, &len), ==,
                     ERR);
    g_assert_cmpuint(len, ==, 0);
    g_assert_cmpuint(ctrlvq_execute(cvq, query, 2), ==, ERR);
    g_assert_cmpuint(ctrlvq_execute_reply(cvq, query_payload, 3, out, 16, &len),
                     ==, ERR);
    /* A device that cannot count its queues offers the control queue's. */
    ctrlvq_reset(bare, DEV_STATS);
    g_assert_cmpuint(ctrlvq_execute_reply(bare, query, 2, out, 16, &len), ==,
                     OK);
    g_assert_cmpuint(le64_at(out), ==, T_CVQ);
    ctrlvq_free(cvq);
    ctrlvq_free(bare);
}

/* STATS_GET: replies in the order asked, each exact. */
static void test_stats_get(void)
{
    Effects fx = {.offloads = ~0ull};
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, &fx_ops, &fx);
    g_autoptr(GByteArray) req = g_byte_array_new();
    uint8_t out[512];
    size_t len;

    ctrlvq_reset(cvq, DEV_STATS);
    /* Two commands before: one OK, one refused. */
    run(cvq, (const uint8_t[]){0, 0, 0}, 3, OK);
    run(cvq, (const uint8_t[]){0, 0, 2}, 3, ERR);
    stats_req(req, 3, T_TX);
    stats_req(req, 6, T_RX);
    stats_req(req, 8, T_CVQ); /* MQ: the control vq is 2 * 4 */
    g_assert_cmpuint(stats_run(cvq, req, 56 + 56 + 24, out, &len), ==, OK);
    g_assert_cmpuint(len, ==, 56 + 56 + 24);
    check_basic(out, 3);
    check_basic(out + 56, 6);
    g_assert_cmpuint(out[112], ==, 32);
    g_assert_cmpuint(le16_at(out + 114), ==, 8);
    g_assert_cmpuint(le16_at(out + 118), ==, 24);
    g_assert_cmpuint(le64_at(out + 120), ==, 2); /* commands before */
    g_assert_cmpuint(le64_at(out + 128), ==, 1); /* of them OK */
    g_assert_cmpint(fx.changes, ==, 1);          /* the RX mode only */

    /* One byte short: refused whole. */
    g_assert_cmpuint(stats_run(cvq, req, 56 + 56 + 23, out, &len), ==, ERR);
    g_assert_cmpuint(len, ==, 0);

    /* Without MQ there is one pair: the control vq is 2. */
    ctrlvq_reset(cvq, DEV_STATS & ~BIT(VIRTIO_NET_F_MQ));
    g_byte_array_set_size(req, 0);
    stats_req(req, 2, T_CVQ);
    g_assert_cmpuint(stats_run(cvq, req, sizeof(out), out, &len), ==, OK);
    g_assert_cmpuint(len, ==, 24);
    g_byte_array_set_size(req, 0);
    stats_req(req, 3, T_TX);
    g_assert_cmpuint(stats_run(cvq, req, sizeof(out), out, &len), ==, ERR);
    ctrlvq_free(cvq);
}

/**
 * struct StatsBad - one STATS_GET the device must refuse
 * @path:	test path
 * @vq:		vq_index
 * @types:	types_bitmap
 * @reserved:	a byte for the reserved field
 * @cut:	bytes to cut off the payload
 */
typedef struct StatsBad {
    const char *path;
    uint16_t vq;
    uint64_t types;
    uint8_t reserved;
    unsigned int cut;
} StatsBad;

static const StatsBad stats_bad[] = {
    {"/ctrlvq/stats/get-vq-out-of-range", 9, T_RX, 0, 0},
    {"/ctrlvq/stats/get-rx-type-on-tx-vq", 1, T_RX, 0, 0},
    {"/ctrlvq/stats/get-tx-type-on-rx-vq", 0, T_TX, 0, 0},
    {"/ctrlvq/stats/get-cvq-type-on-data-vq", 0, T_CVQ, 0, 0},
    {"/ctrlvq/stats/get-rx-type-on-cvq", 8, T_RX, 0, 0},
    {"/ctrlvq/stats/get-unsupported-type", 0,
     VIRTIO_NET_STATS_TYPE_RX_BASIC << 1, 0, 0},
    {"/ctrlvq/stats/get-no-type", 0, 0, 0, 0},
    {"/ctrlvq/stats/get-reserved-set", 0, T_RX, 1, 0},
    {"/ctrlvq/stats/get-short-entry", 0, T_RX, 0, 1},
    {"/ctrlvq/stats/get-no-entry", 0, T_RX, 0, 16},
};

/* A refused STATS_GET, alone or after a good entry, writes nothing. */
static void test_stats_bad(gconstpointer data)
{
    const StatsBad *b = data;
    Effects fx = {.offloads = ~0ull};
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, &fx_ops, &fx);
    g_autoptr(GByteArray) req = g_byte_array_new();
    uint8_t out[512];
    size_t len = 99;

    ctrlvq_reset(cvq, DEV_STATS);
    stats_req(req, 0, T_RX);
    g_assert_cmpuint(stats_run(cvq, req, sizeof(out), out, &len), ==, OK);
    g_byte_array_set_size(req, 0);
    if (!b->cut) {
        stats_req(req, 0, T_RX); /* a good one first: all or nothing */
    }
    stats_req(req, b->vq, b->types);
    req->data[req->len - 14] = b->reserved;
    g_byte_array_set_size(req, req->len - b->cut);
    g_assert_cmpuint(stats_run(cvq, req, sizeof(out), out, &len), ==, ERR);
    g_assert_cmpuint(len, ==, 0);
    g_assert_cmpuint(ctrlvq_commands_ok(cvq), ==, 1);
    ctrlvq_free(cvq);
}

#define RSS_F (ALL_CTRL | BIT(VIRTIO_NET_F_RSS))

/* put16() - append @v to @a, little-endian. */
static void put16(GByteArray *a, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

    g_byte_array_append(a, b, 2);
}

/**
 * rss_cmd() - an RSS_CONFIG command
 * @types:	hash_types
 * @mask:	indirection_table_mask
 * @unclassified: unclassified_queue
 * @table:	@mask + 1 entries
 * @max_tx_vq:	max_tx_vq
 * @key_len:	hash_key_length, and as many bytes of ms_key (more: zeros)
 *
 * Return: the command (g_byte_array_unref()).
 */
static GByteArray *rss_cmd(uint32_t types, uint16_t mask, uint16_t unclassified,
                           const uint16_t *table, uint16_t max_tx_vq,
                           uint8_t key_len)
{
    GByteArray *a = g_byte_array_new();
    uint8_t hdr[6] = {4,
                      1,
                      (uint8_t)types,
                      (uint8_t)(types >> 8),
                      (uint8_t)(types >> 16),
                      (uint8_t)(types >> 24)};

    g_byte_array_append(a, hdr, sizeof(hdr));
    put16(a, mask);
    put16(a, unclassified);
    for (uint32_t i = 0; i <= mask; i++) {
        put16(a, table[i]);
    }
    put16(a, max_tx_vq);
    g_byte_array_append(a, &key_len, 1);
    for (unsigned int i = 0; i < key_len; i++) {
        g_byte_array_append(a, i < 40 ? &ms_key[i] : (const uint8_t[]){0}, 1);
    }
    return a;
}

static const uint16_t table4[128] = {0, 1, 2, 3};

/* RSS_CONFIG: applied (pairs, then steering), shadowed, ended by
 * VQ_PAIRS_SET. */
static void test_rss_config(void)
{
    Effects fx = {.offloads = ~0ull};
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, &fx_ops, &fx);
    const CtrlvqShadow *s = ctrlvq_shadow(cvq);
    g_autoptr(GByteArray) cmd = rss_cmd(0x3f, 3, 1, table4, 2, 40);
    static const uint16_t zeros[128];

    ctrlvq_reset(cvq, RSS_F);
    run(cvq, cmd->data, cmd->len, OK);
    g_assert_true(s->rss.enabled);
    g_assert_cmpuint(s->rss.hash_types, ==, 0x3f);
    g_assert_cmpuint(s->rss.table_len, ==, 4);
    g_assert_cmpmem(s->rss.table, sizeof(s->rss.table), table4, sizeof(table4));
    g_assert_cmpuint(s->rss.unclassified, ==, 1);
    g_assert_cmpuint(s->rss.max_tx_vq, ==, 2);
    g_assert_cmpmem(s->rss.key, s->rss.key_len, ms_key, 40);
    /* Queue 3 is named: four pairs, although max_tx_vq says 2. */
    g_assert_cmpuint(s->queue_pairs, ==, 4);
    g_assert_cmpuint(fx.pairs, ==, 4);
    g_assert_cmpint(fx.rss_calls, ==, 1);
    g_assert_cmpmem(&fx.rss, sizeof(fx.rss), &s->rss, sizeof(s->rss));
    g_assert_cmpint(fx.changes, ==, 1);
    /* One byte after the key, as Linux 6.15 and later send it (its
     * trailer struct's padding): taken, the key as the spec places it. */
    g_byte_array_append(cmd, (const uint8_t[]){0xee}, 1);
    run(cvq, cmd->data, cmd->len, OK);
    g_assert_cmpmem(s->rss.key, s->rss.key_len, ms_key, 40);

    /* A device that cannot steer: ERR, and the pairs go back. */
    fx.refuse_rss = true;
    g_byte_array_unref(cmd);
    cmd = rss_cmd(0x3, 0, 0, zeros, 1, 40);
    run(cvq, cmd->data, cmd->len, ERR);
    g_assert_cmpuint(s->queue_pairs, ==, 4);
    g_assert_cmpuint(fx.pairs, ==, 4);
    g_assert_cmpuint(s->rss.table_len, ==, 4);
    fx.refuse_rss = false;

    /* VQ_PAIRS_SET: automatic steering again, RSS off in the device. */
    run(cvq, (const uint8_t[]){4, 0, 2, 0}, 4, OK);
    g_assert_false(s->rss.enabled);
    g_assert_cmpuint(s->rss.table_len, ==, 0);
    g_assert_false(fx.rss.enabled);
    g_assert_cmpuint(s->queue_pairs, ==, 2);

    /* Without MQ there is one pair: queue 0 only. */
    ctrlvq_reset(cvq, RSS_F & ~BIT(VIRTIO_NET_F_MQ));
    g_byte_array_unref(cmd);
    cmd = rss_cmd(0x3f, 1, 0, (const uint16_t[]){0, 1}, 1, 40);
    run(cvq, cmd->data, cmd->len, ERR);
    g_byte_array_unref(cmd);
    cmd = rss_cmd(0x3f, 1, 0, zeros, 1, 40);
    run(cvq, cmd->data, cmd->len, OK);
    ctrlvq_free(cvq);
}

/**
 * struct RssBad - one RSS_CONFIG the device must refuse
 * @path:	test path
 * @types:	hash_types
 * @mask:	indirection_table_mask
 * @unclassified: unclassified_queue
 * @entry:	the value of every table entry
 * @max_tx_vq:	max_tx_vq
 * @key_len:	hash_key_length
 * @grow:	bytes to add (> 0) or cut (< 0) at the end
 * @features:	negotiated (0: RSS_F)
 */
typedef struct RssBad {
    const char *path;
    uint32_t types;
    uint16_t mask;
    uint16_t unclassified;
    uint16_t entry;
    uint16_t max_tx_vq;
    uint8_t key_len;
    int grow;
    uint64_t features;
} RssBad;

static const RssBad rss_bad[] = {
    {"/ctrlvq/rss/without-feature", 0x3f, 3, 0, 0, 1, 40, 0, ALL_CTRL},
    {"/ctrlvq/rss/table-not-power-of-two", 0x3f, 2, 0, 0, 1, 40, 0, 0},
    {"/ctrlvq/rss/table-too-long", 0x3f, 255, 0, 0, 1, 40, 0, 0},
    {"/ctrlvq/rss/table-mask-ffff", 0x3f, 0xffff, 0, 0, 1, 40, 0, 0},
    {"/ctrlvq/rss/queue-past-pairs", 0x3f, 3, 0, 4, 1, 40, 0, 0},
    {"/ctrlvq/rss/unclassified-past-pairs", 0x3f, 3, 4, 0, 1, 40, 0, 0},
    {"/ctrlvq/rss/max-tx-vq-0", 0x3f, 3, 0, 0, 0, 40, 0, 0},
    {"/ctrlvq/rss/max-tx-vq-past-pairs", 0x3f, 3, 0, 0, 5, 40, 0, 0},
    {"/ctrlvq/rss/hash-type-ex", 0x7f, 3, 0, 0, 1, 40, 0, 0},
    {"/ctrlvq/rss/hash-type-unknown", 0x3f | (1u << 9), 3, 0, 0, 1, 40, 0, 0},
    {"/ctrlvq/rss/key-too-long", 0x3f, 3, 0, 0, 1, 41, 0, 0},
    {"/ctrlvq/rss/key-cut-short", 0x3f, 3, 0, 0, 1, 40, -1, 0},
    {"/ctrlvq/rss/two-trailing-bytes", 0x3f, 3, 0, 0, 1, 40, 2, 0},
    {"/ctrlvq/rss/no-key-length", 0x3f, 3, 0, 0, 1, 0, -1, 0},
};

/* A refused RSS_CONFIG changes neither the shadow nor the device. */
static void test_rss_bad(gconstpointer data)
{
    const RssBad *b = data;
    Effects fx = {.offloads = ~0ull};
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, &fx_ops, &fx);
    uint16_t table[256];
    g_autoptr(GByteArray) cmd = NULL;
    CtrlvqShadow before;

    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        table[i] = b->entry;
    }
    ctrlvq_reset(cvq, b->features ? b->features : RSS_F);
    cmd = rss_cmd(b->types, b->mask == 0xffff ? 255 : b->mask, b->unclassified,
                  table, b->max_tx_vq, b->key_len);
    if (b->mask == 0xffff) {
        /* The mask says 65536 entries; 256 are there. */
        cmd->data[6] = cmd->data[7] = 0xff;
    }
    if (b->grow > 0) {
        g_byte_array_append(cmd, (const uint8_t[]){0, 0}, (guint)b->grow);
    } else if (b->grow < 0) {
        g_byte_array_set_size(cmd, cmd->len - 1);
    }
    before = *ctrlvq_shadow(cvq);
    run(cvq, cmd->data, cmd->len, ERR);
    g_assert_cmpmem(ctrlvq_shadow(cvq), sizeof(before), &before,
                    sizeof(before));
    g_assert_cmpint(fx.rss_calls, ==, 0);
    g_assert_cmpuint(fx.pairs, ==, 0);
    ctrlvq_free(cvq);
}

/* HASH_CONFIG: types, 8 reserved bytes, key; shadowed apart from RSS. */
static void test_hash_config(void)
{
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, NULL, NULL);
    const CtrlvqShadow *s = ctrlvq_shadow(cvq);
    uint8_t cmd[2 + 13 + 40] = {4, 2, 0x3f};

    cmd[14] = 40;
    memcpy(cmd + 15, ms_key, 40);
    ctrlvq_reset(cvq, ALL_CTRL);
    run(cvq, cmd, sizeof(cmd), ERR); /* HASH_REPORT not negotiated */
    ctrlvq_reset(cvq, ALL_CTRL | BIT(VIRTIO_NET_F_HASH_REPORT));
    run(cvq, cmd, sizeof(cmd) - 1, ERR);
    cmd[2] = 0x40; /* IP_EX */
    run(cvq, cmd, sizeof(cmd), ERR);
    g_assert_false(s->hash.enabled);
    cmd[2] = 0x12;
    /* As Linux sends it: RSS_CONFIG's layout without the table, its
     * max_tx_vq (2 pairs) in the last two reserved bytes. Refused before,
     * and Linux then turned receive hashing off. */
    cmd[12] = 2;
    run(cvq, cmd, sizeof(cmd), OK);
    g_assert_true(s->hash.enabled);
    {
        /* Linux 6.15 and later: one byte more (see cmd_rss_config()). */
        uint8_t longer[sizeof(cmd) + 2];

        memcpy(longer, cmd, sizeof(cmd));
        longer[sizeof(cmd)] = longer[sizeof(cmd) + 1] = 0xee;
        run(cvq, longer, sizeof(cmd) + 1, OK);
        run(cvq, longer, sizeof(cmd) + 2, ERR);
    }
    g_assert_cmpuint(s->hash.hash_types, ==, 0x12);
    g_assert_cmpmem(s->hash.key, s->hash.key_len, ms_key, 40);
    g_assert_false(s->rss.enabled);
    g_assert_cmpuint(s->hash.table_len, ==, 0);
    ctrlvq_free(cvq);
}

/* A shadow with RSS restores with its steering, or not at all. */
static void test_rss_restore(void)
{
    Effects fx = {.offloads = ~0ull}, fx2 = {.offloads = ~0ull};
    Ctrlvq *src = ctrlvq_new("src", config_mac, 4, &fx_ops, &fx);
    Ctrlvq *dst = ctrlvq_new("dst", config_mac, 4, &fx_ops, &fx2);
    g_autoptr(GByteArray) cmd = rss_cmd(0x3f, 3, 0, table4, 4, 40);
    g_autoptr(GError) error = NULL;
    CtrlvqShadow copy;

    ctrlvq_reset(src, RSS_F);
    run(src, cmd->data, cmd->len, OK);
    copy = *ctrlvq_shadow(src);
    g_assert_true(ctrlvq_restore(dst, RSS_F, &copy, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(ctrlvq_shadow(dst), sizeof(copy), &copy, sizeof(copy));
    g_assert_cmpuint(fx2.pairs, ==, 4);
    g_assert_true(fx2.rss.enabled);
    g_assert_cmpmem(&fx2.rss, sizeof(fx2.rss), &copy.rss, sizeof(copy.rss));

    /* Without RSS negotiated it cannot be honoured. */
    g_assert_false(
        ctrlvq_restore(dst, RSS_F & ~BIT(VIRTIO_NET_F_RSS), &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_clear_error(&error);
    g_assert_false(ctrlvq_shadow(dst)->rss.enabled);

    /* Pairs that disagree with the table: not a shadow RSS_CONFIG left. */
    copy.queue_pairs = 3;
    g_assert_false(ctrlvq_restore(dst, RSS_F, &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    copy.queue_pairs = 4;

    /* The device refuses the steering: back to one pair, none. */
    fx2.refuse_rss = true;
    g_assert_false(ctrlvq_restore(dst, RSS_F, &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
    g_assert_cmpuint(fx2.pairs, ==, 1);
    g_assert_cmpuint(ctrlvq_shadow(dst)->queue_pairs, ==, 1);
    ctrlvq_free(src);
    ctrlvq_free(dst);
}

/**
 * coal_cmd() - run a NOTF_COAL command with one struct virtio_net_ctrl_coal
 * @cvq:	the state
 * @cmd:	TX_SET or RX_SET, or VQ_SET with @vq
 * @vq:		the vq_index of VQ_SET (ignored otherwise)
 * @packets:	max_packets
 * @usecs:	max_usecs
 * @status:	the answer expected
 */
static void coal_cmd(Ctrlvq *cvq, uint8_t cmd, uint16_t vq, uint32_t packets,
                     uint32_t usecs, uint8_t status)
{
    uint8_t b[14] = {VIRTIO_NET_CTRL_NOTF_COAL, cmd};
    size_t off = cmd == VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET ? 6 : 2;
    uint16_t le16 = htole16(vq);
    uint32_t le32 = htole32(packets);

    memcpy(b + 2, &le16, 2);
    memcpy(b + off, &le32, 4);
    le32 = htole32(usecs);
    memcpy(b + off + 4, &le32, 4);
    run(cvq, b, off + 8, status);
}

/**
 * coal_get() - NOTF_COAL_VQ_GET of @vq with @room bytes for the result
 * @cvq:	the state
 * @vq:		the queue
 * @room:	bytes the driver made writable after the status
 * @out:	receives what the device wrote (when OK)
 *
 * Return: the status.
 */
static uint8_t coal_get(Ctrlvq *cvq, uint16_t vq, size_t room, CtrlvqCoal *out)
{
    uint8_t cmd[6] = {VIRTIO_NET_CTRL_NOTF_COAL,
                      VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET,
                      vq & 0xff,
                      vq >> 8,
                      0x5a,
                      0x5a};
    uint8_t result[16];
    size_t result_len = 99;
    uint8_t status;
    uint32_t v;

    memset(result, 0xee, sizeof(result));
    status =
        ctrlvq_execute_reply(cvq, cmd, sizeof(cmd), result, room, &result_len);
    if (status != VIRTIO_NET_OK) {
        g_assert_cmpuint(result_len, ==, 0);
        return status;
    }
    g_assert_cmpuint(result_len, ==, 8);
    g_assert_cmpuint(result[8], ==, 0xee); /* nothing past the result */
    memcpy(&v, result, 4);
    out->max_packets = le32toh(v);
    memcpy(&v, result + 4, 4);
    out->max_usecs = le32toh(v);
    return status;
}

/* assert_coal() - @c holds @packets and @usecs. */
#define assert_coal(c, packets, usecs)                                         \
    do {                                                                       \
        g_assert_cmpuint((c).max_packets, ==, (packets));                      \
        g_assert_cmpuint((c).max_usecs, ==, (usecs));                          \
    } while (0)

/*
 * TX_SET and RX_SET set every queue of their kind, VQ_SET one, the last
 * command wins (the spec's own sequence of six), VQ_GET reads back what
 * is in force and changes nothing, a pair disabled and enabled again takes
 * the TX_SET/RX_SET values, and a reset clears all.
 */
static void test_coal(void)
{
    Effects fx = {.offloads = ~0ull};
    Ctrlvq *cvq = ctrlvq_new("test", config_mac, 4, &fx_ops, &fx);
    const CtrlvqShadow *s = ctrlvq_shadow(cvq);
    CtrlvqShadow before;
    CtrlvqCoal got;
    int changes;

    ctrlvq_reset(cvq, COAL_F);
    for (unsigned int vq = 0; vq < 2 * CTRLVQ_MAX_QUEUE_PAIRS; vq++) {
        assert_coal(s->coal_vq[vq], 0, 0);
    }
    run(cvq, (const uint8_t[]){4, 0, 2, 0}, 4, OK); /* 2 pairs: vq 0..3 */

    /* Command1: RX_SET sets vq 0 and 2; 1 and 3 keep theirs. */
    coal_cmd(cvq, VIRTIO_NET_CTRL_NOTF_COAL_RX_SET, 0, 16, 50, OK);
    assert_coal(s->coal_rx, 16, 50);
    assert_coal(s->coal_vq[0], 16, 50);
    assert_coal(s->coal_vq[2], 16, 50);
    assert_coal(s->coal_vq[1], 0, 0);
    assert_coal(s->coal_vq[3], 0, 0);
    /* Command2: VQ_SET of vq 0; vq 2 keeps command1's. */
    coal_cmd(cvq, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 0, 4, 10, OK);
    assert_coal(s->coal_vq[0], 4, 10);
    assert_coal(s->coal_vq[2], 16, 50);
    assert_coal(s->coal_rx, 16, 50);
    /* Command3: VQ_GET of vq 0 answers command2's, and is a query. */
    before = *s;
    changes = fx.changes;
    g_assert_cmpuint(coal_get(cvq, 0, 8, &got), ==, OK);
    assert_coal(got, 4, 10);
    g_assert_cmpint(fx.changes, ==, changes);
    g_assert_true(shadow_equal(s, &before));
    /* Command4: VQ_SET of vq 1; vq 3 keeps its 0. */
    coal_cmd(cvq, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 1, 1, 1, OK);
    assert_coal(s->coal_vq[1], 1, 1);
    assert_coal(s->coal_vq[3], 0, 0);
    /* Command5: TX_SET overrides command4 on vq 1, and sets vq 3. */
    coal_cmd(cvq, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 0, 8, 0, OK);
    assert_coal(s->coal_vq[1], 8, 0);
    assert_coal(s->coal_vq[3], 8, 0);
    /* Command6: VQ_GET of vq 1 answers command5's. */
    g_assert_cmpuint(coal_get(cvq, 1, 16, &got), ==, OK);
    assert_coal(got, 8, 0);
    g_assert_cmpuint(coal_get(cvq, 2, 8, &got), ==, OK);
    assert_coal(got, 16, 50);

    /* VQ_GET: no room, the control queue, a pair not in use, past all. */
    g_assert_cmpuint(coal_get(cvq, 0, 7, &got), ==, ERR);
    g_assert_cmpuint(coal_get(cvq, 4, 8, &got), ==, ERR);
    g_assert_cmpuint(coal_get(cvq, 8, 8, &got), ==, ERR);
    g_assert_cmpuint(coal_get(cvq, 9, 8, &got), ==, ERR);
    g_assert_cmpint(fx.changes, ==, changes + 2); /* commands 4 and 5 */

    /* Pair 1 disabled and enabled again: the RX_SET/TX_SET values. */
    coal_cmd(cvq, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 2, 3, 3, OK);
    coal_cmd(cvq, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 3, 5, 5, OK);
    run(cvq, (const uint8_t[]){4, 0, 1, 0}, 4, OK);
    assert_coal(s->coal_vq[0], 4, 10); /* still in use: kept */
    assert_coal(s->coal_vq[2], 16, 50);
    assert_coal(s->coal_vq[3], 8, 0);
    coal_cmd(cvq, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 2, 3, 3, ERR);
    run(cvq, (const uint8_t[]){4, 0, 2, 0}, 4, OK);
    g_assert_cmpuint(coal_get(cvq, 2, 8, &got), ==, OK);
    assert_coal(got, 16, 50);
    g_assert_true(ctrlvq_coal_check(s, COAL_F, NULL));

    /* Reset: every parameter 0. */
    ctrlvq_reset(cvq, COAL_F);
    assert_coal(s->coal_tx, 0, 0);
    assert_coal(s->coal_rx, 0, 0);
    for (unsigned int vq = 0; vq < 2 * CTRLVQ_MAX_QUEUE_PAIRS; vq++) {
        assert_coal(s->coal_vq[vq], 0, 0);
    }
    ctrlvq_free(cvq);
}

/* Coalescing restores as it was, or is refused for what cannot hold it. */
static void test_coal_restore(void)
{
    Effects fx = {.offloads = ~0ull}, fx2 = {.offloads = ~0ull};
    Ctrlvq *src = ctrlvq_new("src", config_mac, 4, &fx_ops, &fx);
    Ctrlvq *dst = ctrlvq_new("dst", config_mac, 4, &fx_ops, &fx2);
    g_autoptr(GError) error = NULL;
    CtrlvqShadow copy;

    ctrlvq_reset(src, COAL_F);
    run(src, (const uint8_t[]){4, 0, 2, 0}, 4, OK);
    coal_cmd(src, VIRTIO_NET_CTRL_NOTF_COAL_RX_SET, 0, 16, 50, OK);
    coal_cmd(src, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET, 0, 8, 0, OK);
    coal_cmd(src, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 2, 32, 100, OK);
    copy = *ctrlvq_shadow(src);
    g_assert_true(ctrlvq_restore(dst, COAL_F, &copy, &error));
    g_assert_no_error(error);
    g_assert_true(shadow_equal(ctrlvq_shadow(dst), &copy));

    /* TX_SET/RX_SET values need NOTF_COAL. */
    g_assert_false(ctrlvq_restore(dst, COAL_F & ~BIT(VIRTIO_NET_F_NOTF_COAL),
                                  &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_clear_error(&error);
    assert_coal(ctrlvq_shadow(dst)->coal_vq[2], 0, 0);
    /* A queue set on its own needs VQ_NOTF_COAL. */
    g_assert_false(ctrlvq_restore(dst, COAL_F & ~BIT(VIRTIO_NET_F_VQ_NOTF_COAL),
                                  &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_clear_error(&error);
    /* A queue of a pair not in use with values of its own: no command
     * leaves that. */
    copy.coal_vq[6].max_packets = 1;
    g_assert_false(ctrlvq_restore(dst, COAL_F, &copy, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    ctrlvq_free(src);
    ctrlvq_free(dst);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_add_data_func(cases[i].path, &cases[i], test_case);
    }
    g_test_add_func("/ctrlvq/shadow/replay", test_shadow);
    g_test_add_func("/ctrlvq/shadow/table-overflow", test_table_overflow);
    g_test_add_func("/ctrlvq/filter/combinations", test_filter);
    g_test_add_func("/ctrlvq/shadow/restore", test_restore);
    g_test_add_func("/ctrlvq/rss/config", test_rss_config);
    for (size_t i = 0; i < G_N_ELEMENTS(rss_bad); i++) {
        g_test_add_data_func(rss_bad[i].path, &rss_bad[i], test_rss_bad);
    }
    g_test_add_func("/ctrlvq/rss/hash-config", test_hash_config);
    g_test_add_func("/ctrlvq/rss/restore", test_rss_restore);
    g_test_add_func("/ctrlvq/notf-coal/sequence", test_coal);
    g_test_add_func("/ctrlvq/notf-coal/restore", test_coal_restore);
    g_test_add_func("/ctrlvq/stats/query", test_stats_query);
    g_test_add_func("/ctrlvq/stats/get", test_stats_get);
    for (size_t i = 0; i < G_N_ELEMENTS(stats_bad); i++) {
        g_test_add_data_func(stats_bad[i].path, &stats_bad[i], test_stats_bad);
    }
    return g_test_run();
}
