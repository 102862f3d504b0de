// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_route.c: route table precedence, wildcard depth, ALPN fall-through,
 * policies and build-time rejection. Each test states its rules, the lookups
 * and the expected (result, route id) pairs together. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "hostname.h"
#include "route.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t ALPN_H2[] = {2, 'h', '2'};
static const uint8_t ALPN_H11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
static const uint8_t ALPN_H11_H2[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1', 2, 'h', '2'};
static const uint8_t ALPN_H2_H11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
static const uint8_t ALPN_ACME[] = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};

static const char *const H2[] = {"h2"};
static const char *const H11[] = {"http/1.1"};
static const char *const H2_H11[] = {"h2", "http/1.1"};
static const char *const H11_H2[] = {"http/1.1", "h2"};

static const struct route_policy REJECT_ALL = {ROUTE_POLICY_REJECT, ROUTE_POLICY_REJECT, 0, 0};

static struct route_table *build_ok(const struct route_rule *rules, size_t n,
				    const struct route_policy *policy)
{
	char err[256] = "";
	struct route_table *t = route_table_build(rules, n, policy, err, sizeof(err));

	cr_assert_not_null(t, "build failed: %s", err);
	return t;
}

static void build_fails(const struct route_rule *rules, size_t n, const char *needle)
{
	char err[256] = "";
	struct route_table *t;

	errno = 0;
	t = route_table_build(rules, n, &REJECT_ALL, err, sizeof(err));
	cr_assert_null(t, "build of \"%s\" should fail", n ? rules[n - 1].sni_pattern : "");
	cr_assert_eq(errno, EINVAL, "errno %d", errno);
	cr_assert_not_null(strstr(err, needle), "message \"%s\" lacks \"%s\"", err, needle);
}

static void expect(const struct route_table *t, const char *sni, const uint8_t *alpn,
		   size_t alpn_len, enum route_match want, uint32_t want_id)
{
	uint32_t id = 0xdeadbeef;
	enum route_match got = route_table_lookup(t, sni, alpn, alpn_len, &id);

	cr_assert_eq(got, want, "sni=%s: got %s, want %s", sni ? sni : "(none)",
		     route_match_str(got), route_match_str(want));
	cr_assert_eq(id, want_id, "sni=%s: route %u, want %u", sni ? sni : "(none)", id, want_id);
}

#define EXPECT(t, sni, m, id)		 expect(t, sni, NULL, 0, m, id)
#define EXPECT_ALPN(t, sni, wire, m, id) expect(t, sni, wire, sizeof(wire), m, id)

Test(route, exact_name_beats_every_wildcard)
{
	const struct route_rule rules[] = {
		{"*", NULL, 0, 1},
		{"*.example.com", NULL, 0, 2},
		{"a.example.com", NULL, 0, 3},
	};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &REJECT_ALL);

	EXPECT(t, "a.example.com", ROUTE_MATCH_EXACT, 3);
	EXPECT(t, "b.example.com", ROUTE_MATCH_WILDCARD, 2);
	EXPECT(t, "other.org", ROUTE_MATCH_WILDCARD, 1);
	route_table_free(t);
}

Test(route, longest_wildcard_suffix_wins_and_star_comes_last)
{
	const struct route_rule rules[] = {
		{"*.example.com", NULL, 0, 1},
		{"*", NULL, 0, 9},
		{"*.b.example.com", NULL, 0, 2},
		{"*.com", NULL, 0, 3},
	};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &REJECT_ALL);

	EXPECT(t, "a.b.example.com", ROUTE_MATCH_WILDCARD, 2);
	EXPECT(t, "x.a.b.example.com", ROUTE_MATCH_WILDCARD, 2);
	EXPECT(t, "b.example.com", ROUTE_MATCH_WILDCARD, 1);
	EXPECT(t, "a.c.example.com", ROUTE_MATCH_WILDCARD, 1);
	EXPECT(t, "example.com", ROUTE_MATCH_WILDCARD, 3);
	EXPECT(t, "example.org", ROUTE_MATCH_WILDCARD, 9);
	EXPECT(t, "localhost", ROUTE_MATCH_WILDCARD, 9);
	route_table_free(t);
}

