/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-depth.c - how deeply a JSON text nests, before anyone parses it
 *
 * json-glib's parser recurses once per nesting level and has no limit: a
 * line of 200,000 '[' overflows the stack. Every JSON text from outside
 * (management lines, state files) is measured here first.
 */
#include "config.h"

#include "util.h"

bool json_depth_ok(const char *text, size_t len, unsigned int max)
{
    unsigned int depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];

        if (in_string) {
            if (c == '\\') {
                i++; /* the escaped character cannot end the string */
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max) {
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}
