/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vduse-net.c - the program: command line, main loop, signals
 *
 * DOC: Theory of operation
 *
 * main() checks the options, opens the TAP queues and /dev/vduse/control,
 * creates the device (without the control queue if the kernel refuses it
 * and the user allowed that) or takes over the one a killed process left,
 * and serves it in the main loop with the management socket and the state
 * file beside it. The libraries do the work: vduse/ (the kernel's side and
 * the vDPA bus), net/ (the device model, its TAP, its state), mgmt/ (the
 * management socket); see docs/architecture.md.
 *
 * Attaching to and detaching from the vDPA bus block until the kernel's
 * driver has probed or removed the device, and the driver talks to the
 * device meanwhile: they run in a worker thread (vdpa_bus_add_async()) and
 * the main loop goes on answering. SIGINT and SIGTERM take the device off
 * the bus, close and destroy it; SIGUSR1 prints its report; SIGHUP is
 * logged and otherwise ignored (nothing to reload).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <grp.h>
#include <pwd.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "mgmt.h"
#include "net.h"
#include "vduse.h"

/* --queues not given. */
#define QUEUES_UNSET G_MININT

/* The most users --mgmt-allow-uid may name. */
#define MAX_ALLOWED_UIDS 64

/* The one group of a --config file. */
#define CONFIG_GROUP "vduse-net"

/* The most fields a log message may have to get the device's added. */
#define LOG_MAX_FIELDS 32

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
 * @features:	--features
 * @speed:	--speed
 * @duplex:	--duplex
 * @mgmt_group:	--mgmt-group
 * @mgmt_allow_uid: --mgmt-allow-uid
 * @state_dir:	--state-dir
 * @config:	--config
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
    char *features;
    char *speed;
    char *duplex;
    char *mgmt_group;
    char *mgmt_allow_uid;
    char *state_dir;
    char *config;
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
 * @bus:	where to attach
 * @ctl:	/dev/vduse/control
 * @nd:		the device model
 * @capture:	the pcap file, or NULL
 * @mgmt:	the management socket, or NULL
 * @dev:	what the management commands see (bus, on-bus, where)
 * @where:	the netdev or vhost-vdpa path once it appeared, or NULL
 * @saver:	keeps the state file, or NULL
 * @used_log:	packed queues' used positions beside the state file, or NULL
 * @used_log_size: its mapping's size
 * @bus_busy:	a bus add or del runs in a worker thread
 * @stopping:	a signal asked us to stop
 * @exit_code:	what main() returns
 * @describe_waited: milliseconds spent waiting for the netdev
 */
