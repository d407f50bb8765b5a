/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctrlvq.c - virtio-net control commands, validated, applied, shadowed
 *
 * DOC: Theory of operation
 *
 * One table row per command: its class and number, the feature that allows
 * it, and its handler. A handler sees a payload whose length it must check
 * exactly; it validates everything, applies the effect through CtrlvqOps,
 * and only then writes the shadow. A command refused at any step changes
 * nothing, so the shadow always says what the device really does: that is
 * what a migration destination will replay.
 */
#include "config.h"

#include <endian.h>
#include <gio/gio.h>
#include <linux/virtio_net.h>

#include "ctrlvq.h"
#include "util.h"

/* The guest offloads GUEST_OFFLOADS_SET may name (§5.1.6.5.6.1). */
#define GUEST_OFFLOAD_BITS                                                     \
    ((1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |   \
     (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN) |    \
     (1ull << VIRTIO_NET_F_GUEST_UFO) | (1ull << VIRTIO_NET_F_GUEST_USO4) |    \
     (1ull << VIRTIO_NET_F_GUEST_USO6))

/**
 * struct Ctrlvq - the control-queue state of one device
 * @name:	device name, for log lines
 * @config_mac:	the MAC in config space at creation
 * @max_pairs:	the most queue pairs
 * @features:	negotiated features
 * @ops:	effects on the device
 * @opaque:	passed to @ops
 * @shadow:	what the driver set
 * @seen:	commands executed
 * @ok:		commands answered VIRTIO_NET_OK
 * @result:	where the running command writes its result, or NULL
 * @result_max:	room in @result
 * @result_len:	bytes the running command wrote to @result
 */
struct Ctrlvq {
    char *name;
    uint8_t config_mac[6];
    uint16_t max_pairs;
    uint64_t features;
    CtrlvqOps ops;
    void *opaque;
    CtrlvqShadow shadow;
    uint64_t seen;
    uint64_t ok;
    uint8_t *result;
    size_t result_max;
    size_t result_len;
};

/* A command handler: payload and its length; returns OK or ERR. */
typedef uint8_t (*CmdFn)(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                         size_t len);

/**
 * struct CmdEntry - one command the device knows
 * @class:	VIRTIO_NET_CTRL_* class
 * @cmd:	command within the class
 * @feature:	the feature bit that must be negotiated
 * @name:	for log lines and change events
 * @fn:		handler
 * @query:	the command only reads: the shadow does not change, and
 *		changed() is not called
 */
typedef struct CmdEntry {
    uint8_t class;
    uint8_t cmd;
    unsigned int feature;
    const char *name;
    CmdFn fn;
    bool query;
} CmdEntry;

Ctrlvq *ctrlvq_new(const char *name, const uint8_t mac[6],
                   uint16_t max_queue_pairs, const CtrlvqOps *ops, void *opaque)
{
    Ctrlvq *cvq;

    g_return_val_if_fail(max_queue_pairs >= 1 &&
                             max_queue_pairs <= CTRLVQ_MAX_QUEUE_PAIRS,
                         NULL);
    cvq = g_new0(Ctrlvq, 1);
    cvq->name = g_strdup(name);
    memcpy(cvq->config_mac, mac, 6);
    cvq->max_pairs = max_queue_pairs;
    if (ops) {
        cvq->ops = *ops;
    }
    cvq->opaque = opaque;
    ctrlvq_reset(cvq, 0);
    return cvq;
}

void ctrlvq_free(Ctrlvq *cvq)
{
    if (cvq) {
        g_free(cvq->name);
        g_free(cvq);
    }
}

void ctrlvq_reset(Ctrlvq *cvq, uint64_t features)
{
    cvq->features = features;
    memset(&cvq->shadow, 0, sizeof(cvq->shadow));
    memcpy(cvq->shadow.mac, cvq->config_mac, 6);
    cvq->shadow.promisc = true;
    cvq->shadow.queue_pairs = 1;
    cvq->shadow.guest_offloads = features & GUEST_OFFLOAD_BITS;
}

/**
 * has() - whether feature @bit was negotiated
 * @cvq:	the state
 * @bit:	feature bit
 *
 * Return: true if it was.
 */
static bool has(const Ctrlvq *cvq, unsigned int bit)
{
    return cvq->features & (1ull << bit);
}

/* cmd_rx_mode() - RX PROMISC/ALLMULTI/ALLUNI/NOMULTI/NOUNI/NOBCAST. */
static uint8_t cmd_rx_mode(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                           size_t len)
{
    CtrlvqShadow *s = &cvq->shadow;
    bool *mode[] = {
        [VIRTIO_NET_CTRL_RX_PROMISC] = &s->promisc,
        [VIRTIO_NET_CTRL_RX_ALLMULTI] = &s->allmulti,
        [VIRTIO_NET_CTRL_RX_ALLUNI] = &s->alluni,
        [VIRTIO_NET_CTRL_RX_NOMULTI] = &s->nomulti,
        [VIRTIO_NET_CTRL_RX_NOUNI] = &s->nouni,
        [VIRTIO_NET_CTRL_RX_NOBCAST] = &s->nobcast,
    };

    if (len != 1 || data[0] > 1) {
        g_message("%s: RX mode %u: want one byte, 0 or 1 (got %zu bytes, "
                  "first %d)",
                  cvq->name, cmd, len, len ? data[0] : -1);
        return VIRTIO_NET_ERR;
    }
    *mode[cmd] = data[0];
    return VIRTIO_NET_OK;
}

/**
 * parse_mac_table() - one of the two tables of MAC_TABLE_SET
 * @data:	where it starts
 * @len:	bytes left
 * @entries:	receives its entry count
 *
 * Return: its length in bytes, or 0 if it does not fit in @len.
 */
static size_t parse_mac_table(const uint8_t *data, size_t len,
                              uint32_t *entries)
{
    uint32_t n;

    if (len < 4) {
        return 0;
    }
    memcpy(&n, data, 4);
    n = le32toh(n);
    /* n * 6 cannot overflow size_t for a 32-bit n on 64-bit hosts; check. */
    if ((uint64_t)n * 6 > len - 4) {
        return 0;
    }
    *entries = n;
    return 4 + (size_t)n * 6;
}

/* cmd_mac_table_set() - MAC TABLE_SET: unicast then multicast table. */
static uint8_t cmd_mac_table_set(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                                 size_t len)
{
    CtrlvqShadow *s = &cvq->shadow;
    uint32_t uni, multi;
    size_t uni_len, multi_len;
    const uint8_t *multi_data;

    uni_len = parse_mac_table(data, len, &uni);
    multi_data = data + uni_len;
    multi_len =
        uni_len ? parse_mac_table(multi_data, len - uni_len, &multi) : 0;
    if (!uni_len || !multi_len || uni_len + multi_len != len) {
        g_message("%s: MAC_TABLE_SET of %zu bytes does not hold two tables "
                  "exactly",
                  cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    for (uint32_t i = 0; i < multi; i++) {
        if (!(multi_data[4 + 6 * i] & 1)) {
            g_message("%s: MAC_TABLE_SET: unicast address in the multicast "
                      "table",
                      cvq->name);
            return VIRTIO_NET_ERR;
        }
    }
    s->uni_overflow = uni > CTRLVQ_MAC_TABLE_MAX;
    s->uni_count = s->uni_overflow ? 0 : uni;
    memcpy(s->uni, data + 4, s->uni_count * 6);
    s->multi_overflow = multi > CTRLVQ_MAC_TABLE_MAX;
    s->multi_count = s->multi_overflow ? 0 : multi;
    memcpy(s->multi, multi_data + 4, s->multi_count * 6);
    return VIRTIO_NET_OK;
}

/* cmd_mac_addr_set() - MAC ADDR_SET: the device's own address. */
static uint8_t cmd_mac_addr_set(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                                size_t len)
{
    static const uint8_t zero[6];

    if (len != 6 || (data[0] & 1) || !memcmp(data, zero, 6)) {
        g_message("%s: MAC_ADDR_SET: want one unicast, non-zero address",
                  cvq->name);
        return VIRTIO_NET_ERR;
    }
    if (cvq->ops.set_mac) {
        cvq->ops.set_mac(data, cvq->opaque);
    }
    memcpy(cvq->shadow.mac, data, 6);
    return VIRTIO_NET_OK;
}

/* cmd_vlan() - VLAN ADD/DEL of one id. */
static uint8_t cmd_vlan(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                        size_t len)
{
    uint16_t vid;

    if (len != 2) {
        g_message("%s: VLAN command of %zu bytes", cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    memcpy(&vid, data, 2);
    vid = le16toh(vid);
    if (vid >= CTRLVQ_VLAN_IDS) {
        g_message("%s: VLAN id %u out of range", cvq->name, vid);
        return VIRTIO_NET_ERR;
    }
    if (cmd == VIRTIO_NET_CTRL_VLAN_ADD) {
        cvq->shadow.vlans[vid / 32] |= 1u << (vid % 32);
    } else {
        cvq->shadow.vlans[vid / 32] &= ~(1u << (vid % 32));
    }
    return VIRTIO_NET_OK;
}

/* cmd_announce_ack() - ANNOUNCE ACK: the driver announced itself. */
static uint8_t cmd_announce_ack(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                                size_t len)
{
    if (len != 0) {
        g_message("%s: ANNOUNCE_ACK with %zu bytes of payload", cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    if (cvq->ops.announce_ack) {
        cvq->ops.announce_ack(cvq->opaque);
    }
    cvq->shadow.announce_acks++;
    return VIRTIO_NET_OK;
}

/**
 * le16_at() - the little-endian u16 at @p
 * Return: its value.
 */
static uint16_t le16_at(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, 2);
    return le16toh(v);
}

/**
 * le32_at() - the little-endian u32 at @p
 * Return: its value.
 */
static uint32_t le32_at(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return le32toh(v);
}

/**
 * rss_pairs() - the queue pairs an RSS configuration uses
 * @r:		the configuration
 *
 * max_tx_vq, or more if a receive queue it names is further (as QEMU
 * counts). Return: the pairs, up to 0x10000.
 */
static uint32_t rss_pairs(const CtrlvqRss *r)
{
    uint32_t pairs = MAX((uint32_t)r->max_tx_vq, r->unclassified + 1u);

    for (uint32_t i = 0; i < r->table_len && i < CTRLVQ_RSS_MAX_TABLE; i++) {
        pairs = MAX(pairs, r->table[i] + 1u);
    }
    return pairs;
}

/**
 * rss_key_check() - hash types and key of @r, as any command sets them
 * @r:		the configuration
 * @error:	set naming what is wrong
 *
 * Return: true if they are right.
 */
static bool rss_key_check(const CtrlvqRss *r, GError **error)
{
    if (r->hash_types & ~CTRLVQ_RSS_HASH_TYPES) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "hash types 0x%x not supported (0x%x are)", r->hash_types,
                    CTRLVQ_RSS_HASH_TYPES);
        return false;
    }
    if (r->key_len > CTRLVQ_RSS_MAX_KEY) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "key of %u bytes, more than %u", r->key_len,
                    CTRLVQ_RSS_MAX_KEY);
        return false;
    }
    for (unsigned int i = r->key_len; i < CTRLVQ_RSS_MAX_KEY; i++) {
        if (r->key[i]) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "key bytes past its length are not zero");
            return false;
        }
    }
    return true;
}

