/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctrlvq.c - control-queue commands (for now: a refusal for each)
 */
#include "config.h"

#include <linux/virtio_net.h>

#include "ctrlvq.h"

/**
 * struct Ctrlvq - the control-queue state of one device
 * @name:	device name, for log lines
 * @seen:	commands executed
 */
struct Ctrlvq {
    char *name;
    uint64_t seen;
};

Ctrlvq *ctrlvq_new(const char *name)
{
    Ctrlvq *cvq = g_new0(Ctrlvq, 1);

    cvq->name = g_strdup(name);
    return cvq;
}

void ctrlvq_free(Ctrlvq *cvq)
{
    if (cvq) {
        g_free(cvq->name);
        g_free(cvq);
    }
}

uint8_t ctrlvq_execute(Ctrlvq *cvq, const uint8_t *cmd, size_t len)
{
    cvq->seen++;
    if (len < sizeof(struct virtio_net_ctrl_hdr)) {
        g_message("%s: control command of %zu bytes has no header", cvq->name,
                  len);
        return VIRTIO_NET_ERR;
    }
    g_debug("%s: control class %u command %u (%zu payload bytes): "
            "not supported yet",
            cvq->name, cmd[0], cmd[1], len - 2);
    return VIRTIO_NET_ERR;
}

uint64_t ctrlvq_commands_seen(const Ctrlvq *cvq)
{
    return cvq->seen;
}
