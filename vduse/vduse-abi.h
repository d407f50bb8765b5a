/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vduse-abi.h - the VDUSE user ABI as of Linux 7.3, for every build host
 *
 * DOC: Why this header exists
 *
 * Debian bookworm ships the 6.1 <linux/vduse.h>: API version 0, no virtqueue
 * groups, no address spaces, no VDUSE_IOTLB_GET_FD2, no SET_VQ_READY or
 * SUSPEND messages. The running kernel is what matters, not the build
 * host's headers, so we carry the 7.3 ABI here, as QEMU carries its copy of
 * the Linux headers. When the system header already has the whole 7.3 ABI
 * (HAVE_LINUX_VDUSE_7_3, found by meson) we use it and only check it.
 *
 * Layout changes between 6.1 and 7.3 reuse reserved space, so structure
 * sizes, and with them the ioctl numbers, did not change. The static
 * assertions at the end pin every size and offset that the kernel reads or
 * writes: a slip in either copy of the ABI stops the build.
 */
#ifndef VDUSE_NET_VDUSE_ABI_H
#define VDUSE_NET_VDUSE_ABI_H

#include "config.h"

#include <stddef.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#if HAVE_LINUX_VDUSE_7_3
#include <linux/vduse.h>
#else

#define VDUSE_BASE 0x81

/* API version 0: one address space, no groups; 1: groups and ASIDs. */
#define VDUSE_API_VERSION 0
#define VDUSE_API_VERSION_1 1

/* Bits of VDUSE_GET_FEATURES / VDUSE_SET_FEATURES (7.3+). */
#define VDUSE_F_QUEUE_READY 0 /* the device gets VDUSE_SET_VQ_READY */
#define VDUSE_F_SUSPEND 1     /* the device gets VDUSE_SUSPEND */

#define VDUSE_NAME_MAX 256

/* Argument of VDUSE_CREATE_DEV; @config follows for @config_size bytes. */
struct vduse_dev_config {
    char name[VDUSE_NAME_MAX];
    __u32 vendor_id;
    __u32 device_id;
    __u64 features;
    __u32 vq_num;
    __u32 vq_align;
    __u32 ngroups; /* API version 1 */
    __u32 nas;     /* API version 1 */
    __u32 reserved[11];
    __u32 config_size;
    __u8 config[];
};

/* One IOVA region [start, last] and where to mmap it (VDUSE_IOTLB_GET_FD). */
struct vduse_iotlb_entry {
    __u64 offset;
    __u64 start;
    __u64 last;
#define VDUSE_ACCESS_RO 0x1
#define VDUSE_ACCESS_WO 0x2
#define VDUSE_ACCESS_RW 0x3
    __u8 perm;
};

/* The same, naming its address space (VDUSE_IOTLB_GET_FD2). */
struct vduse_iotlb_entry_v2 {
    __u64 offset;
    __u64 start;
    __u64 last;
    __u8 perm;
    __u8 padding[7];
    __u32 asid;
    __u32 reserved[11];
};

/* Argument of VDUSE_DEV_SET_CONFIG; @buffer follows for @length bytes. */
struct vduse_config_data {
    __u32 offset;
    __u32 length;
    __u8 buffer[];
};

/* Argument of VDUSE_VQ_SETUP: maximum size and group of one virtqueue. */
struct vduse_vq_config {
    __u32 index;
    __u16 max_size;
    __u16 reserved1;
    __u32 group; /* API version 1 */
    __u16 reserved2[10];
};

struct vduse_vq_state_split {
    __u16 avail_index;
};

struct vduse_vq_state_packed {
    __u16 last_avail_counter;
    __u16 last_avail_idx;
    __u16 last_used_counter;
    __u16 last_used_idx;
};

/* Result of VDUSE_VQ_GET_INFO: where the driver put a virtqueue. */
struct vduse_vq_info {
    __u32 index;
    __u32 num;
    __u64 desc_addr;
    __u64 driver_addr;
    __u64 device_addr;
    union {
        struct vduse_vq_state_split split;
        struct vduse_vq_state_packed packed;
    };
    __u8 ready;
};

/* Argument of VDUSE_VQ_SETUP_KICKFD; fd -1 removes the eventfd. */
struct vduse_vq_eventfd {
    __u32 index;
#define VDUSE_EVENTFD_DEASSIGN -1
    int fd;
};

/* Payload of VDUSE_SET_VQ_GROUP_ASID. */
struct vduse_vq_group_asid {
    __u32 group;
    __u32 asid;
};

/* Argument of VDUSE_IOTLB_REG_UMEM / VDUSE_IOTLB_DEREG_UMEM. */
struct vduse_iova_umem {
    __u64 uaddr;
    __u64 iova;
    __u64 size;
    __u32 asid;
    __u32 reserved[5];
};

