// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_kubernetes.c: the native "kubernetes:" mapping, what sockgate is
 * told about the cluster it runs in. Today only service_cidr, the ClusterIP
 * range, which lets `--check` tell a ClusterIP answer from a lone pod
 * (config_services.c); nothing at run time depends on it. */
#include "config_yaml.h"
#include "guard_rules.h"

enum { K8S_SERVICE_CIDR = 0, K8S_MAX };

static const struct cfg_field k8s_fields[K8S_MAX] = {
	[K8S_SERVICE_CIDR] = {.key = "service_cidr", .kind = CFG_K_STR},
};

void cfg_native_kubernetes(struct cfg_loader *l, yaml_node_t *key, yaml_node_t *node)
{
	struct cfg_src *src = &l->c->service_cidr_src;
	struct cfg_val v[K8S_MAX];
	struct cfg_cidr c;
	size_t saved = cfg_path_key(l, "kubernetes");

	if (cfg_walk_map(l, node, k8s_fields, K8S_MAX, v) != 0 || !v[K8S_SERVICE_CIDR].node)
		goto out;
	if (src->file && cfg_layer_of(l, src->file_index) == cfg_layer_of(l, l->file_index)) {
		cfg_error(l, key,
			  "already set at %s:%u:%u; one kubernetes.service_cidr per "
			  "configuration",
			  src->file, src->line, src->column);
		goto out;
	}
	if (guard_parse_cidr(v[K8S_SERVICE_CIDR].str, &c) != GUARD_CIDR_OK) {
		cfg_error(l, v[K8S_SERVICE_CIDR].node,
			  "service_cidr: expected a CIDR such as \"10.96.0.0/12\", got %s",
			  cfg_quote(l, v[K8S_SERVICE_CIDR].str));
		goto out;
	}
	cfg_src_fini(src);
	l->c->service_cidr = c;
	cfg_src_set(l, src, v[K8S_SERVICE_CIDR].node);
out:
	cfg_path_pop(l, saved);
}
