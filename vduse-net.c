/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vduse-net.c - the program: command line, main loop, device lifecycle
 *
 * DOC: Theory of operation
 *
 * main() checks the options, opens the TAP queues and /dev/vduse/control,
 * creates the device (without the control queue if the kernel refuses it
 * and the user allowed that), opens it and serves it in the main loop.
 *
 * Attaching to and detaching from the vDPA bus block until the kernel's
 * driver has probed or removed the device, and the driver talks to the
 * device meanwhile (status, queues, control commands). So those run in a
 * worker thread while the main loop goes on answering; the main loop
 * learns of their end through GTask.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mgmt.h"
#include "net.h"
#include "vduse.h"

/* --queues not given. */
#define QUEUES_UNSET G_MININT

/* How long to wait for the netdev or vhost-vdpa node after binding. */
#define DESCRIBE_TIMEOUT_MS 5000
#define DESCRIBE_POLL_MS 50

/**
 * struct Options - the command line
 * @name:	--name
 * @mac:	--mac
 * @mtu:	--mtu
 * @queues:	--queues
 * @bus:	--bus
 * @ctrl_vq:	--ctrl-vq
 * @replace:	--replace
 * @tap:	--tap
 * @tap_fd:	--tap-fd
 * @bridge:	--bridge
 * @pcap:	--pcap
 * @pcap_filter: --pcap-filter
 * @mgmt:	--mgmt
 * @restore:	--restore
 * @state_file:	--state-file
 * @version:	--version
 */
typedef struct Options {
    char *name;
    char *mac;
    int mtu;
    int queues;
    char *bus;
    char *ctrl_vq;
    gboolean replace;
    char *tap;
    char *tap_fd;
    char *bridge;
    char *pcap;
    char *pcap_filter;
    char *mgmt;
    char *restore;
    char *state_file;
    gboolean version;
} Options;

/* How the user wants the control queue. */
typedef enum CtrlVqMode {
    CTRL_VQ_AUTO,
    CTRL_VQ_ON,
    CTRL_VQ_OFF,
} CtrlVqMode;

/**
 * struct App - the running program
 * @loop:	the main loop
 * @name:	device name
 * @ctl:	/dev/vduse/control
 * @nd:		the device model
 * @bus:	where to attach
 * @on_bus:	the device was added to the vDPA bus
 * @bus_busy:	a bus add or del runs in a worker thread
 * @stopping:	a signal asked us to stop
 * @exit_code:	what main() returns
 * @describe_waited: milliseconds spent waiting for the netdev
 * @link:	watch on the TAP's carrier, or NULL
 * @capture:	the pcap file, or NULL
 * @mgmt:	the management socket, or NULL
 * @admin_up:	the link as set by set-link
 * @tap_up:	the TAP's link as last seen
 * @where:	the netdev or vhost-vdpa path reported once ready, or NULL
 * @state_file:	where to keep the state, or NULL
 */
typedef struct App {
    GMainLoop *loop;
    const char *name;
    VduseControl *ctl;
    NetDev *nd;
    VdpaBusDriver bus;
    bool on_bus;
    bool bus_busy;
    bool stopping;
    int exit_code;
    unsigned int describe_waited;
    NetLinkWatch *link;
    NetCapture *capture;
    Mgmt *mgmt;
    bool admin_up;
    bool tap_up;
    char *where;
    const char *state_file;
} App;

/**
 * die() - print one line "vduse-net: ..." and exit 1
 * @fmt:	printf format
 */
G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("vduse-net: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/**
 * usage_error() - a bad option: one line, a pointer to --help, exit 2
 * @fmt:	printf format
 */
G_GNUC_PRINTF(1, 2)
G_GNUC_NORETURN static void usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("vduse-net: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see --help)\n", stderr);
    exit(2);
}

/**
 * parse_tap_fds() - parse --tap-fd N[,N...] and check each fd
 * @text:	the option value
 * @fds:	receives the fds
 * @max:	room in @fds
 *
 * Exits with a message on a bad value. Return: the number of fds.
 */
static unsigned int parse_tap_fds(const char *text, int *fds, unsigned int max)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    unsigned int n = 0;

    for (char **p = parts; *p; p++) {
        g_autoptr(GError) error = NULL;
        guint64 fd;

        if (n == max) {
            usage_error("--tap-fd: more than %u fds", max);
        }
        if (!g_ascii_string_to_unsigned(*p, 10, 0, INT_MAX, &fd, NULL)) {
            usage_error("--tap-fd: '%s' is not a file descriptor", *p);
        }
        if (!tap_check_fd((int)fd, &error)) {
            die("--tap-fd: %s", error->message);
        }
        fds[n++] = (int)fd;
    }
    if (n == 0) {
        usage_error("--tap-fd: no file descriptor given");
    }
    return n;
}

