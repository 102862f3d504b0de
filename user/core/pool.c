// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pool.c: see pool.h. An endpoint takes part in a pick only if it is
 * resolved, untried, of a backend with weight > 0 and usable by the hint
 * (health, drain, limits), so retries spread over the rest by the same
 * algorithm. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "pool.h"

static bool was_tried(const struct pool_choice *tried, size_t n_tried, uint32_t b, uint32_t e)
{
	for (size_t i = 0; i < n_tried; i++) {
		if (tried[i].backend == b && tried[i].endpoint == e)
			return true;
	}
	return false;
}

static bool usable(const struct pool *p, const struct pool_hint *h, uint32_t b, uint32_t e,
		   const struct pool_choice *tried, size_t n_tried)
{
	const struct cfg_backend *be = &p->route->backends[b];

	return be->weight > 0 && e < be->n_endpoints && be->endpoints[e].is_resolved &&
	       !was_tried(tried, n_tried, b, e) && (!h || !h->usable || h->usable(h->arg, b, e));
}

/* Maglev members are endpoints, named by address (or host) and port, each
 * with its backend's weight shared among the backend's endpoints. 0, -ENOMEM
 * or maglev_build()'s -EINVAL. */
static int build_maglev(struct pool *p)
{
	const struct cfg_route *rt = p->route;
	struct maglev_member *members;
	size_t n = 0, k = 0;
	int err;

	for (size_t b = 0; b < rt->n_backends; b++)
		n += rt->backends[b].n_endpoints;
	p->flat = calloc(n ? n : 1, sizeof(*p->flat));
	p->names = calloc(n ? n : 1, sizeof(*p->names));
	members = calloc(n ? n : 1, sizeof(*members));
	if (!p->flat || !p->names || !members) {
		free(members);
		return -ENOMEM;
	}
	for (size_t b = 0; b < rt->n_backends; b++) {
		const struct cfg_backend *be = &rt->backends[b];

		for (size_t e = 0; e < be->n_endpoints; e++, k++) {
			const struct cfg_endpoint *ep = &be->endpoints[e];
			char addr[ADDR_STR_MAX];

			if (ep->is_resolved)
				addr_format(&ep->addr, addr, sizeof(addr));
			else
				snprintf(addr, sizeof(addr), "%.40s:%u", ep->host ? ep->host : "?",
					 ep->port);
			p->names[k] = strdup(addr);
			if (!p->names[k]) {
				p->n_flat = k;
				free(members);
				return -ENOMEM;
			}
			p->flat[k] = (struct pool_choice){(uint32_t)b, (uint32_t)e};
			/* 1000 units split among the endpoints keeps shares per backend. */
			members[k] = (struct maglev_member){
				p->names[k], be->weight * (1000 / (uint32_t)be->n_endpoints)};
		}
	}
	p->n_flat = k;
	err = maglev_build(&p->maglev, members, k);
	free(members);
	return err;
}

struct pool *pool_new(const struct cfg_route *route, uint64_t seed)
{
	struct pool *p = calloc(1, sizeof(*p));
	size_t n = route->n_backends ? route->n_backends : 1;

	if (!p)
		return NULL;
	p->route = route;
	p->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	p->current = calloc(n, sizeof(*p->current));
	p->next_endpoint = calloc(n, sizeof(*p->next_endpoint));
	if (!p->current || !p->next_endpoint ||
	    (route->balance == CFG_BALANCE_MAGLEV && build_maglev(p))) {
		pool_free(p);
		return NULL;
	}
	return p;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	maglev_free(&p->maglev);
	for (size_t i = 0; i < p->n_flat; i++)
		free(p->names[i]);
	free(p->names);
	free(p->flat);
	free(p->current);
	free(p->next_endpoint);
	free(p);
}

/* The first usable endpoint of backend b in rotation order, or -1. */
static int64_t usable_endpoint(const struct pool *p, const struct pool_hint *h, uint32_t b,
			       const struct pool_choice *tried, size_t n_tried)
{
	const struct cfg_backend *be = &p->route->backends[b];

	for (size_t k = 0; k < be->n_endpoints; k++) {
		uint32_t e = (uint32_t)((p->next_endpoint[b] + k) % be->n_endpoints);

		if (usable(p, h, b, e, tried, n_tried))
			return e;
	}
	return -1;
}

static bool pick_round_robin(struct pool *p, const struct pool_hint *h,
			     const struct pool_choice *tried, size_t n_tried,
			     struct pool_choice *out)
{
	const struct cfg_route *rt = p->route;
	int64_t total = 0, best_ep = -1;
	size_t best = 0;