typedef struct App {
    GMainLoop *loop;
    const char *name;
    VdpaBusDriver bus;
    VduseControl *ctl;
    NetDev *nd;
    NetCapture *capture;
    Mgmt *mgmt;
    MgmtDevice dev;
    char *where;
    NetStateSaver *saver;
    VduseVqUsedLog *used_log;
    size_t used_log_size;
    bool bus_busy;
    bool stopping;
    int exit_code;
    unsigned int describe_waited;
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
 * notify() - tell the service manager (sd_notify(3)), if there is one
 * @fmt:	printf format of the assignments, "READY=1\nSTATUS=..."
 *
 * Without $NOTIFY_SOCKET nothing is sent. A failure is logged, never fatal:
 * the device works whether or not systemd heard about it.
 */
G_GNUC_PRINTF(1, 2) static void notify(const char *fmt, ...)
{
    g_autofree char *text = NULL;
    va_list ap;
    int ret;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    ret = sd_notify(0, text);
    if (ret < 0) {
        g_message("sd_notify: %s", g_strerror(-ret));
    }
}

/* The device name log_writer() adds to every message, or NULL. */
static const char *log_device;

/**
 * log_writer() - GLib's default writer, with the device's name as a field
 * @level:	the message's level
 * @fields:	its fields
 * @n_fields:	entries in @fields
 * @data:	unused
 *
 * In the journal a message gets VDUSE_NET_DEVICE=NAME (journalctl
 * VDUSE_NET_DEVICE=vnet0); on a terminal nothing changes, but that every
 * level goes to stderr.
 * Return: what g_log_writer_default() returns.
 */
static GLogWriterOutput log_writer(GLogLevelFlags level,
                                   const GLogField *fields, gsize n_fields,
                                   gpointer data)
{
    GLogField all[LOG_MAX_FIELDS + 1];

    if (!log_device || n_fields > LOG_MAX_FIELDS) {
        return g_log_writer_default(level, fields, n_fields, data);
    }
    memcpy(all, fields, n_fields * sizeof(*fields));
    all[n_fields] = (GLogField){"VDUSE_NET_DEVICE", log_device, -1};
    return g_log_writer_default(level, all, n_fields + 1, data);
}

/**
 * log_set_device() - from now on, log messages name device @name
 * @name:	the device name; must live as long as the program logs
 */
static void log_set_device(const char *name)
{
    log_device = name;
    /* Debug and info lines to stderr with the rest: stdout carries the
     * ready line, and a file there is buffered until exit. */
    g_log_writer_default_set_use_stderr(TRUE);
    g_log_set_writer_func(log_writer, NULL, NULL);
}

/**
 * config_entry() - the option a configuration key names
 * @entries:	the options
 * @key:	the key
 *
 * Return: the option, or NULL if there is none (or it cannot be set in a
 * file: --config, --version).
 */
static const GOptionEntry *config_entry(const GOptionEntry *entries,
                                        const char *key)
{
    if (!strcmp(key, "config") || !strcmp(key, "version")) {
        return NULL;
    }
    for (const GOptionEntry *e = entries; e->long_name; e++) {
        if (!strcmp(e->long_name, key)) {
            return e;
        }
    }
    return NULL;
}

/**
 * config_args() - a --config file as arguments to put before the command
 * line's, which therefore win
 * @path:	the key file: group [vduse-net], keys the long option names
 * @entries:	the options
 *
 * Exits with one line: 1 if the file cannot be read, 2 if it is not a key
 * file, has another group or an unknown key, or a value of the wrong type.
 * Return: "--KEY=VALUE" per key, nothing for a false boolean
 * (g_strfreev()).
 */
static char **config_args(const char *path, const GOptionEntry *entries)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GStrvBuilder) args = g_strv_builder_new();
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) groups = NULL;
    g_auto(GStrv) keys = NULL;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error)) {
        if (error->domain == G_FILE_ERROR) {
            die("--config %s: %s", path, error->message);
        }
        usage_error("--config %s: %s", path, error->message);
    }
    groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        if (strcmp(*g, CONFIG_GROUP)) {
            usage_error("--config %s: unknown group [%s]: the options go in "
                        "[" CONFIG_GROUP "]",
                        path, *g);
        }
    }
    keys = g_key_file_get_keys(kf, CONFIG_GROUP, NULL, NULL);
    for (char **k = keys; k && *k; k++) {
        const GOptionEntry *e = config_entry(entries, *k);
        g_autofree char *value = NULL;
        g_autofree char *arg = NULL;

        if (!e) {
            usage_error("--config %s: unknown key '%s' (the keys are the "
                        "long options, as in mtu = 9000)",
                        path, *k);
        }
        if (e->arg == G_OPTION_ARG_NONE) {
            gboolean on = g_key_file_get_boolean(kf, CONFIG_GROUP, *k, &error);

            if (error) {
                usage_error("--config %s: %s: use true or false", path, *k);
            }
            if (on) {
                arg = g_strdup_printf("--%s", *k);
                g_strv_builder_add(args, arg);
            }
            continue;
        }
        if (e->arg == G_OPTION_ARG_INT) {
            int n = g_key_file_get_integer(kf, CONFIG_GROUP, *k, &error);

            if (error) {
                usage_error("--config %s: %s: not a number", path, *k);
            }
            value = g_strdup_printf("%d", n);
        } else {
            value = g_key_file_get_string(kf, CONFIG_GROUP, *k, &error);
            if (!value) {
                usage_error("--config %s: %s: %s", path, *k, error->message);
            }
        }
        arg = g_strdup_printf("--%s=%s", *k, value);
        g_strv_builder_add(args, arg);
    }
    return g_strv_builder_end(args);
}

static void options_free(Options *o);

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
    /* The file says what the device was when it stopped (reset, by now). */
    net_state_saver_flush(app->saver);
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
    if (!vdpa_bus_finish(res, &error)) {
        fprintf(stderr, "vduse-net: %s\n", error->message);
        app->exit_code = 1;
    }
    app->dev.on_bus = false;
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
    if (app->dev.on_bus) {
        app->bus_busy = true;
        vdpa_bus_del_async(app->name, bus_del_done, app);
    } else {
        finish(app);
    }
}

/* on_signal() - SIGINT or SIGTERM: stop; a second one is not needed. */
static gboolean on_signal(gpointer data)
{
    App *app = data;

    if (!app->stopping) {
        notify("STOPPING=1\nSTATUS=stopping");
        stop(app);
    }
    return G_SOURCE_CONTINUE;
}

/* on_hangup() - SIGHUP: there is nothing to reload; go on serving. */
static gboolean on_hangup(gpointer data)
{
    App *app = data;

    g_message("%s: SIGHUP: nothing to reload, still serving", app->name);
    return G_SOURCE_CONTINUE;
}

/**
 * on_report() - SIGUSR1: print the device's state as one JSON line
 * @data:	the App
 *
 * Return: G_SOURCE_CONTINUE.
 */
static gboolean on_report(gpointer data)
{
    App *app = data;
    g_autoptr(JsonNode) node = net_dev_report(app->nd);
    g_autofree char *text = json_to_string(node, FALSE);

    printf("%s\n", text);
    fflush(stdout);
    return G_SOURCE_CONTINUE;
}

/**
 * notify_ready() - READY=1 and a status line for the service manager
 * @where:	the netdev or /dev/vhost-vdpa-N the driver made, or NULL if
 *		none appeared
 *
 * Sent once the device is usable: its netdev or vhost-vdpa node exists.
 */
static void notify_ready(const char *where)
{
    if (!where) {
        notify("READY=1\nSTATUS=on the vDPA bus; no netdev or vhost-vdpa "
               "device appeared");
    } else if (g_str_has_prefix(where, "/dev/")) {
        notify("READY=1\nSTATUS=ready: %s", where);
    } else {
        notify("READY=1\nSTATUS=ready: netdev %s", where);
    }
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
    notify_ready(what);
    g_free(app->where);
    app->where = g_steal_pointer(&what);
    app->dev.where = app->where;
    return G_SOURCE_REMOVE;
}

