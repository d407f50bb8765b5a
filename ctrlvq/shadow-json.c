/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shadow-json.c - the control-queue shadow as JSON, both ways
 *
 * The JSON form is part of the migration state (docs/migration.md): what
 * ctrlvq_shadow_to_json() writes, ctrlvq_shadow_from_json() reads back
 * exactly, and refuses anything else with an error naming the member.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "ctrlvq.h"

/**
 * mac_string() - @mac as "xx:xx:xx:xx:xx:xx"
 * @mac:	the address
 *
 * Return: a newly allocated string.
 */
static char *mac_string(const uint8_t mac[6])
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                           mac[2], mac[3], mac[4], mac[5]);
}

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
        g_autofree char *mac = mac_string(table[i]);

        json_builder_add_string_value(b, mac);
    }
    json_builder_end_array(b);
}

JsonNode *ctrlvq_shadow_to_json(const CtrlvqShadow *s)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *mac = mac_string(s->mac);
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
    for (uint16_t vid = 0; vid < CTRLVQ_VLAN_IDS; vid++) {
        if (ctrlvq_vlan_is_set(s, vid)) {
            json_builder_add_int_value(b, vid);
        }
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "queue-pairs");
    json_builder_add_int_value(b, s->queue_pairs);
    json_builder_set_member_name(b, "guest-offloads");
    json_builder_add_int_value(b, (gint64)s->guest_offloads);
    json_builder_set_member_name(b, "announce-acks");
    json_builder_add_int_value(b, (gint64)s->announce_acks);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/**
 * member() - the member @key of @o, of JSON type @type
 * @o:		the object
 * @key:	member name
 * @type:	JSON_NODE_VALUE, JSON_NODE_ARRAY or JSON_NODE_OBJECT
 * @error:	set if it is missing or of another type
 *
 * Return: the member, owned by @o; or NULL.
 */
static JsonNode *member(JsonObject *o, const char *key, JsonNodeType type,
                        GError **error)
{
    JsonNode *n = json_object_get_member(o, key);

    if (!n || JSON_NODE_TYPE(n) != type) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "shadow: \"%s\" is missing or not %s", key,
                    type == JSON_NODE_ARRAY    ? "an array"
                    : type == JSON_NODE_OBJECT ? "an object"
                                               : "a value");
        return NULL;
    }
    return n;
}

/**
 * member_bool() - read the boolean member @key of @o into @out
 * Return: true on success; false with @error set.
 */
static bool member_bool(JsonObject *o, const char *key, bool *out,
                        GError **error)
{
    JsonNode *n = member(o, key, JSON_NODE_VALUE, error);

    if (n && json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "shadow: \"%s\" is not a boolean", key);
        return false;
    }
    if (n) {
        *out = json_node_get_boolean(n);
    }
    return n != NULL;
}

/**
 * member_int() - read the integer member @key of @o, in [@min, @max]
 * Return: true on success; false with @error set.
 */
static bool member_int(JsonObject *o, const char *key, gint64 min, gint64 max,
                       gint64 *out, GError **error)
{
    JsonNode *n = member(o, key, JSON_NODE_VALUE, error);

    if (!n) {
        return false;
    }
    if (json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < min || json_node_get_int(n) > max) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "shadow: \"%s\" is not an integer from %" G_GINT64_FORMAT
                    " to %" G_GINT64_FORMAT,
                    key, min, max);
        return false;
    }
    *out = json_node_get_int(n);
    return true;
}

/**
 * parse_mac() - "xx:xx:xx:xx:xx:xx" into @mac
 * Return: true if @text is exactly that.
 */
static bool parse_mac(const char *text, uint8_t mac[6])
{
    unsigned int b[6];
    int end = 0;

    if (!text || strlen(text) != 17 ||
        sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &end) != 6 ||
        end != 17) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
    return true;
}

/**
 * member_mac_list() - read the array of MACs @key of @o into @table
 * @o:		the object
 * @key:	member name
 * @table:	CTRLVQ_MAC_TABLE_MAX entries
 * @n:		receives the count
 * @error:	set on failure
 *
 * Return: true on success.
 */
static bool member_mac_list(JsonObject *o, const char *key, uint8_t (*table)[6],
                            uint32_t *n, GError **error)
{
    JsonNode *node = member(o, key, JSON_NODE_ARRAY, error);
    JsonArray *a;

    if (!node) {
        return false;
    }
    a = json_node_get_array(node);
    if (json_array_get_length(a) > CTRLVQ_MAC_TABLE_MAX) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "shadow: \"%s\" has more than %u entries", key,
                    CTRLVQ_MAC_TABLE_MAX);
        return false;
    }
    *n = json_array_get_length(a);
    for (uint32_t i = 0; i < *n; i++) {
        JsonNode *e = json_array_get_element(a, i);

        if (JSON_NODE_TYPE(e) != JSON_NODE_VALUE ||
            json_node_get_value_type(e) != G_TYPE_STRING ||
            !parse_mac(json_node_get_string(e), table[i])) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "shadow: \"%s\" entry %u is not a MAC address", key, i);
            return false;
        }
    }
    return true;
}