/**
 * struct BusJob - a vDPA bus operation for a worker thread
 * @name:	device name (not owned)
 * @driver:	driver to bind, for an add
 * @add:	true to add, false to delete
 */
typedef struct BusJob {
    const char *name;
    VdpaBusDriver driver;
    bool add;
} BusJob;

/**
 * bus_thread() - run a vDPA bus add or del off the main thread
 * @task:	the task
 * @source:	unused
 * @data:	the BusJob
 * @cancel:	unused
 */
static void bus_thread(GTask *task, gpointer source, gpointer data,
                       GCancellable *cancel)
{
    BusJob *job = data;
    GError *error = NULL;
    bool ok;

    if (job->add) {
        ok = vdpa_bus_add(job->name, job->driver, &error);
    } else {
        ok = vdpa_bus_del(job->name, &error);
    }
    if (ok) {
        g_task_return_boolean(task, TRUE);
    } else {
        g_task_return_error(task, error);
    }
}

/**
 * bus_start() - start a bus operation in a worker thread
 * @name:	device name
 * @driver:	driver to bind (add)
 * @add:	true to add, false to delete
 * @done:	called in the main context when it finished
 * @data:	passed to @done
 */
static void bus_start(const char *name, VdpaBusDriver driver, bool add,
                      GAsyncReadyCallback done, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, done, data);
    BusJob *job = g_new(BusJob, 1);

    *job = (BusJob){.name = name, .driver = driver, .add = add};
    g_task_set_task_data(task, job, g_free);
    g_task_run_in_thread(task, bus_thread);
}

/**
 * bus_run() - start a bus add (@add) or del of the program's device
 * @app:	the program
 * @add:	true to add
 * @done:	called in the main context when it finished
 */
static void bus_run(App *app, bool add, GAsyncReadyCallback done)
{
    app->bus_busy = true;
    bus_start(app->name, app->bus, add, done, app);
}

/**
 * print_stats() - one line of counters per queue pair, on stderr
 * @app:	the program
 */
static void print_stats(App *app)
{
    for (unsigned int i = 0; i < net_dev_queue_pairs(app->nd); i++) {
        NetPairStats s;

        net_dev_get_stats(app->nd, i, &s);
        fprintf(stderr,
                "vduse-net: %s pair %u: tx %" G_GUINT64_FORMAT
                " frames %" G_GUINT64_FORMAT " bytes %" G_GUINT64_FORMAT
                " dropped, rx %" G_GUINT64_FORMAT " frames %" G_GUINT64_FORMAT
                " bytes %" G_GUINT64_FORMAT " dropped, %" G_GUINT64_FORMAT
                "/%" G_GUINT64_FORMAT " kicks, %" G_GUINT64_FORMAT
                "/%" G_GUINT64_FORMAT " interrupts (tx/rx)\n",
                app->name, i, s.tx_packets, s.tx_bytes, s.tx_dropped,
                s.rx_packets, s.rx_bytes, s.rx_dropped, s.tx_kicks, s.rx_kicks,
                s.tx_irqs, s.rx_irqs);
    }
}

/**
 * finish() - close and destroy the device, then leave the main loop
 * @app:	the program
 */
static void finish(App *app)
{
    g_autoptr(GError) error = NULL;

    print_stats(app);
    net_dev_close(app->nd);
    if (!vduse_control_destroy_dev(app->ctl, app->name, &error)) {
        fprintf(stderr, "vduse-net: %s\n", error->message);
        app->exit_code = 1;
    }
    g_main_loop_quit(app->loop);
}

/* bus_del_done() - the device left the vDPA bus (or failed to). */
static void bus_del_done(GObject *source, GAsyncResult *res, gpointer data)
{
    App *app = data;
    g_autoptr(GError) error = NULL;

    app->bus_busy = false;
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        fprintf(stderr, "vduse-net: %s\n", error->message);
        app->exit_code = 1;
    }
    app->on_bus = false;
    finish(app);
}

/**
 * stop() - take the device down: off the bus, closed, destroyed
 * @app:	the program
 */
static void stop(App *app)
{
    app->stopping = true;
    if (app->bus_busy) {
        return; /* the running bus operation calls us again */
    }
    if (app->on_bus) {
        bus_run(app, false, bus_del_done);
    } else {
        finish(app);
    }
}

/**
 * on_report() - SIGUSR1: print the device's state as one JSON line
 * @data:	the App
 *
 * The management socket will offer the same; this is for a shell.
 * Return: G_SOURCE_CONTINUE.
 */
static gboolean on_report(gpointer data)
{
    App *app = data;
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *text = NULL;

    if (!app->nd) {
        return G_SOURCE_CONTINUE;
    }
    node = net_dev_report(app->nd);
    text = json_to_string(node, FALSE);
    printf("%s\n", text);
    fflush(stdout);
    return G_SOURCE_CONTINUE;
}