/* bus_add_done() - the device is on the vDPA bus (or failed to get there). */
static void bus_add_done(GObject *source, GAsyncResult *res, gpointer data)
{
    App *app = data;
    g_autoptr(GError) error = NULL;

    app->bus_busy = false;
    if (!vdpa_bus_finish(res, &error)) {
        fprintf(stderr, "vduse-net: %s\n", error->message);
        app->exit_code = 1;
        stop(app);
        return;
    }
    app->dev.on_bus = true;
    if (app->stopping) {
        stop(app);
        return;
    }
    if (report_ready(app) == G_SOURCE_CONTINUE) {
        g_timeout_add(DESCRIBE_POLL_MS, report_ready, app);
    }
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
 * open_used_log() - map FILE.used beside --state-file, where packed queues
 * keep the used position a take-over needs (vduse_dev_set_used_log())
 * @app:	the program; @app->used_log is set
 * @state_file:	--state-file
 * @nvq:	the device's queues
 * @adopt:	a take-over: use what the dead process left, if it left one
 *
 * A new device starts it empty; its queues write it as they start.
 * Exits with one line on failure.
 */
static void open_used_log(App *app, const char *state_file, uint32_t nvq,
                          bool adopt)
{
    g_autofree char *path = g_strdup_printf("%s.used", state_file);
    size_t size = ((size_t)nvq * sizeof(VduseVqUsedLog) + 4095) & ~4095ul;
    struct stat st;
    void *map;
    int fd, ret;

    fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (adopt ? 0 : O_CREAT),
              0600);
    if (fd < 0 && adopt && errno == ENOENT) {
        /* Nothing to read: packed queues will not be served (logged). */
        return;
    }
    if (fd < 0 || fstat(fd, &st) < 0) {
        die("--state-file: %s: %s", path, g_strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        die("--state-file: %s: not a regular file", path);
    }
    /* Zeroed for a new device; grown with zeros if it is short. */
    if ((!adopt && ftruncate(fd, 0) < 0) ||
        ((!adopt || (size_t)st.st_size < size) &&
         ftruncate(fd, (off_t)size) < 0)) {
        die("--state-file: %s: %s", path, g_strerror(errno));
    }
    /* Its blocks now: a write to a hole of a full file system through the
     * mapping would be SIGBUS in a queue's flush. */
    ret = posix_fallocate(fd, 0, (off_t)size);
    if (ret) {
        fprintf(stderr,
                "vduse-net: --state-file: %s: %s: packed queues will not "
                "be taken over after a crash\n",
                path, g_strerror(ret));
        close(fd);
        return;
    }
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        die("--state-file: %s: mmap: %s", path, g_strerror(errno));
    }
    app->used_log = map;
    app->used_log_size = size;
}

/**
 * create_device() - a new device, without the control queue if the kernel
 * refuses it and @mode allows that
 * @app:	the program, with @app->nd made
 * @mode:	what the user asked of the control queue
 * @saved:	the state to restore (a migration destination), or NULL
 *
 * Exits with one line on failure.
 */
static void create_device(App *app, CtrlVqMode mode, const NetState *saved)
{
    g_autoptr(GError) error = NULL;
    bool wanted = net_dev_has_ctrl_vq(app->nd);
    bool multiqueue = net_dev_queue_pairs(app->nd) > 1;

    if (saved && !net_dev_check_state(app->nd, saved, &error)) {
        die("cannot restore %s: %s", saved->name, error->message);
    }
    if (!net_dev_create(app->nd, app->ctl, mode == CTRL_VQ_AUTO, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS)) {
            die("a VDUSE device named %s already exists (use --replace to "
                "take it over)",
                app->name);
        }
        die("%s%s", error->message,
            mode == CTRL_VQ_ON ? " (--ctrl-vq on)" : "");
    }
    if (wanted && !net_dev_has_ctrl_vq(app->nd)) {
        fprintf(stderr,
                "vduse-net: this kernel refuses the control virtqueue for "
                "VDUSE net devices; running without it: no runtime MAC "
                "change, %s, no RX filtering by the driver\n",
                multiqueue ? "1 queue pair instead of multiqueue"
                           : "no multiqueue");
    }
    if (!net_dev_open(app->nd, app->ctl, true, NULL, &error)) {
        fprintf(stderr, "vduse-net: %s\n", error->message);
        vduse_control_destroy_dev(app->ctl, app->name, NULL);
        exit(1);
    }
    if (app->used_log) {
        net_dev_set_used_log(app->nd, app->used_log);
    }
    if (saved) {
        net_dev_restore(app->nd, saved);
    }
}

/**
 * check_features() - the device offers what --features asked for
 * @app:	the program, with @app->nd made
 * @asked:	the features --features named to offer
 *
 * Exits with one line if a feature asked for cannot be offered here (USO
 * needs a TAP that takes it).
 */
static void check_features(App *app, uint64_t asked)
{
    uint64_t missing = asked & ~net_dev_offered_features(app->nd);

    if (missing) {
        usage_error("--features: this device cannot offer feature bit %d "
                    "here (USO needs a TAP that takes it, the control-queue "
                    "features need the control queue)",
                    g_bit_nth_lsf(missing, -1));
    }
}

