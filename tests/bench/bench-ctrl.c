/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-ctrl.c - control-queue round trips on the host-level driver:
 * p50/p99/max per command, with and without a state file
 *
 * The device model (NetDev: the control-queue service, its shadow, the
 * events, the state saver) runs its main context in a thread of its own,
 * on the in-process VDUSE kernel of tests/unit/test-driver.c, with the
 * control queue in ASID 1 as a VMM leaves it after SET_VQ_GROUP_ASID. The
 * driver, in the main thread, posts one command, kicks, and waits (polling
 * the used index) for the answer; the time from the kick to the used
 * entry is one round trip. The event handler does what vduse-net's does
 * with an event: it writes the event as a JSON line (for the management
 * clients) and asks the saver for a save. With a state file, issue 12's
 * target says no disk wait may sit between a command and its answer; the
 * two runs side by side show whether one does.
 *
 * Never fails on speed; fails if a command is not answered VIRTIO_NET_OK
 * within a second.
 */
#include "config.h"

#include <endian.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net-priv.h"
#include "test-driver.h"
#include "vduse-abi.h"

#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)
#define CVQ_RING_OFF 0x10000
#define CMD_OFF 0x40000
#define CVQ 4 /* two pairs: vqs 0-3, then the control queue */
#define S_UP (VDUSE_S_ACKNOWLEDGE | VDUSE_S_DRIVER | VDUSE_S_FEATURES_OK)
#define FEATURES                                                               \
    (VDUSE_BIT(VDUSE_F_VERSION_1) | VDUSE_BIT(VDUSE_F_ACCESS_PLATFORM) |       \
     VDUSE_BIT(VIRTIO_NET_F_MAC) | VDUSE_BIT(VIRTIO_NET_F_STATUS) |            \
     VDUSE_BIT(VIRTIO_NET_F_CTRL_VQ) | VDUSE_BIT(VIRTIO_NET_F_CTRL_RX) |       \
     VDUSE_BIT(VIRTIO_NET_F_CTRL_VLAN) |                                       \
     VDUSE_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VDUSE_BIT(VIRTIO_NET_F_MQ))
/* How long one answer may take before the run is called broken. */
#define ANSWER_LIMIT_NS 1000000000ll
#define TARGET_P99_US 1000.0

/**
 * struct Bench - the model in its thread, the driver's side of it
 * @ctx:	the model's main context
 * @nd:		the model
 * @k:		the in-process kernel, made by the opener
 * @mem:	guest memory of ASID 0 and ASID 1
 * @cvq:	the driver's control queue, in ASID 1's memory
 * @fds:	socketpairs standing for the TAP queues (far ends)
 * @saver:	the state saver, or NULL without a state file
 * @stop:	tells the model's thread to return
 * @lines:	event lines written (the model's thread only)
 */
typedef struct Bench {
    GMainContext *ctx;
    NetDev *nd;
    TestKernel *k;
    TestMem *mem[2];
    TestRing cvq;
    int fds[2];
    NetStateSaver *saver;
    int stop;
    unsigned long lines;
} Bench;

/**
 * struct Command - one kind of command the driver repeats
 * @name:	for the table
 * @class:	VIRTIO_NET_CTRL_*
 * @cmd:	the command in its class
 * @payload:	two payloads, used alternately (each one changes the shadow)
 * @len:	their length
 */
typedef struct Command {
    const char *name;
    uint8_t class;
    uint8_t cmd;
    uint8_t payload[2][64];
    size_t len;
} Command;

/* now_ns() - the monotonic clock in nanoseconds. */
static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* on_event() - what vduse-net does with an event: a JSON line, a save. */
static void on_event(const char *event, JsonNode *data, void *opaque)
{
    Bench *b = opaque;
    g_autofree char *text = json_to_string(data, FALSE);
    g_autofree char *line =
        g_strdup_printf("{\"event\":\"%s\",\"data\":%s}\n", event, text);

    b->lines += line[0] != 0;
    json_node_unref(data);
    net_state_saver_request(b->saver);
}

/*
 * quiet_writer() - a GLogWriterFunc passing on warnings and worse: the
 * socketpairs standing for TAP queues make the model log a message per
 * queue-pairs change (TUNSETOFFLOAD on a socket), a thousand times.
 */
static GLogWriterOutput quiet_writer(GLogLevelFlags level,
                                     const GLogField *fields, gsize n_fields,
                                     gpointer data)
{
    if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) {
        return G_LOG_WRITER_HANDLED;
    }
    return g_log_writer_default(level, fields, n_fields, data);
}

