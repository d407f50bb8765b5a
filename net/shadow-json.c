/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shadow-json.c - the control-queue shadow as JSON, both ways
 *
 * The JSON form is the "shadow" member of the migration state
 * (docs/migration.md) and the data of SHADOW_CHANGED events: what
 * net_shadow_to_json() writes, net_shadow_read() reads back exactly, and
 * refuses anything the control queue itself would have refused, naming
 * the member.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "net-priv.h"

/**
 * add_mac_list() - a JSON array of the @n addresses of @table
 * @b:		the builder, inside an object
 * @key:	the member name
 * @table:	the addresses
 * @n:		how many
 */
static void add_mac_list(JsonBuilder *b, const char *key,
                         const uint8_t (*table)[6], uint32_t n)
{
    json_builder_set_member_name(b, key);
    json_builder_begin_array(b);
    for (uint32_t i = 0; i < n && i < CTRLVQ_MAC_TABLE_MAX; i++) {
        g_autofree char *mac = mac_format(table[i]);

        json_builder_add_string_value(b, mac);
    }
    json_builder_end_array(b);
}

/**
 * add_rss() - an RSS or hash configuration as a JSON object member
 * @b:		the builder, inside an object
 * @key:	"rss" or "hash-config"
 * @r:		the configuration
 * @steering:	with the members only RSS_CONFIG sets
 */
static void add_rss(JsonBuilder *b, const char *key, const CtrlvqRss *r,
                    bool steering)
{
    g_autofree char *hex = g_malloc(2 * CTRLVQ_RSS_MAX_KEY + 1);

    for (unsigned int i = 0; i < r->key_len && i < CTRLVQ_RSS_MAX_KEY; i++) {
        g_snprintf(hex + 2 * i, 3, "%02x", r->key[i]);
    }
    hex[2 * MIN(r->key_len, CTRLVQ_RSS_MAX_KEY)] = 0;
    json_builder_set_member_name(b, key);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "enabled");
    json_builder_add_boolean_value(b, r->enabled);
    json_builder_set_member_name(b, "hash-types");
    json_builder_add_int_value(b, r->hash_types);
    if (steering) {
        json_builder_set_member_name(b, "indirection-table");
        json_builder_begin_array(b);
        for (unsigned int i = 0; i < r->table_len && i < CTRLVQ_RSS_MAX_TABLE;
             i++) {
            json_builder_add_int_value(b, r->table[i]);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "unclassified-queue");
        json_builder_add_int_value(b, r->unclassified);
        json_builder_set_member_name(b, "max-tx-vq");
        json_builder_add_int_value(b, r->max_tx_vq);
    }
    json_builder_set_member_name(b, "key");
    json_builder_add_string_value(b, hex);
    json_builder_end_object(b);
}

/**
 * add_coal() - one coalescing setting as a JSON object
 * @b:		the builder, where a value goes
 * @c:		the setting
 */
static void add_coal(JsonBuilder *b, const CtrlvqCoal *c)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "max-packets");
    json_builder_add_int_value(b, c->max_packets);
    json_builder_set_member_name(b, "max-usecs");
    json_builder_add_int_value(b, c->max_usecs);
    json_builder_end_object(b);
}

/**
 * add_notf_coal() - the "notf-coal" member: TX_SET, RX_SET, and per data
 * vq of the pairs in use (those of the others are TX_SET's and RX_SET's)
 * @b:		the builder, inside the shadow object
 * @s:		the shadow
 */