bool ctrlvq_rss_check(const CtrlvqRss *r, uint16_t max_pairs, GError **error)
{
    static const CtrlvqRss off;

    if (!r->enabled) {
        if (memcmp(r, &off, sizeof(off))) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "a disabled RSS configuration with settings");
            return false;
        }
        return true;
    }
    if (!rss_key_check(r, error)) {
        return false;
    }
    if (r->table_len == 0 || r->table_len > CTRLVQ_RSS_MAX_TABLE ||
        (r->table_len & (r->table_len - 1))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "indirection table of %u entries (a power of two up to "
                    "%u)",
                    r->table_len, CTRLVQ_RSS_MAX_TABLE);
        return false;
    }
    for (unsigned int i = r->table_len; i < CTRLVQ_RSS_MAX_TABLE; i++) {
        if (r->table[i]) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "indirection table entries past its length");
            return false;
        }
    }
    if (r->max_tx_vq < 1 || rss_pairs(r) > max_pairs) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "max_tx_vq %u and the receive queues named need %u queue "
                    "pairs, this device has %u",
                    r->max_tx_vq, rss_pairs(r), max_pairs);
        return false;
    }
    return true;
}

bool ctrlvq_hash_check(const CtrlvqRss *r, GError **error)
{
    CtrlvqRss keyless = *r;

    memset(keyless.key, 0, sizeof(keyless.key));
    keyless.key_len = 0;
    keyless.hash_types = 0;
    keyless.enabled = false;
    if (!ctrlvq_rss_check(&keyless, 1, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "a hash configuration with steering settings");
        return false;
    }
    if (!r->enabled) {
        return ctrlvq_rss_check(r, 1, error);
    }
    return rss_key_check(r, error);
}

