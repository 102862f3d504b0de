/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* top_model.h: one `sockgate top` frame's data: the agent's routes and
 * endpoints joined with the live flows of the flow map and their byte rates.
 * Flows join a route by the name the flow map holds and an endpoint by route
 * and backend address; a live flow whose route or endpoint the agent does not
 * list (unloaded, or the agent is not answering) adds a row of its own. No
 * I/O: the caller queries the agent and reads the map. */
#ifndef SG_CLI_TOP_MODEL_H
#define SG_CLI_TOP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "flow_list.h"
#include "flow_rates.h"
#include "top_agent.h"

enum top_sort {
	TOP_SORT_RATE = 0, /* bytes a second up + down, most first */
	TOP_SORT_BYTES,	   /* bytes up + down, most first */
	TOP_SORT_AGE,	   /* oldest first */
	TOP_SORT_MAX
};

/* "rate", "bytes", "age". */
const char *top_sort_str(enum top_sort s);

/* A route row (backend and endpoint NULL) or an endpoint row. */
struct top_agg {
	const char *route;
	const char *backend; /* as configured; "-" when known from flows only */
	const char *endpoint;
	const char *snis;		 /* route rows: the patterns, "-" when unknown */
	long weight;			 /* -1: unknown (known from flows only) */
	long conns;			 /* live connections the agent counts; -1: unknown */
	size_t n_flows;			 /* live flows in the map */
	uint64_t delta[FLOW_RATES_DIRS]; /* bytes over the last interval */
	size_t order;			 /* agent rows first, in configuration order */
	char *key;			 /* join key, owned */
	char *owned;			 /* names of a row known from flows only */
};

struct top_flow {
	const struct flow_row *row;
	const struct flow_rate *rate;
};

struct top_model {
	struct top_agg *routes, *eps;
	size_t n_routes, n_eps;
	struct top_flow *flows; /* live flows */
	size_t n_flows, n_closed;
	uint64_t delta_total[FLOW_RATES_DIRS]; /* every flow's, closed ones included */
	uint64_t elapsed_ns;		       /* the interval; 0: rates unknown */
};

/* Builds m from agent a (its rows are used when a->is_up), the flows in fl
 * (sorted by id) with rates[i] for fl->rows[i], over an interval of
 * elapsed_ns (0 when the rates are unknown). The model points into a, fl and
 * rates, which must outlive it. Returns 0 or -ENOMEM. */
int top_model_build(struct top_model *m, const struct top_agent *a, const struct flow_list *fl,
		    const struct flow_rate *rates, uint64_t elapsed_ns);

/* Orders the flows by sort (ties: more bytes, then the older flow id) and the
 * route and endpoint rows by their rate, most first (ties: configuration
 * order). */
void top_model_sort(struct top_model *m, enum top_sort sort);

/* Frees what m owns; m is then empty. */
void top_model_fini(struct top_model *m);

#endif
