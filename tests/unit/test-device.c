/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-device.c - vduse/device.c's message loop against a kernel in process
 *
 * The device has three queues, as vduse-net's with one pair: 0 and 1 in
 * group 0, 2 (the control queue) alone in group 1; two address spaces.
 * Guest memory: two memfds mapped at the same IOVAs, mem[0] in ASID 0 and
 * mem[1] in ASID 1, so a queue translated through the wrong ASID reads the
 * other memory. Each is mapped as two regions, the rings below CANARY_IOVA
 * and the buffers from it on, so that the kernel can move the buffers
 * alone. The rings of queues 0 and 1 are in mem[0], the ring of queue 2 in
 * mem[1]; at CANARY_IOVA each memory holds its own name.
 *
 * The model's callbacks are written to a log ("quiesce 2" ...), which the
 * tests compare whole: what was called, in which order, with which scope.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "test-driver.h"

#define GUEST_IOVA 0x100000ull
#define GUEST_SIZE (1024 * 1024)
#define RING_OFF(i) ((size_t)(i)*0x4000)
#define CANARY_OFF 0x80000
#define CANARY_IOVA (GUEST_IOVA + CANARY_OFF)
#define GUEST_LAST (GUEST_IOVA + GUEST_SIZE - 1)
#define VQ_NUM 3
#define CVQ 2
#define RW VDUSE_ACCESS_RW

#define FEATURES                                                               \
    (VDUSE_BIT(VDUSE_F_VERSION_1) | VDUSE_BIT(VDUSE_F_ACCESS_PLATFORM) |       \
     VDUSE_BIT(VDUSE_F_RING_EVENT_IDX))
#define S_UP (VDUSE_S_ACKNOWLEDGE | VDUSE_S_DRIVER | VDUSE_S_FEATURES_OK)
#define S_RUN (S_UP | VDUSE_S_DRIVER_OK)

static const uint32_t vq_group[VQ_NUM] = {0, 0, 1};

/* Messages (not debug) logged while a test looks, one per line, or NULL. */
static GString *captured;

/**
 * log_writer() - keep the messages a test looks at, then log as usual
 * @level:	the log level
 * @fields:	the structured fields
 * @n_fields:	how many
 * @opaque:	unused
 *
 * Return: what the default writer returns.
 */
static GLogWriterOutput log_writer(GLogLevelFlags level,
                                   const GLogField *fields, gsize n_fields,
                                   gpointer opaque)
{
    bool keep = captured && !(level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG));

    for (gsize i = 0; keep && i < n_fields; i++) {
        if (!strcmp(fields[i].key, "MESSAGE")) {
            g_string_append_printf(captured, "%s\n",
                                   (const char *)fields[i].value);
        }
    }
    return g_log_writer_default(level, fields, n_fields, opaque);
}

/**
 * struct Fixture - a kernel, a device on it, and a driver's memory
 * @ctx:	main context the device is served in
 * @cfg:	the device as created
 * @k:		the kernel
 * @dev:	the device under test
 * @mem:	guest memory of ASID 0 and ASID 1
 * @ring:	the driver's side of each queue
 * @log:	the model's callbacks, one per line
 * @refuse:	features_ok() refuses
 * @depth:	quiesces not resumed yet
 * @scope:	the scope of the last quiesce, as written to @log
 * @gen:	the IOTLB generation when the last quiesce was asked
 * @asid_at_quiesce: group 1's ASID when the last quiesce was asked
 * @asid_at_resume: group 1's ASID when the last resume was asked
 * @gen_at_resume: the IOTLB generation when the last resume was asked
 * @elem:	storage for popped chains
 */
typedef struct Fixture {
    GMainContext *ctx;
    VduseDevConfig cfg;
    TestKernel *k;
    VduseDev *dev;
    TestMem *mem[2];
    TestRing ring[VQ_NUM];
    GString *log;
    bool refuse;
    int depth;
    GString *scope;
    uint64_t gen;
    uint32_t asid_at_quiesce;
    uint32_t asid_at_resume;
    uint64_t gen_at_resume;
    VduseVqElem *elem;
} Fixture;

/**
 * set_str() - @vqs as "0,1,2"
 * @vqs:	a scope
 *
 * Return: a new string.
 */
static char *set_str(const VduseVqSet *vqs)
{
    GString *s = g_string_new(NULL);

    for (uint32_t i = 0; i < vqs->n; i++) {
        g_string_append_printf(s, "%s%u", i ? "," : "", vqs->index[i]);
        /* The order the header promises, and membership agrees. */
        g_assert_true(i == 0 || vqs->index[i] > vqs->index[i - 1]);
        g_assert_true(vduse_vq_set_has(vqs, vqs->index[i]));
    }
    return g_string_free(s, FALSE);
}

/**
 * ops_features_ok() - record, and refuse if the test says so
 * @dev:	the device
 * @features:	what the driver chose
 * @opaque:	the fixture
 *
 * Return: !@f->refuse.
 */
static bool ops_features_ok(VduseDev *dev, uint64_t features, void *opaque)
{
    Fixture *f = opaque;

    g_string_append_printf(f->log, "features_ok 0x%" G_GINT64_MODIFIER "x\n",
                           (guint64)features);
    return !f->refuse;
}

/**
 * ops_driver_ok() - record
 * @dev:	the device
 * @opaque:	the fixture
 */
static void ops_driver_ok(VduseDev *dev, void *opaque)
{
    Fixture *f = opaque;

    g_string_append(f->log, "driver_ok\n");
}

/**
 * ops_quiesce() - record the scope and what the device looked like
 * @dev:	the device
 * @vqs:	the scope
 * @opaque:	the fixture
 */
