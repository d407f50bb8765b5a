/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-in.c - reading members of a JSON document that may lie
 *
 * Every reader of the migration state (the document, the shadow inside it)
 * goes through these: each takes a member by name, checks its type and
 * range, and on the first failure remembers one error naming the member
 * with its path ("state: device.\"mtu\" is missing or not ..."). Later calls
 * return zero values and keep the first error, so a reader is a flat list
 * of calls followed by one json_in_finish().
 */
#include "config.h"

#include <gio/gio.h>

#include "net-priv.h"

void json_in_fail(JsonIn *in, const char *key, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    if (in->error) {
        return;
    }
    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    in->error = g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "state: %s%s\"%s\" is missing or not %s", in->where,
                            *in->where ? "." : "", key, what);
}

/**
 * json_in_node() - member @key of @o if it is of JSON type @type
 * @in:		the reader
 * @o:		the object, or NULL (an earlier failure)
 * @key:	member name
 * @type:	JSON_NODE_OBJECT, JSON_NODE_ARRAY or JSON_NODE_VALUE
 * @what:	what it should be, for the error
 *
 * Return: the node (owned by @o), or NULL with the error remembered.
 */
static JsonNode *json_in_node(JsonIn *in, JsonObject *o, const char *key,
                              JsonNodeType type, const char *what)
{
    JsonNode *n = o ? json_object_get_member(o, key) : NULL;

    if (!n || JSON_NODE_TYPE(n) != type) {
        json_in_fail(in, key, "%s", what);
        return NULL;
    }
    return n;
}

/**
 * json_in_value() - the value member @key of @o if it has GType @type
 * Return: the node, or NULL with the error remembered.
 */
static JsonNode *json_in_value(JsonIn *in, JsonObject *o, const char *key,
                               GType type, const char *what)
{
    JsonNode *n = json_in_node(in, o, key, JSON_NODE_VALUE, what);

    if (n && json_node_get_value_type(n) != type) {
        json_in_fail(in, key, "%s", what);
        return NULL;
    }
    return n;
}

JsonObject *json_in_object(JsonIn *in, JsonObject *o, const char *key)
{
    JsonNode *n = json_in_node(in, o, key, JSON_NODE_OBJECT, "an object");

    return n ? json_node_get_object(n) : NULL;
}

JsonArray *json_in_array(JsonIn *in, JsonObject *o, const char *key,
                         guint max_len)
{
    JsonNode *n = json_in_node(in, o, key, JSON_NODE_ARRAY, "an array");

    if (n && json_array_get_length(json_node_get_array(n)) > max_len) {
        json_in_fail(in, key, "an array of at most %u entries", max_len);
        return NULL;
    }
    return n ? json_node_get_array(n) : NULL;
}

guint64 json_in_uint(JsonIn *in, JsonObject *o, const char *key, guint64 min,
                     guint64 max)
{
    JsonNode *n = json_in_value(in, o, key, G_TYPE_INT64, "an integer");
    gint64 v;

    if (!n) {
        return 0;
    }
    v = json_node_get_int(n);
    /* Feature words use all 64 bits: the JSON integer is their two's
     * complement, so a negative one is fine when the range is all. */
    if (min == 0 && max == G_MAXUINT64) {
        return (guint64)v;
    }
    if (v >= 0 && (guint64)v >= min && (guint64)v <= max) {
        return (guint64)v;
    }
    json_in_fail(in, key,
                 "an integer from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
                 min, max);
    return 0;
}

guint64 json_in_uint_at(JsonIn *in, JsonArray *a, guint i, const char *key,
                        guint64 max)
{
    JsonNode *e = json_array_get_element(a, i);

    if (!JSON_NODE_HOLDS_VALUE(e) ||
        json_node_get_value_type(e) != G_TYPE_INT64 ||
        json_node_get_int(e) < 0 || (guint64)json_node_get_int(e) > max) {
        json_in_fail(in, key,
                     "an array of integers from 0 to %" G_GUINT64_FORMAT
                     " (entry %u is not)",
                     max, i);
        return 0;
    }
    return (guint64)json_node_get_int(e);
}

bool json_in_bool(JsonIn *in, JsonObject *o, const char *key)
{
    JsonNode *n = json_in_value(in, o, key, G_TYPE_BOOLEAN, "a boolean");

    return n && json_node_get_boolean(n);
}

const char *json_in_string(JsonIn *in, JsonObject *o, const char *key,
                           const char *what)
{
    JsonNode *n = json_in_value(in, o, key, G_TYPE_STRING, what);

    /* A lone surrogate escape ("\ud800") parses into bytes that are not
     * UTF-8, which would make whatever we write from it invalid JSON. */
    if (n && !g_utf8_validate(json_node_get_string(n), -1, NULL)) {
        json_in_fail(in, key, "%s (not UTF-8)", what);
        return NULL;
    }
    return n ? json_node_get_string(n) : NULL;
}

void json_in_mac(JsonIn *in, JsonObject *o, const char *key, uint8_t mac[6])
{
    const char *text = json_in_string(in, o, key, "a MAC address");

    if (text && (!mac_parse(text, mac) || !mac_is_unicast(mac))) {
        json_in_fail(in, key, "a unicast MAC address");
    }
}

bool json_in_mac_at(JsonIn *in, JsonArray *a, guint i, const char *key,
                    uint8_t mac[6])
{
    JsonNode *e = json_array_get_element(a, i);

    if (!JSON_NODE_HOLDS_VALUE(e) ||
        json_node_get_value_type(e) != G_TYPE_STRING ||
        !mac_parse(json_node_get_string(e), mac)) {
        json_in_fail(in, key, "an array of MAC addresses (entry %u is not)", i);
        return false;
    }
    return true;
}

bool json_in_finish(JsonIn *in, GError **error)
{
    if (in->error) {
        g_propagate_error(error, in->error);
        in->error = NULL;
        return false;
    }
    return true;
}
