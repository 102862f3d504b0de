// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_proxy.c: a native route's "proxy_protocol": a version ("off", "v1",
 * "v2") or a mapping {version: v2, crc32c: true}. The mapping exists for the
 * options only version 2 has (its TLVs), so those are checked against the
 * version here; the header itself is built by proxy_header.c. */
#include "config_yaml.h"

static const char *const version_names[] = {"off", "v1", "v2", NULL};

static const struct cfg_field scalar_field = {
	.key = "proxy_protocol", .kind = CFG_K_ENUM, .names = version_names};

enum { PP_VERSION = 0, PP_CRC32C, PP_MAX };
static const struct cfg_field map_fields[PP_MAX] = {
	[PP_VERSION] = {.key = "version",
			.kind = CFG_K_ENUM,
			.is_required = true,
			.names = version_names},
	[PP_CRC32C] = {.key = "crc32c", .kind = CFG_K_BOOL},
};

static void take_map(struct cfg_loader *l, yaml_node_t *node, struct cfg_route *rt)
{
	struct cfg_val v[PP_MAX];
	size_t saved;

	if (cfg_walk_map(l, node, map_fields, PP_MAX, v) != 0 || !v[PP_VERSION].node)
		return;
	rt->proxy_protocol = (enum cfg_proxy_protocol)v[PP_VERSION].num;
	if (!v[PP_CRC32C].node || !v[PP_CRC32C].num)
		return;
	if (rt->proxy_protocol == CFG_PROXY_V2) {
		rt->has_proxy_crc32c = true;
		return;
	}
	saved = cfg_path_key(l, "crc32c");
	cfg_error(l, v[PP_CRC32C].node,
		  "crc32c needs version v2 (only v2 has TLVs), got version %s",
		  cfg_quote(l, v[PP_VERSION].str));
	cfg_path_pop(l, saved);
}

void cfg_native_proxy(struct cfg_loader *l, const struct cfg_val *v, struct cfg_route *rt)
{
	struct cfg_val one = {0};
	size_t saved;

	rt->proxy_protocol = CFG_PROXY_OFF;
	rt->has_proxy_crc32c = false;
	if (!v->node || cfg_is_null(v->node))
		return; /* Kubernetes reads "key: null" as an absent key */
	saved = cfg_path_key(l, "proxy_protocol");
	if (v->node->type == YAML_MAPPING_NODE)
		take_map(l, v->node, rt);
	else if (v->node->type != YAML_SCALAR_NODE)
		cfg_error(l, v->node,
			  "expected off, v1, v2 or a mapping such as {version: v2, crc32c: true}, "
			  "got a list");
	else if (cfg_walk_value(l, &scalar_field, v->node, &one))
		rt->proxy_protocol = (enum cfg_proxy_protocol)one.num;
	cfg_path_pop(l, saved);
}
