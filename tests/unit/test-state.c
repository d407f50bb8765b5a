/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-state.c - the migration state document: round trips through JSON
 * and through the state file, and refusals of what a reader cannot trust
 */
#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

/* sample() - a state with every member away from its default. */
static void sample(NetState *st)
{
    memset(st, 0, sizeof(*st));
    g_strlcpy(st->name, "vm0", sizeof(st->name));
    memcpy(st->mac, (uint8_t[]){2, 0, 0, 0, 0, 0xa1}, 6);
    st->mtu = 9000;
    st->queue_pairs = 2;
    st->ctrl_vq = true;
    st->offered = 0x8000000000000000ull | (1ull << 32) | 0x3f;
    st->negotiated = (1ull << 32) | 0x21;
    st->status = 0x0f;
    st->suspended = true;
    memcpy(st->config_mac, (uint8_t[]){2, 0, 0, 0, 0, 0x77}, 6);
    st->config_status = 3;
    st->ngroups = 2;
    st->group_asid[1] = 1;
    st->vq_num = 5;
    for (uint32_t i = 0; i < st->vq_num; i++) {
        st->vqs[i] = (NetVqSaved){
            .ready = i != 3,
            .size = 256,
            .avail_index = (uint16_t)(65530 + i),
            .used_index = (uint16_t)(65529 + i),
        };
    }
    st->link_up = true;
    memcpy(st->shadow.mac, st->config_mac, 6);
    st->shadow.allmulti = true;
    st->shadow.multi_count = 1;
    memcpy(st->shadow.multi[0], (uint8_t[]){1, 0, 0x5e, 0, 0, 0x42}, 6);
    st->shadow.vlans[0] = 1u << 5;
    st->shadow.queue_pairs = 2;
    st->shadow.guest_offloads = 2;
    /* RSS_CONFIG over both pairs, with the key of Microsoft's suite. */
    st->shadow.rss = (CtrlvqRss){
        .enabled = true,
        .hash_types = 0x3f,
        .table_len = 4,
        .table = {0, 1, 1, 0},
        .max_tx_vq = 2,
        .key_len = 40,
        .key = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa},
    };
    /* ethtool -C rx-usecs 50 rx-frames 16 tx-frames 8, then a per-queue
     * setting of each queue of pair 0: the others keep the ethtool -C
     * ones, as the device does. */
    st->shadow.coal_tx = (CtrlvqCoal){.max_packets = 8, .max_usecs = 0};
    st->shadow.coal_rx = (CtrlvqCoal){.max_packets = 16, .max_usecs = 50};
    for (unsigned int vq = 0; vq < 2 * CTRLVQ_MAX_QUEUE_PAIRS; vq++) {
        st->shadow.coal_vq[vq] =
            vq % 2 ? st->shadow.coal_tx : st->shadow.coal_rx;
    }
    st->shadow.coal_vq[0] = (CtrlvqCoal){.max_packets = 32, .max_usecs = 100};
    st->shadow.coal_vq[1] =
        (CtrlvqCoal){.max_packets = 4294967295u, .max_usecs = 7};
}

/* state_text() - @st as pretty JSON text (g_free()). */
static char *state_text(const NetState *st)
{
    g_autoptr(JsonNode) n = net_state_to_json(st);

    return json_to_string(n, TRUE);
}