static void ops_quiesce(VduseDev *dev, const VduseVqSet *vqs, void *opaque)
{
    Fixture *f = opaque;
    g_autofree char *s = set_str(vqs);

    g_assert_cmpuint(vqs->n, >, 0);
    for (uint32_t i = 0; i < vqs->n; i++) {
        g_assert_true(vduse_dev_vq_is_started(dev, vqs->index[i]));
    }
    g_string_append_printf(f->log, "quiesce %s\n", s);
    g_string_assign(f->scope, s);
    f->depth++;
    f->gen = vduse_iotlb_generation(vduse_dev_iotlb(dev));
    f->asid_at_quiesce = vduse_dev_group_asid(dev, 1);
}

/**
 * ops_resume() - record, and check it undoes the last quiesce
 * @dev:	the device
 * @vqs:	the scope
 * @opaque:	the fixture
 */
static void ops_resume(VduseDev *dev, const VduseVqSet *vqs, void *opaque)
{
    Fixture *f = opaque;
    g_autofree char *s = set_str(vqs);

    g_string_append_printf(f->log, "resume %s\n", s);
    g_assert_cmpint(f->depth, ==, 1);
    g_assert_cmpstr(s, ==, f->scope->str);
    f->depth--;
    f->gen_at_resume = vduse_iotlb_generation(vduse_dev_iotlb(dev));
    f->asid_at_resume = vduse_dev_group_asid(dev, 1);
}

/**
 * ops_vq_ready() - record
 * @dev:	the device
 * @index:	the queue
 * @ready:	started or stopped
 * @opaque:	the fixture
 */
static void ops_vq_ready(VduseDev *dev, uint32_t index, bool ready,
                         void *opaque)
{
    Fixture *f = opaque;

    g_string_append_printf(f->log, "vq_ready %u %d\n", index, ready);
}

/**
 * ops_reset() - record; a reset ends a quiesce that had no resume
 * @dev:	the device
 * @opaque:	the fixture
 */
static void ops_reset(VduseDev *dev, void *opaque)
{
    Fixture *f = opaque;

    g_string_append(f->log, "reset\n");
    f->depth = 0;
}

static const VduseDevOps ops = {
    .features_ok = ops_features_ok,
    .driver_ok = ops_driver_ok,
    .quiesce = ops_quiesce,
    .resume = ops_resume,
    .vq_ready = ops_vq_ready,
    .reset = ops_reset,
};

/**
 * log_take() - the log so far, emptied
 * @f:		the fixture
 *
 * Return: a new string.
 */
static char *log_take(Fixture *f)
{
    char *s = g_strdup(f->log->str);

    g_string_truncate(f->log, 0);
    return s;
}

/**
 * assert_log() - the callbacks since the last check were exactly @want
 * @f:		the fixture
 * @want:	one line per callback
 */
static void assert_log(Fixture *f, const char *want)
{
    g_autofree char *got = log_take(f);

    g_assert_cmpstr(got, ==, want);
}

/**
 * fixture_setup() - a created device, opened, and a driver that has
 * mapped its memory and laid out its rings
 * @f:		the fixture
 * @data:	unused
 */
static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->ctx = g_main_context_new();
    f->cfg = (VduseDevConfig){
        .name = "test0",
        .device_id = 1,
        .features = FEATURES,
        .vq_num = VQ_NUM,
        .vq_max_size = 256,
        .vq_group = vq_group,
        .ngroups = 2,
        .nas = 2,
        .config_size = 16,
    };
    f->k = test_kernel_new(
        &f->cfg, VDUSE_API_VERSION_1,
        VDUSE_BIT(VDUSE_F_QUEUE_READY) | VDUSE_BIT(VDUSE_F_SUSPEND), f->ctx);
    f->log = g_string_new(NULL);
    f->scope = g_string_new(NULL);
    f->elem = g_new0(VduseVqElem, 1);
    f->dev = test_kernel_open(f->k, &f->cfg, true, &ops, f, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->dev);

    for (int a = 0; a < 2; a++) {
        f->mem[a] = test_mem_new(GUEST_SIZE);
        g_assert_cmpint(
            test_kernel_map(f->k, a, GUEST_IOVA, f->mem[a], 0, CANARY_OFF, RW),
            ==, 0);
        g_assert_cmpint(test_kernel_map(f->k, a, CANARY_IOVA, f->mem[a],
                                        CANARY_OFF, GUEST_SIZE - CANARY_OFF,
                                        RW),
                        ==, 0);
        snprintf((char *)f->mem[a]->host + CANARY_OFF, 8, "ASID %d", a);
    }
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        test_ring_init(&f->ring[i], f->mem[vq_group[i]], GUEST_IOVA,
                       RING_OFF(i), 8, 0);
        test_kernel_set_vq_ring(f->k, i, &f->ring[i]);
    }
}

/**
 * fixture_teardown() - close and free everything
 * @f:		the fixture
 * @data:	unused
 */
static void fixture_teardown(Fixture *f, gconstpointer data)
{
    g_assert_cmpuint(test_kernel_bad_answers(f->k), ==, 0);
    vduse_dev_close(f->dev);
    test_kernel_free(f->k);
    for (int a = 0; a < 2; a++) {
        test_mem_free(f->mem[a]);
    }
    g_string_free(f->log, TRUE);
    g_string_free(f->scope, TRUE);
    g_free(f->elem);
    g_main_context_unref(f->ctx);
}

/**
 * features_ok() - the driver negotiates FEATURES, the device accepts
 * @f:		the fixture
 */
