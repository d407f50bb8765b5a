/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctrlvq.h - libctrlvq: virtio-net control commands and their shadow state
 *
 * The one public header of ctrlvq/. Pure logic on GLib: no fds, no threads.
 * The caller (net/) pops a command from the control virtqueue, copies it
 * into its own buffer, and hands the copy here; the answer is the status
 * byte to write back.
 *
 * Today every command is answered VIRTIO_NET_ERR: the driver's probe goes
 * on (it warns and keeps its defaults), and nothing is recorded. The
 * shadow and the commands it accepts are the control-queue issue's work.
 */
#ifndef VDUSE_NET_CTRLVQ_H
#define VDUSE_NET_CTRLVQ_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* The largest command we copy in (header + payload), in bytes. */
#define CTRLVQ_MAX_COMMAND (64 * 1024)

typedef struct Ctrlvq Ctrlvq;

/**
 * ctrlvq_new() - the control-queue state of one device
 * @name:	device name, for log lines; copied
 *
 * Return: the state, owned by the caller (ctrlvq_free()).
 */
Ctrlvq *ctrlvq_new(const char *name);

/* ctrlvq_free() - free @cvq (NULL is fine). */
void ctrlvq_free(Ctrlvq *cvq);

/**
 * ctrlvq_execute() - run one control command
 * @cvq:	the state
 * @cmd:	the command as the driver wrote it (class, command, payload),
 *		already copied out of guest memory
 * @len:	its length in bytes
 *
 * Return: VIRTIO_NET_OK or VIRTIO_NET_ERR, the status byte to write back.
 */
uint8_t ctrlvq_execute(Ctrlvq *cvq, const uint8_t *cmd, size_t len);

/* ctrlvq_commands_seen() - how many commands were executed so far. */
uint64_t ctrlvq_commands_seen(const Ctrlvq *cvq);

#endif /* VDUSE_NET_CTRLVQ_H */