/* on_signal() - SIGINT or SIGTERM: stop; a second one is not needed. */
static gboolean on_signal(gpointer data)
{
    App *app = data;

    if (!app->stopping) {
        stop(app);
    }
    return G_SOURCE_CONTINUE;
}

/**
 * report_ready() - print what the user needs next, once it exists
 * @data:	the App
 *
 * Polled: the netdev or the vhost-vdpa node appears when the driver's probe
 * is done, which may be a little after the bind returned.
 * Return: G_SOURCE_CONTINUE while waiting.
 */
static gboolean report_ready(gpointer data)
{
    App *app = data;
    g_autofree char *what = NULL;

    if (app->stopping) {
        return G_SOURCE_REMOVE;
    }
    what = vdpa_bus_describe(app->name);
    if (!what && app->describe_waited < DESCRIBE_TIMEOUT_MS) {
        app->describe_waited += DESCRIBE_POLL_MS;
        return G_SOURCE_CONTINUE;
    }
    if (!what) {
        printf("vduse-net: %s is on the vDPA bus; no netdev or vhost-vdpa "
               "device appeared (is the driver module loaded?)\n",
               app->name);
    } else if (g_str_has_prefix(what, "/dev/")) {
        printf("vduse-net: %s ready: %s (for -netdev "
               "vhost-vdpa,vhostdev=%s)\n",
               app->name, what, what);
    } else {
        printf("vduse-net: %s ready: netdev %s\n", app->name, what);
    }
    fflush(stdout);
    g_free(app->where);
    app->where = g_steal_pointer(&what);
    return G_SOURCE_REMOVE;
}

/* bus_add_done() - the device is on the vDPA bus (or failed to get there). */
static void bus_add_done(GObject *source, GAsyncResult *res, gpointer data)
{
    App *app = data;
    g_autoptr(GError) error = NULL;

    app->bus_busy = false;
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        fprintf(stderr, "vduse-net: %s\n", error->message);
        app->exit_code = 1;
        stop(app);
        return;
    }
    app->on_bus = true;
    if (app->stopping) {
        stop(app);
        return;
    }
    if (report_ready(app) == G_SOURCE_CONTINUE) {
        g_timeout_add(DESCRIBE_POLL_MS, report_ready, app);
    }
}

/**
 * count_vqs() - how many virtqueues an existing device has, from sysfs
 * @name:	device name
 *
 * Return: the number of vqN entries under /sys/class/vduse/@name, or 0.
 */
static uint32_t count_vqs(const char *name)
{
    g_autofree char *path = g_strdup_printf("/sys/class/vduse/%s", name);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *entry;
    uint32_t n = 0;

    while (dir && (entry = g_dir_read_name(dir))) {
        n += g_str_has_prefix(entry, "vq");
    }
    return n;
}

/**
 * struct ReplaceWait - the outcome of removing an old device from the bus
 * @done:	the removal finished
 * @error:	why it failed
 */
typedef struct ReplaceWait {
    bool done;
    GError *error;
} ReplaceWait;

/* replace_del_done() - the old device left the bus (or failed to). */
static void replace_del_done(GObject *source, GAsyncResult *res, gpointer data)
{
    ReplaceWait *wait = data;

    g_task_propagate_boolean(G_TASK(res), &wait->error);
    wait->done = true;
}

/**
 * replace_device() - take down a device of our name left by someone else
 * @app:	the program
 *
 * The old device may still be on the vDPA bus with a driver bound; its
 * driver talks to it while it is removed, so we serve its messages until
 * VDPA_CMD_DEV_DEL returns, then destroy it. Exits with a message on
 * failure.
 */
static void replace_device(App *app)
{
    g_autoptr(GError) error = NULL;
    VduseDevConfig cfg = {
        .name = app->name,
        .vq_num = count_vqs(app->name),
        .ngroups = 64,
        .nas = 64,
    };
    ReplaceWait wait = {0};
    VduseDev *old;

    if (cfg.vq_num == 0) {
        die("cannot read the queues of the existing device %s from "
            "/sys/class/vduse",
            app->name);
    }
    old = vduse_dev_open(&cfg, false, vduse_control_api_version(app->ctl),
                         vduse_control_features(app->ctl), NULL, NULL, NULL,
                         &error);
    if (!old) {
        die("cannot take over %s: %s (is another vduse-net serving it?)",
            app->name, error->message);
    }
    bus_start(app->name, VDPA_BUS_NONE, false, replace_del_done, &wait);
    while (!wait.done) {
        g_main_context_iteration(NULL, TRUE);
    }
    vduse_dev_close(old);
    if (wait.error) {
        die("cannot take %s off the vDPA bus: %s", app->name,
            wait.error->message);
    }
    if (!vduse_control_destroy_dev(app->ctl, app->name, &error)) {
        die("%s", error->message);
    }
    fprintf(stderr, "vduse-net: replaced the existing device %s\n", app->name);
}

