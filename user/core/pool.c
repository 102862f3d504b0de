// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pool.c: smooth weighted round robin. A backend takes part in a pick only if
 * it still has an untried resolved endpoint, so retries spread over the other
 * backends in the same weighted order. */
#include <stdlib.h>

#include "pool.h"

struct pool *pool_new(const struct cfg_route *route)
{
	struct pool *p = calloc(1, sizeof(*p));
	size_t n = route->n_backends ? route->n_backends : 1;

	if (!p)
		return NULL;
	p->route = route;
	p->current = calloc(n, sizeof(*p->current));
	p->next_endpoint = calloc(n, sizeof(*p->next_endpoint));
	if (!p->current || !p->next_endpoint) {
		pool_free(p);
		return NULL;
	}
	return p;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	free(p->current);
	free(p->next_endpoint);
	free(p);
}

static bool was_tried(const struct pool_choice *tried, size_t n_tried, uint32_t b, uint32_t e)
{
	for (size_t i = 0; i < n_tried; i++) {
		if (tried[i].backend == b && tried[i].endpoint == e)
			return true;
	}
	return false;
}

/* The first usable endpoint of backend b in rotation order, or -1. */
static int64_t usable_endpoint(const struct pool *p, uint32_t b, const struct pool_choice *tried,
			       size_t n_tried)
{
	const struct cfg_backend *be = &p->route->backends[b];

	for (size_t k = 0; k < be->n_endpoints; k++) {
		uint32_t e = (uint32_t)((p->next_endpoint[b] + k) % be->n_endpoints);

		if (be->endpoints[e].is_resolved && !was_tried(tried, n_tried, b, e))
			return e;
	}
	return -1;
}

bool pool_pick(struct pool *p, const struct pool_choice *tried, size_t n_tried,
	       struct pool_choice *out)
{
	const struct cfg_route *rt = p->route;
	int64_t total = 0, best_ep = -1;
	size_t best = 0;

	for (size_t b = 0; b < rt->n_backends; b++) {
		int64_t ep;

		if (rt->backends[b].weight == 0)
			continue;
		ep = usable_endpoint(p, (uint32_t)b, tried, n_tried);
		if (ep < 0)
			continue;
		p->current[b] += rt->backends[b].weight;
		total += rt->backends[b].weight;
		if (best_ep < 0 || p->current[b] > p->current[best]) {
			best = b;
			best_ep = ep;
		}
	}
	if (best_ep < 0)
		return false;
	p->current[best] -= total;
	p->next_endpoint[best] = (uint32_t)((best_ep + 1) % rt->backends[best].n_endpoints);
	out->backend = (uint32_t)best;
	out->endpoint = (uint32_t)best_ep;
	return true;
}
