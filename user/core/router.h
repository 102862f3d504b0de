/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* router.h: one route table per listener, built from a loaded config. The route
 * ids in the tables are indices into config.routes. Immutable once built; the
 * agent swaps whole routers on reload and each connection keeps its own. */
#ifndef SG_ROUTER_H
#define SG_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "route.h"

struct router {
	const struct config *cfg;    /* not owned */
	struct route_table **tables; /* [cfg->n_listeners] */
	size_t n_tables;
};

/* Builds the tables for every listener of cfg (which must outlive the router).
 * Returns NULL with errno set and a one-line reason in err (which names the
 * listener) on failure. */
struct router *router_new(const struct config *cfg, char *err, size_t err_len);

/* Frees the tables (not the config). NULL-tolerant. */
void router_free(struct router *r);

/* Routes a parsed ClientHello that arrived on listener li. On a routed match
 * *route gets the index into cfg->routes. sni NULL: the hello had none. */
enum route_match router_lookup(const struct router *r, size_t li, const char *sni,
			       const uint8_t *alpn_wire, size_t alpn_len, size_t *route);

/* True when route ri has no destinationSubnets constraint or the local
 * address the client connected to lies in one of its subnets. A route that
 * fails this must not get the connection (it is refused, never re-routed to a
 * more permissive route). */
bool router_accepts_local(const struct router *r, size_t ri, const struct sockaddr_storage *local);

/* Prints every listener with its route table in match order, the policies and
 * each route's backends, as `sockgated --check` shows them. */
void router_dump(const struct router *r, FILE *f);

#endif
