// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_istio_vs.c: Istio VirtualService tls routes into internal routes, on the
 * listeners of the Gateways loaded by config_istio.c, with backends from
 * config_istio_dest.c and policy from config_istio_dr.c. Istio semantics kept here:
 * sniHosts within spec.hosts, served only where a PASSTHROUGH server's hosts cover
 * them, and never on a listener or subnet Istio would not serve them on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config_yaml.h"
#include "hostname.h"

#define IGN_SNI_ONLY "sockgate routes TLS by SNI only"

/* Pattern a covers pattern b when every name b matches, a matches too. */
bool cfg_pattern_covers(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (!strcmp(a, "*") || !strcmp(a, b))
		return true;
	if (a[0] != '*' || !strcmp(b, "*"))
		return false;
	/* a is "*.suffix": b must end in ".suffix" with at least one label before. */
	return lb > la - 1 && !strcmp(b + lb - (la - 1), a + 1);
}

/* --- VirtualService -------------------------------------------------------------------- */

enum { VS_HOSTS = 0, VS_GATEWAYS, VS_TLS, VS_HTTP, VS_TCP, VS_EXPORT_TO, VS_MAX };
static const struct cfg_field vs_fields[VS_MAX] = {
	[VS_HOSTS] = {.key = "hosts", .kind = CFG_K_STR_LIST, .is_required = true},
	[VS_GATEWAYS] = {.key = "gateways", .kind = CFG_K_STR_LIST},
	[VS_TLS] = {.key = "tls", .kind = CFG_K_SEQ},
	[VS_HTTP] = {.key = "http", .kind = CFG_K_IGNORED, .note = IGN_SNI_ONLY},
	[VS_TCP] = {.key = "tcp", .kind = CFG_K_IGNORED, .note = IGN_SNI_ONLY},
	[VS_EXPORT_TO] = {.key = "exportTo", .kind = CFG_K_ANY},
};

enum { TR_MATCH = 0, TR_ROUTE, TR_MAX };
static const struct cfg_field tls_route_fields[TR_MAX] = {
	[TR_MATCH] = {.key = "match", .kind = CFG_K_SEQ, .is_required = true},
	[TR_ROUTE] = {.key = "route", .kind = CFG_K_SEQ, .is_required = true},
};

enum { TM_SNI = 0, TM_SUBNETS, TM_PORT, TM_GATEWAYS, TM_SRC_LABELS, TM_SRC_NS, TM_MAX };
static const struct cfg_field tls_match_fields[TM_MAX] = {
	[TM_SNI] = {.key = "sniHosts", .kind = CFG_K_STR_LIST, .is_required = true},
	[TM_SUBNETS] = {.key = "destinationSubnets", .kind = CFG_K_STR_LIST},
	[TM_PORT] = {.key = "port", .kind = CFG_K_INT, .min = 1, .max = 65535},
	[TM_GATEWAYS] = {.key = "gateways", .kind = CFG_K_STR_LIST},
	[TM_SRC_LABELS] = {.key = "sourceLabels",
			   .kind = CFG_K_IGNORED,
			   .note = "it selects sidecar workloads, not gateway traffic"},
	[TM_SRC_NS] = {.key = "sourceNamespace",
		       .kind = CFG_K_IGNORED,
		       .note = "it selects sidecar workloads, not gateway traffic"},
};

struct vs_ctx {
	struct cfg_istio_meta m;
	size_t *gws; /* the VirtualService's Gateways: indices into istio.gws */
	size_t n_gws;
	char (*hosts)[HOSTNAME_MAX + 1]; /* spec.hosts, normalised */
	size_t n_hosts;
};

/* sniHosts of one TLS route that land on the same listeners with the same
 * destinationSubnets: one internal route each. */
struct group {
	size_t *listeners;
	size_t n_listeners;
	struct cfg_cidr *subnets;
	size_t n_subnets;
	struct cfg_sni *snis;
	size_t n_snis;
};

/* Resolves Gateway references ("name" in the VirtualService's namespace, "ns/name";
 * "mesh" means sidecars and is not ours) into *out. */
