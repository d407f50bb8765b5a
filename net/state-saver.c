/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state-saver.c - the state file, kept up to date off the message path
 *
 * DOC: Theory of operation
 *
 * Every event of the device (a control command, DRIVER_OK, a reset, a
 * link change) asks for a save. The kernel and the driver wait for our
 * answers to those, so nothing here runs while they wait:
 *  - a request only arms an idle source in the device's main context, so
 *    the state is read after the answer went out; any number of requests
 *    before it runs make one save;
 *  - that source copies the state (the queue pairs pause for a moment so
 *    their indices agree) and hands the copy to a writer thread: the next
 *    command does not wait for the document to be made (bench-ctrl: the
 *    answer's p50 was 28 us without a state file and 67 us with one when
 *    the text was made here);
 *  - the writer makes the document, replaces the file atomically
 *    (net_state_write(): temporary file, fsync, rename, fsync of the
 *    directory) and, if a newer state came meanwhile, writes that next:
 *    only the newest state is ever kept waiting.
 * The file is always the old whole document or the new whole document. A
 * write that fails (disk full, directory gone) is logged once, and again
 * when writing works again; the device keeps running either way.
 */
#include "config.h"

#include <gio/gio.h>

#include "net-priv.h"

/**
 * struct NetStateSaver - keeps a state file up to date
 * @nd:		the device whose state is saved (not owned)
 * @path:	the file
 * @ctx:	main context of @nd
 * @idle:	the pending read of the state, or NULL
 * @thread:	the writer
 * @lock:	protects @state, @stop and @busy
 * @cond:	signalled when @state or @stop change, or @busy drops
 * @state:	the newest state not yet written, or NULL
 * @stop:	the writer must return once @state is written
 * @busy:	the writer is writing
 * @failing:	the last write failed (so the next failure is not logged)
 */
struct NetStateSaver {
    NetDev *nd;
    char *path;
    GMainContext *ctx;
    GSource *idle;
    GThread *thread;
    GMutex lock;
    GCond cond;
    NetState *state;
    bool stop;
    bool busy;
    bool failing;
};

/**
 * saver_thread() - write each newest document until told to stop
 * @data:	the saver
 *
 * Return: NULL.
 */
static gpointer saver_thread(gpointer data)
{
    NetStateSaver *s = data;

    g_mutex_lock(&s->lock);
    for (;;) {
        g_autofree NetState *state = NULL;
        g_autoptr(JsonNode) node = NULL;
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;
        bool ok;

        while (!s->state && !s->stop) {
            g_cond_wait(&s->cond, &s->lock);
        }
        if (!s->state) {
            break;
        }
        state = g_steal_pointer(&s->state);
        s->busy = true;
        g_mutex_unlock(&s->lock);

        node = net_state_to_json(state);
        text = json_to_string(node, TRUE);
        ok = net_state_write(text, s->path, &error);
        if (!ok && !s->failing) {
            g_message("%s (the old state stays; the device keeps running)",
                      error->message);
        } else if (ok && s->failing) {
            g_message("%s written again", s->path);
        }
        s->failing = !ok;

        g_mutex_lock(&s->lock);
        s->busy = false;
        g_cond_broadcast(&s->cond);
    }
    g_mutex_unlock(&s->lock);
    return NULL;
}

/**
 * saver_collect() - copy the state now and hand it to the writer
 * @s:		the saver
 */
static void saver_collect(NetStateSaver *s)
{
    NetState *st = g_new(NetState, 1);

    net_dev_get_state(s->nd, st);
    g_mutex_lock(&s->lock);
    g_free(s->state);
    s->state = st;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
}

/* saver_on_idle() - the answers went out: read the state. */
static gboolean saver_on_idle(gpointer data)
{
    NetStateSaver *s = data;

    g_clear_pointer(&s->idle, g_source_unref);
    saver_collect(s);
    return G_SOURCE_REMOVE;
}

NetStateSaver *net_state_saver_new(NetDev *nd, const char *path,
                                   GMainContext *ctx)
{
    NetStateSaver *s = g_new0(NetStateSaver, 1);

    s->nd = nd;
    s->path = g_strdup(path);
    s->ctx = ctx;
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    s->thread = g_thread_new("state-saver", saver_thread, s);
    return s;
}

void net_state_saver_request(NetStateSaver *s)
{
    if (!s || s->idle) {
        return;
    }
    s->idle = g_idle_source_new();
    g_source_set_priority(s->idle, G_PRIORITY_DEFAULT);
    g_source_set_callback(s->idle, saver_on_idle, s, NULL);
    g_source_attach(s->idle, s->ctx);
}

void net_state_saver_flush(NetStateSaver *s)
{
    if (!s) {
        return;
    }
    if (s->idle) {
        g_source_destroy(s->idle);
        g_clear_pointer(&s->idle, g_source_unref);
        saver_collect(s);
    }
    g_mutex_lock(&s->lock);
    while (s->state || s->busy) {
        g_cond_wait(&s->cond, &s->lock);
    }
    g_mutex_unlock(&s->lock);
}

void net_state_saver_free(NetStateSaver *s)
{
    if (!s) {
        return;
    }
    net_state_saver_flush(s);
    g_mutex_lock(&s->lock);
    s->stop = true;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
    g_thread_join(s->thread);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s->state);
    g_free(s->path);
    g_free(s);
}
