// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_clone.c: config_clone(), a deep copy, so that a configuration can be
 * rebuilt (new endpoint addresses) without reading its files again while the
 * running one stays untouched. Member by member: strings and arrays are
 * duplicated, and cfg_src.file points into the copy's own files[]. A member
 * added to the model with memory of its own must be copied here too. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"

struct cloner {
	struct config *dst;
	bool has_failed; /* an allocation failed: the copy is freed, not returned */
};

static char *dup_str(struct cloner *k, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	k->has_failed |= !d;
	return d;
}

/* A copy of the array v[0..n) of elements of size bytes; NULL when n is 0. */
static void *dup_array(struct cloner *k, const void *v, size_t n, size_t size)
{
	void *d;

	if (!v || !n)
		return NULL;
	d = calloc(n, size);
	if (!d) {
		k->has_failed = true;
		return NULL;
	}
	return memcpy(d, v, n * size);
}

static void copy_src(struct cloner *k, struct cfg_src *d, const struct cfg_src *s)
{
	*d = *s;
	d->path = dup_str(k, s->path);
	if (s->file && s->file_index < k->dst->n_files)
		d->file = k->dst->files[s->file_index];
}

static char **dup_strs(struct cloner *k, char *const *v, size_t n)
{
	char **d = dup_array(k, v, n, sizeof(*v));

	for (size_t i = 0; d && i < n; i++)
		d[i] = dup_str(k, v[i]);
	return d;
}

static void copy_policy(struct cloner *k, struct cfg_sni_policy *p)
{
	p->route_name = dup_str(k, p->route_name);
	copy_src(k, &p->src, &p->src);
}

static void copy_listener(struct cloner *k, struct cfg_listener *d)
{
	d->name = dup_str(k, d->name);
	copy_policy(k, &d->no_sni);
	copy_policy(k, &d->unknown_sni);
	copy_src(k, &d->src, &d->src);
}

static void copy_backend(struct cloner *k, struct cfg_backend *d)
{
	d->host = dup_str(k, d->host);
	d->subset = dup_str(k, d->subset);
	d->endpoints = dup_array(k, d->endpoints, d->n_endpoints, sizeof(*d->endpoints));
	if (!d->endpoints)
		d->n_endpoints = 0;
	for (size_t i = 0; i < d->n_endpoints; i++)
		d->endpoints[i].host = dup_str(k, d->endpoints[i].host);
	copy_src(k, &d->src, &d->src);
}

static void copy_route(struct cloner *k, struct cfg_route *d)
{
	d->name = dup_str(k, d->name);
	d->listeners = dup_array(k, d->listeners, d->n_listeners, sizeof(*d->listeners));
	d->snis = dup_array(k, d->snis, d->n_snis, sizeof(*d->snis));
	if (!d->snis)
		d->n_snis = 0;
	for (size_t i = 0; i < d->n_snis; i++) {
		d->snis[i].pattern = dup_str(k, d->snis[i].pattern);
		copy_src(k, &d->snis[i].src, &d->snis[i].src);
	}
	d->alpn = dup_strs(k, d->alpn, d->n_alpn);
	if (!d->alpn)
		d->n_alpn = 0;
	d->dst_subnets = dup_array(k, d->dst_subnets, d->n_dst_subnets, sizeof(*d->dst_subnets));
	d->backends = dup_array(k, d->backends, d->n_backends, sizeof(*d->backends));
	if (!d->backends)
		d->n_backends = 0;
	for (size_t i = 0; i < d->n_backends; i++)
		copy_backend(k, &d->backends[i]);
	d->health_check.sni = dup_str(k, d->health_check.sni);
	copy_src(k, &d->health_check.src, &d->health_check.src);
	copy_src(k, &d->src, &d->src);
}

static void copy_rules(struct cloner *k, struct cfg_guard_rule **v, size_t *n)
{
	*v = dup_array(k, *v, *n, sizeof(**v));
	if (!*v)
		*n = 0;
	for (size_t i = 0; i < *n; i++)
		copy_src(k, &(*v)[i].src, &(*v)[i].src);
}

static void copy_guard(struct cloner *k, struct cfg_guard *g)
{
	g->interfaces = dup_strs(k, g->interfaces, g->n_interfaces);
	if (!g->interfaces)
		g->n_interfaces = 0;
	copy_rules(k, &g->deny, &g->n_deny);
	copy_rules(k, &g->allow, &g->n_allow);
	copy_src(k, &g->src, &g->src);
}

/* Every pointer of a shallow copy is replaced before anything can fail, so a
 * failed copy frees only what it allocated. The counts of arrays that could
 * not be copied are zeroed for the same reason. */
struct config *config_clone(const struct config *c)
{
	struct cloner k = {.dst = malloc(sizeof(*k.dst))};
	struct config *d = k.dst;

	if (!d)
		return NULL;
	*d = *c;
	d->files = dup_strs(&k, c->files, c->n_files);
	if (!d->files)
		d->n_files = 0;
	d->listeners = dup_array(&k, c->listeners, c->n_listeners, sizeof(*c->listeners));
	if (!d->listeners)
		d->n_listeners = 0;
	d->routes = dup_array(&k, c->routes, c->n_routes, sizeof(*c->routes));
	if (!d->routes)
		d->n_routes = 0;
	for (size_t i = 0; i < d->n_listeners; i++)
		copy_listener(&k, &d->listeners[i]);
	for (size_t i = 0; i < d->n_routes; i++)
		copy_route(&k, &d->routes[i]);
	copy_guard(&k, &d->guard);
	copy_src(&k, &d->resolve_interval_src, &c->resolve_interval_src);
	copy_src(&k, &d->max_addresses_src, &c->max_addresses_src);
	copy_src(&k, &d->service_cidr_src, &c->service_cidr_src);
	if (k.has_failed) {
		config_free(d);
		return NULL;
	}
	return d;
}