static void bind_gateways(struct cfg_loader *l, struct cfg_istio *is, const char *vs_ns,
			  yaml_node_t *list, size_t **out, size_t *n_out)
{
	for (size_t i = 0; i < cfg_seq_len(list); i++) {
		yaml_node_t *item = cfg_seq_item(l, list, i);
		const char *ref = cfg_scalar(item), *slash = strchr(ref, '/');
		const char *name = slash ? slash + 1 : ref;
		size_t ns_len = slash ? (size_t)(slash - ref) : strlen(vs_ns), k, *slot;
		const char *ns = slash ? ref : vs_ns;

		if (!strcmp(ref, "mesh"))
			continue;
		for (k = 0; k < is->n_gws; k++) {
			if (strlen(is->gws[k].ns) == ns_len && !memcmp(is->gws[k].ns, ns, ns_len) &&
			    !strcmp(is->gws[k].name, name))
				break;
		}
		if (k < is->n_gws) {
			if ((slot = cfg_push(l, out, n_out, sizeof(*slot))))
				*slot = k;
			continue;
		}
		size_t saved = cfg_path_index(l, i);

		cfg_warn(l, item,
			 "Gateway %s is not loaded (absent, or its selector does not match the "
			 "agent labels)",
			 cfg_quote(l, ref));
		cfg_path_pop(l, saved);
	}
}

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Listeners of the bound Gateways' servers (on port, when given) whose hosts cover
 * pattern for this VirtualService's namespace. */
static void sni_listeners(struct cfg_loader *l, struct cfg_istio *is, const struct vs_ctx *vc,
			  const size_t *gws, size_t n_gws, int64_t port, const char *pattern,
			  struct group *g)
{
	size_t k = 0, *slot;

	for (size_t i = 0; i < n_gws; i++) {
		const struct cfg_gateway *gw = &is->gws[gws[i]];

		for (size_t s = 0; s < gw->n_servers; s++) {
			const struct cfg_gw_server *sv = &gw->servers[s];

			if (port && sv->port != port)
				continue;
			for (size_t h = 0; h < sv->n_hosts; h++) {
				const struct cfg_gw_host *gh = &sv->hosts[h];

				if ((!gh->ns || !strcmp(gh->ns, vc->m.ns)) &&
				    cfg_pattern_covers(gh->pattern, pattern)) {
					if ((slot = cfg_push(l, &g->listeners, &g->n_listeners,
							     sizeof(*slot))))
						*slot = sv->listener;
					break;
				}
			}
		}
	}
	if (g->n_listeners)
		qsort(g->listeners, g->n_listeners, sizeof(size_t), size_cmp);
	for (size_t i = 0; i < g->n_listeners; i++) {
		if (k == 0 || g->listeners[k - 1] != g->listeners[i])
			g->listeners[k++] = g->listeners[i];
	}
	g->n_listeners = k;
}

static void group_fini(struct group *g)
{
	for (size_t i = 0; i < g->n_snis; i++) {
		free(g->snis[i].pattern);
		cfg_src_fini(&g->snis[i].src);
	}
	free(g->snis);
	free(g->listeners);
	free(g->subnets);
	memset(g, 0, sizeof(*g));
}

/* Files the pattern (carried in *key: listeners and subnets) into the group with the
 * same key, or a new one. */
static void add_to_group(struct cfg_loader *l, struct group **groups, size_t *n_groups,
			 struct group *key, const char *pattern, bool is_wildcard, yaml_node_t *at)
{
	struct group *g = NULL;
	struct cfg_sni *sni;

	for (size_t i = 0; i < *n_groups && !g; i++) {
		struct group *o = &(*groups)[i];

		if (o->n_listeners == key->n_listeners && o->n_subnets == key->n_subnets &&
		    (!key->n_listeners ||
		     !memcmp(o->listeners, key->listeners, key->n_listeners * sizeof(size_t))) &&
		    (!key->n_subnets ||
		     !memcmp(o->subnets, key->subnets, key->n_subnets * sizeof(struct cfg_cidr))))
			g = o;
	}
	if (!g) {
		g = cfg_push(l, groups, n_groups, sizeof(*g));
		if (!g)
			return;
		*g = *key;
		memset(key, 0, sizeof(*key));
	}
	sni = cfg_push(l, &g->snis, &g->n_snis, sizeof(*sni));
	if (sni) {
		sni->pattern = cfg_strdup(l, pattern);
		sni->is_wildcard = is_wildcard;
		cfg_src_set(l, &sni->src, at);
	}
}

