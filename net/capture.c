/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * capture.c - every frame in both directions to a pcap file (libpcap)
 *
 * Dataplane threads call net_capture_frame() for each frame; a mutex
 * serialises them. Each record is flushed at once so that a killed process
 * leaves a file every reader can parse, at most missing the frame being
 * written. Capture is a debugging aid: it copies each frame once to make
 * it contiguous for libpcap, which the datapath otherwise never does.
 */
#include "config.h"

#include <gio/gio.h>
#include <pcap/pcap.h>
#include <sys/time.h>

#include "net-priv.h"

/* The longest frame we record: a 64 KB GSO frame and its Ethernet header. */
#define CAPTURE_SNAPLEN (65535 + 14 + 4)

/**
 * struct NetCapture - an open capture file
 * @lock:	serialises writers
 * @pcap:	a "dead" pcap handle giving the link type and filter
 * @dumper:	the file
 * @filter:	compiled capture filter, if any
 * @has_filter:	whether @filter is set
 * @buf:	where a frame is made contiguous
 */
struct NetCapture {
    GMutex lock;
    pcap_t *pcap;
    pcap_dumper_t *dumper;
    struct bpf_program filter;
    bool has_filter;
    uint8_t buf[CAPTURE_SNAPLEN];
};

NetCapture *net_capture_open(const char *path, const char *filter,
                             GError **error)
{
    g_autofree NetCapture *cap = g_new0(NetCapture, 1);

    cap->pcap = pcap_open_dead(DLT_EN10MB, CAPTURE_SNAPLEN);
    if (!cap->pcap) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "pcap_open_dead failed");
        return NULL;
    }
    if (filter && *filter) {
        if (pcap_compile(cap->pcap, &cap->filter, filter, 1,
                         PCAP_NETMASK_UNKNOWN) < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "capture filter '%s': %s", filter,
                        pcap_geterr(cap->pcap));
            pcap_close(cap->pcap);
            return NULL;
        }
        cap->has_filter = true;
    }
    cap->dumper = pcap_dump_open(cap->pcap, path);
    if (!cap->dumper) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                    pcap_geterr(cap->pcap));
        if (cap->has_filter) {
            pcap_freecode(&cap->filter);
        }
        pcap_close(cap->pcap);
        return NULL;
    }
    pcap_dump_flush(cap->dumper);
    g_mutex_init(&cap->lock);
    return g_steal_pointer(&cap);
}

void net_capture_close(NetCapture *cap)
{
    if (!cap) {
        return;
    }
    pcap_dump_close(cap->dumper);
    if (cap->has_filter) {
        pcap_freecode(&cap->filter);
    }
    pcap_close(cap->pcap);
    g_mutex_clear(&cap->lock);
    g_free(cap);
}

void net_capture_frame(NetCapture *cap, const struct iovec *iov, unsigned int n,
                       size_t skip, size_t len)
{
    struct pcap_pkthdr hdr = {0};
    size_t done;

    g_mutex_lock(&cap->lock);
    done = iov_to_buf(iov, n, skip, cap->buf, MIN(len, sizeof(cap->buf)));
    hdr.caplen = (bpf_u_int32)done;
    hdr.len = (bpf_u_int32)MIN(len, UINT32_MAX);
    if (!cap->has_filter ||
        pcap_offline_filter(&cap->filter, &hdr, cap->buf) != 0) {
        gettimeofday(&hdr.ts, NULL);
        pcap_dump((u_char *)cap->dumper, &hdr, cap->buf);
        pcap_dump_flush(cap->dumper);
    }
    g_mutex_unlock(&cap->lock);
}
