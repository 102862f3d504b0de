// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* top_model.c: see top_model.h. A full map holds 131072 flows, so each flow
 * finds its rows through a hash index of join keys, not a scan of the rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "flow_fmt.h"
#include "top_model.h"

const char *top_sort_str(enum top_sort s)
{
	static const char *const names[TOP_SORT_MAX] = {
		[TOP_SORT_RATE] = "rate",
		[TOP_SORT_BYTES] = "bytes",
		[TOP_SORT_AGE] = "age",
	};

	return s < TOP_SORT_MAX ? names[s] : "?";
}

/* Rows with a hash index of their keys: open addressing, slot = row + 1. */
struct rows {
	struct top_agg *v;
	size_t n, cap;
	size_t *slots;
	size_t mask;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Room for cap rows, indexed at most half full so probes stay short. */
static int rows_init(struct rows *r, size_t cap)
{
	size_t n_slots = 16;

	while (n_slots < 2 * cap)
		n_slots *= 2;
	memset(r, 0, sizeof(*r));
	r->v = calloc(cap ? cap : 1, sizeof(*r->v));
	r->slots = calloc(n_slots, sizeof(*r->slots));
	r->cap = cap;
	r->mask = n_slots - 1;
	return r->v && r->slots ? 0 : -ENOMEM;
}

static struct top_agg *rows_find(const struct rows *r, const char *key)
{
	for (size_t i = hash(key) & r->mask; r->slots[i]; i = (i + 1) & r->mask) {
		struct top_agg *row = &r->v[r->slots[i] - 1];

		if (!strcmp(row->key, key))
			return row;
	}
	return NULL;
}

/* Appends a row keyed by key (taken over, freed on failure); NULL on ENOMEM. */
static struct top_agg *rows_add(struct rows *r, char *key)
{
	size_t i;

