// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* control_top.c: see control_top.h. It runs once a second per open `top`, so
 * connections are counted in one pass over them, not once per route or
 * endpoint as `backends` does. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "agent_state.h"
#include "conn_internal.h"
#include "conn_walk.h"
#include "control_exit.h"
#include "control_top.h"
#include "sg_abi.h"
#include "sg_defaults.h"
#include "sockpair.h"

/* One endpoint line: the endpoint's address as connections record it. */
struct ep_row {
	size_t route;
	const struct cfg_backend *be;
	char addr[ADDR_STR_MAX]; /* "unresolved" when there is none */
	size_t conns;
};

struct top_rows {
	size_t *route_conns; /* [n_routes] */
	struct ep_row *eps;
	size_t n_eps;
	size_t *first_ep; /* [n_routes + 1]: eps of route i are [first_ep[i], first_ep[i+1]) */
};

static size_t n_ep_rows(const struct cfg_backend *be)
{
	return be->n_endpoints ? be->n_endpoints : 1;
}

static int rows_build(const struct config *c, struct top_rows *t)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < c->n_routes; i++) {
		for (size_t b = 0; b < c->routes[i].n_backends; b++)
			n += n_ep_rows(&c->routes[i].backends[b]);
	}
	t->route_conns = calloc(c->n_routes + 1, sizeof(*t->route_conns));
	t->first_ep = calloc(c->n_routes + 1, sizeof(*t->first_ep));
	t->eps = calloc(n + 1, sizeof(*t->eps));
	if (!t->route_conns || !t->first_ep || !t->eps)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_routes; i++) {
		t->first_ep[i] = k;
		for (size_t b = 0; b < c->routes[i].n_backends; b++) {
			const struct cfg_backend *be = &c->routes[i].backends[b];

			for (size_t e = 0; e < n_ep_rows(be); e++, k++) {
				struct ep_row *r = &t->eps[k];

				r->route = i;
				r->be = be;
				if (be->n_endpoints && be->endpoints[e].is_resolved)
					addr_format(&be->endpoints[e].addr, r->addr,
						    sizeof(r->addr));
				else
					snprintf(r->addr, sizeof(r->addr), "unresolved");
			}
		}
	}
	t->first_ep[c->n_routes] = k;
	t->n_eps = k;
	return 0;
}

/* The route of c in the configuration in force: by index when c was accepted
 * under it, else by name; -1 when that route is gone. */
static long route_now(const struct agent *ag, const struct conn *c)
{
	const struct config *cfg = ag->rt->cfg;
	const char *name;

	if (c->rt == ag->rt)
		return (long)c->route;
	name = c->rt->cfg->routes[c->route].name;
	for (size_t i = 0; i < cfg->n_routes; i++) {
		if (!strcmp(cfg->routes[i].name, name))
			return (long)i;
	}
	return -1;
}

struct count_ctx {
	const struct agent *ag;
	struct top_rows *t;
};

/* conn_walk()'s: c counted in its route's and its endpoint's row. */
static void count_one(const struct conn *c, void *arg)
{
	struct count_ctx *x = arg;
	struct top_rows *t = x->t;
	long r;

	if (!c->has_route || c->state == CONN_CLOSED)
		return;
	r = route_now(x->ag, c);
	if (r < 0)
		return;
	t->route_conns[r]++;
	if (!c->backend_addr_len)
		return;
	for (size_t e = t->first_ep[r]; e < t->first_ep[r + 1]; e++) {
		if (!strcmp(t->eps[e].addr, c->backend_str)) {
			t->eps[e].conns++;
			break;
		}
	}
}

static void rows_count(const struct agent *ag, struct top_rows *t)
{
	struct count_ctx x = {.ag = ag, .t = t};

	conn_walk((struct agent *)ag, count_one, &x);
}

static void rows_free(struct top_rows *t)
{
	free(t->route_conns);
	free(t->first_ep);
	free(t->eps);
}

static void print_route(const struct cfg_route *r, size_t conns, FILE *out)
{
	struct sg_flow key;

	/* The name the flow map holds for this route, cut exactly as there. */
	sockpair_flow_names(&key, NULL, r->name);
	fprintf(out, "route\t%s\t%s\t%zu\t", r->name, key.route, conns);
	for (size_t i = 0; i < r->n_snis; i++)
		fprintf(out, "%s%s", i ? "," : "", r->snis[i].pattern);
	fputs(r->n_snis ? "\n" : "-\n", out);
}

static void print_endpoint(const struct cfg_route *r, const struct ep_row *e, FILE *out)
{
	bool is_v6 = strchr(e->be->host, ':') != NULL;

	fprintf(out, "endpoint\t%s\t%s%s%s:%u\t%s\t%u\t%zu\n", r->name, is_v6 ? "[" : "",
		e->be->host, is_v6 ? "]" : "", e->be->port, e->addr, e->be->weight, e->conns);
}

int control_top(const struct agent *ag, size_t argc, FILE *out)
{
	const struct config *c = ag->rt->cfg;
	struct top_rows t = {0};

	if (argc != 1) {
		fprintf(out, "usage: top\n");
		return CONTROL_EXIT_USAGE;
	}
	if (rows_build(c, &t)) {
		rows_free(&t);
		fprintf(out, "out of memory\n");
		return CONTROL_EXIT_FAILED;
	}
	rows_count(ag, &t);
	fprintf(out, "%s\nstatus\t%s\t%d\t%llu\t%zu\t%zu\t%zu\t%s\n", CONTROL_TOP_FORMAT,
		SG_VERSION, (int)getpid(),
		(unsigned long long)((loop_now_ms() - ag->start_ms) / 1000), c->n_listeners,
		c->n_routes, (size_t)agent_conns(ag), ag->use_sockmap ? "sockmap" : "splice");
	for (size_t i = 0; i < c->n_routes; i++)
		print_route(&c->routes[i], t.route_conns[i], out);
	for (size_t e = 0; e < t.n_eps; e++)
		print_endpoint(&c->routes[t.eps[e].route], &t.eps[e], out);
	rows_free(&t);
	return CONTROL_EXIT_OK;
}
