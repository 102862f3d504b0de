// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_subsets.c: Istio destination subsets (issue #16 item 4). A
 * weighted split across subsets must reach the pool as disjoint endpoint
 * sets with their weights, and every way a subset cannot select endpoints is
 * an error at the subset field, never a silent merge. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "pool.h"

#define CONFIGS SG_TEST_DATA "/configs"

static char *text_of(const struct cfg_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cfg_diags_print(d, f);
	fclose(f);
	return text;
}

static struct config *load(const char *yaml, struct cfg_diags *d, int want_rc)
{
	struct config *c = NULL;
	int rc = config_load_buf(yaml, strlen(yaml), "s.yaml", NULL, &c, d);

	cr_assert_eq(rc, want_rc, "rc %d, want %d:\n%s", rc, want_rc, text_of(d));
	return c;
}

/* Loads yaml, which must fail with exactly one error, and checks its text. */
static void expect_error(const char *yaml, const char *want)
{
	struct cfg_diags d = {0};
	char *got;

	load(yaml, &d, -EINVAL);
	got = text_of(&d);
	cr_assert_eq(d.n_errors, 1, "%s", got);
	cr_assert(strstr(got, want), "want %s in:\n%s", want, got);
	free(got);
	cfg_diags_free(&d);
}

static const char *ep_addr(const struct cfg_endpoint *e, char *buf)
{
	return addr_format(&e->addr, buf, 64);
}

#define GATEWAY_AND_VS(route)                                                                      \
	"apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"                \
	"spec:\n  servers:\n  - port: {number: 443, name: tls, protocol: TLS}\n"                   \
	"    hosts: [a.example.com]\n    tls: {mode: PASSTHROUGH}\n---\n"                          \
	"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\n"         \
	"spec:\n  hosts: [a.example.com]\n  gateways: [gw]\n  tls:\n"                              \
	"  - match: [{sniHosts: [a.example.com]}]\n    route:\n" route "---\n"

#define SHOP_SE                                                                                    \
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: shop}\n"         \
	"spec:\n  hosts: [shop.internal]\n  ports: [{number: 443, name: tls}]\n"                   \
	"  resolution: STATIC\n  endpoints:\n"                                                     \
	"  - {address: 10.0.0.1, labels: {version: v1}}\n"                                         \
	"  - {address: 10.0.0.2, labels: {version: v2, track: canary}}\n---\n"

#define SHOP_DR(subsets)                                                                           \
	"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: shop}\n"      \
	"spec:\n  host: shop.internal\n  subsets:\n" subsets

#define DEST(host, subset, weight)                                                                 \
	"    - destination: {host: " host ", port: {number: 443}, subset: " subset "}\n"           \
	"      weight: " weight "\n"

Test(config_subsets, canary_is_two_disjoint_endpoint_sets_weighted_90_10)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	const struct cfg_route *r;
	char buf[64];
	int rc = config_load_path(CONFIGS "/good/istio-canary.yaml", NULL, &c, &d);

	cr_assert_eq(rc, 0, "%s", text_of(&d));
	cr_assert_eq(d.n, 0, "no diagnostics:\n%s", text_of(&d));
	cr_assert_eq(c->n_routes, 1);
	r = &c->routes[0];
	cr_assert_eq(r->n_backends, 2);
	cr_assert_str_eq(r->backends[0].subset, "v1");
	cr_assert_eq(r->backends[0].weight, 90);
	cr_assert_eq(r->backends[0].n_endpoints, 2);
	cr_assert_str_eq(ep_addr(&r->backends[0].endpoints[0], buf), "10.0.0.1:8443");
	cr_assert_str_eq(ep_addr(&r->backends[0].endpoints[1], buf), "10.0.0.2:8443");
	cr_assert_str_eq(r->backends[1].subset, "v2");
	cr_assert_eq(r->backends[1].weight, 10);
	cr_assert_eq(r->backends[1].n_endpoints, 1);
	cr_assert_str_eq(ep_addr(&r->backends[1].endpoints[0], buf), "10.0.0.3:8443");
	/* The rule's policy applies to both subsets. */
	cr_assert_eq(r->balance, CFG_BALANCE_LEAST_CONN);
	config_free(c);
	cfg_diags_free(&d);
}