/**
 * open_control() - open /dev/vduse/control, explaining the usual failures
 *
 * Return: the control handle; exits on failure.
 */
static VduseControl *open_control(void)
{
    g_autoptr(GError) error = NULL;
    VduseControl *ctl = vduse_control_open(&error);

    if (ctl) {
        return ctl;
    }
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
        die("/dev/vduse/control does not exist: load the VDUSE module "
            "(modprobe vduse)");
    }
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED)) {
        die("permission denied on /dev/vduse/control: run as root "
            "(creating a net device needs CAP_NET_ADMIN)");
    }
    die("%s", error->message);
}

/**
 * create_device() - VDUSE_CREATE_DEV, falling back without the control vq
 * @app:	the program
 * @opts:	the device; ctrl_vq and queue_pairs may be lowered
 * @mode:	what the user asked of the control queue
 * @tap_fds:	TAP fds, handed to the model
 * @n_tap_fds:	their number
 * @saved:	the state to restore, whose device this must be; or NULL
 */
static void create_device(App *app, NetOptions *opts, CtrlVqMode mode,
                          int *tap_fds, unsigned int n_tap_fds,
                          const NetState *saved)
{
    g_autoptr(GError) error = NULL;
    bool multiqueue;

    app->nd = net_dev_new(opts, tap_fds, n_tap_fds);
    if (saved && !net_dev_check_state(app->nd, saved, &error)) {
        die("cannot restore %s: %s", saved->name, error->message);
    }
    if (net_dev_create(app->nd, app->ctl, &error)) {
        return;
    }
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS)) {
        die("a VDUSE device named %s already exists (use --replace to take "
            "it over)",
            app->name);
    }
    if (!opts->ctrl_vq ||
        !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) {
        die("%s", error->message);
    }
    if (mode == CTRL_VQ_ON) {
        die("this kernel refuses the control virtqueue for VDUSE net devices "
            "(--ctrl-vq on): %s",
            error->message);
    }

    /* Try again without it: if that works, the control queue was refused. */
    g_clear_error(&error);
    multiqueue = opts->queue_pairs > 1;
    net_dev_drop_ctrl_vq(app->nd);
    if (!net_dev_create(app->nd, app->ctl, &error)) {
        die("%s", error->message);
    }
    fprintf(stderr,
            "vduse-net: this kernel refuses the control virtqueue for VDUSE "
            "net devices; running without it: no runtime MAC change, %s, no "
            "RX filtering by the driver\n",
            multiqueue ? "1 queue pair instead of multiqueue"
                       : "no multiqueue");
}

/* on_link_changed() - the TAP went up or down: tell the driver. */
static void on_link_changed(bool up, void *opaque)
{
    App *app = opaque;

    g_debug("%s: TAP link %s", app->name, up ? "up" : "down");
    app->tap_up = up;
    net_dev_set_link(app->nd, app->tap_up && app->admin_up);
}

/**
 * watch_link() - make the device's link follow the TAP's
 * @app:	the program, with its device model
 * @tap_fd:	a queue fd of the TAP
 *
 * A TAP in another network namespace cannot be watched; the link then
 * stays up.
 */
static void watch_link(App *app, int tap_fd)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *ifname = tap_fd_ifname(tap_fd);

    app->link = ifname
                    ? net_link_watch_new(ifname, on_link_changed, app, &error)
                    : NULL;
    if (!app->link) {
        g_debug("%s: link state not followed: %s", app->name,
                error ? error->message : "TAP has no name");
        return;
    }
    app->tap_up = net_link_watch_is_up(app->link);
    net_dev_set_link(app->nd, app->tap_up && app->admin_up);
}

/**
 * save_state() - rewrite the state file, if there is one
 * @app:	the program
 *
 * A failure is reported and the old file stays: the device keeps running.
 */
static void save_state(App *app)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = NULL;
    NetState st;

    if (!app->state_file) {
        return;
    }
    net_dev_get_state(app->nd, &st);
    node = net_state_to_json(&st);
    if (!net_state_save(node, app->state_file, &error)) {
        fprintf(stderr, "vduse-net: %s\n", error->message);
    }
}

/* on_event() - a device event: to every management client; save. */
static void on_event(const char *event, JsonNode *data, void *opaque)
{
    App *app = opaque;

    mgmt_emit_event(app->mgmt, event, data);
    save_state(app);
}

/**
 * report_member() - a copy of member @key of the device report
 * @app:	the program
 * @key:	"pairs", "shadow", ...
 *
 * Return: a new node.
 */
static JsonNode *report_member(App *app, const char *key)
{
    g_autoptr(JsonNode) report = net_dev_report(app->nd);

    return json_node_copy(
        json_object_get_member(json_node_get_object(report), key));
}

