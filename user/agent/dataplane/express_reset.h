/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* express_reset.h: the resets the agent sends when it ends an express flow
 * itself (idle timeout, duration limit): the gateway's sockets cannot speak
 * for the flow any more (their sequence numbers are the hand-over's), so a
 * RST is built from the program's view of each way and sent through a raw
 * socket. A peer that missed it gets the kernel's own reset on its next
 * packet, as the flow's keys are gone by then. */
#ifndef SG_EXPRESS_RESET_H
#define SG_EXPRESS_RESET_H

#include "sg_express.h"

/* Raw TCP sockets, opened while the agent may (CAP_NET_RAW), used later
 * with an explicit source address. */
struct express_raw {
	int fd4, fd6;
};

int express_raw_open(struct express_raw *raw);
void express_raw_close(struct express_raw *raw);

/* Sends a RST to each peer of f, in the numbering each expects next.
 * Best effort: 0 when both left, else -errno. */
int express_send_resets(const struct express_raw *raw, const struct sg_xflow *f);

#endif
