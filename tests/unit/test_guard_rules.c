// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_guard_rules.c: the guard's deny/allow lists and their two origins.
 * What the tests pin: a reload replaces only the configuration's entries, a
 * runtime entry survives it, the tries get exactly the CIDRs that enter or
 * leave (deletions first), and the runtime cannot delete a config entry. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "guard_rules.h"

static struct cfg_cidr cidr(const char *s)
{
	struct cfg_cidr c;

	cr_assert_eq(cfg_parse_cidr(s, &c), 0, "%s", s);
	return c;
}

/* A configured guard with the given deny and allow entries (NULL-ended). */
static void make_guard(struct cfg_guard *g, const char *const *deny, const char *const *allow)
{
	static struct cfg_guard_rule d[8], a[8];

	memset(g, 0, sizeof(*g));
	g->is_set = true;
	g->deny = d;
	g->allow = a;
	for (; deny && *deny; deny++) {
		d[g->n_deny] = (struct cfg_guard_rule){.cidr = cidr(*deny)};
		d[g->n_deny].src = (struct cfg_src){
			.file = "gw.yaml", .line = 3 + (unsigned)g->n_deny, .column = 5};
		g->n_deny++;
	}
	for (; allow && *allow; allow++)
		a[g->n_allow++] = (struct cfg_guard_rule){.cidr = cidr(*allow)};
}

/* "+deny 1.2.3.0/24 -allow ..." for the changes, in order. */
static char *changes_str(const struct guard_change *ch, size_t n)
{
	char *s = calloc(1, 1024), buf[64];

	for (size_t i = 0; i < n; i++) {
		strcat(s, i ? " " : "");
		strcat(s, ch[i].is_add ? "+" : "-");
		strcat(s, guard_list_str(ch[i].list));
		strcat(s, " ");
		strcat(s, guard_cidr_str(&ch[i].cidr, buf, sizeof(buf)));
	}
	return s;
}

static char *set_config(struct guard_rules *r, const struct cfg_guard *g)
{
	struct guard_change *ch = NULL;
	size_t n = 0;
	char *s;

	cr_assert_eq(guard_rules_set_config(r, g, &ch, &n), 0);
	s = changes_str(ch, n);
	free(ch);
	return s;
}

Test(guard_rules, config_entries_enter_and_leave_with_the_config)
{
	struct guard_rules r = {0};
	struct cfg_guard g;
	char *s;

	make_guard(&g, (const char *[]){"203.0.113.0/24", "2001:db8::/32", NULL},
		   (const char *[]){"10.0.0.0/8", NULL});
	s = set_config(&r, &g);
	cr_expect_str_eq(s, "+deny 203.0.113.0/24 +deny 2001:db8::/32 +allow 10.0.0.0/8");
	free(s);
	cr_expect_str_eq(r.v[GUARD_DENY][0].where, "gw.yaml:3:5");
	cr_expect_eq(r.v[GUARD_DENY][0].origins, GUARD_ORIGIN_CONFIG);

	make_guard(&g, (const char *[]){"2001:db8::/32", "198.51.100.0/24", NULL}, NULL);
	s = set_config(&r, &g);
	cr_expect_str_eq(s, "-deny 203.0.113.0/24 -allow 10.0.0.0/8 +deny 198.51.100.0/24",
			 "deletions first, then additions; unchanged entries are not touched");
	free(s);
	cr_expect_str_eq(r.v[GUARD_DENY][0].where, "gw.yaml:3:5", "where follows the new file");
	s = set_config(&r, NULL);
	cr_expect_str_eq(s, "-deny 2001:db8::/32 -deny 198.51.100.0/24", "no guard: all leave");
	free(s);
	cr_expect_eq(r.n[GUARD_DENY] + r.n[GUARD_ALLOW], 0);
	guard_rules_fini(&r);
}

Test(guard_rules, a_runtime_entry_survives_reloads_until_deleted)
{
	struct guard_rules r = {0};
	struct cfg_cidr c = cidr("192.0.2.7/32");
	struct cfg_guard g;
	bool moved;
	char *s;

	cr_assert_eq(guard_rules_add(&r, GUARD_DENY, &c, &moved), GUARD_RULES_OK);
	cr_expect(moved, "a new CIDR enters the trie");
	cr_expect_eq(guard_rules_add(&r, GUARD_DENY, &c, &moved), GUARD_RULES_ALREADY);
	cr_expect_not(moved);
	make_guard(&g, (const char *[]){"203.0.113.0/24", NULL}, NULL);
	s = set_config(&r, &g);
	cr_expect_str_eq(s, "+deny 203.0.113.0/24");
	free(s);
	s = set_config(&r, NULL);
	cr_expect_str_eq(s, "-deny 203.0.113.0/24", "the runtime entry stays");
	free(s);
	cr_assert_not_null(guard_rules_find(&r, GUARD_DENY, &c));
	cr_expect_eq(guard_rules_del(&r, GUARD_DENY, &c, &moved), GUARD_RULES_OK);
	cr_expect(moved, "no origin left: it leaves the trie");
	cr_expect_null(guard_rules_find(&r, GUARD_DENY, &c));
	cr_expect_eq(guard_rules_del(&r, GUARD_DENY, &c, &moved), GUARD_RULES_NOT_FOUND);
	guard_rules_fini(&r);
}

