// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics_flows.c: see metrics_flows.h. A sockmap pair's bytes never pass
 * through the agent: they are the verdict's counts in sg_flows (one lookup
 * per open pair, not a walk of the whole LRU map) plus what user space
 * copied; a relayed connection counts its own. */
#include <stdlib.h>
#include <string.h>

#include "agent_state.h"
#include "conn_internal.h"
#include "conn_walk.h"
#include "metrics_flows.h"
#include "prom.h"

struct route_bytes {
	const char *name; /* borrowed from a runtime that an open connection holds */
	uint64_t bytes[2];
};

struct route_sums {
	struct route_bytes *v;
	size_t n, cap;
};

static struct route_bytes *find_or_add(struct route_sums *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct route_bytes *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = (struct route_bytes){.name = name};
	return &s->v[s->n++];
}

/* c's bytes so far: [0] client->backend, [1] back; false when unknown. */
static bool live_bytes(const struct conn *c, uint64_t b[2])
{
	if (c->state == CONN_SPLICED) {
		uint64_t v[SG_DIR_MAX];

		if (sockpair_flow_bytes(&c->pair, &c->ag->dp, v))
			return false;
		b[0] = v[SG_DIR_TO_BACKEND] + c->pair.copied[SOCKPAIR_CLIENT];
		b[1] = v[SG_DIR_TO_CLIENT] + c->pair.copied[SOCKPAIR_BACKEND];
		return true;
	}
	if (c->state == CONN_EXPRESS)
		return conn_express_bytes(c, b);
	if (c->state == CONN_RELAYED) {
		b[0] = c->relay.dir[RELAY_CLIENT].bytes;
		b[1] = c->relay.dir[RELAY_BACKEND].bytes;
		return true;
	}
	return false;
}

/* conn_walk()'s: adds c's bytes to its route's; on ENOMEM the sums
 * stay as they are. */
static void add_conn(const struct conn *c, void *arg)
{
	struct route_sums *s = arg;
	struct route_bytes *r;
	uint64_t b[2];

	if (!c->has_route || !live_bytes(c, b))
		return;
	r = find_or_add(s, c->rt->cfg->routes[c->route].name);
	if (!r)
		return;
	r->bytes[0] += b[0];
	r->bytes[1] += b[1];
}

void metrics_flows_write(const struct agent *ag, FILE *f)
{
	static const char *const names[] = {"route", "direction"};
	static const char *const dirs[] = {"up", "down"};
	const struct config *cfg = ag->rt->cfg;
	struct route_sums s = {0};

	for (size_t i = 0; i < cfg->n_routes; i++) {
		if (!find_or_add(&s, cfg->routes[i].name))
			goto out;
	}
	conn_walk((struct agent *)ag, add_conn, &s);
out:
	fprintf(f,
		"# HELP sockgate_route_open_bytes Bytes moved so far by the connections open "
		"now, by route; a connection's bytes move to sockgate_bytes_total when it ends.\n"
		"# TYPE sockgate_route_open_bytes gauge\n");
	for (size_t i = 0; i < s.n; i++) {
		for (int d = 0; d < 2; d++) {
			const char *values[] = {s.v[i].name, dirs[d]};

			fputs("sockgate_route_open_bytes{", f);
			prom_write_labels(f, names, values, 2);
			fprintf(f, "} %llu\n", (unsigned long long)s.v[i].bytes[d]);
		}
	}
	free(s.v);
}
