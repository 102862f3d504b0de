// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_labels.c: Kubernetes label maps as Istio subsets and workload
 * selectors match them, and the named-port maps of the endpoints they select.
 * Read into arrays while their document is the current one, because YAML
 * nodes of another document cannot be walked later. */
#include <stdio.h>
#include <string.h>

#include "config_yaml.h"

void cfg_named_ports_read(struct cfg_loader *l, yaml_node_t *map, struct cfg_named_port **ports,
			  size_t *n)
{
	size_t saved;

	if (!map)
		return;
	saved = cfg_path_key(l, "ports");
	for (size_t i = 0; i < cfg_map_len(map); i++) {
		struct cfg_named_port *p;
		yaml_node_t *k, *v;
		uint64_t num;

		cfg_map_pair(l, map, i, &k, &v);
		if (cfg_parse_u64(cfg_scalar(v), &num) != 0 || num < 1 || num > 65535) {
			size_t saved_k = cfg_path_key(l, cfg_scalar(k));

			cfg_error(l, v, "expected integer 1..65535, got %s",
				  cfg_quote(l, cfg_scalar(v)));
			cfg_path_pop(l, saved_k);
		} else if ((p = cfg_push(l, ports, n, sizeof(*p)))) {
			p->name = cfg_scalar(k);
			p->number = (uint16_t)num;
		}
	}
	cfg_path_pop(l, saved);
}

void cfg_labels_read(struct cfg_loader *l, yaml_node_t *map, struct cfg_labels *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < cfg_map_len(map); i++) {
		yaml_node_t *k, *v;
		struct cfg_label *lb;

		cfg_map_pair(l, map, i, &k, &v);
		if ((lb = cfg_push(l, &out->items, &out->n, sizeof(*lb)))) {
			lb->key = cfg_scalar(k);
			lb->value = cfg_scalar(v);
		}
	}
}

bool cfg_labels_match(const struct cfg_labels *selector, const struct cfg_labels *labels)
{
	for (size_t i = 0; i < selector->n; i++) {
		bool found = false;

		for (size_t k = 0; k < labels->n && !found; k++)
			found = !strcmp(selector->items[i].key, labels->items[k].key) &&
				!strcmp(selector->items[i].value, labels->items[k].value);
		if (!found)
			return false;
	}
	return true;
}

const char *cfg_labels_str(const struct cfg_labels *ls, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ls->n && len < size; i++) {
		int n = snprintf(buf + len, size - len, "%s%s=%s", i ? "," : "", ls->items[i].key,
				 ls->items[i].value);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}
