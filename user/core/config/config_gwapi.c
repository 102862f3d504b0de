// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_gwapi.c: Gateway API (gateway.networking.k8s.io) Gateways and
 * ReferenceGrants, collected before any TLSRoute is attached
 * (config_gwapi_route.c). Only TLS listeners in Passthrough mode are served:
 * sockgate never terminates TLS, so anything else is an error (it would be
 * served differently) or a warning (it carries no TLS at all). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_gwapi.h"
#include "hostname.h"

#define IGN_PASSTHROUGH "a Passthrough listener does not terminate TLS"

static const char *const read_kinds[] = {"Gateway", "TLSRoute", "ReferenceGrant", "GatewayClass",
					 NULL};

bool cfg_gwapi_is_read(const char *api_version, const char *kind)
{
	if (strncmp(api_version, GWAPI_GROUP "/", strlen(GWAPI_GROUP) + 1))
		return false;
	for (size_t i = 0; read_kinds[i]; i++) {
		if (!strcmp(kind, read_kinds[i]))
			return true;
	}
	return false;
}

const char *gwapi_kind(struct cfg_loader *l, struct cfg_doc *d)
{
	return cfg_scalar(cfg_map_get(l, yaml_document_get_root_node(&d->yaml), "kind"));
}

/* --- Gateway ------------------------------------------------------------------------- */

enum { GW_CLASS = 0, GW_LISTENERS, GW_ADDRESSES, GW_INFRA, GW_BACKEND_TLS, GW_ALLOWED_LS, GW_MAX };
static const struct cfg_field gateway_fields[GW_MAX] = {
	[GW_CLASS] = {.key = "gatewayClassName", .kind = CFG_K_STR, .is_required = true},
	[GW_LISTENERS] = {.key = "listeners", .kind = CFG_K_SEQ, .is_required = true},
	[GW_ADDRESSES] = {.key = "addresses",
			  .kind = CFG_K_IGNORED,
			  .note = "sockgate binds 0.0.0.0 and [::] on each listener port"},
	[GW_INFRA] = {.key = "infrastructure",
		      .kind = CFG_K_IGNORED,
		      .note = "sockgate is the gateway; nothing is provisioned"},
	[GW_BACKEND_TLS] = {.key = "backendTLS",
			    .kind = CFG_K_IGNORED,
			    .note = "sockgate passes TLS through to backends"},
	[GW_ALLOWED_LS] = {.key = "allowedListeners",
			   .kind = CFG_K_IGNORED,
			   .note = "ListenerSets are not read"},
};

enum { LS_NAME = 0, LS_HOSTNAME, LS_PORT, LS_PROTOCOL, LS_TLS, LS_ALLOWED, LS_MAX };
static const struct cfg_field listener_fields[LS_MAX] = {
	[LS_NAME] = {.key = "name", .kind = CFG_K_STR, .is_required = true},
	[LS_HOSTNAME] = {.key = "hostname", .kind = CFG_K_STR},
	[LS_PORT] = {.key = "port", .kind = CFG_K_INT, .is_required = true, .min = 1, .max = 65535},
	[LS_PROTOCOL] = {.key = "protocol", .kind = CFG_K_STR, .is_required = true},
	[LS_TLS] = {.key = "tls", .kind = CFG_K_MAP},
	[LS_ALLOWED] = {.key = "allowedRoutes", .kind = CFG_K_MAP},
};

static const char *const tls_modes[] = {"Terminate", "Passthrough", NULL};
enum { MODE_TERMINATE = 0, MODE_PASSTHROUGH };
enum { TLS_MODE = 0, TLS_CERTS, TLS_OPTIONS, TLS_FRONTEND, TLS_MAX };
static const struct cfg_field tls_fields[TLS_MAX] = {
	[TLS_MODE] = {.key = "mode", .kind = CFG_K_ENUM, .names = tls_modes},
	[TLS_CERTS] = {.key = "certificateRefs", .kind = CFG_K_IGNORED, .note = IGN_PASSTHROUGH},
	[TLS_OPTIONS] = {.key = "options", .kind = CFG_K_IGNORED, .note = IGN_PASSTHROUGH},
	[TLS_FRONTEND] = {.key = "frontendValidation",
			  .kind = CFG_K_IGNORED,
			  .note = IGN_PASSTHROUGH},
};