/* cmd_query_status() - the device, its driver, its binding. */
static JsonNode *cmd_query_status(JsonObject *args, GError **error,
                                  void *opaque)
{
    App *app = opaque;
    g_autoptr(JsonNode) report = net_dev_report(app->nd);
    JsonObject *o = json_node_get_object(report);
    /* As named when it appeared: a netdev moved to another namespace
     * is no longer visible here. */
    const char *where = app->where;
    static const char *const bus[] = {"none", "virtio", "vhost"};

    json_object_remove_member(o, "pairs");
    json_object_remove_member(o, "shadow");
    json_object_set_string_member(o, "bus", bus[app->bus]);
    json_object_set_boolean_member(o, "on-bus", app->on_bus);
    if (where && g_str_has_prefix(where, "/dev/")) {
        json_object_set_string_member(o, "vhost-vdpa", where);
    } else if (where) {
        json_object_set_string_member(o, "netdev", where);
    }
    return json_node_copy(report);
}

/* cmd_query_stats() - counters per queue pair. */
static JsonNode *cmd_query_stats(JsonObject *args, GError **error, void *opaque)
{
    return report_member(opaque, "pairs");
}

/**
 * mgmt_fail() - turn @err into the management socket's error
 * @error:	the reply's error
 * @err:	what went wrong; freed
 *
 * Return: NULL, for the command to return.
 */
static JsonNode *mgmt_fail(GError **error, GError *err)
{
    g_set_error_literal(error, MGMT_ERROR, MGMT_ERROR_GENERIC, err->message);
    g_error_free(err);
    return NULL;
}

/* empty_reply() - {}. */
static JsonNode *empty_reply(void)
{
    return json_node_init_object(json_node_alloc(), json_object_new());
}

/* cmd_set_link() - {"up": bool}: the link as the driver sees it. */
static JsonNode *cmd_set_link(JsonObject *args, GError **error, void *opaque)
{
    App *app = opaque;
    JsonNode *up = json_object_get_member(args, "up");

    if (!up || json_node_get_value_type(up) != G_TYPE_BOOLEAN) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC,
                    "set-link needs \"up\": true or false");
        return NULL;
    }
    app->admin_up = json_node_get_boolean(up);
    net_dev_set_link(app->nd, app->tap_up && app->admin_up);
    return empty_reply();
}

/* cmd_announce() - ask the driver to announce itself. */
static JsonNode *cmd_announce(JsonObject *args, GError **error, void *opaque)
{
    App *app = opaque;
    GError *err = NULL;

    if (!net_dev_announce(app->nd, &err)) {
        return mgmt_fail(error, err);
    }
    return empty_reply();
}

/* cmd_export_state() - the migration state; {"file": PATH} writes it. */
static JsonNode *cmd_export_state(JsonObject *args, GError **error,
                                  void *opaque)
{
    App *app = opaque;
    JsonNode *file = args ? json_object_get_member(args, "file") : NULL;
    JsonNode *node;
    GError *err = NULL;
    NetState st;

    if (file && json_node_get_value_type(file) != G_TYPE_STRING) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC,
                    "export-state: \"file\" must be a path");
        return NULL;
    }
    net_dev_get_state(app->nd, &st);
    node = net_state_to_json(&st);
    if (!file) {
        return node;
    }
    if (!net_state_save(node, json_node_get_string(file), &err)) {
        json_node_unref(node);
        return mgmt_fail(error, err);
    }
    json_node_unref(node);
    return empty_reply();
}

/* cmd_restore_state() - {"state": STATE}: restore it when the driver comes. */
static JsonNode *cmd_restore_state(JsonObject *args, GError **error,
                                   void *opaque)
{
    App *app = opaque;
    JsonNode *state = args ? json_object_get_member(args, "state") : NULL;
    GError *err = NULL;
    NetState st;

    if (!state) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC,
                    "restore-state needs \"state\": an exported state");
        return NULL;
    }
    if (!net_state_from_json(state, &st, &err) ||
        !net_dev_check_state(app->nd, &st, &err)) {
        return mgmt_fail(error, err);
    }
    if (vduse_dev_status(net_dev_vduse(app->nd)) & VDUSE_S_DRIVER_OK) {
        g_set_error(error, MGMT_ERROR, MGMT_ERROR_GENERIC,
                    "restore-state: the driver runs the device already");
        return NULL;
    }
    net_dev_restore(app->nd, &st);
    return empty_reply();
}

/* cmd_suspend() - quiesce for good, as the kernel's SUSPEND does. */
static JsonNode *cmd_suspend(JsonObject *args, GError **error, void *opaque)
{
    App *app = opaque;
    GError *err = NULL;

    if (!net_dev_suspend(app->nd, &err)) {
        return mgmt_fail(error, err);
    }
    return empty_reply();
}

