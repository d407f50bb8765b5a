/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-netdev.c - the device model's control-queue service, in process
 *
 * A NetDev (net/netdev.c) is opened on the in-process VDUSE kernel of
 * test-driver.c, with a control queue in group 1 moved to ASID 1. The
 * driver's memory for ASID 0 and ASID 1 are two memfds mapped at the same
 * IOVAs, so a command read through the wrong address space reads the
 * decoy. The TAP queues are socketpairs: no data queue is started here.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <gio/gio.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net-priv.h"
#include "test-driver.h"
#include "vduse-abi.h"

#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)
#define CVQ_RING_OFF 0x10000
#define CMD_OFF 0x40000
#define CVQ 4 /* two pairs: vqs 0-3, then the control queue */
#define RW VDUSE_ACCESS_RW
#define S_UP (VDUSE_S_ACKNOWLEDGE | VDUSE_S_DRIVER | VDUSE_S_FEATURES_OK)
#define S_RUN (S_UP | VDUSE_S_DRIVER_OK)
#define FEATURES                                                               \
    (VDUSE_BIT(VDUSE_F_VERSION_1) | VDUSE_BIT(VDUSE_F_ACCESS_PLATFORM) |       \
     VDUSE_BIT(VIRTIO_NET_F_MAC) | VDUSE_BIT(VIRTIO_NET_F_STATUS) |            \
     VDUSE_BIT(VIRTIO_NET_F_CTRL_VQ) | VDUSE_BIT(VIRTIO_NET_F_CTRL_RX) |       \
     VDUSE_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VDUSE_BIT(VIRTIO_NET_F_MQ) |      \
     VDUSE_BIT(VIRTIO_NET_F_DEVICE_STATS))

static const uint8_t dev_mac[6] = {0x02, 0, 0, 0, 0, 0x10};

/**
 * struct Fixture - a model on an in-process kernel, its driver's memory
 * @ctx:	the model's main context
 * @nd:		the model
 * @k:		the kernel, made by the opener
 * @mem:	guest memory of ASID 0 and ASID 1
 * @cvq:	the driver's control queue, in ASID 1's memory
 * @fds:	socketpairs standing for the TAP queues (ours, the far ends)
 * @events:	the model's events, one "NAME DATA" a line
 * @cmd_next:	next free byte of the command area
 */
typedef struct Fixture {
    GMainContext *ctx;
    NetDev *nd;
    TestKernel *k;
    TestMem *mem[2];
    TestRing cvq;
    int fds[4];
    GString *events;
    size_t cmd_next;
} Fixture;

/* record_event() - a NetEventFn keeping each event as a line. */
static void record_event(const char *event, JsonNode *data, void *opaque)
{
    Fixture *f = opaque;
    g_autofree char *text = json_to_string(data, FALSE);

    g_string_append_printf(f->events, "%s %s\n", event, text);
    json_node_unref(data);
}

/* open_on_test_kernel() - a NetDevOpener making the fixture's kernel. */
static VduseDev *open_on_test_kernel(const VduseDevConfig *cfg,
                                     const VduseDevOps *ops, void *ops_opaque,
                                     GMainContext *ctx, void *data,
                                     GError **error)
{
    Fixture *f = data;

    f->k = test_kernel_new(
        cfg, VDUSE_API_VERSION_1,
        VDUSE_BIT(VDUSE_F_QUEUE_READY) | VDUSE_BIT(VDUSE_F_SUSPEND), ctx);
    return test_kernel_open(f->k, cfg, true, ops, ops_opaque, error);
}

