// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* guard_rules.c: see guard_rules.h. A reload's new configuration is merged
 * through sorted copies, so tens of thousands of entries merge in
 * milliseconds; the new lists are built aside and swapped in, so running out
 * of memory changes nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cfg_value.h"
#include "guard_rules.h"

const char *guard_list_str(enum guard_list l)
{
	return l == GUARD_DENY ? "deny" : l == GUARD_ALLOW ? "allow" : "?";
}

const char *guard_rules_result_str(enum guard_rules_result r)
{
	switch (r) {
	case GUARD_RULES_OK:
		return "ok";
	case GUARD_RULES_ALREADY:
		return "already a runtime entry";
	case GUARD_RULES_NOT_FOUND:
		return "not in the list";
	case GUARD_RULES_CONFIG_ONLY:
		return "only in the configuration: remove it there and reload";
	case GUARD_RULES_FULL:
		return "the list is full";
	case GUARD_RULES_NOMEM:
		return "out of memory";
	}
	return "?";
}

char *guard_cidr_str(const struct cfg_cidr *c, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family, c->addr, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u", ip, c->prefix_len);
	return buf;
}

static bool is_v4_mapped(const struct cfg_cidr *c)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return c->family == AF_INET6 && c->prefix_len >= 96 && !memcmp(c->addr, prefix, 12);
}

enum guard_cidr_result guard_parse_cidr(const char *s, struct cfg_cidr *out)
{
	const char *slash = strchr(s, '/');
	char ip[INET6_ADDRSTRLEN];
	unsigned max_bits;
	uint64_t bits;

	if (cfg_parse_cidr(s, out) == 0)
		return is_v4_mapped(out) ? GUARD_CIDR_V4_MAPPED : GUARD_CIDR_OK;
	/* Parse the address alone, then apply the prefix by hand: if that works,
	 * the only fault is host bits, and the fix can be shown. */
	if (!slash || (size_t)(slash - s) >= sizeof(ip) || cfg_parse_u64(slash + 1, &bits) != 0)
		return GUARD_CIDR_BAD;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (cfg_parse_cidr(ip, out) != 0)
		return GUARD_CIDR_BAD;
	max_bits = out->family == AF_INET ? 32 : 128;
	if (bits > max_bits)
		return GUARD_CIDR_BAD;
	for (unsigned b = (unsigned)bits; b < max_bits; b++)
		out->addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	out->prefix_len = (uint8_t)bits;
	return GUARD_CIDR_HOST_BITS;
}

static int cidr_cmp(const struct cfg_cidr *a, const struct cfg_cidr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len < b->prefix_len ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int rule_ptr_cmp(const void *pa, const void *pb)
{
	return cidr_cmp(&(*(const struct guard_rule *const *)pa)->cidr,
			&(*(const struct guard_rule *const *)pb)->cidr);
}

static int cfg_rule_ptr_cmp(const void *pa, const void *pb)
{
	return cidr_cmp(&(*(const struct cfg_guard_rule *const *)pa)->cidr,
			&(*(const struct cfg_guard_rule *const *)pb)->cidr);
}

static ssize_t find(const struct guard_rules *r, enum guard_list list, const struct cfg_cidr *c)
{
	for (size_t i = 0; i < r->n[list]; i++) {
		if (!cidr_cmp(&r->v[list][i].cidr, c))
			return (ssize_t)i;
	}
	return -1;
}

const struct guard_rule *guard_rules_find(const struct guard_rules *r, enum guard_list list,
					  const struct cfg_cidr *c)
{
	ssize_t i = find(r, list, c);

	return i < 0 ? NULL : &r->v[list][i];
}

static char *where_of(const struct cfg_guard_rule *c)
{
	char *s;

	if (asprintf(&s, "%s:%u:%u", c->src.file ? c->src.file : "?", c->src.line, c->src.column) <
	    0)
		return NULL;
	return s;
}

static int push_change(struct guard_change **v, size_t *n, enum guard_list list,
		       const struct cfg_cidr *c, bool is_add)
{
	struct guard_change *g = realloc(*v, (*n + 1) * sizeof(**v));

	if (!g)
		return -ENOMEM;
	*v = g;
	g[(*n)++] = (struct guard_change){.list = list, .cidr = *c, .is_add = is_add};
	return 0;
}

/* Builds list's new array into *out: the old entries that keep an origin,
 * then the configuration's new ones, recording what enters and leaves. */
static int merge_list(const struct guard_rules *r, enum guard_list list,
		      const struct cfg_guard_rule *cfg, size_t n_cfg, struct guard_rule **out,
		      size_t *n_out, struct guard_change **ch, size_t *n_ch)
{
	size_t n_old = r->n[list], n = 0;
	const struct cfg_guard_rule **want = calloc(n_cfg + 1, sizeof(*want));
	struct guard_rule **have = calloc(n_old + 1, sizeof(*have));
	struct guard_rule *v = calloc(n_old + n_cfg + 1, sizeof(*v));
	int err = -ENOMEM;

	if (!want || !have || !v)
		goto out;
	for (size_t i = 0; i < n_cfg; i++)
		want[i] = &cfg[i];
	for (size_t i = 0; i < n_old; i++)
		have[i] = &r->v[list][i];
	qsort(want, n_cfg, sizeof(*want), cfg_rule_ptr_cmp);
	qsort(have, n_old, sizeof(*have), rule_ptr_cmp);
	for (size_t i = 0; i < n_old; i++) {
		const struct guard_rule *old = &r->v[list][i];
		const struct cfg_guard_rule key = {.cidr = old->cidr}, *pk = &key;
		const struct cfg_guard_rule **hit =
			bsearch(&pk, want, n_cfg, sizeof(*want), cfg_rule_ptr_cmp);
		struct guard_rule *nr = &v[n];

		nr->cidr = old->cidr;
		nr->origins =
			(old->origins & GUARD_ORIGIN_RUNTIME) | (hit ? GUARD_ORIGIN_CONFIG : 0);
		if (!nr->origins) {
			if (push_change(ch, n_ch, list, &old->cidr, false))
				goto out;
			continue;
		}
		n++;
		if (hit && !(nr->where = where_of(*hit)))
			goto out;
	}
	for (size_t i = 0; i < n_cfg; i++) {
		struct guard_rule key = {.cidr = cfg[i].cidr}, *pk = &key;

		if (bsearch(&pk, have, n_old, sizeof(*have), rule_ptr_cmp))
			continue;
		v[n] = (struct guard_rule){.cidr = cfg[i].cidr, .origins = GUARD_ORIGIN_CONFIG};
		if (!(v[n++].where = where_of(&cfg[i])) ||
		    push_change(ch, n_ch, list, &cfg[i].cidr, true))
			goto out;
	}
	*out = v;
	*n_out = n;
	v = NULL;
	err = 0;
out:
	for (size_t i = 0; v && i < n; i++)
		free(v[i].where);
	free(v);
	free(want);
	free(have);
	return err;
}

static void free_list(struct guard_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].where);
	free(v);
}

