// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_yaml.c: diagnostics and the schema-driven YAML walker of the config loader.
 * The walker only descends into keys a schema names, so its depth is bounded by the
 * schemas, and every node it visits costs one unit of a per-load budget, so aliases
 * cannot make a small file take unbounded time. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config_yaml.h"

/* --- path --------------------------------------------------------------------- */

size_t cfg_path_raw(struct cfg_loader *l, const char *s)
{
	size_t saved = l->path_len;

	/* Paths hold user keys: a control byte must not reach the operator's terminal. */
	for (; *s && l->path_len < sizeof(l->path) - 1; s++)
		l->path[l->path_len++] = *s < ' ' || *s == 0x7f ? '?' : *s;
	l->path[l->path_len] = '\0';
	return saved;
}

size_t cfg_path_key(struct cfg_loader *l, const char *key)
{
	size_t saved = l->path_len;

	if (l->path_len && l->path[l->path_len - 1] != ':')
		cfg_path_raw(l, ".");
	cfg_path_raw(l, key);
	return saved;
}

size_t cfg_path_index(struct cfg_loader *l, size_t i)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "[%zu]", i);
	return cfg_path_raw(l, buf);
}

void cfg_path_pop(struct cfg_loader *l, size_t saved)
{
	l->path_len = saved;
	l->path[saved] = '\0';
}

/* --- nodes --------------------------------------------------------------------- */

const char *cfg_scalar(const yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return "";
	return (const char *)node->data.scalar.value;
}