/**
 * adopt_device() - take over /dev/vduse/NAME from a process that died
 * @app:	the program, with @app->nd made
 * @saved:	that process's last state
 *
 * Exits with one line on failure; the device is left as it was.
 */
static void adopt_device(App *app, const NetState *saved)
{
    g_autoptr(GError) error = NULL;

    if (!net_dev_check_state(app->nd, saved, &error) ||
        !net_dev_open(app->nd, app->ctl, false, NULL, &error) ||
        !(net_dev_set_used_log(app->nd, app->used_log), true) ||
        !net_dev_adopt(app->nd, saved, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY)) {
            die("%s is served by another process (still running?)", app->name);
        }
        die("cannot take over %s: %s", app->name, error->message);
    }
    printf("vduse-net: %s taken over from its saved state (driver status "
           "0x%02x)\n",
           app->name, saved->status);
    fflush(stdout);
    notify("READY=1\nSTATUS=taken over from its saved state");
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
    /* The source's command line plus --restore (QEMU's -incoming habit):
     * what agrees with the state is fine, a contradiction is not. */
    if (o->name && strcmp(o->name, st->name)) {
        usage_error("--name %s: %s %s is the state of %s", o->name, option,
                    path, st->name);
    }
    if (o->mac) {
        uint8_t mac[6];
        g_autofree char *saved_mac = mac_format(st->mac);

        if (!net_parse_mac(o->mac, mac, NULL) || memcmp(mac, st->mac, 6)) {
            usage_error("--mac %s: %s %s says device.mac %s", o->mac, option,
                        path, saved_mac);
        }
    }
    if (o->mtu && o->mtu != st->mtu) {
        usage_error("--mtu %d: %s %s says device.mtu %u", o->mtu, option, path,
                    st->mtu);
    }
    if (o->queues != QUEUES_UNSET && o->queues != st->queue_pairs) {
        usage_error("--queues %d: %s %s says device.queue-pairs %u", o->queues,
                    option, path, st->queue_pairs);
    }
    if (o->ctrl_vq && strcmp(o->ctrl_vq, "auto") &&
        !strcmp(o->ctrl_vq, "on") != st->ctrl_vq) {
        usage_error("--ctrl-vq %s: %s %s says device.ctrl-vq %s", o->ctrl_vq,
                    option, path, st->ctrl_vq ? "true" : "false");
    }
    if (!o->name) {
        o->name = g_strdup(st->name);
    }
    return g_steal_pointer(&st);
}

/**
 * options_parse_args() - parse arguments with the program's options
 * @entries:	the options, bound to the Options being filled in
 * @argc:	the number of arguments; left ones remain
 * @argv:	the arguments; left ones remain
 *
 * Exits with one line (2) on a bad option.
 */
static void options_parse_args(const GOptionEntry *entries, int *argc,
                               char ***argv)
{
    g_autoptr(GOptionContext) octx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;

    g_option_context_set_summary(
        octx, "A virtio-net device in userspace: VDUSE on one side, a TAP "
              "device on the other.");
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, argc, argv, &error)) {
        usage_error("%s", error->message);
    }
}

/**
 * options_with_config() - the arguments to parse when there is a --config
 * @cmdline:	the command line as main() got it
 * @file_args:	the file's options (config_args())
 *
 * The file's options come first, so that where both set an option the
 * command line wins.
 * Return: the arguments, NULL-terminated, pointing into @cmdline and
 * @file_args (g_ptr_array_unref()).
 */
static GPtrArray *options_with_config(char **cmdline, char **file_args)
{
    GPtrArray *all = g_ptr_array_new();

    g_ptr_array_add(all, cmdline[0]);
    for (char **a = file_args; *a; a++) {
        g_ptr_array_add(all, *a);
    }
    for (char **a = cmdline + 1; *a; a++) {
        g_ptr_array_add(all, *a);
    }
    g_ptr_array_add(all, NULL);
    return all;
}

/**
 * options_parse() - the command line into @o, checked for form
 * @argc:	main()'s
 * @argv:	main()'s
 * @o:		filled in
 *
 * Exits with one line (2) on a bad option, or 0 after --version.
 */
