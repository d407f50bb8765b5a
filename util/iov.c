/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iov.c - copies between iovec arrays and flat buffers; cuts in the arrays
 */
#include "config.h"

#include <string.h>

#include "util.h"

/**
 * iov_copy() - copy between an iovec array at @offset and a flat buffer
 * @iov:	segments
 * @n:		number of segments
 * @offset:	first byte in the segments
 * @buf:	the flat buffer
 * @len:	bytes to copy
 * @to_iov:	true to write the segments, false to read them
 *
 * Return: bytes copied.
 */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t offset,
                       uint8_t *buf, size_t len, bool to_iov)
{
    size_t done = 0;

    for (unsigned int i = 0; i < n && done < len; i++) {
        size_t chunk;
        uint8_t *seg;

        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        chunk = MIN(len - done, iov[i].iov_len - offset);
        seg = (uint8_t *)iov[i].iov_base + offset;
        if (to_iov) {
            memcpy(seg, buf + done, chunk);
        } else {
            memcpy(buf + done, seg, chunk);
        }
        done += chunk;
        offset = 0;
    }
    return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t offset,
                  void *buf, size_t len)
{
    return iov_copy(iov, n, offset, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t offset,
                    const void *buf, size_t len)
{
    return iov_copy(iov, n, offset, (uint8_t *)buf, len, true);
}

int iov_cut(struct iovec *iov, unsigned int n, unsigned int max, size_t off,
            size_t len)
{
    unsigned int i = 0;

    while (i < n && off >= iov[i].iov_len) {
        off -= iov[i++].iov_len;
    }
    if (i == n) {
        return len ? -1 : (int)n;
    }
    if (off > 0 && off + len < iov[i].iov_len) {
        /* Inside one segment: its head, then its tail after the cut. */
        if (n >= max) {
            return -1;
        }
        memmove(&iov[i + 2], &iov[i + 1], (n - i - 1) * sizeof(*iov));
        iov[i + 1].iov_base = (uint8_t *)iov[i].iov_base + off + len;
        iov[i + 1].iov_len = iov[i].iov_len - off - len;
        iov[i].iov_len = off;
        return (int)n + 1;
    }
    if (off > 0) {
        len -= iov[i].iov_len - off; /* the segment's tail goes */
        iov[i++].iov_len = off;
    }
    for (; len > 0 && i < n; i++) {
        size_t k = MIN(len, iov[i].iov_len);

        iov[i].iov_base = (uint8_t *)iov[i].iov_base + k;
        iov[i].iov_len -= k;
        len -= k;
    }
    return len ? -1 : (int)n;
}