/* JSON and back: the same state, to the bit (64-bit features included). */
static void test_round_trip(void)
{
    NetState st, back;
    g_autofree char *text = NULL, *again = NULL;
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(GError) error = NULL;

    sample(&st);
    /* VLANs at both ends of the bitmap's words, and of the range. */
    st.shadow.vlans[0] |= 1u << 0 | 1u << 31;
    st.shadow.vlans[1] = 1u;
    st.shadow.vlans[127] = 1u << 31;
    text = state_text(&st);
    node = json_from_string(text, &error);
    g_assert_no_error(error);
    g_assert_true(net_state_from_json(node, &back, &error));
    g_assert_no_error(error);
    g_assert_nonnull(strstr(text, "\"vlans\" : [\n      0,\n      5,\n      31,"
                                  "\n      32,\n      4095\n    ]"));
    g_assert_cmpmem(back.shadow.vlans, sizeof(back.shadow.vlans),
                    st.shadow.vlans, sizeof(st.shadow.vlans));
    g_assert_cmpuint(back.offered, ==, st.offered);
    g_assert_cmpuint(back.negotiated, ==, st.negotiated);
    g_assert_cmpuint(back.vqs[4].avail_index, ==, 65534);
    g_assert_false(back.vqs[3].ready);
    g_assert_cmpuint(back.group_asid[1], ==, 1);
    g_assert_cmpstr(back.name, ==, "vm0");
    g_assert_cmpmem(&back.shadow.rss, sizeof(back.shadow.rss), &st.shadow.rss,
                    sizeof(st.shadow.rss));
    g_assert_cmpmem(&back.shadow.hash, sizeof(back.shadow.hash),
                    &st.shadow.hash, sizeof(st.shadow.hash));
    g_assert_cmpmem(back.shadow.coal_vq, sizeof(back.shadow.coal_vq),
                    st.shadow.coal_vq, sizeof(st.shadow.coal_vq));
    g_assert_cmpmem(&back.shadow.coal_tx, sizeof(CtrlvqCoal),
                    &st.shadow.coal_tx, sizeof(CtrlvqCoal));
    g_assert_cmpmem(&back.shadow.coal_rx, sizeof(CtrlvqCoal),
                    &st.shadow.coal_rx, sizeof(CtrlvqCoal));
    g_assert_nonnull(strstr(text, "\"key\" : \"6d5a56da255b0ec2"));
    again = state_text(&back);
    g_assert_cmpstr(text, ==, again);
}

/* A document written before RSS was kept: read as RSS off. */
static void test_without_rss(void)
{
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(GError) error = NULL;
    JsonObject *shadow;
    NetState st, back;

    sample(&st);
    node = net_state_to_json(&st);
    shadow =
        json_object_get_object_member(json_node_get_object(node), "shadow");
    json_object_remove_member(shadow, "rss");
    json_object_remove_member(shadow, "hash-config");
    g_assert_true(net_state_from_json(node, &back, &error));
    g_assert_no_error(error);
    g_assert_false(back.shadow.rss.enabled);
    g_assert_cmpuint(back.shadow.rss.table_len, ==, 0);
    g_assert_false(back.shadow.hash.enabled);
}

/*
 * Coalescing: a document from before it was kept reads as none; "vqs"
 * holds the data vqs of the pairs in use, no more, no fewer.
 */
