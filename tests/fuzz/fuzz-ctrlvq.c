/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-ctrlvq.c - the control-queue commands and their shadow
 *
 * The input picks the negotiated features and the queue pairs, then runs a
 * sequence of control commands (class, command, payload: any bytes, any
 * length), resets, device refusals and restores of a shadow, against a
 * model of the device the CtrlvqOps act on.
 *
 * Checked after every step:
 *  - the status is VIRTIO_NET_OK or VIRTIO_NET_ERR; an accepted command
 *    reported changed() once, a refused one changed nothing: neither the
 *    shadow nor the device (compared field by field before and after);
 *  - the shadow is what the device does (queue pairs, guest offloads,
 *    MAC), as ctrlvq.c's theory of operation says; its coalescing is one
 *    the commands could leave (ctrlvq_coal_check());
 *  - at the end of the input, the shadow, inside a whole migration state
 * document (net_state_to_json(), as text), reads back with
 * net_state_from_json() to an equal shadow;
 *  - ctrlvq_restore(): on success the shadow is the one given; on failure
 *    it is the reset one, and so is the device (ctrlvq.h).
 */
#include "config.h"

#include <endian.h>
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctrlvq.h"
#include "fuzz.h"
#include "net.h"

#define MAX_OPS 64
#define MAX_COMMAND 1024

static const uint8_t config_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/**
 * struct Device - what the control queue's effects reached
 * @pairs:	queue pairs in use
 * @offloads:	guest offloads applied
 * @mac:	MAC in config space
 * @refuse_pairs: set_queue_pairs() refuses
 * @refuse_offloads: set_guest_offloads() refuses
 * @rss:	the steering applied
 * @refuse_rss:	set_rss() refuses
 * @changed:	changed() calls
 * @cvq:	the control queue, to compare what changed() is given
 * @max_pairs:	the device's queue pairs
 */
typedef struct Device {
    uint16_t pairs;
    uint64_t offloads;
    uint8_t mac[6];
    bool refuse_pairs;
    bool refuse_offloads;
    CtrlvqRss rss;
    bool refuse_rss;
    unsigned int changed;
    Ctrlvq *cvq;
    uint16_t max_pairs;
} Device;

/* dev_set_queue_pairs() - CtrlvqOps.set_queue_pairs. */
static bool dev_set_queue_pairs(uint16_t pairs, void *opaque)
{
    Device *d = opaque;

    if (d->refuse_pairs) {
        return false;
    }
    d->pairs = pairs;
    return true;
}

/* dev_set_guest_offloads() - CtrlvqOps.set_guest_offloads. */
static bool dev_set_guest_offloads(uint64_t offloads, void *opaque)
{
    Device *d = opaque;

    if (d->refuse_offloads) {
        return false;
    }
    d->offloads = offloads;
    return true;
}

/* dev_set_rss() - CtrlvqOps.set_rss. */
static bool dev_set_rss(const CtrlvqRss *rss, void *opaque)
{
    Device *d = opaque;

    if (d->refuse_rss) {
        return false;
    }
    d->rss = *rss;
    return true;
}

/* dev_set_mac() - CtrlvqOps.set_mac. */
static void dev_set_mac(const uint8_t mac[6], void *opaque)
{
    memcpy(((Device *)opaque)->mac, mac, 6);
}

/* dev_changed() - CtrlvqOps.changed: it is given the shadow itself. */
static void dev_changed(const CtrlvqShadow *shadow, const char *what,
                        void *opaque)
{
    Device *d = opaque;

    fuzz_check(shadow == ctrlvq_shadow(d->cvq));
    fuzz_check(what && *what);
    d->changed++;
}

/* dev_get_queue_stats() - CtrlvqOps.get_queue_stats: only valid queues. */
static void dev_get_queue_stats(uint16_t vq, CtrlvqQueueStats *out,
                                void *opaque)
{
    Device *d = opaque;

    /* Never the control vq's index, nor past the data queues. */
    fuzz_check(vq < 2u * d->max_pairs);
    *out = (CtrlvqQueueStats){.packets = vq, .bytes = 64u * vq};
}

