// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_check.c: the checks that span documents and files, run once every file is
 * converted: unique names, route listeners and listener policies resolved by name,
 * overlapping bind addresses, and an SNI pattern routed twice on one listener.
 * Each finding is reported at the later definition, in source order. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cfg_value.h"
#include "config_yaml.h"

/* --- cross-document checks ----------------------------------------------------------- */

static int src_cmp(const struct cfg_src *a, const struct cfg_src *b)
{
	if (a->file_index != b->file_index)
		return a->file_index < b->file_index ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->column < b->column ? -1 : a->column > b->column;
}

struct named {
	const char *name;
	const struct cfg_src *src;
	size_t idx;
};

static int named_cmp(const void *pa, const void *pb)
{
	const struct named *a = pa, *b = pb;
	int r = strcmp(a->name, b->name);

	return r ? r : src_cmp(a->src, b->src);
}

/* Sorts the named objects (NULL names, already reported, are left out) and reports
 * every later definition of a name. */
static struct named *index_names(struct cfg_loader *l, const char *what, size_t n,
				 const char *(*get)(const struct config *, size_t,
						    const struct cfg_src **),
				 size_t *n_out)
{
	struct named *v = calloc(n ? n : 1, sizeof(*v));
	size_t k = 0;

	if (!v) {
		l->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		v[k].name = get(l->c, i, &v[k].src);
		v[k].idx = i;
		k += v[k].name != NULL;
	}
	qsort(v, k, sizeof(*v), named_cmp);
	for (size_t i = 1; i < k; i++) {
		if (strcmp(v[i].name, v[i - 1].name))
			continue;
		cfg_diag_src(l->diags, v[i].src, false, &l->err,
			     "duplicate %s name %s (first defined at %s:%u:%u)", what,
			     cfg_quote(l, v[i].name), v[i - 1].src->file, v[i - 1].src->line,
			     v[i - 1].src->column);
	}
	*n_out = k;
	return v;
}

static const char *listener_name(const struct config *c, size_t i, const struct cfg_src **src)
{
	*src = &c->listeners[i].src;
	return c->listeners[i].name;
}

static const char *route_name(const struct config *c, size_t i, const struct cfg_src **src)
{
	*src = &c->routes[i].src;
	return c->routes[i].name;
}

/* Index of name in the sorted v[0..n), or SIZE_MAX; *hint gets a near name. */
static size_t find_name(const struct named *v, size_t n, const char *name, const char **hint)
{
	size_t lo = 0, hi = n;
	struct cfg_suggest sg;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && !strcmp(v[lo].name, name))
		return v[lo].idx;
	cfg_suggest_init(&sg, name);
	for (size_t i = 0; i < n && i < 1000; i++)
		cfg_suggest_add(&sg, v[i].name);
	*hint = cfg_suggest_best(&sg);
	return SIZE_MAX;
}

static void report_unknown(struct cfg_loader *l, const struct cfg_src *src, const char *what,
			   const char *name, const char *hint)
{
	if (hint)
		cfg_diag_src(l->diags, src, false, &l->err, "unknown %s %s (did you mean \"%s\"?)",
			     what, cfg_quote(l, name), hint);
	else
		cfg_diag_src(l->diags, src, false, &l->err, "unknown %s %s", what,
			     cfg_quote(l, name));
}

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void resolve_listener_refs(struct cfg_loader *l, const struct named *ls, size_t n_ls)
{
	struct config *c = l->c;

	for (size_t i = 0; i < l->n_refs; i++) {
		const struct cfg_listener_ref *ref = &l->refs[i];
		struct cfg_route *r = &c->routes[ref->route];
		const char *hint = NULL;
		size_t idx, *slot;

		if (!ref->name) {
			for (size_t k = 0; k < c->n_listeners; k++) {
				if ((slot = cfg_push(l, &r->listeners, &r->n_listeners,
						     sizeof(*slot))))
					*slot = k;
			}
			continue;
		}
		idx = find_name(ls, n_ls, ref->name, &hint);
		if (idx == SIZE_MAX)
			report_unknown(l, &ref->src, "listener", ref->name, hint);
		else if ((slot = cfg_push(l, &r->listeners, &r->n_listeners, sizeof(*slot))))
			*slot = idx;
	}
	for (size_t i = 0; i < c->n_routes; i++) {
		struct cfg_route *r = &c->routes[i];
		size_t k = 0;

		if (r->n_listeners)
			qsort(r->listeners, r->n_listeners, sizeof(size_t), size_cmp);
		for (size_t j = 0; j < r->n_listeners; j++) {
			if (k == 0 || r->listeners[k - 1] != r->listeners[j])
				r->listeners[k++] = r->listeners[j];
		}
		r->n_listeners = k;
	}
}

