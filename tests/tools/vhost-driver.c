/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-driver.c - play the VMM on /dev/vhost-vdpa-N, as QEMU's
 * -netdev vhost-vdpa does, for the VM tests
 *
 * Usage: vhost-driver [--packed | --hash] [--migrate CTLDIR | --remap N]
 *        /dev/vhost-vdpa-N MAC [VLAN]
 *
 * 1. QEMU's start-up probe: ACKNOWLEDGE|DRIVER, features, FEATURES_OK, the
 *    virtqueue groups and address spaces, then a reset to 0.
 * 2. The real start: backend features IOTLB_MSG_V2|IOTLB_ASID, the control
 *    vq's group moved to ASID 1, guest memory in ASID 0 and control memory
 *    in ASID 1 mapped at the SAME IOVAs, with a decoy control command in
 *    ASID 0 at the place where ASID 1 holds the real one. Only the control
 *    vq is enabled before DRIVER_OK, as QEMU does when it restores a device.
 * 3. QEMU's restore sequence through the control vq (ASID 1): MAC_ADDR_SET
 *    MAC, MAC_TABLE_SET, VQ_PAIRS_SET 1, GUEST_OFFLOADS_SET, the six RX
 *    modes, VLAN_ADD; every answer must be VIRTIO_NET_OK.
 * 4. The data vqs enabled after DRIVER_OK (SET_VQ_READY in the device), and
 *    one frame sent from ASID 0 with ethertype 0x88b5 and source MAC.
 *
 * Prints one line per step and then holds the device (closing the fd would
 * reset it) until killed; exits 1 at the first step that fails. The
 * scenario checks the device's own report meanwhile (MAC = MAC, not the
 * decoy's) and the frame at the TAP.
 *
 * With --migrate CTLDIR it plays a VMM migrating the guest between two
 * vduse-net processes, talking with the scenario through files in CTLDIR:
 * two queue pairs (VQ_PAIRS_SET 2), then MIGRATE_FRAMES frames with
 * ethertype 0x88b6 and a sequence number (big endian, after the header);
 * then suspend (VHOST_VDPA_SUSPEND, or, if the kernel does not offer it,
 * wait for CTLDIR/suspended that the scenario makes after the management
 * socket's "suspend"), VHOST_GET_VRING_BASE of every vq, which must equal
 * what was made available; wait for CTLDIR/go, close the fd (the source
 * device resets), wait for CTLDIR/dest to name the destination's
 * /dev/vhost-vdpa-M, and start it again with the same memory, rings and
 * VHOST_SET_VRING_BASE of the bases read, without replaying any control
 * command. One frame is sent at once; the destination must raise
 * VIRTIO_NET_S_ANNOUNCE with a config interrupt (acked with ANNOUNCE_ACK);
 * then the rest of MIGRATE_FRAMES more frames, whose used index continues
 * where the source stopped. It prints the device's downtime: from the
 * suspend to that first frame used at the destination, with its parts.
 *
 * With --packed it negotiates VIRTIO_F_RING_PACKED (and fails if the device
 * does not offer it) and runs every vq as a packed ring (virtio 1.2 2.8):
 * descriptors written in the ring with each one's AVAIL/USED bits for its
 * lap and the head's flags last, used descriptors read by buffer id and
 * skipped by the slots their chain took, both wrap counters, VRING_BASE
 * as vhost-vdpa has it for packed rings (available position in bits
 * 0-15, used in 16-31, each with its wrap counter in bit 15). Not with
 * --migrate.
 *
 * With --hash it negotiates VIRTIO_NET_F_HASH_REPORT (and fails if the
 * device does not offer it), so its headers are 20 bytes both ways, sends
 * HASH_CONFIG (every hash type, the key of Microsoft's RSS suite) after
 * the restore sequence, and prints each received frame's hash and report
 * type. Not with --packed, --migrate or --remap.
 *
 * With --remap N it plays a VMM remapping guest memory under traffic (as
 * memory hotplug or a migration's dirty tracking does): N rounds, each a
 * batched (VHOST_IOTLB_BATCH_BEGIN/END) invalidate and map again of all of
 * ASID 0, ten frames (ethertype 0x88b6, numbered), the same for ASID 1,
 * and a control command (ALLMULTI toggled) that must be answered OK; then
 * it prints one line and exits 0.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../unit/rss-key.h"

#define IOVA_BASE 0x100000ull
#define MEM_SIZE (1 << 20)
#define QSIZE 64
#define RING_OFF(vq) ((size_t)(vq)*0x4000)
#define BUF_OFF 0x80000
/* Frames sent on each side of a migration. */
#define MIGRATE_FRAMES 50

/**
 * struct Mem - one address space's memory, a shared memfd (vhost-vdpa maps
 * only file-backed shared memory for VDUSE)
 * @host:	our mapping
 * @asid:	its address space
 */
typedef struct Mem {
    uint8_t *host;
    unsigned int asid;
} Mem;

/**
 * struct Ring - the driver's side of one vq, split or packed (--packed)
 * @mem:	memory it lives in
 * @desc:	descriptor table (split)
 * @avail:	available ring (split)
 * @used:	used ring (split)
 * @next:	next descriptor / available index (split)
 * @kick:	kick eventfd
 * @index:	vq index
 * @ring:	descriptor ring (packed)
 * @avail_pos:	next slot to make available (packed)
 * @avail_wrap:	its wrap counter
 * @used_pos:	next slot a used descriptor is read from (packed)
 * @used_wrap:	its wrap counter
 * @added:	chains made available (packed; split: avail->idx)
 * @done:	used descriptors read (packed; split: used->idx)
 * @slots:	per buffer id, the slots its chain took (packed)
 * @addr:	per buffer id, the IOVA of its first buffer (packed)
 */
typedef struct Ring {
    Mem *mem;
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint16_t next;
    int kick;
    unsigned int index;
    struct vring_packed_desc *ring;
    uint16_t avail_pos;
    int avail_wrap;
    uint16_t used_pos;
    int used_wrap;
    uint16_t added;
    uint16_t done;
    uint16_t slots[QSIZE];
    uint64_t addr[QSIZE];
} Ring;

static int dev_fd;
/* --packed: every vq has the packed layout. */
static int packed;
/* The virtio-net header: 12 bytes, 20 with --hash (HASH_REPORT). */
static uint32_t hdr_len = 12;

/* die() - report a failed step and exit 1. */
static void die(const char *what)
{
    fprintf(stderr, "vhost-driver: FAIL: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* xioctl() - an ioctl that must succeed. */
static void xioctl(unsigned long req, void *arg, const char *what)
{
    if (ioctl(dev_fd, req, arg) < 0) {
        die(what);
    }
}

/* set_status() - VHOST_VDPA_SET_STATUS and check it stuck. */
static void set_status(uint8_t status)
{
    uint8_t got;

    xioctl(VHOST_VDPA_SET_STATUS, &status, "SET_STATUS");
    xioctl(VHOST_VDPA_GET_STATUS, &got, "GET_STATUS");
    if (got != status) {
        fprintf(stderr, "vhost-driver: FAIL: status 0x%x, set 0x%x\n", got,
                status);
        exit(1);
    }
}

/* mem_new() - a shared memfd mapping for address space @asid. */
static Mem mem_new(unsigned int asid)
{
    Mem m = {.asid = asid};
    int fd = memfd_create("vhost-driver", MFD_CLOEXEC);

    if (fd < 0 || ftruncate(fd, MEM_SIZE) < 0) {
        die("memfd");
    }
    m.host = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m.host == MAP_FAILED) {
        die("mmap");
    }
    close(fd);
    return m;
}

/**
 * iotlb_msg() - send one VHOST_IOTLB_MSG_V2 of @type for @m's memory
 * @m:		the memory (its ASID, all of it)
 * @type:	VHOST_IOTLB_UPDATE, _INVALIDATE, _BATCH_BEGIN or _BATCH_END
 */
static void iotlb_msg(const Mem *m, uint8_t type)
{
    struct vhost_msg_v2 msg = {
        .type = VHOST_IOTLB_MSG_V2,
        .asid = m->asid,
        .iotlb = {.iova = IOVA_BASE,
                  .size = MEM_SIZE,
                  .uaddr = (uint64_t)(uintptr_t)m->host,
                  .perm = VHOST_ACCESS_RW,
                  .type = type},
    };

    if (write(dev_fd, &msg, sizeof(msg)) != sizeof(msg)) {
        die("VHOST_IOTLB message");
    }
}

/* mem_map() - VHOST_IOTLB_UPDATE of all of @m at IOVA_BASE in its ASID. */
static void mem_map(const Mem *m)
{
    iotlb_msg(m, VHOST_IOTLB_UPDATE);
}

/**
 * mem_remap() - invalidate all of @m and map it again, in one batch: the
 * device sees one update and never a gap
 * @m:		the memory
 */
static void mem_remap(const Mem *m)
{
    iotlb_msg(m, VHOST_IOTLB_BATCH_BEGIN);
    iotlb_msg(m, VHOST_IOTLB_INVALIDATE);
    iotlb_msg(m, VHOST_IOTLB_UPDATE);
    iotlb_msg(m, VHOST_IOTLB_BATCH_END);
}

/* iova() - the IOVA of byte @off of an address space's memory. */
static uint64_t iova(size_t off)
{
    return IOVA_BASE + off;
}

/**
 * ring_setup() - tell vhost-vdpa where @r is and where it starts
 * @r:		the ring, laid out by ring_init()
 * @base:	the available index the device starts from
 */
static void ring_setup(Ring *r, uint16_t base)
{
    size_t off = RING_OFF(r->index);
    struct vhost_vring_state num = {.index = r->index, .num = QSIZE};
    /* Packed: both positions at slot @base of the lap with wrap 1. */
    struct vhost_vring_state vbase = {
        .index = r->index,
        .num = packed ? (0x8000u | base) | (0x8000u | base) << 16 : base};
    struct vhost_vring_addr addr = {
        .index = r->index,
        .desc_user_addr = iova(off),
        .avail_user_addr = iova(off + 16 * QSIZE),
        .used_user_addr = iova(off + 0x2000),
    };
    struct vhost_vring_file kick = {.index = r->index, .fd = r->kick};
    struct vhost_vring_file call = {.index = r->index};

    call.fd = eventfd(0, EFD_CLOEXEC);
    xioctl(VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM");
    xioctl(VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
    xioctl(VHOST_SET_VRING_BASE, &vbase, "SET_VRING_BASE");
    xioctl(VHOST_SET_VRING_KICK, &kick, "SET_VRING_KICK");
    xioctl(VHOST_SET_VRING_CALL, &call, "SET_VRING_CALL");
}

/* ring_init() - lay out vq @index in @m and tell vhost-vdpa. */
static void ring_init(Ring *r, Mem *m, unsigned int index)
{
    size_t off = RING_OFF(index);

    r->mem = m;
    r->index = index;
    r->desc = (struct vring_desc *)(m->host + off);
    r->avail = (struct vring_avail *)(m->host + off + 16 * QSIZE);
    r->used = (struct vring_used *)(m->host + off + 0x2000);
    r->next = 0;
    r->ring = (struct vring_packed_desc *)(m->host + off);
    r->avail_pos = r->used_pos = 0;
    r->avail_wrap = r->used_wrap = 1;
    r->added = r->done = 0;
    r->kick = eventfd(0, EFD_CLOEXEC);
    ring_setup(r, 0);
}

/* enable() - VHOST_VDPA_SET_VRING_ENABLE. */
static void enable(unsigned int index)
{
    struct vhost_vring_state s = {.index = index, .num = 1};

    xioctl(VHOST_VDPA_SET_VRING_ENABLE, &s, "SET_VRING_ENABLE");
}

/* avail_bits() - AVAIL set to @wrap, USED to its opposite. */
static uint16_t avail_bits(int wrap)
{
    return wrap ? 1u << VRING_PACKED_DESC_F_AVAIL
                : 1u << VRING_PACKED_DESC_F_USED;
}

/**
 * ring_add_packed() - make a chain available in a packed ring, head last
 * @r:		the ring
 * @offs:	byte offsets of the buffers in the ring's memory
 * @lens:	their lengths
 * @writable:	which are device-writable
 * @n:		how many
 *
 * The buffer id is the chain's count modulo the queue size: a chain is
 * used before its id comes round again (at most QSIZE in flight).
 */
static void ring_add_packed(Ring *r, const size_t *offs, const uint32_t *lens,
                            const int *writable, unsigned int n)
{
    uint16_t id = r->added % QSIZE, head = r->avail_pos, slot = head;
    uint16_t head_flags = 0;
    int wrap = r->avail_wrap;

    for (unsigned int i = 0; i < n; i++) {
        uint16_t flags =
            (uint16_t)((writable[i] ? VRING_DESC_F_WRITE : 0) |
                       (i + 1 < n ? VRING_DESC_F_NEXT : 0) | avail_bits(wrap));

        r->ring[slot].addr = htole64(iova(offs[i]));
        r->ring[slot].len = htole32(lens[i]);
        r->ring[slot].id = htole16(id);
        if (i == 0) {
            head_flags = flags;
        } else {
            __atomic_store_n(&r->ring[slot].flags, htole16(flags),
                             __ATOMIC_RELAXED);
        }
        if (++slot == QSIZE) {
            slot = 0;
            wrap = !wrap;
        }
    }
    __atomic_store_n(&r->ring[head].flags, htole16(head_flags),
                     __ATOMIC_RELEASE);
    r->avail_pos = slot;
    r->avail_wrap = wrap;
    r->slots[id] = (uint16_t)n;
    r->addr[id] = iova(offs[0]);
    r->added++;
}

/**
 * ring_get_used() - read the next used descriptor of a packed ring
 * @r:		the ring
 * @id:		set to its buffer id
 * @len:	set to its length
 *
 * Return: 1 with @id and @len set and the used position moved past the
 * chain's slots, 0 if none is there.
 */
static int ring_get_used(Ring *r, uint16_t *id, uint32_t *len)
{
    uint16_t flags =
        le16toh(__atomic_load_n(&r->ring[r->used_pos].flags, __ATOMIC_ACQUIRE));
    int avail = !!(flags & (1u << VRING_PACKED_DESC_F_AVAIL));
    int used = !!(flags & (1u << VRING_PACKED_DESC_F_USED));

    if (avail != used || used != r->used_wrap) {
        return 0;
    }
    *id = le16toh(r->ring[r->used_pos].id);
    *len = le32toh(r->ring[r->used_pos].len);
    if (*id >= QSIZE || !r->slots[*id]) {
        fprintf(stderr,
                "vhost-driver: FAIL: vq %u: used id %u not in "
                "flight\n",
                r->index, *id);
        exit(1);
    }
    r->used_pos = (uint16_t)(r->used_pos + r->slots[*id]);
    if (r->used_pos >= QSIZE) {
        r->used_pos -= QSIZE;
        r->used_wrap = !r->used_wrap;
    }
    r->slots[*id] = 0;
    r->done++;
    return 1;
}

/* added() - chains made available on @r so far. */
static uint16_t added(const Ring *r)
{
    return packed ? r->added : r->avail->idx;
}

/* used_count() - chains the device handed back on @r so far. */
static uint16_t used_count(Ring *r)
{
    uint16_t id;
    uint32_t len;

    if (!packed) {
        return __atomic_load_n(&r->used->idx, __ATOMIC_ACQUIRE);
    }
    while (ring_get_used(r, &id, &len)) {
    }
    return r->done;
}

/**
 * ring_add() - make a chain of @n buffers at byte offsets @offs available
 * @r:		the ring
 * @offs:	byte offsets of the buffers in the ring's memory
 * @lens:	their lengths
 * @writable:	which are device-writable
 * @n:		how many
 * @publish:	also write the available index
 */
static void ring_add(Ring *r, const size_t *offs, const uint32_t *lens,
                     const int *writable, unsigned int n, int publish)
{
    uint16_t head = r->next % QSIZE;

    if (packed) {
        ring_add_packed(r, offs, lens, writable, n);
        return;
    }

    for (unsigned int i = 0; i < n; i++) {
        uint16_t d = (head + i) % QSIZE;

        r->desc[d].addr = iova(offs[i]);
        r->desc[d].len = lens[i];
        r->desc[d].flags = (writable[i] ? VRING_DESC_F_WRITE : 0) |
                           (i + 1 < n ? VRING_DESC_F_NEXT : 0);
        r->desc[d].next = (d + 1) % QSIZE;
    }
    r->avail->ring[r->avail->idx % QSIZE] = head;
    r->next += n;
    if (publish) {
        __atomic_store_n(&r->avail->idx, r->avail->idx + 1, __ATOMIC_RELEASE);
    }
}

/* kick() - notify the device about @r. */
static void kick(Ring *r)
{
    uint64_t one = 1;

    if (write(r->kick, &one, sizeof(one)) != sizeof(one)) {
        die("kick");
    }
}

/* wait_used() - wait up to 10 s until @r's used index reaches @idx. */
static int wait_used(Ring *r, uint16_t idx)
{
    for (int i = 0; i < 10000; i++) {
        if (used_count(r) == idx) {
            return 0;
        }
        usleep(1000);
    }
    return -1;
}

/**
 * cvq_command() - send one control command from ASID 1 and check the answer
 * @r:		the control ring (in ASID 1 memory)
 * @name:	for the report line
 * @cmd:	class, command, payload
 * @len:	its length
 */
static void cvq_command(Ring *r, const char *name, const uint8_t *cmd,
                        size_t len)
{
    size_t offs[2] = {BUF_OFF, BUF_OFF + 0x1000};
    uint32_t lens[2] = {(uint32_t)len, 1};
    int wr[2] = {0, 1};
    uint8_t *status = r->mem->host + offs[1];

    memcpy(r->mem->host + offs[0], cmd, len);
    *status = 0xee;
    ring_add(r, offs, lens, wr, 2, 1);
    kick(r);
    if (wait_used(r, added(r)) < 0) {
        fprintf(stderr, "vhost-driver: FAIL: %s: no answer\n", name);
        exit(1);
    }
    if (*status != VIRTIO_NET_OK) {
        fprintf(stderr, "vhost-driver: FAIL: %s answered %u\n", name, *status);
        exit(1);
    }
    printf("vhost-driver: %s: OK\n", name);
}

/* parse_mac() - "xx:xx:xx:xx:xx:xx" into @mac, or exit. */
static void parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];

    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5]) != 6) {
        fprintf(stderr, "vhost-driver: bad MAC %s\n", s);
        exit(2);
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)b[i];
    }
}

