/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* agent.h: the running gateway's life: startup (dataplane, listeners, guard,
 * checks, control socket, signals), reloads and shutdown. The state it owns
 * is struct agent (agent_state.h); the parts get it, and what they must ask
 * of the agent (a reload, a new runtime) as callbacks, never by calling up. */
#ifndef SG_AGENT_H
#define SG_AGENT_H

#include "agent_state.h"

/* Blocks the signals the agent reads from its signalfd (SIGTERM, SIGINT,
 * SIGHUP) and ignores SIGPIPE. main() calls it before anything else: until
 * then a SIGHUP (a logrotate during a restart) would kill the process, and
 * threads started later (name resolution) inherit the mask. */
void agent_block_signals(void);

/* Serves rt (taking over the caller's reference) until SIGTERM or SIGINT;
 * SIGHUP reloads --config and reopens the access log. Returns the process
 * exit code: 0 after a clean shutdown, 1 when startup failed (logged once). */
int agent_main(const struct args *a, struct runtime *rt);

#endif