/* Argument and result of VDUSE_IOTLB_GET_INFO. */
struct vduse_iova_info {
    __u64 start;
    __u64 last;
#define VDUSE_IOVA_CAP_UMEM (1 << 0)
    __u64 capability;
    __u32 asid; /* API version 1 */
    __u32 reserved[5];
};

/* Control ioctls on /dev/vduse/control. */
#define VDUSE_GET_API_VERSION _IOR(VDUSE_BASE, 0x00, __u64)
#define VDUSE_SET_API_VERSION _IOW(VDUSE_BASE, 0x01, __u64)
#define VDUSE_CREATE_DEV _IOW(VDUSE_BASE, 0x02, struct vduse_dev_config)
#define VDUSE_DESTROY_DEV _IOW(VDUSE_BASE, 0x03, char[VDUSE_NAME_MAX])
#define VDUSE_GET_FEATURES _IOR(VDUSE_BASE, 0x04, __u64)
#define VDUSE_SET_FEATURES _IOW(VDUSE_BASE, 0x05, __u64)

/* Device ioctls on /dev/vduse/$NAME. */
#define VDUSE_IOTLB_GET_FD _IOWR(VDUSE_BASE, 0x10, struct vduse_iotlb_entry)
#define VDUSE_DEV_GET_FEATURES _IOR(VDUSE_BASE, 0x11, __u64)
#define VDUSE_DEV_SET_CONFIG _IOW(VDUSE_BASE, 0x12, struct vduse_config_data)
#define VDUSE_DEV_INJECT_CONFIG_IRQ _IO(VDUSE_BASE, 0x13)
#define VDUSE_VQ_SETUP _IOW(VDUSE_BASE, 0x14, struct vduse_vq_config)
#define VDUSE_VQ_GET_INFO _IOWR(VDUSE_BASE, 0x15, struct vduse_vq_info)
#define VDUSE_VQ_SETUP_KICKFD _IOW(VDUSE_BASE, 0x16, struct vduse_vq_eventfd)
#define VDUSE_VQ_INJECT_IRQ _IOW(VDUSE_BASE, 0x17, __u32)
#define VDUSE_IOTLB_REG_UMEM _IOW(VDUSE_BASE, 0x18, struct vduse_iova_umem)
#define VDUSE_IOTLB_DEREG_UMEM _IOW(VDUSE_BASE, 0x19, struct vduse_iova_umem)
#define VDUSE_IOTLB_GET_INFO _IOWR(VDUSE_BASE, 0x1a, struct vduse_iova_info)
#define VDUSE_IOTLB_GET_FD2 _IOWR(VDUSE_BASE, 0x1b, struct vduse_iotlb_entry_v2)

/* Messages read from and answered on /dev/vduse/$NAME. */
enum vduse_req_type {
    VDUSE_GET_VQ_STATE,
    VDUSE_SET_STATUS,
    VDUSE_UPDATE_IOTLB,
    VDUSE_SET_VQ_GROUP_ASID, /* API version 1 */
    VDUSE_SET_VQ_READY,      /* VDUSE_F_QUEUE_READY */
    VDUSE_SUSPEND,           /* VDUSE_F_SUSPEND */
};

struct vduse_vq_state {
    __u32 index;
    union {
        struct vduse_vq_state_split split;
        struct vduse_vq_state_packed packed;
    };
};

struct vduse_dev_status {
    __u8 status;
};

struct vduse_iova_range {
    __u64 start;
    __u64 last;
};

struct vduse_iova_range_v2 {
    __u64 start;
    __u64 last;
    __u32 asid;
    __u32 padding;
};

struct vduse_vq_ready {
    __u32 num;
    __u32 ready;
};

/* One message from the kernel (read(2) on the device fd). */
struct vduse_dev_request {
    __u32 type;
    __u32 request_id;
    __u32 reserved[4];
    union {
        struct vduse_vq_state vq_state;
        struct vduse_dev_status s;
        struct vduse_iova_range iova;
        struct vduse_iova_range_v2 iova_v2;       /* API version 1 */
        struct vduse_vq_group_asid vq_group_asid; /* API version 1 */
        struct vduse_vq_ready vq_ready;           /* VDUSE_F_QUEUE_READY */
        __u32 padding[32];
    };
};

/* Our answer to one message (write(2) on the device fd). */
struct vduse_dev_response {
    __u32 request_id;
#define VDUSE_REQ_RESULT_OK 0x00
#define VDUSE_REQ_RESULT_FAILED 0x01
    __u32 result;
    __u32 reserved[4];
    union {
        struct vduse_vq_state vq_state;
        __u32 padding[32];
    };
};

#endif /* !HAVE_LINUX_VDUSE_7_3 */