Test(route, wildcard_covers_any_depth_but_not_the_bare_suffix)
{
	const struct route_rule rules[] = {{"*.example.com", NULL, 0, 7}};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &REJECT_ALL);

	EXPECT(t, "a.example.com", ROUTE_MATCH_WILDCARD, 7);
	EXPECT(t, "a.b.example.com", ROUTE_MATCH_WILDCARD, 7);
	EXPECT(t, "a.b.c.d.example.com", ROUTE_MATCH_WILDCARD, 7);
	EXPECT(t, "example.com", ROUTE_REJECT_UNKNOWN_SNI, 0);
	EXPECT(t, "xexample.com", ROUTE_REJECT_UNKNOWN_SNI, 0);
	EXPECT(t, "a.xexample.com", ROUTE_REJECT_UNKNOWN_SNI, 0);
	EXPECT(t, "a.example.com.evil.net", ROUTE_REJECT_UNKNOWN_SNI, 0);
	EXPECT(t, "com", ROUTE_REJECT_UNKNOWN_SNI, 0);
	route_table_free(t);
}

Test(route, case_and_one_trailing_dot_are_ignored_on_both_sides)
{
	const struct route_rule rules[] = {
		{"Api.Example.COM.", NULL, 0, 1},
		{"*.Apps.Example.com", NULL, 0, 2},
	};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &REJECT_ALL);
	struct route_rule r;

	EXPECT(t, "api.example.com", ROUTE_MATCH_EXACT, 1);
	EXPECT(t, "API.EXAMPLE.COM", ROUTE_MATCH_EXACT, 1);
	EXPECT(t, "api.example.com.", ROUTE_MATCH_EXACT, 1);
	EXPECT(t, "X.APPS.example.COM.", ROUTE_MATCH_WILDCARD, 2);
	EXPECT(t, "api.example.com..", ROUTE_REJECT_UNKNOWN_SNI, 0);
	cr_assert_eq(route_table_entry(t, 0, &r, NULL), 0);
	cr_assert_str_eq(r.sni_pattern, "api.example.com");
	cr_assert_eq(route_table_entry(t, 1, &r, NULL), 0);
	cr_assert_str_eq(r.sni_pattern, "*.apps.example.com");
	route_table_free(t);
}

Test(route, star_never_routes_a_hello_without_sni)
{
	const struct route_rule rules[] = {{"*", NULL, 0, 1}};
	const struct route_policy route_no_sni = {ROUTE_POLICY_ROUTE, ROUTE_POLICY_REJECT, 5, 0};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &REJECT_ALL);

	EXPECT(t, NULL, ROUTE_REJECT_NO_SNI, 0);
	EXPECT_ALPN(t, NULL, ALPN_H2, ROUTE_REJECT_NO_SNI, 0);
	route_table_free(t);
	t = build_ok(rules, N_ELEMS(rules), &route_no_sni);
	EXPECT(t, NULL, ROUTE_MATCH_NO_SNI_POLICY, 5);
	EXPECT(t, "anything.example", ROUTE_MATCH_WILDCARD, 1);
	route_table_free(t);
}

Test(route, alpn_constrained_rule_is_tried_before_the_plain_one)
{
	const struct route_rule rules[] = {
		{"a.example.com", NULL, 0, 1},
		{"a.example.com", H2, 1, 2},
	};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &REJECT_ALL);

	EXPECT_ALPN(t, "a.example.com", ALPN_H2, ROUTE_MATCH_EXACT, 2);
	EXPECT_ALPN(t, "a.example.com", ALPN_H11_H2, ROUTE_MATCH_EXACT, 2);
	EXPECT_ALPN(t, "a.example.com", ALPN_H11, ROUTE_MATCH_EXACT, 1);
	EXPECT(t, "a.example.com", ROUTE_MATCH_EXACT, 1);
	route_table_free(t);
}

Test(route, client_order_chooses_between_constrained_rules)
{
	const struct route_rule rules[] = {
		{"a.example.com", H2, 1, 2},
		{"a.example.com", H11, 1, 11},
		{"b.example.com", H2_H11, 2, 20},
		{"b.example.com", H2, 1, 21},
	};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &REJECT_ALL);

	EXPECT_ALPN(t, "a.example.com", ALPN_H2_H11, ROUTE_MATCH_EXACT, 2);
	EXPECT_ALPN(t, "a.example.com", ALPN_H11_H2, ROUTE_MATCH_EXACT, 11);
	/* Both b rules list h2: the earlier rule wins the tie. */
	EXPECT_ALPN(t, "b.example.com", ALPN_H2, ROUTE_MATCH_EXACT, 20);
	route_table_free(t);
}

