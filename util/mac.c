/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mac.c - MAC addresses as text
 */
#include "config.h"

#include "util.h"

/**
 * hex_digit() - the value of hex digit @c
 * Return: 0 to 15, or -1 if @c is not a hex digit.
 */
static int hex_digit(char c)
{
    return g_ascii_xdigit_value(c);
}

bool mac_parse(const char *text, uint8_t mac[6])
{
    uint8_t out[6];

    if (!text || strlen(text) != 17) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        const char *p = text + 3 * i;
        int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

        if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':')) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(mac, out, 6);
    return true;
}

char *mac_format(const uint8_t mac[6])
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                           mac[2], mac[3], mac[4], mac[5]);
}

bool mac_is_unicast(const uint8_t mac[6])
{
    return !(mac[0] & 1) &&
           (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}