	for (size_t b = 0; b < rt->n_backends; b++) {
		int64_t ep;

		if (rt->backends[b].weight == 0)
			continue;
		ep = usable_endpoint(p, h, (uint32_t)b, tried, n_tried);
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

static uint32_t active_of(const struct pool_hint *h, uint32_t b, uint32_t e)
{
	return h && h->active ? h->active(h->arg, b, e) : 0;
}

/* Is x's load (active / weight) below y's? Cross-multiplied: no division. */
static bool lighter(const struct pool *p, const struct pool_hint *h, struct pool_choice x,
		    struct pool_choice y)
{
	uint64_t ax = active_of(h, x.backend, x.endpoint), ay = active_of(h, y.backend, y.endpoint);

	return ax * p->route->backends[y.backend].weight <
	       ay * p->route->backends[x.backend].weight;
}

static bool pick_least_conn(struct pool *p, const struct pool_hint *h,
			    const struct pool_choice *tried, size_t n_tried,
			    struct pool_choice *out)
{
	const struct cfg_route *rt = p->route;
	size_t n_backends = rt->n_backends;
	bool found = false;

	/* Visit in round-robin order from the rotation point, so equal loads
	 * take turns instead of piling onto the first endpoint listed. */
	for (size_t i = 0; i < n_backends; i++) {
		uint32_t b = (uint32_t)((p->rotation + i) % n_backends);
		const struct cfg_backend *be = &rt->backends[b];

		for (size_t k = 0; k < be->n_endpoints; k++) {
			uint32_t e = (uint32_t)((p->next_endpoint[b] + k) % be->n_endpoints);
			struct pool_choice c = {b, e};

			if (!usable(p, h, b, e, tried, n_tried))
				continue;
			if (!found || lighter(p, h, c, *out)) {
				*out = c;
				found = true;
			}
		}
	}
	if (found) {
		p->rotation = (p->rotation + 1) % n_backends;
		p->next_endpoint[out->backend] =
			(out->endpoint + 1) % (uint32_t)rt->backends[out->backend].n_endpoints;
	}
	return found;
}

static uint64_t next_random(struct pool *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return p->rng * 0x2545f4914f6cdd1dull;
}

/* One usable endpoint drawn with probability proportional to its share of
 * its backend's weight; false when none is usable. */
static bool draw(struct pool *p, const struct pool_hint *h, const struct pool_choice *tried,
		 size_t n_tried, struct pool_choice *out)
{
	const struct cfg_route *rt = p->route;
	uint64_t total = 0, r;

	/* An endpoint weighs its backend's weight / its n_endpoints; 720720 is
	 * divisible by 1..16, so those shares stay exact integers. */
	for (uint32_t b = 0; b < rt->n_backends; b++) {
		for (uint32_t e = 0; e < rt->backends[b].n_endpoints; e++) {
			if (usable(p, h, b, e, tried, n_tried))
				total += (uint64_t)rt->backends[b].weight * 720720u /
					 rt->backends[b].n_endpoints;
		}
	}
	if (!total)
		return false;
	r = next_random(p) % total;
	for (uint32_t b = 0; b < rt->n_backends; b++) {
		for (uint32_t e = 0; e < rt->backends[b].n_endpoints; e++) {
			uint64_t w;

			if (!usable(p, h, b, e, tried, n_tried))
				continue;
			w = (uint64_t)rt->backends[b].weight * 720720u /
			    rt->backends[b].n_endpoints;
			if (r < w) {
				*out = (struct pool_choice){b, e};
				return true;
			}
			r -= w;
		}
	}
	return false;
}

static bool pick_random2(struct pool *p, const struct pool_hint *h, const struct pool_choice *tried,
			 size_t n_tried, struct pool_choice *out)
{
	struct pool_choice a, b;

	if (!draw(p, h, tried, n_tried, &a))
		return false;
	if (!draw(p, h, tried, n_tried, &b) || !lighter(p, h, b, a))
		b = a;
	*out = b;
	return true;
}

static bool pick_maglev(struct pool *p, const struct pool_hint *h, const struct pool_choice *tried,
			size_t n_tried, struct pool_choice *out)
{
	uint64_t key = h ? h->key : 0;

	/* Walking on from the key's slot keeps a retry, or the choice while the
	 * preferred endpoint is unusable, consistent for the same client. */
	for (size_t k = 0; k < MAGLEV_TABLE_SIZE; k++) {
		uint32_t m = maglev_lookup_nth(&p->maglev, key, k);

		if (m == UINT32_MAX)
			return false;
		if (usable(p, h, p->flat[m].backend, p->flat[m].endpoint, tried, n_tried)) {
			*out = p->flat[m];
			return true;
		}
	}
	return false;
}

bool pool_pick(struct pool *p, const struct pool_hint *hint, const struct pool_choice *tried,
	       size_t n_tried, struct pool_choice *out)
{
	switch (p->route->balance) {
	case CFG_BALANCE_LEAST_CONN:
		return pick_least_conn(p, hint, tried, n_tried, out);
	case CFG_BALANCE_RANDOM2:
		return pick_random2(p, hint, tried, n_tried, out);
	case CFG_BALANCE_MAGLEV:
		return pick_maglev(p, hint, tried, n_tried, out);
	default:
		return pick_round_robin(p, hint, tried, n_tried, out);
	}
}
