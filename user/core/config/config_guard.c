// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_guard.c: the native "guard:" key (docs/CONFIG.md) into cfg_guard.
 * One guard per configuration: a second one in the same layer is an error,
 * one in a later layer (sockgate load) replaces it, as listeners and routes
 * are replaced by name. Pure: interface names are checked for shape only;
 * whether they exist is the agent's business when it attaches. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config_yaml.h"
#include "guard_rules.h"

#define IFNAME_MAX_LEN 15 /* IFNAMSIZ - 1 */
#define INTERFACES_MAX 64
#define RULES_MAX      16384 /* per list; the BPF tries hold more, for runtime entries */
#define SYN_RATE_MAX   10000000
#define SYN_BURST_MAX  10000000

enum { GD_INTERFACES = 0, GD_DENY, GD_ALLOW, GD_SYN_RATE, GD_MAX };
static const struct cfg_field guard_fields[GD_MAX] = {
	[GD_INTERFACES] = {.key = "interfaces", .kind = CFG_K_STR_LIST, .is_required = true},
	[GD_DENY] = {.key = "deny", .kind = CFG_K_STR_LIST},
	[GD_ALLOW] = {.key = "allow", .kind = CFG_K_STR_LIST},
	[GD_SYN_RATE] = {.key = "syn_rate", .kind = CFG_K_MAP},
};

enum { SR_PER_SECOND = 0, SR_BURST, SR_MAX };
static const struct cfg_field syn_rate_fields[SR_MAX] = {
	[SR_PER_SECOND] = {.key = "per_second",
			   .kind = CFG_K_INT,
			   .is_required = true,
			   .min = 1,
			   .max = SYN_RATE_MAX},
	[SR_BURST] = {.key = "burst",
		      .kind = CFG_K_INT,
		      .is_required = true,
		      .min = 1,
		      .max = SYN_BURST_MAX},
};

void cfg_guard_fini(struct cfg_guard *g)
{
	for (size_t i = 0; i < g->n_interfaces; i++)
		free(g->interfaces[i]);
	for (size_t i = 0; i < g->n_deny; i++)
		cfg_src_fini(&g->deny[i].src);
	for (size_t i = 0; i < g->n_allow; i++)
		cfg_src_fini(&g->allow[i].src);
	free(g->interfaces);
	free(g->deny);
	free(g->allow);
	cfg_src_fini(&g->src);
	memset(g, 0, sizeof(*g));
}

static void dump_rules(FILE *f, const char *what, const struct cfg_guard_rule *r, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		inet_ntop(r[i].cidr.family, r[i].cidr.addr, ip, sizeof(ip));
		fprintf(f, "  %s %s/%u\n", what, ip, r[i].cidr.prefix_len);
	}
}

void cfg_guard_dump(const struct cfg_guard *g, FILE *f)
{
	fprintf(f, "guard on");
	for (size_t i = 0; i < g->n_interfaces; i++)
		fprintf(f, "%s %s", i ? "," : "", g->interfaces[i]);
	if (g->syn_per_second)
		fprintf(f, ": syn_rate %u/s burst %u per source\n", g->syn_per_second,
			g->syn_burst);
	else
		fprintf(f, ": no SYN rate limit\n");
	dump_rules(f, "deny", g->deny, g->n_deny);
	dump_rules(f, "allow", g->allow, g->n_allow);
}

/* Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or space. */
static bool is_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IFNAME_MAX_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++) {
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return false;
	}
	return true;
}