static const CtrlvqOps ops = {
    .get_queue_stats = dev_get_queue_stats,
    .set_queue_pairs = dev_set_queue_pairs,
    .set_rss = dev_set_rss,
    .set_guest_offloads = dev_set_guest_offloads,
    .set_mac = dev_set_mac,
    .changed = dev_changed,
};

/**
 * rss_equal() - whether two RSS or hash configurations say the same
 * Return: true if equal (a disabled one equals any disabled one).
 */
static bool rss_equal(const CtrlvqRss *a, const CtrlvqRss *b)
{
    if (!a->enabled || !b->enabled) {
        return a->enabled == b->enabled;
    }
    return a->hash_types == b->hash_types && a->table_len == b->table_len &&
           a->table_len <= CTRLVQ_RSS_MAX_TABLE &&
           !memcmp(a->table, b->table, 2 * a->table_len) &&
           a->unclassified == b->unclassified && a->max_tx_vq == b->max_tx_vq &&
           a->key_len == b->key_len && a->key_len <= CTRLVQ_RSS_MAX_KEY &&
           !memcmp(a->key, b->key, a->key_len);
}

/**
 * shadow_equal() - whether two shadows say the same (tables up to their
 * counts; what lies past them means nothing)
 * Return: true if equal.
 */
static bool shadow_equal(const CtrlvqShadow *a, const CtrlvqShadow *b)
{
    return !memcmp(a->mac, b->mac, 6) && a->promisc == b->promisc &&
           a->allmulti == b->allmulti && a->alluni == b->alluni &&
           a->nomulti == b->nomulti && a->nouni == b->nouni &&
           a->nobcast == b->nobcast && a->uni_count == b->uni_count &&
           a->uni_overflow == b->uni_overflow &&
           a->multi_count == b->multi_count &&
           a->multi_overflow == b->multi_overflow &&
           a->uni_count <= CTRLVQ_MAC_TABLE_MAX &&
           a->multi_count <= CTRLVQ_MAC_TABLE_MAX &&
           !memcmp(a->uni, b->uni, 6 * a->uni_count) &&
           !memcmp(a->multi, b->multi, 6 * a->multi_count) &&
           !memcmp(a->vlans, b->vlans, sizeof(a->vlans)) &&
           a->queue_pairs == b->queue_pairs &&
           a->guest_offloads == b->guest_offloads &&
           a->announce_acks == b->announce_acks &&
           rss_equal(&a->rss, &b->rss) && rss_equal(&a->hash, &b->hash) &&
           !memcmp(&a->coal_tx, &b->coal_tx, sizeof(a->coal_tx)) &&
           !memcmp(&a->coal_rx, &b->coal_rx, sizeof(a->coal_rx)) &&
           !memcmp(a->coal_vq, b->coal_vq, sizeof(a->coal_vq));
}

/**
 * device_equal() - whether two device models are the same
 * Return: true if equal.
 */
static bool device_equal(const Device *a, const Device *b)
{
    return a->pairs == b->pairs && a->offloads == b->offloads &&
           !memcmp(a->mac, b->mac, 6) && a->changed == b->changed &&
           rss_equal(&a->rss, &b->rss);
}

/**
 * device_reset() - the device after a reset: what ctrlvq_reset() assumes
 * @d:		the model
 * @cvq:	the control queue, just reset
 */
static void device_reset(Device *d, const Ctrlvq *cvq)
{
    const CtrlvqShadow *s = ctrlvq_shadow(cvq);

    d->pairs = 1;
    d->offloads = s->guest_offloads;
    memcpy(d->mac, config_mac, 6);
    memset(&d->rss, 0, sizeof(d->rss));
}

/**
 * check_device() - the shadow says what the device does
 * @d:		the model
 */
static void check_device(const Device *d)
{
    const CtrlvqShadow *s = ctrlvq_shadow(d->cvq);

    fuzz_check(d->pairs == s->queue_pairs);
    fuzz_check(d->offloads == s->guest_offloads);
    fuzz_check(!memcmp(d->mac, s->mac, 6));
    fuzz_check(rss_equal(&d->rss, &s->rss));
    /* Whatever the features now (a reset may have changed them): those of
     * pairs not in use are TX_SET's and RX_SET's. */
    fuzz_check(ctrlvq_coal_check(s, ~0ull, NULL));
}

