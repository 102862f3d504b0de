// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_istio.c: Istio Gateway and VirtualService documents into listeners and
 * routes; WorkloadEntries, ServiceEntries, DestinationRules and route destinations
 * are config_istio_we.c/_se.c/_dr.c/_dest.c. Runs after every file is parsed,
 * Gateways first, so documents may come in any order and file.
 * docs/CONFIG.md "Istio" states each rule implemented here and why. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config_yaml.h"
#include "hostname.h"

enum { DOC_API = 0, DOC_KIND, DOC_METADATA, DOC_SPEC, DOC_STATUS, DOC_MAX };
static const struct cfg_field doc_fields[DOC_MAX] = {
	[DOC_API] = {.key = "apiVersion", .kind = CFG_K_STR, .is_required = true},
	[DOC_KIND] = {.key = "kind", .kind = CFG_K_STR, .is_required = true},
	[DOC_METADATA] = {.key = "metadata", .kind = CFG_K_MAP, .is_required = true},
	[DOC_SPEC] = {.key = "spec", .kind = CFG_K_MAP, .is_required = true},
	[DOC_STATUS] = {.key = "status", .kind = CFG_K_ANY},
};

/* Kubernetes ObjectMeta: what kubectl writes is accepted, only two keys are read. */
enum { MD_NAME = 0, MD_NAMESPACE, MD_LABELS, MD_MAX = 15 };
static const struct cfg_field meta_fields[MD_MAX] = {
	[MD_NAME] = {.key = "name", .kind = CFG_K_STR, .is_required = true},
	[MD_NAMESPACE] = {.key = "namespace", .kind = CFG_K_STR},
	[MD_LABELS] = {.key = "labels", .kind = CFG_K_STR_MAP},
	{.key = "annotations", .kind = CFG_K_ANY},
	{.key = "generateName", .kind = CFG_K_ANY},
	{.key = "uid", .kind = CFG_K_ANY},
	{.key = "resourceVersion", .kind = CFG_K_ANY},
	{.key = "generation", .kind = CFG_K_ANY},
	{.key = "creationTimestamp", .kind = CFG_K_ANY},
	{.key = "deletionTimestamp", .kind = CFG_K_ANY},
	{.key = "deletionGracePeriodSeconds", .kind = CFG_K_ANY},
	{.key = "ownerReferences", .kind = CFG_K_ANY},
	{.key = "finalizers", .kind = CFG_K_ANY},
	{.key = "managedFields", .kind = CFG_K_ANY},
	{.key = "selfLink", .kind = CFG_K_ANY},
};

#define IGN_NOT_TERMINATED "sockgate does not terminate TLS"
#define IGN_SNI_ONLY	   "sockgate routes TLS by SNI only"

enum { GW_SELECTOR = 0, GW_SERVERS, GW_MAX };
static const struct cfg_field gateway_fields[GW_MAX] = {
	[GW_SELECTOR] = {.key = "selector", .kind = CFG_K_STR_MAP},
	[GW_SERVERS] = {.key = "servers", .kind = CFG_K_SEQ, .is_required = true},
};

enum { SV_PORT = 0, SV_HOSTS, SV_TLS, SV_NAME, SV_BIND, SV_DEFAULT_EP, SV_MAX };
static const struct cfg_field server_fields[SV_MAX] = {
	[SV_PORT] = {.key = "port", .kind = CFG_K_MAP, .is_required = true},
	[SV_HOSTS] = {.key = "hosts", .kind = CFG_K_STR_LIST, .is_required = true},
	[SV_TLS] = {.key = "tls", .kind = CFG_K_MAP},
	[SV_NAME] = {.key = "name", .kind = CFG_K_ANY},
	[SV_BIND] = {.key = "bind",
		     .kind = CFG_K_IGNORED,
		     .note = "sockgate binds 0.0.0.0 on port.number"},
	[SV_DEFAULT_EP] = {.key = "defaultEndpoint", .kind = CFG_K_IGNORED, .note = IGN_SNI_ONLY},
};