enum { AR_NAMESPACES = 0, AR_KINDS, AR_MAX };
static const struct cfg_field allowed_fields[AR_MAX] = {
	[AR_NAMESPACES] = {.key = "namespaces", .kind = CFG_K_MAP},
	[AR_KINDS] = {.key = "kinds", .kind = CFG_K_SEQ},
};

static const char *const from_names[] = {"Same", "All", "Selector", NULL};
enum { NS_FROM = 0, NS_SELECTOR, NS_MAX };
static const struct cfg_field namespaces_fields[NS_MAX] = {
	[NS_FROM] = {.key = "from", .kind = CFG_K_ENUM, .names = from_names},
	[NS_SELECTOR] = {.key = "selector", .kind = CFG_K_ANY},
};

enum { RK_GROUP = 0, RK_KIND, RK_MAX };
static const struct cfg_field kind_fields[RK_MAX] = {
	[RK_GROUP] = {.key = "group", .kind = CFG_K_STR},
	[RK_KIND] = {.key = "kind", .kind = CFG_K_STR, .is_required = true},
};

/* allowedRoutes: which namespaces may attach, and whether TLSRoutes may. */
static void allowed_routes(struct cfg_loader *l, yaml_node_t *node, struct gwapi_listener *gl)
{
	struct cfg_val v[AR_MAX], nv[NS_MAX];
	size_t saved = cfg_path_key(l, "allowedRoutes");

	gl->allows_tls_route = true;
	if (!node || cfg_walk_map(l, node, allowed_fields, AR_MAX, v) != 0) {
		cfg_path_pop(l, saved);
		return;
	}
	if (v[AR_NAMESPACES].node) {
		size_t saved_ns = cfg_path_key(l, "namespaces");

		cfg_walk_map(l, v[AR_NAMESPACES].node, namespaces_fields, NS_MAX, nv);
		gl->from = (enum gwapi_from)nv[NS_FROM].num;
		/* Namespace labels live in the API server, which sockgate does
		 * not read: a selector cannot be evaluated. */
		if (gl->from == GWAPI_FROM_SELECTOR) {
			cfg_path_key(l, "from");
			cfg_error(l, nv[NS_FROM].node,
				  "from: Selector needs namespace labels, which sockgate cannot "
				  "see (no Kubernetes API); use Same or All");
		}
		cfg_path_pop(l, saved_ns);
	}
	if (v[AR_KINDS].node) {
		size_t saved_k = cfg_path_key(l, "kinds");

		gl->allows_tls_route = false;
		for (size_t i = 0; i < cfg_seq_len(v[AR_KINDS].node); i++) {
			yaml_node_t *item = cfg_seq_item(l, v[AR_KINDS].node, i);
			size_t saved_i = cfg_path_index(l, i);
			struct cfg_val kv[RK_MAX];

			cfg_walk_map(l, item, kind_fields, RK_MAX, kv);
			if (kv[RK_KIND].node &&
			    (!kv[RK_GROUP].node || !strcmp(kv[RK_GROUP].str, GWAPI_GROUP)) &&
			    !strcmp(kv[RK_KIND].str, "TLSRoute"))
				gl->allows_tls_route = true;
			else if (kv[RK_KIND].node)
				cfg_warn(l, item,
					 "kind %s cannot attach to a TLS Passthrough listener; "
					 "sockgate serves TLSRoutes only",
					 cfg_quote(l, kv[RK_KIND].str));
			cfg_path_pop(l, saved_i);
		}
		cfg_path_pop(l, saved_k);
	}
	cfg_path_pop(l, saved);
}