/**
 * send_seq_frames() - send @n frames numbered from @first on @tx, each
 * used before the next goes
 * @tx:		the TX ring (ASID 0 memory)
 * @mac:	source MAC
 * @first:	sequence number of the first frame
 * @n:		how many
 */
static void send_seq_frames(Ring *tx, const uint8_t mac[6], uint32_t first,
                            uint32_t n)
{
    size_t offs[2] = {BUF_OFF, BUF_OFF + 0x100};
    uint32_t lens[2] = {12, 60};
    int wr[2] = {0, 0};
    uint8_t *frame = tx->mem->host + offs[1];

    for (uint32_t seq = first; seq < first + n; seq++) {
        uint32_t be = htobe32(seq);

        memset(tx->mem->host + offs[0], 0, 12);
        memset(frame, 0, 60);
        memset(frame, 0xff, 6);
        memcpy(frame + 6, mac, 6);
        frame[12] = 0x88;
        frame[13] = 0xb6;
        memcpy(frame + 14, &be, 4);
        ring_add(tx, offs, lens, wr, 2, 1);
        kick(tx);
        if (wait_used(tx, added(tx)) < 0) {
            fprintf(stderr, "vhost-driver: FAIL: frame %u not used\n", seq);
            exit(1);
        }
    }
    printf("vhost-driver: frames %u..%u sent, TX used index %u\n", first,
           first + n - 1, used_count(tx));
    fflush(stdout);
}