/**
 * fixture_setup() - the model open, the driver up with the control queue
 * in ASID 1, ready, and DRIVER_OK set
 * @f:		the fixture
 * @data:	unused
 */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    NetOptions opts = {
        .name = "nd0", .mtu = 1500, .queue_pairs = 2, .ctrl_vq = true};
    g_autoptr(GError) error = NULL;
    int tap_fds[2];

    memset(f, 0, sizeof(*f));
    memcpy(opts.mac, dev_mac, 6);
    f->ctx = g_main_context_new();
    f->events = g_string_new(NULL);
    for (int i = 0; i < 2; i++) {
        int sv[2];

        g_assert_cmpint(
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
        tap_fds[i] = sv[0];
        f->fds[2 + i] = sv[1];
    }
    f->nd = net_dev_new(&opts, tap_fds, 2);
    net_dev_set_event_handler(f->nd, record_event, f);
    g_assert_true(
        net_dev_open_with(f->nd, open_on_test_kernel, f, f->ctx, &error));
    g_assert_no_error(error);

    for (int a = 0; a < 2; a++) {
        f->mem[a] = test_mem_new(GUEST_SIZE);
        g_assert_cmpint(
            test_kernel_map(f->k, a, GUEST_IOVA, f->mem[a], 0, GUEST_SIZE, RW),
            ==, 0);
    }
    test_ring_init(&f->cvq, f->mem[1], GUEST_IOVA, CVQ_RING_OFF, 64, 0);
    test_kernel_set_vq_ring(f->k, CVQ, &f->cvq);

    test_kernel_set_driver_features(f->k, FEATURES);
    g_assert_cmpuint(
        test_kernel_set_status(f->k, VDUSE_S_ACKNOWLEDGE | VDUSE_S_DRIVER), ==,
        VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_UP), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 1), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_vq_ready(f->k, CVQ, true), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpint(test_kernel_vq(f->k, CVQ)->kickfd, >=, 0);
}

/* fixture_teardown() - close and free everything. */
static void fixture_teardown(Fixture *f, gconstpointer data)
{
    g_assert_cmpuint(test_kernel_bad_answers(f->k), ==, 0);
    net_dev_free(f->nd); /* closes our ends of the socketpairs */
    test_kernel_free(f->k);
    for (int a = 0; a < 2; a++) {
        test_mem_free(f->mem[a]);
    }
    close(f->fds[2]);
    close(f->fds[3]);
    g_string_free(f->events, TRUE);
    g_main_context_unref(f->ctx);
}

/**
 * add_command() - the driver queues one control command, not yet kicked
 * @f:		the fixture
 * @class:	VIRTIO_NET_CTRL_*
 * @cmd:	the command in its class
 * @payload:	its data
 * @len:	its length
 * @decoy:	what ASID 0's memory holds at the same IOVAs instead, or NULL
 *
 * Return: where the driver will find the status byte, in ASID 1's memory.
 */
static uint8_t *add_command(Fixture *f, uint8_t class, uint8_t cmd,
                            const void *payload, size_t len, const void *decoy)
{
    size_t off = CMD_OFF + f->cmd_next;
    uint8_t *out = f->mem[1]->host + off;
    TestBuf b[2] = {{GUEST_IOVA + off, (uint32_t)(2 + len), false},
                    {GUEST_IOVA + off + 2 + len, 1, true}};

    out[0] = class;
    out[1] = cmd;
    memcpy(out + 2, payload, len);
    out[2 + len] = 0xee; /* not VIRTIO_NET_OK nor ERR */
    if (decoy) {
        memcpy(f->mem[0]->host + off, out, 2);
        memcpy(f->mem[0]->host + off + 2, decoy, len);
    }
    f->cmd_next += (2 + len + 1 + 63) & ~(size_t)63;
    test_ring_add(&f->cvq, b, 2, 0);
    return out + 2 + len;
}

/* kick() - the driver kicks the control queue. */
static void kick(Fixture *f)
{
    uint64_t one = 1;

    g_assert_cmpint(write(test_kernel_vq(f->k, CVQ)->kickfd, &one, sizeof(one)),
                    ==, sizeof(one));
}

/**
 * serve() - run the model's main context until @n used entries came back
 * @f:		the fixture
 * @n:		how many
 *
 * Return: how many came back within a bounded number of iterations.
 */