Test(route, alpn_that_excludes_every_exact_rule_falls_through_to_wildcards_then_policy)
{
	const struct route_rule rules[] = {
		{"a.b.example.com", H2, 1, 1},
		{"*.b.example.com", H11, 1, 2},
		{"*.example.com", NULL, 0, 3},
	};
	const struct route_policy pol = {ROUTE_POLICY_REJECT, ROUTE_POLICY_ROUTE, 0, 99};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &pol);
	struct route_table *only_h2;

	EXPECT_ALPN(t, "a.b.example.com", ALPN_H2, ROUTE_MATCH_EXACT, 1);
	EXPECT_ALPN(t, "a.b.example.com", ALPN_H11, ROUTE_MATCH_WILDCARD, 2);
	EXPECT_ALPN(t, "a.b.example.com", ALPN_ACME, ROUTE_MATCH_WILDCARD, 3);
	EXPECT(t, "a.b.example.com", ROUTE_MATCH_WILDCARD, 3);
	route_table_free(t);

	only_h2 = build_ok(rules, 1, &pol);
	EXPECT_ALPN(only_h2, "a.b.example.com", ALPN_H11, ROUTE_MATCH_UNKNOWN_SNI_POLICY, 99);
	EXPECT(only_h2, "a.b.example.com", ROUTE_MATCH_UNKNOWN_SNI_POLICY, 99);
	route_table_free(only_h2);
}

Test(route, malformed_alpn_wire_is_read_up_to_the_damage)
{
	const struct route_rule rules[] = {
		{"a.example.com", H2, 1, 2},
		{"a.example.com", NULL, 0, 1},
	};
	/* empty name, then h2, then a length byte that overruns the buffer */
	static const uint8_t skip_empty[] = {0, 2, 'h', '2', 9, 'x'};
	static const uint8_t overrun_first[] = {3, 'h', '2'};
	static const uint8_t lone_len[] = {2};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &REJECT_ALL);

	EXPECT_ALPN(t, "a.example.com", skip_empty, ROUTE_MATCH_EXACT, 2);
	EXPECT_ALPN(t, "a.example.com", overrun_first, ROUTE_MATCH_EXACT, 1);
	EXPECT_ALPN(t, "a.example.com", lone_len, ROUTE_MATCH_EXACT, 1);
	expect(t, "a.example.com", NULL, 5, ROUTE_MATCH_EXACT, 1);
	route_table_free(t);
}

Test(route, policies_reject_or_route_no_sni_and_unknown_sni)
{
	const struct route_rule rules[] = {{"a.example.com", NULL, 0, 1}};
	const struct route_policy both = {ROUTE_POLICY_ROUTE, ROUTE_POLICY_ROUTE, 40, 41};
	const struct route_policy mixed = {ROUTE_POLICY_REJECT, ROUTE_POLICY_ROUTE, 40, 41};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), NULL);

	EXPECT(t, NULL, ROUTE_REJECT_NO_SNI, 0);
	EXPECT(t, "b.example.com", ROUTE_REJECT_UNKNOWN_SNI, 0);
	route_table_free(t);

	t = build_ok(rules, N_ELEMS(rules), &both);
	EXPECT(t, NULL, ROUTE_MATCH_NO_SNI_POLICY, 40);
	EXPECT(t, "b.example.com", ROUTE_MATCH_UNKNOWN_SNI_POLICY, 41);
	EXPECT(t, "a.example.com", ROUTE_MATCH_EXACT, 1);
	cr_assert_eq(route_table_policy(t)->unknown_sni_route_id, 41);
	route_table_free(t);

	t = build_ok(rules, N_ELEMS(rules), &mixed);
	EXPECT(t, NULL, ROUTE_REJECT_NO_SNI, 0);
	EXPECT(t, "b.example.com", ROUTE_MATCH_UNKNOWN_SNI_POLICY, 41);
	route_table_free(t);
}

Test(route, invalid_sni_is_rejected_even_when_unknown_policy_routes)
{
	const struct route_rule rules[] = {{"*", NULL, 0, 1}};
	const struct route_policy both = {ROUTE_POLICY_ROUTE, ROUTE_POLICY_ROUTE, 40, 41};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), &both);
	static const char *const bad[] = {
		"", ".", "a..b", "a b", "a/b", "*.example.com", ".example.com"};

	for (size_t i = 0; i < N_ELEMS(bad); i++)
		EXPECT(t, bad[i], ROUTE_REJECT_UNKNOWN_SNI, 0);
	route_table_free(t);
}