static void match_subnets(struct cfg_loader *l, const struct cfg_val *v, struct group *key)
{
	size_t saved = cfg_path_key(l, "destinationSubnets");

	for (size_t i = 0; i < cfg_seq_len(v->node); i++) {
		yaml_node_t *item = cfg_seq_item(l, v->node, i);
		struct cfg_cidr *cidr = cfg_push(l, &key->subnets, &key->n_subnets, sizeof(*cidr));
		size_t saved_i = cfg_path_index(l, i);

		if (cidr && cfg_parse_cidr(cfg_scalar(item), cidr) != 0) {
			cfg_error(l, item,
				  "expected an IP address or CIDR such as 10.0.0.0/8, got %s",
				  cfg_quote(l, cfg_scalar(item)));
			key->n_subnets--;
		}
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

static bool vs_covers(const struct vs_ctx *vc, const char *pattern)
{
	for (size_t i = 0; i < vc->n_hosts; i++) {
		if (cfg_pattern_covers(vc->hosts[i], pattern))
			return true;
	}
	return false;
}

static void tls_match(struct cfg_loader *l, struct cfg_istio *is, const struct vs_ctx *vc,
		      yaml_node_t *node, struct group **groups, size_t *n_groups)
{
	struct cfg_val v[TM_MAX];
	struct group subnets = {0};
	const size_t *gws = vc->gws;
	size_t *own_gws = NULL, n_gws = vc->n_gws, saved;

	if (cfg_walk_map(l, node, tls_match_fields, TM_MAX, v) != 0 || !v[TM_SNI].node)
		return;
	if (v[TM_GATEWAYS].node) {
		/* A match's own gateways replace the VirtualService's. */
		n_gws = 0;
		saved = cfg_path_key(l, "gateways");
		bind_gateways(l, is, vc->m.ns, v[TM_GATEWAYS].node, &own_gws, &n_gws);
		cfg_path_pop(l, saved);
		gws = own_gws;
	}
	if (v[TM_SUBNETS].node)
		match_subnets(l, &v[TM_SUBNETS], &subnets);
	saved = cfg_path_key(l, "sniHosts");
	if (!cfg_seq_len(v[TM_SNI].node))
		cfg_error(l, v[TM_SNI].node, "expected at least one SNI host");
	for (size_t i = 0; i < cfg_seq_len(v[TM_SNI].node); i++) {
		yaml_node_t *item = cfg_seq_item(l, v[TM_SNI].node, i);
		const char *s = cfg_scalar(item);
		char out[HOSTNAME_MAX + 1];
		struct group key = {0};
		enum hostname_result r;
		size_t len, saved_i = cfg_path_index(l, i);
		bool is_wildcard;

		r = hostname_pattern_normalize(s, strlen(s), out, &len, &is_wildcard);
		if (r != HOSTNAME_OK) {
			cfg_error(l, item, "bad SNI host %s: %s", cfg_quote(l, s),
				  hostname_result_str(r));
		} else if (!vs_covers(vc, out)) {
			cfg_error(l, item, "SNI host %s is not within the VirtualService's hosts",
				  cfg_quote(l, s));
		} else {
			sni_listeners(l, is, vc, gws, n_gws, v[TM_PORT].num, out, &key);
			if (!key.n_listeners && n_gws)
				cfg_warn(l, item,
					 "ignored (as Istio does): no PASSTHROUGH server of the "
					 "bound Gateways%s has a host covering %s",
					 v[TM_PORT].node ? " on this port" : "", cfg_quote(l, s));
			else if (!key.n_listeners)
				;
			else if (subnets.n_subnets &&
				 !(key.subnets = malloc(subnets.n_subnets * sizeof(*key.subnets))))
				l->err = -ENOMEM;
			else {
				if (subnets.n_subnets)
					memcpy(key.subnets, subnets.subnets,
					       subnets.n_subnets * sizeof(*key.subnets));
				key.n_subnets = subnets.n_subnets;
				add_to_group(l, groups, n_groups, &key, out, is_wildcard, item);
			}
		}
		group_fini(&key);
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
	group_fini(&subnets);
	free(own_gws);
}

/* One group of sniHosts of tls[i] → one internal route named "<vs>.tls[i]" (then
 * "<vs>.tls[i]#2"...), prefixed "<namespace>/" outside the default namespace. */
static void emit_route(struct cfg_loader *l, struct cfg_istio *is, const struct vs_ctx *vc,
		       size_t i, size_t g_index, struct group *g, struct cfg_route *tmpl,
		       yaml_node_t *node)
{
	struct cfg_route *r = cfg_push(l, &l->c->routes, &l->c->n_routes, sizeof(*r));
	bool is_default_ns = !strcmp(vc->m.ns, "default");
	char suffix[32] = "";

	if (!r)
		return;
	if (g_index)
		snprintf(suffix, sizeof(suffix), "#%zu", g_index + 1);
	if (asprintf(&r->name, "%s%s%s.tls[%zu]%s", is_default_ns ? "" : vc->m.ns,
		     is_default_ns ? "" : "/", vc->m.name, i, suffix) < 0) {
		r->name = NULL;
		l->err = -ENOMEM;
	}
	r->is_istio = true;
	cfg_src_set(l, &r->src, node);
	r->listeners = g->listeners;
	r->n_listeners = g->n_listeners;
	r->snis = g->snis;
	r->n_snis = g->n_snis;
	r->dst_subnets = g->subnets;
	r->n_dst_subnets = g->n_subnets;
	memset(g, 0, sizeof(*g));
	r->balance = CFG_BALANCE_ROUND_ROBIN;
	r->connect_timeout_ms = CFG_DEFAULT_CONNECT_TIMEOUT_MS;
	r->connect_retries = CFG_DEFAULT_CONNECT_RETRIES;
	cfg_route_lifetime_defaults(r);
	if (g_index == 0) {
		r->backends = tmpl->backends;
		r->n_backends = tmpl->n_backends;
		tmpl->backends = NULL;
		tmpl->n_backends = 0;
	} else {
		cfg_istio_copy_backends(l, r, &l->c->routes[l->c->n_routes - 1 - g_index]);
	}
	cfg_istio_dr_apply(l, is->dr, r, node);
}

static void tls_route(struct cfg_loader *l, struct cfg_istio *is, const struct vs_ctx *vc,
		      yaml_node_t *node, size_t i)
{
	struct cfg_val v[TR_MAX];
	struct group *groups = NULL;
	struct cfg_route tmpl = {0};
	size_t n_groups = 0, saved;
	bool ok;

	if (cfg_walk_map(l, node, tls_route_fields, TR_MAX, v) != 0)
		return;
	saved = cfg_path_key(l, "match");
	if (!cfg_seq_len(v[TR_MATCH].node))
		cfg_error(l, v[TR_MATCH].node, "expected at least one match");
	for (size_t j = 0; j < cfg_seq_len(v[TR_MATCH].node); j++) {
		size_t saved_j = cfg_path_index(l, j);

		tls_match(l, is, vc, cfg_seq_item(l, v[TR_MATCH].node, j), &groups, &n_groups);
		cfg_path_pop(l, saved_j);
	}
	cfg_path_pop(l, saved);
	ok = v[TR_ROUTE].node && cfg_istio_destinations(l, is, v[TR_ROUTE].node, &tmpl);
	for (size_t g = 0; ok && g < n_groups && l->err == 0; g++)
		emit_route(l, is, vc, i, g, &groups[g], &tmpl, node);
	for (size_t g = 0; g < n_groups; g++)
		group_fini(&groups[g]);
	free(groups);
	cfg_route_fini(&tmpl);
}

static void vs_hosts(struct cfg_loader *l, struct vs_ctx *vc, const struct cfg_val *v)
{
	size_t saved = cfg_path_key(l, "hosts");

	if (!cfg_seq_len(v->node))
		cfg_error(l, v->node, "expected at least one host");
	for (size_t i = 0; i < cfg_seq_len(v->node); i++) {
		yaml_node_t *item = cfg_seq_item(l, v->node, i);
		const char *s = cfg_scalar(item);
		char(*h)[HOSTNAME_MAX + 1];
		char out[HOSTNAME_MAX + 1];
		enum hostname_result r;
		size_t len, saved_i = cfg_path_index(l, i);
		bool is_wildcard;

		r = hostname_pattern_normalize(s, strlen(s), out, &len, &is_wildcard);
		if (r != HOSTNAME_OK)
			cfg_error(l, item, "bad host %s: %s", cfg_quote(l, s),
				  hostname_result_str(r));
		else if ((h = cfg_push(l, &vc->hosts, &vc->n_hosts, sizeof(*h))))
			memcpy(*h, out, len + 1);
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

void cfg_istio_vs_doc(struct cfg_loader *l, struct cfg_istio *is, struct cfg_doc *d)
{
	struct vs_ctx vc = {0};
	struct cfg_val v[VS_MAX];
	size_t saved;

	if (cfg_istio_header(l, d, &vc.m) != 0)
		return;
	saved = cfg_path_key(l, "spec");
	if (cfg_walk_map(l, vc.m.spec, vs_fields, VS_MAX, v) != 0)
		return;
	if (v[VS_HOSTS].node)
		vs_hosts(l, &vc, &v[VS_HOSTS]);
	if (v[VS_GATEWAYS].node) {
		size_t saved_g = cfg_path_key(l, "gateways");

		bind_gateways(l, is, vc.m.ns, v[VS_GATEWAYS].node, &vc.gws, &vc.n_gws);
		cfg_path_pop(l, saved_g);
	}
	if (!vc.n_gws)
		cfg_warn(l, v[VS_GATEWAYS].node ? v[VS_GATEWAYS].node : vc.m.spec,
			 "binds no loaded Gateway (without \"gateways\" a VirtualService applies "
			 "to sidecars only)");
	if (!v[VS_TLS].node && !v[VS_TLS].is_bad)
		cfg_warn(l, vc.m.spec, "no \"tls\" routes: nothing to route");
	cfg_path_key(l, "tls");
	for (size_t i = 0; i < cfg_seq_len(v[VS_TLS].node); i++) {
		size_t saved_i = cfg_path_index(l, i);

		tls_route(l, is, &vc, cfg_seq_item(l, v[VS_TLS].node, i), i);
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
	free(vc.gws);
	free(vc.hosts);
}
