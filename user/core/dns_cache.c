// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* dns_cache.c: see dns_cache.h. Entries live in one array sorted by name, so
 * a configuration with many endpoints finds each name by binary search. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_cache.h"

struct dns_cache {
	struct dns_entry *v;
	size_t n, cap;
};

static int addr_cmp(const void *pa, const void *pb)
{
	const struct dns_addr *a = pa, *b = pb;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(&a->sa, &b->sa, a->len);
}

size_t dns_addrs_normalize(struct dns_addr *v, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), addr_cmp);
	for (size_t i = 1; i < n; i++) {
		if (addr_cmp(&v[k], &v[i]))
			v[++k] = v[i];
	}
	return k + 1;
}

bool dns_addrs_equal(const struct dns_addr *a, size_t na, const struct dns_addr *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (addr_cmp(&a[i], &b[i]))
			return false;
	}
	return true;
}

char *dns_addrs_format(const struct dns_addr *v, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	snprintf(buf, len, "%s", n ? "" : "none");
	for (size_t i = 0; i < n && used + 1 < len; i++) {
		char ip[INET6_ADDRSTRLEN] = "?";
		const void *raw =
			v[i].sa.ss_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)&v[i].sa)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)&v[i].sa)->sin6_addr;
		int w;

		inet_ntop(v[i].sa.ss_family, raw, ip, sizeof(ip));
		w = snprintf(buf + used, len - used, "%s%s", i ? "," : "", ip);
		used += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

bool dns_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct dns_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *d = (struct sockaddr_in *)&out->sa;

		d->sin_family = AF_INET;
		d->sin_addr = ((const struct sockaddr_in *)sa)->sin_addr;
		out->len = sizeof(*d);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->sa;

		d->sin6_family = AF_INET6;
		d->sin6_addr = s->sin6_addr;
		d->sin6_scope_id = s->sin6_scope_id;
		out->len = sizeof(*d);
		return true;
	}
	return false;
}

struct dns_cache *dns_cache_new(void)
{
	return calloc(1, sizeof(struct dns_cache));
}

static void entry_fini(struct dns_entry *e)
{
	free(e->name);
	free(e->addrs);
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_fini(&c->v[i]);
	free(c->v);
	free(c);
}

/* The index of name, or where it would go (*found false). */
static size_t search(const struct dns_cache *c, const char *name, bool *found)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->v[mid].name, name);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct dns_entry *dns_cache_find(const struct dns_cache *c, const char *name)
{
	bool found;
	size_t i = search(c, name, &found);

	return found ? &c->v[i] : NULL;
}

static struct dns_entry *find_or_add(struct dns_cache *c, const char *name)
{
	bool found;
	size_t i = search(c, name, &found);
	char *copy;

	if (found)
		return &c->v[i];
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		struct dns_entry *grown = realloc(c->v, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		c->v = grown;
		c->cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return NULL;
	memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof(*c->v));
	c->n++;
	memset(&c->v[i], 0, sizeof(c->v[i]));
	c->v[i].name = copy;
	return &c->v[i];
}

int dns_cache_update(struct dns_cache *c, const char *name, const struct dns_addr *addrs, size_t n,
		     const char *why, enum dns_update *out)
{
	struct dns_addr *copy = NULL;
	struct dns_entry *e;
	bool was_failing;

	if (!why) {
		copy = malloc((n ? n : 1) * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, addrs, n * sizeof(*copy));
		n = dns_addrs_normalize(copy, n);
	}
	e = find_or_add(c, name);
	if (!e) {
		free(copy);
		return -ENOMEM;
	}
	was_failing = e->is_failing;
	if (why || n == 0) {
		free(copy);
		e->is_failing = true;
		snprintf(e->why, sizeof(e->why), "%s", why ? why : "no address");
		*out = DNS_UPDATE_FAILED;
		return 0;
	}
	e->is_failing = false;
	e->why[0] = '\0';
	if (e->has_answer && dns_addrs_equal(e->addrs, e->n_addrs, copy, n)) {
		free(copy);
		*out = was_failing ? DNS_UPDATE_RECOVERED : DNS_UPDATE_SAME;
		return 0;
	}
	free(e->addrs);
	e->addrs = copy;
	e->n_addrs = n;
	e->has_answer = true;
	*out = DNS_UPDATE_CHANGED;
	return 0;
}

/* Appends the addresses of host's resolved endpoints in cfg to *v. */
static int collect(const struct config *cfg, const char *host, struct dns_addr **v, size_t *n)
{
	for (size_t r = 0; r < cfg->n_routes; r++) {
		for (size_t b = 0; b < cfg->routes[r].n_backends; b++) {
			const struct cfg_backend *be = &cfg->routes[r].backends[b];

			for (size_t e = 0; e < be->n_endpoints; e++) {
				const struct cfg_endpoint *ep = &be->endpoints[e];
				struct dns_addr *grown;

				if (!ep->is_resolved || !ep->host || strcmp(ep->host, host))
					continue;
				grown = realloc(*v, (*n + 1) * sizeof(**v));
				if (!grown)
					return -ENOMEM;
				*v = grown;
				*n += dns_addr_from_sockaddr((const struct sockaddr *)&ep->addr,
							     ep->addr_len, &grown[*n]);
			}
		}
	}
	return 0;
}

int dns_cache_seed(struct dns_cache *c, const struct config *cfg)
{
	const char **names;
	size_t n_names;
	int err = config_hostnames(cfg, &names, &n_names);

	for (size_t i = 0; !err && i < n_names; i++) {
		struct dns_addr *v = NULL;
		size_t n = 0;
		enum dns_update u;

		err = collect(cfg, names[i], &v, &n);
		if (!err && n)
			err = dns_cache_update(c, names[i], v, n, NULL, &u);
		free(v);
	}
	free(names);
	return err;
}

static bool is_listed(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(names[i], name))
			return true;
	}
	return false;
}

void dns_cache_retain(struct dns_cache *c, const char *const *names, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (is_listed(c->v[i].name, names, n))
			c->v[k++] = c->v[i];
		else
			entry_fini(&c->v[i]);
	}
	c->n = k;
}

size_t dns_cache_count(const struct dns_cache *c)
{
	return c->n;
}

const struct dns_entry *dns_cache_at(const struct dns_cache *c, size_t i)
{
	return &c->v[i];
}

static enum cfg_lookup_result cache_lookup(void *arg, const char *host,
					   const struct dns_addr **addrs, size_t *n,
					   const char **why)
{
	const struct dns_entry *e = dns_cache_find(arg, host);

	if (!e)
		return CFG_LOOKUP_PENDING;
	if (!e->has_answer) {
		*why = e->why;
		return CFG_LOOKUP_FAILED;
	}
	*addrs = e->addrs;
	*n = e->n_addrs;
	return CFG_LOOKUP_OK;
}

void dns_cache_lookup(const struct dns_cache *c, struct cfg_lookup *out)
{
	out->lookup = cache_lookup;
	out->arg = (void *)c;
}