Test(route, empty_table_applies_only_the_policies)
{
	const struct route_policy both = {ROUTE_POLICY_ROUTE, ROUTE_POLICY_ROUTE, 40, 41};
	struct route_table *t = build_ok(NULL, 0, &both);
	struct route_rule r;

	cr_assert_eq(route_table_size(t), 0);
	cr_assert_eq(route_table_entry(t, 0, &r, NULL), -ERANGE);
	EXPECT(t, NULL, ROUTE_MATCH_NO_SNI_POLICY, 40);
	EXPECT(t, "a.example.com", ROUTE_MATCH_UNKNOWN_SNI_POLICY, 41);
	route_table_free(t);
	/* No table at all rejects everything. */
	EXPECT(NULL, NULL, ROUTE_REJECT_NO_SNI, 0);
	EXPECT(NULL, "a.example.com", ROUTE_REJECT_UNKNOWN_SNI, 0);
	cr_assert_eq(route_table_size(NULL), 0);
	route_table_free(NULL);
}

Test(route, bad_patterns_are_rejected_with_the_reason)
{
	static const struct {
		const char *pattern, *reason;
	} bad[] = {
		{"", "empty name"},	 {"*.", "empty name"},	  {".", "empty label"},
		{"a..b", "empty label"}, {".a.b", "empty label"}, {"*..a", "empty label"},
		{"a.*.b", "'*'"},	 {"*a.b", "'*'"},	  {"**", "'*'"},
		{"a.b*", "'*'"},	 {"*.*.b", "'*'"},	  {"a b", "character"},
		{"a/b", "character"},	 {"é.com", "character"},
	};

	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		const struct route_rule rules[] = {
			{"ok.example.com", NULL, 0, 1},
			{bad[i].pattern, NULL, 0, 2},
		};

		build_fails(rules, N_ELEMS(rules), "rules[1]: bad SNI pattern");
		build_fails(rules, N_ELEMS(rules), bad[i].reason);
	}
	{
		const struct route_rule none[] = {{NULL, NULL, 0, 1}};

		build_fails(none, 1, "rules[0]: missing SNI pattern");
	}
}

Test(route, bad_alpn_and_policy_are_rejected)
{
	static const char *const empty[] = {"h2", ""};
	static const char *const null_name[] = {NULL};
	char long_name[257];
	const char *const too_long[] = {long_name};
	const struct route_rule no_list[] = {{"a.example.com", NULL, 2, 1}};
	const struct route_rule r_empty[] = {{"a.example.com", empty, 2, 1}};
	const struct route_rule r_null[] = {{"a.example.com", null_name, 1, 1}};
	const struct route_rule r_long[] = {{"a.example.com", too_long, 1, 1}};
	const struct route_policy bad_policy = {7, ROUTE_POLICY_REJECT, 0, 0};
	char err[128] = "";

	memset(long_name, 'x', 256);
	long_name[256] = '\0';
	build_fails(no_list, 1, "ALPN names but no list");
	build_fails(r_empty, 1, "ALPN name 1 must be 1..255 bytes");
	build_fails(r_null, 1, "ALPN name 0 must be 1..255 bytes");
	build_fails(r_long, 1, "ALPN name 0 must be 1..255 bytes");
	long_name[255] = '\0';
	route_table_free(build_ok(r_long, 1, NULL));

	cr_assert_null(route_table_build(NULL, 0, &bad_policy, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "policy"), "%s", err);
	cr_assert_null(route_table_build(NULL, 3, NULL, err, sizeof(err)));
	cr_assert_null(route_table_build(NULL, 3, NULL, NULL, 0), "err may be NULL");
}

