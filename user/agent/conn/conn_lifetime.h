/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conn_lifetime.h: every connected pair ends, whether or not its peers ever
 * send a FIN: keepalive and TCP_USER_TIMEOUT
 * on both legs turn a peer that vanished into a socket error, which ends the
 * pair through the dataplane's error path; one periodic sweep for all pairs
 * ends those that moved no byte for their route's idle_timeout and those past
 * its max_connection_duration. */
#ifndef SG_CONN_LIFETIME_H
#define SG_CONN_LIFETIME_H

struct agent;
struct conn;

/* Starts the sweep on ag's loop. 0 or -errno. */
int conn_lifetime_open(struct agent *ag);

/* Stops it. Safe when it was never started. */
void conn_lifetime_close(struct agent *ag);

/* At the handover (both legs connected): starts judging c's idleness. */
void conn_lifetime_start(struct conn *c);

/* Sets c's route's keepalive and user timeout on both legs, once: at the
 * handover of a pair the kernel moves at once, else when a copied pair is
 * promoted or reaches --promote-after. A shorter pair never sends a probe. */
void conn_lifetime_keepalive(struct conn *c);

#endif
