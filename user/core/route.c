// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* route.c: two sorted arrays, exact names and wildcard suffixes, both ordered by
 * (key length descending, bytes), which is also the match-precedence order, so
 * the dump needs no second index. A wildcard's key is its pattern minus the '*'
 * (".example.com", "" for "*"), so a lookup probes each dot-suffix of the name
 * with a binary search: O(labels x log n), no allocation. Never mutated after
 * route_table_build() returns. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostname.h"
#include "route.h"

struct route_entry {
	const char *key; /* into pattern: the whole name, or what follows the '*' */
	size_t key_len;
	char *pattern; /* normalised */
	const char **alpn;
	uint8_t *alpn_len; /* ALPN names may hold any byte, so lengths, not strlen */
	size_t n_alpn;
	size_t order; /* index in the input, so ties keep the operator's order */
	uint32_t route_id;
	enum route_kind kind;
};

struct route_table {
	struct route_entry *exact, *wild;
	size_t n_exact, n_wild;
	struct route_policy policy;
};

static const char *const match_names[ROUTE_MATCH_MAX] = {
	[ROUTE_MATCH_EXACT] = "exact",
	[ROUTE_MATCH_WILDCARD] = "wildcard",
	[ROUTE_MATCH_NO_SNI_POLICY] = "no_sni_policy",
	[ROUTE_MATCH_UNKNOWN_SNI_POLICY] = "unknown_sni_policy",
	[ROUTE_REJECT_NO_SNI] = "reject_no_sni",
	[ROUTE_REJECT_UNKNOWN_SNI] = "reject_unknown_sni",
};

static const char *const kind_names[ROUTE_KIND_MAX] = {
	[ROUTE_KIND_EXACT] = "exact",
	[ROUTE_KIND_WILDCARD] = "wildcard",
	[ROUTE_KIND_ANY] = "any",
};

const char *route_match_str(enum route_match m)
{
	return (unsigned)m < ROUTE_MATCH_MAX ? match_names[m] : "unknown";
}

const char *route_kind_str(enum route_kind k)
{
	return (unsigned)k < ROUTE_KIND_MAX ? kind_names[k] : "unknown";
}

/* Longer keys first: for wildcards that is "longest suffix wins", and bsearch
 * works because the probe's length is known. */
static int key_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
	if (a_len != b_len)
		return a_len > b_len ? -1 : 1;
	return memcmp(a, b, a_len);
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct route_entry *a = pa, *b = pb;
	int c = key_cmp(a->key, a->key_len, b->key, b->key_len);

	if (c)
		return c;
	/* The unconstrained rule is the pattern's fallback, so it sorts last. */
	if ((a->n_alpn == 0) != (b->n_alpn == 0))
		return a->n_alpn == 0 ? 1 : -1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Index of the first entry whose key equals key[0..len), or n. */
static size_t find_first(const struct route_entry *e, size_t n, const char *key, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(e[mid].key, e[mid].key_len, key, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && key_cmp(e[lo].key, e[lo].key_len, key, len) == 0)
		return lo;
	return n;
}

static bool entry_lists(const struct route_entry *e, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < e->n_alpn; i++) {
		if (e->alpn_len[i] == len && memcmp(e->alpn[i], name, len) == 0)
			return true;
	}
	return false;
}

/* Picks the rule among the group of entries sharing one key, or NULL when ALPN
 * excludes them all. Client order decides between constrained rules, as in
 * Envoy's findFilterChainForApplicationProtocols. */
static const struct route_entry *pick_in_group(const struct route_entry *g, size_t n,
					       const uint8_t *wire, size_t wire_len)
{
	const struct route_entry *fallback = g[n - 1].n_alpn == 0 ? &g[n - 1] : NULL;
	size_t n_constrained = fallback ? n - 1 : n;
	size_t off = 0;

	if (n_constrained == 0 || !wire)
		return fallback;
	while (off < wire_len) {
		size_t len = wire[off];
		const uint8_t *name = wire + off + 1;

		if (len > wire_len - off - 1)
			break;
		off += 1 + len;
		if (len == 0)
			continue;
		for (size_t i = 0; i < n_constrained; i++) {
			if (entry_lists(&g[i], name, len))
				return &g[i];
		}
	}
	return fallback;
}

static const struct route_entry *probe(const struct route_entry *e, size_t n, const char *key,
				       size_t len, const uint8_t *wire, size_t wire_len)
{
	size_t lo = find_first(e, n, key, len), hi = lo;

	if (lo == n)
		return NULL;
	while (hi < n && key_cmp(e[hi].key, e[hi].key_len, key, len) == 0)
		hi++;
	return pick_in_group(e + lo, hi - lo, wire, wire_len);
}