static void options_parse(int argc, char **argv, Options *o)
{
    g_autofree char *features_help = g_strdup_printf(
        "Offer (NAME, +NAME) or do not offer (-NAME) these virtio-net "
        "features, comma-separated. Default: all the device can do, but "
        "with --bus vhost not guest-announce, guest-uso4, guest-uso6, "
        "host-uso, device-stats, notf-coal and vq-notf-coal, which QEMU's "
        "vhost-vdpa cannot shadow (it then refuses to migrate and keeps "
        "the control queue in ASID 0), nor speed-duplex, rss, hash-report "
        "and ring-packed, which it may not shadow (name them to offer them); "
        "rss only where the TAP steering eBPF program loads. Names: %s",
        net_feature_names());
    const GOptionEntry entries[] = {
        {"name", 0, 0, G_OPTION_ARG_STRING, &o->name,
         "Device name (VDUSE and vDPA), required", "NAME"},
        {"mac", 0, 0, G_OPTION_ARG_STRING, &o->mac,
         "MAC address (default: derived from the name, locally administered)",
         "MAC"},
        {"mtu", 0, 0, G_OPTION_ARG_INT, &o->mtu,
         "MTU offered to the driver and set on the TAP, 68 to 65520 "
         "(default 1500; the TAP is left as it is)",
         "N"},
        {"queues", 0, 0, G_OPTION_ARG_INT, &o->queues,
         "Queue pairs, 1 to 16 (default 1; more need the control queue)", "N"},
        {"bus", 0, 0, G_OPTION_ARG_STRING, &o->bus,
         "Attach to the vDPA bus and bind virtio_vdpa (a netdev here), "
         "vhost_vdpa (/dev/vhost-vdpa-N for a VMM), or none "
         "(default virtio)",
         "virtio|vhost|none"},
        {"ctrl-vq", 0, 0, G_OPTION_ARG_STRING, &o->ctrl_vq,
         "Offer the control queue: auto (drop it if the kernel refuses it), "
         "on (fail instead), off (default auto)",
         "auto|on|off"},
        {"replace", 0, 0, G_OPTION_ARG_NONE, &o->replace,
         "Take over (remove and recreate) an existing device of that name",
         NULL},
        {"tap", 0, 0, G_OPTION_ARG_STRING, &o->tap,
         "TAP interface to create or attach", "IFNAME"},
        {"tap-fd", 0, 0, G_OPTION_ARG_STRING, &o->tap_fd,
         "TAP queue fds handed over by a VMM, one per queue pair", "N[,N...]"},
        {"bridge", 0, 0, G_OPTION_ARG_STRING, &o->bridge,
         "Put the TAP on this bridge and set both up (with --tap)", "BR"},
        {"pcap", 0, 0, G_OPTION_ARG_FILENAME, &o->pcap,
         "Write every frame in both directions to this pcap file", "FILE"},
        {"pcap-filter", 0, 0, G_OPTION_ARG_STRING, &o->pcap_filter,
         "Record only frames matching this pcap filter expression", "EXPR"},
        {"mgmt", 0, 0, G_OPTION_ARG_FILENAME, &o->mgmt,
         "Serve the management protocol (JSON, QMP style) on this UNIX "
         "socket",
         "PATH"},
        {"restore", 0, 0, G_OPTION_ARG_FILENAME, &o->restore,
         "Be the destination of a migration: the device's name, MAC, MTU "
         "and queue pairs come from this state (written by export-state); "
         "the driver's settings are restored when it starts the device and "
         "it is asked to announce itself",
         "FILE"},
        {"state-file", 0, 0, G_OPTION_ARG_FILENAME, &o->state_file,
         "Keep the device's state in this file, replaced atomically on "
         "every change. If the file exists, the device is the one it "
         "describes; if that device still exists (we were killed), take "
         "it over with its driver running (FILE.used keeps the used "
         "position of packed queues for that)",
         "FILE"},
        {"features", 0, 0, G_OPTION_ARG_STRING, &o->features, features_help,
         "[+-]NAME,..."},
        {"speed", 0, 0, G_OPTION_ARG_STRING, &o->speed,
         "Link speed the driver sees, in Mb/s (0 to 2147483647), or "
         "\"unknown\" (default: the TAP's ethtool settings, followed)",
         "MBPS|unknown"},
        {"duplex", 0, 0, G_OPTION_ARG_STRING, &o->duplex,
         "Duplex the driver sees (default: the TAP's ethtool settings, "
         "followed)",
         "full|half|unknown"},
        {"mgmt-group", 0, 0, G_OPTION_ARG_STRING, &o->mgmt_group,
         "Give this group access to the management socket (mode 0660; "
         "default 0600, the owner only)",
         "GROUP"},
        {"mgmt-allow-uid", 0, 0, G_OPTION_ARG_STRING, &o->mgmt_allow_uid,
         "Serve only these users on the management socket, besides our own "
         "(names or numbers); others are logged and disconnected",
         "USER[,USER...]"},
        {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->state_dir,
         "The directory export-state and restore-state may name files in "
         "(\"file\": a name in it, never a path); without it they only "
         "reply with the state",
         "DIR"},
        {"config", 0, 0, G_OPTION_ARG_FILENAME, &o->config,
         "Read options from this key file: group [vduse-net], keys the long "
         "option names (mtu = 9000, replace = true); the command line wins",
         "FILE"},
        {"version", 0, 0, G_OPTION_ARG_NONE, &o->version,
         "Print the version and exit", NULL},
        G_OPTION_ENTRY_NULL,
    };
    g_auto(GStrv) cmdline = g_strdupv(argv);
    g_auto(GStrv) file_args = NULL;
    g_autoptr(GPtrArray) all = NULL;

    options_parse_args(entries, &argc, &argv);
    if (o->config) {
        /* Again, from scratch, with the file's options first. */
        file_args = config_args(o->config, entries);
        all = options_with_config(cmdline, file_args);
        options_free(o);
        *o = (Options){.queues = QUEUES_UNSET};
        argc = (int)all->len - 1;
        argv = (char **)all->pdata;
        options_parse_args(entries, &argc, &argv);
    }
    if (o->version) {
        printf("vduse-net %s\n", VDUSE_NET_VERSION);
        exit(0);
    }
    if (argc > 1) {
        usage_error("unexpected argument '%s'", argv[1]);
    }
}