/**
 * coal_pairs_in_use() - the queues of pairs past @pairs take the TX_SET and
 *			 RX_SET values
 * @s:		the shadow
 * @pairs:	the queue pairs in use from now on
 *
 * The spec gives a queue disabled and enabled again the values of TX_SET
 * or RX_SET (0 if none came): kept so while disabled, they are right
 * whenever the pair comes back.
 */
static void coal_pairs_in_use(CtrlvqShadow *s, uint16_t pairs)
{
    for (uint32_t vq = 2u * pairs; vq < G_N_ELEMENTS(s->coal_vq); vq++) {
        s->coal_vq[vq] = vq % 2 ? s->coal_tx : s->coal_rx;
    }
}

/* effective_pairs() - the queue pairs the driver may use: max or 1. */
static uint16_t effective_pairs(const Ctrlvq *cvq)
{
    return has(cvq, VIRTIO_NET_F_MQ) ? cvq->max_pairs : 1;
}

/**
 * apply_pairs_and_rss() - make the device use @pairs pairs and @rss
 * @cvq:	the state
 * @pairs:	queue pairs
 * @rss:	the steering (enabled or not)
 *
 * Either both take effect or, if the device refuses one, neither.
 * Return: true if both did.
 */
static bool apply_pairs_and_rss(Ctrlvq *cvq, uint16_t pairs,
                                const CtrlvqRss *rss)
{
    uint16_t old = cvq->shadow.queue_pairs;

    if (pairs != old && cvq->ops.set_queue_pairs &&
        !cvq->ops.set_queue_pairs(pairs, cvq->opaque)) {
        return false;
    }
    if ((rss->enabled || cvq->shadow.rss.enabled) && cvq->ops.set_rss &&
        !cvq->ops.set_rss(rss, cvq->opaque)) {
        if (pairs != old && cvq->ops.set_queue_pairs) {
            cvq->ops.set_queue_pairs(old, cvq->opaque);
        }
        return false;
    }
    return true;
}

/*
 * Bytes after the key that RSS_CONFIG and HASH_CONFIG ignore: Linux 6.15
 * and later send its trailer struct (max_tx_vq, key length, key) with
 * struct_size(), which counts the struct's padding byte too, so one byte
 * more than the key comes (seen with Linux 7.3's driver; QEMU ignores
 * bytes after the key as well).
 */
#define RSS_TRAILING_MAX 1

/*
 * cmd_rss_config() - MQ RSS_CONFIG: hash types, indirection table (mask +
 * 1 entries), unclassified queue, max_tx_vq, key, filling the payload
 * (but for RSS_TRAILING_MAX bytes). Sets the queue pairs too, as
 * VQ_PAIRS_SET would: Linux sends this instead of VQ_PAIRS_SET once RSS is
 * negotiated.
 */