static void add_notf_coal(JsonBuilder *b, const CtrlvqShadow *s)
{
    uint32_t vqs = MIN(2u * s->queue_pairs, G_N_ELEMENTS(s->coal_vq));

    json_builder_set_member_name(b, "notf-coal");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "tx");
    add_coal(b, &s->coal_tx);
    json_builder_set_member_name(b, "rx");
    add_coal(b, &s->coal_rx);
    json_builder_set_member_name(b, "vqs");
    json_builder_begin_array(b);
    for (uint32_t vq = 0; vq < vqs; vq++) {
        add_coal(b, &s->coal_vq[vq]);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

JsonNode *net_shadow_to_json(const CtrlvqShadow *s)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *mac = mac_format(s->mac);
    const struct {
        const char *name;
        bool on;
    } modes[] = {
        {"promisc", s->promisc}, {"allmulti", s->allmulti},
        {"alluni", s->alluni},   {"nomulti", s->nomulti},
        {"nouni", s->nouni},     {"nobcast", s->nobcast},
    };

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "mac");
    json_builder_add_string_value(b, mac);
    json_builder_set_member_name(b, "rx-mode");
    json_builder_begin_object(b);
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        json_builder_set_member_name(b, modes[i].name);
        json_builder_add_boolean_value(b, modes[i].on);
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "mac-table");
    json_builder_begin_object(b);
    add_mac_list(b, "unicast", s->uni, s->uni_count);
    json_builder_set_member_name(b, "unicast-overflow");
    json_builder_add_boolean_value(b, s->uni_overflow);
    add_mac_list(b, "multicast", s->multi, s->multi_count);
    json_builder_set_member_name(b, "multicast-overflow");
    json_builder_add_boolean_value(b, s->multi_overflow);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "vlans");
    json_builder_begin_array(b);
    /* By words of the bitmap, lowest id first: most words are empty. */
    for (unsigned int w = 0; w < G_N_ELEMENTS(s->vlans); w++) {
        for (uint32_t bits = s->vlans[w]; bits; bits &= bits - 1) {
            json_builder_add_int_value(b, w * 32 + __builtin_ctz(bits));
        }
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "queue-pairs");
    json_builder_add_int_value(b, s->queue_pairs);
    json_builder_set_member_name(b, "guest-offloads");
    json_builder_add_int_value(b, (gint64)s->guest_offloads);
    json_builder_set_member_name(b, "announce-acks");
    json_builder_add_int_value(b, (gint64)s->announce_acks);
    add_rss(b, "rss", &s->rss, true);
    add_rss(b, "hash-config", &s->hash, false);
    add_notf_coal(b, s);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/**
 * read_mac_table() - a MAC table member of "mac-table" into @table
 * @in:		the reader
 * @t:		the "mac-table" object
 * @key:	"unicast" or "multicast"
 * @table:	CTRLVQ_MAC_TABLE_MAX entries
 * @multicast:	every entry must be a multicast address, as MAC_TABLE_SET
 *		demands of the multicast table
 *
 * Return: the number of entries read.
 */
static uint32_t read_mac_table(JsonIn *in, JsonObject *t, const char *key,
                               uint8_t (*table)[6], bool multicast)
{
    JsonArray *a = json_in_array(in, t, key, CTRLVQ_MAC_TABLE_MAX);
    guint n = a ? json_array_get_length(a) : 0;

    for (guint i = 0; i < n; i++) {
        if (!json_in_mac_at(in, a, i, key, table[i])) {
            return 0;
        }
        if (multicast && !(table[i][0] & 1)) {
            json_in_fail(in, key,
                         "a list of multicast addresses (entry %u is a "
                         "unicast address)",
                         i);
            return 0;
        }
    }
    return n;
}

/**
 * read_rss() - an RSS or hash configuration add_rss() wrote
 * @in:		the reader
 * @o:		the shadow object
 * @key:	"rss" or "hash-config"; absent (a document from before they
 *		were kept) reads as disabled
 * @r:		filled in
 * @steering:	with the members only RSS_CONFIG sets
 *
 * The configuration must be one the command could have set.
 */
static void read_rss(JsonIn *in, JsonObject *o, const char *key, CtrlvqRss *r,
                     bool steering)
{
    g_autoptr(GError) error = NULL;
    const char *where = in->where;
    JsonObject *c;
    const char *hex;
    size_t n;

    memset(r, 0, sizeof(*r));
    if (!o || !json_object_has_member(o, key)) {
        return;
    }
    c = json_in_object(in, o, key);
    in->where = steering ? "shadow.rss" : "shadow.hash-config";
    r->enabled = json_in_bool(in, c, "enabled");
    r->hash_types = (uint32_t)json_in_uint(in, c, "hash-types", 0, G_MAXUINT32);
    if (steering) {
        JsonArray *t =
            json_in_array(in, c, "indirection-table", CTRLVQ_RSS_MAX_TABLE);

        r->table_len = t ? (uint16_t)json_array_get_length(t) : 0;
        for (guint i = 0; i < r->table_len; i++) {
            r->table[i] = (uint16_t)json_in_uint_at(
                in, t, i, "indirection-table", 0x7fff);
        }
        r->unclassified =
            (uint16_t)json_in_uint(in, c, "unclassified-queue", 0, 0x7fff);
        r->max_tx_vq = (uint16_t)json_in_uint(in, c, "max-tx-vq", 0, 0x8000);
    }
    hex = json_in_string(in, c, "key", "a key in hex");
    n = hex ? strlen(hex) : 0;
    if (hex && (n % 2 || n > 2 * CTRLVQ_RSS_MAX_KEY)) {
        json_in_fail(in, "key", "an even number of hex digits, at most %d",
                     2 * CTRLVQ_RSS_MAX_KEY);
    }
    for (size_t i = 0; hex && !in->error && i < n / 2; i++) {
        int hi = g_ascii_xdigit_value(hex[2 * i]);
        int lo = g_ascii_xdigit_value(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            json_in_fail(in, "key", "hex digits");
            break;
        }
        r->key[i] = (uint8_t)(hi << 4 | lo);
    }
    r->key_len = (uint8_t)(n / 2);
    in->where = where;
    if (!in->error && !(steering ? ctrlvq_rss_check(r, 0x8000, &error)
                                 : ctrlvq_hash_check(r, &error))) {
        json_in_fail(in, key, "a configuration the command could set (%s)",
                     error->message);
    }
}

