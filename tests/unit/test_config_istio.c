// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_istio.c: the Istio subset of the config loader. The user's scenario
 * file (docs/ARCHITECTURE.md, section "The reference scenario"; copied unchanged
 * to good/istio-scenario.yaml) must give exactly one listener and one route; the
 * rest pins the Istio rules of
 * docs/CONFIG.md: naming, selectors, sniHosts coverage, weights, ServiceEntry and
 * DestinationRule. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg_value.h"
#include "addr.h"
#include "config.h"

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

static struct config *load(const char *yaml, const struct cfg_options *o, struct cfg_diags *d,
			   int want_rc)
{
	struct config *c = NULL;
	int rc = config_load_buf(yaml, strlen(yaml), "i.yaml", o, &c, d);

	cr_assert_eq(rc, want_rc, "rc %d, want %d:\n%s", rc, want_rc, text_of(d));
	return c;
}

static const char *addr(const struct cfg_endpoint *e, char *buf)
{
	return addr_format(&e->addr, buf, 64);
}

/* Gateway "gw" on 443 for the given hosts, then more YAML. */
#define GATEWAY(hosts)                                                                             \
	"apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: gw}\n"           \
	"spec:\n  selector: {istio: ingressgateway}\n  servers:\n"                                 \
	"  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: " hosts "\n"            \
	"    tls: {mode: PASSTHROUGH}\n---\n"