static uint8_t cmd_rss_config(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                              size_t len)
{
    g_autoptr(GError) error = NULL;
    CtrlvqRss r = {.enabled = true};
    uint32_t table_len;
    size_t need;

    if (len < 8) {
        g_message("%s: RSS_CONFIG of %zu bytes", cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    r.hash_types = le32_at(data);
    table_len = le16_at(data + 4) + 1u;
    r.unclassified = le16_at(data + 6);
    if (table_len > CTRLVQ_RSS_MAX_TABLE || (table_len & (table_len - 1))) {
        g_message("%s: RSS_CONFIG: indirection table of %u entries (a power "
                  "of two up to %u)",
                  cvq->name, table_len, CTRLVQ_RSS_MAX_TABLE);
        return VIRTIO_NET_ERR;
    }
    need = 8 + 2 * (size_t)table_len + 3;
    if (len < need || len < need + data[need - 1] ||
        len > need + data[need - 1] + RSS_TRAILING_MAX) {
        g_message("%s: RSS_CONFIG of %zu bytes does not hold a table of %u "
                  "and its key exactly",
                  cvq->name, len, table_len);
        return VIRTIO_NET_ERR;
    }
    r.table_len = (uint16_t)table_len;
    for (uint32_t i = 0; i < table_len; i++) {
        r.table[i] = le16_at(data + 8 + 2 * i);
    }
    r.max_tx_vq = le16_at(data + need - 3);
    r.key_len = data[need - 1];
    if (r.key_len <= CTRLVQ_RSS_MAX_KEY) {
        memcpy(r.key, data + need, r.key_len);
    }
    if (!ctrlvq_rss_check(&r, effective_pairs(cvq), &error)) {
        g_message("%s: RSS_CONFIG: %s", cvq->name, error->message);
        return VIRTIO_NET_ERR;
    }
    if (!apply_pairs_and_rss(cvq, (uint16_t)rss_pairs(&r), &r)) {
        return VIRTIO_NET_ERR;
    }
    cvq->shadow.queue_pairs = (uint16_t)rss_pairs(&r);
    cvq->shadow.rss = r;
    coal_pairs_in_use(&cvq->shadow, cvq->shadow.queue_pairs);
    return VIRTIO_NET_OK;
}

/*
 * cmd_hash_config() - MQ HASH_CONFIG: hash types, 8 reserved bytes, key,
 * filling the payload (but for RSS_TRAILING_MAX bytes). Only what the
 * reports hash on. The reserved bytes are not looked at: Linux sends
 * RSS_CONFIG's layout without the table there, its max_tx_vq (not 0) in
 * the last two, and QEMU ignores them too.
 */
static uint8_t cmd_hash_config(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                               size_t len)
{
    g_autoptr(GError) error = NULL;
    CtrlvqRss r = {.enabled = true};

    if (len < 13 || len < 13u + data[12] ||
        len > 13u + data[12] + RSS_TRAILING_MAX) {
        g_message("%s: HASH_CONFIG of %zu bytes does not hold its key exactly",
                  cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    r.hash_types = le32_at(data);
    r.key_len = data[12];
    if (r.key_len <= CTRLVQ_RSS_MAX_KEY) {
        memcpy(r.key, data + 13, r.key_len);
    }
    if (!ctrlvq_hash_check(&r, &error)) {
        g_message("%s: HASH_CONFIG: %s", cvq->name, error->message);
        return VIRTIO_NET_ERR;
    }
    cvq->shadow.hash = r;
    return VIRTIO_NET_OK;
}

/* cmd_vq_pairs_set() - MQ VQ_PAIRS_SET: also ends RSS steering. */
static uint8_t cmd_vq_pairs_set(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                                size_t len)
{
    uint16_t pairs;

    if (len != 2) {
        g_message("%s: VQ_PAIRS_SET of %zu bytes", cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    memcpy(&pairs, data, 2);
    pairs = le16toh(pairs);
    if (pairs < 1 || pairs > cvq->max_pairs) {
        g_message("%s: VQ_PAIRS_SET %u out of range 1..%u", cvq->name, pairs,
                  cvq->max_pairs);
        return VIRTIO_NET_ERR;
    }
    if (!cvq->shadow.rss.enabled) {
        if (cvq->ops.set_queue_pairs &&
            !cvq->ops.set_queue_pairs(pairs, cvq->opaque)) {
            return VIRTIO_NET_ERR;
        }
    } else if (!apply_pairs_and_rss(cvq, pairs, &(CtrlvqRss){0})) {
        return VIRTIO_NET_ERR;
    }
    cvq->shadow.queue_pairs = pairs;
    memset(&cvq->shadow.rss, 0, sizeof(cvq->shadow.rss));
    coal_pairs_in_use(&cvq->shadow, pairs);
    return VIRTIO_NET_OK;
}

/* cmd_guest_offloads_set() - GUEST_OFFLOADS SET. */
static uint8_t cmd_guest_offloads_set(Ctrlvq *cvq, uint8_t cmd,
                                      const uint8_t *data, size_t len)
{
    uint64_t offloads;

    if (len != 8) {
        g_message("%s: GUEST_OFFLOADS_SET of %zu bytes", cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    memcpy(&offloads, data, 8);
    offloads = le64toh(offloads);
    if (offloads & ~(cvq->features & GUEST_OFFLOAD_BITS)) {
        g_message("%s: GUEST_OFFLOADS_SET 0x%" G_GINT64_MODIFIER
                  "x names offloads not negotiated",
                  cvq->name, offloads);
        return VIRTIO_NET_ERR;
    }
    if (cvq->ops.set_guest_offloads &&
        !cvq->ops.set_guest_offloads(offloads, cvq->opaque)) {
        return VIRTIO_NET_ERR;
    }
    cvq->shadow.guest_offloads = offloads;
    return VIRTIO_NET_OK;
}

/* Sizes of the statistics replies (virtio 1.3 5.1.6.5.11). */
#define STATS_HDR_LEN 8
#define STATS_BASIC_LEN (STATS_HDR_LEN + 6 * 8)
#define STATS_CVQ_LEN (STATS_HDR_LEN + 2 * 8)
/* One entry of STATS_GET: vq_index, 3 reserved le16, types_bitmap. */
#define STATS_REQ_LEN 16
/* The type bits of each kind of queue. */
#define STATS_RX_TYPES 0x000000000000ffffull
#define STATS_TX_TYPES 0x00000000ffff0000ull
#define STATS_CVQ_TYPES 0x0000ffff00000000ull

/**
 * stats_supported() - the statistics types this device answers
 * @cvq:	the state
 *
 * Return: VIRTIO_NET_STATS_TYPE_* bits.
 */
static uint64_t stats_supported(const Ctrlvq *cvq)
{
    uint64_t types = VIRTIO_NET_STATS_TYPE_CVQ;

    if (cvq->ops.get_queue_stats) {
        types |=
            VIRTIO_NET_STATS_TYPE_RX_BASIC | VIRTIO_NET_STATS_TYPE_TX_BASIC;
    }
    return types;
}

/**
 * put_le64() - append @v to the result, little-endian
 * @cvq:	the state; the caller checked the room
 * @v:		the value
 */
static void put_le64(Ctrlvq *cvq, uint64_t v)
{
    v = htole64(v);
    memcpy(cvq->result + cvq->result_len, &v, 8);
    cvq->result_len += 8;
}

/**
 * put_stats_hdr() - append a virtio_net_stats_reply_hdr to the result
 * @cvq:	the state; the caller checked the room
 * @type:	VIRTIO_NET_STATS_TYPE_REPLY_*
 * @vq:		the queue
 * @size:	the size of the whole reply, header included
 */
static void put_stats_hdr(Ctrlvq *cvq, uint8_t type, uint16_t vq, uint16_t size)
{
    uint8_t *h = cvq->result + cvq->result_len;
    uint16_t le;

    memset(h, 0, STATS_HDR_LEN);
    h[0] = type;
    le = htole16(vq);
    memcpy(h + 2, &le, 2);
    le = htole16(size);
    memcpy(h + 6, &le, 2);
    cvq->result_len += STATS_HDR_LEN;
}

/* cmd_stats_query() - STATS QUERY: the types the device can report. */
static uint8_t cmd_stats_query(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                               size_t len)
{
    if (len != 0) {
        g_message("%s: STATS_QUERY with %zu bytes of payload", cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    if (cvq->result_max < 8) {
        g_message("%s: STATS_QUERY: %zu bytes for the result, 8 needed",
                  cvq->name, cvq->result_max);
        return VIRTIO_NET_ERR;
    }
    put_le64(cvq, stats_supported(cvq));
    return VIRTIO_NET_OK;
}

/**
 * stats_request() - read and check entry @i of a STATS_GET
 * @cvq:	the state
 * @data:	the payload
 * @i:		entry index
 * @vq:		receives its vq_index
 * @types:	receives its types_bitmap
 *
 * Return: the bytes its replies take, or 0 if the entry is refused.
 */
static size_t stats_request(const Ctrlvq *cvq, const uint8_t *data, size_t i,
                            uint16_t *vq, uint64_t *types)
{
    const uint8_t *e = data + i * STATS_REQ_LEN;
    uint16_t pairs = has(cvq, VIRTIO_NET_F_MQ) ? cvq->max_pairs : 1;
    static const uint8_t zero[6];
    uint64_t allowed;

    memcpy(vq, e, 2);
    *vq = le16toh(*vq);
    memcpy(types, e + 8, 8);
    *types = le64toh(*types);
    if (memcmp(e + 2, zero, 6)) {
        g_message("%s: STATS_GET entry %zu: reserved bytes not zero", cvq->name,
                  i);
        return 0;
    }
    if (*vq == 2u * pairs) {
        allowed = STATS_CVQ_TYPES;
    } else if (*vq < 2u * pairs) {
        allowed = *vq % 2 ? STATS_TX_TYPES : STATS_RX_TYPES;
    } else {
        g_message("%s: STATS_GET entry %zu: vq %u out of range 0..%u",
                  cvq->name, i, *vq, 2u * pairs);
        return 0;
    }
    if (!*types || (*types & ~(allowed & stats_supported(cvq)))) {
        g_message("%s: STATS_GET entry %zu: types 0x%" G_GINT64_MODIFIER
                  "x not all supported for vq %u (0x%" G_GINT64_MODIFIER "x)",
                  cvq->name, i, (guint64)*types, *vq,
                  (guint64)(allowed & stats_supported(cvq)));
        return 0;
    }
    return (*types & VIRTIO_NET_STATS_TYPE_CVQ ? STATS_CVQ_LEN : 0) +
           (*types & STATS_RX_TYPES ? STATS_BASIC_LEN : 0) +
           (*types & STATS_TX_TYPES ? STATS_BASIC_LEN : 0);
}

/**
 * put_queue_stats() - append the BASIC reply of data vq @vq
 * @cvq:	the state; the caller checked the room
 * @vq:		the queue (even: RX, odd: TX)
 */
static void put_queue_stats(Ctrlvq *cvq, uint16_t vq)
{
    CtrlvqQueueStats st = {0};

    cvq->ops.get_queue_stats(vq, &st, cvq->opaque);
    put_stats_hdr(cvq,
                  vq % 2 ? VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC
                         : VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC,
                  vq, STATS_BASIC_LEN);
    put_le64(cvq, st.notifications);
    put_le64(cvq, st.packets);
    put_le64(cvq, st.bytes);
    put_le64(cvq, st.interrupts);
    put_le64(cvq, st.drops);
    put_le64(cvq, st.drops_kind);
}

/*
 * cmd_stats_get() - STATS GET: one or more (vq, types) entries, answered in
 * their order, each type in ascending order; refused whole if one entry is
 * wrong or the replies do not fit.
 */
static uint8_t cmd_stats_get(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                             size_t len)
{
    size_t n = len / STATS_REQ_LEN, need = 0;
    uint16_t vq;
    uint64_t types;

    if (len == 0 || len % STATS_REQ_LEN) {
        g_message("%s: STATS_GET of %zu bytes is not whole 16-byte entries",
                  cvq->name, len);
        return VIRTIO_NET_ERR;
    }
    for (size_t i = 0; i < n; i++) {
        size_t size = stats_request(cvq, data, i, &vq, &types);

        if (!size) {
            return VIRTIO_NET_ERR;
        }
        need += size;
    }
    if (need > cvq->result_max) {
        g_message("%s: STATS_GET: %zu bytes for the result, %zu needed",
                  cvq->name, cvq->result_max, need);
        return VIRTIO_NET_ERR;
    }
    for (size_t i = 0; i < n; i++) {
        stats_request(cvq, data, i, &vq, &types);
        /* Ascending type order: RX or TX (bits 0..31), then CVQ (32). */
        if (types & (STATS_RX_TYPES | STATS_TX_TYPES)) {
            put_queue_stats(cvq, vq);
        }
        if (types & VIRTIO_NET_STATS_TYPE_CVQ) {
            put_stats_hdr(cvq, VIRTIO_NET_STATS_TYPE_REPLY_CVQ, vq,
                          STATS_CVQ_LEN);
            /* The commands before this one. */
            put_le64(cvq, cvq->seen - 1);
            put_le64(cvq, cvq->ok);
        }
    }
    return VIRTIO_NET_OK;
}

/**
 * coal_at() - a struct virtio_net_ctrl_coal at @p
 * @p:		8 bytes: le32 max_packets, le32 max_usecs
 *
 * Return: its values.
 */
static CtrlvqCoal coal_at(const uint8_t *p)
{
    return (CtrlvqCoal){.max_packets = le32_at(p), .max_usecs = le32_at(p + 4)};
}

/*
 * cmd_coal_set() - NOTF_COAL TX_SET or RX_SET: a struct virtio_net_ctrl_coal
 * for every queue of that kind, in use or not.
 */
static uint8_t cmd_coal_set(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                            size_t len)
{
    bool tx = cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET;
    CtrlvqShadow *s = &cvq->shadow;
    CtrlvqCoal c;

    if (len != 8) {
        g_message("%s: NOTF_COAL_%s_SET of %zu bytes (8 expected)", cvq->name,
                  tx ? "TX" : "RX", len);
        return VIRTIO_NET_ERR;
    }
    c = coal_at(data);
    *(tx ? &s->coal_tx : &s->coal_rx) = c;
    for (uint32_t vq = tx ? 1 : 0; vq < G_N_ELEMENTS(s->coal_vq); vq += 2) {
        s->coal_vq[vq] = c;
    }
    return VIRTIO_NET_OK;
}

/**
 * coal_vq_index() - the vq_index of a NOTF_COAL VQ_SET or VQ_GET, checked
 * @cvq:	the state
 * @data:	the payload, at least 2 bytes
 * @what:	"VQ_SET" or "VQ_GET", for the log line
 * @vq:		receives the index
 *
 * Only the RX and TX queues of the pairs in use are "enabled transmit or
 * receive virtqueues"; the spec has the device answer VIRTIO_NET_ERR for
 * any other. The reserved field that follows is ignored, as it says too.
 * Return: true if the queue is one of them.
 */
static bool coal_vq_index(const Ctrlvq *cvq, const uint8_t *data,
                          const char *what, uint16_t *vq)
{
    uint32_t data_vqs = 2u * effective_pairs(cvq);

    *vq = le16_at(data);
    if (*vq == data_vqs) {
        g_message("%s: NOTF_COAL_%s: vq %u is the control queue", cvq->name,
                  what, *vq);
        return false;
    }
    if (*vq > data_vqs) {
        g_message("%s: NOTF_COAL_%s: vq %u out of range 0..%u", cvq->name, what,
                  *vq, data_vqs - 1);
        return false;
    }
    if (*vq >= 2u * cvq->shadow.queue_pairs) {
        g_message("%s: NOTF_COAL_%s: vq %u is of queue pair %u, not enabled "
                  "(%u in use)",
                  cvq->name, what, *vq, *vq / 2, cvq->shadow.queue_pairs);
        return false;
    }
    return true;
}

/* cmd_coal_vq_set() - NOTF_COAL VQ_SET: a struct virtio_net_ctrl_coal_vq. */
static uint8_t cmd_coal_vq_set(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                               size_t len)
{
    uint16_t vq;

    if (len != 12) {
        g_message("%s: NOTF_COAL_VQ_SET of %zu bytes (12 expected)", cvq->name,
                  len);
        return VIRTIO_NET_ERR;
    }
    if (!coal_vq_index(cvq, data, "VQ_SET", &vq)) {
        return VIRTIO_NET_ERR;
    }
    cvq->shadow.coal_vq[vq] = coal_at(data + 4);
    return VIRTIO_NET_OK;
}

/**
 * put_le32() - append @v to the result, little-endian
 * @cvq:	the state; the caller checked the room
 * @v:		the value
 */
static void put_le32(Ctrlvq *cvq, uint32_t v)
{
    v = htole32(v);
    memcpy(cvq->result + cvq->result_len, &v, 4);
    cvq->result_len += 4;
}

/*
 * cmd_coal_vq_get() - NOTF_COAL VQ_GET: vq_index and reserved from the
 * driver, the queue's struct virtio_net_ctrl_coal written after the status.
 */
static uint8_t cmd_coal_vq_get(Ctrlvq *cvq, uint8_t cmd, const uint8_t *data,
                               size_t len)
{
    uint16_t vq;

    if (len != 4) {
        g_message("%s: NOTF_COAL_VQ_GET of %zu bytes (4 expected)", cvq->name,
                  len);
        return VIRTIO_NET_ERR;
    }
    if (!coal_vq_index(cvq, data, "VQ_GET", &vq)) {
        return VIRTIO_NET_ERR;
    }
    if (cvq->result_max < 8) {
        g_message("%s: NOTF_COAL_VQ_GET: %zu bytes for the result, 8 needed",
                  cvq->name, cvq->result_max);
        return VIRTIO_NET_ERR;
    }
    put_le32(cvq, cvq->shadow.coal_vq[vq].max_packets);
    put_le32(cvq, cvq->shadow.coal_vq[vq].max_usecs);
    return VIRTIO_NET_OK;
}

static const CmdEntry commands[] = {
    {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, VIRTIO_NET_F_CTRL_RX,
     "rx-promisc", cmd_rx_mode, false},
    {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, VIRTIO_NET_F_CTRL_RX,
     "rx-allmulti", cmd_rx_mode, false},
    {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLUNI, VIRTIO_NET_F_CTRL_RX_EXTRA,
     "rx-alluni", cmd_rx_mode, false},
    {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOMULTI, VIRTIO_NET_F_CTRL_RX_EXTRA,
     "rx-nomulti", cmd_rx_mode, false},
    {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOUNI, VIRTIO_NET_F_CTRL_RX_EXTRA,
     "rx-nouni", cmd_rx_mode, false},
    {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST, VIRTIO_NET_F_CTRL_RX_EXTRA,
     "rx-nobcast", cmd_rx_mode, false},
    {VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, VIRTIO_NET_F_CTRL_RX,
     "mac-table-set", cmd_mac_table_set, false},
    {VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
     VIRTIO_NET_F_CTRL_MAC_ADDR, "mac-addr-set", cmd_mac_addr_set, false},
    {VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, VIRTIO_NET_F_CTRL_VLAN,
     "vlan-add", cmd_vlan, false},
    {VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_DEL, VIRTIO_NET_F_CTRL_VLAN,
     "vlan-del", cmd_vlan, false},
    {VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK,
     VIRTIO_NET_F_GUEST_ANNOUNCE, "announce-ack", cmd_announce_ack, false},
    {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, VIRTIO_NET_F_MQ,
     "vq-pairs-set", cmd_vq_pairs_set, false},
    {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, VIRTIO_NET_F_RSS,
     "rss-config", cmd_rss_config, false},
    {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG,
     VIRTIO_NET_F_HASH_REPORT, "hash-config", cmd_hash_config, false},
    {VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
     VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, "guest-offloads-set",
     cmd_guest_offloads_set, false},
    {VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET,
     VIRTIO_NET_F_NOTF_COAL, "notf-coal-tx-set", cmd_coal_set, false},
    {VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_RX_SET,
     VIRTIO_NET_F_NOTF_COAL, "notf-coal-rx-set", cmd_coal_set, false},
    {VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET,
     VIRTIO_NET_F_VQ_NOTF_COAL, "notf-coal-vq-set", cmd_coal_vq_set, false},
    {VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET,
     VIRTIO_NET_F_VQ_NOTF_COAL, "notf-coal-vq-get", cmd_coal_vq_get, true},
    {VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_STATS_QUERY,
     VIRTIO_NET_F_DEVICE_STATS, "stats-query", cmd_stats_query, true},
    {VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_STATS_GET,
     VIRTIO_NET_F_DEVICE_STATS, "stats-get", cmd_stats_get, true},
};

uint8_t ctrlvq_execute(Ctrlvq *cvq, const uint8_t *cmd, size_t len)
{
    size_t result_len;

    return ctrlvq_execute_reply(cvq, cmd, len, NULL, 0, &result_len);
}

uint8_t ctrlvq_execute_reply(Ctrlvq *cvq, const uint8_t *cmd, size_t len,
                             uint8_t *result, size_t result_max,
                             size_t *result_len)
{
    const CmdEntry *entry = NULL;
    uint8_t status;

    *result_len = 0;

    cvq->seen++;
    if (len < sizeof(struct virtio_net_ctrl_hdr)) {
        g_message("%s: control command of %zu bytes has no header", cvq->name,
                  len);
        return VIRTIO_NET_ERR;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (commands[i].class == cmd[0] && commands[i].cmd == cmd[1]) {
            entry = &commands[i];
            break;
        }
    }
    if (!entry) {
        g_message("%s: unknown control command class %u command %u", cvq->name,
                  cmd[0], cmd[1]);
        return VIRTIO_NET_ERR;
    }
    if (!has(cvq, entry->feature)) {
        g_message("%s: %s without its feature (bit %u) negotiated", cvq->name,
                  entry->name, entry->feature);
        return VIRTIO_NET_ERR;
    }
    cvq->result = result;
    cvq->result_max = result ? result_max : 0;
    cvq->result_len = 0;
    status = entry->fn(cvq, cmd[1], cmd + 2, len - 2);
    cvq->result = NULL;
    if (status == VIRTIO_NET_OK) {
        g_debug("%s: %s accepted", cvq->name, entry->name);
        cvq->ok++;
        *result_len = cvq->result_len;
        if (cvq->ops.changed && !entry->query) {
            cvq->ops.changed(&cvq->shadow, entry->name, cvq->opaque);
        }
    }
    return status;
}

const CtrlvqShadow *ctrlvq_shadow(const Ctrlvq *cvq)
{
    return &cvq->shadow;
}

uint64_t ctrlvq_commands_seen(const Ctrlvq *cvq)
{
    return cvq->seen;
}

uint64_t ctrlvq_commands_ok(const Ctrlvq *cvq)
{
    return cvq->ok;
}

bool ctrlvq_vlan_is_set(const CtrlvqShadow *shadow, uint16_t vid)
{
    return vid < CTRLVQ_VLAN_IDS &&
           (shadow->vlans[vid / 32] & (1u << (vid % 32)));
}

/**
 * table_has() - whether @mac is one of the @n entries of @table
 * @table:	the table
 * @n:		its entries
 * @mac:	the address
 *
 * Return: true if found.
 */
static bool table_has(const uint8_t (*table)[6], uint32_t n,
                      const uint8_t mac[6])
{
    for (uint32_t i = 0; i < n && i < CTRLVQ_MAC_TABLE_MAX; i++) {
        if (!memcmp(table[i], mac, 6)) {
            return true;
        }
    }
    return false;
}

bool ctrlvq_filter_accepts(const CtrlvqShadow *s, const uint8_t dst[6],
                           int vlan, bool vlan_filter)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    if (s->promisc) {
        return true;
    }
    if (vlan >= 0 && vlan_filter && !ctrlvq_vlan_is_set(s, (uint16_t)vlan)) {
        return false;
    }
    if (dst[0] & 1) {
        if (!memcmp(dst, bcast, 6)) {
            return !s->nobcast;
        }
        if (s->nomulti) {
            return false;
        }
        return s->allmulti || s->multi_overflow ||
               table_has(s->multi, s->multi_count, dst);
    }
    if (s->nouni) {
        return false;
    }
    return s->alluni || s->uni_overflow || !memcmp(dst, s->mac, 6) ||
           table_has(s->uni, s->uni_count, dst);
}

/**
 * coal_equal() - whether two coalescing settings are the same
 * Return: true if equal.
 */
static bool coal_equal(const CtrlvqCoal *a, const CtrlvqCoal *b)
{
    return a->max_packets == b->max_packets && a->max_usecs == b->max_usecs;
}

bool ctrlvq_coal_check(const CtrlvqShadow *s, uint64_t features, GError **error)
{
    static const CtrlvqCoal none;
    bool all = features & (1ull << VIRTIO_NET_F_NOTF_COAL);
    bool per_vq = features & (1ull << VIRTIO_NET_F_VQ_NOTF_COAL);

    if (!all &&
        !(coal_equal(&s->coal_tx, &none) && coal_equal(&s->coal_rx, &none))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "TX or RX coalescing, and NOTF_COAL was not negotiated");
        return false;
    }
    for (uint32_t vq = 0; vq < G_N_ELEMENTS(s->coal_vq); vq++) {
        const CtrlvqCoal *kind = vq % 2 ? &s->coal_tx : &s->coal_rx;

        if (coal_equal(&s->coal_vq[vq], kind)) {
            continue;
        }
        if (vq >= 2u * s->queue_pairs) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "vq %u of a queue pair not in use has coalescing "
                        "other than that of its kind",
                        vq);
            return false;
        }
        if (!per_vq) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        "coalescing of vq %u on its own, and VQ_NOTF_COAL "
                        "was not negotiated",
                        vq);
            return false;
        }
    }
    return true;
}

bool ctrlvq_restore(Ctrlvq *cvq, uint64_t features, const CtrlvqShadow *s,
                    GError **error)
{
    uint16_t max = (features & (1ull << VIRTIO_NET_F_MQ)) ? cvq->max_pairs : 1;

    ctrlvq_reset(cvq, features);
    if (s->queue_pairs < 1 || s->queue_pairs > max) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%u queue pairs, this device has %u", s->queue_pairs, max);
        return false;
    }
    if (s->guest_offloads & ~(features & GUEST_OFFLOAD_BITS)) {
        g_set_error(
            error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
            "guest offloads 0x%" G_GINT64_MODIFIER "x were not negotiated",
            (guint64)(s->guest_offloads & ~(features & GUEST_OFFLOAD_BITS)));
        return false;
    }
    if (s->rss.enabled && !(features & (1ull << VIRTIO_NET_F_RSS))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "an RSS configuration, and RSS was not negotiated");
        return false;
    }
    if (s->hash.enabled && !(features & (1ull << VIRTIO_NET_F_HASH_REPORT))) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "a hash configuration, and HASH_REPORT was not "
                    "negotiated");
        return false;
    }
    if (!ctrlvq_rss_check(&s->rss, max, error) ||
        !ctrlvq_hash_check(&s->hash, error) ||
        !ctrlvq_coal_check(s, features, error)) {
        return false;
    }
    /* RSS_CONFIG set the pairs it uses; a VQ_PAIRS_SET after it ended it. */
    if (s->rss.enabled && rss_pairs(&s->rss) != s->queue_pairs) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "RSS uses %u queue pairs, the shadow says %u",
                    rss_pairs(&s->rss), s->queue_pairs);
        return false;
    }
    if (!apply_pairs_and_rss(cvq, s->queue_pairs, &s->rss)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the device refused %u queue pairs%s", s->queue_pairs,
                    s->rss.enabled ? " with RSS" : "");
        return false;
    }
    if (cvq->ops.set_guest_offloads &&
        s->guest_offloads != (features & GUEST_OFFLOAD_BITS) &&
        !cvq->ops.set_guest_offloads(s->guest_offloads, cvq->opaque)) {
        /* Back to the reset state the header promises: one pair, no
         * steering. */
        if (s->rss.enabled && cvq->ops.set_rss) {
            cvq->ops.set_rss(&(CtrlvqRss){0}, cvq->opaque);
        }
        if (cvq->ops.set_queue_pairs && s->queue_pairs != 1) {
            cvq->ops.set_queue_pairs(1, cvq->opaque);
        }
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the device refused the guest offloads");
        return false;
    }
    if (cvq->ops.set_mac && memcmp(s->mac, cvq->shadow.mac, 6)) {
        cvq->ops.set_mac(s->mac, cvq->opaque);
    }
    cvq->shadow = *s;
    if (cvq->ops.changed) {
        cvq->ops.changed(&cvq->shadow, "restore", cvq->opaque);
    }
    return true;
}