/* Reports why the listener is not served, and returns that reason; NULL
 * when it is a TLS Passthrough listener. */
static const char *listener_kind(struct cfg_loader *l, yaml_node_t *node, struct cfg_val *v)
{
	const char *proto = v[LS_PROTOCOL].str;
	struct cfg_val tv[TLS_MAX];
	size_t saved;

	if (!strcmp(proto, "HTTP") || !strcmp(proto, "TCP") || !strcmp(proto, "UDP")) {
		cfg_path_key(l, "protocol");
		cfg_warn(l, v[LS_PROTOCOL].node,
			 "listener ignored: protocol %s carries no TLS to route by SNI; "
			 "sockgate serves TLS Passthrough listeners only",
			 cfg_quote(l, proto));
		return "not a TLS listener";
	}
	if (!strcmp(proto, "HTTPS")) {
		cfg_path_key(l, "protocol");
		cfg_error(l, v[LS_PROTOCOL].node,
			  "protocol HTTPS terminates TLS; sockgate only passes TLS through "
			  "(protocol TLS, tls.mode Passthrough)");
		return "an HTTPS listener";
	}
	if (strcmp(proto, "TLS")) {
		cfg_path_key(l, "protocol");
		cfg_error(l, v[LS_PROTOCOL].node,
			  "protocol %s is not supported; sockgate serves protocol TLS with "
			  "tls.mode Passthrough",
			  cfg_quote(l, proto));
		return "an unsupported protocol";
	}
	if (!v[LS_TLS].node) {
		/* The specification's default mode is Terminate. */
		cfg_error(l, node,
			  "protocol TLS without \"tls\" terminates TLS (mode Terminate is the "
			  "default); sockgate needs tls.mode Passthrough");
		return "a terminating listener";
	}
	saved = cfg_path_key(l, "tls");
	cfg_walk_map(l, v[LS_TLS].node, tls_fields, TLS_MAX, tv);
	cfg_path_key(l, "mode");
	if (!tv[TLS_MODE].is_bad && tv[TLS_MODE].num != MODE_PASSTHROUGH)
		cfg_error(l, tv[TLS_MODE].node ? tv[TLS_MODE].node : v[LS_TLS].node,
			  "mode Terminate%s terminates TLS; sockgate needs mode Passthrough",
			  tv[TLS_MODE].node ? "" : " (the default)");
	cfg_path_pop(l, saved);
	return tv[TLS_MODE].num == MODE_PASSTHROUGH && !tv[TLS_MODE].is_bad
		       ? NULL
		       : "a terminating listener";
}

static void listener_hostname(struct cfg_loader *l, struct gwapi_listener *gl,
			      const struct cfg_val *v)
{
	const char *s = v->str;
	enum hostname_result r;
	size_t len, saved;
	bool is_wildcard;

	if (!v->node)
		return;
	saved = cfg_path_key(l, "hostname");
	r = hostname_pattern_normalize(s, strlen(s), gl->hostname, &len, &is_wildcard);
	if (r != HOSTNAME_OK)
		cfg_error(l, v->node, "bad hostname %s: %s", cfg_quote(l, s),
			  hostname_result_str(r));
	else if (!strcmp(gl->hostname, "*"))
		cfg_error(l, v->node,
			  "\"*\" is not a Gateway API hostname; leave hostname out to match "
			  "every name");
	else
		gl->has_hostname = true;
	cfg_path_pop(l, saved);
}

