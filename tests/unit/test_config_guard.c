// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_guard.c: the native "guard:" key: every field of a good file,
 * defaults, one guard per layer and replacement by a later layer. The bad
 * files (bad/guard*.yaml) are checked against their .err by test_config.c. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_text.h"

#define CONFIGS SG_TEST_DATA "/configs"

static const char base[] = "listeners:\n"
			   "  - name: tls\n"
			   "    address: \"0.0.0.0:443\"\n"
			   "routes:\n"
			   "  - name: r\n"
			   "    sni: [a.example.com]\n"
			   "    backends:\n"
			   "      - address: \"10.0.0.5:443\"\n";

static const char *cidr_str(const struct cfg_cidr *c, char *buf)
{
	char ip[64];

	inet_ntop(c->family, c->addr, ip, sizeof(ip));
	sprintf(buf, "%s/%u", ip, c->prefix_len);
	return buf;
}

Test(config_guard, every_key_of_the_good_file_is_read)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	const struct cfg_guard *g;
	char buf[80];
	int rc = config_load_path(CONFIGS "/good/native-guard.yaml", NULL, &c, &d);

	cr_assert_eq(rc, 0, "rc %d:\n%s", rc, config_text_diags(&d));
	g = &c->guard;
	cr_assert(g->is_set);
	cr_assert_eq(g->n_interfaces, 2);
	cr_expect_str_eq(g->interfaces[0], "eth0");
	cr_expect_str_eq(g->interfaces[1], "bond0.100");
	cr_assert_eq(g->n_deny, 3);
	cr_expect_str_eq(cidr_str(&g->deny[0].cidr, buf), "203.0.113.0/24");
	cr_expect_str_eq(cidr_str(&g->deny[1].cidr, buf), "2001:db8::/32");
	cr_expect_str_eq(cidr_str(&g->deny[2].cidr, buf), "198.51.100.7/32", "a bare address");
	cr_expect_eq(g->deny[0].src.line, 12);
	cr_expect_eq(g->deny[0].src.column, 10);
	cr_expect_str_eq(g->deny[1].src.path, "guard.deny[1]");
	cr_assert_eq(g->n_allow, 2);
	cr_expect_str_eq(cidr_str(&g->allow[1].cidr, buf), "::/0");
	cr_expect_eq(g->syn_per_second, 200);
	cr_expect_eq(g->syn_burst, 400);
	cr_expect_eq(g->src.line, 10);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_guard, without_the_key_there_is_no_guard_and_minimal_needs_only_interfaces)
{
	char yaml[1024];
	struct cfg_diags d = {0};
	struct config *c = NULL;

	cr_assert_eq(config_load_buf(base, strlen(base), "t.yaml", NULL, &c, &d), 0);
	cr_expect_not(c->guard.is_set);
	config_free(c);
	snprintf(yaml, sizeof(yaml), "%sguard:\n  interfaces: [lo]\n", base);
	cr_assert_eq(config_load_buf(yaml, strlen(yaml), "t.yaml", NULL, &c, &d), 0, "%s",
		     config_text_diags(&d));
	cr_expect(c->guard.is_set);
	cr_expect_eq(c->guard.n_deny + c->guard.n_allow, 0);
	cr_expect_eq(c->guard.syn_per_second, 0, "no syn_rate: no limit");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_guard, a_guard_only_file_merges_with_the_others)
{
	static const char guard_only[] = "guard:\n  interfaces: [eth1]\n  deny: [10.9.0.0/16]\n";
	struct cfg_input in[] = {{.buf = base, .len = strlen(base), .name = "a.yaml"},
				 {.buf = guard_only, .len = strlen(guard_only), .name = "b.yaml"}};
	struct cfg_diags d = {0};
	struct config *c = NULL;

	cr_assert_eq(config_load_inputs(in, 2, NULL, 0, NULL, &c, &d), 0, "%s",
		     config_text_diags(&d));
	cr_expect_eq(c->n_routes, 1);
	cr_expect_str_eq(c->guard.interfaces[0], "eth1");
	cr_expect_str_eq(c->guard.deny[0].src.file, "b.yaml");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_guard, two_guards_in_one_load_are_an_error)
{
	static const char g1[] = "guard:\n  interfaces: [eth0]\n";
	static const char g2[] = "guard:\n  interfaces: [eth1]\n";
	struct cfg_input in[] = {{.buf = base, .len = strlen(base), .name = "a.yaml"},
				 {.buf = g1, .len = strlen(g1), .name = "b.yaml"},
				 {.buf = g2, .len = strlen(g2), .name = "c.yaml"}};
	struct cfg_diags d = {0};
	struct config *c = NULL;
	char *text;

	cr_assert_eq(config_load_inputs(in, 3, NULL, 0, NULL, &c, &d), -EINVAL);
	text = config_text_diags(&d);
	cr_expect_str_eq(text, "c.yaml:1:1: guard: already set at b.yaml:1:1; one guard per "
			       "configuration\n");
	free(text);
	cfg_diags_free(&d);
}

Test(config_guard, a_later_layer_replaces_the_guard)
{
	static const char g1[] = "guard:\n  interfaces: [eth0]\n  deny: [10.1.0.0/16]\n";
	static const char g2[] = "guard:\n  interfaces: [eth1, eth2]\n";
	struct cfg_input in[] = {
		{.buf = base, .len = strlen(base), .name = "a.yaml"},
		{.buf = g1, .len = strlen(g1), .name = "b.yaml"},
		{.buf = g2, .len = strlen(g2), .name = "live.yaml", .is_layer = true}};
	struct cfg_diags d = {0};
	struct config *c = NULL;

	cr_assert_eq(config_load_inputs(in, 3, NULL, 0, NULL, &c, &d), 0, "%s",
		     config_text_diags(&d));
	cr_expect_eq(c->guard.n_interfaces, 2);
	cr_expect_str_eq(c->guard.interfaces[0], "eth1");
	cr_expect_eq(c->guard.n_deny, 0, "nothing of the replaced guard is left");
	cr_expect_str_eq(c->guard.src.file, "live.yaml");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_guard, dump_lists_interfaces_rate_and_rules)
{
	char yaml[1024], *text = NULL;
	size_t len = 0;
	struct config *c = NULL;
	FILE *f;

	snprintf(yaml, sizeof(yaml),
		 "%sguard:\n  interfaces: [eth0, eth1]\n  deny: [10.1.0.0/16]\n"
		 "  allow: [\"2001:db8::/32\"]\n  syn_rate: {per_second: 5, burst: 10}\n",
		 base);
	cr_assert_eq(config_load_buf(yaml, strlen(yaml), "t.yaml", NULL, &c, NULL), 0);
	f = open_memstream(&text, &len);
	cfg_guard_dump(&c->guard, f);
	fclose(f);
	cr_expect_str_eq(text, "guard on eth0, eth1: syn_rate 5/s burst 10 per source\n"
			       "  deny 10.1.0.0/16\n"
			       "  allow 2001:db8::/32\n");
	free(text);
	config_free(c);
}