/**
 * round_trip() - @s inside a state document, as text, read back
 * @s:		the shadow
 * @features:	negotiated features
 * @pairs:	the device's queue pairs
 * @back:	receives the shadow read back
 */
static void round_trip(const CtrlvqShadow *s, uint64_t features, uint16_t pairs,
                       CtrlvqShadow *back)
{
    g_autofree NetState *st = g_new0(NetState, 1);
    g_autofree NetState *rd = g_new0(NetState, 1);
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(JsonNode) parsed = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    g_strlcpy(st->name, "fuzz", sizeof(st->name));
    memcpy(st->mac, config_mac, 6);
    st->mtu = 1500;
    st->queue_pairs = pairs;
    st->ctrl_vq = true;
    st->offered = features;
    st->negotiated = features;
    st->status = 0x0f;
    memcpy(st->config_mac, s->mac, 6);
    st->config_status = 1;
    st->ngroups = 2;
    st->group_asid[1] = 1;
    st->vq_num = 2u * pairs + 1;
    for (uint32_t i = 0; i < st->vq_num; i++) {
        st->vqs[i] = (NetVqSaved){.ready = true, .size = 256};
    }
    st->link_up = true;
    st->shadow = *s;

    node = net_state_to_json(st);
    text = json_to_string(node, FALSE);
    fuzz_check(g_utf8_validate(text, -1, NULL));
    parsed = json_from_string(text, &error);
    if (!parsed) {
        fuzz_fail("the state document does not parse: %s\n%s", error->message,
                  text);
    }
    if (!net_state_from_json(parsed, rd, &error)) {
        fuzz_fail("the state document does not read back: %s\n%s",
                  error->message, text);
    }
    if (!shadow_equal(s, &rd->shadow)) {
        fuzz_fail("the shadow read back differs\n%s", text);
    }
    *back = rd->shadow;
}

/**
 * op_execute() - one control command from the input
 * @d:		the device
 * @in:		the input
 * @with_room:	read the room for a result (STATS) from the input, as the
 *		driver's writable buffer would say; without it there is none
 */
static void op_execute(Device *d, FuzzIn *in, bool with_room)
{
    CtrlvqShadow before = *ctrlvq_shadow(d->cvq);
    Device dev_before = *d;
    size_t len = fuzz_u16(in) % MAX_COMMAND, got;
    const uint8_t *bytes = fuzz_bytes(in, len, &got);
    g_autofree uint8_t *cmd = g_memdup2(bytes, got);
    size_t room = with_room ? fuzz_u16(in) % (CTRLVQ_MAX_RESULT + 1) : 0;
    /* Exactly @room bytes: ASan sees any write past them. */
    g_autofree uint8_t *result = room ? g_malloc(room) : NULL;
    size_t result_len;
    uint8_t status =
        ctrlvq_execute_reply(d->cvq, cmd, got, result, room, &result_len);
    /* The commands that only read: STATS and NOTF_COAL_VQ_GET. */
    bool query = got >= 2 && (cmd[0] == VIRTIO_NET_CTRL_STATS ||
                              (cmd[0] == VIRTIO_NET_CTRL_NOTF_COAL &&
                               cmd[1] == VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET));

    fuzz_check(status == 0 || status == 1);
    fuzz_check(result_len <= room);
    if (status == 0) {
        /* A query changes nothing, and says so to nobody. */
        fuzz_check(d->changed == dev_before.changed + (query ? 0 : 1));
        if (query && !shadow_equal(&before, ctrlvq_shadow(d->cvq))) {
            fuzz_fail("a query changed the shadow");
        }
        return;
    }
    fuzz_check(result_len == 0);
    if (!shadow_equal(&before, ctrlvq_shadow(d->cvq))) {
        fuzz_fail("a refused command changed the shadow");
    }
    if (!device_equal(&dev_before, d)) {
        fuzz_fail("a refused command changed the device");
    }
}