static void features_ok(Fixture *f)
{
    test_kernel_set_driver_features(f->k, FEATURES);
    g_assert_cmpuint(
        test_kernel_set_status(f->k, VDUSE_S_ACKNOWLEDGE | VDUSE_S_DRIVER), ==,
        VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_UP), ==,
                     VDUSE_REQ_RESULT_OK);
}

/**
 * driver_up() - what vhost-vdpa does for a VMM that shadows the control
 * queue: group 1 to ASID 1, every queue ready, DRIVER_OK
 * @f:		the fixture
 */
static void driver_up(Fixture *f)
{
    features_ok(f);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 1), ==,
                     VDUSE_REQ_RESULT_OK);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        test_kernel_set_vq_ready(f->k, i, true);
    }
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_true(vduse_dev_vq_is_started(f->dev, i));
    }
    g_string_truncate(f->log, 0);
}

/**
 * add_canary() - the driver posts a buffer at CANARY_IOVA on queue @i
 * @f:		the fixture
 * @i:		the queue
 */
static void add_canary(Fixture *f, uint32_t i)
{
    TestBuf buf = {CANARY_IOVA, 8, false};

    test_ring_add(&f->ring[i], &buf, 1, 0);
}

/**
 * pop_canary() - pop queue @i and return the canary it reads
 * @f:		the fixture
 * @i:		the queue
 *
 * Return: "ASID 0" or "ASID 1", owned by guest memory.
 */
static const char *pop_canary(Fixture *f, uint32_t i)
{
    g_assert_cmpint(vduse_vq_pop(vduse_dev_vq(f->dev, i), f->elem), ==, 1);
    g_assert_cmpuint(f->elem->out_num, ==, 1);
    g_assert_cmpuint(f->elem->out_len, ==, 8);
    return f->elem->iov[0].iov_base;
}

/**
 * test_features_ok() - FEATURES_OK reads the driver's features and lets
 * the model refuse them
 * @f:		the fixture
 * @data:	unused
 */
static void test_features_ok(Fixture *f, gconstpointer data)
{
    g_autofree char *want = NULL;

    test_kernel_set_driver_features(f->k, FEATURES);
    f->refuse = true;
    g_assert_cmpuint(test_kernel_set_status(f->k, S_UP), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_status(f->k), ==, 0);
    g_assert_cmpuint(vduse_dev_features(f->dev), ==, 0);

    f->refuse = false;
    g_assert_cmpuint(test_kernel_set_status(f->k, S_UP), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(vduse_dev_features(f->dev), ==, FEATURES);
    g_assert_cmpuint(vduse_dev_status(f->dev), ==, S_UP);
    want = g_strdup_printf("features_ok 0x%" G_GINT64_MODIFIER "x\n"
                           "features_ok 0x%" G_GINT64_MODIFIER "x\n",
                           (guint64)FEATURES, (guint64)FEATURES);
    assert_log(f, want);
}

/**
 * packed_up() - the driver negotiates packed rings and starts every queue
 * on a TestPRing at slot 5 of the lap with wrap counter 0, as a VMM
 * restoring a device would set them (VHOST_SET_VRING_BASE)
 * @f:		the fixture
 * @rings:	VQ_NUM rings, set up here
 * @log:	the used log to give the device first, or NULL
 */
static void packed_up(Fixture *f, TestPRing *rings, VduseVqUsedLog *log)
{
    uint64_t features = FEATURES | VDUSE_BIT(VDUSE_F_RING_PACKED);

    for (uint32_t i = 0; i < VQ_NUM; i++) {
        test_pring_init(&rings[i], f->mem[vq_group[i]], GUEST_IOVA, RING_OFF(i),
                        8, 5, false);
        test_kernel_set_vq_packed(f->k, i, &rings[i], 5, 5);
    }
    if (log) {
        vduse_dev_set_used_log(f->dev, log);
    }
    test_kernel_set_driver_features(f->k, features);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_UP), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(vduse_dev_features(f->dev), ==, features);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 1), ==,
                     VDUSE_REQ_RESULT_OK);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        test_kernel_set_vq_ready(f->k, i, true);
    }
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_true(vduse_dev_vq_is_started(f->dev, i));
        g_assert_true(vduse_vq_is_packed(vduse_dev_vq(f->dev, i)));
        g_assert_cmpuint(vduse_vq_last_avail(vduse_dev_vq(f->dev, i)), ==, 5);
    }
    g_string_truncate(f->log, 0);
}

/**
 * test_packed() - a driver that chose packed rings gets them: queues start
 * at the positions the kernel holds, with the wrap counters, in their
 * group's address space, and GET_VQ_STATE answers both positions
 * @f:		the fixture
 * @data:	unused
 */