static void resolve_policy(struct cfg_loader *l, struct cfg_sni_policy *p, const struct named *rs,
			   size_t n_rs, bool *is_named)
{
	const char *hint = NULL;

	if (p->action != CFG_POLICY_ROUTE || !p->route_name)
		return;
	p->route = find_name(rs, n_rs, p->route_name, &hint);
	if (p->route == SIZE_MAX)
		report_unknown(l, &p->src, "route", p->route_name, hint);
	else
		is_named[p->route] = true;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr));
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

static bool is_any(const struct sockaddr_storage *a)
{
	static const struct sockaddr_storage zero;

	return same_addr(a, &zero);
}

/* Would binding a and b collide? Same port, and the same address or a wildcard of
 * the same family. An Istio listener (0.0.0.0:port) is also served on [::]:port by
 * the agent, so it collides with every IPv6 listener on its port too. */
static bool binds_overlap(const struct cfg_listener *a, const struct cfg_listener *b)
{
	if (!a->port || a->port != b->port)
		return false;
	if (a->addr.ss_family != b->addr.ss_family)
		return (a->is_istio && b->addr.ss_family == AF_INET6) ||
		       (b->is_istio && a->addr.ss_family == AF_INET6);
	return same_addr(&a->addr, &b->addr) || is_any(&a->addr) || is_any(&b->addr);
}

static void check_binds(struct cfg_loader *l)
{
	struct config *c = l->c;
	char buf[64];

	/* Quadratic, but a bind table larger than this is a runaway file: stop there. */
	for (size_t i = 0; i < c->n_listeners && i < 4096; i++) {
		const struct cfg_listener *a = &c->listeners[i];

		for (size_t j = 0; j < c->n_listeners && j < 4096; j++) {
			const struct cfg_listener *b = &c->listeners[j];

			/* Report at the later of the two, once. */
			if (i == j || src_cmp(&b->src, &a->src) > 0 || !binds_overlap(a, b))
				continue;
			cfg_diag_src(l->diags, &a->src, false, &l->err,
				     "address %s overlaps listener %s (%s:%u:%u)",
				     addr_format(&a->addr, buf, sizeof(buf)),
				     cfg_quote(l, b->name ? b->name : "?"), b->src.file,
				     b->src.line, b->src.column);
			break;
		}
	}
}

struct sni_entry {
	size_t listener;
	const struct cfg_route *route;
	const struct cfg_sni *sni;
	size_t flat; /* numbers every (route, pattern) once, for reported[] */
};

static int sni_entry_cmp(const void *pa, const void *pb)
{
	const struct sni_entry *a = pa, *b = pb;
	int r;

	if (a->listener != b->listener)
		return a->listener < b->listener ? -1 : 1;
	r = strcmp(a->sni->pattern, b->sni->pattern);
	return r ? r : src_cmp(&a->sni->src, &b->sni->src);
}

/* Routes without ALPN take any ClientHello, so they overlap every other route. */
static bool alpn_overlaps(const struct cfg_route *a, const struct cfg_route *b)
{
	if (!a->n_alpn || !b->n_alpn)
		return true;
	for (size_t i = 0; i < a->n_alpn; i++) {
		for (size_t j = 0; j < b->n_alpn; j++) {
			if (!strcmp(a->alpn[i], b->alpn[j]))
				return true;
		}
	}
	return false;
}

