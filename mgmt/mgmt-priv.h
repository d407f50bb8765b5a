/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmt-priv.h - what libmgmt shows its tests and fuzz targets only
 */
#ifndef VDUSE_NET_MGMT_PRIV_H
#define VDUSE_NET_MGMT_PRIV_H

#include "mgmt.h"

/**
 * mgmt_execute_line() - run one request line as if a client had sent it
 * @m:		the listener
 * @line:	the line, NUL-terminated, without its newline
 *
 * The same parsing, dispatch and reply a socket client gets, without the
 * socket (tests/fuzz/fuzz-mgmt.c).
 * Return: the reply line, newline included, NUL-terminated (g_free()).
 */
char *mgmt_execute_line(Mgmt *m, const char *line);

#endif /* VDUSE_NET_MGMT_PRIV_H */