/* The split is real in the pool: round robin gives v2 exactly 10 of 100 picks,
 * and never an endpoint outside the picked backend's subset. */
Test(config_subsets, pool_splits_by_subset_weight)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	struct pool *p;
	size_t per_backend[2] = {0};
	int rc = config_load_path(CONFIGS "/good/istio-canary.yaml", NULL, &c, &d);

	cr_assert_eq(rc, 0, "%s", text_of(&d));
	c->routes[0].balance = CFG_BALANCE_ROUND_ROBIN;
	p = pool_new(&c->routes[0], 1);
	cr_assert_not_null(p);
	for (int i = 0; i < 100; i++) {
		struct pool_choice ch;

		cr_assert(pool_pick(p, NULL, NULL, 0, &ch));
		cr_assert_lt(ch.backend, 2);
		cr_assert_lt(ch.endpoint, c->routes[0].backends[ch.backend].n_endpoints);
		per_backend[ch.backend]++;
	}
	cr_assert_eq(per_backend[0], 90);
	cr_assert_eq(per_backend[1], 10);
	pool_free(p);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_subsets, subset_selects_by_all_of_its_labels)
{
	struct cfg_diags d = {0};
	struct config *c = load(GATEWAY_AND_VS(DEST("shop.internal", "canary", "100"))
					SHOP_SE SHOP_DR("  - {name: canary, labels: {version: v2, "
							"track: canary}}\n"),
				&d, 0);
	char buf[64];

	cr_assert_eq(c->routes[0].backends[0].n_endpoints, 1);
	cr_assert_str_eq(ep_addr(&c->routes[0].backends[0].endpoints[0], buf), "10.0.0.2:443");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_subsets, subset_without_labels_selects_every_endpoint)
{
	struct cfg_diags d = {0};
	struct config *c = load(GATEWAY_AND_VS(DEST("shop.internal", "all", "100"))
					SHOP_SE SHOP_DR("  - {name: all}\n"),
				&d, 0);

	cr_assert_eq(c->routes[0].backends[0].n_endpoints, 2);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_subsets, unknown_subset_is_an_error)
{
	expect_error(GATEWAY_AND_VS(DEST("shop.internal", "v3", "100"))
			     SHOP_SE SHOP_DR("  - {name: v1, labels: {version: v1}}\n"),
		     "s.yaml:19:71: VirtualService/vs:spec.tls[0].route[0].destination.subset: "
		     "subset \"v3\" is not defined in DestinationRule default/shop\n");
}

Test(config_subsets, subset_without_rule_is_an_error)
{
	expect_error(GATEWAY_AND_VS(DEST("shop.internal", "v1", "100")) SHOP_SE,
		     "subset \"v1\": no DestinationRule applies to host \"shop.internal\"");
}

Test(config_subsets, subset_selecting_nothing_is_an_error)
{
	expect_error(
		GATEWAY_AND_VS(DEST("shop.internal", "v1", "90") DEST("shop.internal", "v9", "10"))
			SHOP_SE SHOP_DR("  - {name: v1, labels: {version: v1}}\n"
					"  - {name: v9, labels: {version: v9}}\n"),
		"spec.tls[0].route[1].destination.subset: subset \"v9\" (version=v9) "
		"selects no endpoint of ServiceEntry default/shop\n");
}

Test(config_subsets, subset_of_a_dns_host_is_an_error)
{
	expect_error(GATEWAY_AND_VS(DEST(
			     "dns.internal", "v1",
			     "100")) "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
				     "metadata: {name: dns}\nspec:\n  host: dns.internal\n"
				     "  subsets: [{name: v1, labels: {version: v1}}]\n",
		     "subset \"v1\": the endpoints of \"dns.internal\" come from DNS and carry no "
		     "labels");
}

Test(config_subsets, subset_of_a_service_entry_without_endpoints_is_an_error)
{
	expect_error(GATEWAY_AND_VS(DEST(
			     "dns.internal", "v1",
			     "100")) "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
				     "metadata: {name: dns}\nspec:\n  hosts: [dns.internal]\n"
				     "  ports: [{number: 443, name: tls}]\n  resolution: DNS\n---\n"
				     "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
				     "metadata: {name: dns}\nspec:\n  host: dns.internal\n"
				     "  subsets: [{name: v1, labels: {version: v1}}]\n",
		     "come from DNS and carry no labels");
}