bool cfg_is_null(const yaml_node_t *node)
{
	const char *s = cfg_scalar(node);

	if (!node || node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

size_t cfg_seq_len(const yaml_node_t *seq)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *cfg_seq_item(struct cfg_loader *l, const yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(l->doc, seq->data.sequence.items.start[i]);
}

size_t cfg_map_len(const yaml_node_t *map)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return 0;
	return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

void cfg_map_pair(struct cfg_loader *l, const yaml_node_t *map, size_t i, yaml_node_t **key,
		  yaml_node_t **value)
{
	*key = yaml_document_get_node(l->doc, map->data.mapping.pairs.start[i].key);
	*value = yaml_document_get_node(l->doc, map->data.mapping.pairs.start[i].value);
}

bool cfg_budget_take(struct cfg_loader *l, const yaml_node_t *at)
{
	if (l->is_exhausted)
		return false;
	if (l->budget == 0) {
		l->is_exhausted = true;
		cfg_error(l, at, "more than %lu YAML nodes (aliases?); not read further",
			  CFG_NODE_BUDGET);
		return false;
	}
	l->budget--;
	return true;
}

/* "a list", "a mapping" or the quoted scalar: what the user wrote instead. */
static const char *describe(struct cfg_loader *l, const yaml_node_t *node)
{
	if (node->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (node->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (cfg_is_null(node))
		return "null";
	return cfg_quote(l, cfg_scalar(node));
}

/* A usable scalar: not a collection, no NUL byte (C strings end there). */
static bool check_scalar(struct cfg_loader *l, const yaml_node_t *node, const char *what)
{
	if (node->type != YAML_SCALAR_NODE) {
		cfg_error(l, node, "expected %s, got %s", what, describe(l, node));
		return false;
	}
	if (strlen(cfg_scalar(node)) != node->data.scalar.length) {
		cfg_error(l, node, "%s contains a NUL byte", what);
		return false;
	}
	return true;
}

/* --- walker --------------------------------------------------------------------- */

static void format_ms(char *buf, size_t len, int64_t ms)
{
	if (ms >= 3600000 && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
	else if (ms >= 60000 && ms % 60000 == 0)
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	else if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRId64 "ms", ms);
}

static bool walk_enum(struct cfg_loader *l, const struct cfg_field *f, yaml_node_t *v,
		      struct cfg_val *out)
{
	const char *s = cfg_scalar(v);
	struct cfg_suggest sg;
	char list[256] = "";
	size_t o = 0;

	cfg_suggest_init(&sg, s);
	for (int64_t i = 0; f->names[i]; i++) {
		if (!strcmp(s, f->names[i])) {
			out->str = s;
			out->num = i;
			return true;
		}
		cfg_suggest_add(&sg, f->names[i]);
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
				      f->names[i]);
		if (o >= sizeof(list))
			o = sizeof(list) - 1;
	}
	if (cfg_suggest_best(&sg))
		cfg_error(l, v, "expected one of %s, got %s (did you mean \"%s\"?)", list,
			  cfg_quote(l, s), cfg_suggest_best(&sg));
	else
		cfg_error(l, v, "expected one of %s, got %s", list, cfg_quote(l, s));
	return false;
}

static bool walk_str_items(struct cfg_loader *l, yaml_node_t *v, bool is_map)
{
	bool ok = true;
	size_t n = is_map ? cfg_map_len(v) : cfg_seq_len(v);

	for (size_t i = 0; i < n && cfg_budget_take(l, v); i++) {
		yaml_node_t *key = NULL, *item;
		size_t saved;

		if (is_map) {
			cfg_map_pair(l, v, i, &key, &item);
			if (!check_scalar(l, key, "a string key")) {
				ok = false;
				continue;
			}
			saved = cfg_path_key(l, cfg_scalar(key));
			/* Label values may be empty: "app:" means app="" there. */
			if (!cfg_is_null(item) && !check_scalar(l, item, "a string"))
				ok = false;
		} else {
			item = cfg_seq_item(l, v, i);
			saved = cfg_path_index(l, i);
			if (cfg_is_null(item)) {
				cfg_error(l, item, "expected a string, got null");
				ok = false;
			} else if (!check_scalar(l, item, "a string")) {
				ok = false;
			}
		}
		cfg_path_pop(l, saved);
	}
	return ok && !l->is_exhausted;
}

static bool walk_number(struct cfg_loader *l, const struct cfg_field *f, yaml_node_t *v,
			struct cfg_val *out)
{
	const char *s = cfg_scalar(v);
	char lo[32], hi[32];
	uint64_t u;
	int r;

	if (f->kind == CFG_K_INT) {
		r = cfg_parse_u64(s, &u);
		if (r == 0 && u >= (uint64_t)f->min && u <= (uint64_t)f->max) {
			out->num = (int64_t)u;
			return true;
		}
		cfg_error(l, v, "expected integer %" PRId64 "..%" PRId64 ", got %s", f->min, f->max,
			  cfg_quote(l, s));
		return false;
	}
	r = cfg_parse_duration_ms(s, &u);
	if (r == 0 && u >= (uint64_t)f->min && u <= (uint64_t)f->max) {
		out->num = (int64_t)u;
		return true;
	}
	format_ms(lo, sizeof(lo), f->min);
	format_ms(hi, sizeof(hi), f->max);
	if (r == 0)
		cfg_error(l, v, "duration %s out of range %s..%s", cfg_quote(l, s), lo, hi);
	else
		cfg_error(l, v, "expected a duration %s..%s such as \"10s\" or \"250ms\", got %s",
			  lo, hi, cfg_quote(l, s));
	return false;
}

static bool walk_value(struct cfg_loader *l, const struct cfg_field *f, yaml_node_t *v,
		       struct cfg_val *out)
{
	const char *s = cfg_scalar(v);

	switch (f->kind) {
	case CFG_K_STR:
		if (!check_scalar(l, v, "a string"))
			return false;
		out->str = s;
		return true;
	case CFG_K_INT:
	case CFG_K_DURATION:
		return check_scalar(l, v, f->kind == CFG_K_INT ? "an integer" : "a duration") &&
		       walk_number(l, f, v, out);
	case CFG_K_BOOL:
		if (!check_scalar(l, v, "true or false"))
			return false;
		if (!strcasecmp(s, "true") || !strcasecmp(s, "false")) {
			out->num = !strcasecmp(s, "true");
			return true;
		}
		cfg_error(l, v, "expected true or false, got %s", cfg_quote(l, s));
		return false;
	case CFG_K_ENUM:
		return check_scalar(l, v, "a string") && walk_enum(l, f, v, out);
	case CFG_K_STR_LIST:
	case CFG_K_SEQ:
		if (v->type != YAML_SEQUENCE_NODE) {
			cfg_error(l, v, "expected a list, got %s", describe(l, v));
			return false;
		}
		return f->kind == CFG_K_SEQ || walk_str_items(l, v, false);
	case CFG_K_STR_MAP:
	case CFG_K_MAP:
		if (v->type != YAML_MAPPING_NODE) {
			cfg_error(l, v, "expected a mapping, got %s", describe(l, v));
			return false;
		}
		return f->kind == CFG_K_MAP || walk_str_items(l, v, true);
	case CFG_K_ANY:
		return true;
	case CFG_K_IGNORED:
		cfg_warn(l, v, "ignored: %s", f->note);
		return false;
	case CFG_K_MAX:
		break;
	}
	return false;
}

static const char *kind_str(enum cfg_kind k)
{
	switch (k) {
	case CFG_K_STR:
	case CFG_K_ENUM:
		return "a string";
	case CFG_K_INT:
		return "an integer";
	case CFG_K_BOOL:
		return "true or false";
	case CFG_K_DURATION:
		return "a duration";
	case CFG_K_STR_LIST:
	case CFG_K_SEQ:
		return "a list";
	default:
		return "a mapping";
	}
}

static void unknown_key(struct cfg_loader *l, yaml_node_t *key, const struct cfg_field *fields,
			size_t n)
{
	struct cfg_suggest sg;
	const char *k = cfg_scalar(key);

	cfg_suggest_init(&sg, k);
	for (size_t i = 0; i < n; i++)
		cfg_suggest_add(&sg, fields[i].key);
	if (cfg_suggest_best(&sg))
		cfg_error(l, key, "unknown key %s (did you mean \"%s\"?)", cfg_quote(l, k),
			  cfg_suggest_best(&sg));
	else
		cfg_error(l, key, "unknown key %s", cfg_quote(l, k));
}

static void walk_pair(struct cfg_loader *l, yaml_node_t *key, yaml_node_t *v,
		      const struct cfg_field *fields, size_t n, struct cfg_val *vals)
{
	const char *k = cfg_scalar(key);
	size_t i, saved;

	for (i = 0; i < n; i++) {
		if (!strcmp(k, fields[i].key))
			break;
	}
	saved = cfg_path_key(l, k);
	if (i == n) {
		unknown_key(l, key, fields, n);
	} else if (vals[i].key) {
		/* libyaml keeps both; silently taking one would hide a merge mistake. */
		cfg_error(l, key, "duplicate key %s", cfg_quote(l, k));
	} else {
		vals[i].key = key;
		if (cfg_is_null(v) && fields[i].kind != CFG_K_ANY) {
			/* Kubernetes reads "key: null" as an absent key. */
			if (fields[i].is_required) {
				cfg_error(l, v, "expected %s, got null", kind_str(fields[i].kind));
				vals[i].is_bad = true;
			}
		} else if (walk_value(l, &fields[i], v, &vals[i])) {
			vals[i].node = v;
		} else {
			vals[i].is_bad = fields[i].kind != CFG_K_IGNORED;
		}
	}
	cfg_path_pop(l, saved);
}

bool cfg_walk_value(struct cfg_loader *l, const struct cfg_field *f, yaml_node_t *v,
		    struct cfg_val *out)
{
	return walk_value(l, f, v, out);
}

int cfg_walk_map(struct cfg_loader *l, yaml_node_t *node, const struct cfg_field *fields, size_t n,
		 struct cfg_val *vals)
{
	size_t n_pairs = cfg_map_len(node);

	memset(vals, 0, n * sizeof(*vals));
	if (!cfg_budget_take(l, node))
		return -1;
	if (node->type != YAML_MAPPING_NODE) {
		cfg_error(l, node, "expected a mapping, got %s", describe(l, node));
		return -1;
	}
	for (size_t p = 0; p < n_pairs && cfg_budget_take(l, node); p++) {
		yaml_node_t *key, *v;

		cfg_map_pair(l, node, p, &key, &v);
		if (!check_scalar(l, key, "a string key"))
			continue;
		walk_pair(l, key, v, fields, n, vals);
	}
	for (size_t i = 0; i < n; i++) {
		if (fields[i].is_required && !vals[i].key)
			cfg_error(l, node, "missing required key \"%s\"", fields[i].key);
	}
	return l->is_exhausted ? -1 : 0;
}

/* --- model building ------------------------------------------------------------- */

void *cfg_push(struct cfg_loader *l, void *arr_ptr, size_t *n, size_t elem)
{
	void **arr = arr_ptr;
	char *grown;

	if (l->err == -ENOMEM)
		return NULL;
	grown = realloc(*arr, (*n + 1) * elem);
	if (!grown) {
		l->err = -ENOMEM;
		return NULL;
	}
	*arr = grown;
	memset(grown + *n * elem, 0, elem);
	return grown + (*n)++ * elem;
}

char *cfg_strdup(struct cfg_loader *l, const char *s)
{
	char *d = strdup(s);

	if (!d)
		l->err = -ENOMEM;
	return d;
}
