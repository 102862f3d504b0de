// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_istio_se.c: Istio ServiceEntries, and the endpoints they give a route
 * destination (config_istio_dest.c). A destination whose host a ServiceEntry
 * lists takes that entry's endpoints (listed, or the WorkloadEntries its
 * workloadSelector picks; port mapped by the ServiceEntry port's name and
 * targetPort), only those its subset's labels select; any other host is left
 * for config_resolve(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config_yaml.h"
#include "hostname.h"

static const char *const resolutions[] = {"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", NULL};
enum { RES_NONE = 0, RES_STATIC, RES_DNS, RES_DNS_RR };

enum { SE_HOSTS = 0, SE_PORTS, SE_RESOLUTION, SE_ENDPOINTS, SE_WLS, SE_MAX = 9 };
static const struct cfg_field se_fields[SE_MAX] = {
	[SE_HOSTS] = {.key = "hosts", .kind = CFG_K_STR_LIST, .is_required = true},
	[SE_PORTS] = {.key = "ports", .kind = CFG_K_SEQ},
	[SE_RESOLUTION] = {.key = "resolution", .kind = CFG_K_ENUM, .names = resolutions},
	[SE_ENDPOINTS] = {.key = "endpoints", .kind = CFG_K_SEQ},
	[SE_WLS] = {.key = "workloadSelector", .kind = CFG_K_MAP},
	{.key = "addresses", .kind = CFG_K_ANY},
	{.key = "location", .kind = CFG_K_ANY},
	{.key = "exportTo", .kind = CFG_K_ANY},
	{.key = "subjectAltNames", .kind = CFG_K_ANY},
};

enum { WS_LABELS = 0, WS_MAX };
static const struct cfg_field wls_fields[WS_MAX] = {
	[WS_LABELS] = {.key = "labels", .kind = CFG_K_STR_MAP, .is_required = true},
};

enum { SP_NUMBER = 0, SP_NAME, SP_TARGET, SP_PROTOCOL, SP_MAX };
static const struct cfg_field se_port_fields[SP_MAX] = {
	[SP_NUMBER] =
		{.key = "number", .kind = CFG_K_INT, .is_required = true, .min = 1, .max = 65535},
	[SP_NAME] = {.key = "name", .kind = CFG_K_STR},
	[SP_TARGET] = {.key = "targetPort", .kind = CFG_K_INT, .min = 1, .max = 65535},
	[SP_PROTOCOL] = {.key = "protocol", .kind = CFG_K_ANY},
};

enum { WE_ADDRESS = 0, WE_PORTS, WE_WEIGHT, WE_LABELS, WE_MAX = 7 };
static const struct cfg_field se_ep_fields[WE_MAX] = {
	[WE_ADDRESS] = {.key = "address", .kind = CFG_K_STR, .is_required = true},
	[WE_PORTS] = {.key = "ports", .kind = CFG_K_STR_MAP},
	[WE_WEIGHT] = {.key = "weight",
		       .kind = CFG_K_IGNORED,
		       .note = "endpoint weights are not supported"},
	[WE_LABELS] = {.key = "labels", .kind = CFG_K_STR_MAP},
	{.key = "network", .kind = CFG_K_ANY},
	{.key = "locality", .kind = CFG_K_ANY},
	{.key = "serviceAccount", .kind = CFG_K_ANY},
};

struct se_port {
	const char *name; /* NULL when absent; points into the YAML document */
	uint16_t number, target;
};

struct se_endpoint {
	struct cfg_hostport addr;     /* port unused */
	struct cfg_named_port *ports; /* name → number (endpoint "ports" map) */
	size_t n_ports;
	struct cfg_labels labels; /* what subsets select by */
};

struct cfg_service_entry {
	const char *ns, *name;
	char (*hosts)[HOSTNAME_MAX + 1];
	size_t n_hosts;
	struct se_port *ports;
	size_t n_ports;
	struct se_endpoint *eps;
	size_t n_eps;
	int resolution;
};

struct cfg_istio_se {
	struct cfg_service_entry *ses;
	size_t n_ses;
};

/* --- ServiceEntry ----------------------------------------------------------------- */

static void se_ports(struct cfg_loader *l, struct cfg_service_entry *se, yaml_node_t *list)
{
	size_t saved = cfg_path_key(l, "ports");

	for (size_t i = 0; i < cfg_seq_len(list); i++) {
		struct cfg_val v[SP_MAX];
		struct se_port *p;
		size_t saved_i = cfg_path_index(l, i);

		if (cfg_walk_map(l, cfg_seq_item(l, list, i), se_port_fields, SP_MAX, v) == 0 &&
		    v[SP_NUMBER].node && (p = cfg_push(l, &se->ports, &se->n_ports, sizeof(*p)))) {
			p->number = (uint16_t)v[SP_NUMBER].num;
			p->target = (uint16_t)v[SP_TARGET].num;
			p->name = v[SP_NAME].node ? v[SP_NAME].str : NULL;
		}
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

static bool se_endpoint_address(struct cfg_loader *l, const struct cfg_service_entry *se,
				const struct cfg_val *v, struct cfg_hostport *out)
{
	char with_port[HOSTNAME_MAX + 16];
	size_t saved = cfg_path_key(l, "address");
	const char *a = v->str;
	bool ok = false;

	/* Reuse the host:port parser with a dummy port: the same rules for names. */
	snprintf(with_port, sizeof(with_port), strchr(a, ':') ? "[%s]:1" : "%s:1", a);
	if (!strncmp(a, "unix://", 7))
		cfg_error(l, v->node, "unix domain socket endpoints are not supported");
	else if (strlen(a) > HOSTNAME_MAX || cfg_parse_hostport(with_port, out) != CFG_ADDR_OK)
		cfg_error(l, v->node, "expected an IP address or DNS name, got %s",
			  cfg_quote(l, a));
	else if (!out->is_ip && se->resolution != RES_DNS && se->resolution != RES_DNS_RR)
		cfg_error(l, v->node, "%s is not an IP address: resolution must be DNS",
			  cfg_quote(l, a));
	else
		ok = true;
	cfg_path_pop(l, saved);
	return ok;
}

static void se_endpoints(struct cfg_loader *l, struct cfg_service_entry *se, yaml_node_t *list)
{
	size_t saved = cfg_path_key(l, "endpoints");

	for (size_t i = 0; i < cfg_seq_len(list); i++) {
		struct cfg_val v[WE_MAX];
		struct cfg_hostport hp;
		struct se_endpoint *ep;
		size_t saved_i = cfg_path_index(l, i);

		if (cfg_walk_map(l, cfg_seq_item(l, list, i), se_ep_fields, WE_MAX, v) == 0 &&
		    v[WE_ADDRESS].node && se_endpoint_address(l, se, &v[WE_ADDRESS], &hp) &&
		    (ep = cfg_push(l, &se->eps, &se->n_eps, sizeof(*ep)))) {
			ep->addr = hp;
			cfg_labels_read(l, v[WE_LABELS].node, &ep->labels);
			cfg_named_ports_read(l, v[WE_PORTS].node, &ep->ports, &ep->n_ports);
		}
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

static void se_hosts(struct cfg_loader *l, struct cfg_service_entry *se, yaml_node_t *list)
{
	size_t saved = cfg_path_key(l, "hosts");

	for (size_t i = 0; i < cfg_seq_len(list); i++) {
		yaml_node_t *item = cfg_seq_item(l, list, i);
		const char *s = cfg_scalar(item);
		char(*h)[HOSTNAME_MAX + 1];
		char out[HOSTNAME_MAX + 1];
		size_t len, saved_i = cfg_path_index(l, i);
		bool is_wildcard;
		enum hostname_result r =
			hostname_pattern_normalize(s, strlen(s), out, &len, &is_wildcard);

		if (r != HOSTNAME_OK)
			cfg_error(l, item, "bad host %s: %s", cfg_quote(l, s),
				  hostname_result_str(r));
		else if ((h = cfg_push(l, &se->hosts, &se->n_hosts, sizeof(*h))))
			memcpy(*h, out, len + 1);
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

/* The WorkloadEntries of the ServiceEntry's namespace that the selector's
 * labels select become its endpoints, as Istio does; Pods it would also
 * select are not in the files, so selecting nothing is an error rather than
 * a host quietly left to DNS. */
static void se_workloads(struct cfg_loader *l, struct cfg_service_entry *se,
			 const struct cfg_istio_we *we, const struct cfg_val *v)
{
	struct cfg_val ws[WS_MAX];
	struct cfg_labels want;
	size_t saved = cfg_path_key(l, "workloadSelector"), n_matched = 0;
	char sel[256];

	if (cfg_walk_map(l, v->node, wls_fields, WS_MAX, ws) != 0 || !ws[WS_LABELS].node) {
		cfg_path_pop(l, saved);
		return;
	}
	cfg_labels_read(l, ws[WS_LABELS].node, &want);
	for (size_t i = 0; i < we->n; i++) {
		const struct cfg_workload *w = &we->items[i];
		struct se_endpoint *ep;

		if (strcmp(w->ns, se->ns) || !cfg_labels_match(&want, &w->labels))
			continue;
		n_matched++;
		if (!w->addr.is_ip && se->resolution != RES_DNS && se->resolution != RES_DNS_RR) {
			cfg_error(l, v->node,
				  "WorkloadEntry %s/%s: %s is not an IP address: resolution must "
				  "be DNS",
				  w->ns, w->name, cfg_quote(l, w->addr.host));
			continue;
		}
		if (!(ep = cfg_push(l, &se->eps, &se->n_eps, sizeof(*ep))))
			break;
		ep->addr = w->addr;
		if (w->labels.n &&
		    (ep->labels.items = malloc(w->labels.n * sizeof(struct cfg_label))))
			memcpy(ep->labels.items, w->labels.items,
			       w->labels.n * sizeof(struct cfg_label));
		ep->labels.n = ep->labels.items ? w->labels.n : 0;
		if (w->labels.n && !ep->labels.items)
			l->err = -ENOMEM;
		for (size_t k = 0; k < w->n_ports; k++) {
			struct cfg_named_port *p =
				cfg_push(l, &ep->ports, &ep->n_ports, sizeof(*p));

			if (p)
				*p = w->ports[k];
		}
	}
	cfg_path_key(l, "labels");
	if (!n_matched)
		cfg_error(l, ws[WS_LABELS].node,
			  "selects no WorkloadEntry of namespace %s (%s); sockgate sees only the "
			  "WorkloadEntries in its files, not Pods",
			  se->ns, cfg_labels_str(&want, sel, sizeof(sel)));
	free(want.items);
	cfg_path_pop(l, saved);
}

static void se_doc(struct cfg_loader *l, struct cfg_istio_se *s, const struct cfg_istio_we *we,
		   struct cfg_doc *d)
{
	struct cfg_istio_meta m;
	struct cfg_val v[SE_MAX];
	struct cfg_service_entry *se;

	if (cfg_istio_header(l, d, &m) != 0)
		return;
	cfg_path_key(l, "spec");
	if (cfg_walk_map(l, m.spec, se_fields, SE_MAX, v) != 0 ||
	    !(se = cfg_push(l, &s->ses, &s->n_ses, sizeof(*se))))
		return;
	se->ns = m.ns;
	se->name = m.name;
	se->resolution = (int)v[SE_RESOLUTION].num;
	if (v[SE_HOSTS].node)
		se_hosts(l, se, v[SE_HOSTS].node);
	se_ports(l, se, v[SE_PORTS].node);
	se_endpoints(l, se, v[SE_ENDPOINTS].node);
	if (v[SE_ENDPOINTS].node && v[SE_WLS].node) {
		size_t saved = cfg_path_key(l, "workloadSelector");

		cfg_error(l, v[SE_WLS].key,
			  "\"endpoints\" and \"workloadSelector\" exclude each other");
		cfg_path_pop(l, saved);
	} else if (v[SE_WLS].node)
		se_workloads(l, se, we, &v[SE_WLS]);
	else if (se->resolution == RES_STATIC && !cfg_seq_len(v[SE_ENDPOINTS].node))
		cfg_error(l, m.spec, "resolution STATIC needs endpoints");
}

static const struct cfg_service_entry *find_se(const struct cfg_istio_se *s, const char *host)
{
	for (size_t i = 0; i < s->n_ses; i++) {
		for (size_t h = 0; h < s->ses[i].n_hosts; h++) {
			if (!strcmp(s->ses[i].hosts[h], host))
				return &s->ses[i];
		}
	}
	return NULL;
}

static void add_endpoint(struct cfg_loader *l, struct cfg_backend *b, const char *host,
			 uint16_t port)
{
	struct cfg_endpoint *e = cfg_push(l, &b->endpoints, &b->n_endpoints, sizeof(*e));

	if (!e)
		return;
	e->port = port;
	if (cfg_parse_ip(host, port, &e->addr, &e->addr_len) == 0)
		e->is_resolved = true;
	else
		e->host = cfg_strdup(l, host);
}

/* The ServiceEntry port a destination uses: by number, or the only one. */
static bool se_pick_port(struct cfg_loader *l, const struct cfg_service_entry *se,
			 struct cfg_backend *b, bool port_given, yaml_node_t *node,
			 const struct se_port **out)
{
	*out = NULL;
	for (size_t i = 0; port_given && i < se->n_ports; i++) {
		if (se->ports[i].number == b->port)
			*out = &se->ports[i];
	}
	if (!port_given && se->n_ports == 1) {
		*out = &se->ports[0];
		b->port = se->ports[0].number;
	}
	if (*out || (port_given && !se->n_ports))
		return true;
	if (port_given)
		cfg_error(l, node, "port %u is not a port of ServiceEntry %s/%s", b->port, se->ns,
			  se->name);
	else
		cfg_error(l, node, "port.number is required: ServiceEntry %s/%s has %zu ports",
			  se->ns, se->name, se->n_ports);
	return false;
}

bool cfg_istio_se_backend(struct cfg_loader *l, const struct cfg_istio_se *s, struct cfg_backend *b,
			  bool port_given, yaml_node_t *node, const struct cfg_service_entry **from)
{
	char host[HOSTNAME_MAX + 1];
	const struct cfg_service_entry *se;
	const struct se_port *sp;
	uint16_t target;
	size_t len;

	*from = NULL;
	if (hostname_normalize(b->host, strlen(b->host), host, &len) != HOSTNAME_OK)
		return false;
	se = find_se(s, host);
	if (!se && !port_given) {
		cfg_error(l, node,
			  "port.number is required: no ServiceEntry declares the ports of %s",
			  cfg_quote(l, b->host));
		return false;
	}
	if (!se) {
		add_endpoint(l, b, host, b->port);
		return true;
	}
	if (!se_pick_port(l, se, b, port_given, node, &sp))
		return false;
	target = sp && sp->target ? sp->target : b->port;
	if (se->resolution == RES_NONE)
		cfg_warn(l, node,
			 "ServiceEntry %s/%s has resolution NONE: sockgate resolves %s itself",
			 se->ns, se->name, cfg_quote(l, host));
	if (se->resolution == RES_NONE || !se->n_eps) {
		add_endpoint(l, b, host, target);
		return true;
	}
	for (size_t i = 0; i < se->n_eps; i++) {
		const struct se_endpoint *ep = &se->eps[i];
		uint16_t port = target;

		for (size_t k = 0; sp && sp->name && k < ep->n_ports; k++) {
			if (!strcmp(ep->ports[k].name, sp->name))
				port = ep->ports[k].number;
		}
		add_endpoint(l, b, ep->addr.host, port);
	}
	*from = se;
	return true;
}

/* A subset that cannot select (no rule, no such subset, endpoints without
 * labels) or selects nothing is an error: serving every endpoint instead would
 * turn a canary into an even split, and serving none would fail every
 * connection. */
bool cfg_istio_se_subset(struct cfg_loader *l, const struct cfg_istio *is, const char *host,
			 const struct cfg_service_entry *from, struct cfg_backend *b,
			 const struct cfg_val *sv)
{
	const struct cfg_labels *want;
	const char *rule_ns, *rule_name;
	bool has_labels = false;
	char sel[256];
	size_t k = 0;

	switch (cfg_istio_dr_subset(is->dr, host, sv->str, &want, &rule_ns, &rule_name)) {
	case CFG_SUBSET_NO_RULE:
		cfg_error(l, sv->node, "subset %s: no DestinationRule applies to host %s",
			  cfg_quote(l, sv->str), cfg_quote(l, host));
		return false;
	case CFG_SUBSET_UNKNOWN:
		cfg_error(l, sv->node, "subset %s is not defined in DestinationRule %s/%s",
			  cfg_quote(l, sv->str), rule_ns, rule_name);
		return false;
	default:
		break;
	}
	if (!from) {
		cfg_error(l, sv->node,
			  "subset %s: the endpoints of %s come from DNS and carry no labels; "
			  "list them as ServiceEntry endpoints with labels",
			  cfg_quote(l, sv->str), cfg_quote(l, host));
		return false;
	}
	for (size_t i = 0; i < from->n_eps; i++) {
		has_labels |= from->eps[i].labels.n > 0;
		if (cfg_labels_match(want, &from->eps[i].labels))
			b->endpoints[k++] = b->endpoints[i];
		else
			free(b->endpoints[i].host);
	}
	b->n_endpoints = k;
	if (!k) {
		cfg_error(l, sv->node, "subset %s (%s) selects no endpoint of ServiceEntry %s/%s%s",
			  cfg_quote(l, sv->str), cfg_labels_str(want, sel, sizeof(sel)), from->ns,
			  from->name, has_labels ? "" : ": its endpoints carry no labels");
		return false;
	}
	b->subset = cfg_strdup(l, sv->str);
	return true;
}

/* --- collection ---------------------------------------------------------------------- */

struct cfg_istio_se *cfg_istio_se_collect(struct cfg_loader *l, const struct cfg_istio_we *we)
{
	struct cfg_istio_se *s = calloc(1, sizeof(*s));

	if (!s) {
		l->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < l->n_docs; i++) {
		cfg_loader_enter(l, l->docs[i]);
		if (cfg_doc_type(l, yaml_document_get_root_node(l->doc)) == CFG_DOC_SERVICE_ENTRY)
			se_doc(l, s, we, l->docs[i]);
	}
	return s;
}

void cfg_istio_se_free(struct cfg_istio_se *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_ses; i++) {
		for (size_t k = 0; k < s->ses[i].n_eps; k++) {
			free(s->ses[i].eps[k].ports);
			free(s->ses[i].eps[k].labels.items);
		}
		free(s->ses[i].eps);
		free(s->ses[i].ports);
		free(s->ses[i].hosts);
	}
	free(s->ses);
	free(s);
}