enum route_match route_table_lookup(const struct route_table *t, const char *sni,
				    const uint8_t *alpn_wire, size_t alpn_wire_len,
				    uint32_t *route_id)
{
	char name[HOSTNAME_MAX + 1];
	const struct route_entry *hit;
	size_t len;

	*route_id = 0;
	if (!sni) {
		if (!t || t->policy.no_sni != ROUTE_POLICY_ROUTE)
			return ROUTE_REJECT_NO_SNI;
		*route_id = t->policy.no_sni_route_id;
		return ROUTE_MATCH_NO_SNI_POLICY;
	}
	/* strnlen bounds the read; anything over HOSTNAME_MAX is refused below. */
	len = strnlen(sni, HOSTNAME_MAX + 1);
	if (!t || hostname_normalize(sni, len, name, &len) != HOSTNAME_OK)
		return ROUTE_REJECT_UNKNOWN_SNI;
	if (!alpn_wire)
		alpn_wire_len = 0;

	hit = probe(t->exact, t->n_exact, name, len, alpn_wire, alpn_wire_len);
	if (hit) {
		*route_id = hit->route_id;
		return ROUTE_MATCH_EXACT;
	}
	/* Start after the first label: "*.example.com" needs at least one label in
	 * front of ".example.com". Normalised names have no empty labels. */
	for (size_t p = 1; p < len; p++) {
		if (name[p] != '.')
			continue;
		hit = probe(t->wild, t->n_wild, name + p, len - p, alpn_wire, alpn_wire_len);
		if (hit)
			break;
	}
	if (!hit)
		hit = probe(t->wild, t->n_wild, "", 0, alpn_wire, alpn_wire_len);
	if (hit) {
		*route_id = hit->route_id;
		return ROUTE_MATCH_WILDCARD;
	}
	if (t->policy.unknown_sni != ROUTE_POLICY_ROUTE)
		return ROUTE_REJECT_UNKNOWN_SNI;
	*route_id = t->policy.unknown_sni_route_id;
	return ROUTE_MATCH_UNKNOWN_SNI_POLICY;
}

static void entry_fini(struct route_entry *e)
{
	for (size_t i = 0; i < e->n_alpn; i++)
		free((void *)e->alpn[i]);
	free(e->alpn);
	free(e->alpn_len);
	free(e->pattern);
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_exact; i++)
		entry_fini(&t->exact[i]);
	for (size_t i = 0; i < t->n_wild; i++)
		entry_fini(&t->wild[i]);
	free(t->exact);
	free(t->wild);
	free(t);
}

static __attribute__((format(printf, 3, 4))) int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Fills e from rules[i]; on error e owns whatever it got, for entry_fini. */
static int entry_init(struct route_entry *e, const struct route_rule *r, size_t i, char *err,
		      size_t err_len)
{
	char buf[HOSTNAME_MAX + 1];
	enum hostname_result hr;
	bool is_wildcard;
	size_t len;

	memset(e, 0, sizeof(*e));
	if (!r->sni_pattern)
		return fail(err, err_len, "rules[%zu]: missing SNI pattern", i);
	hr = hostname_pattern_normalize(r->sni_pattern, strlen(r->sni_pattern), buf, &len,
					&is_wildcard);
	/* Reason first and the echo capped, so a long pattern cannot crowd it out. */
	if (hr != HOSTNAME_OK)
		return fail(err, err_len, "rules[%zu]: bad SNI pattern (%s): \"%.64s%s\"", i,
			    hostname_result_str(hr), r->sni_pattern,
			    strlen(r->sni_pattern) > 64 ? "..." : "");
	if (r->n_alpn && !r->alpn)
		return fail(err, err_len, "rules[%zu]: %zu ALPN names but no list", i, r->n_alpn);
	e->pattern = strdup(buf);
	e->alpn = calloc(r->n_alpn ? r->n_alpn : 1, sizeof(*e->alpn));
	e->alpn_len = calloc(r->n_alpn ? r->n_alpn : 1, sizeof(*e->alpn_len));
	if (!e->pattern || !e->alpn || !e->alpn_len)
		return -ENOMEM;
	for (size_t j = 0; j < r->n_alpn; j++) {
		const char *a = r->alpn[j];
		size_t a_len = a ? strnlen(a, 256) : 0;

		/* RFC 7301: a protocol name is 1..255 opaque bytes. */
		if (a_len == 0 || a_len > 255)
			return fail(err, err_len,
				    "rules[%zu]: \"%s\": ALPN name %zu must be 1..255 bytes", i,
				    e->pattern, j);
		e->alpn[j] = strdup(a);
		if (!e->alpn[j])
			return -ENOMEM;
		e->alpn_len[j] = (uint8_t)a_len;
		e->n_alpn = j + 1;
	}
	e->route_id = r->route_id;
	e->order = i;
	e->kind = !is_wildcard ? ROUTE_KIND_EXACT : len == 1 ? ROUTE_KIND_ANY : ROUTE_KIND_WILDCARD;
	e->key = is_wildcard ? e->pattern + 1 : e->pattern;
	e->key_len = is_wildcard ? len - 1 : len;
	return 0;
}