	if (!key || r->n == r->cap) {
		free(key);
		return NULL;
	}
	for (i = hash(key) & r->mask; r->slots[i]; i = (i + 1) & r->mask)
		;
	r->slots[i] = r->n + 1;
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	r->v[r->n].key = key;
	r->v[r->n].order = r->n;
	return &r->v[r->n++];
}

static char *ep_key(const char *route_key, const char *endpoint)
{
	char *k;

	return asprintf(&k, "%s\t%s", route_key, endpoint) < 0 ? NULL : k;
}

static int add_agent_rows(const struct top_agent *a, struct rows *routes, struct rows *eps)
{
	for (size_t i = 0; i < a->n_route_rows; i++) {
		const struct top_agent_route *ar = &a->routes[i];
		struct top_agg *r = rows_add(routes, strdup(ar->flow_name));

		if (!r)
			return -ENOMEM;
		r->route = ar->name;
		r->snis = ar->snis;
		r->weight = -1;
		r->conns = (long)ar->conns;
	}
	for (size_t i = 0; i < a->n_eps; i++) {
		const struct top_agent_ep *ae = &a->eps[i];
		const char *route_key = ae->route;
		struct top_agg *r;

		/* The endpoint joins flows by the route's name in the flow map. */
		for (size_t j = 0; j < a->n_route_rows; j++) {
			if (!strcmp(a->routes[j].name, ae->route)) {
				route_key = a->routes[j].flow_name;
				break;
			}
		}
		r = rows_add(eps, ep_key(route_key, ae->endpoint));
		if (!r)
			return -ENOMEM;
		r->route = ae->route;
		r->backend = ae->backend;
		r->endpoint = ae->endpoint;
		r->weight = (long)ae->weight;
		r->conns = (long)ae->conns;
	}
	return 0;
}

/* A row for a live flow whose route or endpoint the agent did not list. */
static struct top_agg *add_flow_row(struct rows *rows, char *key, const char *route,
				    const char *endpoint)
{
	struct top_agg *r = rows_add(rows, key);

	if (!r)
		return NULL;
	if (asprintf(&r->owned, "%s%c%s", route, '\0', endpoint ? endpoint : "") < 0) {
		r->owned = NULL;
		return NULL;
	}
	r->route = r->owned;
	r->endpoint = endpoint ? r->owned + strlen(route) + 1 : NULL;
	r->backend = endpoint ? "-" : NULL;
	r->snis = "-";
	r->weight = -1;
	r->conns = -1;
	return r;
}

static void count(struct top_agg *r, const struct flow_rate *rate, bool is_live)
{
	r->n_flows += is_live;
	for (int d = 0; d < FLOW_RATES_DIRS; d++)
		r->delta[d] += rate->delta[d];
}

/* Adds one flow to its route and endpoint rows, making them for a live flow. */
static int join(struct rows *routes, struct rows *eps, const struct flow_row *fr,
		const struct flow_rate *rate, bool is_live)
{
	char route[SG_FLOW_ROUTE_LEN], endpoint[ADDR_STR_MAX], *key;
	struct top_agg *r;

	flow_fmt_name(fr->f.route, sizeof(fr->f.route), route, sizeof(route));
	flow_fmt_endpoint(fr->f.backend_addr, fr->f.backend_port, endpoint, sizeof(endpoint));
	r = rows_find(routes, route);
	if (!r && is_live && !(r = add_flow_row(routes, strdup(route), route, NULL)))
		return -ENOMEM;
	if (r)
		count(r, rate, is_live);
	key = ep_key(route, endpoint);
	if (!key)
		return -ENOMEM;
	r = rows_find(eps, key);
	if (r || !is_live) {
		free(key);
	} else if (!(r = add_flow_row(eps, key, route, endpoint))) {
		return -ENOMEM;
	}
	if (r)
		count(r, rate, is_live);
	return 0;
}

int top_model_build(struct top_model *m, const struct top_agent *a, const struct flow_list *fl,
		    const struct flow_rate *rates, uint64_t elapsed_ns)
{
	size_t n_agent_routes = a->is_up ? a->n_route_rows : 0,
	       n_agent_eps = a->is_up ? a->n_eps : 0;
	struct rows routes = {0}, eps = {0};
	int err;

	memset(m, 0, sizeof(*m));
	m->elapsed_ns = elapsed_ns;
	m->flows = calloc(fl->n ? fl->n : 1, sizeof(*m->flows));
	err = rows_init(&routes, n_agent_routes + fl->n);
	if (!err)
		err = rows_init(&eps, n_agent_eps + fl->n);
	if (!err && a->is_up)
		err = add_agent_rows(a, &routes, &eps);
	if (!m->flows)
		err = -ENOMEM;
	for (size_t i = 0; i < fl->n && !err; i++) {
		const struct flow_row *fr = &fl->rows[i];
		bool is_live = fr->f.state != SG_FLOW_CLOSED;

		for (int d = 0; d < FLOW_RATES_DIRS; d++)
			m->delta_total[d] += rates[i].delta[d];
		if (!is_live) {
			m->n_closed++;
			/* Its last interval still counts where it ran. */
			if (rates[i].delta[0] || rates[i].delta[1])
				err = join(&routes, &eps, fr, &rates[i], false);
			continue;
		}
		m->flows[m->n_flows].row = fr;
		m->flows[m->n_flows++].rate = &rates[i];
		err = join(&routes, &eps, fr, &rates[i], true);
	}
	/* The rows now belong to m, so one fini frees them on every path. */
	m->routes = routes.v;
	m->n_routes = routes.n;
	m->eps = eps.v;
	m->n_eps = eps.n;
	free(routes.slots);
	free(eps.slots);
	if (err)
		top_model_fini(m);
	return err;
}

static uint64_t sum(const uint64_t v[FLOW_RATES_DIRS])
{
	return v[0] + v[1];
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b;
}

static int flow_cmp(const void *x, const void *y, void *arg)
{
	const struct top_flow *a = x, *b = y;
	const struct sg_flow *fa = &a->row->f, *fb = &b->row->f;
	enum top_sort sort = *(const enum top_sort *)arg;
	int c = 0;

	if (sort == TOP_SORT_RATE)
		c = cmp_u64_desc(sum(a->rate->per_s), sum(b->rate->per_s));
	else if (sort == TOP_SORT_AGE)
		c = -cmp_u64_desc(fa->start_ns, fb->start_ns);
	if (!c)
		c = cmp_u64_desc(flow_total_bytes(fa), flow_total_bytes(fb));
	if (!c)
		c = a->row->id < b->row->id ? -1 : a->row->id > b->row->id;
	return c;
}

static int agg_cmp(const void *x, const void *y)
{
	const struct top_agg *a = x, *b = y;
	int c = cmp_u64_desc(sum(a->delta), sum(b->delta));

	return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

void top_model_sort(struct top_model *m, enum top_sort sort)
{
	if (m->n_flows)
		qsort_r(m->flows, m->n_flows, sizeof(*m->flows), flow_cmp, &sort);
	if (m->n_routes)
		qsort(m->routes, m->n_routes, sizeof(*m->routes), agg_cmp);
	if (m->n_eps)
		qsort(m->eps, m->n_eps, sizeof(*m->eps), agg_cmp);
}

static void free_rows(struct top_agg *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].owned);
	}
	free(v);
}

void top_model_fini(struct top_model *m)
{
	free_rows(m->routes, m->n_routes);
	free_rows(m->eps, m->n_eps);
	free(m->flows);
	memset(m, 0, sizeof(*m));
}