/* The route table cannot choose between two routes that match the same name on one
 * listener, so that is an error at the second pattern, in source order. */
static void check_snis(struct cfg_loader *l)
{
	const struct config *c = l->c;
	struct sni_entry *v;
	size_t n = 0, total = 0, n_flat = 0;
	bool *reported;

	for (size_t i = 0; i < c->n_routes; i++) {
		total += c->routes[i].n_listeners * c->routes[i].n_snis;
		n_flat += c->routes[i].n_snis;
	}
	if (total > CFG_SNI_ENTRIES_MAX) {
		cfg_diag_src(l->diags, &c->routes[0].src, false, &l->err,
			     "more than %lu SNI patterns over all listeners", CFG_SNI_ENTRIES_MAX);
		return;
	}
	v = calloc(total ? total : 1, sizeof(*v));
	reported = calloc(n_flat ? n_flat : 1, sizeof(*reported));
	if (!v || !reported) {
		l->err = -ENOMEM;
		goto out;
	}
	n_flat = 0;
	for (size_t i = 0; i < c->n_routes; i++) {
		const struct cfg_route *r = &c->routes[i];

		for (size_t k = 0; k < r->n_listeners; k++) {
			for (size_t s = 0; s < r->n_snis; s++)
				v[n++] = (struct sni_entry){r->listeners[k], r, &r->snis[s],
							    n_flat + s};
		}
		n_flat += r->n_snis;
	}
	qsort(v, n, sizeof(*v), sni_entry_cmp);
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j-- > 0;) {
			const struct sni_entry *a = &v[j], *b = &v[i];

			if (a->listener != b->listener || strcmp(a->sni->pattern, b->sni->pattern))
				break;
			/* One message per pattern, even when it sits on several listeners. */
			if (reported[b->flat] || !alpn_overlaps(a->route, b->route))
				continue;
			cfg_diag_src(l->diags, &b->sni->src, false, &l->err,
				     "SNI pattern %s on listener %s is already routed by route %s "
				     "(%s:%u:%u)",
				     cfg_quote(l, b->sni->pattern),
				     cfg_quote(l, c->listeners[b->listener].name ?: "?"),
				     cfg_quote(l, a->route->name ?: "?"), a->sni->src.file,
				     a->sni->src.line, a->sni->src.column);
			reported[b->flat] = true;
			break;
		}
	}
out:
	free(v);
	free(reported);
}

void cfg_validate(struct cfg_loader *l)
{
	struct config *c = l->c;
	struct named *ls, *rs;
	size_t n_ls = 0, n_rs = 0;
	bool *is_named;

	ls = index_names(l, "listener", c->n_listeners, listener_name, &n_ls);
	rs = index_names(l, "route", c->n_routes, route_name, &n_rs);
	is_named = calloc(c->n_routes + 1, sizeof(*is_named));
	if (!ls || !rs || !is_named) {
		l->err = -ENOMEM;
		goto out;
	}
	resolve_listener_refs(l, ls, n_ls);
	for (size_t i = 0; i < c->n_listeners; i++) {
		resolve_policy(l, &c->listeners[i].no_sni, rs, n_rs, is_named);
		resolve_policy(l, &c->listeners[i].unknown_sni, rs, n_rs, is_named);
	}
	check_binds(l);
	check_snis(l);
	/* Both warnings below follow from errors when there are any: say them only then. */
	for (size_t i = 0; i < c->n_routes && l->diags->n_errors == l->n_errors_before; i++) {
		if (!c->routes[i].n_snis && !is_named[i])
			cfg_diag_src(l->diags, &c->routes[i].src, true, &l->err,
				     "route has no SNI pattern and no listener policy names it: "
				     "unreachable");
	}
	if (!c->n_listeners && c->n_files && l->diags->n_errors == l->n_errors_before)
		cfg_diag_src(l->diags, &(struct cfg_src){.file = c->files[0]}, true, &l->err,
			     "no listeners: nothing will be served");
out:
	free(ls);
	free(rs);
	free(is_named);
}
