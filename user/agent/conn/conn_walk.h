/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conn_walk.h: the root's view of every open connection, whichever worker
 * carries it (control_top.c, metrics_flows.c). */
#ifndef SG_CONN_WALK_H
#define SG_CONN_WALK_H

struct agent;
struct conn;

/* Calls fn on every open connection of every worker, each worker's under its
 * own lock. The root's thread only, holding shared_lock once (its loop's): it
 * is released meanwhile, as a worker takes its own lock first. */
void conn_walk(struct agent *root, void (*fn)(const struct conn *c, void *arg), void *arg);

#endif