/**
 * op_restore() - restore the shadow, changed as the input says
 * @d:		the device
 * @in:		the input
 * @features:	negotiated features, updated
 * @max_pairs:	the device's queue pairs
 */
static void op_restore(Device *d, FuzzIn *in, uint64_t *features,
                       uint16_t max_pairs)
{
    uint8_t b = fuzz_u8(in);
    CtrlvqShadow s, reset;
    g_autoptr(GError) error = NULL;
    Ctrlvq *ref;

    /*
     * The shadow as it is, not read back through JSON: the round trip is
     * checked once per input, at its end, and an equal shadow is what it
     * gives; a document per restore cost a third of the target's speed.
     */
    s = *ctrlvq_shadow(d->cvq);
    if (b & 1) {
        s.queue_pairs = fuzz_u16(in);
    }
    if (b & 2) {
        s.guest_offloads = fuzz_u64(in);
    }
    if (b & 4) {
        *features = fuzz_u64(in);
    }
    if (b & 8) {
        uint8_t vq = fuzz_u8(in) % (2 * CTRLVQ_MAX_QUEUE_PAIRS);

        s.coal_vq[vq].max_packets = fuzz_u32(in);
        s.coal_vq[vq].max_usecs = fuzz_u32(in);
    }
    /* The device is reset before a restore (a new driver, or a
     * destination that never ran). */
    ctrlvq_reset(d->cvq, *features);
    device_reset(d, d->cvq);
    if (ctrlvq_restore(d->cvq, *features, &s, &error)) {
        fuzz_check(!error);
        if (!shadow_equal(&s, ctrlvq_shadow(d->cvq))) {
            fuzz_fail("a restored shadow is not the one given");
        }
        return;
    }
    fuzz_check(error && error->message);
    ref = ctrlvq_new("ref", config_mac, max_pairs, NULL, NULL);
    ctrlvq_reset(ref, *features);
    reset = *ctrlvq_shadow(ref);
    ctrlvq_free(ref);
    if (!shadow_equal(&reset, ctrlvq_shadow(d->cvq))) {
        fuzz_fail("a refused restore left a shadow that is not the reset "
                  "one (%s)",
                  error->message);
    }
    if (d->pairs != 1 || d->offloads != reset.guest_offloads ||
        memcmp(d->mac, config_mac, 6) || d->rss.enabled) {
        fuzz_fail("a refused restore left effects on the device: %u queue "
                  "pairs, offloads 0x%" G_GINT64_MODIFIER "x (%s)",
                  d->pairs, d->offloads, error->message);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzIn in = {data, size};
    uint64_t features = fuzz_u64(&in);
    uint16_t max_pairs = fuzz_u8(&in) % NET_MAX_QUEUE_PAIRS + 1;
    Device d = {0};
    CtrlvqShadow back;

    fuzz_log_init();
    d.max_pairs = max_pairs;
    d.cvq = ctrlvq_new("fuzz", config_mac, max_pairs, &ops, &d);
    ctrlvq_reset(d.cvq, features);
    device_reset(&d, d.cvq);
    for (unsigned int i = 0; i < MAX_OPS && in.left; i++) {
        switch (fuzz_u8(&in) % 7) {
        case 0:
        case 1:
        case 2:
            op_execute(&d, &in, false);
            break;
        case 6:
            op_execute(&d, &in, true);
            break;
        case 3: {
            uint8_t b = fuzz_u8(&in);

            d.refuse_pairs = b & 1;
            d.refuse_offloads = b & 2;
            d.refuse_rss = b & 4;
            break;
        }
        case 4:
            features = fuzz_u64(&in);
            ctrlvq_reset(d.cvq, features);
            device_reset(&d, d.cvq);
            break;
        case 5:
            op_restore(&d, &in, &features, max_pairs);
            break;
        }
        check_device(&d);
    }
    round_trip(ctrlvq_shadow(d.cvq), features, max_pairs, &back);
    ctrlvq_free(d.cvq);
    return 0;
}