/* open_on_test_kernel() - a NetDevOpener making the bench's kernel. */
static VduseDev *open_on_test_kernel(const VduseDevConfig *cfg,
                                     const VduseDevOps *ops, void *ops_opaque,
                                     GMainContext *ctx, void *data,
                                     GError **error)
{
    Bench *b = data;

    b->k = test_kernel_new(
        cfg, VDUSE_API_VERSION_1,
        VDUSE_BIT(VDUSE_F_QUEUE_READY) | VDUSE_BIT(VDUSE_F_SUSPEND), ctx);
    return test_kernel_open(b->k, cfg, true, ops, ops_opaque, error);
}

/**
 * bench_open() - the model open, the driver up with the control queue in
 * ASID 1 and DRIVER_OK set, a saver on @state_path if not NULL
 * Return: true on success; @error set if not.
 */
static bool bench_open(Bench *b, const char *state_path, GError **error)
{
    NetOptions opts = {.name = "bench0",
                       .mac = {0x02, 0, 0, 0, 0, 0x10},
                       .mtu = 1500,
                       .queue_pairs = 2,
                       .ctrl_vq = true};
    int tap_fds[2];
    const uint32_t ok = VDUSE_REQ_RESULT_OK;

    memset(b, 0, sizeof(*b));
    b->ctx = g_main_context_new();
    for (int i = 0; i < 2; i++) {
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                        "socketpair: %s", g_strerror(errno));
            return false;
        }
        tap_fds[i] = sv[0];
        b->fds[i] = sv[1];
    }
    b->nd = net_dev_new(&opts, tap_fds, 2);
    net_dev_set_event_handler(b->nd, on_event, b);
    if (!net_dev_open_with(b->nd, open_on_test_kernel, b, b->ctx, error)) {
        return false;
    }
    if (state_path) {
        b->saver = net_state_saver_new(b->nd, state_path, b->ctx);
    }
    for (uint32_t a = 0; a < 2; a++) {
        b->mem[a] = test_mem_new(GUEST_SIZE);
        if (test_kernel_map(b->k, a, GUEST_IOVA, b->mem[a], 0, GUEST_SIZE,
                            VDUSE_ACCESS_RW) < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "map ASID %u", a);
            return false;
        }
    }
    test_ring_init(&b->cvq, b->mem[1], GUEST_IOVA, CVQ_RING_OFF, 64, 0);
    test_kernel_set_vq_ring(b->k, CVQ, &b->cvq);
    test_kernel_set_driver_features(b->k, FEATURES);
    if (test_kernel_set_status(b->k, VDUSE_S_ACKNOWLEDGE | VDUSE_S_DRIVER) !=
            ok ||
        test_kernel_set_status(b->k, S_UP) != ok ||
        test_kernel_set_group_asid(b->k, 1, 1) != ok ||
        test_kernel_set_vq_ready(b->k, CVQ, true) != ok ||
        test_kernel_set_status(b->k, S_UP | VDUSE_S_DRIVER_OK) != ok ||
        test_kernel_vq(b->k, CVQ)->kickfd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the driver could not bring the device up");
        return false;
    }
    return true;
}

/* bench_close() - flush the saver, close and free everything. */
static void bench_close(Bench *b)
{
    net_state_saver_free(b->saver);
    net_dev_free(b->nd); /* closes our ends of the socketpairs */
    if (b->k) {
        test_kernel_free(b->k);
    }
    for (int a = 0; a < 2; a++) {
        if (b->mem[a]) {
            test_mem_free(b->mem[a]);
        }
    }
    for (int i = 0; i < 2; i++) {
        if (b->fds[i] > 0) {
            close(b->fds[i]);
        }
    }
    g_main_context_unref(b->ctx);
}

/* model_thread() - run the model's main context until told to stop. */
static gpointer model_thread(gpointer data)
{
    Bench *b = data;

    g_main_context_push_thread_default(b->ctx);
    while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
        g_main_context_iteration(b->ctx, TRUE);
    }
    g_main_context_pop_thread_default(b->ctx);
    return NULL;
}

/**
 * round_trip() - post one command, kick, wait for its answer
 * @b:		the bench
 * @c:		the command
 * @which:	its payload, 0 or 1
 * @ns:		receives the time from the kick to the used entry
 *
 * Return: the status byte, or -1 if no answer came within a second.
 */
