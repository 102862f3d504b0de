// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_istio_we.c: Istio WorkloadEntry documents, the endpoints a
 * ServiceEntry's workloadSelector picks by label (config_istio_se.c). Each is
 * checked on its own here, so one used by several ServiceEntries is reported
 * once; which resolution its address needs depends on the ServiceEntry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config_yaml.h"

enum { WL_ADDRESS = 0, WL_PORTS, WL_LABELS, WL_WEIGHT, WL_MAX = 7 };
static const struct cfg_field wl_fields[WL_MAX] = {
	[WL_ADDRESS] = {.key = "address", .kind = CFG_K_STR, .is_required = true},
	[WL_PORTS] = {.key = "ports", .kind = CFG_K_STR_MAP},
	[WL_LABELS] = {.key = "labels", .kind = CFG_K_STR_MAP},
	[WL_WEIGHT] = {.key = "weight",
		       .kind = CFG_K_IGNORED,
		       .note = "endpoint weights are not supported"},
	{.key = "network", .kind = CFG_K_ANY},
	{.key = "locality", .kind = CFG_K_ANY},
	{.key = "serviceAccount", .kind = CFG_K_ANY},
};

static bool wl_address(struct cfg_loader *l, const struct cfg_val *v, struct cfg_hostport *out)
{
	char with_port[HOSTNAME_MAX + 16];
	size_t saved = cfg_path_key(l, "address");
	const char *a = v->str;
	bool ok = false;

	/* The host:port parser with a dummy port: the same rules as everywhere. */
	snprintf(with_port, sizeof(with_port), strchr(a, ':') ? "[%s]:1" : "%s:1", a);
	if (!strncmp(a, "unix://", 7))
		cfg_error(l, v->node, "unix domain socket endpoints are not supported");
	else if (strlen(a) > HOSTNAME_MAX || cfg_parse_hostport(with_port, out) != CFG_ADDR_OK)
		cfg_error(l, v->node, "expected an IP address or DNS name, got %s",
			  cfg_quote(l, a));
	else
		ok = true;
	cfg_path_pop(l, saved);
	return ok;
}

static void wl_doc(struct cfg_loader *l, struct cfg_istio_we *s, struct cfg_doc *d)
{
	struct cfg_istio_meta m;
	struct cfg_val v[WL_MAX];
	struct cfg_hostport hp;
	struct cfg_workload *w;

	if (cfg_istio_header(l, d, &m) != 0)
		return;
	cfg_path_key(l, "spec");
	if (cfg_walk_map(l, m.spec, wl_fields, WL_MAX, v) != 0 || !v[WL_ADDRESS].node ||
	    !wl_address(l, &v[WL_ADDRESS], &hp) || !(w = cfg_push(l, &s->items, &s->n, sizeof(*w))))
		return;
	w->ns = m.ns;
	w->name = m.name;
	w->addr = hp;
	cfg_labels_read(l, v[WL_LABELS].node, &w->labels);
	cfg_named_ports_read(l, v[WL_PORTS].node, &w->ports, &w->n_ports);
}

struct cfg_istio_we *cfg_istio_we_collect(struct cfg_loader *l)
{
	struct cfg_istio_we *s = calloc(1, sizeof(*s));

	if (!s) {
		l->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < l->n_docs; i++) {
		cfg_loader_enter(l, l->docs[i]);
		if (cfg_doc_type(l, yaml_document_get_root_node(l->doc)) == CFG_DOC_WORKLOAD_ENTRY)
			wl_doc(l, s, l->docs[i]);
	}
	return s;
}

void cfg_istio_we_free(struct cfg_istio_we *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->items[i].labels.items);
		free(s->items[i].ports);
	}
	free(s->items);
	free(s);
}