/* now_ms() - CLOCK_MONOTONIC in milliseconds. */
static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* wait_file() - wait up to 60 s for @dir/@name to exist. */
static void wait_file(const char *dir, const char *name)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    for (int i = 0; i < 1200; i++) {
        if (access(path, F_OK) == 0) {
            return;
        }
        usleep(50000);
    }
    fprintf(stderr, "vhost-driver: FAIL: %s did not appear\n", path);
    exit(1);
}

/**
 * suspend_and_read_bases() - suspend the source, read each vq's base
 * @rings:	the rings
 * @n:		how many
 * @bases:	receives each base
 * @can_suspend: the backend offers VHOST_BACKEND_F_SUSPEND
 * @dir:	the control directory
 *
 * Every base must be what was made available, and what was used: a
 * suspended device has nothing in flight.
 */
static void suspend_and_read_bases(Ring **rings, unsigned int n,
                                   uint16_t *bases, int can_suspend,
                                   const char *dir)
{
    if (can_suspend) {
        xioctl(VHOST_VDPA_SUSPEND, NULL, "VHOST_VDPA_SUSPEND");
        printf("vhost-driver: suspend: VHOST_VDPA_SUSPEND\n");
    } else {
        printf("vhost-driver: suspend: no VHOST_BACKEND_F_SUSPEND, "
               "waiting for the management socket\n");
        fflush(stdout);
        wait_file(dir, "suspended");
    }
    for (unsigned int i = 0; i < n; i++) {
        struct vhost_vring_state st = {.index = rings[i]->index};
        uint16_t used = rings[i]->used->idx;

        xioctl(VHOST_GET_VRING_BASE, &st, "GET_VRING_BASE");
        bases[i] = (uint16_t)st.num;
        printf("vhost-driver: vq %u: base %u, used %u, available %u\n",
               rings[i]->index, bases[i], used, rings[i]->avail->idx);
        /* RX buffers wait for frames: their base is where the device
         * stands, which is the used index. */
        if (bases[i] != used ||
            (rings[i]->index % 2 && bases[i] != rings[i]->avail->idx)) {
            fprintf(stderr,
                    "vhost-driver: FAIL: vq %u base %u is not "
                    "exact\n",
                    rings[i]->index, bases[i]);
            exit(1);
        }
    }
    fflush(stdout);
}

