/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util.h - libutil: small helpers every other library shares
 *
 * The one public header of util/: copies between iovec arrays and flat
 * buffers, MAC addresses as text, the nesting depth of a JSON text, libnl
 * errors as GErrors, and the
 * virtio-net feature bits newer than Debian bookworm's headers. Nothing
 * here has state; every function may be called from any thread.
 */
#ifndef VDUSE_NET_UTIL_H
#define VDUSE_NET_UTIL_H

#include <gio/gio.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* virtio-net bits newer than Debian bookworm's headers (Linux 6.2+). */
#ifndef VIRTIO_NET_F_GUEST_USO4
#define VIRTIO_NET_F_GUEST_USO4 54
#define VIRTIO_NET_F_GUEST_USO6 55
#define VIRTIO_NET_F_HOST_USO 56
#endif

/* virtio 1.3 device statistics (Linux 6.10+ headers). */
#ifndef VIRTIO_NET_F_DEVICE_STATS
#define VIRTIO_NET_F_DEVICE_STATS 50
#endif
#ifndef VIRTIO_NET_CTRL_STATS
#define VIRTIO_NET_CTRL_STATS 8
#define VIRTIO_NET_CTRL_STATS_QUERY 0
#define VIRTIO_NET_CTRL_STATS_GET 1
#endif
#ifndef VIRTIO_NET_STATS_TYPE_RX_BASIC
#define VIRTIO_NET_STATS_TYPE_RX_BASIC (1ULL << 0)
#define VIRTIO_NET_STATS_TYPE_TX_BASIC (1ULL << 16)
#define VIRTIO_NET_STATS_TYPE_CVQ (1ULL << 32)
#define VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC 0
#define VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC 16
#define VIRTIO_NET_STATS_TYPE_REPLY_CVQ 32
#endif

/* virtio 1.3 per-virtqueue notification coalescing (Linux 6.7+ headers). */
#ifndef VIRTIO_NET_F_VQ_NOTF_COAL
#define VIRTIO_NET_F_VQ_NOTF_COAL 52
#endif
#ifndef VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET
#define VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET 2
#define VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET 3
#endif

/**
 * iov_to_buf() - copy bytes out of an iovec array
 * @iov:	segments
 * @n:		number of segments
 * @offset:	first byte to copy, counted across the segments
 * @buf:	destination
 * @len:	bytes wanted
 *
 * Return: bytes copied: @len, or fewer if the segments end first.
 */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t offset,
                  void *buf, size_t len);

/**
 * iov_from_buf() - copy bytes into an iovec array
 * @iov:	segments
 * @n:		number of segments
 * @offset:	first byte to write, counted across the segments
 * @buf:	source
 * @len:	bytes to write
 *
 * Return: bytes copied: @len, or fewer if the segments end first.
 */
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t offset,
                    const void *buf, size_t len);

/**
 * iov_cut() - remove bytes from the middle of an iovec array, in place
 * @iov:	segments
 * @n:		number of segments
 * @max:	room in @iov (a cut inside one segment splits it in two)
 * @off:	first byte to remove, counted across the segments
 * @len:	bytes to remove
 *
 * Segments emptied stay, with length 0.
 * Return: the new number of segments, or -1 if the segments end before
 * @off + @len or the split needs more room than @max (@iov is then
 * unusable).
 */
int iov_cut(struct iovec *iov, unsigned int n, unsigned int max, size_t off,
            size_t len);

/**
 * mac_parse() - read "xx:xx:xx:xx:xx:xx" (hex, either case) into @mac
 * @text:	the text; NULL is refused
 * @mac:	the address, written only on success
 *
 * Checks the form only: any address, multicast and zero included.
 * Return: true if @text is exactly six colon-separated hex pairs.
 */
bool mac_parse(const char *text, uint8_t mac[6]);

/**
 * mac_format() - @mac as "xx:xx:xx:xx:xx:xx", lower case
 *
 * Return: a newly allocated string (g_free()).
 */
char *mac_format(const uint8_t mac[6]);

/* mac_is_unicast() - neither multicast nor all zero: a station's address. */
bool mac_is_unicast(const uint8_t mac[6]);

/* The deepest nesting of JSON we let json-glib parse (it recurses). */
#define JSON_MAX_DEPTH 64

/**
 * json_depth_ok() - whether a JSON text nests at most @max levels deep
 * @text:	the text (need not be NUL-terminated, need not be valid)
 * @len:	its length
 * @max:	the most '[' and '{' open at once
 *
 * Counts brackets outside strings only; the parser finds every other
 * error. Return: true if the text may be given to json-glib.
 */
bool json_depth_ok(const char *text, size_t len, unsigned int max);

/**
 * netlink_set_error() - a GError from a libnl error
 * @error:	where to set it (G_IO_ERROR_FAILED)
 * @nlerr:	the negative libnl error code
 * @fmt:	printf format saying what failed; the message is
 *		"WHAT: libnl's text"
 */
G_GNUC_PRINTF(3, 4)
void netlink_set_error(GError **error, int nlerr, const char *fmt, ...);

#endif /* VDUSE_NET_UTIL_H */
