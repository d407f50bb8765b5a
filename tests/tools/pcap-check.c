/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcap-check.c - read a pcap file back and count its frames
 *
 * Usage: pcap-check [-l] FILE [MIN_FRAMES [FILTER]]
 *
 * Used by the VM tests to prove that vduse-net's capture file is complete
 * and readable by libpcap. Prints "N frames (M matching)"; exits 1 if the
 * file cannot be read, a record is inconsistent, or fewer than MIN_FRAMES
 * frames match FILTER. With -l, first one line per matching frame: its
 * time, length and first 48 bytes in hex (to say which frame went where
 * when a count is off).
 */
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct bpf_program prog;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    bool list = argc > 1 && strcmp(argv[1], "-l") == 0;
    long min, frames = 0, matching = 0;
    pcap_t *p;
    int ret;

    if (list) {
        argc--;
        argv++;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: pcap-check [-l] FILE [MIN_FRAMES [FILTER]]\n");
        return 2;
    }
    min = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "pcap-check: %s\n", err);
        return 1;
    }
    if (pcap_compile(p, &prog, argc > 3 ? argv[3] : "", 1,
                     PCAP_NETMASK_UNKNOWN) < 0) {
        fprintf(stderr, "pcap-check: filter: %s\n", pcap_geterr(p));
        return 1;
    }
    while ((ret = pcap_next_ex(p, &hdr, &data)) == 1) {
        if (hdr->caplen > hdr->len || hdr->caplen < 14) {
            fprintf(stderr, "pcap-check: frame %ld: caplen %u, len %u\n",
                    frames, hdr->caplen, hdr->len);
            return 1;
        }
        frames++;
        if (!pcap_offline_filter(&prog, hdr, data)) {
            continue;
        }
        matching++;
        if (list) {
            printf("%ld.%06ld len %u:", (long)hdr->ts.tv_sec,
                   (long)hdr->ts.tv_usec, hdr->len);
            for (bpf_u_int32 i = 0; i < hdr->caplen && i < 48; i++) {
                printf("%s%02x", i % 4 ? "" : " ", data[i]);
            }
            printf("\n");
        }
    }
    if (ret == -1) {
        fprintf(stderr, "pcap-check: %s\n", pcap_geterr(p));
        return 1;
    }
    printf("%ld frames (%ld matching)\n", frames, matching);
    pcap_freecode(&prog);
    pcap_close(p);
    return matching >= min ? 0 : 1;
}