static void test_packed(Fixture *f, gconstpointer data)
{
    g_autofree TestPRing *rings = g_new0(TestPRing, VQ_NUM);
    TestBuf buf = {CANARY_IOVA, 8, false};
    uint16_t avail = 0, used = 0, id;
    uint32_t len;

    packed_up(f, rings, NULL);
    test_pring_add(&rings[CVQ], &buf, 1, 0, 4);
    g_assert_cmpstr(pop_canary(f, CVQ), ==, "ASID 1");
    for (uint16_t i = 0; i < 4; i++) {
        test_pring_add(&rings[0], &buf, 1, 0, i);
    }
    for (int i = 0; i < 4; i++) {
        g_assert_cmpstr(pop_canary(f, 0), ==, "ASID 0");
    }
    /* Popped past the ring's end: slot 1 of the lap with wrap 1. */
    g_assert_cmpuint(test_kernel_get_vq_packed(f->k, 0, &avail, &used), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmphex(avail, ==, 0x8001);
    g_assert_cmphex(used, ==, 5);
    assert_log(f, "quiesce 0\nresume 0\n");
    for (uint16_t i = 0; i < 4; i++) {
        vduse_vq_push(vduse_dev_vq(f->dev, 0), i, 0);
    }
    vduse_vq_flush(vduse_dev_vq(f->dev, 0));
    for (uint16_t i = 0; i < 4; i++) {
        g_assert_true(test_pring_get_used(&rings[0], &id, &len));
        g_assert_cmpuint(id, ==, i);
    }
    g_assert_cmpuint(test_kernel_get_vq_packed(f->k, 0, &avail, &used), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmphex(avail, ==, 0x8001);
    g_assert_cmphex(used, ==, 0x8001);
}

/**
 * test_adopt_packed() - a packed queue is taken over only with the used log
 * the dead process kept: without it the queue is not served; with it the
 * chains popped and not completed come again
 * @f:		the fixture
 * @data:	unused
 */
static void test_adopt_packed(Fixture *f, gconstpointer data)
{
    g_autofree TestPRing *rings = g_new0(TestPRing, VQ_NUM);
    g_autofree VduseVqUsedLog *log = g_new0(VduseVqUsedLog, VQ_NUM);
    const uint32_t asids[2] = {0, 1};
    g_autoptr(GError) error = NULL;
    TestBuf buf = {CANARY_IOVA, 8, false};
    uint16_t id;
    uint32_t len;

    packed_up(f, rings, log);
    g_assert_cmphex(log[0].to, ==, 5);
    /* Popped 4 (across the end), completed 2, died. */
    for (uint16_t i = 0; i < 4; i++) {
        test_pring_add(&rings[0], &buf, 1, 0, i);
    }
    for (int i = 0; i < 4; i++) {
        g_assert_cmpstr(pop_canary(f, 0), ==, "ASID 0");
    }
    vduse_vq_push(vduse_dev_vq(f->dev, 0), 0, 0);
    vduse_vq_push(vduse_dev_vq(f->dev, 0), 1, 0);
    vduse_vq_flush(vduse_dev_vq(f->dev, 0));
    g_assert_cmphex(log[0].to, ==, 7);
    vduse_dev_close(f->dev);

    /* No log: the queues are not served, the driver's ring untouched. */
    f->dev = test_kernel_open(f->k, &f->cfg, false, &ops, f, &error);
    g_assert_no_error(error);
    g_assert_true(vduse_dev_adopt(f->dev, S_RUN, asids, 2, &error));
    g_assert_no_error(error);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_false(vduse_dev_vq_is_started(f->dev, i));
    }
    vduse_dev_close(f->dev);

    f->dev = test_kernel_open(f->k, &f->cfg, false, &ops, f, &error);
    g_assert_no_error(error);
    vduse_dev_set_used_log(f->dev, log);
    g_assert_true(vduse_dev_adopt(f->dev, S_RUN, asids, 2, &error));
    g_assert_no_error(error);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_true(vduse_dev_vq_is_started(f->dev, i));
    }
    g_assert_cmphex(vduse_vq_used_idx(vduse_dev_vq(f->dev, 0)), ==, 7);
    g_assert_cmphex(vduse_vq_last_avail(vduse_dev_vq(f->dev, 0)), ==, 7);
    g_assert_cmpuint(vduse_vq_avail_pending(vduse_dev_vq(f->dev, 0)), ==, 2);
    for (uint16_t i = 2; i < 4; i++) {
        g_assert_cmpstr(pop_canary(f, 0), ==, "ASID 0");
        g_assert_cmpuint(f->elem->id, ==, i);
        vduse_vq_push(vduse_dev_vq(f->dev, 0), i, 0);
    }
    vduse_vq_flush(vduse_dev_vq(f->dev, 0));
    for (uint16_t i = 0; i < 4; i++) {
        g_assert_true(test_pring_get_used(&rings[0], &id, &len));
        g_assert_cmpuint(id, ==, i);
    }
    g_assert_false(test_pring_get_used(&rings[0], &id, &len));
    g_assert_cmphex(log[0].to, ==, 0x8001);
    /* The log goes before it is freed. */
    vduse_dev_set_used_log(f->dev, NULL);
}

/**
 * test_driver_ok_starts_ready() - DRIVER_OK starts the ready queues only,
 * each in its group's address space, with a kick eventfd
 * @f:		the fixture
 * @data:	unused
 */