static unsigned int serve(Fixture *f, unsigned int n)
{
    unsigned int got = 0;
    uint32_t id, len;

    for (int i = 0; i < 200 && got < n; i++) {
        g_main_context_iteration(f->ctx, FALSE);
        while (got < n && test_ring_get_used(&f->cvq, &id, &len)) {
            got++;
        }
        if (got < n) {
            g_usleep(1000);
        }
    }
    return got;
}

/**
 * command() - one command, kicked and answered
 * Return: the status byte the device wrote.
 */
static uint8_t command(Fixture *f, uint8_t class, uint8_t cmd,
                       const void *payload, size_t len)
{
    uint8_t *status = add_command(f, class, cmd, payload, len, NULL);

    kick(f);
    g_assert_cmpuint(serve(f, 1), ==, 1);
    return *status;
}

/* report_text() - the model's report (net_dev_report()) as text. */
static char *report_text(Fixture *f)
{
    g_autoptr(JsonNode) r = net_dev_report(f->nd);

    return json_to_string(r, FALSE);
}

/*
 * MAC_ADDR_SET through ASID 1 (a decoy sits at the same IOVAs in ASID 0):
 * acknowledged, in the shadow, in config space, and an event; a command
 * of the wrong length is refused and changes nothing.
 */
static void test_mac_addr_set(Fixture *f, gconstpointer data)
{
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x77};
    static const uint8_t decoy[6] = {0x02, 0xde, 0xc0, 0, 0, 1};
    g_autofree char *report = NULL;
    uint8_t *status;

    status = add_command(f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
                         mac, 6, decoy);
    kick(f);
    g_assert_cmpuint(serve(f, 1), ==, 1);
    g_assert_cmpuint(*status, ==, VIRTIO_NET_OK);
    g_assert_cmpmem(test_kernel_config(f->k), 6, mac, 6);
    report = report_text(f);
    g_assert_nonnull(strstr(report, "\"mac\":\"02:00:00:00:00:77\""));
    g_assert_null(strstr(report, "de:c0"));
    g_assert_nonnull(strstr(f->events->str, "SHADOW_CHANGED"));
    g_assert_cmpuint(test_kernel_vq(f->k, CVQ)->irqs, >=, 1);

    g_string_truncate(f->events, 0);
    g_assert_cmpuint(
        command(f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 5),
        ==, VIRTIO_NET_ERR);
    g_assert_cmpmem(test_kernel_config(f->k), 6, mac, 6);
    g_assert_cmpstr(f->events->str, ==, "");
}

/*
 * VQ_PAIRS_SET: two pairs (the TAP has two queues) acknowledged and
 * active; three refused; RX mode commands acknowledged into the shadow.
 */
static void test_pairs_and_rx_mode(Fixture *f, gconstpointer data)
{
    uint16_t two = htole16(2), three = htole16(3);
    uint8_t off = 0;
    g_autofree char *report = NULL;

    g_assert_cmpuint(command(f, VIRTIO_NET_CTRL_MQ,
                             VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &two, 2),
                     ==, VIRTIO_NET_OK);
    g_assert_cmpuint(command(f, VIRTIO_NET_CTRL_MQ,
                             VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &three, 2),
                     ==, VIRTIO_NET_ERR);
    g_assert_cmpuint(
        command(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &off, 1), ==,
        VIRTIO_NET_OK);
    report = report_text(f);
    g_assert_nonnull(strstr(report, "\"active-pairs\":2"));
    g_assert_nonnull(strstr(report, "\"queue-pairs\":2"));
    g_assert_nonnull(strstr(report, "\"promisc\":false"));
}

/*
 * A batch of 30 commands (60 of the ring's 64 descriptors) in one kick: every
 * one answered, in order, with far fewer interrupts than commands (one per
 * burst the driver asks for).
 */
