/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-state.c - the migration-state import, as --restore and
 * --state-file read it
 *
 * The input is the file: it goes through net_state_load() (size limit,
 * JSON depth bound, json-glib's parser, the member readers of json-in.c
 * and shadow-json.c), from a memfd opened by its /proc/self/fd path, so
 * the whole text loader runs as it does on a real file.
 *
 * Checked: no crash, no warning or critical, and an error message when
 * the state is refused. An accepted state must write back
 * (net_state_to_json(), as text) to valid UTF-8 JSON that reads back to an
 * equal state, and that writes the same text again; its name must be a
 * valid device name and its MACs station addresses. tests/fuzz/state.dict
 * holds the document's member names for libFuzzer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "net.h"

/**
 * state_equal() - whether two states say the same (MAC tables up to their
 * counts)
 * Return: true if equal.
 */
static bool state_equal(const NetState *a, const NetState *b)
{
    const CtrlvqShadow *x = &a->shadow, *y = &b->shadow;

    if (strcmp(a->name, b->name) || memcmp(a->mac, b->mac, 6) ||
        a->mtu != b->mtu || a->queue_pairs != b->queue_pairs ||
        a->ctrl_vq != b->ctrl_vq || a->offered != b->offered ||
        a->negotiated != b->negotiated || a->status != b->status ||
        a->suspended != b->suspended ||
        memcmp(a->config_mac, b->config_mac, 6) ||
        a->config_status != b->config_status || a->ngroups != b->ngroups ||
        a->vq_num != b->vq_num || a->link_up != b->link_up) {
        return false;
    }
    for (uint32_t g = 0; g < a->ngroups && g < 2; g++) {
        if (a->group_asid[g] != b->group_asid[g]) {
            return false;
        }
    }
    for (uint32_t i = 0; i < a->vq_num && i < G_N_ELEMENTS(a->vqs); i++) {
        if (a->vqs[i].ready != b->vqs[i].ready ||
            a->vqs[i].size != b->vqs[i].size ||
            a->vqs[i].avail_index != b->vqs[i].avail_index ||
            a->vqs[i].used_index != b->vqs[i].used_index) {
            return false;
        }
    }
    return !memcmp(x->mac, y->mac, 6) && x->promisc == y->promisc &&
           x->allmulti == y->allmulti && x->alluni == y->alluni &&
           x->nomulti == y->nomulti && x->nouni == y->nouni &&
           x->nobcast == y->nobcast && x->uni_count == y->uni_count &&
           x->uni_overflow == y->uni_overflow &&
           x->multi_count == y->multi_count &&
           x->multi_overflow == y->multi_overflow &&
           !memcmp(x->uni, y->uni, 6 * MIN(x->uni_count, 64u)) &&
           !memcmp(x->multi, y->multi, 6 * MIN(x->multi_count, 64u)) &&
           !memcmp(x->vlans, y->vlans, sizeof(x->vlans)) &&
           x->queue_pairs == y->queue_pairs &&
           x->guest_offloads == y->guest_offloads &&
           x->announce_acks == y->announce_acks;
}

/**
 * station() - whether @mac is a station's address (unicast, not zero)
 * Return: true if it is.
 */
static bool station(const uint8_t mac[6])
{
    static const uint8_t zero[6];

    return !(mac[0] & 1) && memcmp(mac, zero, 6);
}

/**
 * write_back() - @st as the document text, checked to be UTF-8
 * Return: the text (g_free()).
 */
static char *write_back(const NetState *st)
{
    g_autoptr(JsonNode) node = net_state_to_json(st);
    char *text = json_to_string(node, FALSE);

    if (!g_utf8_validate(text, -1, NULL)) {
        fuzz_fail("an accepted state writes back as invalid UTF-8");
    }
    return text;
}

/**
 * check_accepted() - what an accepted state must satisfy
 * @st:		the state read
 */
static void check_accepted(const NetState *st)
{
    g_autofree NetState *back = g_new0(NetState, 1);
    g_autoptr(JsonNode) parsed = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = write_back(st);
    g_autofree char *again = NULL;

    fuzz_check(net_name_is_valid(st->name));
    fuzz_check(station(st->mac));
    fuzz_check(station(st->config_mac));
    fuzz_check(station(st->shadow.mac));
    fuzz_check(st->vq_num <= G_N_ELEMENTS(st->vqs));
    fuzz_check(st->ngroups <= G_N_ELEMENTS(st->group_asid));
    parsed = json_from_string(text, &error);
    if (!parsed) {
        fuzz_fail("an accepted state writes back as invalid JSON: %s\n%s",
                  error->message, text);
    }
    if (!net_state_from_json(parsed, back, &error)) {
        fuzz_fail("an accepted state does not read back: %s\n%s",
                  error->message, text);
    }
    if (!state_equal(st, back)) {
        fuzz_fail("an accepted state reads back different\n%s", text);
    }
    again = write_back(back);
    if (strcmp(text, again)) {
        fuzz_fail("an accepted state writes back two ways\n%s\n%s", text,
                  again);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    g_autofree NetState *st = g_new0(NetState, 1);
    g_autoptr(GError) error = NULL;

    if (fd < 0) {
        fuzz_log_init();
        fd = memfd_create("state", MFD_CLOEXEC);
        fuzz_check(fd >= 0);
        g_snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    fuzz_check(ftruncate(fd, 0) == 0);
    fuzz_check(pwrite(fd, data, size, 0) == (ssize_t)size);
    if (!net_state_load(path, st, &error)) {
        /* Not necessarily UTF-8: json-glib quotes what it could not
         * parse, and mgmt/server.c makes every reply line valid. */
        fuzz_check(error && error->message && *error->message);
        return 0;
    }
    fuzz_check(!error);
    check_accepted(st);
    return 0;
}