static void test_driver_ok_starts_ready(Fixture *f, gconstpointer data)
{
    VduseVqState vs;

    /* VDUSE_VQ_SETUP told the kernel each queue's group and size. */
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_cmpuint(test_kernel_vq(f->k, i)->group, ==, vq_group[i]);
        g_assert_cmpuint(test_kernel_vq(f->k, i)->max_size, ==, 256);
    }
    features_ok(f);
    g_string_truncate(f->log, 0);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 1), ==,
                     VDUSE_REQ_RESULT_OK);
    test_kernel_set_vq_ready(f->k, 0, true);
    test_kernel_set_vq_ready(f->k, CVQ, true);
    add_canary(f, 0);
    add_canary(f, CVQ);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "driver_ok\n");

    g_assert_true(vduse_dev_vq_is_started(f->dev, 0));
    g_assert_false(vduse_dev_vq_is_started(f->dev, 1));
    g_assert_true(vduse_dev_vq_is_started(f->dev, CVQ));
    g_assert_cmpint(test_kernel_vq(f->k, 0)->kickfd, >=, 0);
    g_assert_cmpint(test_kernel_vq(f->k, 1)->kickfd, <, 0);
    g_assert_cmpint(test_kernel_vq(f->k, CVQ)->kickfd, >=, 0);
    g_assert_true(vduse_dev_get_vq_state(f->dev, CVQ, &vs));
    g_assert_true(vs.started && vs.ready);
    g_assert_cmpuint(vs.group, ==, 1);
    g_assert_cmpuint(vs.asid, ==, 1);
    g_assert_cmpuint(vs.size, ==, 8);
    g_assert_true(vduse_dev_get_vq_state(f->dev, 1, &vs));
    g_assert_false(vs.started || vs.ready);

    /* The same IOVA, two memories: each queue reads its own. */
    g_assert_cmpstr(pop_canary(f, 0), ==, "ASID 0");
    g_assert_cmpstr(pop_canary(f, CVQ), ==, "ASID 1");
    g_assert_cmpint(vduse_vq_pop(vduse_dev_vq(f->dev, 1), f->elem), ==,
                    -ENODEV);

    /* Interrupts reach the kernel for a queue in range only. */
    g_assert_cmpint(vduse_dev_vq_notify(f->dev, CVQ), ==, 0);
    g_assert_cmpuint(test_kernel_vq(f->k, CVQ)->irqs, ==, 1);
    g_assert_cmpint(vduse_dev_vq_notify(f->dev, VQ_NUM), ==, -EINVAL);
}

/**
 * test_vq_ready_after_driver_ok() - SET_VQ_READY starts and stops a queue
 * after DRIVER_OK, and tells the model
 * @f:		the fixture
 * @data:	unused
 */
static void test_vq_ready_after_driver_ok(Fixture *f, gconstpointer data)
{
    features_ok(f);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 1), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    g_string_truncate(f->log, 0);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_false(vduse_dev_vq_is_started(f->dev, i));
    }

    /* As vhost-vdpa restoring a device: the control queue first. */
    add_canary(f, CVQ);
    g_assert_cmpuint(test_kernel_set_vq_ready(f->k, CVQ, true), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "vq_ready 2 1\n");
    g_assert_true(vduse_dev_vq_is_started(f->dev, CVQ));
    g_assert_true(test_kernel_vq(f->k, CVQ)->ready);
    g_assert_cmpint(test_kernel_vq(f->k, CVQ)->kickfd, >=, 0);
    g_assert_cmpstr(pop_canary(f, CVQ), ==, "ASID 1");

    g_assert_cmpuint(test_kernel_set_vq_ready(f->k, CVQ, false), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "vq_ready 2 0\n");
    g_assert_false(vduse_dev_vq_is_started(f->dev, CVQ));
    g_assert_cmpint(test_kernel_vq(f->k, CVQ)->kickfd, <, 0);

    /* A ready queue whose ring the kernel cannot map stays stopped. */
    test_kernel_unmap(f->k, 0, 0, UINT64_MAX);
    captured = g_string_new(NULL);
    g_assert_cmpuint(test_kernel_set_vq_ready(f->k, 0, true), ==,
                     VDUSE_REQ_RESULT_OK);
    /* One line, with the cause and the fix. */
    g_assert_true(g_pattern_match_simple(
        "test0: vq 0 not started: *descriptor table not mapped*shared and "
        "file-backed*share=on*\n",
        captured->str));
    g_assert_true(strchr(captured->str, '\n') ==
                  captured->str + captured->len - 1);
    g_string_free(g_steal_pointer(&captured), TRUE);
    assert_log(f, "");
    g_assert_false(vduse_dev_vq_is_started(f->dev, 0));
    g_assert_cmpint(test_kernel_vq(f->k, 0)->kickfd, <, 0);
}

/**
 * test_reset() - a reset stops every queue, empties the IOTLB and puts
 * every group back in ASID 0
 * @f:		the fixture
 * @data:	unused
 */
static void test_reset(Fixture *f, gconstpointer data)
{
    VduseIotlb *iotlb = vduse_dev_iotlb(f->dev);
    struct iovec iov;
    unsigned int calls;

    driver_up(f);
    /* Once fetched, a region is cached: translating again asks nothing. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, CANARY_IOVA, 8,
                                          VDUSE_IOTLB_READ, &iov, 1),
                    ==, 1);
    calls = test_kernel_get_fd_calls(f->k, 0);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, CANARY_IOVA, 8,
                                          VDUSE_IOTLB_READ, &iov, 1),
                    ==, 1);
    g_assert_cmpuint(test_kernel_get_fd_calls(f->k, 0), ==, calls);

    g_assert_cmpuint(test_kernel_set_status(f->k, 0), ==, VDUSE_REQ_RESULT_OK);
    assert_log(f, "reset\n");
    g_assert_cmpuint(vduse_dev_status(f->dev), ==, 0);
    g_assert_cmpuint(vduse_dev_features(f->dev), ==, 0);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        VduseVqState vs;

        g_assert_false(vduse_dev_vq_is_started(f->dev, i));
        g_assert_cmpint(vduse_dev_vq_kickfd(f->dev, i), ==, -1);
        g_assert_true(vduse_dev_get_vq_state(f->dev, i, &vs));
        g_assert_false(vs.ready);
        g_assert_cmpuint(vs.asid, ==, 0);
    }
    g_assert_cmpuint(vduse_dev_group_asid(f->dev, 1), ==, 0);
    /* Emptied: the next translation asks the kernel again. */
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, CANARY_IOVA, 8,
                                          VDUSE_IOTLB_READ, &iov, 1),
                    ==, 1);
    g_assert_cmpuint(test_kernel_get_fd_calls(f->k, 0), ==, calls + 1);

    /* The device comes up again from scratch, control queue in ASID 0. */
    features_ok(f);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        test_kernel_set_vq_ring(f->k, i, &f->ring[i]);
        test_kernel_set_vq_ready(f->k, i, true);
    }
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_true(vduse_dev_vq_is_started(f->dev, 0));
    g_assert_true(vduse_dev_vq_is_started(f->dev, CVQ));
    g_assert_cmpuint(vduse_dev_group_asid(f->dev, 1), ==, 0);
    /* It reads its ring in ASID 0's memory, where the driver posted
     * nothing. */
    add_canary(f, CVQ);
    g_assert_cmpint(vduse_vq_pop(vduse_dev_vq(f->dev, CVQ), f->elem), ==, 0);
}