static bool alpn_subset(const struct route_entry *a, const struct route_entry *b)
{
	for (size_t i = 0; i < a->n_alpn; i++) {
		if (!entry_lists(b, (const uint8_t *)a->alpn[i], a->alpn_len[i]))
			return false;
	}
	return true;
}

/* Entries are sorted, so duplicates sit in one run of equal keys. */
static int check_duplicates(const struct route_entry *e, size_t n, char *err, size_t err_len)
{
	for (size_t lo = 0; lo < n;) {
		size_t hi = lo + 1;

		while (hi < n && key_cmp(e[hi].key, e[hi].key_len, e[lo].key, e[lo].key_len) == 0)
			hi++;
		for (size_t i = lo; i < hi; i++) {
			for (size_t j = i + 1; j < hi; j++) {
				const struct route_entry *a = &e[i], *b = &e[j];
				size_t first = a->order < b->order ? a->order : b->order;
				const struct route_entry *dup = a->order < b->order ? b : a;

				if (!alpn_subset(a, b) || !alpn_subset(b, a))
					continue;
				return fail(err, err_len,
					    "rules[%zu]: \"%s\" duplicates rules[%zu] (same "
					    "pattern and ALPN set)",
					    dup->order, dup->pattern, first);
			}
		}
		lo = hi;
	}
	return 0;
}

static int fill_entries(struct route_table *t, const struct route_rule *rules, size_t n_rules,
			char *err, size_t err_len)
{
	int ret;

	for (size_t i = 0; i < n_rules; i++) {
		struct route_entry e;

		ret = entry_init(&e, &rules[i], i, err, err_len);
		if (!ret && e.kind == ROUTE_KIND_EXACT)
			t->exact[t->n_exact++] = e;
		else if (!ret)
			t->wild[t->n_wild++] = e;
		else {
			entry_fini(&e);
			return ret;
		}
	}
	if (t->n_exact)
		qsort(t->exact, t->n_exact, sizeof(*t->exact), entry_cmp);
	if (t->n_wild)
		qsort(t->wild, t->n_wild, sizeof(*t->wild), entry_cmp);
	ret = check_duplicates(t->exact, t->n_exact, err, err_len);
	if (!ret)
		ret = check_duplicates(t->wild, t->n_wild, err, err_len);
	return ret;
}

struct route_table *route_table_build(const struct route_rule *rules, size_t n_rules,
				      const struct route_policy *policy, char *err, size_t err_len)
{
	struct route_table *t;
	int ret;

	if (n_rules && !rules) {
		errno = -fail(err, err_len, "%zu rules but no rule array", n_rules);
		return NULL;
	}
	if (policy && ((unsigned)policy->no_sni > ROUTE_POLICY_ROUTE ||
		       (unsigned)policy->unknown_sni > ROUTE_POLICY_ROUTE)) {
		errno = -fail(err, err_len, "policy: action must be reject or route");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto err_nomem;
	if (policy)
		t->policy = *policy;
	/* Each array gets room for every rule: simpler than counting first. */
	t->exact = calloc(n_rules ? n_rules : 1, sizeof(*t->exact));
	t->wild = calloc(n_rules ? n_rules : 1, sizeof(*t->wild));
	if (!t->exact || !t->wild)
		goto err_free_table;
	ret = fill_entries(t, rules, n_rules, err, err_len);
	if (ret == -ENOMEM)
		goto err_free_table;
	if (ret) {
		route_table_free(t);
		errno = -ret;
		return NULL;
	}
	return t;
err_free_table:
	route_table_free(t);
err_nomem:
	if (err && err_len)
		snprintf(err, err_len, "out of memory building the route table");
	errno = ENOMEM;
	return NULL;
}

size_t route_table_size(const struct route_table *t)
{
	return t ? t->n_exact + t->n_wild : 0;
}

int route_table_entry(const struct route_table *t, size_t i, struct route_rule *rule,
		      enum route_kind *kind)
{
	const struct route_entry *e;

	if (i >= route_table_size(t))
		return -ERANGE;
	e = i < t->n_exact ? &t->exact[i] : &t->wild[i - t->n_exact];
	rule->sni_pattern = e->pattern;
	rule->alpn = e->n_alpn ? e->alpn : NULL;
	rule->n_alpn = e->n_alpn;
	rule->route_id = e->route_id;
	if (kind)
		*kind = e->kind;
	return 0;
}

const struct route_policy *route_table_policy(const struct route_table *t)
{
	return &t->policy;
}