static void gateway_listener(struct cfg_loader *l, struct gwapi_gateway *gw, yaml_node_t *node)
{
	struct cfg_val v[LS_MAX];
	struct gwapi_listener gl = {0}, *slot;

	if (cfg_walk_map(l, node, listener_fields, LS_MAX, v) != 0 || !v[LS_NAME].node ||
	    !v[LS_PORT].node || !v[LS_PROTOCOL].node)
		return;
	gl.name = v[LS_NAME].str;
	gl.port = (uint16_t)v[LS_PORT].num;
	listener_hostname(l, &gl, &v[LS_HOSTNAME]);
	for (size_t i = 0; i < gw->n_listeners; i++) {
		const struct gwapi_listener *o = &gw->listeners[i];

		if (!strcmp(o->name, gl.name)) {
			cfg_path_key(l, "name");
			cfg_error(l, v[LS_NAME].node, "listener name %s is used twice",
				  cfg_quote(l, gl.name));
			return;
		}
		if (o->port == gl.port && o->has_hostname == gl.has_hostname &&
		    !strcmp(o->hostname, gl.hostname)) {
			cfg_error(l, node,
				  "listener %s conflicts with listener %s: same port %u and "
				  "hostname",
				  cfg_quote(l, gl.name), cfg_quote(l, o->name), gl.port);
			return;
		}
	}
	{
		size_t saved = l->path_len;

		gl.not_served = listener_kind(l, node, v);
		cfg_path_pop(l, saved);
	}
	allowed_routes(l, v[LS_ALLOWED].node, &gl);
	cfg_src_set(l, &gl.src, node);
	if (!gl.not_served) {
		gl.listener = cfg_istio_listener(l, gl.port, gw->name, node);
		if (gl.listener == SIZE_MAX) {
			cfg_src_fini(&gl.src);
			return;
		}
	}
	slot = cfg_push(l, &gw->listeners, &gw->n_listeners, sizeof(*slot));
	if (slot)
		*slot = gl;
	else
		cfg_src_fini(&gl.src);
}

