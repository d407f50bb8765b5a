/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcap-check.c - read a pcap file back and count its frames
 *
 * Usage: pcap-check FILE [MIN_FRAMES [FILTER]]
 *
 * Used by the VM tests to prove that vduse-net's capture file is complete
 * and readable by libpcap. Prints "N frames (M matching)"; exits 1 if the
 * file cannot be read, a record is inconsistent, or fewer than MIN_FRAMES
 * frames match FILTER.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct bpf_program prog;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    long min = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    long frames = 0, matching = 0;
    pcap_t *p;
    int ret;

    if (argc < 2) {
        fprintf(stderr, "usage: pcap-check FILE [MIN_FRAMES [FILTER]]\n");
        return 2;
    }
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
        matching += pcap_offline_filter(&prog, hdr, data) != 0;
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