Test(guard_rules, an_entry_of_both_origins_leaves_only_when_both_are_gone)
{
	struct guard_rules r = {0};
	struct cfg_cidr c = cidr("203.0.113.0/24");
	struct cfg_guard g;
	bool moved;
	char *s;

	make_guard(&g, (const char *[]){"203.0.113.0/24", NULL}, NULL);
	free(set_config(&r, &g));
	cr_expect_eq(guard_rules_del(&r, GUARD_DENY, &c, &moved), GUARD_RULES_CONFIG_ONLY,
		     "the runtime cannot remove what the configuration says");
	cr_expect_eq(guard_rules_add(&r, GUARD_DENY, &c, &moved), GUARD_RULES_OK);
	cr_expect_not(moved, "already in the trie through the configuration");
	cr_expect_eq(guard_rules_find(&r, GUARD_DENY, &c)->origins,
		     GUARD_ORIGIN_CONFIG | GUARD_ORIGIN_RUNTIME);
	s = set_config(&r, NULL);
	cr_expect_str_eq(s, "", "the runtime still wants it: no change");
	free(s);
	cr_expect_eq(guard_rules_find(&r, GUARD_DENY, &c)->origins, GUARD_ORIGIN_RUNTIME);
	cr_expect_null(guard_rules_find(&r, GUARD_DENY, &c)->where);
	cr_expect_eq(guard_rules_add(&r, GUARD_ALLOW, &c, &moved), GUARD_RULES_OK);
	cr_expect(moved, "the allow list is a separate list");
	free(set_config(&r, &g));
	cr_expect_eq(guard_rules_del(&r, GUARD_DENY, &c, &moved), GUARD_RULES_OK);
	cr_expect_not(moved, "the configuration still has it");
	cr_expect_eq(guard_rules_find(&r, GUARD_DENY, &c)->origins, GUARD_ORIGIN_CONFIG);
	guard_rules_fini(&r);
}

Test(guard_rules, a_large_config_merges_and_a_full_list_refuses_more)
{
	struct guard_rules r = {0};
	struct guard_change *ch = NULL;
	struct cfg_guard g = {.is_set = true};
	struct cfg_cidr c;
	size_t n = 0;
	bool moved;

	g.n_deny = 16384;
	g.deny = calloc(g.n_deny, sizeof(*g.deny));
	for (size_t i = 0; i < g.n_deny; i++) {
		g.deny[i].cidr = (struct cfg_cidr){.family = AF_INET, .prefix_len = 32};
		g.deny[i].cidr.addr[0] = 10;
		g.deny[i].cidr.addr[2] = (uint8_t)(i >> 8);
		g.deny[i].cidr.addr[3] = (uint8_t)i;
	}
	cr_assert_eq(guard_rules_set_config(&r, &g, &ch, &n), 0);
	cr_expect_eq(n, 16384);
	free(ch);
	cr_assert_eq(guard_rules_set_config(&r, &g, &ch, &n), 0);
	cr_expect_eq(n, 0, "the same config again changes nothing");
	free(ch);
	r.max = 16384 + 100;
	c = (struct cfg_cidr){.family = AF_INET6, .prefix_len = 128};
	for (unsigned i = 16384; i < r.max; i++) {
		c.addr[14] = (uint8_t)(i >> 8);
		c.addr[15] = (uint8_t)i;
		cr_assert_eq(guard_rules_add(&r, GUARD_DENY, &c, &moved), GUARD_RULES_OK);
	}
	c.addr[0] = 1;
	cr_expect_eq(guard_rules_add(&r, GUARD_DENY, &c, &moved), GUARD_RULES_FULL);
	free(g.deny);
	guard_rules_fini(&r);
}

Test(guard_rules, cidrs_print_in_their_usual_form)
{
	char buf[64];
	struct cfg_cidr c = cidr("2001:db8::/32");

	cr_expect_str_eq(guard_cidr_str(&c, buf, sizeof(buf)), "2001:db8::/32");
	c = cidr("198.51.100.7");
	cr_expect_str_eq(guard_cidr_str(&c, buf, sizeof(buf)), "198.51.100.7/32");
	cr_expect_str_eq(guard_rules_result_str(GUARD_RULES_CONFIG_ONLY),
			 "only in the configuration: remove it there and reload");
}
