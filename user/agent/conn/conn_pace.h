/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conn_pace.h: keeps each direction of a sockmap pair within the pair budget.
 * The kernel queues redirected bytes without limit (docs/SOCKMAP.md, section
 * "No backpressure"), so when a direction holds more than the budget, its
 * source is paused (its receive queue fills and TCP closes the window) until
 * the receiver has taken half of it back (docs/SOCKMAP.md, section "Bounded memory").
 * Event-driven: the verdict reports a crossing of a byte mark; only paused
 * directions are polled. */
#ifndef SG_CONN_PACE_H
#define SG_CONN_PACE_H

#include <stdbool.h>
#include <stdint.h>

struct conn;

/* What a pacing step leaves to its caller, which owns the connection's life:
 * conn_pace.c never ends a connection nor runs its schedule itself. */
struct conn_pace_next {
	const char *abort; /* set: reset the pair, ending it for this reason */
	bool schedule;	   /* conn_pace_event(): a direction was paused: conn_schedule() */
	bool paused;	   /* conn_pace_tick(): some direction is still paused */
};

/* After the splice: sets the first byte marks of both directions. */
void conn_pace_start(struct conn *c);

/* The verdict reported that the direction whose source socket has this
 * cookie passed its mark: measure, then pause or set the next mark. */
struct conn_pace_next conn_pace_event(struct conn *c, uint64_t cookie);

/* Called from the connection's timer: resumes directions whose receiver
 * caught up, and copies the tail of a direction whose stream ended while
 * paused. .paused is true while some direction is still paused. */
struct conn_pace_next conn_pace_tick(struct conn *c);

/* Before the agent half-closes leg (forwards a FIN to it), stops forwarding
 * leg's own input through sockmap: a half-closed socket can neither be paused
 * nor resumed (docs/SOCKMAP.md, section "Half-closed sources"), so its direction is copied in user
 * space from now on, after every byte already redirected. */
void conn_pace_before_shutdown(struct conn *c, int leg);

#endif