/**
 * options_device() - the device the options (and a saved state) describe
 * @o:		the options; @o->name set from @saved if absent
 * @saved:	the saved state, or NULL
 * @net:	filled in
 * @mode:	receives what the user asked of the control queue
 * @bus:	receives where to attach
 * @features_on: receives the features --features asks for by name
 *
 * Exits with one line (2) on a bad value or a contradiction.
 */
static void options_device(Options *o, const NetState *saved, NetOptions *net,
                           CtrlVqMode *mode, VdpaBusDriver *bus,
                           uint64_t *features_on)
{
    g_autoptr(GError) error = NULL;
    uint64_t off = 0;

    if (!o->name) {
        usage_error("--name is required");
    }
    if (!net_name_is_valid(o->name)) {
        usage_error("--name '%s': use 1 to 63 characters of A-Z a-z 0-9 . _ -",
                    o->name);
    }
    net->name = o->name;
    if (saved) {
        memcpy(net->mac, saved->mac, 6);
    } else if (o->mac) {
        if (!net_parse_mac(o->mac, net->mac, &error)) {
            usage_error("--mac: %s", error->message);
        }
    } else {
        net_default_mac(o->name, net->mac);
    }
    if (o->mtu != 0 && (o->mtu < NET_MIN_MTU || o->mtu > NET_MAX_MTU)) {
        usage_error("--mtu %d: out of range %d to %d", o->mtu, NET_MIN_MTU,
                    NET_MAX_MTU);
    }
    net->mtu = saved ? saved->mtu : o->mtu ? (uint16_t)o->mtu : 1500;
    if (o->queues == QUEUES_UNSET) {
        o->queues = saved ? saved->queue_pairs : 1;
    }
    if (o->queues < 1 || o->queues > NET_MAX_QUEUE_PAIRS) {
        usage_error("--queues %d: out of range 1 to %d", o->queues,
                    NET_MAX_QUEUE_PAIRS);
    }
    net->queue_pairs = (uint16_t)o->queues;
    if (!o->bus || !strcmp(o->bus, "virtio")) {
        *bus = VDPA_BUS_VIRTIO;
    } else if (!strcmp(o->bus, "vhost")) {
        *bus = VDPA_BUS_VHOST;
    } else if (!strcmp(o->bus, "none")) {
        *bus = VDPA_BUS_NONE;
    } else {
        usage_error("--bus '%s': use virtio, vhost or none", o->bus);
    }
    *features_on = 0;
    if (o->features &&
        !net_parse_features(o->features, features_on, &off, &error)) {
        usage_error("--features: %s", error->message);
    }
    net->features_off =
        ((*bus == VDPA_BUS_VHOST ? NET_VMM_UNSHADOWED_FEATURES : 0) | off) &
        ~*features_on;
    /* The spec's dependencies, on the most this device may offer. */
    if (!net_features_check(
            (net_offered_features(net) | NET_VMM_UNSHADOWED_FEATURES) & ~off,
            &error)) {
        usage_error("--features: %s", error->message);
    }
    if (o->speed) {
        guint64 mbps;

        net->speed_set = true;
        if (!strcmp(o->speed, "unknown")) {
            net->speed = NET_SPEED_UNKNOWN;
        } else if (g_ascii_string_to_unsigned(o->speed, 10, 0, G_MAXINT32,
                                              &mbps, NULL)) {
            net->speed = (uint32_t)mbps;
        } else {
            usage_error("--speed '%s': use Mb/s, 0 to %d, or unknown", o->speed,
                        G_MAXINT32);
        }
    }
    if (o->duplex) {
        net->duplex_set = true;
        if (!strcmp(o->duplex, "full")) {
            net->duplex = 1;
        } else if (!strcmp(o->duplex, "half")) {
            net->duplex = 0;
        } else if (!strcmp(o->duplex, "unknown")) {
            net->duplex = NET_DUPLEX_UNKNOWN;
        } else {
            usage_error("--duplex '%s': use full, half or unknown", o->duplex);
        }
    }
    if (!o->ctrl_vq || !strcmp(o->ctrl_vq, "auto")) {
        *mode = CTRL_VQ_AUTO;
    } else if (!strcmp(o->ctrl_vq, "on")) {
        *mode = CTRL_VQ_ON;
    } else if (!strcmp(o->ctrl_vq, "off")) {
        *mode = CTRL_VQ_OFF;
    } else {
        usage_error("--ctrl-vq '%s': use auto, on or off", o->ctrl_vq);
    }
    if (saved) {
        *mode = saved->ctrl_vq ? CTRL_VQ_ON : CTRL_VQ_OFF;
    }
    net->ctrl_vq = *mode != CTRL_VQ_OFF;
    if (net->queue_pairs > 1 && *mode == CTRL_VQ_OFF) {
        usage_error("--queues %d needs the control queue (not --ctrl-vq off)",
                    o->queues);
    }
    if (!o->tap == !o->tap_fd) {
        usage_error("give exactly one of --tap and --tap-fd");
    }
    if (o->bridge && !o->tap) {
        usage_error("--bridge needs --tap (a TAP handed over as a fd is set "
                    "up by whoever opened it)");
    }
    if (o->pcap_filter && !o->pcap) {
        usage_error("--pcap-filter needs --pcap");
    }
}

/**
 * open_taps() - the TAP queue fds, one per queue pair
 * @o:		the options
 * @net:	the device
 * @saved:	a saved state (its MTU is set on a TAP we open), or NULL
 * @fds:	receives the fds (NET_MAX_QUEUE_PAIRS room)
 *
 * Exits with one line on failure. Return: the number of fds.
 */
