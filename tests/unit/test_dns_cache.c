// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_dns_cache.c: the cache of endpoint name answers: address sets compared
 * regardless of order, what each answer changes (first, same, different,
 * failed, recovered), a failure keeping the last addresses, forgetting names,
 * seeding from a resolved configuration, and the cache as a lookup. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "dns_cache.h"

static struct dns_addr ip(const char *s)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct dns_addr a;

	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(443); /* dropped */
	} else {
		cr_assert_eq(inet_pton(AF_INET6, s, &in6->sin6_addr), 1, "%s", s);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(443);
	}
	cr_assert(dns_addr_from_sockaddr((struct sockaddr *)&ss, sizeof(ss), &a));
	return a;
}

static const char *fmt(const struct dns_entry *e)
{
	static char buf[256];

	return dns_addrs_format(e->addrs, e->n_addrs, buf, sizeof(buf));
}

static enum dns_update update(struct dns_cache *c, const char *name, const struct dns_addr *v,
			      size_t n, const char *why)
{
	enum dns_update u = DNS_UPDATE_MAX;

	cr_assert_eq(dns_cache_update(c, name, v, n, why, &u), 0);
	return u;
}

Test(dns_cache, address_sets_are_sorted_deduplicated_and_portless)
{
	struct dns_addr v[] = {ip("10.0.0.2"), ip("fd00::1"), ip("10.0.0.1"), ip("10.0.0.2")};
	struct dns_addr w[] = {ip("fd00::1"), ip("10.0.0.1"), ip("10.0.0.2")};
	char buf[128];

	cr_assert_eq(dns_addrs_normalize(v, 4), 3);
	cr_assert_eq(dns_addrs_normalize(w, 3), 3);
	cr_assert(dns_addrs_equal(v, 3, w, 3), "same set, other order");
	cr_assert_not(dns_addrs_equal(v, 3, w, 2));
	cr_assert_str_eq(dns_addrs_format(v, 3, buf, sizeof(buf)), "10.0.0.1,10.0.0.2,fd00::1");
	cr_assert_str_eq(dns_addrs_format(v, 0, buf, sizeof(buf)), "none");
	cr_assert_str_eq(dns_addrs_format(v, 3, buf, 12), "10.0.0.1,10", "cut to fit");
}

Test(dns_cache, answers_change_only_when_the_set_does)
{
	struct dns_cache *c = dns_cache_new();
	struct dns_addr a[] = {ip("10.0.0.1"), ip("10.0.0.2")};
	struct dns_addr b[] = {ip("10.0.0.2"), ip("10.0.0.1"), ip("10.0.0.1")};
	struct dns_addr other[] = {ip("10.0.0.3")};
	const struct dns_entry *e;

	cr_assert_null(dns_cache_find(c, "b.example"));
	cr_assert_eq(update(c, "b.example", a, 2, NULL), DNS_UPDATE_CHANGED, "a first answer");
	cr_assert_eq(update(c, "b.example", b, 3, NULL), DNS_UPDATE_SAME, "order, duplicates");
	cr_assert_eq(update(c, "b.example", other, 1, NULL), DNS_UPDATE_CHANGED);
	e = dns_cache_find(c, "b.example");
	cr_assert_str_eq(fmt(e), "10.0.0.3");
	cr_assert(e->has_answer);
	cr_assert_not(e->is_failing);
	dns_cache_free(c);
}

Test(dns_cache, a_failure_keeps_the_last_addresses)
{
	struct dns_cache *c = dns_cache_new();
	struct dns_addr a[] = {ip("10.0.0.1")};
	const struct dns_entry *e;

	update(c, "b.example", a, 1, NULL);
	cr_assert_eq(update(c, "b.example", NULL, 0, "Name or service not known"),
		     DNS_UPDATE_FAILED);
	e = dns_cache_find(c, "b.example");
	cr_assert(e->is_failing);
	cr_assert(e->has_answer);
	cr_assert_str_eq(e->why, "Name or service not known");
	cr_assert_str_eq(fmt(e), "10.0.0.1", "kept while failing");
	cr_assert_eq(update(c, "b.example", NULL, 0, "again"), DNS_UPDATE_FAILED);
	cr_assert_eq(update(c, "b.example", a, 1, NULL), DNS_UPDATE_RECOVERED);
	e = dns_cache_find(c, "b.example");
	cr_assert_not(e->is_failing);
	cr_assert_str_eq(e->why, "");
	dns_cache_free(c);
}