/**
 * test_out_of_range() - every index the kernel gives is checked: FAILED,
 * nothing called, nothing changed
 * @f:		the fixture
 * @data:	unused
 */
static void test_out_of_range(Fixture *f, gconstpointer data)
{
    uint16_t avail = 0;

    driver_up(f);
    g_assert_cmpuint(test_kernel_get_vq_state(f->k, VQ_NUM, &avail), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_get_vq_state(f->k, UINT32_MAX, &avail), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_set_vq_ready(f->k, VQ_NUM, true), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_set_vq_ready(f->k, UINT32_MAX, false), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 2, 0), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 0, 2), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, UINT32_MAX, 1), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 2, 0, UINT64_MAX), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, UINT32_MAX, 0, 1), ==,
                     VDUSE_REQ_RESULT_FAILED);
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 0, 0x2000, 0x1fff), ==,
                     VDUSE_REQ_RESULT_FAILED);
    assert_log(f, "");
    g_assert_cmpuint(vduse_dev_group_asid(f->dev, 0), ==, 0);
    g_assert_cmpuint(vduse_dev_group_asid(f->dev, 1), ==, 1);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_true(vduse_dev_vq_is_started(f->dev, i));
    }
    g_assert_false(vduse_dev_is_broken(f->dev));
}

/**
 * test_unknown_type() - a message type we do not know is answered FAILED,
 * and the next one is served
 * @f:		the fixture
 * @data:	unused
 */
static void test_unknown_type(Fixture *f, gconstpointer data)
{
    struct vduse_dev_request req = {.type = VDUSE_SUSPEND + 1};
    struct vduse_dev_response resp;

    g_assert_cmpuint(test_kernel_send(f->k, &req, &resp), ==,
                     VDUSE_REQ_RESULT_FAILED);
    req = (struct vduse_dev_request){.type = UINT32_MAX};
    g_assert_cmpuint(test_kernel_send(f->k, &req, &resp), ==,
                     VDUSE_REQ_RESULT_FAILED);
    assert_log(f, "");
    features_ok(f);
    g_assert_cmpuint(vduse_dev_status(f->dev), ==, S_UP);
    g_assert_false(vduse_dev_is_broken(f->dev));
}

/**
 * test_iotlb_asid1_spares_data() - an IOTLB update in ASID 1 quiesces the
 * control queue only, and the device then sees the new mapping
 * @f:		the fixture
 * @data:	unused
 */
static void test_iotlb_asid1_spares_data(Fixture *f, gconstpointer data)
{
    VduseIotlb *iotlb = vduse_dev_iotlb(f->dev);
    TestMem *other = test_mem_new(GUEST_SIZE - CANARY_OFF);
    struct iovec iov;
    unsigned int calls;
    uint64_t gen;

    driver_up(f);
    add_canary(f, CVQ);
    g_assert_cmpstr(pop_canary(f, CVQ), ==, "ASID 1");
    add_canary(f, 0);
    g_assert_cmpstr(pop_canary(f, 0), ==, "ASID 0");

    /* The VMM moves ASID 1's buffers to other memory. */
    strcpy((char *)other->host, "moved");
    test_kernel_unmap(f->k, 1, CANARY_IOVA, GUEST_LAST);
    g_assert_cmpint(test_kernel_map(f->k, 1, CANARY_IOVA, other, 0,
                                    GUEST_SIZE - CANARY_OFF, RW),
                    ==, 0);
    gen = vduse_iotlb_generation(iotlb);
    calls = test_kernel_get_fd_calls(f->k, 0);
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 1, CANARY_IOVA, GUEST_LAST),
                     ==, VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 2\nresume 2\n");
    /* Quiesced before the invalidation, resumed after it. */
    g_assert_cmpuint(f->gen, ==, gen);
    g_assert_cmpuint(f->gen_at_resume, >, gen);
    g_assert_cmpint(f->depth, ==, 0);

    /* The old mapping is gone: the control queue reads the new memory;
     * the data queues read theirs, still cached. */
    add_canary(f, CVQ);
    g_assert_cmpstr(pop_canary(f, CVQ), ==, "moved");
    add_canary(f, 0);
    g_assert_cmpstr(pop_canary(f, 0), ==, "ASID 0");
    g_assert_cmpuint(test_kernel_get_fd_calls(f->k, 0), ==, calls);

    /* The kernel unmaps ASID 1 for good: its translations fail, ASID 0's
     * still work. */
    test_kernel_unmap(f->k, 1, 0, UINT64_MAX);
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 1, 0, UINT64_MAX), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 2\nresume 2\n");
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 1, CANARY_IOVA, 8,
                                          VDUSE_IOTLB_READ, &iov, 1),
                    ==, -EFAULT);
    g_assert_cmpint(vduse_iotlb_translate(iotlb, 0, CANARY_IOVA, 8,
                                          VDUSE_IOTLB_READ, &iov, 1),
                    ==, 1);
    g_assert_cmpstr(iov.iov_base, ==, "ASID 0");

    /* And an update in ASID 0 quiesces the data queues only. */
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 0, 0, UINT64_MAX), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 0,1\nresume 0,1\n");
    test_mem_free(other);
}