/* add_mgmt_commands() - the commands the management socket offers. */
static void add_mgmt_commands(App *app)
{
    mgmt_add_command(app->mgmt, "query-status", cmd_query_status, app);
    mgmt_add_command(app->mgmt, "query-stats", cmd_query_stats, app);
    /* The same document: query to look at it, export to move it. */
    mgmt_add_command(app->mgmt, "query-state", cmd_export_state, app);
    mgmt_add_command(app->mgmt, "set-link", cmd_set_link, app);
    mgmt_add_command(app->mgmt, "announce", cmd_announce, app);
    mgmt_add_command(app->mgmt, "export-state", cmd_export_state, app);
    mgmt_add_command(app->mgmt, "restore-state", cmd_restore_state, app);
    mgmt_add_command(app->mgmt, "suspend", cmd_suspend, app);
}

/**
 * load_saved_state() - the state of --restore, or of an existing
 * --state-file
 * @o:		the options; @o->name is set from the state if absent
 *
 * Exits with one line if the file cannot be read or the options contradict
 * it (the device's identity comes from the state).
 * Return: the state (g_free()), or NULL if there is none.
 */
static NetState *load_saved_state(Options *o)
{
    const char *path = o->restore ? o->restore : o->state_file;
    const char *option = o->restore ? "--restore" : "--state-file";
    g_autoptr(GError) error = NULL;
    g_autofree NetState *st = g_new0(NetState, 1);

    if (!path || (!o->restore && !g_file_test(path, G_FILE_TEST_EXISTS))) {
        return NULL;
    }
    if (!net_state_load(path, st, &error)) {
        die("%s: %s", option, error->message);
    }
    if (o->mac || o->mtu || o->queues != QUEUES_UNSET || o->ctrl_vq) {
        usage_error("%s %s: the MAC, MTU, queue pairs and control queue come "
                    "from the saved state; drop --mac, --mtu, --queues and "
                    "--ctrl-vq",
                    option, path);
    }
    if (o->name && strcmp(o->name, st->name)) {
        usage_error("--name %s: %s %s is the state of %s", o->name, option,
                    path, st->name);
    }
    if (!o->name) {
        o->name = g_strdup(st->name);
    }
    return g_steal_pointer(&st);
}

/**
 * adopt_device() - take over /dev/vduse/NAME from a process that died
 * @app:	the program
 * @opts:	the device, as the saved state describes it
 * @tap_fds:	TAP fds, handed to the model
 * @n_tap_fds:	their number
 * @saved:	that process's last state
 *
 * Exits with one line on failure; the device is left as it was.
 */