Test(config_subsets, subset_traffic_policy_overrides_the_rule_for_its_route)
{
	struct cfg_diags d = {0};
	struct config *c = load(GATEWAY_AND_VS(DEST("shop.internal", "v2", "100")) SHOP_SE
				"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
				"metadata: {name: shop}\nspec:\n  host: shop.internal\n"
				"  trafficPolicy:\n    loadBalancer: {simple: LEAST_REQUEST}\n"
				"    connectionPool: {tcp: {connectTimeout: 2s}}\n  subsets:\n"
				"  - name: v2\n    labels: {version: v2}\n"
				"    trafficPolicy: {loadBalancer: {simple: RANDOM}}\n",
				&d, 0);

	cr_assert_eq(c->routes[0].balance, CFG_BALANCE_RANDOM2, "the subset's own");
	cr_assert_eq(c->routes[0].connect_timeout_ms, 2000, "the rule's, under the subset's");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_subsets, subsets_with_different_policies_warn_which_applies)
{
	struct cfg_diags d = {0};
	struct config *c = load(
		GATEWAY_AND_VS(DEST("shop.internal", "v1", "90") DEST("shop.internal", "v2", "10"))
			SHOP_SE SHOP_DR("  - {name: v1, labels: {version: v1}}\n"
					"  - name: v2\n    labels: {version: v2}\n"
					"    trafficPolicy: {loadBalancer: {simple: RANDOM}}\n"),
		&d, 0);
	char *got = text_of(&d);

	cr_assert(strstr(got, "destinations have different DestinationRules; default/shop "
			      "applies to the whole route"),
		  "%s", got);
	cr_assert_eq(c->routes[0].balance, CFG_BALANCE_ROUND_ROBIN);
	free(got);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_subsets, workload_entries_are_selected_then_split_by_subset)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	const struct cfg_route *r;
	char buf[64];
	int rc = config_load_path(CONFIGS "/good/istio-workload-entry.yaml", NULL, &c, &d);

	cr_assert_eq(rc, 0, "%s", text_of(&d));
	cr_assert_eq(d.n, 0, "no diagnostics:\n%s", text_of(&d));
	r = &c->routes[0];
	cr_assert_eq(r->n_backends, 2);
	cr_assert_str_eq(r->backends[0].subset, "stable");
	cr_assert_eq(r->backends[0].weight, 95);
	cr_assert_eq(r->backends[0].n_endpoints, 1);
	/* The WorkloadEntry's port named like the ServiceEntry port. */
	cr_assert_str_eq(ep_addr(&r->backends[0].endpoints[0], buf), "10.1.0.1:9443");
	cr_assert_str_eq(r->backends[1].subset, "canary");
	cr_assert_eq(r->backends[1].weight, 5);
	cr_assert_eq(r->backends[1].n_endpoints, 1, "app=other is not selected");
	cr_assert_str_eq(ep_addr(&r->backends[1].endpoints[0], buf), "10.1.0.2:443");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_subsets, workload_entry_name_needs_dns_resolution_and_is_resolved_later)
{
	struct cfg_diags d = {0};
	struct config *c =
		load(GATEWAY_AND_VS(DEST("shop.internal", "v1",
					 "100")) "apiVersion: networking.istio.io/v1\nkind: "
						 "ServiceEntry\nmetadata: {name: shop}\n"
						 "spec:\n  hosts: [shop.internal]\n  ports: "
						 "[{number: 443, name: tls}]\n"
						 "  resolution: DNS\n  workloadSelector: {labels: "
						 "{app: shop}}\n---\n"
						 "apiVersion: networking.istio.io/v1\nkind: "
						 "WorkloadEntry\nmetadata: {name: w}\n"
						 "spec: {address: shop-1.example.net, labels: "
						 "{app: shop, version: v1}}\n---\n" SHOP_DR(
							 "  - {name: v1, labels: {version: v1}}\n"),
		     &d, 0);
	const struct cfg_backend *b = &c->routes[0].backends[0];

	cr_assert_eq(b->n_endpoints, 1);
	cr_assert_not(b->endpoints[0].is_resolved);
	cr_assert_str_eq(b->endpoints[0].host, "shop-1.example.net");
	config_free(c);
	cfg_diags_free(&d);
}
