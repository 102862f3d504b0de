/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pool.h: picks the endpoint of a route for a new connection: smooth weighted
 * round robin over the route's backends (nginx's algorithm: even spread, no
 * bursts), round robin over each backend's endpoints, and never an endpoint
 * the connection already tried. The pool holds only the rotation state; the
 * route (weights, endpoints) stays in the immutable config. Pure. */
#ifndef SG_POOL_H
#define SG_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct pool_choice {
	uint32_t backend;  /* index into route->backends */
	uint32_t endpoint; /* index into that backend's endpoints */
};

struct pool {
	const struct cfg_route *route; /* not owned */
	int64_t *current;	       /* smooth WRR state, one per backend */
	uint32_t *next_endpoint;       /* rotation start, one per backend */
};

/* Creates the rotation state for route (which must outlive the pool). NULL on
 * ENOMEM. */
struct pool *pool_new(const struct cfg_route *route);
void pool_free(struct pool *p);

/* Picks a resolved endpoint of a backend with weight > 0 that is not among
 * tried[0..n_tried). Returns false when no such endpoint exists. */
bool pool_pick(struct pool *p, const struct pool_choice *tried, size_t n_tried,
	       struct pool_choice *out);

#endif