static void guard_interfaces(struct cfg_loader *l, struct cfg_guard *g, const struct cfg_val *v)
{
	size_t saved = cfg_path_key(l, "interfaces"), n = cfg_seq_len(v->node);

	if (n == 0)
		cfg_error(l, v->node,
			  "empty list: name the interfaces to guard, or leave "
			  "\"guard\" out");
	else if (n > INTERFACES_MAX)
		cfg_error(l, v->node, "%zu interfaces; at most %d", n, INTERFACES_MAX);
	for (size_t i = 0; i < n && n <= INTERFACES_MAX; i++) {
		yaml_node_t *item = cfg_seq_item(l, v->node, i);
		const char *s = cfg_scalar(item);
		size_t saved_i = cfg_path_index(l, i);
		bool is_dup = false;
		char **slot;

		for (size_t k = 0; k < g->n_interfaces && !is_dup; k++)
			is_dup = !strcmp(g->interfaces[k], s);
		if (!is_ifname(s))
			cfg_error(l, item,
				  "expected an interface name of 1..%d bytes without '/', ':' or "
				  "spaces, got %s",
				  IFNAME_MAX_LEN, cfg_quote(l, s));
		else if (is_dup)
			cfg_error(l, item, "interface %s listed twice", cfg_quote(l, s));
		else if ((slot = cfg_push(l, &g->interfaces, &g->n_interfaces, sizeof(*slot))))
			*slot = cfg_strdup(l, s);
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

/* Parses one deny/allow entry into *c, or reports why it is unusable, as
 * precisely as can be said. */
static bool take_cidr(struct cfg_loader *l, yaml_node_t *item, const char *s, struct cfg_cidr *c)
{
	char net[64];

	switch (guard_parse_cidr(s, c)) {
	case GUARD_CIDR_OK:
		return true;
	case GUARD_CIDR_HOST_BITS:
		cfg_error(l, item, "%s has host bits set: did you mean \"%s\"?", cfg_quote(l, s),
			  guard_cidr_str(c, net, sizeof(net)));
		return false;
	case GUARD_CIDR_V4_MAPPED:
		cfg_error(l, item, "%s is IPv4-mapped: write the IPv4 form", cfg_quote(l, s));
		return false;
	case GUARD_CIDR_BAD:
		break;
	}
	cfg_error(l, item,
		  "expected an IP address or CIDR such as \"203.0.113.0/24\" or "
		  "\"2001:db8::/32\", got %s",
		  cfg_quote(l, s));
	return false;
}

static bool same_cidr(const struct cfg_cidr *a, const struct cfg_cidr *b)
{
	return a->family == b->family && a->prefix_len == b->prefix_len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static void guard_rules(struct cfg_loader *l, const struct cfg_val *v, const char *key,
			struct cfg_guard_rule **rules, size_t *n_rules)
{
	size_t saved = cfg_path_key(l, key), n = cfg_seq_len(v->node);

	if (n > RULES_MAX) {
		cfg_error(l, v->node,
			  "%zu entries; at most %d (add more at run time with "
			  "`sockgate guard %s add`)",
			  n, RULES_MAX, key);
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = cfg_seq_item(l, v->node, i);
		const char *s = cfg_scalar(item);
		size_t saved_i = cfg_path_index(l, i), dup = SIZE_MAX;
		struct cfg_guard_rule *r;
		struct cfg_cidr c;

		if (take_cidr(l, item, s, &c)) {
			for (size_t k = 0; k < *n_rules && dup == SIZE_MAX; k++)
				dup = same_cidr(&(*rules)[k].cidr, &c) ? k : SIZE_MAX;
			if (dup != SIZE_MAX)
				cfg_error(l, item, "%s is already in %s (%s:%u:%u)",
					  cfg_quote(l, s), key, (*rules)[dup].src.file,
					  (*rules)[dup].src.line, (*rules)[dup].src.column);
			else if ((r = cfg_push(l, rules, n_rules, sizeof(*r)))) {
				r->cidr = c;
				cfg_src_set(l, &r->src, item);
			}
		}
		cfg_path_pop(l, saved_i);
	}
	cfg_path_pop(l, saved);
}

static void guard_syn_rate(struct cfg_loader *l, struct cfg_guard *g, yaml_node_t *node)
{
	size_t saved = cfg_path_key(l, "syn_rate");
	struct cfg_val v[SR_MAX];

	if (cfg_walk_map(l, node, syn_rate_fields, SR_MAX, v) == 0 && v[SR_PER_SECOND].node &&
	    v[SR_BURST].node) {
		g->syn_per_second = (uint32_t)v[SR_PER_SECOND].num;
		g->syn_burst = (uint32_t)v[SR_BURST].num;
	}
	cfg_path_pop(l, saved);
}

/* A CIDR in both lists is legal (deny wins), but worth a word. */
static void warn_overlap(struct cfg_loader *l, const struct cfg_guard *g)
{
	for (size_t i = 0; i < g->n_allow; i++) {
		for (size_t k = 0; k < g->n_deny; k++) {
			if (same_cidr(&g->allow[i].cidr, &g->deny[k].cidr))
				cfg_diag_src(l->diags, &g->allow[i].src, true, &l->err,
					     "also in deny (%s:%u:%u), which wins",
					     g->deny[k].src.file, g->deny[k].src.line,
					     g->deny[k].src.column);
		}
	}
}

void cfg_native_guard(struct cfg_loader *l, yaml_node_t *key, yaml_node_t *node)
{
	struct cfg_guard *g = &l->c->guard;
	struct cfg_val v[GD_MAX];
	size_t saved = cfg_path_key(l, "guard");

	if (g->is_set && cfg_layer_of(l, g->src.file_index) == cfg_layer_of(l, l->file_index)) {
		cfg_error(l, key, "already set at %s:%u:%u; one guard per configuration",
			  g->src.file, g->src.line, g->src.column);
		goto out;
	}
	cfg_guard_fini(g); /* an earlier layer's: this one replaces it */
	if (cfg_walk_map(l, node, guard_fields, GD_MAX, v) != 0)
		goto out;
	g->is_set = true;
	cfg_src_set(l, &g->src, key);
	if (v[GD_INTERFACES].node)
		guard_interfaces(l, g, &v[GD_INTERFACES]);
	if (v[GD_DENY].node)
		guard_rules(l, &v[GD_DENY], "deny", &g->deny, &g->n_deny);
	if (v[GD_ALLOW].node)
		guard_rules(l, &v[GD_ALLOW], "allow", &g->allow, &g->n_allow);
	if (v[GD_SYN_RATE].node)
		guard_syn_rate(l, g, v[GD_SYN_RATE].node);
	warn_overlap(l, g);
out:
	cfg_path_pop(l, saved);
}