/**
 * restart_on() - start the guest's device again on @path from @bases
 * @path:	the destination's /dev/vhost-vdpa-M
 * @want:	the features negotiated at the source
 * @backend:	the backend features negotiated at the source
 * @data:	ASID 0 memory
 * @ctrl:	ASID 1 memory
 * @rings:	the rings, control vq last
 * @n:		how many
 * @bases:	where each starts
 *
 * Return: the config-interrupt eventfd.
 */
static int restart_on(const char *path, uint64_t want, uint64_t backend,
                      const Mem *data, const Mem *ctrl, Ring **rings,
                      unsigned int n, const uint16_t *bases)
{
    struct vhost_vring_state asid = {.index = 1, .num = 1};
    uint64_t features;
    int config_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    dev_fd = open(path, O_RDWR | O_CLOEXEC);
    if (dev_fd < 0) {
        die(path);
    }
    xioctl(VHOST_SET_OWNER, NULL, "SET_OWNER");
    xioctl(VHOST_GET_FEATURES, &features, "GET_FEATURES");
    if ((features & want) != want) {
        fprintf(stderr,
                "vhost-driver: FAIL: the destination lacks features "
                "0x%llx\n",
                (unsigned long long)(want & ~features));
        exit(1);
    }
    xioctl(VHOST_SET_BACKEND_FEATURES, &backend, "SET_BACKEND_FEATURES");
    set_status(0);
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    xioctl(VHOST_SET_FEATURES, &want, "SET_FEATURES");
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
               VIRTIO_CONFIG_S_FEATURES_OK);
    xioctl(VHOST_VDPA_SET_GROUP_ASID, &asid, "SET_GROUP_ASID");
    mem_map(data);
    mem_map(ctrl);
    for (unsigned int i = 0; i < n; i++) {
        ring_setup(rings[i], bases[i]);
    }
    xioctl(VHOST_VDPA_SET_CONFIG_CALL, &config_fd, "SET_CONFIG_CALL");
    enable(rings[n - 1]->index);
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
               VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    for (unsigned int i = 0; i + 1 < n; i++) {
        enable(rings[i]->index);
    }
    printf("vhost-driver: destination started from the bases, no control "
           "command replayed\n");
    fflush(stdout);
    return config_fd;
}

