/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay.c - run a fuzz target over files, without libFuzzer
 *
 * Usage: fuzz-NAME FILE|DIR...
 *
 * Each file is given to LLVMFuzzerTestOneInput() once; a directory stands
 * for the files in it, in name order, except those named crash-* (found
 * bugs kept as reproducers: give them by name to run one). A crash or a
 * broken invariant aborts, which is how `meson test` sees a failure.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

/**
 * run_file() - run the target on the contents of @path
 * @path:	a file
 *
 * Return: true if the file could be read.
 */
static bool run_file(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &data, &len, &error)) {
        fprintf(stderr, "replay: %s\n", error->message);
        return false;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    return true;
}

/* compare_names() - order two entries of a GPtrArray of strings. */
static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/**
 * run_dir() - run the target on every file of @path but crash-*
 * @path:	a directory
 * @count:	incremented per file run
 *
 * Return: true if every file could be read.
 */
static bool run_dir(const char *path, unsigned int *count)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = g_dir_open(path, 0, &error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    bool ok = true;

    if (!dir) {
        fprintf(stderr, "replay: %s\n", error->message);
        return false;
    }
    while ((name = g_dir_read_name(dir))) {
        if (!g_str_has_prefix(name, "crash-")) {
            g_ptr_array_add(names, g_build_filename(path, name, NULL));
        }
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        ok = run_file(names->pdata[i]) && ok;
        (*count)++;
    }
    return ok;
}

int main(int argc, char **argv)
{
    unsigned int count = 0;
    bool ok = true;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            ok = run_dir(argv[i], &count) && ok;
        } else {
            ok = run_file(argv[i]) && ok;
            count++;
        }
    }
    printf("%s: %u inputs replayed\n", argv[0], count);
    return ok ? 0 : 1;
}
