// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_resolve.c: endpoint names into addresses from a given set of
 * answers (config_resolve_with()): a resolved model resolved again takes the
 * new addresses in place of the old ones, literals never change, failed and
 * pending names; the names a model re-resolves (native, Istio ServiceEntry
 * DNS, never STATIC); and the resolve_interval key. The system resolver is in
 * test_config.c. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "config_text.h"
#include "dns_cache.h"

#define CONFIGS SG_TEST_DATA "/configs"

static struct dns_addr ip(const char *s)
{
	struct sockaddr_storage ss = {0};
	socklen_t len = 0;
	struct dns_addr a;

	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		len = sizeof(struct sockaddr_in);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		ss.ss_family = AF_INET6;
		len = sizeof(struct sockaddr_in6);
	}
	cr_assert(dns_addr_from_sockaddr((struct sockaddr *)&ss, len, &a));
	return a;
}

static void answer(struct dns_cache *c, const char *name, const char *a, const char *b)
{
	struct dns_addr v[2];
	enum dns_update u;
	size_t n = 0;

	if (a)
		v[n++] = ip(a);
	if (b)
		v[n++] = ip(b);
	cr_assert_eq(dns_cache_update(c, name, v, n, n ? NULL : "Name or service not known", &u),
		     0);
}

static struct config *load(const char *yaml, struct cfg_diags *d, int want)
{
	struct config *c = NULL;
	int rc = config_load_buf(yaml, strlen(yaml), "t.yaml", NULL, &c, d);

	cr_assert_eq(rc, want, "rc %d:\n%s", rc, config_text_diags(d));
	return c;
}

/* The endpoints of backend b of route 0, as "addr<-host" or "host:port?". */
static char *endpoints(const struct config *c, size_t b)
{
	const struct cfg_backend *be = &c->routes[0].backends[b];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	for (size_t i = 0; i < be->n_endpoints; i++) {
		const struct cfg_endpoint *e = &be->endpoints[i];
		char buf[ADDR_STR_MAX];

		if (e->is_resolved)
			fprintf(f, "%s%s<-%s", i ? " " : "",
				addr_format(&e->addr, buf, sizeof(buf)), e->host ? e->host : "-");
		else
			fprintf(f, "%s%s:%u?", i ? " " : "", e->host, e->port);
	}
	fclose(f);
	return text;
}

static void assert_endpoints(const struct config *c, size_t b, const char *want)
{
	char *got = endpoints(c, b);

	cr_assert_str_eq(got, want, "backend %zu", b);
	free(got);
}

static const char two_names[] = "listeners: [{name: l, address: \"127.0.0.1:1\"}]\n"
				"routes:\n"
				"  - name: r\n"
				"    sni: [a.example]\n"
				"    backends:\n"
				"      - address: \"b.example:443\"\n"
				"      - address: \"10.9.9.9:443\"\n"
				"      - address: \"c.example:8443\"\n";

Test(config_resolve, new_answers_replace_the_old_addresses)
{
	struct dns_cache *c = dns_cache_new();
	struct cfg_diags d = {0};
	struct config *cfg = load(two_names, &d, 0);
	struct cfg_lookup lk;

	dns_cache_lookup(c, &lk);
	answer(c, "b.example", "10.0.0.2", "fd00::2");
	answer(c, "c.example", "10.0.0.3", NULL);
	cr_assert_eq(config_resolve_with(cfg, &lk, &d), 0);
	assert_endpoints(cfg, 0, "10.0.0.2:443<-b.example [fd00::2]:443<-b.example");
	assert_endpoints(cfg, 1, "10.9.9.9:443<--");
	assert_endpoints(cfg, 2, "10.0.0.3:8443<-c.example");

	/* Resolving the resolved model again: one name moved, one kept. */
	answer(c, "b.example", "10.0.0.4", NULL);
	cr_assert_eq(config_resolve_with(cfg, &lk, &d), 0);
	assert_endpoints(cfg, 0, "10.0.0.4:443<-b.example");
	assert_endpoints(cfg, 1, "10.9.9.9:443<--");
	assert_endpoints(cfg, 2, "10.0.0.3:8443<-c.example");

	/* A failure keeps the last addresses (the cache answers with them). */
	answer(c, "b.example", NULL, NULL);
	cr_assert_eq(config_resolve_with(cfg, &lk, &d), 0);
	assert_endpoints(cfg, 0, "10.0.0.4:443<-b.example");
	cr_assert_eq(d.n, 0, "%s", config_text_diags(&d));
	config_free(cfg);
	cfg_diags_free(&d);
	dns_cache_free(c);
}

