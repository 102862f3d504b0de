// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_list.c: `kubectl get ... -o yaml` of several objects writes one
 * document, `apiVersion: v1`, `kind: List`, the objects under `items:`. Each
 * item is copied into a document of its own, keeping its marks, so every
 * converter and every diagnostic sees it as if it had been written as a
 * separate `---` document at that line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"

enum { LS_API = 0, LS_KIND, LS_ITEMS, LS_METADATA, LS_MAX };
static const struct cfg_field list_fields[LS_MAX] = {
	[LS_API] = {.key = "apiVersion", .kind = CFG_K_STR, .is_required = true},
	[LS_KIND] = {.key = "kind", .kind = CFG_K_STR, .is_required = true},
	[LS_ITEMS] = {.key = "items", .kind = CFG_K_SEQ, .is_required = true},
	/* kubectl writes `metadata: {resourceVersion: ""}`. */
	[LS_METADATA] = {.key = "metadata", .kind = CFG_K_ANY},
};

static bool is_v1_list(struct cfg_loader *l, yaml_node_t *root)
{
	return root && root->type == YAML_MAPPING_NODE &&
	       !strcmp(cfg_scalar(cfg_map_get(l, root, "apiVersion")), "v1") &&
	       !strcmp(cfg_scalar(cfg_map_get(l, root, "kind")), "List");
}

/* Copies node idx of src into dst; memo (one slot per src node) maps src
 * indices to dst ones, so an alias stays one shared node instead of being
 * expanded. Returns the dst index, 0 on ENOMEM. */
static int copy_node(yaml_document_t *dst, yaml_document_t *src, int idx, int *memo)
{
	yaml_node_t *n = yaml_document_get_node(src, idx), *m;
	int out = 0;

	if (memo[idx - 1])
		return memo[idx - 1];
	switch (n->type) {
	case YAML_SCALAR_NODE:
		out = yaml_document_add_scalar(dst, n->tag, n->data.scalar.value,
					       (int)n->data.scalar.length, n->data.scalar.style);
		break;
	case YAML_SEQUENCE_NODE:
		out = yaml_document_add_sequence(dst, n->tag, n->data.sequence.style);
		break;
	case YAML_MAPPING_NODE:
		out = yaml_document_add_mapping(dst, n->tag, n->data.mapping.style);
		break;
	default:
		return 0;
	}
	if (!out)
		return 0;
	memo[idx - 1] = out;
	/* Before any child is added: adding may move dst's node array. */
	m = yaml_document_get_node(dst, out);
	m->start_mark = n->start_mark;
	m->end_mark = n->end_mark;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			int c = copy_node(dst, src, *it, memo);

			if (!c || !yaml_document_append_sequence_item(dst, out, c))
				return 0;
		}
	} else if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			int k = copy_node(dst, src, p->key, memo);
			int v = k ? copy_node(dst, src, p->value, memo) : 0;

			if (!v || !yaml_document_append_mapping_pair(dst, out, k, v))
				return 0;
		}
	}
	return out;
}

static struct cfg_doc *item_doc(struct cfg_loader *l, struct cfg_doc *list, int idx, int *memo)
{
	struct cfg_doc *d = calloc(1, sizeof(*d));
	size_t n_nodes = (size_t)(list->yaml.nodes.top - list->yaml.nodes.start);
	yaml_node_t *item = yaml_document_get_node(&list->yaml, idx);

	if (!d || !yaml_document_initialize(&d->yaml, NULL, NULL, NULL, 1, 1)) {
		free(d);
		l->err = -ENOMEM;
		return NULL;
	}
	memset(memo, 0, n_nodes * sizeof(*memo));
	if (!copy_node(&d->yaml, &list->yaml, idx, memo)) {
		yaml_document_delete(&d->yaml);
		free(d);
		l->err = -ENOMEM;
		return NULL;
	}
	d->yaml.start_mark = item->start_mark;
	d->yaml.end_mark = item->end_mark;
	d->file_index = list->file_index;
	return d;
}

int cfg_list_split(struct cfg_loader *l, struct cfg_doc *list, unsigned *index)
{
	yaml_node_t *root = yaml_document_get_root_node(&list->yaml), *items;
	size_t n_nodes = (size_t)(list->yaml.nodes.top - list->yaml.nodes.start);
	struct cfg_val v[LS_MAX];
	int *memo;

	l->doc = &list->yaml;
	if (!is_v1_list(l, root)) {
		l->doc = NULL;
		return 0;
	}
	cfg_path_pop(l, 0);
	cfg_path_raw(l, "List:");
	cfg_walk_map(l, root, list_fields, LS_MAX, v);
	items = v[LS_ITEMS].node;
	memo = calloc(n_nodes ? n_nodes : 1, sizeof(*memo));
	if (!memo) {
		l->err = -ENOMEM;
		return 1;
	}
	cfg_path_key(l, "items");
	for (size_t i = 0; i < cfg_seq_len(items) && l->err == 0; i++) {
		yaml_node_t *item = cfg_seq_item(l, items, i);
		size_t saved = cfg_path_index(l, i);
		struct cfg_doc *d, **slot;

		/* A List holds API objects; a native mapping or a nested List here
		 * is a mistake, not something to guess at. */
		if (item->type != YAML_MAPPING_NODE || !cfg_map_get(l, item, "kind") ||
		    !cfg_map_get(l, item, "apiVersion"))
			cfg_error(l, item,
				  "a List item must be a Kubernetes object with "
				  "apiVersion and kind");
		else if (is_v1_list(l, item))
			cfg_error(l, item, "a List inside a List is not read");
		else if ((d = item_doc(l, list, (int)(items->data.sequence.items.start[i]),
				       memo))) {
			d->index = ++*index;
			slot = cfg_push(l, &l->docs, &l->n_docs, sizeof(*slot));
			if (slot) {
				*slot = d;
			} else {
				yaml_document_delete(&d->yaml);
				free(d);
			}
		}
		cfg_path_pop(l, saved);
	}
	free(memo);
	l->doc = NULL;
	cfg_path_pop(l, 0);
	return 1;
}