static void test_notf_coal(void)
{
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(GError) error = NULL;
    JsonObject *shadow, *coal;
    JsonArray *vqs;
    NetState st, back;

    sample(&st);
    node = net_state_to_json(&st);
    shadow =
        json_object_get_object_member(json_node_get_object(node), "shadow");
    coal = json_object_get_object_member(shadow, "notf-coal");
    vqs = json_object_get_array_member(coal, "vqs");
    g_assert_cmpuint(json_array_get_length(vqs), ==, 4);

    json_array_remove_element(vqs, 3);
    g_assert_false(net_state_from_json(node, &back, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull(strstr(error->message, "shadow.notf-coal.\"vqs\""));
    g_clear_error(&error);

    json_array_add_int_element(vqs, 5);
    g_assert_false(net_state_from_json(node, &back, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull(strstr(error->message, "objects"));
    g_clear_error(&error);

    json_object_remove_member(shadow, "notf-coal");
    g_assert_true(net_state_from_json(node, &back, &error));
    g_assert_no_error(error);
    for (unsigned int vq = 0; vq < 2 * CTRLVQ_MAX_QUEUE_PAIRS; vq++) {
        g_assert_cmpuint(back.shadow.coal_vq[vq].max_packets, ==, 0);
        g_assert_cmpuint(back.shadow.coal_vq[vq].max_usecs, ==, 0);
    }
    g_assert_cmpuint(back.shadow.coal_rx.max_usecs, ==, 0);
}

/* The file: written whole, replaced whole, read back; no temp files. */
static void test_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("state-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "vm0.state", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = NULL;
    NetState st, back;

    sample(&st);
    for (int round = 0; round < 2; round++) {
        g_autoptr(JsonNode) node = NULL;

        st.vqs[0].used_index = (uint16_t)round;
        node = net_state_to_json(&st);
        g_assert_true(net_state_save(node, path, &error));
        g_assert_no_error(error);
        g_assert_true(net_state_load(path, &back, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(back.vqs[0].used_index, ==, round);
    }
    d = g_dir_open(dir, 0, NULL);
    g_assert_cmpstr(g_dir_read_name(d), ==, "vm0.state");
    g_assert_null(g_dir_read_name(d));

    /* A directory that does not exist: an error naming the file. */
    {
        g_autoptr(JsonNode) node = net_state_to_json(&st);
        g_autofree char *bad = g_build_filename(dir, "no", "x.state", NULL);

        g_assert_false(net_state_save(node, bad, &error));
        g_assert_nonnull(strstr(error->message, bad));
        g_clear_error(&error);
        g_assert_false(net_state_load(bad, &back, &error));
        g_clear_error(&error);
    }
    /* Not JSON. */
    g_file_set_contents(path, "{\"version\": 1,", -1, NULL);
    g_assert_false(net_state_load(path, &back, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_unlink(path);
    g_rmdir(dir);
}

/**
 * struct PipeFeed - bytes a thread writes into a pipe, then closes it
 * @fd:		the pipe's write end
 * @text:	what to write
 * @len:	its length
 */
typedef struct PipeFeed {
    int fd;
    const char *text;
    size_t len;
} PipeFeed;

/* feed_pipe() - write all of a PipeFeed (a reader may stop early). */
static gpointer feed_pipe(gpointer data)
{
    PipeFeed *f = data;
    size_t done = 0;

    while (done < f->len) {
        ssize_t n = write(f->fd, f->text + done, f->len - done);

        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    close(f->fd);
    return NULL;
}

/**
 * load_text() - net_state_load() of @text, from a regular file or a pipe
 * Return: whether it loaded; @error set if not.
 */
static bool load_text(const char *dir, const char *text, size_t len, bool pipe,
                      NetState *st, GError **error)
{
    g_autofree char *path = NULL;
    GThread *writer = NULL;
    PipeFeed feed = {-1, text, len};
    int fds[2] = {-1, -1};
    bool ok;

    if (pipe) {
        g_assert_cmpint(g_unix_open_pipe(fds, FD_CLOEXEC, NULL), ==, TRUE);
        path = g_strdup_printf("/proc/self/fd/%d", fds[0]);
        feed.fd = fds[1];
        writer = g_thread_new("feed", feed_pipe, &feed);
    } else {
        path = g_build_filename(dir, "big.state", NULL);
        g_assert_true(g_file_set_contents(path, text, (gssize)len, NULL));
    }
    ok = net_state_load(path, st, error);
    if (pipe) {
        /* The reader is done: a writer still blocked gets EPIPE. */
        close(fds[0]);
        g_thread_join(writer);
    } else {
        g_unlink(path);
    }
    return ok;
}

/*
 * The size bound, from a file and from a pipe (--restore <(...)): a
 * document padded to well past the first read buffer loads whole; one
 * byte past 1 MiB is refused, whatever the reader's buffer had grown to.
 */
static void test_sizes(void)
{
    g_autofree char *dir = g_dir_make_tmp("state-XXXXXX", NULL);
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *doc = NULL;
    NetState st, back;

    /* A reader that stops early must fail an assertion, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    sample(&st);
    node = net_state_to_json(&st);
    doc = json_to_string(node, TRUE);
    for (int pipe = 0; pipe < 2; pipe++) {
        const size_t sizes[] = {strlen(doc), 300000, (1u << 20),
                                (1u << 20) + 1};

        for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
            g_autofree char *text = g_malloc(sizes[i]);
            g_autoptr(GError) error = NULL;
            size_t n = strlen(doc);

            /* Spaces, then the document: a reader that stops short
             * misses the document, not just padding. */
            memset(text, ' ', sizes[i] - n);
            memcpy(text + sizes[i] - n, doc, n);
            memset(&back, 0, sizeof(back));
            if (sizes[i] <= (1u << 20)) {
                g_assert_true(
                    load_text(dir, text, sizes[i], pipe, &back, &error));
                g_assert_no_error(error);
                g_assert_cmpstr(back.name, ==, st.name);
                g_assert_cmpuint(back.shadow.uni_count, ==,
                                 st.shadow.uni_count);
            } else {
                g_assert_false(
                    load_text(dir, text, sizes[i], pipe, &back, &error));
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
                g_assert_nonnull(strstr(error->message, "larger than"));
            }
        }
    }
    g_rmdir(dir);
}

/* Another version is refused as such; broken members by name. */
static void test_refusals(void)
{
    static const struct {
        const char *from, *to, *named;
        int code;
    } bad[] = {
        {"\"version\" : 1", "\"version\" : 2", "version 2",
         G_IO_ERROR_NOT_SUPPORTED},
        {"\"version\" : 1", "\"versio\" : 1", "version",
         G_IO_ERROR_INVALID_DATA},
        {"\"name\" : \"vm0\"", "\"name\" : \"\"", "name",
         G_IO_ERROR_INVALID_DATA},
        {"\"mtu\" : 9000", "\"mtu\" : 65521", "mtu", G_IO_ERROR_INVALID_DATA},
        {"\"mtu\" : 9000", "\"mtu\" : 20", "mtu", G_IO_ERROR_INVALID_DATA},
        {"\"queue-pairs\" : 2,\n    \"ctrl-vq\"",
         "\"queue-pairs\" : 17,\n    \"ctrl-vq\"", "queue-pairs",
         G_IO_ERROR_INVALID_DATA},
        {"\"status\" : 15", "\"status\" : 256", "status",
         G_IO_ERROR_INVALID_DATA},
        {"\"suspended\" : true", "\"suspended\" : \"yes\"", "suspended",
         G_IO_ERROR_INVALID_DATA},
        {"\"mac\" : \"02:00:00:00:00:a1\"", "\"mac\" : \"01:00:00:00:00:a1\"",
         "mac", G_IO_ERROR_INVALID_DATA},
        {"\"group-asids\" : [\n    0,\n    1\n  ]", "\"group-asids\" : [2]",
         "group-asids", G_IO_ERROR_INVALID_DATA},
        {"\"index\" : 1", "\"index\" : 7", "index", G_IO_ERROR_INVALID_DATA},
        {"\"size\" : 256", "\"size\" : 65536", "size", G_IO_ERROR_INVALID_DATA},
        {"\"avail-index\" : 65530", "\"avail-index\" : 65536", "avail-index",
         G_IO_ERROR_INVALID_DATA},
        {"\"link-up\" : true", "\"link-up\" : null", "link-up",
         G_IO_ERROR_INVALID_DATA},
        {"\"vlans\" : [\n      5\n    ]", "\"vlans\" : [\n      4096\n    ]",
         "shadow.\"vlans\"", G_IO_ERROR_INVALID_DATA},
        {"\"vlans\" : [\n      5\n    ]", "\"vlans\" : [-1]",
         "shadow.\"vlans\"", G_IO_ERROR_INVALID_DATA},
        {"\"vlans\" : [\n      5\n    ]", "\"vlans\" : {}", "shadow.\"vlans\"",
         G_IO_ERROR_INVALID_DATA},
        /* The shadow holds what commands would have accepted, no more. */
        {"\"mac\" : \"02:00:00:00:00:77\",\n    \"rx-mode\"",
         "\"mac\" : \"03:00:00:00:00:77\",\n    \"rx-mode\"", "shadow.\"mac\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"mac\" : \"02:00:00:00:00:77\",\n    \"rx-mode\"",
         "\"mac\" : \"00:00:00:00:00:00\",\n    \"rx-mode\"", "shadow.\"mac\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"promisc\" : false", "\"promisc\" : 1", "shadow.rx-mode.\"promisc\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"nobcast\" : false", "\"nobcast_\" : false",
         "shadow.rx-mode.\"nobcast\"", G_IO_ERROR_INVALID_DATA},
        {"\"01:00:5e:00:00:42\"", "\"02:00:5e:00:00:42\"",
         "shadow.mac-table.\"multicast\"", G_IO_ERROR_INVALID_DATA},
        {"\"01:00:5e:00:00:42\"", "7", "shadow.mac-table.\"multicast\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"queue-pairs\" : 2,\n    \"guest-offloads\"",
         "\"queue-pairs\" : 0,\n    \"guest-offloads\"",
         "shadow.\"queue-pairs\"", G_IO_ERROR_INVALID_DATA},
        /* More pairs in use than the device has (fuzz-state found it:
         * accepted, then written back as a document that did not read). */
        {"\"queue-pairs\" : 2,\n    \"guest-offloads\"",
         "\"queue-pairs\" : 3,\n    \"guest-offloads\"",
         "shadow.\"queue-pairs\"", G_IO_ERROR_INVALID_DATA},
        {"\"announce-acks\" : 0", "\"announce-acks\" : -1",
         "shadow.\"announce-acks\"", G_IO_ERROR_INVALID_DATA},
        /* RSS: as RSS_CONFIG would have taken it, or not at all. */
        {"\"hash-types\" : 63", "\"hash-types\" : 127", "shadow.\"rss\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"indirection-table\" : [\n        0,\n        1,\n        1,\n"
         "        0\n      ]",
         "\"indirection-table\" : [0, 1, 1]", "shadow.\"rss\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"indirection-table\" : [\n        0,\n        1,",
         "\"indirection-table\" : [\n        0,\n        32768,",
         "shadow.rss.\"indirection-table\"", G_IO_ERROR_INVALID_DATA},
        {"\"max-tx-vq\" : 2", "\"max-tx-vq\" : 0", "shadow.\"rss\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"key\" : \"6d", "\"key\" : \"6", "shadow.rss.\"key\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"key\" : \"6d", "\"key\" : \"xx", "shadow.rss.\"key\"",
         G_IO_ERROR_INVALID_DATA},
        {"\"enabled\" : false,\n      \"hash-types\" : 0",
         "\"enabled\" : false,\n      \"hash-types\" : 1",
         "shadow.\"hash-config\"", G_IO_ERROR_INVALID_DATA},
        /* Coalescing: 32-bit values, as the commands carry. */
        {"\"max-packets\" : 4294967295", "\"max-packets\" : 4294967296",
         "shadow.notf-coal.vqs[].\"max-packets\"", G_IO_ERROR_INVALID_DATA},
        {"\"max-usecs\" : 7", "\"max-usecs\" : -7",
         "shadow.notf-coal.vqs[].\"max-usecs\"", G_IO_ERROR_INVALID_DATA},
        {"\"max-packets\" : 8", "\"max-packets\" : \"8\"",
         "shadow.notf-coal.\"max-packets\"", G_IO_ERROR_INVALID_DATA},
    };
    NetState st, back;
    g_autofree char *good = NULL;

    sample(&st);
    good = state_text(&st);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GString) text = g_string_new(good);
        g_autoptr(JsonNode) node = NULL;
        g_autoptr(GError) error = NULL;

        if (!strstr(good, bad[i].from)) {
            g_error("case %zu: \"%s\" not in %s", i, bad[i].from, good);
        }
        g_string_replace(text, bad[i].from, bad[i].to, 1);
        node = json_from_string(text->str, &error);
        g_assert_no_error(error);
        g_assert_false(net_state_from_json(node, &back, &error));
        g_assert_error(error, G_IO_ERROR, bad[i].code);
        if (!strstr(error->message, bad[i].named)) {
            g_error("case %zu: \"%s\" does not name %s", i, error->message,
                    bad[i].named);
        }
    }
}

/*
 * The saver writes nothing while the caller's handler runs (the answer
 * goes out first), coalesces requests into one read of the state, and
 * leaves the whole newest document on disk.
 */
static void test_saver(void)
{
    g_autofree char *dir = g_dir_make_tmp("saver-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "vm0.state", NULL);
    NetOptions opts = {.name = "vm0",
                       .mac = {2, 0, 0, 0, 0, 0xa1},
                       .mtu = 1500,
                       .queue_pairs = 2,
                       .ctrl_vq = true};
    NetDev *nd = net_dev_new(&opts, NULL, 0);
    NetStateSaver *saver = net_state_saver_new(nd, path, NULL);
    g_autoptr(GError) error = NULL;
    NetState back;
    int dispatched = 0;

    for (int i = 0; i < 100; i++) {
        net_state_saver_request(saver);
    }
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    while (g_main_context_iteration(NULL, FALSE)) {
        dispatched++;
    }
    g_assert_cmpint(dispatched, ==, 1);
    net_state_saver_flush(saver);
    g_assert_true(net_state_load(path, &back, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(back.queue_pairs, ==, 2);

    /* Once more, flushed before the main loop ran: saved all the same. */
    net_dev_set_link(nd, false);
    net_state_saver_request(saver);
    net_state_saver_free(saver);
    g_assert_true(net_state_load(path, &back, &error));
    g_assert_false(back.link_up);
    net_dev_free(nd);
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/state/round-trip", test_round_trip);
    g_test_add_func("/state/without-rss", test_without_rss);
    g_test_add_func("/state/notf-coal", test_notf_coal);
    g_test_add_func("/state/file", test_file);
    g_test_add_func("/state/sizes", test_sizes);
    g_test_add_func("/state/refusals", test_refusals);
    g_test_add_func("/state/saver", test_saver);
    return g_test_run();
}
