// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_gwapi_route.c: Gateway API TLSRoutes into routes, attached to the
 * TLS Passthrough listeners config_gwapi.c collected, as the specification
 * attaches them: parentRefs narrowed by sectionName and port, allowedRoutes
 * honoured, hostnames intersected with the listener's, cross-namespace
 * backends only under a ReferenceGrant. Each attachment is a note and each
 * refusal a warning saying why, since there is no status to write them to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config_gwapi.h"
#include "hostname.h"

/* Kubernetes Service DNS names; the cluster domain is the default one. */
#define SERVICE_HOST_FMT "%s.%s.svc.cluster.local"

enum { TR_PARENTS = 0, TR_HOSTNAMES, TR_RULES, TR_USE_DEFAULT, TR_MAX };
static const struct cfg_field route_fields[TR_MAX] = {
	[TR_PARENTS] = {.key = "parentRefs", .kind = CFG_K_SEQ},
	[TR_HOSTNAMES] = {.key = "hostnames", .kind = CFG_K_STR_LIST},
	[TR_RULES] = {.key = "rules", .kind = CFG_K_SEQ, .is_required = true},
	[TR_USE_DEFAULT] = {.key = "useDefaultGateways",
			    .kind = CFG_K_IGNORED,
			    .note = "sockgate attaches routes by parentRefs only"},
};

enum { PR_GROUP = 0, PR_KIND, PR_NAMESPACE, PR_NAME, PR_SECTION, PR_PORT, PR_MAX };
static const struct cfg_field parent_fields[PR_MAX] = {
	[PR_GROUP] = {.key = "group", .kind = CFG_K_STR},
	[PR_KIND] = {.key = "kind", .kind = CFG_K_STR},
	[PR_NAMESPACE] = {.key = "namespace", .kind = CFG_K_STR},
	[PR_NAME] = {.key = "name", .kind = CFG_K_STR, .is_required = true},
	[PR_SECTION] = {.key = "sectionName", .kind = CFG_K_STR},
	[PR_PORT] = {.key = "port", .kind = CFG_K_INT, .min = 1, .max = 65535},
};

enum { RU_NAME = 0, RU_BACKENDS, RU_MAX };
static const struct cfg_field rule_fields[RU_MAX] = {
	[RU_NAME] = {.key = "name", .kind = CFG_K_STR},
	[RU_BACKENDS] = {.key = "backendRefs", .kind = CFG_K_SEQ, .is_required = true},
};

enum { BR_GROUP = 0, BR_KIND, BR_NAME, BR_NAMESPACE, BR_PORT, BR_WEIGHT, BR_MAX };
static const struct cfg_field backend_fields[BR_MAX] = {
	[BR_GROUP] = {.key = "group", .kind = CFG_K_STR},
	[BR_KIND] = {.key = "kind", .kind = CFG_K_STR},
	[BR_NAME] = {.key = "name", .kind = CFG_K_STR, .is_required = true},
	[BR_NAMESPACE] = {.key = "namespace", .kind = CFG_K_STR},
	[BR_PORT] = {.key = "port", .kind = CFG_K_INT, .min = 1, .max = 65535},
	[BR_WEIGHT] = {.key = "weight", .kind = CFG_K_INT, .min = 0, .max = 1000000},
};

/* One SNI pattern served on one listener, and where it was written. */
struct pair {
	size_t listener;
	char sni[HOSTNAME_MAX + 1];
	yaml_node_t *at;
	bool is_hostname; /* at is spec.hostnames[index], else spec.parentRefs[index] */
	size_t index;
};

/* A spec.hostnames entry, normalised. */
struct route_host {
	char pattern[HOSTNAME_MAX + 1];
	yaml_node_t *at;
};

struct route_ctx {
	struct cfg_istio_meta m;
	struct route_host *hosts;
	size_t n_hosts;
	struct pair *pairs;
	size_t n_pairs;
};

static void add_pair(struct cfg_loader *l, struct route_ctx *rc, size_t listener, const char *sni,
		     yaml_node_t *at, bool is_hostname, size_t index)
{
	struct pair *p;

	for (size_t i = 0; i < rc->n_pairs; i++) {
		if (rc->pairs[i].listener == listener && !strcmp(rc->pairs[i].sni, sni))
			return;
	}
	p = cfg_push(l, &rc->pairs, &rc->n_pairs, sizeof(*p));
	if (p) {
		p->listener = listener;
		snprintf(p->sni, sizeof(p->sni), "%s", sni);
		p->at = at;
		p->is_hostname = is_hostname;
		p->index = index;
	}
}