enum { PT_NUMBER = 0, PT_PROTOCOL, PT_NAME, PT_TARGET, PT_MAX };
static const struct cfg_field port_fields[PT_MAX] = {
	[PT_NUMBER] =
		{.key = "number", .kind = CFG_K_INT, .is_required = true, .min = 1, .max = 65535},
	[PT_PROTOCOL] = {.key = "protocol", .kind = CFG_K_STR, .is_required = true},
	[PT_NAME] = {.key = "name", .kind = CFG_K_STR},
	[PT_TARGET] = {.key = "targetPort",
		       .kind = CFG_K_IGNORED,
		       .note = "sockgate listens on port.number"},
};

static const char *const tls_modes[] = {
	"PASSTHROUGH",	"SIMPLE",	   "MUTUAL", "AUTO_PASSTHROUGH",
	"ISTIO_MUTUAL", "OPTIONAL_MUTUAL", NULL};
enum { MODE_PASSTHROUGH = 0, MODE_SIMPLE, MODE_MUTUAL, MODE_AUTO_PASSTHROUGH };
enum { TLS_MODE = 0, TLS_REDIRECT, TLS_MAX = 16 };
static const struct cfg_field tls_fields[TLS_MAX] = {
	[TLS_MODE] = {.key = "mode", .kind = CFG_K_ENUM, .names = tls_modes},
	[TLS_REDIRECT] = {.key = "httpsRedirect", .kind = CFG_K_IGNORED, .note = IGN_SNI_ONLY},
	{.key = "serverCertificate", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "privateKey", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "caCertificates", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "caCrl", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "credentialName", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "credentialNames", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "tlsCertificates", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "subjectAltNames", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "verifyCertificateSpki", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "verifyCertificateHash", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "minProtocolVersion", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "maxProtocolVersion", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "cipherSuites", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
	{.key = "ecdhCurves", .kind = CFG_K_IGNORED, .note = IGN_NOT_TERMINATED},
};

/* Server port protocols Istio knows; only HTTPS and TLS can carry passthrough. */
static const char *const protocols[] = {"HTTPS", "TLS",	  "HTTP",  "HTTP2", "GRPC", "GRPC-WEB",
					"TCP",	 "MONGO", "REDIS", "MYSQL", "UDP",  NULL};

/* --- documents ------------------------------------------------------------------ */

yaml_node_t *cfg_map_get(struct cfg_loader *l, yaml_node_t *map, const char *key)
{
	for (size_t i = 0; i < cfg_map_len(map); i++) {
		yaml_node_t *k, *v;

		cfg_map_pair(l, map, i, &k, &v);
		if (k->type == YAML_SCALAR_NODE && !strcmp(cfg_scalar(k), key))
			return v;
	}
	return NULL;
}

enum cfg_doc_type cfg_doc_type(struct cfg_loader *l, yaml_node_t *root)
{
	static const char *const kinds[] = {"Gateway", "VirtualService", "ServiceEntry",
					    "DestinationRule", "WorkloadEntry"};
	yaml_node_t *api, *kind;

	if (cfg_is_null(root))
		return CFG_DOC_EMPTY;
	if (root->type != YAML_MAPPING_NODE)
		return CFG_DOC_NATIVE;
	api = cfg_map_get(l, root, "apiVersion");
	kind = cfg_map_get(l, root, "kind");
	if (!api && !kind)
		return CFG_DOC_NATIVE;
	if (cfg_gwapi_is_read(cfg_scalar(api), cfg_scalar(kind)))
		return CFG_DOC_GWAPI;
	if (strncmp(cfg_scalar(api), "networking.istio.io/", 20))
		return CFG_DOC_OTHER;
	for (int i = 0; i < 5; i++) {
		if (!strcmp(cfg_scalar(kind), kinds[i]))
			return (enum cfg_doc_type)(CFG_DOC_GATEWAY + i);
	}
	return CFG_DOC_OTHER;
}

/* Kubernetes object names: DNS-1123 subdomains (namespaces: labels, ≤ 63). */
static bool is_k8s_name(const char *s, size_t max_len)
{
	size_t n = strlen(s);

	if (n == 0 || n > max_len || s[0] == '-' || s[0] == '.' || s[n - 1] == '-' ||
	    s[n - 1] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

/* Starts the path with "<Kind>/<name>:" ("<Kind>:" while the name is unusable). */
static void doc_prefix(struct cfg_loader *l, yaml_node_t *root)
{
	const char *kind = cfg_scalar(cfg_map_get(l, root, "kind"));
	const char *name = cfg_scalar(cfg_map_get(l, cfg_map_get(l, root, "metadata"), "name"));

	cfg_path_raw(l, cfg_is_name(kind, 63) ? kind : "document");
	if (is_k8s_name(name, 253)) {
		cfg_path_raw(l, "/");
		cfg_path_raw(l, name);
	}
	cfg_path_raw(l, ":");
}

int cfg_istio_header(struct cfg_loader *l, struct cfg_doc *d, struct cfg_istio_meta *m)
{
	yaml_node_t *root = yaml_document_get_root_node(&d->yaml);
	struct cfg_val v[DOC_MAX], md[MD_MAX];
	size_t saved;

	cfg_loader_enter(l, d);
	memset(m, 0, sizeof(*m));
	m->kind = cfg_scalar(cfg_map_get(l, root, "kind"));
	/* The prefix names the object before its own keys are checked. */
	doc_prefix(l, root);
	if (cfg_walk_map(l, root, doc_fields, DOC_MAX, v) != 0 || !v[DOC_METADATA].node)
		return -1;
	saved = cfg_path_key(l, "metadata");
	cfg_walk_map(l, v[DOC_METADATA].node, meta_fields, MD_MAX, md);
	m->name = md[MD_NAME].str;
	m->ns = md[MD_NAMESPACE].node ? md[MD_NAMESPACE].str : "default";
	cfg_path_key(l, "name");
	if (md[MD_NAME].node && !is_k8s_name(m->name, 253)) {
		cfg_error(
			l, md[MD_NAME].node,
			"expected a Kubernetes name (lowercase letters, digits, '-', '.'), got %s",
			cfg_quote(l, m->name));
		m->name = NULL;
	}
	cfg_path_pop(l, saved);
	cfg_path_key(l, "metadata.namespace");
	if (md[MD_NAMESPACE].node && (!is_k8s_name(m->ns, 63) || strchr(m->ns, '.'))) {
		cfg_error(l, md[MD_NAMESPACE].node, "expected a Kubernetes namespace, got %s",
			  cfg_quote(l, m->ns));
		m->ns = NULL;
	}
	cfg_path_pop(l, saved);
	/* A bad name is reported; the spec is still checked so every error shows. */
	m->name = m->name ? m->name : "";
	m->ns = m->ns ? m->ns : "default";
	m->spec = v[DOC_SPEC].node;
	return m->spec ? 0 : -1;
}

static void skip_other(struct cfg_loader *l, struct cfg_doc *d)
{
	yaml_node_t *root = yaml_document_get_root_node(&d->yaml), *api, *kind;

	cfg_loader_enter(l, d);
	api = cfg_map_get(l, root, "apiVersion");
	kind = cfg_map_get(l, root, "kind");
	doc_prefix(l, root);
	if (!api || !kind || api->type != YAML_SCALAR_NODE || kind->type != YAML_SCALAR_NODE)
		cfg_error(l, root, "a Kubernetes resource needs both apiVersion and kind");
	else if (!strncmp(cfg_scalar(api), "gateway.networking.k8s.io/", 26))
		cfg_warn(l, root,
			 "skipped: Gateway API kind %s is not supported (sockgate serves TLSRoutes "
			 "on TLS Passthrough listeners)",
			 cfg_quote(l, cfg_scalar(kind)));
	else if (!strncmp(cfg_scalar(api), "networking.istio.io/", 20))
		cfg_warn(l, root, "skipped: Istio kind %s is not supported",
			 cfg_quote(l, cfg_scalar(kind)));
	else
		cfg_warn(l, root, "skipped: %s %s is not an Istio networking resource",
			 cfg_quote(l, cfg_scalar(api)), cfg_quote(l, cfg_scalar(kind)));
}

/* --- Gateway ------------------------------------------------------------------------ */

/* Every selector key=value must be among the agent labels (an empty selector
 * selects every gateway, as in Istio). */
static bool selector_matches(struct cfg_loader *l, yaml_node_t *sel)
{
	for (size_t i = 0; i < cfg_map_len(sel); i++) {
		yaml_node_t *k, *v;
		bool found = false;

		cfg_map_pair(l, sel, i, &k, &v);
		for (size_t j = 0; j < l->n_labels && !found; j++) {
			const char *label = l->labels[j], *eq = strchr(label, '=');
			size_t klen = eq ? (size_t)(eq - label) : 0;

			found = eq && klen == strlen(cfg_scalar(k)) &&
				!memcmp(label, cfg_scalar(k), klen) &&
				!strcmp(eq + 1, cfg_scalar(v));
		}
		if (!found)
			return false;
	}
	return true;
}

/* One listener per port over all Gateways, as Istio merges servers per port. */
size_t cfg_istio_listener(struct cfg_loader *l, uint16_t port, const char *gw_name,
			  yaml_node_t *node)
{
	struct config *c = l->c;
	struct cfg_listener *ls;

	for (size_t i = 0; i < c->n_listeners; i++) {
		if (c->listeners[i].is_istio && c->listeners[i].port == port)
			return i;
	}
	ls = cfg_push(l, &c->listeners, &c->n_listeners, sizeof(*ls));
	if (!ls)
		return SIZE_MAX;
	if (asprintf(&ls->name, "%s:%u", gw_name, port) < 0) {
		ls->name = NULL;
		l->err = -ENOMEM;
	}
	cfg_parse_ip("0.0.0.0", port, &ls->addr, &ls->addr_len);
	ls->port = port;
	ls->hello_timeout_ms = CFG_DEFAULT_HELLO_TIMEOUT_MS;
	ls->max_hello_bytes = CFG_DEFAULT_MAX_HELLO_BYTES;
	ls->max_pending_hellos = CFG_DEFAULT_MAX_PENDING_HELLOS;
	ls->defer_accept_ms = CFG_DEFAULT_DEFER_ACCEPT_MS;
	ls->is_istio = true;
	cfg_src_set(l, &ls->src, node);
	return c->n_listeners - 1;
}

/* "ns/host", "*\/host", "./host" or "host": the namespace part says which
 * VirtualServices may bind the host. */
static void server_hosts(struct cfg_loader *l, struct cfg_gw_server *sv, const char *gw_ns,
			 const struct cfg_val *v)
{
	size_t saved = cfg_path_key(l, "hosts");

	if (!cfg_seq_len(v->node))
		cfg_error(l, v->node, "expected at least one host");
	for (size_t i = 0; i < cfg_seq_len(v->node); i++) {
		yaml_node_t *item = cfg_seq_item(l, v->node, i);
		const char *s = cfg_scalar(item), *slash = strchr(s, '/');
		const char *host = slash ? slash + 1 : s;
		enum hostname_result r;
		struct cfg_gw_host *h;
		size_t len, saved_i = cfg_path_index(l, i);
		bool is_wildcard;
		char out[HOSTNAME_MAX + 1];

		r = hostname_pattern_normalize(host, strlen(host), out, &len, &is_wildcard);
		if (r != HOSTNAME_OK) {
			cfg_error(l, item, "bad host %s: %s", cfg_quote(l, s),
				  hostname_result_str(r));
		} else if ((h = cfg_push(l, &sv->hosts, &sv->n_hosts, sizeof(*h)))) {
			memcpy(h->pattern, out, len + 1);
			if (slash && !(slash - s == 1 && s[0] == '*')) {
				h->ns = strndup(s, (size_t)(slash - s));
				if (h->ns && !strcmp(h->ns, ".")) {
					free(h->ns);
					h->ns = strdup(gw_ns);
				}
				if (!h->ns)
					l->err = -ENOMEM;
			}
		}
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

/* Is this server's traffic TLS we may pass through? Reports why not. */
static bool server_is_passthrough(struct cfg_loader *l, yaml_node_t *node, struct cfg_val *v,
				  struct cfg_val *pv)
{
	const char *proto = pv[PT_PROTOCOL].str;
	struct cfg_val tv[TLS_MAX];
	size_t saved, i;

	for (i = 0; protocols[i] && strcasecmp(proto, protocols[i]); i++)
		;
	saved = cfg_path_key(l, "port.protocol");
	if (!protocols[i])
		cfg_error(l, pv[PT_PROTOCOL].node, "unknown protocol %s", cfg_quote(l, proto));
	else if (i > 1)
		cfg_warn(l, pv[PT_PROTOCOL].node, "server ignored: protocol %s: %s",
			 cfg_quote(l, proto), IGN_SNI_ONLY);
	cfg_path_pop(l, saved);
	if (i > 1 || v[SV_TLS].is_bad)
		return false;
	if (!v[SV_TLS].node) {
		cfg_error(l, node, "protocol %s needs \"tls\" with mode PASSTHROUGH",
			  cfg_quote(l, proto));
		return false;
	}
	saved = cfg_path_key(l, "tls");
	cfg_walk_map(l, v[SV_TLS].node, tls_fields, TLS_MAX, tv);
	cfg_path_key(l, "mode");
	/* Istio's TLSmode enum starts at PASSTHROUGH, so no mode means passthrough. */
	if (tv[TLS_MODE].num != MODE_PASSTHROUGH && tv[TLS_MODE].num != MODE_AUTO_PASSTHROUGH)
		cfg_error(l, tv[TLS_MODE].node,
			  "mode %s terminates TLS; sockgate only passes TLS through "
			  "(PASSTHROUGH, AUTO_PASSTHROUGH)",
			  tv[TLS_MODE].str);
	else if (tv[TLS_MODE].num == MODE_AUTO_PASSTHROUGH)
		cfg_warn(l, tv[TLS_MODE].node,
			 "AUTO_PASSTHROUGH is served as PASSTHROUGH: routes come from "
			 "VirtualService tls routes, not from the SNI");
	cfg_path_pop(l, saved);
	return !tv[TLS_MODE].is_bad &&
	       (tv[TLS_MODE].num == MODE_PASSTHROUGH || tv[TLS_MODE].num == MODE_AUTO_PASSTHROUGH);
}

static void gateway_server(struct cfg_loader *l, struct cfg_gateway *gw, yaml_node_t *node)
{
	struct cfg_val v[SV_MAX], pv[PT_MAX];
	struct cfg_gw_server sv = {0}, *slot;
	size_t saved;

	if (cfg_walk_map(l, node, server_fields, SV_MAX, v) != 0 || !v[SV_PORT].node)
		return;
	saved = cfg_path_key(l, "port");
	cfg_walk_map(l, v[SV_PORT].node, port_fields, PT_MAX, pv);
	cfg_path_pop(l, saved);
	if (!pv[PT_NUMBER].node || !pv[PT_PROTOCOL].node ||
	    !server_is_passthrough(l, node, v, pv) || !v[SV_HOSTS].node)
		return;
	sv.port = (uint16_t)pv[PT_NUMBER].num;
	server_hosts(l, &sv, gw->ns, &v[SV_HOSTS]);
	sv.listener = cfg_istio_listener(l, sv.port, gw->name, node);
	slot = cfg_push(l, &gw->servers, &gw->n_servers, sizeof(*slot));
	if (slot && sv.listener != SIZE_MAX) {
		*slot = sv;
		return;
	}
	for (size_t i = 0; i < sv.n_hosts; i++)
		free(sv.hosts[i].ns);
	free(sv.hosts);
}

static void gateway_doc(struct cfg_loader *l, struct cfg_istio *is, struct cfg_doc *d)
{
	struct cfg_val v[GW_MAX];
	struct cfg_istio_meta m;
	struct cfg_gateway *gw;
	yaml_node_t *sel;
	size_t saved;

	if (cfg_istio_header(l, d, &m) != 0)
		return;
	saved = cfg_path_key(l, "spec");
	/* A Gateway for another workload is none of our business: do not check it. */
	sel = cfg_map_get(l, m.spec, "selector");
	if (sel && sel->type == YAML_MAPPING_NODE && !selector_matches(l, sel)) {
		cfg_path_key(l, "selector");
		cfg_warn(l, sel, "Gateway skipped: its selector does not match the agent labels");
		return;
	}
	if (cfg_walk_map(l, m.spec, gateway_fields, GW_MAX, v) != 0)
		return;
	for (size_t i = 0; i < is->n_gws; i++) {
		if (!strcmp(is->gws[i].ns, m.ns) && !strcmp(is->gws[i].name, m.name)) {
			cfg_error(l, yaml_document_get_root_node(l->doc),
				  "Gateway %s/%s is defined twice", m.ns, m.name);
			return;
		}
	}
	gw = cfg_push(l, &is->gws, &is->n_gws, sizeof(*gw));
	if (!gw)
		return;
	gw->ns = m.ns;
	gw->name = m.name;
	cfg_path_key(l, "servers");
	for (size_t i = 0; i < cfg_seq_len(v[GW_SERVERS].node); i++) {
		size_t saved_i = cfg_path_index(l, i);

		gateway_server(l, gw, cfg_seq_item(l, v[GW_SERVERS].node, i));
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

void cfg_istio_build(struct cfg_loader *l)
{
	struct cfg_istio is = {0};
	struct cfg_istio_we *we;

	for (size_t i = 0; i < l->n_docs; i++) {
		cfg_loader_enter(l, l->docs[i]);
		switch (cfg_doc_type(l, yaml_document_get_root_node(l->doc))) {
		case CFG_DOC_GATEWAY:
			gateway_doc(l, &is, l->docs[i]);
			break;
		case CFG_DOC_OTHER:
			skip_other(l, l->docs[i]);
			break;
		default:
			break;
		}
	}
	we = cfg_istio_we_collect(l);
	is.se = we ? cfg_istio_se_collect(l, we) : NULL;
	is.dr = cfg_istio_dr_collect(l);
	for (size_t i = 0; is.se && is.dr && i < l->n_docs; i++) {
		cfg_loader_enter(l, l->docs[i]);
		if (cfg_doc_type(l, yaml_document_get_root_node(l->doc)) == CFG_DOC_VIRTUAL_SERVICE)
			cfg_istio_vs_doc(l, &is, l->docs[i]);
	}
	if (is.se && is.dr)
		cfg_gwapi_build(l, &is);
	for (size_t i = 0; i < is.n_gws; i++) {
		for (size_t s = 0; s < is.gws[i].n_servers; s++) {
			for (size_t h = 0; h < is.gws[i].servers[s].n_hosts; h++)
				free(is.gws[i].servers[s].hosts[h].ns);
			free(is.gws[i].servers[s].hosts);
		}
		free(is.gws[i].servers);
	}
	free(is.gws);
	cfg_istio_se_free(is.se);
	cfg_istio_we_free(we);
	cfg_istio_dr_free(is.dr);
}
