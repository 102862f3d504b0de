/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* runtime.h: one loaded configuration with everything built from it (route
 * tables, backend pools), shared by reference. A reload builds a new runtime
 * and swaps it in; each connection keeps the runtime it was accepted under,
 * so a reload never changes a connection in flight. */
#ifndef SG_RUNTIME_H
#define SG_RUNTIME_H

#include <stdio.h>

#include "args.h"
#include "config.h"
#include "live_changes.h"
#include "pool.h"
#include "router.h"

struct runtime {
	unsigned refs;
	struct config *cfg; /* owned */
	struct router *router;
	struct pool **pools; /* [cfg->n_routes] */
};

/* Loads the --config paths of a plus the live changes lc (may be NULL),
 * resolves hostnames with lk (NULL: the system resolver, blocking) and builds
 * the route tables and pools. Every diagnostic (file:line:column) is written
 * as a plain line to out, or logged when out is NULL. Returns a runtime
 * holding one reference, or NULL when the configuration is rejected. */
struct runtime *runtime_load(const struct args *a, const struct live_changes *lc,
			     const struct cfg_lookup *lk, FILE *out);

/* Builds a runtime around cfg, a checked and resolved configuration (taken
 * over: freed on failure). Failures are reported as runtime_load() does. */
struct runtime *runtime_from_config(struct config *cfg, FILE *out);

/* Takes another reference. */
struct runtime *runtime_get(struct runtime *rt);

/* Drops a reference; the last one frees everything. NULL-tolerant. */
void runtime_put(struct runtime *rt);

#endif