Test(route, exact_duplicates_are_rejected_after_normalisation)
{
	const struct route_rule same_name[] = {
		{"a.example.com", NULL, 0, 1},
		{"b.example.com", NULL, 0, 2},
		{"A.Example.com.", NULL, 0, 3},
	};
	const struct route_rule same_alpn_set[] = {
		{"*.example.com", H2_H11, 2, 1},
		{"*.EXAMPLE.com", H11_H2, 2, 2},
	};
	static const char *const h2_twice[] = {"h2", "h2"};
	const struct route_rule repeated_alpn[] = {
		{"a.example.com", H2, 1, 1},
		{"a.example.com", h2_twice, 2, 2},
	};
	const struct route_rule two_stars[] = {
		{"*", NULL, 0, 1},
		{"*", NULL, 0, 2},
	};

	build_fails(same_name, N_ELEMS(same_name),
		    "rules[2]: \"a.example.com\" duplicates rules[0]");
	build_fails(same_alpn_set, N_ELEMS(same_alpn_set),
		    "rules[1]: \"*.example.com\" duplicates");
	build_fails(repeated_alpn, N_ELEMS(repeated_alpn), "duplicates rules[0]");
	build_fails(two_stars, N_ELEMS(two_stars), "rules[1]: \"*\" duplicates rules[0]");
}

Test(route, same_pattern_with_different_alpn_sets_is_allowed)
{
	const struct route_rule rules[] = {
		{"a.example.com", H2, 1, 1},   {"a.example.com", H2_H11, 2, 2},
		{"a.example.com", NULL, 0, 3}, {"*.example.com", NULL, 0, 4},
		{"a.example.org", NULL, 0, 5},
	};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), NULL);

	cr_assert_eq(route_table_size(t), 5);
	EXPECT_ALPN(t, "a.example.com", ALPN_H11, ROUTE_MATCH_EXACT, 2);
	EXPECT(t, "a.example.org", ROUTE_MATCH_EXACT, 5);
	route_table_free(t);
}

Test(route, names_of_255_bytes_are_routed_and_256_rejected)
{
	char name[HOSTNAME_MAX + 2], wild[HOSTNAME_MAX + 2], upper[HOSTNAME_MAX + 2];
	struct route_table *t;

	/* 63-byte labels: "aaa...a.bbb...b.ccc...c.ddd...d" = 4*63 + 3 = 255 bytes */
	for (size_t i = 0; i < 255; i++)
		name[i] = (i + 1) % 64 == 0 ? '.' : (char)('a' + i / 64);
	name[255] = '\0';
	wild[0] = '*';
	wild[1] = '.';
	memmove(wild + 2, name + 64, 255 - 64 + 1);
	{
		const struct route_rule rules[] = {
			{name, NULL, 0, 1},
			{wild, NULL, 0, 2},
		};

		t = build_ok(rules, N_ELEMS(rules), NULL);
	}
	cr_assert_eq(strlen(name), 255);
	EXPECT(t, name, ROUTE_MATCH_EXACT, 1);
	memcpy(upper, name, sizeof(name));
	upper[0] = 'X';
	EXPECT(t, upper, ROUTE_MATCH_WILDCARD, 2);
	upper[0] = 'A';
	EXPECT(t, upper, ROUTE_MATCH_EXACT, 1);
	/* 255 bytes plus a trailing dot is 256 bytes as sent: over the limit */
	name[255] = '.';
	name[256] = '\0';
	EXPECT(t, name, ROUTE_REJECT_UNKNOWN_SNI, 0);
	name[255] = 'z';
	EXPECT(t, name, ROUTE_REJECT_UNKNOWN_SNI, 0);
	route_table_free(t);
	{
		const struct route_rule rules[] = {{name, NULL, 0, 1}};

		build_fails(rules, 1, "longer than 255");
	}
}

Test(route, ten_thousand_generated_names_are_all_found)
{
	enum { N_NAMES = 10000, N_ZONES = 100 };
	struct route_rule *rules = calloc(N_NAMES + N_ZONES, sizeof(*rules));
	char(*names)[48] = calloc(N_NAMES + N_ZONES, sizeof(*names));
	char probe[64];
	struct route_table *t;

	cr_assert(rules && names);
	for (size_t i = 0; i < N_NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "host-%zu.zone-%zu.example.com", i,
			 i % N_ZONES);
		rules[i] = (struct route_rule){names[i], NULL, 0, (uint32_t)i};
	}
	for (size_t z = 0; z < N_ZONES; z++) {
		snprintf(names[N_NAMES + z], sizeof(names[0]), "*.zone-%zu.example.com", z);
		rules[N_NAMES + z] =
			(struct route_rule){names[N_NAMES + z], NULL, 0, (uint32_t)(N_NAMES + z)};
	}
	t = build_ok(rules, N_NAMES + N_ZONES, NULL);
	cr_assert_eq(route_table_size(t), N_NAMES + N_ZONES);
	for (size_t i = 0; i < N_NAMES; i++)
		EXPECT(t, names[i], ROUTE_MATCH_EXACT, (uint32_t)i);
	for (size_t z = 0; z < N_ZONES; z++) {
		snprintf(probe, sizeof(probe), "new.host-%zu.zone-%zu.example.com", z, z);
		EXPECT(t, probe, ROUTE_MATCH_WILDCARD, (uint32_t)(N_NAMES + z));
	}
	EXPECT(t, "host-1.zone-1.example.org", ROUTE_REJECT_UNKNOWN_SNI, 0);
	route_table_free(t);
	free(names);
	free(rules);
}