Test(dns_cache, a_name_that_never_resolved_has_no_answer)
{
	struct dns_cache *c = dns_cache_new();
	struct dns_addr a[] = {ip("fd00::7")};
	const struct dns_entry *e;

	cr_assert_eq(update(c, "new.example", NULL, 0, "timed out"), DNS_UPDATE_FAILED);
	e = dns_cache_find(c, "new.example");
	cr_assert_not(e->has_answer);
	cr_assert_eq(e->n_addrs, 0);
	cr_assert_eq(update(c, "new.example", a, 1, NULL), DNS_UPDATE_CHANGED,
		     "the first answer after failures is a change");
	dns_cache_free(c);
}

Test(dns_cache, entries_stay_in_name_order_and_retain_forgets_the_rest)
{
	struct dns_cache *c = dns_cache_new();
	struct dns_addr a[] = {ip("10.0.0.1")};
	const char *const names[] = {"m", "c", "x", "a", "q", "b", "z", "d", "y"};
	const char *const keep[] = {"z", "b", "nope"};

	for (size_t i = 0; i < 9; i++)
		update(c, names[i], a, 1, NULL);
	cr_assert_eq(dns_cache_count(c), 9);
	for (size_t i = 1; i < 9; i++)
		cr_assert_lt(strcmp(dns_cache_at(c, i - 1)->name, dns_cache_at(c, i)->name), 0);
	for (size_t i = 0; i < 9; i++)
		cr_assert_not_null(dns_cache_find(c, names[i]), "%s", names[i]);
	dns_cache_retain(c, keep, 3);
	cr_assert_eq(dns_cache_count(c), 2);
	cr_assert_str_eq(dns_cache_at(c, 0)->name, "b");
	cr_assert_str_eq(dns_cache_at(c, 1)->name, "z");
	cr_assert_null(dns_cache_find(c, "m"));
	dns_cache_free(c);
}

static const char seed_yaml[] = "listeners: [{name: l, address: \"127.0.0.1:1\"}]\n"
				"routes:\n"
				"  - name: r\n"
				"    sni: [a.example]\n"
				"    backends:\n"
				"      - address: \"b.example:443\"\n"
				"      - address: \"b.example:8443\"\n"
				"      - address: \"10.9.9.9:443\"\n"
				"      - address: \"down.example:443\"\n";

Test(dns_cache, seeding_takes_the_addresses_a_configuration_resolved)
{
	struct dns_cache *c = dns_cache_new(), *answers = dns_cache_new();
	struct dns_addr b[] = {ip("10.0.0.2"), ip("fd00::2")};
	struct config *cfg = NULL;
	struct cfg_lookup lk;

	cr_assert_eq(config_load_buf(seed_yaml, strlen(seed_yaml), "t.yaml", NULL, &cfg, NULL), 0);
	update(answers, "b.example", b, 2, NULL);
	update(answers, "down.example", NULL, 0, "no");
	dns_cache_lookup(answers, &lk);
	cr_assert_eq(config_resolve_with(cfg, &lk, NULL), 0);
	cr_assert_eq(dns_cache_seed(c, cfg), 0);
	cr_assert_eq(dns_cache_count(c), 1, "literals and unresolved names are not answers");
	cr_assert_str_eq(fmt(dns_cache_find(c, "b.example")), "10.0.0.2,fd00::2",
			 "both ports' endpoints, one set");
	config_free(cfg);
	dns_cache_free(answers);
	dns_cache_free(c);
}

Test(dns_cache, as_a_lookup_a_name_is_answered_failed_or_pending)
{
	struct dns_cache *c = dns_cache_new();
	struct dns_addr a[] = {ip("10.0.0.1")};
	const struct dns_addr *got = NULL;
	const char *why = NULL;
	struct cfg_lookup lk;
	size_t n = 0;

	update(c, "ok.example", a, 1, NULL);
	update(c, "stale.example", a, 1, NULL);
	update(c, "stale.example", NULL, 0, "SERVFAIL");
	update(c, "bad.example", NULL, 0, "NXDOMAIN");
	dns_cache_lookup(c, &lk);
	cr_assert_eq(lk.lookup(lk.arg, "ok.example", &got, &n, &why), CFG_LOOKUP_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(lk.lookup(lk.arg, "stale.example", &got, &n, &why), CFG_LOOKUP_OK,
		     "the last addresses while failing");
	cr_assert_eq(lk.lookup(lk.arg, "bad.example", &got, &n, &why), CFG_LOOKUP_FAILED);
	cr_assert_str_eq(why, "NXDOMAIN");
	cr_assert_eq(lk.lookup(lk.arg, "new.example", &got, &n, &why), CFG_LOOKUP_PENDING);
	dns_cache_free(c);
}
