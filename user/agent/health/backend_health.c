// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* backend_health.c: see backend_health.h. Two bounded series tables: (route,
 * address) -> struct endpoint_health, and name -> drained flag (a table never
 * forgets a key; undraining clears the flag). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "backend_health.h"
#include "series.h"

struct backend_health {
	struct series_table *health;
	struct series_table *drained;
};

struct backend_health *backend_health_new(void)
{
	struct backend_health *bh = calloc(1, sizeof(*bh));

	if (!bh)
		return NULL;
	bh->health = series_table_new(2, sizeof(struct endpoint_health), BACKEND_HEALTH_MAX);
	bh->drained = series_table_new(1, sizeof(bool), BACKEND_DRAIN_MAX);
	if (!bh->health || !bh->drained) {
		backend_health_free(bh);
		return NULL;
	}
	return bh;
}

void backend_health_free(struct backend_health *bh)
{
	if (!bh)
		return;
	series_table_free(bh->health);
	series_table_free(bh->drained);
	free(bh);
}

struct endpoint_health *backend_health_get(struct backend_health *bh, const char *route,
					   const char *addr)
{
	const char *key[2] = {route, addr};

	return series_table_get(bh->health, key);
}

const struct endpoint_health *backend_health_find(const struct backend_health *bh,
						  const char *route, const char *addr)
{
	const char *key[2] = {route, addr};

	return series_table_find(bh->health, key);
}

void backend_name(const struct cfg_backend *b, char *buf, size_t size)
{
	bool is_v6 = strchr(b->host, ':') != NULL;

	snprintf(buf, size, "%s%s%s:%u", is_v6 ? "[" : "", b->host, is_v6 ? "]" : "", b->port);
}

int backend_health_drain(struct backend_health *bh, const char *name, bool is_drained)
{
	bool *flag;

	if (!is_drained) {
		flag = series_table_find(bh->drained, &name);
		if (!flag || !*flag)
			return -ENOENT;
		*flag = false;
		return 0;
	}
	flag = series_table_get(bh->drained, &name);
	if (!flag || series_table_find(bh->drained, &name) != flag)
		return -ENOMEM; /* the table is full: a shared slot would drain others */
	*flag = true;
	return 0;
}

static bool is_drained(const struct backend_health *bh, const char *name)
{
	const bool *flag = series_table_find(bh->drained, &name);

	return flag && *flag;
}

bool backend_health_is_drained(const struct backend_health *bh, const struct cfg_backend *b,
			       const char *addr)
{
	char name[BACKEND_NAME_MAX];

	if (is_drained(bh, addr))
		return true;
	backend_name(b, name, sizeof(name));
	return is_drained(bh, name);
}

bool backend_health_names_backend(const struct config *c, const char *name)
{
	char buf[BACKEND_NAME_MAX];

	for (size_t r = 0; r < c->n_routes; r++) {
		const struct cfg_route *rt = &c->routes[r];

		for (size_t b = 0; b < rt->n_backends; b++) {
			const struct cfg_backend *be = &rt->backends[b];

			backend_name(be, buf, sizeof(buf));
			if (!strcmp(buf, name))
				return true;
			for (size_t e = 0; e < be->n_endpoints; e++) {
				if (!be->endpoints[e].is_resolved)
					continue;
				addr_format(&be->endpoints[e].addr, buf, sizeof(buf));
				if (!strcmp(buf, name))
					return true;
			}
		}
	}
	return false;
}

size_t backend_health_ejected(const struct backend_health *bh, const struct cfg_route *r,
			      uint64_t now_ms)
{
	char addr[ADDR_STR_MAX];
	size_t n = 0;

	for (size_t b = 0; b < r->n_backends; b++) {
		for (size_t e = 0; e < r->backends[b].n_endpoints; e++) {
			const struct cfg_endpoint *ep = &r->backends[b].endpoints[e];
			const struct endpoint_health *h;

			if (!ep->is_resolved)
				continue;
			addr_format(&ep->addr, addr, sizeof(addr));
			h = backend_health_find(bh, r->name, addr);
			n += h && eh_is_ejected(h, now_ms);
		}
	}
	return n;
}

size_t backend_health_count(const struct backend_health *bh)
{
	return series_table_count(bh->health);
}

const struct endpoint_health *backend_health_at(const struct backend_health *bh, size_t i,
						const char **route, const char **addr)
{
	const char *const *key;
	const struct endpoint_health *h = series_table_at(bh->health, i, &key);

	*route = key[0];
	*addr = key[1];
	return h;
}

size_t backend_health_drained_count(const struct backend_health *bh)
{
	return series_table_count(bh->drained);
}

const char *backend_health_drained_at(const struct backend_health *bh, size_t i)
{
	const char *const *key;
	const bool *flag = series_table_at(bh->drained, i, &key);

	return *flag && strcmp(key[0], SERIES_OTHER) ? key[0] : NULL;
}