/**
 * test_not_started_no_quiesce() - queues that are not started are never
 * in a scope; an empty scope calls nothing
 * @f:		the fixture
 * @data:	unused
 */
static void test_not_started_no_quiesce(Fixture *f, gconstpointer data)
{
    features_ok(f);
    g_string_truncate(f->log, 0);
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 0, 0, UINT64_MAX), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 1), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "");

    test_kernel_set_vq_ready(f->k, 0, true);
    test_kernel_set_vq_ready(f->k, CVQ, true);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    g_string_truncate(f->log, 0);
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 0, 0, UINT64_MAX), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 0\nresume 0\n");
}

/**
 * test_group_move() - moving a group quiesces that group's queues, which
 * resume in the new address space
 * @f:		the fixture
 * @data:	unused
 */
static void test_group_move(Fixture *f, gconstpointer data)
{
    driver_up(f);
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 0), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 2\nresume 2\n");
    g_assert_cmpuint(f->asid_at_quiesce, ==, 1);
    g_assert_cmpuint(f->asid_at_resume, ==, 0);
    add_canary(f, 0);
    g_assert_cmpstr(pop_canary(f, 0), ==, "ASID 0");

    /* Where it already is: nothing moves, nobody stops. */
    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 1, 0), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "");

    g_assert_cmpuint(test_kernel_set_group_asid(f->k, 0, 1), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 0,1\nresume 0,1\n");
    g_assert_cmpuint(vduse_dev_group_asid(f->dev, 0), ==, 1);
    /* The data queues now read their rings in ASID 1's memory, where
     * the driver posted nothing. */
    add_canary(f, 1);
    g_assert_cmpint(vduse_vq_pop(vduse_dev_vq(f->dev, 1), f->elem), ==, 0);
}

/**
 * test_suspend_all() - SUSPEND quiesces every started queue until the
 * reset, and nothing else is quiesced meanwhile
 * @f:		the fixture
 * @data:	unused
 */
static void test_suspend_all(Fixture *f, gconstpointer data)
{
    driver_up(f);
    g_assert_cmpuint(test_kernel_set_vq_ready(f->k, 1, false), ==,
                     VDUSE_REQ_RESULT_OK);
    g_string_truncate(f->log, 0);
    g_assert_cmpuint(test_kernel_suspend(f->k), ==, VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 0,2\n");
    g_assert_true(vduse_dev_is_suspended(f->dev));
    g_assert_cmpint(f->depth, ==, 1);

    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 1, 0, UINT64_MAX), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(test_kernel_suspend(f->k), ==, VDUSE_REQ_RESULT_OK);
    vduse_dev_suspend(f->dev);
    assert_log(f, "");

    g_assert_cmpuint(test_kernel_set_status(f->k, 0), ==, VDUSE_REQ_RESULT_OK);
    assert_log(f, "reset\n");
    g_assert_false(vduse_dev_is_suspended(f->dev));
}

/**
 * test_driver_ok_withdrawn() - DRIVER_OK taken back without a reset
 * quiesces every started queue and stops them
 * @f:		the fixture
 * @data:	unused
 */
static void test_driver_ok_withdrawn(Fixture *f, gconstpointer data)
{
    driver_up(f);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_UP | VDUSE_S_FAILED), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 0,1,2\n");
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_false(vduse_dev_vq_is_started(f->dev, i));
        g_assert_cmpint(test_kernel_vq(f->k, i)->kickfd, <, 0);
    }
    /* Nothing runs: an update quiesces nobody. */
    g_assert_cmpuint(test_kernel_update_iotlb(f->k, 0, 0, UINT64_MAX), ==,
                     VDUSE_REQ_RESULT_OK);
    assert_log(f, "");
}

/**
 * test_vq_state() - GET_VQ_STATE: a running queue answers what it will
 * consume next, quiesced alone; a stopped one what the driver set
 * @f:		the fixture
 * @data:	unused
 */
