/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vduse-net.c - placeholder entry point, replaced by the device issue. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("vduse-net %s\n", VDUSE_NET_VERSION);
        return 0;
    }
    fprintf(stderr, "vduse-net: not implemented yet\n");
    return 1;
}