static int round_trip(Bench *b, const Command *c, int which, int64_t *ns)
{
    uint8_t *out = b->mem[1]->host + CMD_OFF;
    uint8_t *status = out + 2 + c->len;
    TestBuf bufs[2] = {{GUEST_IOVA + CMD_OFF, (uint32_t)(2 + c->len), false},
                       {GUEST_IOVA + CMD_OFF + 2 + c->len, 1, true}};
    uint16_t used = test_ring_used_idx(&b->cvq);
    uint64_t one = 1;
    uint32_t id, len;
    int64_t start;

    out[0] = c->class;
    out[1] = c->cmd;
    memcpy(out + 2, c->payload[which], c->len);
    *status = 0xee; /* neither VIRTIO_NET_OK nor ERR */
    test_ring_add(&b->cvq, bufs, 2, 0);
    start = now_ns();
    if (write(test_kernel_vq(b->k, CVQ)->kickfd, &one, sizeof(one)) !=
        sizeof(one)) {
        return -1;
    }
    while (test_ring_used_idx(&b->cvq) == used) {
        if (now_ns() - start > ANSWER_LIMIT_NS) {
            return -1;
        }
    }
    *ns = now_ns() - start;
    if (!test_ring_get_used(&b->cvq, &id, &len)) {
        return -1;
    }
    return *status;
}

/* cmp_ns() - qsort order of int64_t. */
static int cmp_ns(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* quantile_us() - the @q quantile of the sorted @ns, in microseconds. */
static double quantile_us(const int64_t *ns, size_t n, double q)
{
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);

    return (double)ns[MIN(i, n - 1)] / 1000.0;
}

/**
 * run_commands() - @count round trips of each command, a row each, and
 * one row for all of them
 * @b:		the bench, its model thread running
 * @label:	the run's name for the rows
 * @cmds:	the commands
 * @ncmds:	how many
 * @count:	round trips of each
 * @p99_all:	receives the p99 over all round trips, in microseconds
 *
 * Return: true if every command was answered VIRTIO_NET_OK.
 */
static bool run_commands(Bench *b, const char *label, const Command *cmds,
                         size_t ncmds, unsigned int count, double *p99_all)
{
    g_autofree int64_t *all = g_new(int64_t, ncmds * count);
    g_autofree int64_t *one = g_new(int64_t, count);
    size_t nall = 0;

    for (size_t c = 0; c < ncmds; c++) {
        for (unsigned int i = 0; i < count; i++) {
            int st = round_trip(b, &cmds[c], (int)(i & 1), &one[i]);

            if (st != VIRTIO_NET_OK) {
                fprintf(stderr, "bench-ctrl: %s: %s #%u: %s\n", label,
                        cmds[c].name, i,
                        st < 0 ? "no answer within a second"
                               : "answered VIRTIO_NET_ERR");
                return false;
            }
            all[nall++] = one[i];
        }
        qsort(one, count, sizeof(one[0]), cmp_ns);
        printf("%-14s %-22s %7u %9.1f %9.1f %9.1f\n", label, cmds[c].name,
               count, quantile_us(one, count, 0.5),
               quantile_us(one, count, 0.99), (double)one[count - 1] / 1000.0);
    }
    qsort(all, nall, sizeof(all[0]), cmp_ns);
    *p99_all = quantile_us(all, nall, 0.99);
    printf("%-14s %-22s %7zu %9.1f %9.1f %9.1f\n", label, "all", nall,
           quantile_us(all, nall, 0.5), *p99_all,
           (double)all[nall - 1] / 1000.0);
    return true;
}

/**
 * bench_run() - one run: open, the model's thread, the commands, close
 * @label:	the run's name for the rows
 * @state_path:	the state file, or NULL for none
 * @cmds:	the commands
 * @ncmds:	how many
 * @count:	round trips of each
 * @p99:	receives the p99 over all round trips (microseconds)
 *
 * Return: true if the device answered every command.
 */
static bool bench_run(const char *label, const char *state_path,
                      const Command *cmds, size_t ncmds, unsigned int count,
                      double *p99)
{
    g_autoptr(GError) error = NULL;
    GThread *thread;
    Bench b;
    bool ok;

    if (!bench_open(&b, state_path, &error)) {
        fprintf(stderr, "bench-ctrl: %s\n", error->message);
        bench_close(&b);
        return false;
    }
    thread = g_thread_new("model", model_thread, &b);
    ok = run_commands(&b, label, cmds, ncmds, count, p99);
    __atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
    g_main_context_wakeup(b.ctx);
    g_thread_join(thread);
    if (ok && b.lines == 0) {
        fprintf(stderr, "bench-ctrl: %s: no event came out\n", label);
        ok = false;
    }
    bench_close(&b);
    return ok;
}