int guard_rules_set_config(struct guard_rules *r, const struct cfg_guard *g,
			   struct guard_change **changes, size_t *n_changes)
{
	struct guard_rule *nv[GUARD_LIST_MAX] = {0};
	size_t nn[GUARD_LIST_MAX] = {0}, n_ch = 0, n_cfg[GUARD_LIST_MAX] = {0};
	const struct cfg_guard_rule *cfg[GUARD_LIST_MAX] = {0};
	struct guard_change *ch = NULL;
	int err = 0;

	if (g && g->is_set) {
		cfg[GUARD_DENY] = g->deny;
		n_cfg[GUARD_DENY] = g->n_deny;
		cfg[GUARD_ALLOW] = g->allow;
		n_cfg[GUARD_ALLOW] = g->n_allow;
	}
	for (int l = 0; l < GUARD_LIST_MAX && !err; l++)
		err = merge_list(r, (enum guard_list)l, cfg[l], n_cfg[l], &nv[l], &nn[l], &ch,
				 &n_ch);
	if (err) {
		for (int l = 0; l < GUARD_LIST_MAX; l++)
			free_list(nv[l], nn[l]);
		free(ch);
		return err;
	}
	for (int l = 0; l < GUARD_LIST_MAX; l++) {
		free_list(r->v[l], r->n[l]);
		r->v[l] = nv[l];
		r->n[l] = nn[l];
	}
	/* Deletions first: a CIDR moving between lists never sits in both. */
	for (size_t i = 0, k = 0; i < n_ch; i++) {
		if (ch[i].is_add)
			continue;
		struct guard_change del = ch[i];

		memmove(&ch[k + 1], &ch[k], (i - k) * sizeof(*ch));
		ch[k++] = del;
	}
	*changes = ch;
	*n_changes = n_ch;
	return 0;
}

enum guard_rules_result guard_rules_add(struct guard_rules *r, enum guard_list list,
					const struct cfg_cidr *c, bool *enters)
{
	ssize_t i = find(r, list, c);
	struct guard_rule *v;

	*enters = false;
	if (i >= 0) {
		if (r->v[list][i].origins & GUARD_ORIGIN_RUNTIME)
			return GUARD_RULES_ALREADY;
		r->v[list][i].origins |= GUARD_ORIGIN_RUNTIME;
		return GUARD_RULES_OK;
	}
	if (r->n[list] >= (r->max ? r->max : GUARD_RULES_MAX))
		return GUARD_RULES_FULL;
	v = realloc(r->v[list], (r->n[list] + 1) * sizeof(*v));
	if (!v)
		return GUARD_RULES_NOMEM;
	r->v[list] = v;
	v[r->n[list]++] = (struct guard_rule){.cidr = *c, .origins = GUARD_ORIGIN_RUNTIME};
	*enters = true;
	return GUARD_RULES_OK;
}

enum guard_rules_result guard_rules_del(struct guard_rules *r, enum guard_list list,
					const struct cfg_cidr *c, bool *leaves)
{
	ssize_t i = find(r, list, c);
	struct guard_rule *e;

	*leaves = false;
	if (i < 0)
		return GUARD_RULES_NOT_FOUND;
	e = &r->v[list][i];
	if (!(e->origins & GUARD_ORIGIN_RUNTIME))
		return GUARD_RULES_CONFIG_ONLY;
	e->origins &= ~GUARD_ORIGIN_RUNTIME;
	if (e->origins)
		return GUARD_RULES_OK;
	free(e->where);
	memmove(e, e + 1, (r->n[list] - (size_t)i - 1) * sizeof(*e));
	r->n[list]--;
	*leaves = true;
	return GUARD_RULES_OK;
}

void guard_rules_fini(struct guard_rules *r)
{
	for (int l = 0; l < GUARD_LIST_MAX; l++) {
		free_list(r->v[l], r->n[l]);
		r->v[l] = NULL;
		r->n[l] = 0;
	}
}