/* The 7.3 ABI, pinned: these hold for our copy and for a system header. */
#define VDUSE_ABI_CHECK(type, field, off)                                      \
    _Static_assert(offsetof(type, field) == (off), #type "." #field)
#define VDUSE_ABI_SIZE(type, size)                                             \
    _Static_assert(sizeof(type) == (size), "sizeof " #type)

VDUSE_ABI_SIZE(struct vduse_dev_config, 336);
VDUSE_ABI_CHECK(struct vduse_dev_config, vendor_id, 256);
VDUSE_ABI_CHECK(struct vduse_dev_config, features, 264);
VDUSE_ABI_CHECK(struct vduse_dev_config, vq_num, 272);
VDUSE_ABI_CHECK(struct vduse_dev_config, vq_align, 276);
VDUSE_ABI_CHECK(struct vduse_dev_config, ngroups, 280);
VDUSE_ABI_CHECK(struct vduse_dev_config, nas, 284);
VDUSE_ABI_CHECK(struct vduse_dev_config, config_size, 332);
VDUSE_ABI_CHECK(struct vduse_dev_config, config, 336);

VDUSE_ABI_SIZE(struct vduse_iotlb_entry, 32);
VDUSE_ABI_CHECK(struct vduse_iotlb_entry, start, 8);
VDUSE_ABI_CHECK(struct vduse_iotlb_entry, last, 16);
VDUSE_ABI_CHECK(struct vduse_iotlb_entry, perm, 24);

VDUSE_ABI_SIZE(struct vduse_iotlb_entry_v2, 80);
VDUSE_ABI_CHECK(struct vduse_iotlb_entry_v2, start, 8);
VDUSE_ABI_CHECK(struct vduse_iotlb_entry_v2, last, 16);
VDUSE_ABI_CHECK(struct vduse_iotlb_entry_v2, perm, 24);
VDUSE_ABI_CHECK(struct vduse_iotlb_entry_v2, asid, 32);

VDUSE_ABI_SIZE(struct vduse_config_data, 8);
VDUSE_ABI_CHECK(struct vduse_config_data, length, 4);

VDUSE_ABI_SIZE(struct vduse_vq_config, 32);
VDUSE_ABI_CHECK(struct vduse_vq_config, max_size, 4);
VDUSE_ABI_CHECK(struct vduse_vq_config, group, 8);

VDUSE_ABI_SIZE(struct vduse_vq_info, 48);
VDUSE_ABI_CHECK(struct vduse_vq_info, num, 4);
VDUSE_ABI_CHECK(struct vduse_vq_info, desc_addr, 8);
VDUSE_ABI_CHECK(struct vduse_vq_info, driver_addr, 16);
VDUSE_ABI_CHECK(struct vduse_vq_info, device_addr, 24);
VDUSE_ABI_CHECK(struct vduse_vq_info, split.avail_index, 32);
VDUSE_ABI_CHECK(struct vduse_vq_info, ready, 40);

VDUSE_ABI_SIZE(struct vduse_vq_eventfd, 8);
VDUSE_ABI_SIZE(struct vduse_vq_group_asid, 8);
VDUSE_ABI_SIZE(struct vduse_iova_umem, 48);
VDUSE_ABI_CHECK(struct vduse_iova_umem, asid, 24);
VDUSE_ABI_SIZE(struct vduse_iova_info, 48);
VDUSE_ABI_CHECK(struct vduse_iova_info, asid, 24);

VDUSE_ABI_SIZE(struct vduse_vq_state, 12);
VDUSE_ABI_CHECK(struct vduse_vq_state, split.avail_index, 4);
VDUSE_ABI_SIZE(struct vduse_iova_range_v2, 24);
VDUSE_ABI_CHECK(struct vduse_iova_range_v2, asid, 16);
VDUSE_ABI_SIZE(struct vduse_vq_ready, 8);

VDUSE_ABI_SIZE(struct vduse_dev_request, 152);
VDUSE_ABI_CHECK(struct vduse_dev_request, request_id, 4);
VDUSE_ABI_CHECK(struct vduse_dev_request, vq_state, 24);
VDUSE_ABI_CHECK(struct vduse_dev_request, iova_v2.asid, 40);
VDUSE_ABI_CHECK(struct vduse_dev_request, vq_group_asid.asid, 28);
VDUSE_ABI_CHECK(struct vduse_dev_request, vq_ready.ready, 28);
VDUSE_ABI_SIZE(struct vduse_dev_response, 152);
VDUSE_ABI_CHECK(struct vduse_dev_response, result, 4);
VDUSE_ABI_CHECK(struct vduse_dev_response, vq_state, 24);

_Static_assert(VDUSE_IOTLB_GET_FD2 == 0xc050811bu, "VDUSE_IOTLB_GET_FD2");
_Static_assert(VDUSE_CREATE_DEV == 0x41508102u, "VDUSE_CREATE_DEV");
_Static_assert(VDUSE_VQ_SETUP == 0x40208114u, "VDUSE_VQ_SETUP");
_Static_assert(VDUSE_GET_FEATURES == 0x80088104u, "VDUSE_GET_FEATURES");

#endif /* VDUSE_NET_VDUSE_ABI_H */
