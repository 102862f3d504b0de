/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pool.h: picks the endpoint of a route for a new connection, by the route's
 * balance algorithm (docs/CONFIG.md):
 * - round_robin: smooth weighted round robin over the route's backends
 *   (nginx's algorithm: even spread, no bursts), round robin over each
 *   backend's endpoints;
 * - least_conn: the endpoint with the fewest open connections per unit of
 *   its backend's weight, ties in round-robin order;
 * - random2: two endpoints drawn by weight, the one with fewer connections
 *   per weight wins (the power of two choices);
 * - maglev: consistent hashing of the client address over the endpoints
 *   (maglev.h), so a client keeps its endpoint across reloads and while
 *   other endpoints come and go.
 * Never an endpoint the connection already tried, nor one of weight 0,
 * unresolved or that the hint calls unusable. The pool holds only its own state; the route (weights,
 * endpoints) stays in the immutable config. Pure. */
#ifndef SG_POOL_H
#define SG_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "maglev.h"

struct pool_choice {
	uint32_t backend;  /* index into route->backends */
	uint32_t endpoint; /* index into that backend's endpoints */
};

/* What a pick may depend on besides the pool. */
struct pool_hint {
	uint64_t key; /* maglev: a hash of the client address */
	/* least_conn, random2: connections open now to endpoint e of backend b.
	 * NULL: none anywhere. */
	uint32_t (*active)(void *arg, uint32_t b, uint32_t e);
	/* May endpoint e of backend b take a new connection now (healthy, not
	 * drained, below its limit)? NULL: every endpoint may. */
	bool (*usable)(void *arg, uint32_t b, uint32_t e);
	void *arg;
};

struct pool {
	const struct cfg_route *route; /* not owned */
	int64_t *current;	       /* smooth WRR state, one per backend */
	uint32_t *next_endpoint;       /* rotation start, one per backend */
	size_t rotation;	       /* least_conn: the backend to look at first */
	uint64_t rng;		       /* random2: xorshift64* state, never 0 */
	struct maglev maglev;	       /* maglev: over every endpoint, in flat order */
	struct pool_choice *flat;      /* maglev member i -> backend, endpoint */
	char **names;		       /* maglev member names "address:port" */
	size_t n_flat;
};

/* Creates the state for route (which must outlive the pool); seed feeds
 * random2 (any value). NULL on ENOMEM. */
struct pool *pool_new(const struct cfg_route *route, uint64_t seed);
void pool_free(struct pool *p);

/* Picks a resolved endpoint of a backend with weight > 0 that is not among
 * tried[0..n_tried). hint may be NULL (key 0, no connections). Returns false
 * when no such endpoint exists. */
bool pool_pick(struct pool *p, const struct pool_hint *hint, const struct pool_choice *tried,
	       size_t n_tried, struct pool_choice *out);

#endif