static unsigned int open_taps(const Options *o, const NetOptions *net,
                              const NetState *saved, int *fds)
{
    g_autoptr(GError) error = NULL;
    unsigned int n;

    if (!o->tap) {
        n = parse_tap_fds(o->tap_fd, fds, NET_MAX_QUEUE_PAIRS);
        if (n != net->queue_pairs) {
            usage_error("--tap-fd gives %u fds for %u queue pairs", n,
                        net->queue_pairs);
        }
        return n;
    }
    if (!tap_open(o->tap, net->queue_pairs, fds, &error)) {
        die("%s", error->message);
    }
    if ((o->mtu || saved || o->bridge) &&
        !tap_setup_link(o->tap, net->mtu, o->bridge, &error)) {
        die("%s", error->message);
    }
    return net->queue_pairs;
}

/**
 * mgmt_access() - --mgmt-group and --mgmt-allow-uid
 * @o:		the options
 * @access:	filled in
 * @uids:	room for the uids (MAX_ALLOWED_UIDS)
 *
 * Exits with one line (2) for an unknown group or user.
 */
static void mgmt_access(const Options *o, MgmtAccess *access, uid_t *uids)
{
    *access = (MgmtAccess){.group = (gid_t)-1};
    if ((o->mgmt_group || o->mgmt_allow_uid) && !o->mgmt) {
        usage_error("--mgmt-group and --mgmt-allow-uid need --mgmt");
    }
    if (o->mgmt_group) {
        struct group *gr = getgrnam(o->mgmt_group);
        guint64 gid;

        if (gr) {
            access->group = gr->gr_gid;
        } else if (g_ascii_string_to_unsigned(o->mgmt_group, 10, 0,
                                              G_MAXUINT32 - 1, &gid, NULL)) {
            access->group = (gid_t)gid;
        } else {
            usage_error("--mgmt-group: no group '%s'", o->mgmt_group);
        }
    }
    if (o->mgmt_allow_uid) {
        g_auto(GStrv) users = g_strsplit(o->mgmt_allow_uid, ",", -1);

        for (char **u = users; *u; u++) {
            struct passwd *pw = getpwnam(*u);
            guint64 uid;

            if (access->n_uids == MAX_ALLOWED_UIDS) {
                usage_error("--mgmt-allow-uid: more than %d users",
                            MAX_ALLOWED_UIDS);
            }
            if (pw) {
                uids[access->n_uids++] = pw->pw_uid;
            } else if (g_ascii_string_to_unsigned(*u, 10, 0, G_MAXUINT32 - 1,
                                                  &uid, NULL)) {
                uids[access->n_uids++] = (uid_t)uid;
            } else {
                usage_error("--mgmt-allow-uid: no user '%s'", *u);
            }
        }
        access->uids = uids;
    }
}

/**
 * open_state_dir() - --state-dir, opened for the management commands
 * @o:		the options
 *
 * Exits with one line if it is not a directory. Return: its fd, or -1.
 */
static int open_state_dir(const Options *o)
{
    int fd;

    if (!o->state_dir) {
        return -1;
    }
    fd = open(o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        die("--state-dir %s: %s", o->state_dir, g_strerror(errno));
    }
    return fd;
}

/* stop_broken() - the idle stop after DEVICE_BROKEN (out of the device's
 * own message callback, which the stop closes). */
static void stop_broken(gpointer data)
{
    stop((App *)data);
}

/* on_event() - a device event: to every management client; save. */
static void on_event(const char *event, JsonNode *data, void *opaque)
{
    App *app = opaque;

    mgmt_emit_event(app->mgmt, event, data);
    net_state_saver_request(app->saver);
    if (!strcmp(event, "DEVICE_BROKEN") && !app->stopping) {
        /* Nothing can serve the driver again but a new device: stop (the
         * state file keeps the shadow, not a reset) and say how to go on. */
        fprintf(stderr,
                "vduse-net: %s is broken for good: removing it and exiting; "
                "start vduse-net again to make it anew%s\n",
                app->name,
                app->saver ? " (with --state-file, from its saved state)" : "");
        app->exit_code = 1;
        app->stopping = true;
        notify("STOPPING=1\nSTATUS=the kernel marked the device broken");
        g_idle_add_once(stop_broken, app);
    }
}

/**
 * options_free() - free what option parsing allocated
 * @o:		the options
 */
static void options_free(Options *o)
{
    char **strings[] = {&o->name,      &o->mac,        &o->bus,
                        &o->ctrl_vq,   &o->tap,        &o->tap_fd,
                        &o->bridge,    &o->pcap,       &o->pcap_filter,
                        &o->mgmt,      &o->restore,    &o->state_file,
                        &o->features,  &o->mgmt_group, &o->mgmt_allow_uid,
                        &o->state_dir, &o->config,     &o->speed,
                        &o->duplex};

    for (size_t i = 0; i < G_N_ELEMENTS(strings); i++) {
        g_clear_pointer(strings[i], g_free);
    }
}

