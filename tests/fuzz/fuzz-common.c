/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-common.c - the log policy of the fuzz targets (fuzz.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

/**
 * fuzz_log_writer() - drop messages and debug output; abort on the rest
 * @level:	the record's level
 * @fields:	its fields
 * @n_fields:	how many
 * @data:	unused
 *
 * Return: G_LOG_WRITER_HANDLED.
 */
static GLogWriterOutput fuzz_log_writer(GLogLevelFlags level,
                                        const GLogField *fields, gsize n_fields,
                                        gpointer data)
{
    if (!(level &
          (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))) {
        return G_LOG_WRITER_HANDLED;
    }
    g_log_writer_standard_streams(level, fields, n_fields, data);
    fprintf(stderr, "fuzz: a warning or critical was logged: aborting\n");
    abort();
}

void fuzz_log_init(void)
{
    static bool done;

    if (done) {
        return;
    }
    done = true;
    g_log_set_writer_func(fuzz_log_writer, NULL, NULL);
}