/**
 * read_coal() - a coalescing object add_coal() wrote
 * @in:		the reader
 * @c:		the object, or NULL (an earlier failure)
 * @out:	filled in
 */
static void read_coal(JsonIn *in, JsonObject *c, CtrlvqCoal *out)
{
    out->max_packets =
        (uint32_t)json_in_uint(in, c, "max-packets", 0, G_MAXUINT32);
    out->max_usecs = (uint32_t)json_in_uint(in, c, "max-usecs", 0, G_MAXUINT32);
}

/**
 * read_notf_coal() - the "notf-coal" member add_notf_coal() wrote
 * @in:		the reader
 * @o:		the shadow object
 * @s:		the shadow, its queue pairs read; its coalescing filled in
 *
 * Absent (a document from before it was kept) reads as no coalescing.
 * "vqs" must have an entry for each data vq of the pairs in use; the
 * others get the "tx" and "rx" values, as the device keeps them.
 */
static void read_notf_coal(JsonIn *in, JsonObject *o, CtrlvqShadow *s)
{
    const char *where = in->where;
    JsonObject *c;
    JsonArray *vqs;
    guint n;

    if (!o || !json_object_has_member(o, "notf-coal")) {
        return;
    }
    c = json_in_object(in, o, "notf-coal");
    in->where = "shadow.notf-coal";
    read_coal(in, json_in_object(in, c, "tx"), &s->coal_tx);
    read_coal(in, json_in_object(in, c, "rx"), &s->coal_rx);
    vqs = json_in_array(in, c, "vqs", G_N_ELEMENTS(s->coal_vq));
    n = vqs ? json_array_get_length(vqs) : 0;
    if (vqs && n != 2u * s->queue_pairs) {
        json_in_fail(in, "vqs",
                     "an array of one entry per data vq of the %u queue "
                     "pairs in use",
                     s->queue_pairs);
    }
    for (guint vq = 0; vq < G_N_ELEMENTS(s->coal_vq); vq++) {
        JsonNode *e = vq < n ? json_array_get_element(vqs, vq) : NULL;

        if (in->error) {
            break;
        }
        if (vq >= n) {
            s->coal_vq[vq] = vq % 2 ? s->coal_tx : s->coal_rx;
        } else if (!JSON_NODE_HOLDS_OBJECT(e)) {
            json_in_fail(in, "vqs", "an array of objects");
        } else {
            in->where = "shadow.notf-coal.vqs[]";
            read_coal(in, json_node_get_object(e), &s->coal_vq[vq]);
            in->where = "shadow.notf-coal";
        }
    }
    in->where = where;
}

bool net_shadow_read(JsonIn *in, JsonObject *o, uint16_t max_pairs,
                     CtrlvqShadow *out)
{
    const char *where = in->where;
    CtrlvqShadow s = {0};
    JsonObject *m, *t;
    JsonArray *vlans;

    in->where = "shadow";
    json_in_mac(in, o, "mac", s.mac);
    m = json_in_object(in, o, "rx-mode");
    t = json_in_object(in, o, "mac-table");
    vlans = json_in_array(in, o, "vlans", CTRLVQ_VLAN_IDS);
    for (guint i = 0; vlans && i < json_array_get_length(vlans); i++) {
        uint16_t vid = (uint16_t)json_in_uint_at(in, vlans, i, "vlans",
                                                 CTRLVQ_VLAN_IDS - 1);

        s.vlans[vid / 32] |= 1u << (vid % 32);
    }
    /* VQ_PAIRS_SET refuses more pairs than the device has. */
    s.queue_pairs =
        (uint16_t)json_in_uint(in, o, "queue-pairs", 1, MAX(max_pairs, 1));
    s.guest_offloads = json_in_uint(in, o, "guest-offloads", 0, G_MAXINT64);
    s.announce_acks = json_in_uint(in, o, "announce-acks", 0, G_MAXINT64);

    in->where = "shadow.rx-mode";
    s.promisc = json_in_bool(in, m, "promisc");
    s.allmulti = json_in_bool(in, m, "allmulti");
    s.alluni = json_in_bool(in, m, "alluni");
    s.nomulti = json_in_bool(in, m, "nomulti");
    s.nouni = json_in_bool(in, m, "nouni");
    s.nobcast = json_in_bool(in, m, "nobcast");

    in->where = "shadow.mac-table";
    s.uni_count = read_mac_table(in, t, "unicast", s.uni, false);
    s.uni_overflow = json_in_bool(in, t, "unicast-overflow");
    s.multi_count = read_mac_table(in, t, "multicast", s.multi, true);
    s.multi_overflow = json_in_bool(in, t, "multicast-overflow");
    in->where = "shadow";
    read_rss(in, o, "rss", &s.rss, true);
    read_rss(in, o, "hash-config", &s.hash, false);
    read_notf_coal(in, o, &s);
    in->where = where;
    if (in->error) {
        return false;
    }
    *out = s;
    return true;
}
