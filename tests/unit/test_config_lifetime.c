// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_lifetime.c: how long a pair may live and how a dead peer is
 * found (issue #14, "Every pair ends"): the native idle_timeout,
 * max_connection_duration, keepalive and tcp_user_timeout keys and their
 * defaults, the Istio DestinationRule's connectionPool.tcp idleTimeout,
 * maxConnectionDuration and tcpKeepalive mapped onto them; and the cap on
 * the addresses one host name becomes (max_addresses_per_name). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_text.h"
#include "dns_cache.h"

static struct config *load(const char *yaml, struct cfg_diags *d, int want)
{
	struct config *c = NULL;
	int rc = config_load_buf(yaml, strlen(yaml), "t.yaml", NULL, &c, d);

	cr_assert_eq(rc, want, "rc %d:\n%s", rc, config_text_diags(d));
	return c;
}

#define NATIVE(keys)                                                                               \
	"listeners: [{name: l, address: \"127.0.0.1:1\"}]\n"                                       \
	"routes:\n"                                                                                \
	"  - name: r\n"                                                                            \
	"    sni: [a.example]\n" keys "    backends: [{address: \"10.0.0.1:443\"}]\n"

Test(config_lifetime, native_defaults_end_idle_pairs_after_an_hour_and_probe_peers)
{
	struct cfg_diags d = {0};
	struct config *c = load(NATIVE(""), &d, 0);
	const struct cfg_route *r = &c->routes[0];

	cr_assert_eq(r->idle_timeout_ms, 3600000, "Envoy's tcp_proxy default");
	cr_assert_eq(r->max_connection_duration_ms, 0, "off unless asked for");
	cr_assert_eq(r->keepalive_time_s, 300);
	cr_assert_eq(r->keepalive_interval_s, 30);
	cr_assert_eq(r->keepalive_probes, 3);
	cr_assert_eq(r->user_timeout_ms, 300000);
	cr_assert_eq(c->max_addresses_per_name, 64);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_lifetime, native_keys_set_each_value)
{
	struct cfg_diags d = {0};
	struct config *c = load(NATIVE("    idle_timeout: 2s\n"
				       "    max_connection_duration: 1m30s\n"
				       "    keepalive_time: 1500ms\n"
				       "    keepalive_interval: 2s\n"
				       "    keepalive_probes: 4\n"
				       "    tcp_user_timeout: 20s\n"),
				&d, 0);
	const struct cfg_route *r = &c->routes[0];

	cr_assert_eq(d.n, 0, "%s", config_text_diags(&d));
	cr_assert_eq(r->idle_timeout_ms, 2000);
	cr_assert_eq(r->max_connection_duration_ms, 90000);
	cr_assert_eq(r->keepalive_time_s, 2, "socket options take whole seconds: rounded up");
	cr_assert_eq(r->keepalive_interval_s, 2);
	cr_assert_eq(r->keepalive_probes, 4);
	cr_assert_eq(r->user_timeout_ms, 20000);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_lifetime, native_full_sets_them_and_a_clone_keeps_them)
{
	struct cfg_diags d = {0};
	struct config *c = NULL, *k;
	const struct cfg_route *r;

	cr_assert_eq(config_load_path(SG_TEST_DATA "/configs/good/native-full.yaml", NULL, &c, &d),
		     0, "%s", config_text_diags(&d));
	k = config_clone(c);
	cr_assert_not_null(k);
	config_free(c);
	r = &k->routes[2];
	cr_assert_str_eq(r->name, "everything");
	cr_assert_eq(k->max_addresses_per_name, 8);
	cr_assert_str_eq(k->max_addresses_src.file, k->files[0], "where it was set");
	cr_assert_eq(r->idle_timeout_ms, 30 * 60000);
	cr_assert_eq(r->max_connection_duration_ms, 12 * 3600000);
	cr_assert_eq(r->keepalive_time_s, 60);
	cr_assert_eq(r->keepalive_interval_s, 5);
	cr_assert_eq(r->keepalive_probes, 4);
	cr_assert_eq(r->user_timeout_ms, 45000);
	config_free(k);
	cfg_diags_free(&d);
}

Test(config_lifetime, zero_turns_each_off)
{
	struct cfg_diags d = {0};
	struct config *c = load(NATIVE("    idle_timeout: 0s\n"
				       "    keepalive_time: 0s\n"
				       "    tcp_user_timeout: 0s\n"),
				&d, 0);
	const struct cfg_route *r = &c->routes[0];

	cr_assert_eq(r->idle_timeout_ms, 0);
	cr_assert_eq(r->keepalive_time_s, 0);
	cr_assert_eq(r->user_timeout_ms, 0);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_lifetime, out_of_range_values_are_errors_with_their_position)
{
	struct cfg_diags d = {0};
	char *text;

	load(NATIVE("    idle_timeout: 200h\n"
		    "    keepalive_interval: 0s\n"
		    "    keepalive_probes: 128\n"),
	     &d, -EINVAL);
	text = config_text_diags(&d);
	cr_assert_str_eq(text,
			 "t.yaml:5:19: routes[0].idle_timeout: duration \"200h\" out of range "
			 "0ms..168h\n"
			 "t.yaml:6:25: routes[0].keepalive_interval: duration \"0s\" out of range "
			 "1s..32767s\n"
			 "t.yaml:7:23: routes[0].keepalive_probes: expected integer 1..127, got "
			 "\"128\"\n");
	free(text);
	cfg_diags_free(&d);
}

#define ISTIO_DR(tcp)                                                                              \
	"apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: gw}\n"           \
	"spec:\n  selector: {istio: ingressgateway}\n  servers:\n"                                 \
	"  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [\"*\"]\n"              \
	"    tls: {mode: PASSTHROUGH}\n---\n"                                                      \
	"apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"                          \
	"metadata: {name: vs}\nspec:\n  hosts: [\"*\"]\n  gateways: [gw]\n  tls:\n"                \
	"  - match: [{sniHosts: [a.example.com]}]\n"                                               \
	"    route: [{destination: {host: a.internal, port: {number: 443}}}]\n---\n"               \
	"apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"                         \
	"metadata: {name: dr}\nspec:\n  host: a.internal\n"                                        \
	"  trafficPolicy:\n    connectionPool:\n      tcp:\n" tcp

Test(config_lifetime, istio_idle_timeout_duration_and_keepalive_are_honoured)
{
	struct cfg_diags d = {0};
	struct config *c = load(ISTIO_DR("        idleTimeout: 90s\n"
					 "        maxConnectionDuration: 2h\n"
					 "        tcpKeepalive:\n"
					 "          time: 60s\n"
					 "          interval: 10s\n"
					 "          probes: 5\n"),
				&d, 0);
	const struct cfg_route *r = &c->routes[0];

	cr_assert_eq(d.n, 0, "read, not ignored:\n%s", config_text_diags(&d));
	cr_assert_eq(r->idle_timeout_ms, 90000);
	cr_assert_eq(r->max_connection_duration_ms, 7200000);
	cr_assert_eq(r->keepalive_time_s, 60);
	cr_assert_eq(r->keepalive_interval_s, 10);
	cr_assert_eq(r->keepalive_probes, 5);
	config_free(c);
	cfg_diags_free(&d);

	/* Without them, the defaults; a partial tcpKeepalive keeps the rest. */
	c = load(ISTIO_DR("        maxConnections: 10\n"
			  "        tcpKeepalive: {probes: 2}\n"),
		 &d, 0);
	r = &c->routes[0];
	cr_assert_eq(r->idle_timeout_ms, CFG_DEFAULT_IDLE_TIMEOUT_MS, "Istio's default is 1h too");
	cr_assert_eq(r->max_connection_duration_ms, 0);
	cr_assert_eq(r->keepalive_time_s, CFG_DEFAULT_KEEPALIVE_TIME_S);
	cr_assert_eq(r->keepalive_probes, 2);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_lifetime, max_addresses_per_name_caps_what_a_name_becomes)
{
	static const char yaml[] = "max_addresses_per_name: 3\n"
				   "listeners: [{name: l, address: \"127.0.0.1:1\"}]\n"
				   "routes:\n"
				   "  - name: r\n"
				   "    sni: [a.example]\n"
				   "    backends: [{address: \"many.example:443\"}]\n";
	struct dns_cache *cache = dns_cache_new();
	struct dns_addr v[10];
	struct cfg_diags d = {0};
	struct config *c = load(yaml, &d, 0);
	struct cfg_lookup lk;
	enum dns_update u;
	char *text;

	cr_assert_eq(c->max_addresses_per_name, 3);
	for (int i = 0; i < 10; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET};

		sin.sin_addr.s_addr = htonl(0x0a000000u + 10u - (uint32_t)i); /* 10.0.0.10 down */
		cr_assert(dns_addr_from_sockaddr((struct sockaddr *)&sin, sizeof(sin), &v[i]));
	}
	cr_assert_eq(dns_cache_update(cache, "many.example", v, 10, NULL, &u), 0);
	dns_cache_lookup(cache, &lk);
	cr_assert_eq(config_resolve_with(c, &lk, &d), 0);
	cr_assert_eq(c->routes[0].backends[0].n_endpoints, 3, "cut to the cap");
	cr_assert_eq(ntohl(((struct sockaddr_in *)&c->routes[0].backends[0].endpoints[0].addr)
				   ->sin_addr.s_addr),
		     0x0a000001u,
		     "the first in sorted order: the same answer keeps the same three");
	text = config_text_diags(&d);
	cr_assert_str_eq(
		text, "t.yaml:6:26: routes[0].backends[0].address: warning: \"many.example\" has "
		      "10 addresses: using the first 3 (max_addresses_per_name)\n");
	free(text);
	config_free(c);
	cfg_diags_free(&d);
	dns_cache_free(cache);

	c = load("max_addresses_per_name: 0\n", &d, -EINVAL);
	cfg_diags_free(&d);
}
