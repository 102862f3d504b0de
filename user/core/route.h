/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* route.h: the immutable SNI (+ optional ALPN) route table of docs/ARCHITECTURE.md,
 * section "Life of a connection", step 3.
 * A table is built once from neutral rules, never changed, and swapped whole on
 * reload; any number of threads may look up in it concurrently. Pure: no I/O,
 * no logging; lookups allocate nothing. Operator-facing rules: docs/ROUTING.md. */
#ifndef SG_ROUTE_H
#define SG_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One routing rule as the config module hands it over. */
struct route_rule {
	/* As written by the user: "a.example.com", "*.example.com" or "*". Any
	 * case, optional trailing dot; the builder normalises it. */
	const char *sni_pattern;
	/* Optional ALPN constraint: the rule applies only if the client offers one
	 * of these (byte-exact, 1..255 bytes each). NULL/0 = no constraint. */
	const char *const *alpn;
	size_t n_alpn;
	uint32_t route_id; /* opaque to the table */
};

enum route_policy_action { ROUTE_POLICY_REJECT = 0, ROUTE_POLICY_ROUTE };

/* What to do with a hello that carries no SNI, and with one whose SNI matches
 * no rule. The route ids are used only with ROUTE_POLICY_ROUTE. */
struct route_policy {
	enum route_policy_action no_sni, unknown_sni;
	uint32_t no_sni_route_id, unknown_sni_route_id;
};

/* Outcome of a lookup. Names (route_match_str) double as metric labels. */
enum route_match {
	ROUTE_MATCH_EXACT = 0,		/* a rule with exactly this name */
	ROUTE_MATCH_WILDCARD,		/* the longest matching "*.suffix", or "*" */
	ROUTE_MATCH_NO_SNI_POLICY,	/* no SNI; policy routes it */
	ROUTE_MATCH_UNKNOWN_SNI_POLICY, /* SNI matched no rule; policy routes it */
	ROUTE_REJECT_NO_SNI,		/* no SNI; policy rejects */
	ROUTE_REJECT_UNKNOWN_SNI,	/* SNI matched no rule (or is not a valid name) */
	ROUTE_MATCH_MAX
};

/* What kind of pattern a table entry holds. */
enum route_kind {
	ROUTE_KIND_EXACT = 0, /* "a.example.com" */
	ROUTE_KIND_WILDCARD,  /* "*.example.com" */
	ROUTE_KIND_ANY,	      /* "*": any SNI, never a hello without one */
	ROUTE_KIND_MAX
};

struct route_table;

/* Returns the snake_case name of m ("exact", "reject_no_sni", ...), or
 * "unknown" for a value outside the enum. Static storage. */
const char *route_match_str(enum route_match m);

/* Returns "exact", "wildcard", "any", or "unknown". Static storage. */
const char *route_kind_str(enum route_kind k);

/* True when m means "send the connection to the route id the lookup returned". */
static inline bool route_match_is_routed(enum route_match m)
{
	return m == ROUTE_MATCH_EXACT || m == ROUTE_MATCH_WILDCARD ||
	       m == ROUTE_MATCH_NO_SNI_POLICY || m == ROUTE_MATCH_UNKNOWN_SNI_POLICY;
}

/* Builds a table from rules[0..n_rules) (n_rules may be 0; rules may then be
 * NULL) and policy (NULL = reject both). Copies everything it keeps, so the
 * caller's rules may be freed afterwards. Patterns are normalised with
 * hostname_pattern_normalize(). Returns NULL with errno set (EINVAL, ENOMEM)
 * and a one-line message in err[0..err_len) (err may be NULL) when a pattern
 * or ALPN name is invalid, a policy action is out of range, or two rules are
 * exact duplicates: same normalised pattern AND same ALPN set (order and
 * repeats ignored). Rules at one pattern with different ALPN sets are fine. */
struct route_table *route_table_build(const struct route_rule *rules, size_t n_rules,
				      const struct route_policy *policy, char *err, size_t err_len);

/* Frees t and everything it owns. NULL is fine. */
void route_table_free(struct route_table *t);

/* Routes one ClientHello. Order: exact name, then the longest matching
 * "*.suffix" (which covers one or more whole labels, never the bare suffix),
 * then "*", then the unknown_sni policy. At each pattern the rules with an
 * ALPN constraint go first: the client's protocols are taken in client order
 * and the first one that some constrained rule lists picks that rule (the
 * earliest such rule in input order); otherwise the unconstrained rule of the
 * pattern applies, if there is one; otherwise the search goes on with the next
 * shorter pattern.
 * sni: NUL-terminated, normally already normalised by the ClientHello parser;
 * uppercase or one trailing dot are handled here too (stack copy, no malloc).
 * NULL means the hello had no SNI: the no_sni policy decides, never a
 * wildcard. A name that is not a valid host name (hostname_normalize() refuses
 * it, including "") gets ROUTE_REJECT_UNKNOWN_SNI whatever the policy, so a bad
 * name never reaches a more permissive route.
 * alpn_wire: the ALPN ProtocolNameList body (repeated {u8 length, bytes}),
 * NULL/0 when the hello had no ALPN; empty names are skipped and a truncated
 * tail is ignored. *route_id gets the chosen id, or 0 when rejected.
 * t NULL behaves as an empty table that rejects everything. */
enum route_match route_table_lookup(const struct route_table *t, const char *sni,
				    const uint8_t *alpn_wire, size_t alpn_wire_len,
				    uint32_t *route_id);

/* Number of entries (one per input rule). 0 for NULL. */
size_t route_table_size(const struct route_table *t);

/* Entry i in match-precedence order: exact names, then wildcards from the
 * longest suffix to the shortest, "*" last; within one pattern the constrained
 * rules in input order, then the unconstrained one. Fills *rule with the
 * normalised pattern, the ALPN list and the route id (pointers into t, valid
 * until route_table_free) and *kind (kind may be NULL). Returns 0, or -ERANGE
 * when i >= route_table_size(t). */
int route_table_entry(const struct route_table *t, size_t i, struct route_rule *rule,
		      enum route_kind *kind);

/* The policy the table was built with. t must not be NULL. */
const struct route_policy *route_table_policy(const struct route_table *t);

#endif