Test(route, entries_are_listed_in_match_precedence_order)
{
	const struct route_rule rules[] = {
		{"*", NULL, 0, 1},
		{"*.example.com", NULL, 0, 2},
		{"a.example.com", NULL, 0, 3},
		{"a.example.com", H11, 1, 4},
		{"*.b.example.com", NULL, 0, 5},
		{"a.example.com", H2, 1, 6},
	};
	static const struct {
		const char *pattern;
		size_t n_alpn;
		uint32_t id;
		enum route_kind kind;
	} want[] = {
		{"a.example.com", 1, 4, ROUTE_KIND_EXACT},
		{"a.example.com", 1, 6, ROUTE_KIND_EXACT},
		{"a.example.com", 0, 3, ROUTE_KIND_EXACT},
		{"*.b.example.com", 0, 5, ROUTE_KIND_WILDCARD},
		{"*.example.com", 0, 2, ROUTE_KIND_WILDCARD},
		{"*", 0, 1, ROUTE_KIND_ANY},
	};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), NULL);
	struct route_rule r;
	enum route_kind kind;

	cr_assert_eq(route_table_size(t), N_ELEMS(want));
	for (size_t i = 0; i < N_ELEMS(want); i++) {
		cr_assert_eq(route_table_entry(t, i, &r, &kind), 0);
		cr_assert_str_eq(r.sni_pattern, want[i].pattern, "entry %zu", i);
		cr_assert_eq(r.n_alpn, want[i].n_alpn, "entry %zu", i);
		cr_assert_eq(r.route_id, want[i].id, "entry %zu", i);
		cr_assert_eq(kind, want[i].kind, "entry %zu: %s", i, route_kind_str(kind));
	}
	cr_assert_eq(route_table_entry(t, 0, &r, NULL), 0);
	cr_assert_str_eq(r.alpn[0], "http/1.1");
	cr_assert_eq(route_table_entry(t, N_ELEMS(want), &r, NULL), -ERANGE);
	route_table_free(t);
}

Test(route, table_keeps_its_own_copies_of_the_rules)
{
	char pattern[] = "a.example.com";
	char proto[] = "h2";
	const char *alpn[] = {proto};
	const struct route_rule rules[] = {{pattern, alpn, 1, 1}};
	struct route_table *t = build_ok(rules, N_ELEMS(rules), NULL);

	memset(pattern, 'z', strlen(pattern));
	memset(proto, 'z', strlen(proto));
	EXPECT_ALPN(t, "a.example.com", ALPN_H2, ROUTE_MATCH_EXACT, 1);
	route_table_free(t);
}

Test(route, result_names_are_metric_labels)
{
	for (int m = 0; m < ROUTE_MATCH_MAX; m++) {
		const char *s = route_match_str((enum route_match)m);

		cr_assert_neq(strcmp(s, "unknown"), 0, "match %d has no name", m);
		cr_assert_eq(strspn(s, "abcdefghijklmnopqrstuvwxyz_"), strlen(s), "%s", s);
	}
	cr_assert_str_eq(route_match_str(ROUTE_REJECT_UNKNOWN_SNI), "reject_unknown_sni");
	cr_assert_str_eq(route_match_str(ROUTE_MATCH_MAX), "unknown");
	cr_assert_str_eq(route_kind_str(ROUTE_KIND_ANY), "any");
	cr_assert(route_match_is_routed(ROUTE_MATCH_UNKNOWN_SNI_POLICY));
	cr_assert(!route_match_is_routed(ROUTE_REJECT_NO_SNI));
}