/**
 * check_announce() - the destination asks the guest to announce itself
 * @config_fd:	the config-interrupt eventfd
 * @cvq:	the control ring
 */
static void check_announce(int config_fd, Ring *cvq)
{
    struct pollfd pfd = {.fd = config_fd, .events = POLLIN};
    /* struct vhost_vdpa_config ends in a flexible array: room for two
     * bytes of config space after it. */
    union {
        struct vhost_vdpa_config hdr;
        uint8_t bytes[sizeof(struct vhost_vdpa_config) + 2];
    } cfg = {
        .hdr = {.off = offsetof(struct virtio_net_config, status), .len = 2}};
    uint16_t status;
    static const uint8_t ack[2] = {VIRTIO_NET_CTRL_ANNOUNCE,
                                   VIRTIO_NET_CTRL_ANNOUNCE_ACK};

    if (poll(&pfd, 1, 10000) != 1) {
        fprintf(stderr, "vhost-driver: FAIL: no config interrupt\n");
        exit(1);
    }
    xioctl(VHOST_VDPA_GET_CONFIG, &cfg, "GET_CONFIG");
    memcpy(&status, cfg.hdr.buf, 2);
    if (!(le16toh(status) & VIRTIO_NET_S_ANNOUNCE)) {
        fprintf(stderr,
                "vhost-driver: FAIL: config status 0x%x without "
                "ANNOUNCE\n",
                le16toh(status));
        exit(1);
    }
    cvq_command(cvq, "ANNOUNCE_ACK", ack, sizeof(ack));
    printf("vhost-driver: announce seen and acked\n");
}

/**
 * migrate() - move the guest's device to another vduse-net (see the head
 * comment)
 * @dir:	the control directory
 * @want:	negotiated features
 * @backend:	negotiated backend features
 * @data:	ASID 0 memory
 * @ctrl:	ASID 1 memory
 * @rings:	every ring, TX of pair 0 second, control vq last
 * @n:		how many
 * @mac:	the guest's MAC
 */
static void migrate(const char *dir, uint64_t want, uint64_t backend,
                    const Mem *data, const Mem *ctrl, Ring **rings,
                    unsigned int n, const uint8_t mac[6])
{
    uint16_t bases[8];
    char path[256] = "";
    char name[4096];
    double t_suspend, t_bases, t_dest, t_started, t_first;
    FILE *f;
    int config_fd;

    send_seq_frames(rings[1], mac, 0, MIGRATE_FRAMES);
    t_suspend = now_ms();
    suspend_and_read_bases(
        rings, n, bases, !!(backend & (1ull << VHOST_BACKEND_F_SUSPEND)), dir);
    t_bases = now_ms();
    printf("vhost-driver: suspended, bases read\n");
    fflush(stdout);
    wait_file(dir, "go");
    close(dev_fd);
    printf("vhost-driver: closed the source\n");
    fflush(stdout);

    wait_file(dir, "dest");
    snprintf(name, sizeof(name), "%s/dest", dir);
    f = fopen(name, "r");
    if (!f || !fgets(path, sizeof(path), f)) {
        die(name);
    }
    fclose(f);
    path[strcspn(path, "\n")] = 0;
    t_dest = now_ms();
    config_fd = restart_on(path, want, backend, data, ctrl, rings, n, bases);
    t_started = now_ms();
    send_seq_frames(rings[1], mac, MIGRATE_FRAMES, 1);
    t_first = now_ms();
    /* The scenario's part: export-state, the source stopped, the
     * destination started with --restore (vduse-net's start-up). */
    printf("vhost-driver: downtime %.0f ms from the suspend to the first "
           "frame used at the destination: suspend and bases %.0f ms, "
           "export, stop and start %.0f ms, restart from the bases %.0f ms, "
           "first frame %.0f ms\n",
           t_first - t_suspend, t_bases - t_suspend, t_dest - t_bases,
           t_started - t_dest, t_first - t_started);
    fflush(stdout);
    check_announce(config_fd, rings[n - 1]);
    send_seq_frames(rings[1], mac, MIGRATE_FRAMES + 1, MIGRATE_FRAMES - 1);
    printf("vhost-driver: holding the device until killed\n");
    fflush(stdout);
    for (;;) {
        pause();
    }
}