/* commands_init() - the commands a Linux guest sends, two payloads each. */
static void commands_init(Command cmds[5])
{
    /* MAC TABLE_SET: 2 unicast, then 3 multicast entries (le32 counts). */
    static const uint8_t uni[4 + 2 * 6] = {2, 0, 0,    0, 0x02, 0, 0, 0,
                                           1, 1, 0x02, 0, 0,    0, 1, 2};
    static const uint8_t multi[4 + 3 * 6] = {
        3, 0,    0, 0, 0x01, 0,    0x5e, 0, 0, 1, 0x01,
        0, 0x5e, 0, 0, 2,    0x33, 0x33, 0, 0, 0, 1};

    memset(cmds, 0, 5 * sizeof(cmds[0]));
    cmds[0] = (Command){"rx promisc",
                        VIRTIO_NET_CTRL_RX,
                        VIRTIO_NET_CTRL_RX_PROMISC,
                        {{1}, {0}},
                        1};
    cmds[1] = (Command){"mac addr-set",
                        VIRTIO_NET_CTRL_MAC,
                        VIRTIO_NET_CTRL_MAC_ADDR_SET,
                        {{0x02, 0, 0, 0, 0, 0x21}, {0x02, 0, 0, 0, 0, 0x22}},
                        6};
    cmds[2] = (Command){"mac table-set",
                        VIRTIO_NET_CTRL_MAC,
                        VIRTIO_NET_CTRL_MAC_TABLE_SET,
                        {{0}},
                        sizeof(uni) + sizeof(multi)};
    for (int i = 0; i < 2; i++) {
        memcpy(cmds[2].payload[i], uni, sizeof(uni));
        memcpy(cmds[2].payload[i] + sizeof(uni), multi, sizeof(multi));
    }
    cmds[2].payload[1][9] = 9; /* another first unicast address */
    cmds[3] = (Command){"vlan add",
                        VIRTIO_NET_CTRL_VLAN,
                        VIRTIO_NET_CTRL_VLAN_ADD,
                        {{10, 0}, {11, 0}},
                        2};
    cmds[4] = (Command){"mq vq-pairs-set",
                        VIRTIO_NET_CTRL_MQ,
                        VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
                        {{2, 0}, {1, 0}},
                        2};
}

int main(int argc, char **argv)
{
    g_autoptr(GOptionContext) oc = g_option_context_new(
        "- control-queue round trips on the host-level driver");
    int opt_count = 1000;
    GOptionEntry options[] = {{"count", 'n', 0, G_OPTION_ARG_INT, &opt_count,
                               "Round trips of each command (default 1000)",
                               "N"},
                              {0}};
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *path = NULL;
    Command cmds[5];
    double p99_none = 0, p99_file = 0;
    bool ok;

    g_log_set_writer_func(quiet_writer, NULL, NULL);
    g_option_context_add_main_entries(oc, options, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &error)) {
        fprintf(stderr, "bench-ctrl: %s\n", error->message);
        return 2;
    }
    if (opt_count < 1 || opt_count > 1000000) {
        fprintf(stderr, "bench-ctrl: --count must be 1 to 1000000\n");
        return 2;
    }
    dir = g_dir_make_tmp("bench-ctrl-XXXXXX", &error);
    if (!dir) {
        fprintf(stderr, "bench-ctrl: %s\n", error->message);
        return 1;
    }
    path = g_build_filename(dir, "bench0.state", NULL);
    commands_init(cmds);
    printf("Kick to used entry, the model in a thread of its own, the driver "
           "polling the used index.\n");
    printf("%-14s %-22s %7s %9s %9s %9s\n", "run", "command", "n", "p50 us",
           "p99 us", "max us");
    ok = bench_run("no state file", NULL, cmds, G_N_ELEMENTS(cmds),
                   (unsigned int)opt_count, &p99_none) &&
         bench_run("state file", path, cmds, G_N_ELEMENTS(cmds),
                   (unsigned int)opt_count, &p99_file);
    g_unlink(path);
    g_rmdir(dir);
    if (!ok) {
        return 1;
    }
    printf("  control-queue p99 < %.0f us, no state file   %9.1f us %s\n",
           TARGET_P99_US, p99_none,
           p99_none < TARGET_P99_US ? "met" : "NOT MET");
    printf("  control-queue p99 < %.0f us, state file      %9.1f us %s\n",
           TARGET_P99_US, p99_file,
           p99_file < TARGET_P99_US ? "met" : "NOT MET");
    return 0;
}
