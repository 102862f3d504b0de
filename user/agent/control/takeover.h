/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* takeover.h: upgrading the agent without refusing or resetting a
 * connection (docs/OPERATING.md, "Upgrade without dropping connections").
 *
 * The new agent (--takeover) connects to the running one's control socket
 * and asks "takeover\t<drain ms>\n". The old one stops accepting (its
 * listening sockets stay open: connections arriving meanwhile wait in their
 * queues) and sends, over that connection with SCM_RIGHTS, every listening
 * socket, the metrics socket and the guard's XDP links, each with what
 * identifies it (takeover_wire.h). The new agent takes those its
 * configuration wants instead of binding or attaching (inherited.h), starts,
 * and writes 'R'; the old answers 'A', gives up its control socket's path
 * (the new one renames its own over it) and drains its connections within
 * the drain deadline, then exits. Until 'R' nothing is lost: if the new agent
 * goes away first, the old one accepts again and takes its guard back.
 * Sockets are never closed between the two owners, and only one process
 * accepts at any time. */
#ifndef SG_TAKEOVER_H
#define SG_TAKEOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct agent;

/* What the old side asks of the agent (callbacks: the control parts never
 * call up into agent.c). */
struct takeover_hooks {
	/* hold: stop accepting, every loop (the sockets stay open); !hold:
	 * accept again and put the agent's own program back into the guard's
	 * links. Returns once every worker follows. */
	void (*hold)(void *ctx, bool hold);
	/* The new agent confirmed: stop and drain within drain_ms. */
	void (*handed_over)(void *ctx, uint64_t drain_ms);
	void *ctx;
};

/* ---- the old agent, in its control socket's handler ---- */

/* Serves a "takeover" request from peer fd (already allowed), argv[1] the
 * drain deadline in ms. On success the connection is the takeover's from
 * now on (*is_taken set, nothing more to answer); else the reason is written
 * to out and the exit code returned. */
int takeover_give(struct agent *ag, int fd, size_t argc, char **argv,
		  const struct takeover_hooks *hooks, FILE *out, bool *is_taken);

/* At stop: drops a takeover still waiting for its 'R'. */
void takeover_give_close(struct agent *ag);

/* ---- the new agent, during its startup ---- */

/* Asks the agent on --control for its sockets: ag->inherited holds them on
 * return. 0, or -errno after logging why. */
int takeover_take(struct agent *ag);

/* Startup done (the listeners ag->inherited held are serving): closes what
 * was not taken, writes 'R' and waits for the old agent's 'A'. 0, or -errno
 * after logging (the caller exits, and the old agent accepts again). */
int takeover_confirm(struct agent *ag);

#endif
