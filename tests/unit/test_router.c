// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_router.c: from YAML to routing decisions: the user's scenario file, a
 * native file with listeners of its own, and the Istio "*" catch-all. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

static struct config *load(const char *yaml, const char *name)
{
	struct cfg_diags diags = {0};
	struct config *cfg = NULL;
	int err = config_load_buf(yaml, strlen(yaml), name, NULL, &cfg, &diags);

	if (err)
		cfg_diags_print(&diags, stderr);
	cfg_diags_free(&diags);
	cr_assert_eq(err, 0, "%s does not load", name);
	return cfg;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

Test(router, user_scenario_routes_its_name_and_rejects_the_rest)
{
	char *yaml = read_file(SG_TEST_DATA "/scenario/gateway.yaml");
	struct config *cfg = load(yaml, "gateway.yaml");
	char err[256] = "";
	struct router *r = router_new(cfg, err, sizeof(err));
	size_t route = 99;

	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(cfg->n_listeners, 1);
	cr_assert_eq(router_lookup(r, 0, "sample.aliyun.com", NULL, 0, &route), ROUTE_MATCH_EXACT);
	cr_assert_str_eq(cfg->routes[route].backends[0].host,
			 "mynginxapp.default.svc.cluster.local");
	cr_assert_eq(cfg->routes[route].backends[0].port, 443);
	cr_assert_eq(router_lookup(r, 0, "SAMPLE.aliyun.com.", NULL, 0, &route), ROUTE_MATCH_EXACT);
	cr_assert_eq(router_lookup(r, 0, "www.aliyun.com", NULL, 0, &route),
		     ROUTE_REJECT_UNKNOWN_SNI);
	cr_assert_eq(router_lookup(r, 0, NULL, NULL, 0, &route), ROUTE_REJECT_NO_SNI);
	router_free(r);
	config_free(cfg);
	free(yaml);
}

Test(router, native_routes_apply_only_to_their_listeners_and_policies_route_by_name)
{
	static const char yaml[] = "listeners:\n"
				   "  - name: a\n"
				   "    address: \"127.0.0.1:8443\"\n"
				   "    no_sni: fallback\n"
				   "  - name: b\n"
				   "    address: \"127.0.0.1:9443\"\n"
				   "routes:\n"
				   "  - name: only-a\n"
				   "    listeners: [a]\n"
				   "    sni: [\"*.example.com\"]\n"
				   "    backends:\n"
				   "      - address: \"127.0.0.1:1001\"\n"
				   "  - name: fallback\n"
				   "    listeners: [a]\n"
				   "    backends:\n"
				   "      - address: \"127.0.0.1:1002\"\n"
				   "  - name: both\n"
				   "    sni: [api.example.com]\n"
				   "    alpn: [h2]\n"
				   "    backends:\n"
				   "      - address: \"127.0.0.1:1003\"\n";
	static const uint8_t h2[] = {2, 'h', '2'},
			     http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
	struct config *cfg = load(yaml, "native.yaml");
	char err[256] = "";
	struct router *r = router_new(cfg, err, sizeof(err));
	size_t route = 99;

	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(router_lookup(r, 0, "x.example.com", NULL, 0, &route), ROUTE_MATCH_WILDCARD);
	cr_assert_str_eq(cfg->routes[route].name, "only-a");
	cr_assert_eq(router_lookup(r, 1, "x.example.com", NULL, 0, &route),
		     ROUTE_REJECT_UNKNOWN_SNI, "only-a is not on listener b");
	cr_assert_eq(router_lookup(r, 1, "api.example.com", h2, sizeof(h2), &route),
		     ROUTE_MATCH_EXACT);
	cr_assert_str_eq(cfg->routes[route].name, "both");
	cr_assert_eq(router_lookup(r, 1, "api.example.com", http11, sizeof(http11), &route),
		     ROUTE_REJECT_UNKNOWN_SNI, "ALPN h2 required");
	cr_assert_eq(router_lookup(r, 0, "api.example.com", http11, sizeof(http11), &route),
		     ROUTE_MATCH_WILDCARD, "falls through to *.example.com on a");
	cr_assert_eq(router_lookup(r, 0, NULL, NULL, 0, &route), ROUTE_MATCH_NO_SNI_POLICY);
	cr_assert_str_eq(cfg->routes[route].name, "fallback");
	cr_assert_eq(router_lookup(r, 1, NULL, NULL, 0, &route), ROUTE_REJECT_NO_SNI);
	router_free(r);
	config_free(cfg);
}

Test(router, istio_star_sni_host_also_takes_hellos_without_sni)
{
	static const char yaml[] = "apiVersion: networking.istio.io/v1beta1\n"
				   "kind: Gateway\n"
				   "metadata: {name: gw}\n"
				   "spec:\n"
				   "  selector: {istio: ingressgateway}\n"
				   "  servers:\n"
				   "  - hosts: ['*']\n"
				   "    port: {name: tls, number: 443, protocol: TLS}\n"
				   "    tls: {mode: PASSTHROUGH}\n"
				   "---\n"
				   "apiVersion: networking.istio.io/v1beta1\n"
				   "kind: VirtualService\n"
				   "metadata: {name: vs}\n"
				   "spec:\n"
				   "  hosts: ['*']\n"
				   "  gateways: [gw]\n"
				   "  tls:\n"
				   "  - match:\n"
				   "    - port: 443\n"
				   "      sniHosts: ['*']\n"
				   "    route:\n"
				   "    - destination: {host: 10.0.0.1, port: {number: 443}}\n";
	struct config *cfg = load(yaml, "istio-star.yaml");
	char err[256] = "";
	struct router *r = router_new(cfg, err, sizeof(err));
	size_t route = 99;

	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(router_lookup(r, 0, "anything.example", NULL, 0, &route),
		     ROUTE_MATCH_WILDCARD);
	cr_assert_eq(router_lookup(r, 0, NULL, NULL, 0, &route), ROUTE_MATCH_NO_SNI_POLICY,
		     "Envoy's catch-all chain also takes hellos without SNI");
	router_free(r);
	config_free(cfg);
}

Test(router, destination_subnets_limit_a_route_to_local_addresses_inside_them)
{
	static const char yaml[] = "apiVersion: networking.istio.io/v1beta1\n"
				   "kind: Gateway\n"
				   "metadata: {name: gw}\n"
				   "spec:\n"
				   "  selector: {istio: ingressgateway}\n"
				   "  servers:\n"
				   "  - hosts: ['a.example.com']\n"
				   "    port: {name: tls, number: 443, protocol: TLS}\n"
				   "    tls: {mode: PASSTHROUGH}\n"
				   "---\n"
				   "apiVersion: networking.istio.io/v1beta1\n"
				   "kind: VirtualService\n"
				   "metadata: {name: vs}\n"
				   "spec:\n"
				   "  hosts: ['a.example.com']\n"
				   "  gateways: [gw]\n"
				   "  tls:\n"
				   "  - match:\n"
				   "    - port: 443\n"
				   "      sniHosts: ['a.example.com']\n"
				   "      destinationSubnets: ['10.1.0.0/16']\n"
				   "    route:\n"
				   "    - destination: {host: 10.0.0.1, port: {number: 443}}\n";
	struct config *cfg = load(yaml, "istio-subnets.yaml");
	char err[256] = "";
	struct router *r = router_new(cfg, err, sizeof(err));
	struct sockaddr_storage in = {0}, out = {0}, mapped = {0};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&in, *out4 = (struct sockaddr_in *)&out;
	struct sockaddr_in6 *m6 = (struct sockaddr_in6 *)&mapped;
	size_t route = 99;

	cr_assert_not_null(r, "%s", err);
	cr_assert_eq(router_lookup(r, 0, "a.example.com", NULL, 0, &route), ROUTE_MATCH_EXACT);
	in4->sin_family = AF_INET;
	in4->sin_addr.s_addr = htonl(0x0a01fe01); /* 10.1.254.1 */
	out4->sin_family = AF_INET;
	out4->sin_addr.s_addr = htonl(0x0a020001); /* 10.2.0.1 */
	m6->sin6_family = AF_INET6;
	m6->sin6_addr.s6_addr[10] = m6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&m6->sin6_addr.s6_addr[12], &in4->sin_addr, 4);
	cr_assert(router_accepts_local(r, route, &in));
	cr_assert(!router_accepts_local(r, route, &out));
	cr_assert(router_accepts_local(r, route, &mapped), "v4-mapped IPv6 matches the v4 subnet");
	router_free(r);
	config_free(cfg);
}
