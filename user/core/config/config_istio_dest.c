// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_istio_dest.c: the route[] list of a VirtualService tls route into
 * backends, one per destination, with their endpoints from config_istio_se.c
 * and their subset applied. Istio weights are percentages: checked to add up
 * to 100, or split evenly. */
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"
#include "hostname.h"

enum { RD_DESTINATION = 0, RD_WEIGHT, RD_MAX };
static const struct cfg_field route_dest_fields[RD_MAX] = {
	[RD_DESTINATION] = {.key = "destination", .kind = CFG_K_MAP, .is_required = true},
	[RD_WEIGHT] = {.key = "weight", .kind = CFG_K_INT, .max = 100},
};

enum { DS_HOST = 0, DS_PORT, DS_SUBSET, DS_MAX };
static const struct cfg_field dest_fields[DS_MAX] = {
	[DS_HOST] = {.key = "host", .kind = CFG_K_STR, .is_required = true},
	[DS_PORT] = {.key = "port", .kind = CFG_K_MAP},
	[DS_SUBSET] = {.key = "subset", .kind = CFG_K_STR},
};

enum { PS_NUMBER = 0, PS_MAX };
static const struct cfg_field port_selector_fields[PS_MAX] = {
	[PS_NUMBER] =
		{.key = "number", .kind = CFG_K_INT, .is_required = true, .min = 1, .max = 65535},
};

/* One route[] entry into a backend; returns whether it set a weight. */
static bool destination(struct cfg_loader *l, const struct cfg_istio *is, yaml_node_t *node,
			struct cfg_backend *b, bool *ok)
{
	struct cfg_val v[RD_MAX], dv[DS_MAX], pv[PS_MAX] = {0};
	const struct cfg_service_entry *from;
	char host[HOSTNAME_MAX + 1];
	size_t saved, saved_h, len, at_dest;
	bool has_eps;

	*ok = false;
	if (cfg_walk_map(l, node, route_dest_fields, RD_MAX, v) != 0 || !v[RD_DESTINATION].node)
		return v[RD_WEIGHT].node != NULL;
	saved = cfg_path_key(l, "destination");
	at_dest = l->path_len;
	if (cfg_walk_map(l, v[RD_DESTINATION].node, dest_fields, DS_MAX, dv) != 0 ||
	    !dv[DS_HOST].node)
		goto out;
	if (dv[DS_PORT].node) {
		size_t saved_p = cfg_path_key(l, "port");

		cfg_walk_map(l, dv[DS_PORT].node, port_selector_fields, PS_MAX, pv);
		cfg_path_pop(l, saved_p);
	}
	saved_h = cfg_path_key(l, "host");
	if (hostname_normalize(dv[DS_HOST].str, strlen(dv[DS_HOST].str), host, &len) !=
	    HOSTNAME_OK) {
		cfg_error(l, dv[DS_HOST].node, "expected a DNS name or IP address, got %s",
			  cfg_quote(l, dv[DS_HOST].str));
		goto out;
	}
	cfg_src_set(l, &b->src, dv[DS_HOST].node);
	b->host = cfg_strdup(l, dv[DS_HOST].str);
	b->port = (uint16_t)pv[PS_NUMBER].num;
	b->weight = (uint32_t)v[RD_WEIGHT].num;
	cfg_path_pop(l, saved_h);
	if (pv[PS_NUMBER].node)
		cfg_path_key(l, "port.number");
	else
		cfg_path_key(l, "host");
	has_eps = b->host &&
		  cfg_istio_se_backend(l, is->se, b, pv[PS_NUMBER].node != NULL,
				       pv[PS_NUMBER].node ? pv[PS_NUMBER].node : dv[DS_HOST].node,
				       &from);
	*ok = !pv[PS_NUMBER].is_bad && !dv[DS_SUBSET].is_bad;
	cfg_path_pop(l, at_dest);
	if (has_eps && dv[DS_SUBSET].node) {
		cfg_path_key(l, "subset");
		*ok &= cfg_istio_se_subset(l, is, host, from, b, &dv[DS_SUBSET]);
	}
out:
	cfg_path_pop(l, saved);
	return v[RD_WEIGHT].node != NULL;
}

/* Istio weights are percentages that must add up to 100 when any is given; without
 * any, traffic is split evenly (kept as percentages so the model shows Istio's view). */
bool cfg_istio_destinations(struct cfg_loader *l, const struct cfg_istio *is, yaml_node_t *list,
			    struct cfg_route *tmpl)
{
	size_t n = cfg_seq_len(list), saved = cfg_path_key(l, "route"), n_weighted = 0;
	uint32_t sum = 0;
	bool all_ok = true;

	if (!n)
		cfg_error(l, list, "expected at least one destination");
	for (size_t i = 0; i < n && l->err == 0; i++) {
		struct cfg_backend *b = cfg_push(l, &tmpl->backends, &tmpl->n_backends, sizeof(*b));
		size_t saved_i = cfg_path_index(l, i);
		bool ok;

		if (!b)
			break;
		n_weighted += destination(l, is, cfg_seq_item(l, list, i), b, &ok);
		all_ok &= ok;
		sum += b->weight;
		cfg_path_pop(l, saved_i);
	}
	if (n_weighted && sum != 100)
		cfg_error(l, list, "destination weights add up to %u; Istio requires 100", sum);
	for (size_t i = 0, k = tmpl->n_backends; !n_weighted && i < k; i++)
		tmpl->backends[i].weight = (uint32_t)(100 / k + (i < 100 % k));
	cfg_path_pop(l, saved);
	return all_ok && n && l->err == 0;
}

void cfg_istio_copy_backends(struct cfg_loader *l, struct cfg_route *dst,
			     const struct cfg_route *src)
{
	for (size_t i = 0; i < src->n_backends; i++) {
		const struct cfg_backend *s = &src->backends[i];
		struct cfg_backend *b = cfg_push(l, &dst->backends, &dst->n_backends, sizeof(*b));

		if (!b)
			return;
		*b = *s;
		b->host = cfg_strdup(l, s->host);
		b->subset = s->subset ? cfg_strdup(l, s->subset) : NULL;
		b->src.path = cfg_strdup(l, s->src.path ? s->src.path : "");
		b->endpoints = NULL;
		b->n_endpoints = 0;
		for (size_t k = 0; k < s->n_endpoints; k++) {
			struct cfg_endpoint *e =
				cfg_push(l, &b->endpoints, &b->n_endpoints, sizeof(*e));

			if (!e)
				return;
			*e = s->endpoints[k];
			e->host = s->endpoints[k].host ? cfg_strdup(l, s->endpoints[k].host) : NULL;
		}
	}
}