Test(config_resolve, failed_names_warn_and_pending_names_wait)
{
	struct dns_cache *c = dns_cache_new();
	struct cfg_diags d = {0};
	struct config *cfg = load(two_names, &d, 0);
	struct cfg_lookup lk;
	char *t;

	dns_cache_lookup(c, &lk);
	answer(c, "b.example", NULL, NULL); /* never resolved */
	cr_assert_eq(config_resolve_with(cfg, &lk, &d), 0);
	assert_endpoints(cfg, 0, "b.example:443?");
	assert_endpoints(cfg, 2, "c.example:8443?");
	t = config_text_diags(&d);
	cr_assert_str_eq(t,
			 "t.yaml:6:18: routes[0].backends[0].address: warning: cannot resolve "
			 "\"b.example\": Name or service not known; endpoint left unresolved, "
			 "retried later\n",
			 "c.example is pending: no warning");
	free(t);

	/* The answer arrives: the unresolved endpoint takes its addresses. */
	answer(c, "c.example", "fd00::3", NULL);
	cr_assert_eq(config_resolve_with(cfg, &lk, NULL), 0);
	assert_endpoints(cfg, 2, "[fd00::3]:8443<-c.example");
	config_free(cfg);
	cfg_diags_free(&d);
	dns_cache_free(c);
}

Test(config_resolve, hostnames_are_distinct_and_sorted)
{
	struct config *cfg = load(two_names, NULL, 0);
	const char **names;
	size_t n;

	cr_assert_eq(config_hostnames(cfg, &names, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[0], "b.example");
	cr_assert_str_eq(names[1], "c.example");
	free(names);
	config_free(cfg);
}

/* ServiceEntry resolution DNS: its endpoint names are re-resolved, as are
 * destination hosts no ServiceEntry lists; STATIC endpoints are addresses and
 * never are (api.internal, the STATIC entry's host, is not a name to look up). */
Test(config_resolve, istio_service_entry_dns_names_are_re_resolved)
{
	struct config *cfg = NULL;
	const char **names;
	size_t n;

	cr_assert_eq(config_load_path(CONFIGS "/good/istio-full.yaml", NULL, &cfg, NULL), 0);
	cr_assert_eq(config_hostnames(cfg, &names, &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(names[0], "apps-a.internal");
	cr_assert_str_eq(names[1], "apps-b.internal");
	cr_assert_str_eq(names[2], "apps-canary.internal");
	cr_assert_str_eq(names[3], "apps-legacy.internal");
	free(names);
	config_free(cfg);
}

static const char listener[] = "listeners: [{name: l, address: \"127.0.0.1:1\"}]\n";

Test(config_resolve, resolve_interval_key)
{
	struct cfg_diags d = {0};
	char yaml[256];
	struct config *cfg;
	char *t;

	snprintf(yaml, sizeof(yaml), "%sresolve_interval: 1500ms\n", listener);
	cfg = load(yaml, &d, 0);
	cr_assert_eq(cfg->resolve_interval_ms, 1500);
	cr_assert_str_eq(cfg->resolve_interval_src.path, "resolve_interval");
	config_free(cfg);
	snprintf(yaml, sizeof(yaml), "%sresolve_interval: 10ms\n", listener);
	load(yaml, &d, -EINVAL);
	snprintf(yaml, sizeof(yaml), "%sresolve_interval: 30s\n---\nresolve_interval: 5s\n",
		 listener);
	load(yaml, &d, -EINVAL);
	t = config_text_diags(&d);
	cr_assert_str_eq(t, "t.yaml:2:19: resolve_interval: duration \"10ms\" out of range "
			    "1s..24h\n"
			    "t.yaml:4:1: resolve_interval: already set at t.yaml:2:19; one "
			    "resolve_interval per configuration\n");
	free(t);
	cfg_diags_free(&d);
}

Test(config_resolve, a_later_layer_replaces_resolve_interval)
{
	static const char base[] = "listeners: [{name: l, address: \"127.0.0.1:1\"}]\n"
				   "resolve_interval: 30s\n",
			  loaded[] = "resolve_interval: 2s\n";
	struct cfg_input in[] = {
		{.buf = base, .len = sizeof(base) - 1, .name = "base.yaml"},
		{.buf = loaded, .len = sizeof(loaded) - 1, .name = "new.yaml", .is_layer = true},
	};
	struct config *cfg = NULL;

	cr_assert_eq(config_load_inputs(in, 2, NULL, 0, NULL, &cfg, NULL), 0);
	cr_assert_eq(cfg->resolve_interval_ms, 2000);
	cr_assert_str_eq(cfg->resolve_interval_src.file, "new.yaml");
	config_free(cfg);
}