int main(int argc, char **argv)
{
    static const char *const bus_names[] = {"none", "virtio", "vhost"};
    Options o = {.mtu = 0, .queues = QUEUES_UNSET};
    App app = {.exit_code = 0};
    g_autoptr(GError) error = NULL;
    g_autofree NetState *saved = NULL;
    g_autofree char *dev_path = NULL;
    int tap_fds[NET_MAX_QUEUE_PAIRS];
    unsigned int n_tap_fds;
    uid_t allowed_uids[MAX_ALLOWED_UIDS];
    MgmtAccess access;
    int state_dir;
    NetOptions net = {0};
    uint64_t features_on;
    CtrlVqMode mode;
    bool adopt = false;

    options_parse(argc, argv, &o);
    saved = load_saved_state(&o);
    options_device(&o, saved, &net, &mode, &app.bus, &features_on);
    log_set_device(o.name);
    mgmt_access(&o, &access, allowed_uids);
    state_dir = open_state_dir(&o);
    app.name = o.name;

    signal(SIGPIPE, SIG_IGN);
    app.loop = g_main_loop_new(NULL, FALSE);
    /* Dispatched by the main loop only: never while the device is made. */
    g_unix_signal_add(SIGINT, on_signal, &app);
    g_unix_signal_add(SIGTERM, on_signal, &app);
    g_unix_signal_add(SIGHUP, on_hangup, &app);
    g_unix_signal_add(SIGUSR1, on_report, &app);

    /* The kernel side first: without VDUSE nothing else is worth doing. */
    app.ctl = open_control();
    n_tap_fds = open_taps(&o, &net, saved, tap_fds);
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

    dev_path = g_strdup_printf("/dev/vduse/%s", app.name);
    if (g_file_test(dev_path, G_FILE_TEST_EXISTS)) {
        adopt = saved && o.state_file && !o.restore && !o.replace;
        if (adopt && vduse_dev_name_is_broken(app.name)) {
            /* Taking it over would serve nobody: make it anew instead. */
            fprintf(stderr,
                    "vduse-net: the kernel marked %s broken: making it anew "
                    "from %s\n",
                    app.name, o.state_file);
            adopt = false;
            o.replace = true;
        }
        if (!adopt && !o.replace) {
            die("a VDUSE device named %s already exists (use --replace to "
                "take it over)",
                app.name);
        }
        if (!adopt && !vduse_control_remove_dev(app.ctl, app.name, &error)) {
            die("%s%s", error->message,
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY)
                    ? " (is another vduse-net serving it?)"
                    : "");
        }
        if (!adopt) {
            fprintf(stderr, "vduse-net: replaced the existing device %s\n",
                    app.name);
        }
    }
    app.nd = net_dev_new(&net, tap_fds, n_tap_fds);
    check_features(&app, features_on);
    if (saved && o.features &&
        net_dev_offered_features(app.nd) != saved->offered) {
        usage_error(
            "--features %s: offers 0x%" G_GINT64_MODIFIER
            "x, the saved state says device.features 0x%" G_GINT64_MODIFIER "x",
            o.features, (guint64)net_dev_offered_features(app.nd),
            (guint64)saved->offered);
    }
    net_dev_set_capture(app.nd, app.capture);
    if (o.state_file) {
        open_used_log(&app, o.state_file,
                      2u * net_dev_queue_pairs(app.nd) +
                          (net_dev_has_ctrl_vq(app.nd) ? 1 : 0),
                      adopt);
    }
    if (adopt) {
        adopt_device(&app, saved);
    } else {
        create_device(&app, mode, saved);
    }
    app.dev = (MgmtDevice){
        .nd = app.nd, .bus = bus_names[app.bus], .state_dir = state_dir};
    if (o.mgmt) {
        app.mgmt = mgmt_new(o.mgmt, VDUSE_NET_VERSION, &access, &error);
        if (!app.mgmt) {
            fprintf(stderr, "vduse-net: %s\n", error->message);
            net_dev_close(app.nd);
            vduse_control_destroy_dev(app.ctl, app.name, NULL);
            return 1;
        }
        mgmt_add_device_commands(app.mgmt, &app.dev);
    }
    if (o.state_file) {
        app.saver = net_state_saver_new(app.nd, o.state_file, NULL);
        net_state_saver_request(app.saver);
    }
    net_dev_set_event_handler(app.nd, on_event, &app);

    if (adopt) {
        /* Its netdev may be in another namespace by now: no ready line. */
        app.dev.on_bus = vdpa_bus_has(app.name);
    } else if (app.bus == VDPA_BUS_NONE) {
        printf("vduse-net: %s created; attach it with: vdpa dev add name %s "
               "mgmtdev vduse\n",
               app.name, app.name);
        fflush(stdout);
        notify("READY=1\nSTATUS=created; not on the vDPA bus");
    } else {
        app.bus_busy = true;
        vdpa_bus_add_async(app.name, app.bus, bus_add_done, &app);
    }
    g_main_loop_run(app.loop);

    mgmt_free(app.mgmt);
    net_state_saver_free(app.saver);
    net_dev_free(app.nd);
    if (app.used_log) {
        munmap(app.used_log, app.used_log_size);
    }
    net_capture_close(app.capture);
    vduse_control_close(app.ctl);
    g_main_loop_unref(app.loop);
    options_free(&o);
    if (app.dev.state_dir >= 0) {
        close(app.dev.state_dir);
    }
    g_free(app.where);
    return app.exit_code;
}