static void route_hostnames(struct cfg_loader *l, struct route_ctx *rc, yaml_node_t *list)
{
	size_t saved = cfg_path_key(l, "hostnames");

	for (size_t i = 0; i < cfg_seq_len(list); i++) {
		yaml_node_t *item = cfg_seq_item(l, list, i);
		const char *s = cfg_scalar(item);
		char out[HOSTNAME_MAX + 1];
		enum hostname_result r;
		size_t len, saved_i = cfg_path_index(l, i);
		bool is_wildcard;
		struct route_host *h;

		r = hostname_pattern_normalize(s, strlen(s), out, &len, &is_wildcard);
		if (r != HOSTNAME_OK)
			cfg_error(l, item, "bad hostname %s: %s", cfg_quote(l, s),
				  hostname_result_str(r));
		else if (!strcmp(out, "*"))
			cfg_error(l, item,
				  "\"*\" is not a Gateway API hostname; leave hostnames out to "
				  "match every name the listener accepts");
		else if ((h = cfg_push(l, &rc->hosts, &rc->n_hosts, sizeof(*h)))) {
			memcpy(h->pattern, out, len + 1);
			h->at = item;
		}
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

/* The names both a listener hostname (NULL: any) and a route hostname (NULL:
 * any) match, as one pattern: the narrower of the two. False when none. */
static bool intersect(const char *lh, const char *rh, char *out)
{
	const char *r = !lh && !rh ? "*" : !lh ? rh : !rh ? lh : NULL;

	if (!r && cfg_pattern_covers(lh, rh))
		r = rh;
	else if (!r && cfg_pattern_covers(rh, lh))
		r = lh;
	if (r)
		snprintf(out, HOSTNAME_MAX + 1, "%s", r);
	return r != NULL;
}

/* Adds the pairs of one listener; returns why it refused the route, or NULL. */
static const char *attach_listener(struct cfg_loader *l, struct route_ctx *rc,
				   const struct gwapi_gateway *gw, const struct gwapi_listener *gl,
				   yaml_node_t *ref, size_t ref_index, char *names,
				   size_t names_len)
{
	const char *lh = gl->has_hostname ? gl->hostname : NULL;
	char out[HOSTNAME_MAX + 1];
	size_t n = 0, o = 0;

	if (gl->not_served)
		return gl->not_served;
	if (!gl->allows_tls_route)
		return "its allowedRoutes.kinds does not list TLSRoute";
	if (gl->from == GWAPI_FROM_SELECTOR)
		return "its allowedRoutes.namespaces.from: Selector is not supported";
	if (gl->from == GWAPI_FROM_SAME && strcmp(gw->ns, rc->m.ns))
		return "it allows routes from its own namespace only "
		       "(allowedRoutes.namespaces.from: Same)";
	names[0] = '\0';
	for (size_t i = 0; i < (rc->n_hosts ? rc->n_hosts : 1); i++) {
		const char *rh = rc->n_hosts ? rc->hosts[i].pattern : NULL;

		if (!intersect(lh, rh, out))
			continue;
		if (rc->n_hosts)
			add_pair(l, rc, gl->listener, out, rc->hosts[i].at, true, i);
		else
			add_pair(l, rc, gl->listener, out, ref, false, ref_index);
		if (o < names_len)
			o += (size_t)snprintf(names + o, names_len - o, "%s%s", n ? ", " : "", out);
		n++;
	}
	return n ? NULL : "no hostname of the route matches the listener's hostname";
}

static void parent_ref(struct cfg_loader *l, const struct gwapi *g, struct route_ctx *rc,
		       yaml_node_t *node, size_t index)
{
	struct cfg_val v[PR_MAX];
	struct gwapi_gateway *gw = NULL;
	const char *ns, *why = NULL, *why_listener = NULL;
	size_t n_match = 0, n_attached = 0;

	if (cfg_walk_map(l, node, parent_fields, PR_MAX, v) != 0 || !v[PR_NAME].node)
		return;
	if ((v[PR_GROUP].node && strcmp(v[PR_GROUP].str, GWAPI_GROUP)) ||
	    (v[PR_KIND].node && strcmp(v[PR_KIND].str, "Gateway"))) {
		cfg_warn(l, node,
			 "not attached: parent kind %s (group %s) is not a Gateway (sockgate "
			 "attaches TLSRoutes to Gateways only)",
			 cfg_quote(l, v[PR_KIND].node ? v[PR_KIND].str : "Gateway"),
			 cfg_quote(l, v[PR_GROUP].node ? v[PR_GROUP].str : GWAPI_GROUP));
		return;
	}
	ns = v[PR_NAMESPACE].node ? v[PR_NAMESPACE].str : rc->m.ns;
	for (size_t i = 0; i < g->n_gws && !gw; i++) {
		if (!strcmp(g->gws[i].ns, ns) && !strcmp(g->gws[i].name, v[PR_NAME].str))
			gw = &g->gws[i];
	}
	if (!gw) {
		char ref[512];

		snprintf(ref, sizeof(ref), "%s/%s", ns, v[PR_NAME].str);
		cfg_warn(l, node, "not attached: Gateway %s is not loaded", cfg_quote(l, ref));
		return;
	}
	if (!gw->is_served) {
		cfg_warn(l, node,
			 "not attached: Gateway %s/%s is of class %s, not %s (--gateway-class)",
			 gw->ns, gw->name, cfg_quote(l, gw->class_name),
			 cfg_quote(l, l->gateway_class));
		return;
	}
	for (size_t i = 0; i < gw->n_listeners; i++) {
		struct gwapi_listener *gl = &gw->listeners[i];
		char names[512];
		const char *r;

		if ((v[PR_SECTION].node && strcmp(gl->name, v[PR_SECTION].str)) ||
		    (v[PR_PORT].node && gl->port != v[PR_PORT].num))
			continue;
		n_match++;
		r = attach_listener(l, rc, gw, gl, node, index, names, sizeof(names));
		if (r) {
			why = r;
			why_listener = gl->name;
			continue;
		}
		n_attached++;
		gl->n_attached++;
		cfg_note(l, node, "attached to Gateway %s/%s listener %s (port %u) as %s", gw->ns,
			 gw->name, cfg_quote(l, gl->name), gl->port, names);
	}
	if (!n_match) {
		char port[24] = "";

		if (v[PR_PORT].node)
			snprintf(port, sizeof(port), " on port %u", (unsigned)v[PR_PORT].num);
		cfg_warn(l, node, "not attached: Gateway %s/%s has no listener%s%s%s", gw->ns,
			 gw->name, v[PR_SECTION].node ? " named " : "",
			 v[PR_SECTION].node ? cfg_quote(l, v[PR_SECTION].str) : "", port);
	} else if (!n_attached)
		cfg_warn(l, node, "not attached to Gateway %s/%s: listener %s: %s", gw->ns,
			 gw->name, cfg_quote(l, why_listener), why);
}

/* --- backends ------------------------------------------------------------------------ */

static bool is_host(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t ss_len;
	char norm[HOSTNAME_MAX + 1];
	size_t len;

	return hostname_normalize(host, strlen(host), norm, &len) == HOSTNAME_OK ||
	       cfg_parse_ip(host, 1, &ss, &ss_len) == 0;
}

static bool backend_ref(struct cfg_loader *l, const struct gwapi *g, const struct route_ctx *rc,
			yaml_node_t *node, struct cfg_route *tmpl)
{
	struct cfg_val v[BR_MAX];
	const char *group, *kind, *ns;
	struct cfg_backend *b;
	struct cfg_endpoint *e;
	char *host = NULL;
	bool is_service;

	if (cfg_walk_map(l, node, backend_fields, BR_MAX, v) != 0 || !v[BR_NAME].node)
		return false;
	group = v[BR_GROUP].node ? v[BR_GROUP].str : "";
	kind = v[BR_KIND].node ? v[BR_KIND].str : "Service";
	ns = v[BR_NAMESPACE].node ? v[BR_NAMESPACE].str : rc->m.ns;
	is_service = !strcmp(group, "") && !strcmp(kind, "Service");
	if (!is_service && !(!strcmp(group, "networking.istio.io") && !strcmp(kind, "Hostname"))) {
		cfg_error(l, node,
			  "backend kind %s (group %s) is not supported: a Service, or an Istio "
			  "Hostname (group networking.istio.io)",
			  cfg_quote(l, kind), cfg_quote(l, group));
		return false;
	}
	if (!v[BR_PORT].node) {
		cfg_error(l, node, "port is required for a %s backend", kind);
		return false;
	}
	if (is_service && !gwapi_ref_allowed(g, GWAPI_GROUP, "TLSRoute", rc->m.ns, "", "Service",
					     ns, v[BR_NAME].str)) {
		char ref[512];

		snprintf(ref, sizeof(ref), "%s/%s", ns, v[BR_NAME].str);
		cfg_path_key(l, "namespace");
		cfg_error(l, v[BR_NAMESPACE].node,
			  "Service %s is in another namespace and no ReferenceGrant in "
			  "namespace %s allows TLSRoutes of namespace %s to refer to it",
			  cfg_quote(l, ref), cfg_quote(l, ns), rc->m.ns);
		return false;
	}
	if (is_service ? asprintf(&host, SERVICE_HOST_FMT, v[BR_NAME].str, ns) < 0
		       : !(host = strdup(v[BR_NAME].str))) {
		l->err = -ENOMEM;
		return false;
	}
	if (!is_host(host)) {
		/* Looked up as written: a typo must fail now, not at every lookup. */
		cfg_path_key(l, "name");
		cfg_error(l, v[BR_NAME].node, "%s is not a host name", cfg_quote(l, host));
		free(host);
		return false;
	}
	b = cfg_push(l, &tmpl->backends, &tmpl->n_backends, sizeof(*b));
	if (!b) {
		free(host);
		return false;
	}
	b->host = host;
	b->port = (uint16_t)v[BR_PORT].num;
	b->weight = v[BR_WEIGHT].node ? (uint32_t)v[BR_WEIGHT].num : 1;
	cfg_src_set(l, &b->src, node);
	e = cfg_push(l, &b->endpoints, &b->n_endpoints, sizeof(*e));
	if (e) {
		e->port = b->port;
		if (cfg_parse_ip(host, b->port, &e->addr, &e->addr_len) == 0)
			e->is_resolved = true;
		else
			e->host = cfg_strdup(l, host);
	}
	return true;
}

static bool route_rules(struct cfg_loader *l, const struct gwapi *g, const struct route_ctx *rc,
			yaml_node_t *rules, struct cfg_route *tmpl)
{
	struct cfg_val v[RU_MAX];
	size_t saved = cfg_path_key(l, "rules");
	bool ok = true;
	uint64_t total = 0;

	if (cfg_seq_len(rules) != 1) {
		/* TLSRoute rules have no matches: several would only be merged. */
		cfg_error(l, cfg_seq_len(rules) ? cfg_seq_item(l, rules, 1) : rules,
			  "expected exactly one rule (TLSRoute rules have no matches; put every "
			  "backendRef in one rule)");
		cfg_path_pop(l, saved);
		return false;
	}
	cfg_path_index(l, 0);
	if (cfg_walk_map(l, cfg_seq_item(l, rules, 0), rule_fields, RU_MAX, v) != 0 ||
	    !v[RU_BACKENDS].node) {
		cfg_path_pop(l, saved);
		return false;
	}
	cfg_path_key(l, "backendRefs");
	if (!cfg_seq_len(v[RU_BACKENDS].node)) {
		cfg_error(l, v[RU_BACKENDS].node, "expected at least one backendRef");
		ok = false;
	}
	for (size_t i = 0; i < cfg_seq_len(v[RU_BACKENDS].node); i++) {
		size_t saved_b = cfg_path_index(l, i);

		ok &= backend_ref(l, g, rc, cfg_seq_item(l, v[RU_BACKENDS].node, i), tmpl);
		cfg_path_pop(l, saved_b);
	}
	for (size_t i = 0; i < tmpl->n_backends; i++)
		total += tmpl->backends[i].weight;
	if (ok && !total) {
		cfg_error(l, v[RU_BACKENDS].node,
			  "every backendRef has weight 0: the route would refuse every connection");
		ok = false;
	}
	cfg_path_pop(l, saved);
	return ok;
}

/* --- routes -------------------------------------------------------------------------- */

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* The sorted listeners pattern sni is attached on. */
static size_t listeners_of(const struct route_ctx *rc, const char *sni, size_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < rc->n_pairs; i++) {
		if (!strcmp(rc->pairs[i].sni, sni))
			out[n++] = rc->pairs[i].listener;
	}
	qsort(out, n, sizeof(*out), size_cmp);
	return n;
}

/* One route per set of listeners: "TLSRoute/<ns>/<name>", then "#2"... */
static void emit_routes(struct cfg_loader *l, const struct gwapi *g, struct route_ctx *rc,
			struct cfg_route *tmpl, yaml_node_t *node)
{
	size_t *a = calloc(rc->n_pairs + 1, sizeof(*a)), *b = calloc(rc->n_pairs + 1, sizeof(*b));
	bool *done = calloc(rc->n_pairs + 1, sizeof(*done));
	size_t n_routes = 0, prefix = l->path_len;

	if (!a || !b || !done) {
		l->err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rc->n_pairs && l->err == 0; i++) {
		size_t n_a, first = l->c->n_routes;
		struct cfg_route *r;
		char suffix[32] = "";

		if (done[i])
			continue;
		n_a = listeners_of(rc, rc->pairs[i].sni, a);
		r = cfg_push(l, &l->c->routes, &l->c->n_routes, sizeof(*r));
		if (!r || !(r->listeners = calloc(n_a, sizeof(*r->listeners)))) {
			l->err = -ENOMEM;
			break;
		}
		memcpy(r->listeners, a, n_a * sizeof(*a));
		r->n_listeners = n_a;
		if (n_routes)
			snprintf(suffix, sizeof(suffix), "#%zu", n_routes + 1);
		if (asprintf(&r->name, "TLSRoute/%s/%s%s", rc->m.ns, rc->m.name, suffix) < 0) {
			r->name = NULL;
			l->err = -ENOMEM;
		}
		r->is_istio = true;
		cfg_path_key(l, "spec");
		cfg_src_set(l, &r->src, node);
		cfg_path_pop(l, prefix);
		r->balance = CFG_BALANCE_ROUND_ROBIN;
		r->connect_timeout_ms = CFG_DEFAULT_CONNECT_TIMEOUT_MS;
		r->connect_retries = CFG_DEFAULT_CONNECT_RETRIES;
		/* Every pattern on exactly these listeners joins this route. */
		for (size_t j = i; j < rc->n_pairs; j++) {
			struct cfg_sni *s;
			bool seen = false;

			if (done[j] || listeners_of(rc, rc->pairs[j].sni, b) != n_a ||
			    memcmp(a, b, n_a * sizeof(*a)))
				continue;
			done[j] = true;
			for (size_t k = 0; k < r->n_snis && !seen; k++)
				seen = !strcmp(r->snis[k].pattern, rc->pairs[j].sni);
			if (seen || !(s = cfg_push(l, &r->snis, &r->n_snis, sizeof(*s))))
				continue;
			s->pattern = cfg_strdup(l, rc->pairs[j].sni);
			s->is_wildcard = rc->pairs[j].sni[0] == '*';
			cfg_path_key(l, "spec");
			cfg_path_key(l, rc->pairs[j].is_hostname ? "hostnames" : "parentRefs");
			cfg_path_index(l, rc->pairs[j].index);
			cfg_src_set(l, &s->src, rc->pairs[j].at);
			cfg_path_pop(l, prefix);
		}
		if (n_routes == 0) {
			r->backends = tmpl->backends;
			r->n_backends = tmpl->n_backends;
			tmpl->backends = NULL;
			tmpl->n_backends = 0;
		} else {
			cfg_istio_copy_backends(l, r, &l->c->routes[first - n_routes]);
		}
		cfg_path_key(l, "spec");
		cfg_istio_dr_apply(l, g->istio->dr, r, node);
		cfg_path_pop(l, prefix);
		n_routes++;
	}
out:
	free(a);
	free(b);
	free(done);
}

void gwapi_tls_route_doc(struct cfg_loader *l, const struct gwapi *g, struct cfg_doc *d)
{
	struct route_ctx rc = {0};
	struct cfg_val v[TR_MAX];
	struct cfg_route tmpl = {0};
	size_t saved;
	bool ok;

	if (cfg_istio_header(l, d, &rc.m) != 0)
		return;
	saved = cfg_path_key(l, "spec");
	if (cfg_walk_map(l, rc.m.spec, route_fields, TR_MAX, v) != 0)
		return;
	if (v[TR_HOSTNAMES].node)
		route_hostnames(l, &rc, v[TR_HOSTNAMES].node);
	ok = v[TR_RULES].node && route_rules(l, g, &rc, v[TR_RULES].node, &tmpl);
	cfg_path_pop(l, saved);
	saved = cfg_path_key(l, "spec");
	if (!cfg_seq_len(v[TR_PARENTS].node))
		cfg_warn(l, rc.m.spec, "no parentRefs: attached to no Gateway, nothing to route");
	cfg_path_key(l, "parentRefs");
	for (size_t i = 0; i < cfg_seq_len(v[TR_PARENTS].node); i++) {
		size_t saved_i = cfg_path_index(l, i);

		parent_ref(l, g, &rc, cfg_seq_item(l, v[TR_PARENTS].node, i), i);
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
	if (ok)
		emit_routes(l, g, &rc, &tmpl, rc.m.spec);
	cfg_route_fini(&tmpl);
	free(rc.hosts);
	free(rc.pairs);
}