static void gateway_doc(struct cfg_loader *l, struct gwapi *g, struct cfg_doc *d)
{
	struct cfg_val v[GW_MAX];
	struct cfg_istio_meta m;
	struct gwapi_gateway *gw;
	yaml_node_t *cls;
	size_t saved;

	if (cfg_istio_header(l, d, &m) != 0)
		return;
	saved = cfg_path_key(l, "spec");
	for (size_t i = 0; i < g->n_gws; i++) {
		if (!strcmp(g->gws[i].ns, m.ns) && !strcmp(g->gws[i].name, m.name)) {
			cfg_error(l, yaml_document_get_root_node(l->doc),
				  "Gateway %s/%s is defined twice", m.ns, m.name);
			return;
		}
	}
	gw = cfg_push(l, &g->gws, &g->n_gws, sizeof(*gw));
	if (!gw)
		return;
	gw->ns = m.ns;
	gw->name = m.name;
	/* A Gateway of another class is another controller's: do not check it. */
	cls = cfg_map_get(l, m.spec, "gatewayClassName");
	gw->class_name = cfg_scalar(cls);
	if (cls && cls->type == YAML_SCALAR_NODE && strcmp(gw->class_name, l->gateway_class)) {
		cfg_path_key(l, "gatewayClassName");
		cfg_warn(l, cls, "Gateway skipped: its class %s is not %s (--gateway-class)",
			 cfg_quote(l, gw->class_name), cfg_quote(l, l->gateway_class));
		return;
	}
	if (cfg_walk_map(l, m.spec, gateway_fields, GW_MAX, v) != 0 || !v[GW_CLASS].node)
		return;
	gw->is_served = true;
	cfg_path_key(l, "listeners");
	if (!cfg_seq_len(v[GW_LISTENERS].node))
		cfg_error(l, v[GW_LISTENERS].node, "expected at least one listener");
	for (size_t i = 0; i < cfg_seq_len(v[GW_LISTENERS].node); i++) {
		size_t saved_i = cfg_path_index(l, i);

		gateway_listener(l, gw, cfg_seq_item(l, v[GW_LISTENERS].node, i));
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

/* --- ReferenceGrant ------------------------------------------------------------------ */

enum { RG_FROM = 0, RG_TO, RG_MAX };
static const struct cfg_field grant_fields[RG_MAX] = {
	[RG_FROM] = {.key = "from", .kind = CFG_K_SEQ, .is_required = true},
	[RG_TO] = {.key = "to", .kind = CFG_K_SEQ, .is_required = true},
};

enum { GF_GROUP = 0, GF_KIND, GF_NAMESPACE, GF_MAX };
static const struct cfg_field grant_from_fields[GF_MAX] = {
	[GF_GROUP] = {.key = "group", .kind = CFG_K_STR},
	[GF_KIND] = {.key = "kind", .kind = CFG_K_STR, .is_required = true},
	[GF_NAMESPACE] = {.key = "namespace", .kind = CFG_K_STR, .is_required = true},
};

enum { GT_GROUP = 0, GT_KIND, GT_NAME, GT_MAX };
static const struct cfg_field grant_to_fields[GT_MAX] = {
	[GT_GROUP] = {.key = "group", .kind = CFG_K_STR},
	[GT_KIND] = {.key = "kind", .kind = CFG_K_STR, .is_required = true},
	[GT_NAME] = {.key = "name", .kind = CFG_K_STR},
};

/* The core group is written "" (or left out). */
static const char *group_of(const struct cfg_val *v)
{
	return v->node ? v->str : "";
}

static void grant_from(struct cfg_loader *l, struct gwapi_grant *gr, yaml_node_t *list)
{
	size_t saved = cfg_path_key(l, "from");

	for (size_t i = 0; i < cfg_seq_len(list); i++) {
		size_t saved_i = cfg_path_index(l, i);
		struct cfg_val v[GF_MAX];
		struct gwapi_grant_from *f;

		if (cfg_walk_map(l, cfg_seq_item(l, list, i), grant_from_fields, GF_MAX, v) == 0 &&
		    v[GF_KIND].node && v[GF_NAMESPACE].node &&
		    (f = cfg_push(l, &gr->from, &gr->n_from, sizeof(*f))))
			*f = (struct gwapi_grant_from){group_of(&v[GF_GROUP]), v[GF_KIND].str,
						       v[GF_NAMESPACE].str};
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

static void grant_to(struct cfg_loader *l, struct gwapi_grant *gr, yaml_node_t *list)
{
	size_t saved = cfg_path_key(l, "to");

	for (size_t i = 0; i < cfg_seq_len(list); i++) {
		size_t saved_i = cfg_path_index(l, i);
		struct cfg_val v[GT_MAX];
		struct gwapi_grant_to *t;

		if (cfg_walk_map(l, cfg_seq_item(l, list, i), grant_to_fields, GT_MAX, v) == 0 &&
		    v[GT_KIND].node && (t = cfg_push(l, &gr->to, &gr->n_to, sizeof(*t))))
			*t = (struct gwapi_grant_to){group_of(&v[GT_GROUP]), v[GT_KIND].str,
						     v[GT_NAME].node ? v[GT_NAME].str : NULL};
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

static void grant_doc(struct cfg_loader *l, struct gwapi *g, struct cfg_doc *d)
{
	struct cfg_val v[RG_MAX];
	struct cfg_istio_meta m;
	struct gwapi_grant *gr;

	if (cfg_istio_header(l, d, &m) != 0)
		return;
	cfg_path_key(l, "spec");
	if (cfg_walk_map(l, m.spec, grant_fields, RG_MAX, v) != 0)
		return;
	gr = cfg_push(l, &g->grants, &g->n_grants, sizeof(*gr));
	if (!gr)
		return;
	gr->ns = m.ns;
	grant_from(l, gr, v[RG_FROM].node);
	grant_to(l, gr, v[RG_TO].node);
}

bool gwapi_ref_allowed(const struct gwapi *g, const char *from_group, const char *from_kind,
		       const char *from_ns, const char *to_group, const char *to_kind,
		       const char *to_ns, const char *to_name)
{
	if (!strcmp(from_ns, to_ns))
		return true;
	for (size_t i = 0; i < g->n_grants; i++) {
		const struct gwapi_grant *gr = &g->grants[i];
		bool from_ok = false;

		if (strcmp(gr->ns, to_ns))
			continue;
		for (size_t f = 0; f < gr->n_from && !from_ok; f++)
			from_ok = !strcmp(gr->from[f].group, from_group) &&
				  !strcmp(gr->from[f].kind, from_kind) &&
				  !strcmp(gr->from[f].ns, from_ns);
		for (size_t t = 0; from_ok && t < gr->n_to; t++) {
			if (!strcmp(gr->to[t].group, to_group) &&
			    !strcmp(gr->to[t].kind, to_kind) &&
			    (!gr->to[t].name || !strcmp(gr->to[t].name, to_name)))
				return true;
		}
	}
	return false;
}

/* --- the whole API ------------------------------------------------------------------- */

/* In the Gateway API a name goes to the listener with the most specific
 * hostname matching it, routes or not; sockgate has one table per port, where
 * a name no route of that listener claims falls to a wider pattern. That only
 * differs when the specific listener has no route: say so. */
static void check_shadowed(struct cfg_loader *l, const struct gwapi *g)
{
	for (size_t i = 0; i < g->n_gws; i++) {
		for (size_t j = 0; j < g->gws[i].n_listeners; j++) {
			const struct gwapi_listener *b = &g->gws[i].listeners[j];
			const struct gwapi_listener *a = NULL;

			if (b->not_served || !b->has_hostname || b->n_attached)
				continue;
			for (size_t k = 0; k < g->n_gws && !a; k++) {
				for (size_t m = 0; m < g->gws[k].n_listeners && !a; m++) {
					const struct gwapi_listener *o = &g->gws[k].listeners[m];

					if (o != b && !o->not_served && o->n_attached &&
					    o->port == b->port &&
					    (!o->has_hostname ||
					     (strcmp(o->hostname, b->hostname) &&
					      cfg_pattern_covers(o->hostname, b->hostname))))
						a = o;
				}
			}
			if (a)
				cfg_diag_src(
					l->diags, &b->src, true, &l->err,
					"no TLSRoute attached: the Gateway API would refuse %s "
					"here, sockgate serves it by the routes of listener %s "
					"(port %u)",
					b->hostname, cfg_quote(l, a->name), a->port);
		}
	}
}

void cfg_gwapi_build(struct cfg_loader *l, const struct cfg_istio *is)
{
	struct gwapi g = {.istio = is};

	for (size_t i = 0; i < l->n_docs; i++) {
		struct cfg_doc *d = l->docs[i];
		struct cfg_istio_meta m;

		cfg_loader_enter(l, d);
		if (cfg_doc_type(l, yaml_document_get_root_node(l->doc)) != CFG_DOC_GWAPI)
			continue;
		if (!strcmp(gwapi_kind(l, d), "Gateway"))
			gateway_doc(l, &g, d);
		else if (!strcmp(gwapi_kind(l, d), "ReferenceGrant"))
			grant_doc(l, &g, d);
		else if (!strcmp(gwapi_kind(l, d), "GatewayClass"))
			/* Its controllerName says who implements the class; the class is
			 * chosen by name (--gateway-class), so only the header is checked. */
			cfg_istio_header(l, d, &m);
	}
	for (size_t i = 0; i < l->n_docs && l->err == 0; i++) {
		cfg_loader_enter(l, l->docs[i]);
		if (cfg_doc_type(l, yaml_document_get_root_node(l->doc)) == CFG_DOC_GWAPI &&
		    !strcmp(gwapi_kind(l, l->docs[i]), "TLSRoute"))
			gwapi_tls_route_doc(l, &g, l->docs[i]);
	}
	if (l->err == 0)
		check_shadowed(l, &g);
	for (size_t i = 0; i < g.n_gws; i++) {
		for (size_t j = 0; j < g.gws[i].n_listeners; j++)
			cfg_src_fini(&g.gws[i].listeners[j].src);
		free(g.gws[i].listeners);
	}
	for (size_t i = 0; i < g.n_grants; i++) {
		free(g.grants[i].from);
		free(g.grants[i].to);
	}
	free(g.gws);
	free(g.grants);
}