static void test_vq_state(Fixture *f, gconstpointer data)
{
    TestBuf buf = {CANARY_IOVA, 8, false};
    uint16_t avail = 0;

    test_ring_init(&f->ring[0], f->mem[0], GUEST_IOVA, RING_OFF(0), 8, 100);
    test_kernel_set_vq_state(f->k, 0, 100);
    test_kernel_set_vq_state(f->k, 1, 77);
    features_ok(f);
    test_kernel_set_vq_ready(f->k, 0, true);
    g_assert_cmpuint(test_kernel_set_status(f->k, S_RUN), ==,
                     VDUSE_REQ_RESULT_OK);
    g_string_truncate(f->log, 0);

    test_ring_add(&f->ring[0], &buf, 1, 0);
    test_ring_add(&f->ring[0], &buf, 1, 0);
    g_assert_cmpint(vduse_vq_pop(vduse_dev_vq(f->dev, 0), f->elem), ==, 1);
    g_assert_cmpuint(test_kernel_get_vq_state(f->k, 0, &avail), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(avail, ==, 101);
    assert_log(f, "quiesce 0\nresume 0\n");

    g_assert_cmpuint(test_kernel_get_vq_state(f->k, 1, &avail), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(avail, ==, 77);
    assert_log(f, "");

    /* Suspended: exact without asking anybody again. */
    g_assert_cmpuint(test_kernel_suspend(f->k), ==, VDUSE_REQ_RESULT_OK);
    assert_log(f, "quiesce 0\n");
    g_assert_cmpuint(test_kernel_get_vq_state(f->k, 0, &avail), ==,
                     VDUSE_REQ_RESULT_OK);
    g_assert_cmpuint(avail, ==, 101);
    assert_log(f, "");
}

/**
 * test_adopt() - a new process takes over a running device: the queues
 * start again from their used index
 * @f:		the fixture
 * @data:	unused
 */
static void test_adopt(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    const uint32_t asids[2] = {0, 1};
    const uint32_t bad_asids[2] = {0, 2};
    TestBuf buf = {CANARY_IOVA, 8, false};
    g_autofree char *want = NULL;
    VduseDev *dev;

    driver_up(f);
    /* The old process popped 3 chains of queue 0, completed 1, and died. */
    for (int i = 0; i < 3; i++) {
        test_ring_add(&f->ring[0], &buf, 1, 0);
    }
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(vduse_vq_pop(vduse_dev_vq(f->dev, 0), f->elem), ==, 1);
    }
    vduse_vq_push(vduse_dev_vq(f->dev, 0), 0, 0);
    vduse_vq_flush(vduse_dev_vq(f->dev, 0));
    vduse_dev_close(f->dev);
    f->dev = NULL;
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        /* The kernel drops nothing when the fd closes; the eventfds the
         * dead process gave stay assigned until replaced. */
        g_assert_cmpint(test_kernel_vq(f->k, i)->kickfd, >=, 0);
    }

    dev = test_kernel_open(f->k, &f->cfg, false, &ops, f, &error);
    g_assert_no_error(error);
    g_assert_false(vduse_dev_adopt(dev, S_RUN, asids, 1, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error(&error);
    g_assert_false(vduse_dev_adopt(dev, S_RUN, bad_asids, 2, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error(&error);
    assert_log(f, "");

    g_assert_true(vduse_dev_adopt(dev, S_RUN, asids, 2, &error));
    g_assert_no_error(error);
    f->dev = dev;
    want = g_strdup_printf("features_ok 0x%" G_GINT64_MODIFIER "x\n"
                           "driver_ok\n",
                           (guint64)FEATURES);
    assert_log(f, want);
    g_assert_cmpuint(vduse_dev_status(dev), ==, S_RUN);
    g_assert_cmpuint(vduse_dev_group_asid(dev, 1), ==, 1);
    for (uint32_t i = 0; i < VQ_NUM; i++) {
        g_assert_true(vduse_dev_vq_is_started(dev, i));
    }
    /* From the used index: the two chains never completed come again. */
    g_assert_cmpuint(vduse_vq_last_avail(vduse_dev_vq(dev, 0)), ==, 1);
    g_assert_cmpuint(vduse_vq_avail_pending(vduse_dev_vq(dev, 0)), ==, 2);
    g_assert_cmpint(vduse_vq_pop(vduse_dev_vq(dev, 0), f->elem), ==, 1);
    g_assert_cmpuint(f->elem->id, ==, 1);
    add_canary(f, CVQ);
    g_assert_cmpstr(pop_canary(f, CVQ), ==, "ASID 1");
}

/**
 * test_config() - config space writes go to the kernel within bounds;
 * the config interrupt needs DRIVER_OK
 * @f:		the fixture
 * @data:	unused
 */
static void test_config(Fixture *f, gconstpointer data)
{
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};

    g_assert_cmpint(vduse_dev_set_config(f->dev, 0, mac, 6, false), ==, 0);
    g_assert_cmpmem(test_kernel_config(f->k), 6, mac, 6);
    g_assert_cmpint(vduse_dev_set_config(f->dev, 12, mac, 6, false), ==,
                    -EINVAL);
    g_assert_cmpint(vduse_dev_set_config(f->dev, 0, mac, 6, true), ==, -EINVAL);
    g_assert_cmpuint(test_kernel_config_irqs(f->k), ==, 0);
    driver_up(f);
    g_assert_cmpint(vduse_dev_set_config(f->dev, 10, mac, 6, true), ==, 0);
    g_assert_cmpuint(test_kernel_config_irqs(f->k), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_writer_func(log_writer, NULL, NULL);
#define ADD(path, fn)                                                          \
    g_test_add("/device/" path, Fixture, NULL, fixture_setup, fn,              \
               fixture_teardown)
    ADD("status/features-ok-reads-features", test_features_ok);
    ADD("packed/start-and-state", test_packed);
    ADD("packed/adopt", test_adopt_packed);
    ADD("status/driver-ok-starts-ready-queues", test_driver_ok_starts_ready);
    ADD("status/vq-ready-after-driver-ok", test_vq_ready_after_driver_ok);
    ADD("status/reset-stops-everything", test_reset);
    ADD("message/index-out-of-range", test_out_of_range);
    ADD("message/unknown-type", test_unknown_type);
    ADD("quiesce/iotlb-asid1-spares-data", test_iotlb_asid1_spares_data);
    ADD("quiesce/not-started-not-in-scope", test_not_started_no_quiesce);
    ADD("quiesce/group-move", test_group_move);
    ADD("quiesce/suspend-all", test_suspend_all);
    ADD("quiesce/driver-ok-withdrawn", test_driver_ok_withdrawn);
    ADD("vq-state/running-and-stopped", test_vq_state);
    ADD("adopt/restarts-from-used", test_adopt);
    ADD("kernel/config-and-irq", test_config);
#undef ADD
    return g_test_run();
}
