// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_resolve.c: endpoint host names into addresses, from whatever a
 * struct cfg_lookup knows: the system resolver when the agent starts
 * (config_resolve(), dns_lookup.c), the agent's cache of its resolver
 * thread's answers afterwards. Pure: the lookups are the caller's. A name
 * without addresses is a warning, not an error: its endpoint stays, unresolved,
 * and is retried. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"
#include "dns_cache.h"

static void free_endpoints(struct cfg_endpoint *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].host);
	free(v);
}

/* Appends a copy of *e (host duplicated) to *out. */
static int push(struct cfg_endpoint **out, size_t *n, const struct cfg_endpoint *e)
{
	struct cfg_endpoint *grown = realloc(*out, (*n + 1) * sizeof(**out));

	if (!grown)
		return -ENOMEM;
	*out = grown;
	grown[*n] = *e;
	if (e->host && !(grown[*n].host = strdup(e->host)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Whether endpoint i's (host, port) came earlier in b: a resolved model has
 * one endpoint per address of a name, all to be replaced at once. */
static bool is_repeat(const struct cfg_backend *b, size_t i)
{
	const struct cfg_endpoint *ep = &b->endpoints[i];

	for (size_t k = 0; k < i; k++) {
		const struct cfg_endpoint *o = &b->endpoints[k];

		if (o->host && o->port == ep->port && !strcmp(o->host, ep->host))
			return true;
	}
	return false;
}

static int push_addrs(struct cfg_endpoint **out, size_t *n, const struct cfg_endpoint *ep,
		      const struct dns_addr *addrs, size_t n_addrs)
{
	int err = 0;

	for (size_t a = 0; a < n_addrs && !err; a++) {
		struct cfg_endpoint e = {.host = ep->host, .port = ep->port, .is_resolved = true};

		memcpy(&e.addr, &addrs[a].sa, addrs[a].len);
		e.addr_len = addrs[a].len;
		if (e.addr.ss_family == AF_INET)
			((struct sockaddr_in *)&e.addr)->sin_port = htons(ep->port);
		else
			((struct sockaddr_in6 *)&e.addr)->sin6_port = htons(ep->port);
		err = push(out, n, &e);
	}
	return err;
}

static int resolve_backend(struct cfg_backend *b, const struct cfg_lookup *lk, size_t max_addrs,
			   struct cfg_diags *d)
{
	struct cfg_endpoint *out = NULL;
	size_t n = 0;
	int err = 0;

	for (size_t i = 0; i < b->n_endpoints && !err; i++) {
		const struct cfg_endpoint *ep = &b->endpoints[i];
		struct cfg_endpoint unresolved = {.host = ep->host, .port = ep->port};
		const struct dns_addr *addrs = NULL;
		const char *why = "?";
		size_t n_addrs = 0;

		if (!ep->host) {
			err = push(&out, &n, ep);
			continue;
		}
		if (is_repeat(b, i))
			continue;
		switch (lk->lookup(lk->arg, ep->host, &addrs, &n_addrs, &why)) {
		case CFG_LOOKUP_OK:
			/* The lookups normalise (sort) their answers, so the
			 * same answer always keeps the same addresses. */
			if (n_addrs > max_addrs)
				cfg_diag_src(d, &b->src, true, &err,
					     "\"%s\" has %zu addresses: using the first %zu "
					     "(max_addresses_per_name)",
					     ep->host, n_addrs, max_addrs);
			if (!err)
				err = push_addrs(&out, &n, ep, addrs,
						 n_addrs > max_addrs ? max_addrs : n_addrs);
			break;
		case CFG_LOOKUP_FAILED:
			cfg_diag_src(d, &b->src, true, &err,
				     "cannot resolve \"%s\": %s; endpoint left unresolved, retried "
				     "later",
				     ep->host, why);
			err = err ? err : push(&out, &n, &unresolved);
			break;
		case CFG_LOOKUP_PENDING:
			err = push(&out, &n, &unresolved);
			break;
		default:
			err = -ENOMEM;
		}
	}
	if (err) {
		free_endpoints(out, n);
		return err;
	}
	free_endpoints(b->endpoints, b->n_endpoints);
	b->endpoints = out;
	b->n_endpoints = n;
	return 0;
}

int config_resolve_with(struct config *c, const struct cfg_lookup *lk, struct cfg_diags *diags)
{
	struct cfg_diags local = {0}, *d = diags ? diags : &local;
	size_t first = d->n;
	int err = 0;

	/* 0 only in a model built by hand (tests): no cap. */
	size_t max = c->max_addresses_per_name ? c->max_addresses_per_name : SIZE_MAX;

	for (size_t r = 0; r < c->n_routes && !err; r++) {
		for (size_t b = 0; b < c->routes[r].n_backends && !err; b++)
			err = resolve_backend(&c->routes[r].backends[b], lk, max, d);
	}
	cfg_diags_sort(d, first);
	cfg_diags_free(&local);
	return err;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int config_hostnames(const struct config *c, const char ***names, size_t *n)
{
	const char **v = NULL;
	size_t k = 0;

	*names = NULL;
	*n = 0;
	for (size_t r = 0; r < c->n_routes; r++) {
		for (size_t b = 0; b < c->routes[r].n_backends; b++) {
			const struct cfg_backend *be = &c->routes[r].backends[b];

			for (size_t e = 0; e < be->n_endpoints; e++) {
				const char **grown;

				if (!be->endpoints[e].host)
					continue;
				grown = realloc(v, (k + 1) * sizeof(*v));
				if (!grown) {
					free(v);
					return -ENOMEM;
				}
				v = grown;
				v[k++] = be->endpoints[e].host;
			}
		}
	}
	if (k)
		qsort(v, k, sizeof(*v), str_cmp);
	for (size_t i = 0, w = 0; i < k; i++) {
		if (w == 0 || strcmp(v[w - 1], v[i]))
			v[w++] = v[i];
		if (i + 1 == k)
			*n = w;
	}
	*names = v;
	return 0;
}