static void test_batch(Fixture *f, gconstpointer data)
{
    uint8_t *status[30];

    for (int i = 0; i < 30; i++) {
        uint8_t on = (uint8_t)(i & 1);

        status[i] = add_command(f, VIRTIO_NET_CTRL_RX,
                                VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1, NULL);
    }
    kick(f);
    g_assert_cmpuint(serve(f, 30), ==, 30);
    for (int i = 0; i < 30; i++) {
        g_assert_cmpuint(*status[i], ==, VIRTIO_NET_OK);
    }
    g_assert_cmpuint(test_kernel_vq(f->k, CVQ)->irqs, <=, 2);
}

/*
 * Bad chains: one without a status buffer is handed back empty, one over
 * 64 KiB is refused; a loop fails the queue (QUEUE_FAILED for the control
 * queue) and nothing more is answered.
 */
static void test_bad_chains(Fixture *f, gconstpointer data)
{
    size_t off = CMD_OFF + 0x20000;
    TestBuf only_out = {GUEST_IOVA + off, 3, false};
    TestBuf big[2] = {{GUEST_IOVA + off, 65 * 1024, false},
                      {GUEST_IOVA + off + 65 * 1024, 1, true}};
    uint32_t id, len;
    uint16_t head;

    test_ring_add(&f->cvq, &only_out, 1, 0);
    kick(f);
    for (int i = 0; i < 200 && !test_ring_get_used(&f->cvq, &id, &len); i++) {
        g_main_context_iteration(f->ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(len, ==, 0);

    f->mem[1]->host[off + 65 * 1024] = 0xee;
    test_ring_add(&f->cvq, big, 2, 0);
    kick(f);
    g_assert_cmpuint(serve(f, 1), ==, 1);
    g_assert_cmpuint(f->mem[1]->host[off + 65 * 1024], ==, VIRTIO_NET_ERR);

    head = test_ring_add(&f->cvq, big, 2, 0);
    test_ring_set_desc(&f->cvq, head, GUEST_IOVA + off, 3, VRING_DESC_F_NEXT,
                       head);
    kick(f);
    g_assert_cmpuint(serve(f, 1), ==, 0);
    g_assert_nonnull(strstr(f->events->str, "QUEUE_FAILED {\"queue\":4}"));
    add_command(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, "\1", 1,
                NULL);
    kick(f);
    g_assert_cmpuint(serve(f, 1), ==, 0);
}

/*
 * A suspended device answers nothing (the commands wait for the
 * destination); a reset gives config space its MAC back and says so.
 */
static void test_suspend_and_reset(Fixture *f, gconstpointer data)
{
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x55};
    uint8_t *status;

    g_assert_cmpuint(
        command(f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 6),
        ==, VIRTIO_NET_OK);
    g_assert_cmpuint(test_kernel_suspend(f->k), ==, VDUSE_REQ_RESULT_OK);
    status = add_command(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
                         "\0", 1, NULL);
    kick(f);
    g_assert_cmpuint(serve(f, 1), ==, 0);
    g_assert_cmpuint(*status, ==, 0xee);

    g_string_truncate(f->events, 0);
    g_assert_cmpuint(test_kernel_set_status(f->k, 0), ==, VDUSE_REQ_RESULT_OK);
    g_assert_cmpmem(test_kernel_config(f->k), 6, dev_mac, 6);
    g_assert_nonnull(strstr(f->events->str, "STATUS_CHANGED {\"status\":0}"));
}

/*
 * STATS_QUERY and STATS_GET as Linux sends them: the status is the first
 * writable byte, the result follows it; a result that does not fit is
 * refused with nothing written but the status.
 */
static void test_stats(Fixture *f, gconstpointer data)
{
    size_t off = CMD_OFF + f->cmd_next;
    uint8_t *out = f->mem[1]->host + off;
    /* Pair 1's TX (vq 3) and the control queue (vq 4). */
    static const uint8_t req[32] = {3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                                    0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    TestBuf b[3] = {{GUEST_IOVA + off, 2 + sizeof(req), false},
                    {GUEST_IOVA + off + 64, 1, true},
                    {GUEST_IOVA + off + 128, 80, true}};
    uint32_t id, len = 0;
    uint64_t v;

    g_assert_cmpuint(command(f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
                             (uint8_t[]){0}, 1),
                     ==, VIRTIO_NET_OK);
    off = CMD_OFF + f->cmd_next;
    out = f->mem[1]->host + off;
    for (int i = 0; i < 3; i++) {
        b[i].iova = GUEST_IOVA + off + (i ? 64 * i : 0);
    }
    out[0] = VIRTIO_NET_CTRL_STATS;
    out[1] = VIRTIO_NET_CTRL_STATS_GET;
    memcpy(out + 2, req, sizeof(req));
    memset(out + 64, 0xee, 1 + 128);
    test_ring_add(&f->cvq, b, 3, 0);
    kick(f);
    for (int i = 0; i < 200 && !test_ring_get_used(&f->cvq, &id, &len); i++) {
        g_main_context_iteration(f->ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpuint(out[64], ==, VIRTIO_NET_OK);
    g_assert_cmpuint(len, ==, 1 + 56 + 24);
    /* TX_BASIC of vq 3, then CVQ of vq 4: 2 commands before, 1 OK. */
    g_assert_cmpuint(out[128], ==, 16);
    g_assert_cmpuint(out[130], ==, 3);
    g_assert_cmpuint(out[134], ==, 56);
    g_assert_cmpuint(out[128 + 56], ==, 32);
    g_assert_cmpuint(out[128 + 58], ==, 4);
    memcpy(&v, out + 128 + 64, 8);
    g_assert_cmpuint(le64toh(v), ==, 1);
    memcpy(&v, out + 128 + 72, 8);
    g_assert_cmpuint(le64toh(v), ==, 1);
    /* 79 bytes for 80: refused, nothing written past the status. */
    f->cmd_next += 256;
    off = CMD_OFF + f->cmd_next;
    out = f->mem[1]->host + off;
    for (int i = 0; i < 3; i++) {
        b[i].iova = GUEST_IOVA + off + (i ? 64 * i : 0);
    }
    b[2].len = 79;
    out[0] = VIRTIO_NET_CTRL_STATS;
    out[1] = VIRTIO_NET_CTRL_STATS_GET;
    memcpy(out + 2, req, sizeof(req));
    memset(out + 64, 0xee, 1 + 128);
    test_ring_add(&f->cvq, b, 3, 0);
    kick(f);
    g_assert_cmpuint(serve(f, 1), ==, 1);
    g_assert_cmpuint(out[64], ==, VIRTIO_NET_ERR);
    g_assert_cmpuint(out[128], ==, 0xee);
    f->cmd_next += 256;
}

/*
 * Config space: the speed of a socketpair TAP is unknown; RSS, when the
 * steering program loads here, with its limits, and RSS_CONFIG then takes
 * effect on the pairs and in the shadow.
 */
static void test_config_rss(Fixture *f, gconstpointer data)
{
    const struct virtio_net_config *c =
        (const struct virtio_net_config *)test_kernel_config(f->k);
    g_autofree char *report = NULL;
    uint8_t cmd[8 + 2 * 2 + 3 + 40] = {0x3f, 0, 0, 0, 1, 0, 0, 0,
                                       0,    0, 1, 0, 2, 0, 40};

    g_assert_cmpuint(le32toh(c->speed), ==, 0xffffffffu);
    g_assert_cmpuint(c->duplex, ==, 0xff);
    if (!(net_dev_offered_features(f->nd) & VDUSE_BIT(VIRTIO_NET_F_RSS))) {
        g_assert_cmpuint(c->rss_max_key_size, ==, 0);
        g_test_skip("no steering program here (root and bpf() needed)");
        return;
    }
    g_assert_cmpuint(c->rss_max_key_size, ==, 40);
    g_assert_cmpuint(le16toh(c->rss_max_indirection_table_length), ==, 128);
    g_assert_cmpuint(le32toh(c->supported_hash_types), ==, 0x3f);
    /* The driver negotiated without RSS: refused. */
    g_assert_cmpuint(command(f, VIRTIO_NET_CTRL_MQ,
                             VIRTIO_NET_CTRL_MQ_RSS_CONFIG, cmd, sizeof(cmd)),
                     ==, VIRTIO_NET_ERR);
    /* Again with RSS negotiated, as fixture_setup() brings it up. */
    g_assert_cmpuint(test_kernel_set_status(f->k, 0), ==, VDUSE_REQ_RESULT_OK);
    test_ring_init(&f->cvq, f->mem[1], GUEST_IOVA, CVQ_RING_OFF, 64, 0);
    test_kernel_set_vq_ring(f->k, CVQ, &f->cvq);
    test_kernel_set_driver_features(f->k,
                                    FEATURES | VDUSE_BIT(VIRTIO_NET_F_RSS));
    g_assert_cmpuint(
        test_kernel_set_status(f->k, VDUSE_S_ACKNOWLEDGE | VDUSE_S_DRIVER), ==,
        VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_UP), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 1), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_vq_ready(f->k, CVQ, true), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(command(f, VIRTIO_NET_CTRL_MQ,
                             VIRTIO_NET_CTRL_MQ_RSS_CONFIG, cmd, sizeof(cmd)),
                     ==, VIRTIO_NET_OK);
    report = report_text(f);
    g_assert_nonnull(strstr(report, "\"active-pairs\":2"));
    g_assert_nonnull(strstr(report,
                            "\"rss\":{\"enabled\":true,\"hash-types\":63,"
                            "\"indirection-table\":[0,1]"));

    /* A restore (QEMU's destination): after a reset the same features
     * bring the RSS configuration back, with its pairs. */
    {
        g_autofree NetState *st = g_new0(NetState, 1);
        g_autofree char *reset = NULL, *again = NULL;

        net_dev_get_state(f->nd, st);
        g_assert_true(st->shadow.rss.enabled);
        g_assert_cmpuint(test_kernel_set_status(f->k, 0), ==,
                         VDUSE_REQ_RESULT_OK);
        reset = report_text(f);
        g_assert_nonnull(strstr(reset, "\"rss\":{\"enabled\":false"));
        g_assert_nonnull(strstr(reset, "\"active-pairs\":1"));
        net_dev_restore(f->nd, st);
        test_kernel_set_driver_features(f->k, st->negotiated);
        g_assert_cmpuint(
            test_kernel_set_status(f->k, VDUSE_S_ACKNOWLEDGE | VDUSE_S_DRIVER),
            ==, VDUSE_REQ_RESULT_OK);
        g_assert_cmpuint(test_kernel_set_status(f->k, S_UP), ==,
                         VDUSE_REQ_RESULT_OK);
        g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                         VDUSE_REQ_RESULT_OK);
        again = report_text(f);
        g_assert_nonnull(strstr(again, "\"active-pairs\":2"));
        g_assert_nonnull(strstr(again,
                                "\"rss\":{\"enabled\":true,\"hash-types\":63,"
                                "\"indirection-table\":[0,1]"));
    }
}

/* add() - register a test on the fixture. */
static void add(const char *path, void (*fn)(Fixture *, gconstpointer))
{
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("/netdev/cvq/mac-addr-set-asid-1", test_mac_addr_set);
    add("/netdev/cvq/pairs-and-rx-mode", test_pairs_and_rx_mode);
    add("/netdev/cvq/batch", test_batch);
    add("/netdev/cvq/bad-chains", test_bad_chains);
    add("/netdev/cvq/suspend-and-reset", test_suspend_and_reset);
    add("/netdev/cvq/stats", test_stats);
    add("/netdev/config/rss", test_config_rss);
    return g_test_run();
}