/**
 * print_received() - one line for a received frame: its length, VLAN id
 * (-1 untagged) and, with --hash, the hash and report type of its header
 * @h:		the buffer, header first
 * @len:	its used length
 */
static void print_received(const uint8_t *h, uint32_t len)
{
    const uint8_t *f = h + hdr_len;
    int vid =
        (f[12] == 0x81 && f[13] == 0) ? ((f[14] << 8) | f[15]) & 0xfff : -1;

    if (hdr_len == 20) {
        struct virtio_net_hdr_v1_hash hh;

        memcpy(&hh, h, sizeof(hh));
        printf("vhost-driver: received %u bytes, vlan %d, hash 0x%08x "
               "report %u\n",
               len - hdr_len, vid, le32toh(hh.hash_value),
               le16toh(hh.hash_report));
    } else {
        printf("vhost-driver: received %u bytes, vlan %d\n", len - hdr_len,
               vid);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    uint64_t features, backend, want;
    uint32_t ngroups, nas, nvqs, cvq_index;
    struct vhost_vring_state group;
    struct vhost_vring_state asid = {.index = 1, .num = 1};
    uint8_t mac[6], cmd[64];
    unsigned int vlan;
    const char *migrate_dir = NULL;
    unsigned int remap = 0;
    Mem data, ctrl;
    Ring rx, tx, rx1, tx1, cvq, decoy;

    if (argc > 1 && !strcmp(argv[1], "--packed")) {
        packed = 1;
        argc--;
        argv++;
    } else if (argc > 1 && !strcmp(argv[1], "--hash")) {
        hdr_len = 20;
        argc--;
        argv++;
    }
    if (argc > 2 && !strcmp(argv[1], "--migrate")) {
        migrate_dir = argv[2];
        argc -= 2;
        argv += 2;
    } else if (argc > 2 && !strcmp(argv[1], "--remap")) {
        remap = (unsigned int)atoi(argv[2]);
        argc -= 2;
        argv += 2;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: vhost-driver [--packed | --hash] [--migrate "
                        "CTLDIR | --remap N] /dev/vhost-vdpa-N MAC [VLAN]\n");
        return 2;
    }
    if (hdr_len == 20 && (migrate_dir || remap)) {
        fprintf(stderr, "vhost-driver: --hash goes with neither --migrate "
                        "nor --remap\n");
        return 2;
    }
    if (packed && migrate_dir) {
        fprintf(stderr, "vhost-driver: --packed does not go with --migrate\n");
        return 2;
    }
    vlan = argc > 3 ? (unsigned int)atoi(argv[3]) : 5;
    parse_mac(argv[2], mac);
    dev_fd = open(argv[1], O_RDWR | O_CLOEXEC);
    if (dev_fd < 0) {
        die(argv[1]);
    }
    xioctl(VHOST_SET_OWNER, NULL, "SET_OWNER");
    xioctl(VHOST_GET_FEATURES, &features, "GET_FEATURES");
    xioctl(VHOST_GET_BACKEND_FEATURES, &backend, "GET_BACKEND_FEATURES");
    want = (1ull << VHOST_BACKEND_F_IOTLB_MSG_V2) |
           (1ull << VHOST_BACKEND_F_IOTLB_ASID);
    if ((backend & want) != want) {
        fprintf(stderr,
                "vhost-driver: FAIL: backend features 0x%llx lack "
                "IOTLB_MSG_V2|IOTLB_ASID\n",
                (unsigned long long)backend);
        return 1;
    }
    want |= backend & ((1ull << VHOST_BACKEND_F_SUSPEND) |
                       (1ull << VHOST_BACKEND_F_IOTLB_BATCH));
    if (remap && !(backend & (1ull << VHOST_BACKEND_F_IOTLB_BATCH))) {
        fprintf(stderr, "vhost-driver: FAIL: --remap needs IOTLB_BATCH\n");
        return 1;
    }
    xioctl(VHOST_SET_BACKEND_FEATURES, &want, "SET_BACKEND_FEATURES");
    backend = want;

    /* 1. QEMU's probe: look at groups and address spaces, then reset. */
    set_status(0);
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    want =
        features &
        ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_ACCESS_PLATFORM) |
         (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
         (1ull << VIRTIO_NET_F_CTRL_RX) | (1ull << VIRTIO_NET_F_CTRL_RX_EXTRA) |
         (1ull << VIRTIO_NET_F_CTRL_VLAN) |
         (1ull << VIRTIO_NET_F_CTRL_MAC_ADDR) |
         (1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) |
         (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_MQ) |
         (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_GUEST_ANNOUNCE) |
         (packed ? 1ull << VIRTIO_F_RING_PACKED : 0) |
         (hdr_len == 20 ? 1ull << VIRTIO_NET_F_HASH_REPORT : 0));
    if (packed && !(want & (1ull << VIRTIO_F_RING_PACKED))) {
        fprintf(stderr, "vhost-driver: FAIL: packed rings not offered\n");
        return 1;
    }
    if (hdr_len == 20 && !(want & (1ull << VIRTIO_NET_F_HASH_REPORT))) {
        fprintf(stderr, "vhost-driver: FAIL: HASH_REPORT not offered\n");
        return 1;
    }
    if (!(want & (1ull << VIRTIO_NET_F_CTRL_VQ))) {
        fprintf(stderr, "vhost-driver: FAIL: no control vq offered\n");
        return 1;
    }
    xioctl(VHOST_SET_FEATURES, &want, "SET_FEATURES");
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
               VIRTIO_CONFIG_S_FEATURES_OK);
    xioctl(VHOST_VDPA_GET_GROUP_NUM, &ngroups, "GET_GROUP_NUM");
    xioctl(VHOST_VDPA_GET_AS_NUM, &nas, "GET_AS_NUM");
    if (ngroups != 2 || nas != 2) {
        fprintf(stderr, "vhost-driver: FAIL: %u groups, %u address spaces\n",
                ngroups, nas);
        return 1;
    }
    xioctl(VHOST_VDPA_GET_VQS_COUNT, &nvqs, "GET_VQS_COUNT");
    cvq_index = nvqs - 1; /* the control vq comes last */
    for (unsigned int i = 0; i < nvqs; i++) {
        group.index = i;
        xioctl(VHOST_VDPA_GET_VRING_GROUP, &group, "GET_VRING_GROUP");
        if (group.num != (i == cvq_index ? 1u : 0u)) {
            fprintf(stderr, "vhost-driver: FAIL: vq %u in group %u\n", i,
                    group.num);
            return 1;
        }
    }
    set_status(0);
    printf("vhost-driver: probe: 2 groups, 2 address spaces, control vq in "
           "group 1, reset: OK\n");

    /* 2. The real start, the control vq's group in ASID 1. */
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    xioctl(VHOST_SET_FEATURES, &want, "SET_FEATURES");
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
               VIRTIO_CONFIG_S_FEATURES_OK);
    xioctl(VHOST_VDPA_SET_GROUP_ASID, &asid, "SET_GROUP_ASID");
    data = mem_new(0);
    ctrl = mem_new(1);
    mem_map(&data);
    mem_map(&ctrl);
    ring_init(&rx, &data, 0);
    ring_init(&tx, &data, 1);
    if (migrate_dir) {
        ring_init(&rx1, &data, 2);
        ring_init(&tx1, &data, 3);
    }
    ring_init(&cvq, &ctrl, cvq_index);
    /* The decoy: at the control vq's IOVAs in ASID 0, a MAC_ADDR_SET of
     * 02:de:c0:00:00:01, made available. A device reading the control vq
     * through ASID 0 would take it. */
    decoy = cvq;
    decoy.mem = &data;
    decoy.desc = (struct vring_desc *)(data.host + RING_OFF(cvq_index));
    decoy.avail =
        (struct vring_avail *)(data.host + RING_OFF(cvq_index) + 16 * QSIZE);
    decoy.used =
        (struct vring_used *)(data.host + RING_OFF(cvq_index) + 0x2000);
    decoy.ring = (struct vring_packed_desc *)(data.host + RING_OFF(cvq_index));
    {
        size_t offs[2] = {BUF_OFF, BUF_OFF + 0x1000};
        uint32_t lens[2] = {8, 1};
        int wr[2] = {0, 1};
        static const uint8_t bad[8] = {1, 1, 0x02, 0xde, 0xc0, 0, 0, 1};

        memcpy(data.host + BUF_OFF, bad, sizeof(bad));
        ring_add(&decoy, offs, lens, wr, 2, 1);
    }
    enable(cvq_index);
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
               VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    printf("vhost-driver: DRIVER_OK with only the control vq enabled\n");

    /* 3. QEMU's restore sequence, from ASID 1. */
    cmd[0] = VIRTIO_NET_CTRL_MAC;
    cmd[1] = VIRTIO_NET_CTRL_MAC_ADDR_SET;
    memcpy(cmd + 2, mac, 6);
    cvq_command(&cvq, "MAC_ADDR_SET", cmd, 8);
    {
        static const uint8_t table[] = {VIRTIO_NET_CTRL_MAC,
                                        VIRTIO_NET_CTRL_MAC_TABLE_SET,
                                        1,
                                        0,
                                        0,
                                        0,
                                        0x02,
                                        0,
                                        0,
                                        0,
                                        0,
                                        0x33,
                                        1,
                                        0,
                                        0,
                                        0,
                                        0x01,
                                        0,
                                        0x5e,
                                        0,
                                        0,
                                        0x42};

        cvq_command(&cvq, "MAC_TABLE_SET", table, sizeof(table));
    }
    if (want & (1ull << VIRTIO_NET_F_MQ)) {
        uint8_t pairs[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
                           migrate_dir ? 2 : 1, 0};

        cvq_command(&cvq, "VQ_PAIRS_SET", pairs, sizeof(pairs));
    }
    {
        uint8_t offl[10] = {VIRTIO_NET_CTRL_GUEST_OFFLOADS,
                            VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET};

        offl[2] = (want & (1ull << VIRTIO_NET_F_GUEST_CSUM)) ? 0x02 : 0;
        cvq_command(&cvq, "GUEST_OFFLOADS_SET", offl, sizeof(offl));
    }
    for (uint8_t mode = VIRTIO_NET_CTRL_RX_PROMISC;
         mode <= VIRTIO_NET_CTRL_RX_NOBCAST; mode++) {
        static const char *names[] = {"RX_PROMISC", "RX_ALLMULTI",
                                      "RX_ALLUNI",  "RX_NOMULTI",
                                      "RX_NOUNI",   "RX_NOBCAST"};
        /* Promiscuous and all-multicast on, the rest off, as a guest
         * bridging traffic would have it. */
        uint8_t rxcmd[3] = {VIRTIO_NET_CTRL_RX, mode, mode <= 1};

        cvq_command(&cvq, names[mode], rxcmd, sizeof(rxcmd));
    }
    {
        uint8_t v[4] = {VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD,
                        (uint8_t)vlan, (uint8_t)(vlan >> 8)};

        cvq_command(&cvq, "VLAN_ADD", v, sizeof(v));
    }
    if (hdr_len == 20) {
        /* Every type, Microsoft's suite's key (the RSS test vectors). */
        uint8_t h[2 + 13 + 40] = {VIRTIO_NET_CTRL_MQ,
                                  VIRTIO_NET_CTRL_MQ_HASH_CONFIG, 0x3f};

        h[14] = 40;
        memcpy(h + 15, ms_key, 40);
        cvq_command(&cvq, "HASH_CONFIG", h, sizeof(h));
    }
    if ((packed ? used_count(&decoy) : decoy.used->idx) != 0 ||
        used_count(&cvq) != added(&cvq)) {
        fprintf(stderr, "vhost-driver: FAIL: used ring in ASID 0 touched\n");
        return 1;
    }
    printf("vhost-driver: control vq served from ASID 1, ASID 0 untouched\n");

    /* 4. The data vqs, enabled after DRIVER_OK; one frame from ASID 0. */
    enable(0);
    enable(1);
    {
        size_t offs[2] = {BUF_OFF, BUF_OFF + 0x100};
        uint32_t lens[2] = {hdr_len, 60};
        int wr[2] = {0, 0};
        uint8_t *frame = data.host + offs[1];

        memset(data.host + offs[0], 0, hdr_len);
        memset(frame, 0, 60);
        memset(frame, 0xff, 6);
        memcpy(frame + 6, mac, 6);
        frame[12] = 0x88;
        frame[13] = 0xb5;
        memcpy(frame + 14, "vhost-driver", 12);
        ring_add(&tx, offs, lens, wr, 2, 1);
        kick(&tx);
        if (wait_used(&tx, 1) < 0) {
            fprintf(stderr, "vhost-driver: FAIL: TX frame not used\n");
            return 1;
        }
    }
    printf("vhost-driver: frame sent from ASID 0: OK\n");
    if (packed) {
        /* GET_VQ_STATE of a running packed queue, through the kernel:
         * both positions with their wrap counters, nothing in flight. */
        struct vhost_vring_state st = {.index = tx.index};
        uint32_t base =
            ((tx.avail_wrap ? 0x8000u : 0) | tx.avail_pos) |
            ((uint32_t)((tx.used_wrap ? 0x8000u : 0) | tx.used_pos) << 16);

        xioctl(VHOST_GET_VRING_BASE, &st, "GET_VRING_BASE");
        if (st.num != base) {
            fprintf(stderr,
                    "vhost-driver: FAIL: TX vq base 0x%08x, want 0x%08x\n",
                    st.num, base);
            return 1;
        }
        printf("vhost-driver: TX vq base 0x%08x (available and used "
               "positions with their wrap counters): OK\n",
               st.num);
    }
    if (remap) {
        for (unsigned int round = 0; round < remap; round++) {
            uint8_t allmulti[3] = {VIRTIO_NET_CTRL_RX,
                                   VIRTIO_NET_CTRL_RX_ALLMULTI,
                                   (uint8_t)(round & 1)};

            mem_remap(&data);
            send_seq_frames(&tx, mac, round * 10, 10);
            mem_remap(&ctrl);
            cvq_command(&cvq, "ALLMULTI after a remap", allmulti,
                        sizeof(allmulti));
        }
        printf("vhost-driver: remapped both ASIDs %u times under traffic: "
               "%u frames and %u commands OK\n",
               remap, remap * 10, remap);
        return 0;
    }
    if (migrate_dir) {
        Ring *rings[] = {&rx, &tx, &rx1, &tx1, &cvq};

        if (!(want & (1ull << VIRTIO_NET_F_MQ))) {
            fprintf(stderr, "vhost-driver: FAIL: --migrate needs MQ\n");
            return 1;
        }
        enable(2);
        enable(3);
        migrate(migrate_dir, want, backend, &data, &ctrl, rings,
                sizeof(rings) / sizeof(rings[0]), mac);
        return 0;
    }

    /* 5. Promiscuous off, RX buffers posted: report every frame received
     * (the scenario sends tagged ones to test the VLAN filter). Closing
     * the vhost-vdpa fd would reset the device: hold it until killed. */
    {
        uint8_t off[3] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0};
        uint16_t seen = 0;

        cvq_command(&cvq, "RX_PROMISC off", off, sizeof(off));
        for (unsigned int i = 0; i < 32; i++) {
            size_t boff[1] = {BUF_OFF + 0x1000 + i * 2048};
            uint32_t blen[1] = {2048};
            int bwr[1] = {1};

            ring_add(&rx, boff, blen, bwr, 1, 1);
        }
        kick(&rx);
        printf("vhost-driver: holding the device until killed\n");
        fflush(stdout);
        for (;;) {
            uint16_t id;
            uint32_t len;

            while (packed && ring_get_used(&rx, &id, &len)) {
                const uint8_t *h = data.host + rx.addr[id] - IOVA_BASE;

                print_received(h, len);
            }
            uint16_t used =
                packed ? seen
                       : __atomic_load_n(&rx.used->idx, __ATOMIC_ACQUIRE);

            while (seen != used) {
                struct vring_used_elem *e = &rx.used->ring[seen % QSIZE];

                print_received(data.host + rx.desc[e->id].addr - IOVA_BASE,
                               e->len);
                seen++;
            }
            usleep(10000);
        }
    }
}
