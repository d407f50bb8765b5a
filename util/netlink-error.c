/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netlink-error.c - libnl errors as GErrors
 */
#include "config.h"

#include <gio/gio.h>
#include <netlink/errno.h>

#include "util.h"

void netlink_set_error(GError **error, int nlerr, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* libnl maps the kernel's errno to codes of its own: keep its text. */
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what,
                nl_geterror(nlerr));
}
