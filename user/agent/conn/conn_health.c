// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_health.c: what a new connection asks of backend health (is an
 * endpoint usable now?) and tells it (did the connect work?), and the
 * route and endpoint connection limits. */
#include "addr.h"
#include "agent_state.h"
#include "backend_health.h"
#include "conn_internal.h"
#include "endpoint_load.h"
#include "log.h"
#include "loop.h"

static const struct cfg_route *route_of(const struct conn *c)
{
	return &c->rt->cfg->routes[c->route];
}

static bool is_healthy(const struct cfg_route *r, const struct endpoint_health *h, uint64_t now)
{
	return !h ||
	       !((r->health_check.type != CFG_CHECK_NONE && h->is_down) || eh_is_ejected(h, now));
}

/* Drained endpoints count for neither side: a drain is the operator's word,
 * not a health verdict, and panic never undoes it. */
bool conn_route_in_panic(struct conn *c)
{
	const struct cfg_route *r = route_of(c);
	struct agent *ag = c->ag;
	uint64_t now = loop_now_ms(), *was;
	size_t n_healthy = 0, n_endpoints = 0;
	char addr[ADDR_STR_MAX];
	bool panic;

	if (!r->min_health_percent)
		return false;
	for (size_t b = 0; b < r->n_backends; b++) {
		const struct cfg_backend *be = &r->backends[b];

		for (size_t e = 0; e < be->n_endpoints; e++) {
			if (!be->endpoints[e].is_resolved)
				continue;
			addr_format(&be->endpoints[e].addr, addr, sizeof(addr));
			if (backend_health_is_drained(ag->backend_health, be, addr))
				continue;
			n_endpoints++;
			if (is_healthy(r, backend_health_find(ag->backend_health, r->name, addr),
				       now))
				n_healthy++;
		}
	}
	panic = eh_in_panic(n_healthy, n_endpoints, r->min_health_percent);
	was = endpoint_load_slot(ag->route_panic, r->name);
	if (was && *was != panic) {
		*was = panic;
		if (panic)
			log_warn("route %s: %zu of %zu endpoints healthy, under min_health_percent "
				 "%u: balancing over all of them (panic)",
				 r->name, n_healthy, n_endpoints, r->min_health_percent);
		else
			log_info("route %s: %zu of %zu endpoints healthy: panic over", r->name,
				 n_healthy, n_endpoints);
	}
	return panic;
}

bool conn_endpoint_usable(void *arg, uint32_t b, uint32_t e)
{
	struct conn *c = arg;
	const struct cfg_route *r = route_of(c);
	const struct cfg_backend *be = &r->backends[b];
	struct agent *ag = c->ag;
	const struct endpoint_health *h;
	char addr[ADDR_STR_MAX];

	addr_format(&be->endpoints[e].addr, addr, sizeof(addr));
	if (backend_health_is_drained(ag->backend_health, be, addr))
		return false;
	h = backend_health_find(ag->backend_health, r->name, addr);
	if (!c->in_panic && !is_healthy(r, h, loop_now_ms()))
		return false;
	if (be->max_connections &&
	    endpoint_load_get(ag->endpoint_load, addr) >= be->max_connections) {
		c->n_full_skips++;
		return false;
	}
	return true;
}

void conn_health_connect_result(struct conn *c, bool ok)
{
	const struct cfg_route *r = route_of(c);
	struct agent *ag = c->ag;
	struct endpoint_health *h;
	uint64_t now = loop_now_ms();
	bool may_eject;

	if (!r->outlier.consecutive_errors && ok)
		return; /* nothing to reset or count */
	h = backend_health_get(ag->backend_health, r->name, c->backend_str);
	if (!h)
		return;
	may_eject = !ok && r->outlier.consecutive_errors &&
		    backend_health_ejected(ag->backend_health, r, now) <
			    eh_max_ejected(&r->outlier, cfg_route_n_resolved(r));
	if (eh_connect_result(h, &r->outlier, ok, may_eject, now))
		log_warn("route %s: endpoint %s ejected for %llu ms after %u connect failures in "
			 "a row (ejection %u)",
			 r->name, c->backend_str, (unsigned long long)(h->ejected_until_ms - now),
			 r->outlier.consecutive_errors, h->n_ejections);
}

bool conn_admit_to_route(struct conn *c)
{
	const struct cfg_route *r = route_of(c);
	uint64_t *n = endpoint_load_slot(c->ag->route_load, r->name);

	if (r->max_connections && n && *n >= r->max_connections)
		return false;
	c->route_active = n;
	if (n)
		(*n)++;
	return true;
}
