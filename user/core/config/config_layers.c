// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_layers.c: `sockgate load` and `unload` on top of --config. The running
 * model is rebuilt from every input at once, so cross-file references (listener
 * names, policies, Istio Gateways) resolve exactly as in one big file; a later
 * layer's definition then simply wins over an earlier one of the same name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"

struct layered {
	const char *name;
	unsigned layer;
	size_t idx;
};

static int layered_cmp(const void *pa, const void *pb)
{
	const struct layered *a = pa, *b = pb;
	int r = strcmp(a->name, b->name);

	if (r)
		return r;
	if (a->layer != b->layer)
		return a->layer < b->layer ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

unsigned cfg_layer_of(const struct cfg_loader *l, unsigned file_index)
{
	return file_index < l->n_file_layer ? l->file_layer[file_index] : 0;
}

static unsigned layer_of(const struct cfg_loader *l, const struct cfg_src *src)
{
	return cfg_layer_of(l, src->file_index);
}

/* Sets winner[i] to the element that replaces element i (i itself when nothing
 * does): the first one of the same name in the highest layer defining it. */
static int find_winners(const struct cfg_loader *l, size_t n, const char *(*name)(void *, size_t),
			const struct cfg_src *(*src)(void *, size_t), void *arr, size_t *winner)
{
	struct layered *v = calloc(n ? n : 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		winner[i] = i;
		if (!name(arr, i))
			continue; /* unnamed: already reported */
		v[k++] = (struct layered){name(arr, i), layer_of(l, src(arr, i)), i};
	}
	qsort(v, k, sizeof(*v), layered_cmp);
	for (size_t g = 0; g < k;) {
		size_t end = g, top;

		while (end < k && !strcmp(v[end].name, v[g].name))
			end++;
		top = end - 1;
		while (top > g && v[top - 1].layer == v[end - 1].layer)
			top--;
		for (size_t i = g; i < top; i++)
			winner[v[i].idx] = v[top].idx;
		g = end;
	}
	free(v);
	return 0;
}

static const char *listener_name(void *arr, size_t i)
{
	return ((struct cfg_listener *)arr)[i].name;
}

static const struct cfg_src *listener_src(void *arr, size_t i)
{
	return &((struct cfg_listener *)arr)[i].src;
}

static const char *route_name(void *arr, size_t i)
{
	return ((struct cfg_route *)arr)[i].name;
}

static const struct cfg_src *route_src(void *arr, size_t i)
{
	return &((struct cfg_route *)arr)[i].src;
}

static bool is_unloaded(const struct cfg_loader *l, const char *name, unsigned layer)
{
	for (size_t i = 0; name && i < l->n_unload; i++) {
		if (layer < l->unload[i].before_layer && !strcmp(l->unload[i].name, name))
			return true;
	}
	return false;
}

/* Compacts arr in place, keeping what nothing replaced or unloaded (fini frees
 * the rest), and sets pos[i] to where old element i's references now point: its
 * own new place, its winner's, or SIZE_MAX when it is gone. */
static size_t compact(void *arr, size_t n, size_t elem, const size_t *winner, const bool *is_gone,
		      void (*fini)(void *), size_t *pos)
{
	char *base = arr;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		pos[i] = SIZE_MAX;
		if (winner[i] != i || is_gone[i]) {
			fini(base + i * elem);
			continue;
		}
		if (k != i)
			memcpy(base + k * elem, base + i * elem, elem);
		pos[i] = k++;
	}
	for (size_t i = 0; i < n; i++) {
		if (winner[i] != i && !is_gone[i])
			pos[i] = pos[winner[i]];
	}
	return k;
}

static void listener_fini(void *p)
{
	cfg_listener_fini(p);
}

static void route_fini(void *p)
{
	cfg_route_fini(p);
}

static void remap_listeners(struct config *c, const size_t *pos)
{
	for (size_t r = 0; r < c->n_routes; r++) {
		struct cfg_route *route = &c->routes[r];
		size_t k = 0;

		for (size_t j = 0; j < route->n_listeners; j++) {
			if (pos[route->listeners[j]] != SIZE_MAX)
				route->listeners[k++] = pos[route->listeners[j]];
		}
		route->n_listeners = k;
	}
}

static void remap_refs(struct cfg_loader *l, const size_t *pos)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n_refs; i++) {
		if (pos[l->refs[i].route] == SIZE_MAX) {
			free(l->refs[i].name);
			cfg_src_fini(&l->refs[i].src);
			continue;
		}
		l->refs[k] = l->refs[i];
		l->refs[k++].route = pos[l->refs[i].route];
	}
	l->n_refs = k;
}

static int apply(struct cfg_loader *l, void *arr, size_t *n, size_t elem,
		 const char *(*name)(void *, size_t), const struct cfg_src *(*src)(void *, size_t),
		 bool unload, void (*fini)(void *), size_t **pos_out)
{
	size_t count = *n, *winner = calloc(count + 1, sizeof(*winner));
	size_t *pos = calloc(count + 1, sizeof(*pos));
	bool *is_gone = calloc(count + 1, sizeof(*is_gone));
	int err = -ENOMEM;

	if (!winner || !pos || !is_gone || find_winners(l, count, name, src, arr, winner))
		goto out;
	for (size_t i = 0; i < count; i++)
		is_gone[i] = unload && is_unloaded(l, name(arr, i), layer_of(l, src(arr, i)));
	*n = compact(arr, count, elem, winner, is_gone, fini, pos);
	*pos_out = pos;
	pos = NULL;
	err = 0;
out:
	free(winner);
	free(pos);
	free(is_gone);
	return err;
}

void cfg_apply_layers(struct cfg_loader *l)
{
	struct config *c = l->c;
	size_t *lpos = NULL, *rpos = NULL;

	if (!l->layer && !l->n_unload)
		return;
	if (apply(l, c->listeners, &c->n_listeners, sizeof(*c->listeners), listener_name,
		  listener_src, false, listener_fini, &lpos) ||
	    apply(l, c->routes, &c->n_routes, sizeof(*c->routes), route_name, route_src, true,
		  route_fini, &rpos)) {
		l->err = -ENOMEM;
		goto out;
	}
	remap_listeners(c, lpos);
	remap_refs(l, rpos);
out:
	free(lpos);
	free(rpos);
}