static void adopt_device(App *app, NetOptions *opts, int *tap_fds,
                         unsigned int n_tap_fds, const NetState *saved)
{
    g_autoptr(GError) error = NULL;

    app->nd = net_dev_new(opts, tap_fds, n_tap_fds);
    if (!net_dev_check_state(app->nd, saved, &error)) {
        die("cannot take over %s: %s", app->name, error->message);
    }
    net_dev_set_capture(app->nd, app->capture);
    if (!net_dev_open(app->nd, app->ctl, false, NULL, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY)) {
            die("%s is served by another process (still running?)", app->name);
        }
        die("cannot take over %s: %s", app->name, error->message);
    }
    if (!net_dev_adopt(app->nd, saved, &error)) {
        die("cannot take over %s: %s", app->name, error->message);
    }
    printf("vduse-net: %s taken over from its saved state (driver status "
           "0x%02x)\n",
           app->name, saved->status);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    Options o = {.mtu = 0, .queues = QUEUES_UNSET};
    const GOptionEntry entries[] = {
        {"name", 0, 0, G_OPTION_ARG_STRING, &o.name,
         "Device name (VDUSE and vDPA), required", "NAME"},
        {"mac", 0, 0, G_OPTION_ARG_STRING, &o.mac,
         "MAC address (default: derived from the name, locally administered)",
         "MAC"},
        {"mtu", 0, 0, G_OPTION_ARG_INT, &o.mtu,
         "MTU offered to the driver and set on the TAP, 68 to 65520 "
         "(default 1500; the TAP is left as it is)",
         "N"},
        {"queues", 0, 0, G_OPTION_ARG_INT, &o.queues,
         "Queue pairs, 1 to 16 (default 1; more need the control queue)", "N"},
        {"bus", 0, 0, G_OPTION_ARG_STRING, &o.bus,
         "Attach to the vDPA bus and bind virtio_vdpa (a netdev here), "
         "vhost_vdpa (/dev/vhost-vdpa-N for a VMM), or none "
         "(default virtio)",
         "virtio|vhost|none"},
        {"ctrl-vq", 0, 0, G_OPTION_ARG_STRING, &o.ctrl_vq,
         "Offer the control queue: auto (drop it if the kernel refuses it), "
         "on (fail instead), off (default auto)",
         "auto|on|off"},
        {"replace", 0, 0, G_OPTION_ARG_NONE, &o.replace,
         "Take over (remove and recreate) an existing device of that name",
         NULL},
        {"tap", 0, 0, G_OPTION_ARG_STRING, &o.tap,
         "TAP interface to create or attach", "IFNAME"},
        {"tap-fd", 0, 0, G_OPTION_ARG_STRING, &o.tap_fd,
         "TAP queue fds handed over by a VMM, one per queue pair", "N[,N...]"},
        {"bridge", 0, 0, G_OPTION_ARG_STRING, &o.bridge,
         "Put the TAP on this bridge and set both up (with --tap)", "BR"},
        {"pcap", 0, 0, G_OPTION_ARG_FILENAME, &o.pcap,
         "Write every frame in both directions to this pcap file", "FILE"},
        {"pcap-filter", 0, 0, G_OPTION_ARG_STRING, &o.pcap_filter,
         "Record only frames matching this pcap filter expression", "EXPR"},
        {"mgmt", 0, 0, G_OPTION_ARG_FILENAME, &o.mgmt,
         "Serve the management protocol (JSON, QMP style) on this UNIX "
         "socket",
         "PATH"},
        {"restore", 0, 0, G_OPTION_ARG_FILENAME, &o.restore,
         "Be the destination of a migration: the device's name, MAC, MTU "
         "and queue pairs come from this state (written by export-state); "
         "the driver's settings are restored when it starts the device and "
         "it is asked to announce itself",
         "FILE"},
        {"state-file", 0, 0, G_OPTION_ARG_FILENAME, &o.state_file,
         "Keep the device's state in this file, replaced atomically on "
         "every change. If the file exists, the device is the one it "
         "describes; if that device still exists (we were killed), take "
         "it over with its driver running",
         "FILE"},
        {"version", 0, 0, G_OPTION_ARG_NONE, &o.version,
         "Print the version and exit", NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(GOptionContext) octx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    App app = {.exit_code = 0, .admin_up = true, .tap_up = true};
    NetOptions net = {0};
    CtrlVqMode mode = CTRL_VQ_AUTO;
    int tap_fds[NET_MAX_QUEUE_PAIRS];
    unsigned int n_tap_fds;
    g_autofree char *dev_path = NULL;
    g_autofree NetState *saved = NULL;
    bool adopt = false;

    g_option_context_set_summary(
        octx, "A virtio-net device in userspace: VDUSE on one side, a TAP "
              "device on the other.");
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &error)) {
        usage_error("%s", error->message);
    }
    if (o.version) {
        printf("vduse-net %s\n", VDUSE_NET_VERSION);
        return 0;
    }
    if (argc > 1) {
        usage_error("unexpected argument '%s'", argv[1]);
    }
    saved = load_saved_state(&o);
    if (!o.name) {
        usage_error("--name is required");
    }
    if (!net_name_is_valid(o.name)) {
        usage_error("--name '%s': use 1 to 63 characters of A-Z a-z 0-9 . _ -",
                    o.name);
    }
    net.name = app.name = o.name;
    if (saved) {
        memcpy(net.mac, saved->mac, 6);
    } else if (o.mac) {
        if (!net_parse_mac(o.mac, net.mac, &error)) {
            usage_error("--mac: %s", error->message);
        }
    } else {
        net_default_mac(o.name, net.mac);
    }
    if (o.mtu != 0 && (o.mtu < NET_MIN_MTU || o.mtu > NET_MAX_MTU)) {
        usage_error("--mtu %d: out of range %d to %d", o.mtu, NET_MIN_MTU,
                    NET_MAX_MTU);
    }
    net.mtu = saved ? saved->mtu : o.mtu ? (uint16_t)o.mtu : 1500;
    if (o.queues == QUEUES_UNSET) {
        o.queues = saved ? saved->queue_pairs : 1;
    }
    if (o.queues < 1 || o.queues > NET_MAX_QUEUE_PAIRS) {
        usage_error("--queues %d: out of range 1 to %d", o.queues,
                    NET_MAX_QUEUE_PAIRS);
    }
    net.queue_pairs = (uint16_t)o.queues;
    if (!o.bus || !strcmp(o.bus, "virtio")) {
        app.bus = VDPA_BUS_VIRTIO;
    } else if (!strcmp(o.bus, "vhost")) {
        app.bus = VDPA_BUS_VHOST;
    } else if (!strcmp(o.bus, "none")) {
        app.bus = VDPA_BUS_NONE;
    } else {
        usage_error("--bus '%s': use virtio, vhost or none", o.bus);
    }
    if (!o.ctrl_vq || !strcmp(o.ctrl_vq, "auto")) {
        mode = CTRL_VQ_AUTO;
    } else if (!strcmp(o.ctrl_vq, "on")) {
        mode = CTRL_VQ_ON;
    } else if (!strcmp(o.ctrl_vq, "off")) {
        mode = CTRL_VQ_OFF;
    } else {
        usage_error("--ctrl-vq '%s': use auto, on or off", o.ctrl_vq);
    }
    if (saved) {
        mode = saved->ctrl_vq ? CTRL_VQ_ON : CTRL_VQ_OFF;
    }
    net.ctrl_vq = mode != CTRL_VQ_OFF;
    if (net.queue_pairs > 1 && mode == CTRL_VQ_OFF) {
        usage_error("--queues %d needs the control queue (not --ctrl-vq off)",
                    o.queues);
    }
    if (!o.tap == !o.tap_fd) {
        usage_error("give exactly one of --tap and --tap-fd");
    }
    if (o.bridge && !o.tap) {
        usage_error("--bridge needs --tap (a TAP handed over as a fd is set "
                    "up by whoever opened it)");
    }
    if (o.pcap_filter && !o.pcap) {
        usage_error("--pcap-filter needs --pcap");
    }

    signal(SIGPIPE, SIG_IGN);
    /* The kernel side first: without VDUSE nothing else is worth doing. */
    app.ctl = open_control();
    if (o.tap) {
        n_tap_fds = net.queue_pairs;
        if (!tap_open(o.tap, n_tap_fds, tap_fds, &error)) {
            die("%s", error->message);
        }
        if ((o.mtu || saved || o.bridge) &&
            !tap_setup_link(o.tap, net.mtu, o.bridge, &error)) {
            die("%s", error->message);
        }
    } else {
        n_tap_fds = parse_tap_fds(o.tap_fd, tap_fds, NET_MAX_QUEUE_PAIRS);
        if (n_tap_fds != net.queue_pairs) {
            usage_error("--tap-fd gives %u fds for %u queue pairs", n_tap_fds,
                        net.queue_pairs);
        }
    }
    if (o.pcap) {
        app.capture = net_capture_open(o.pcap, o.pcap_filter, &error);
        if (!app.capture) {
            die("--pcap: %s", error->message);
        }
    }

    if (vduse_control_api_version(app.ctl) == 0 && net.ctrl_vq) {
        fprintf(stderr, "vduse-net: this kernel has VDUSE API version 0: the "
                        "control queue cannot have an address space of its "
                        "own\n");
    }
    app.loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGINT, on_signal, &app);
    g_unix_signal_add(SIGTERM, on_signal, &app);
    g_unix_signal_add(SIGUSR1, on_report, &app);

    dev_path = g_strdup_printf("/dev/vduse/%s", app.name);
    if (g_file_test(dev_path, G_FILE_TEST_EXISTS)) {
        adopt = saved && o.state_file && !o.restore && !o.replace;
        if (!adopt && !o.replace) {
            die("a VDUSE device named %s already exists (use --replace to "
                "take it over)",
                app.name);
        }
        if (!adopt) {
            replace_device(&app);
        }
    }
    if (adopt) {
        adopt_device(&app, &net, tap_fds, n_tap_fds, saved);
    } else {
        create_device(&app, &net, mode, tap_fds, n_tap_fds, saved);
        net_dev_set_capture(app.nd, app.capture);
        if (!net_dev_open(app.nd, app.ctl, true, NULL, &error)) {
            fprintf(stderr, "vduse-net: %s\n", error->message);
            vduse_control_destroy_dev(app.ctl, app.name, NULL);
            return 1;
        }
        if (saved) {
            net_dev_restore(app.nd, saved);
        }
    }
    app.state_file = o.state_file;
    watch_link(&app, tap_fds[0]);
    if (o.mgmt) {
        app.mgmt = mgmt_new(o.mgmt, VDUSE_NET_VERSION, &error);
        if (!app.mgmt) {
            fprintf(stderr, "vduse-net: %s\n", error->message);
            net_dev_close(app.nd);
            vduse_control_destroy_dev(app.ctl, app.name, NULL);
            return 1;
        }
        add_mgmt_commands(&app);
    }
    net_dev_set_event_handler(app.nd, on_event, &app);
    save_state(&app);

    if (adopt) {
        /* Its netdev may be in another namespace by now: no ready line. */
        app.on_bus = vdpa_bus_has(app.name);
    } else if (app.bus == VDPA_BUS_NONE) {
        printf("vduse-net: %s created; attach it with: vdpa dev add name %s "
               "mgmtdev vduse\n",
               app.name, app.name);
        fflush(stdout);
    } else {
        bus_run(&app, true, bus_add_done);
    }
    g_main_loop_run(app.loop);

    mgmt_free(app.mgmt);
    net_link_watch_free(app.link);
    net_dev_free(app.nd);
    net_capture_close(app.capture);
    vduse_control_close(app.ctl);
    g_main_loop_unref(app.loop);
    g_free(o.name);
    g_free(o.mac);
    g_free(o.bus);
    g_free(o.ctrl_vq);
    g_free(o.tap);
    g_free(o.tap_fd);
    g_free(o.bridge);
    g_free(o.pcap);
    g_free(o.pcap_filter);
    g_free(o.mgmt);
    g_free(o.restore);
    g_free(o.state_file);
    g_free(app.where);
    return app.exit_code;
}