/**
 * shadow_rx_mode_from_json() - the "rx-mode" object into @s
 * Return: true on success.
 */
static bool shadow_rx_mode_from_json(JsonObject *o, CtrlvqShadow *s,
                                     GError **error)
{
    JsonNode *n = member(o, "rx-mode", JSON_NODE_OBJECT, error);
    JsonObject *m;

    if (!n) {
        return false;
    }
    m = json_node_get_object(n);
    return member_bool(m, "promisc", &s->promisc, error) &&
           member_bool(m, "allmulti", &s->allmulti, error) &&
           member_bool(m, "alluni", &s->alluni, error) &&
           member_bool(m, "nomulti", &s->nomulti, error) &&
           member_bool(m, "nouni", &s->nouni, error) &&
           member_bool(m, "nobcast", &s->nobcast, error);
}

/**
 * shadow_tables_from_json() - the "mac-table" object into @s
 * Return: true on success.
 */
static bool shadow_tables_from_json(JsonObject *o, CtrlvqShadow *s,
                                    GError **error)
{
    JsonNode *n = member(o, "mac-table", JSON_NODE_OBJECT, error);
    JsonObject *t;

    if (!n) {
        return false;
    }
    t = json_node_get_object(n);
    if (!member_mac_list(t, "unicast", s->uni, &s->uni_count, error) ||
        !member_bool(t, "unicast-overflow", &s->uni_overflow, error) ||
        !member_mac_list(t, "multicast", s->multi, &s->multi_count, error) ||
        !member_bool(t, "multicast-overflow", &s->multi_overflow, error)) {
        return false;
    }
    for (uint32_t i = 0; i < s->multi_count; i++) {
        if (!(s->multi[i][0] & 1)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "shadow: multicast entry %u is a unicast address", i);
            return false;
        }
    }
    return true;
}

/**
 * shadow_vlans_from_json() - the "vlans" array into @s's bitmap
 * Return: true on success.
 */
static bool shadow_vlans_from_json(JsonObject *o, CtrlvqShadow *s,
                                   GError **error)
{
    JsonNode *n = member(o, "vlans", JSON_NODE_ARRAY, error);
    JsonArray *a;

    if (!n) {
        return false;
    }
    a = json_node_get_array(n);
    if (json_array_get_length(a) > CTRLVQ_VLAN_IDS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "shadow: more than %u VLAN ids", CTRLVQ_VLAN_IDS);
        return false;
    }
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *e = json_array_get_element(a, i);
        gint64 vid;

        if (JSON_NODE_TYPE(e) != JSON_NODE_VALUE ||
            json_node_get_value_type(e) != G_TYPE_INT64 ||
            (vid = json_node_get_int(e)) < 0 || vid >= CTRLVQ_VLAN_IDS) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "shadow: VLAN entry %u is not an id from 0 to %u", i,
                        CTRLVQ_VLAN_IDS - 1);
            return false;
        }
        s->vlans[vid / 32] |= 1u << (vid % 32);
    }
    return true;
}

bool ctrlvq_shadow_from_json(JsonNode *node, CtrlvqShadow *out, GError **error)
{
    CtrlvqShadow s = {0};
    JsonObject *o;
    JsonNode *mac;
    gint64 pairs, offloads, acks;

    if (!node || JSON_NODE_TYPE(node) != JSON_NODE_OBJECT) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "shadow: not an object");
        return false;
    }
    o = json_node_get_object(node);
    mac = member(o, "mac", JSON_NODE_VALUE, error);
    if (!mac) {
        return false;
    }
    if (json_node_get_value_type(mac) != G_TYPE_STRING ||
        !parse_mac(json_node_get_string(mac), s.mac)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "shadow: \"mac\" is not a MAC address");
        return false;
    }
    if (!shadow_rx_mode_from_json(o, &s, error) ||
        !shadow_tables_from_json(o, &s, error) ||
        !shadow_vlans_from_json(o, &s, error) ||
        !member_int(o, "queue-pairs", 1, 0x8000, &pairs, error) ||
        !member_int(o, "guest-offloads", 0, G_MAXINT64, &offloads, error) ||
        !member_int(o, "announce-acks", 0, G_MAXINT64, &acks, error)) {
        return false;
    }
    s.queue_pairs = (uint16_t)pairs;
    s.guest_offloads = (uint64_t)offloads;
    s.announce_acks = (uint64_t)acks;
    *out = s;
    return true;
}