Test(config_istio, user_scenario_gives_one_listener_and_one_route)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	const struct cfg_route *r;
	const struct cfg_backend *b;
	char buf[64];
	int rc = config_load_path(CONFIGS "/good/istio-scenario.yaml", NULL, &c, &d);

	cr_assert_eq(rc, 0, "%s", text_of(&d));
	cr_assert_eq(d.n, 0, "no diagnostics at all:\n%s", text_of(&d));
	cr_assert_eq(c->n_listeners, 1);
	cr_assert_str_eq(c->listeners[0].name, "istio-mynginx-customingressgateway:443");
	cr_assert_eq(c->listeners[0].port, 443);
	cr_assert_str_eq(addr_format(&c->listeners[0].addr, buf, sizeof(buf)), "0.0.0.0:443");
	cr_assert(c->listeners[0].is_istio);
	cr_assert_eq(c->listeners[0].no_sni.action, CFG_POLICY_REJECT);
	cr_assert_eq(c->listeners[0].unknown_sni.action, CFG_POLICY_REJECT);
	cr_assert_eq(c->listeners[0].hello_timeout_ms, CFG_DEFAULT_HELLO_TIMEOUT_MS);
	cr_assert_eq(c->listeners[0].max_hello_bytes, CFG_DEFAULT_MAX_HELLO_BYTES);
	cr_assert_eq(c->listeners[0].max_pending_hellos, CFG_DEFAULT_MAX_PENDING_HELLOS);

	cr_assert_eq(c->n_routes, 1);
	r = &c->routes[0];
	cr_assert_str_eq(r->name, "istio-mynginx-customvirtualservice.tls[0]");
	cr_assert(r->is_istio);
	cr_assert_eq(r->n_listeners, 1);
	cr_assert_eq(r->listeners[0], 0);
	cr_assert_eq(r->n_snis, 1);
	cr_assert_str_eq(r->snis[0].pattern, "sample.aliyun.com");
	cr_assert_not(r->snis[0].is_wildcard);
	cr_assert_eq(r->n_alpn, 0);
	cr_assert_eq(r->n_dst_subnets, 0);
	cr_assert_eq(r->balance, CFG_BALANCE_ROUND_ROBIN);
	cr_assert_eq(r->connect_timeout_ms, CFG_DEFAULT_CONNECT_TIMEOUT_MS);
	cr_assert_eq(r->proxy_protocol, CFG_PROXY_OFF);
	cr_assert_eq(r->n_backends, 1);
	b = &r->backends[0];
	cr_assert_str_eq(b->host, "mynginxapp.default.svc.cluster.local");
	cr_assert_eq(b->port, 443);
	cr_assert_eq(b->weight, 100);
	cr_assert_eq(b->n_endpoints, 1);
	cr_assert_not(b->endpoints[0].is_resolved, "left to config_resolve()");
	cr_assert_str_eq(b->endpoints[0].host, "mynginxapp.default.svc.cluster.local");
	cr_assert_eq(b->endpoints[0].port, 443);
	cr_assert_str_eq(b->src.path,
			 "VirtualService/istio-mynginx-customvirtualservice:spec.tls[0].route[0]."
			 "destination.host");
	cr_assert_eq(b->src.line, 34);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, full_file_maps_every_kind)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	const struct cfg_route *r;
	char buf[64];
	int rc = config_load_path(CONFIGS "/good/istio-full.yaml", NULL, &c, &d);

	cr_assert_eq(rc, 0, "%s", text_of(&d));
	cr_assert_eq(d.n_errors, 0);
	cr_assert_eq(d.n, 3, "AUTO_PASSTHROUGH, HTTP server, v1 Service:\n%s", text_of(&d));
	cr_assert_eq(c->n_listeners, 2, "HTTP server on 80 skipped");
	cr_assert_str_eq(c->listeners[0].name, "edge:443");
	cr_assert_str_eq(c->listeners[1].name, "edge:8443");

	cr_assert_eq(c->n_routes, 2);
	r = &c->routes[0];
	cr_assert_str_eq(r->name, "api.tls[0]");
	cr_assert_eq(r->n_listeners, 1, "match.port 443 only");
	cr_assert_eq(r->listeners[0], 0);
	cr_assert_eq(r->n_dst_subnets, 1);
	cr_assert_eq(r->dst_subnets[0].family, AF_INET);
	cr_assert_eq(r->dst_subnets[0].prefix_len, 8);
	/* DestinationRule api-policy (exact host). */
	cr_assert_eq(r->balance, CFG_BALANCE_LEAST_CONN);
	cr_assert_eq(r->connect_timeout_ms, 750);
	cr_assert_eq(r->max_connections, 500);
	cr_assert_eq(r->proxy_protocol, CFG_PROXY_V2);
	cr_assert_eq(r->n_backends, 2);
	cr_assert_eq(r->backends[0].weight, 80);
	cr_assert_eq(r->backends[1].weight, 20);
	/* ServiceEntry: targetPort 8443, endpoint port by name "tls" → 9443. */
	cr_assert_eq(r->backends[0].n_endpoints, 3);
	cr_assert_str_eq(addr(&r->backends[0].endpoints[0], buf), "10.1.0.1:8443");
	cr_assert_str_eq(addr(&r->backends[0].endpoints[1], buf), "10.1.0.2:9443");
	cr_assert_str_eq(addr(&r->backends[0].endpoints[2], buf), "[2001:db8::7]:8443");
	cr_assert_str_eq(r->backends[1].host, "192.0.2.7");
	cr_assert(r->backends[1].endpoints[0].is_resolved);
	cr_assert_str_eq(addr(&r->backends[1].endpoints[0], buf), "192.0.2.7:9443");

	r = &c->routes[1];
	cr_assert_str_eq(r->name, "api.tls[1]");
	cr_assert_eq(r->n_listeners, 2, "443 via ./*.apps.example.com, 8443 via *");
	cr_assert_str_eq(r->snis[0].pattern, "*.apps.example.com");
	cr_assert(r->snis[0].is_wildcard);
	cr_assert_eq(r->balance, CFG_BALANCE_MAGLEV, "wildcard rule *.internal");
	cr_assert_eq(r->n_backends, 3);
	cr_assert_eq(r->backends[0].weight, 34, "no weights: even split in percent");
	cr_assert_eq(r->backends[1].weight, 33);
	cr_assert_eq(r->backends[2].weight, 33);
	cr_assert_eq(r->backends[0].port, 443, "the ServiceEntry's only port");
	cr_assert_eq(r->backends[0].n_endpoints, 2, "DNS ServiceEntry endpoints");
	cr_assert_str_eq(r->backends[0].endpoints[0].host, "apps-a.internal");
	cr_assert_not(r->backends[0].endpoints[0].is_resolved);
	cr_assert_str_eq(r->backends[1].endpoints[0].host, "apps-canary.internal");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, gateway_selector_must_match_agent_labels)
{
	const char *const other[] = {"istio=internal"};
	const char *const many[] = {"app=edge", "istio=ingressgateway"};
	struct cfg_options o = {.labels = other, .n_labels = 1};
	struct cfg_diags d = {0};
	struct config *c = NULL;

	cr_assert_eq(config_load_path(CONFIGS "/good/istio-scenario.yaml", &o, &c, &d), 0);
	cr_assert_eq(c->n_listeners, 0);
	cr_assert_eq(c->n_routes, 0);
	cr_assert_eq(d.n_errors, 0);
	cr_assert_eq(d.n, 4, "%s", text_of(&d));
	cr_assert_str_eq(d.items[0].message, "no listeners: nothing will be served");
	cr_assert_str_eq(d.items[1].message,
			 "Gateway skipped: its selector does not match the agent labels");
	cr_assert_str_eq(d.items[1].path,
			 "Gateway/istio-mynginx-customingressgateway:spec.selector");
	cr_assert(d.items[1].is_warning);
	config_free(c);
	cfg_diags_free(&d);

	o.labels = many;
	o.n_labels = 2;
	cr_assert_eq(config_load_path(CONFIGS "/good/istio-scenario.yaml", &o, &c, &d), 0);
	cr_assert_eq(c->n_routes, 1);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, skipped_gateway_is_not_checked)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;

	/* Its SIMPLE server would be an error if the Gateway were ours. */
	cr_assert_eq(config_load_path(CONFIGS "/good/istio-other-gateway.yaml", NULL, &c, &d), 0);
	cr_assert_eq(d.n_errors, 0);
	cr_assert_eq(c->n_routes, 0);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, gateway_and_virtual_service_in_separate_files)
{
	const char *paths[] = {CONFIGS "/good/istio-full.yaml",
			       CONFIGS "/good/native-alpn-split.yaml"};
	struct cfg_diags d = {0};
	struct config *c = NULL;
	char dir[] = "/tmp/sg-istio-XXXXXX", p1[64], p2[64];
	const char *two[] = {p1, p2};
	FILE *f;

	/* Native and Istio in one model: both use api.example.com on listener 443? No:
	 * the native listener binds 127.0.0.1:8443, which overlaps edge:8443. */
	cr_assert_eq(config_load_paths(paths, 2, NULL, &c, &d), -EINVAL);
	cfg_diags_free(&d);

	cr_assert_not_null(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/vs.yaml", dir);
	snprintf(p2, sizeof(p2), "%s/gw.yaml", dir);
	f = fopen(p1, "w");
	fputs("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\n"
	      "spec:\n  hosts: [a.example.com]\n  gateways: [gw]\n  tls:\n"
	      "  - match: [{sniHosts: [a.example.com]}]\n"
	      "    route: [{destination: {host: a.internal, port: {number: 443}}}]\n",
	      f);
	fclose(f);
	f = fopen(p2, "w");
	fputs(GATEWAY("[\"*\"]") "listeners:\n  - name: native\n    address: \"[::1]:9443\"\n"
				 "    unknown_sni: vs.tls[0]\n",
	      f);
	fclose(f);
	cr_assert_eq(config_load_paths(two, 2, NULL, &c, &d), 0, "%s", text_of(&d));
	cr_assert_eq(c->n_listeners, 2);
	cr_assert_str_eq(c->listeners[0].name, "native");
	cr_assert_eq(c->listeners[0].unknown_sni.action, CFG_POLICY_ROUTE);
	cr_assert_eq(c->listeners[0].unknown_sni.route, 0);
	cr_assert_str_eq(c->routes[0].name, "vs.tls[0]");
	cr_assert_eq(c->routes[0].n_listeners, 1);
	cr_assert_str_eq(c->listeners[c->routes[0].listeners[0]].name, "gw:443");
	config_free(c);
	cfg_diags_free(&d);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
}

Test(config_istio, route_names_carry_non_default_namespace)
{
	struct cfg_diags d = {0};
	struct config *c = load(
		"apiVersion: networking.istio.io/v1beta1\nkind: Gateway\n"
		"metadata: {name: gw, namespace: edge}\nspec:\n  servers:\n"
		"  - port: {number: 443, name: https, protocol: TLS}\n    hosts: [\"edge/*\"]\n"
		"    tls: {}\n---\n"
		"apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
		"metadata: {name: vs, namespace: edge}\nspec:\n  hosts: [\"*\"]\n"
		"  gateways: [gw]\n  tls:\n"
		"  - match: [{sniHosts: [a.example.com]}]\n"
		"    route: [{destination: {host: a.internal, port: {number: 443}}}]\n---\n"
		"apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
		"metadata: {name: vs}\nspec:\n  hosts: [\"*\"]\n  gateways: [edge/gw]\n  tls:\n"
		"  - match: [{sniHosts: [b.example.com]}]\n"
		"    route: [{destination: {host: b.internal, port: {number: 443}}}]\n",
		NULL, &d, 0);

	/* No selector selects every gateway; no tls.mode is PASSTHROUGH (Istio's 0). */
	cr_assert_eq(c->n_listeners, 1);
	cr_assert_eq(c->n_routes, 1, "%s", text_of(&d));
	cr_assert_str_eq(c->routes[0].name, "edge/vs.tls[0]");
	/* Host "edge/" + "*" admits only VirtualServices of namespace edge. */
	cr_assert_eq(d.n, 1);
	cr_assert(strstr(d.items[0].message, "ignored (as Istio does)"));
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, matches_on_different_ports_split_the_route)
{
	struct cfg_diags d = {0};
	struct config *c = load(
		"apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: gw}\n"
		"spec:\n  servers:\n"
		"  - port: {number: 443, name: a, protocol: HTTPS}\n    hosts: [\"*\"]\n"
		"    tls: {mode: PASSTHROUGH}\n"
		"  - port: {number: 8443, name: b, protocol: HTTPS}\n    hosts: [\"*\"]\n"
		"    tls: {mode: PASSTHROUGH}\n---\n"
		"apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
		"metadata: {name: vs}\nspec:\n  hosts: [\"*\"]\n  gateways: [gw]\n  tls:\n"
		"  - match:\n    - {port: 443, sniHosts: [a.example.com]}\n"
		"    - {port: 8443, sniHosts: [b.example.com]}\n"
		"    - {port: 443, sniHosts: [c.example.com]}\n"
		"    route: [{destination: {host: x.internal, port: {number: 443}}, weight: "
		"100}]\n",
		NULL, &d, 0);

	/* One route would also serve a.example.com on 8443: Istio would not. */
	cr_assert_eq(c->n_routes, 2);
	cr_assert_str_eq(c->routes[0].name, "vs.tls[0]");
	cr_assert_eq(c->routes[0].n_snis, 2);
	cr_assert_str_eq(c->routes[0].snis[1].pattern, "c.example.com");
	cr_assert_eq(c->routes[0].listeners[0], 0);
	cr_assert_str_eq(c->routes[1].name, "vs.tls[0]#2");
	cr_assert_eq(c->routes[1].n_listeners, 1);
	cr_assert_eq(c->routes[1].listeners[0], 1);
	cr_assert_str_eq(c->routes[1].backends[0].host, "x.internal");
	cr_assert_eq(c->routes[1].backends[0].weight, 100);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, sni_hosts_need_a_covering_gateway_host)
{
	struct cfg_diags d = {0};
	struct config *c = load(
		GATEWAY("[\"*.example.com\"]") "apiVersion: networking.istio.io/v1beta1\nkind: "
					       "VirtualService\n"
					       "metadata: {name: vs}\nspec:\n  hosts: [\"*\"]\n"
					       "  gateways: [gw]\n  tls:\n"
					       "  - match: [{sniHosts: [a.example.com, "
					       "\"*.x.example.com\", "
					       "example.com, \"*\"]}]\n"
					       "    route: [{destination: {host: a.internal, port: "
					       "{number: 443}}}]\n",
		NULL, &d, 0);

	cr_assert_eq(c->n_routes, 1);
	cr_assert_eq(c->routes[0].n_snis, 2);
	cr_assert_str_eq(c->routes[0].snis[0].pattern, "a.example.com");
	cr_assert_str_eq(c->routes[0].snis[1].pattern, "*.x.example.com");
	cr_assert_eq(d.n, 2, "example.com and * are wider than *.example.com");
	cr_assert(d.items[0].is_warning && d.items[1].is_warning);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, destination_rule_exact_host_beats_wildcard)
{
	struct cfg_diags d = {0};
	struct config *c = load(
		GATEWAY("[\"*\"]") "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
				   "metadata: {name: vs}\nspec:\n  hosts: [\"*\"]\n"
				   "  gateways: [gw]\n  tls:\n"
				   "  - match: [{sniHosts: [a.example.com]}]\n"
				   "    route: [{destination: {host: A.Internal, port: {number: "
				   "443}}}]\n"
				   "---\napiVersion: networking.istio.io/v1beta1\nkind: "
				   "DestinationRule\n"
				   "metadata: {name: wide}\nspec:\n  host: \"*.internal\"\n"
				   "  trafficPolicy: {loadBalancer: {simple: RANDOM}}\n"
				   "---\napiVersion: networking.istio.io/v1beta1\nkind: "
				   "DestinationRule\n"
				   "metadata: {name: exact}\nspec:\n  host: a.internal\n"
				   "  trafficPolicy:\n    loadBalancer: {consistentHash: {maglev: "
				   "{}}}\n"
				   "    proxyProtocol: {version: V1}\n",
		NULL, &d, 0);

	cr_assert_eq(c->routes[0].balance, CFG_BALANCE_MAGLEV);
	cr_assert_eq(c->routes[0].proxy_protocol, CFG_PROXY_V1);
	cr_assert_str_eq(c->routes[0].backends[0].host, "A.Internal", "as written");
	cr_assert_str_eq(c->routes[0].backends[0].endpoints[0].host, "a.internal");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, service_entry_without_endpoints_resolves_its_host)
{
	struct cfg_diags d = {0};
	struct config *c = load(
		GATEWAY("[\"*\"]") "apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\n"
				   "metadata: {name: se}\nspec:\n  hosts: [ext.example.net]\n"
				   "  ports: [{number: 443, name: tls, targetPort: 8443}]\n"
				   "  resolution: DNS\n"
				   "---\napiVersion: networking.istio.io/v1beta1\nkind: "
				   "VirtualService\n"
				   "metadata: {name: vs}\nspec:\n  hosts: [\"*\"]\n"
				   "  gateways: [gw]\n  tls:\n"
				   "  - match: [{sniHosts: [a.example.com]}]\n"
				   "    route: [{destination: {host: ext.example.net}}]\n",
		NULL, &d, 0);
	const struct cfg_backend *b = &c->routes[0].backends[0];

	cr_assert_eq(d.n, 0, "%s", text_of(&d));
	cr_assert_eq(b->port, 443);
	cr_assert_eq(b->n_endpoints, 1);
	cr_assert_str_eq(b->endpoints[0].host, "ext.example.net");
	cr_assert_eq(b->endpoints[0].port, 8443);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_istio, weights_must_add_up_to_100)
{
	struct cfg_diags d = {0};

	load(GATEWAY("[\"*\"]") "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
				"metadata: {name: vs}\nspec:\n  hosts: [\"*\"]\n"
				"  gateways: [gw]\n  tls:\n"
				"  - match: [{sniHosts: [a.example.com]}]\n"
				"    route:\n"
				"    - {destination: {host: a.internal, port: {number: 443}}, "
				"weight: 60}\n"
				"    - {destination: {host: b.internal, port: {number: 443}}, "
				"weight: 60}\n",
	     NULL, &d, -EINVAL);
	cr_assert_eq(d.n_errors, 1);
	cr_assert_str_eq(d.items[0].path, "VirtualService/vs:spec.tls[0].route");
	cr_assert_str_eq(d.items[0].message,
			 "destination weights add up to 120; Istio requires 100");
	cfg_diags_free(&d);
}

Test(config_istio, gateway_port_collides_with_native_ipv6_listener)
{
	struct cfg_diags d = {0};

	/* The agent also serves an Istio listener on [::]:port. */
	load(GATEWAY("[\"*\"]") "listeners: [{name: six, address: \"[2001:db8::1]:443\"}]\n", NULL,
	     &d, -EINVAL);
	cr_assert_eq(d.n_errors, 1, "%s", text_of(&d));
	cr_assert_str_eq(d.items[0].message,
			 "address [2001:db8::1]:443 overlaps listener \"gw:443\" (i.yaml:7:5)");
	cfg_diags_free(&d);
}

#define VS_TO_A_INTERNAL                                                                           \
	"apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"                          \
	"metadata: {name: vs}\nspec:\n  hosts: [\"*\"]\n  gateways: [gw]\n  tls:\n"                \
	"  - match: [{sniHosts: [a.example.com]}]\n"                                               \
	"    route: [{destination: {host: a.internal, port: {number: 443}}}]\n---\n"

Test(config_istio, outlier_detection_counts_connect_failures_as_gateway_errors)
{
	struct cfg_diags d = {0};
	struct config *c = load(GATEWAY("[\"*\"]") VS_TO_A_INTERNAL
				"apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"
				"metadata: {name: dr}\nspec:\n  host: a.internal\n"
				"  trafficPolicy:\n    outlierDetection:\n"
				"      consecutive5xxErrors: 7\n      consecutiveGatewayErrors: 2\n"
				"      interval: 5s\n      baseEjectionTime: 1m\n"
				"      maxEjectionPercent: 50\n      minHealthPercent: 30\n",
				NULL, &d, 0);
	const struct cfg_outlier *o = &c->routes[0].outlier;

	cr_assert_eq(d.n, 0, "minHealthPercent is Envoy's panic threshold, not ignored");
	cr_assert_eq(c->routes[0].min_health_percent, 30);

	cr_assert_eq(o->consecutive_errors, 2, "gateway errors are what a gateway sees");
	cr_assert_eq(o->interval_ms, 5000);
	cr_assert_eq(o->base_ejection_ms, 60000);
	cr_assert_eq(o->max_ejection_percent, 50);
	config_free(c);
	cfg_diags_free(&d);

	c = load(GATEWAY("[\"*\"]") VS_TO_A_INTERNAL
		 "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"
		 "metadata: {name: dr}\nspec:\n  host: a.internal\n"
		 "  trafficPolicy: {outlierDetection: {}}\n",
		 NULL, &d, 0);
	o = &c->routes[0].outlier;
	cr_assert_eq(c->routes[0].min_health_percent, 0, "Istio's default: no panic");
	cr_assert_eq(o->consecutive_errors, 5, "Istio's defaults");
	cr_assert_eq(o->interval_ms, 10000);
	cr_assert_eq(o->base_ejection_ms, 30000);
	cr_assert_eq(o->max_ejection_percent, 10);
	config_free(c);
	cfg_diags_free(&d);

	c = load(GATEWAY("[\"*\"]") VS_TO_A_INTERNAL
		 "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"
		 "metadata: {name: dr}\nspec:\n  host: a.internal\n"
		 "  trafficPolicy:\n    outlierDetection:\n      consecutive5xxErrors: 4\n"
		 "      splitExternalLocalOriginErrors: true\n"
		 "      consecutiveLocalOriginFailures: 9\n",
		 NULL, &d, 0);
	cr_assert_eq(c->routes[0].outlier.consecutive_errors, 9,
		     "split: connect failures are local-origin ones");
	config_free(c);
	cfg_diags_free(&d);
}
