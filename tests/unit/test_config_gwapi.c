// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_gwapi.c: Gateway API objects into the model. The reference
 * scenario as a Gateway and a TLSRoute gives the same listener, SNI and
 * backend as its Istio form; parentRefs narrow by sectionName and port;
 * hostnames intersect with the listener's; weights are relative; a Service
 * in another namespace needs a ReferenceGrant; the Gateway class is chosen;
 * and what sockgate does not serve is an error or a warning, never dropped. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_text.h"

#define GOOD SG_TEST_DATA "/configs/good"

static struct config *load_opts(const char *yaml, const struct cfg_options *o, int want_rc,
				char **diags, char **notes)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	int rc = config_load_buf(yaml, strlen(yaml), "t.yaml", o, &c, &d);
	char *t = config_text_diags(&d);
	size_t len = 0;
	FILE *f = open_memstream(notes, &len);

	cr_assert_eq(rc, want_rc, "rc %d, want %d:\n%s", rc, want_rc, t);
	for (size_t i = 0; i < d.n_notes; i++)
		fprintf(f, "%s\n", d.notes[i]);
	fclose(f);
	*diags = t;
	cfg_diags_free(&d);
	return c;
}

static struct config *load(const char *yaml, int want_rc, char **diags, char **notes)
{
	return load_opts(yaml, NULL, want_rc, diags, notes);
}

#define GW(listeners)                                                                              \
	"apiVersion: gateway.networking.k8s.io/v1\n"                                               \
	"kind: Gateway\n"                                                                          \
	"metadata: {name: gw, namespace: edge}\n"                                                  \
	"spec:\n"                                                                                  \
	"  gatewayClassName: istio\n"                                                              \
	"  listeners:\n" listeners "---\n"

#define PASSTHROUGH(name, port, extra)                                                             \
	"  - name: " name "\n"                                                                     \
	"    port: " port "\n"                                                                     \
	"    protocol: TLS\n"                                                                      \
	"    tls: {mode: Passthrough}\n" extra

#define ROUTE(ns, spec)                                                                            \
	"apiVersion: gateway.networking.k8s.io/v1alpha2\n"                                         \
	"kind: TLSRoute\n"                                                                         \
	"metadata: {name: r, namespace: " ns "}\n"                                                 \
	"spec:\n" spec

static const struct cfg_route *route(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_routes; i++) {
		if (!strcmp(c->routes[i].name, name))
			return &c->routes[i];
	}
	cr_assert_fail("no route %s", name);
	return NULL;
}

Test(config_gwapi, the_scenario_maps_as_its_istio_form_does)
{
	struct cfg_diags d = {0};
	struct config *c = NULL, *istio = NULL;
	const struct cfg_route *r;

	cr_assert_eq(config_load_path(GOOD "/gateway-api-scenario.yaml", NULL, &c, &d), 0);
	cr_assert_eq(config_load_path(GOOD "/istio-scenario.yaml", NULL, &istio, &d), 0);
	cr_assert_eq(c->n_listeners, 1);
	cr_expect_str_eq(c->listeners[0].name, istio->listeners[0].name);
	cr_expect_eq(c->listeners[0].port, 443);
	cr_expect(c->listeners[0].is_istio, "served on [::] too, as Istio listeners are");
	cr_assert_eq(c->n_routes, 1);
	r = &c->routes[0];
	cr_expect_str_eq(r->name, "TLSRoute/default/istio-mynginx-customtlsroute");
	cr_assert_eq(r->n_snis, 1);
	cr_expect_str_eq(r->snis[0].pattern, "sample.aliyun.com");
	cr_assert_eq(r->n_backends, 1);
	cr_expect_str_eq(r->backends[0].host, istio->routes[0].backends[0].host);
	cr_expect_eq(r->backends[0].port, 443);
	cr_expect_eq(r->backends[0].weight, 1);
	cr_assert_eq(d.n_notes, 1);
	cr_expect(strstr(d.notes[0],
			 ":32:5: TLSRoute/istio-mynginx-customtlsroute:spec.parentRefs[0]"
			 ": attached to Gateway default/istio-mynginx-"
			 "customingressgateway listener \"tls\" (port 443) as "
			 "sample.aliyun.com"),
		  "%s", d.notes[0]);
	config_free(c);
	config_free(istio);
	cfg_diags_free(&d);
}

Test(config_gwapi, section_name_and_port_pick_listeners_and_hostnames_intersect)
{
	char *t, *n;
	struct config *c = load(
		GW(PASSTHROUGH("a", "443", "    hostname: \"*.example.com\"\n") PASSTHROUGH(
			"b", "8443", "") PASSTHROUGH("c", "443", "    hostname: x.example.com\n"))
			ROUTE("edge", "  parentRefs:\n"
				      "  - {name: gw, sectionName: a}\n"
				      "  - {name: gw, port: 8443}\n"
				      "  hostnames: [foo.example.com, \"*.other.org\"]\n"
				      "  rules: [{backendRefs: [{name: s, port: 443, weight: 3},\n"
				      "                         {name: t, port: 8443}]}]\n"),
		0, &t, &n);
	const struct cfg_route *r, *r2;

	/* Listener c has no route, and a name it claims would reach listener a's. */
	cr_expect_str_eq(t, "t.yaml:16:5: Gateway/gw:spec.listeners[2]: warning: no TLSRoute "
			    "attached: the Gateway API would refuse x.example.com here, sockgate "
			    "serves it by the routes of listener \"a\" (port 443)\n");
	cr_assert_eq(c->n_listeners, 2, "one listener per port");
	/* foo.example.com is served on 443 (within *.example.com) and 8443; *.other.org
	 * only on 8443, whose listener has no hostname: two routes. */
	r = route(c, "TLSRoute/edge/r");
	r2 = route(c, "TLSRoute/edge/r#2");
	cr_assert_eq(r->n_snis, 1);
	cr_expect_str_eq(r->snis[0].pattern, "foo.example.com");
	cr_expect_eq(r->n_listeners, 2);
	cr_assert_eq(r2->n_snis, 1);
	cr_expect_str_eq(r2->snis[0].pattern, "*.other.org");
	cr_assert_eq(r2->n_listeners, 1);
	cr_expect_eq(c->listeners[r2->listeners[0]].port, 8443);
	cr_assert_eq(r->n_backends, 2);
	cr_expect_str_eq(r->backends[0].host, "s.edge.svc.cluster.local");
	cr_expect_eq(r->backends[0].weight, 3);
	cr_expect_eq(r->backends[1].weight, 1, "the default weight is 1");
	cr_expect_eq(r2->n_backends, 2, "a split route keeps every backend");
	cr_expect(strstr(n, "listener \"a\" (port 443) as foo.example.com\n"), "%s", n);
	cr_expect(strstr(n, "listener \"b\" (port 8443) as foo.example.com, *.other.org\n"), "%s",
		  n);
	cr_expect_null(strstr(n, "listener \"c\""), "sectionName a excludes c: %s", n);
	free(t);
	free(n);
	config_free(c);
}

Test(config_gwapi, a_wildcard_route_narrows_to_the_listener_hostname)
{
	char *t, *n;
	struct config *c =
		load(GW(PASSTHROUGH("a", "443", "    hostname: api.example.com\n"))
			     ROUTE("edge", "  parentRefs: [{name: gw}]\n"
					   "  hostnames: [\"*.example.com\", nope.org]\n"
					   "  rules: [{backendRefs: [{name: s, port: 443}]}]\n"),
		     0, &t, &n);

	cr_expect_str_eq(t, "");
	cr_assert_eq(c->n_routes, 1);
	cr_assert_eq(c->routes[0].n_snis, 1);
	cr_expect_str_eq(c->routes[0].snis[0].pattern, "api.example.com");
	free(t);
	free(n);
	config_free(c);
}

Test(config_gwapi, refusals_are_warnings_with_the_reason)
{
	char *t, *n;
	struct config *c =
		load(GW(PASSTHROUGH("a", "443", "    hostname: a.example.com\n") PASSTHROUGH(
			     "k", "8443", "    allowedRoutes: {kinds: [{kind: TLSRoute}]}\n"))
			     ROUTE("other", "  parentRefs:\n"
					    "  - {name: gw, namespace: edge, sectionName: a}\n"
					    "  - {name: gw, namespace: edge, sectionName: zz}\n"
					    "  - {name: nowhere}\n"
					    "  - {group: \"\", kind: Service, name: mesh}\n"
					    "  hostnames: [b.example.com]\n"
					    "  rules: [{backendRefs: [{name: s, port: 443}]}]\n"),
		     0, &t, &n);

	cr_expect_str_eq(
		t, "t.yaml:23:5: TLSRoute/r:spec.parentRefs[0]: warning: not attached to Gateway "
		   "edge/gw: listener \"a\": it allows routes from its own namespace only "
		   "(allowedRoutes.namespaces.from: Same)\n"
		   "t.yaml:24:5: TLSRoute/r:spec.parentRefs[1]: warning: not attached: Gateway "
		   "edge/gw has no listener named \"zz\"\n"
		   "t.yaml:25:5: TLSRoute/r:spec.parentRefs[2]: warning: not attached: Gateway "
		   "\"other/nowhere\" is not loaded\n"
		   "t.yaml:26:5: TLSRoute/r:spec.parentRefs[3]: warning: not attached: parent "
		   "kind \"Service\" (group \"\") is not a Gateway (sockgate attaches "
		   "TLSRoutes to Gateways only)\n");
	cr_expect_eq(c->n_routes, 0);
	cr_expect_str_eq(n, "");
	free(t);
	free(n);
	config_free(c);
}

Test(config_gwapi, cross_namespace_backends_need_a_reference_grant)
{
	static const char grant[] = "---\n"
				    "apiVersion: gateway.networking.k8s.io/v1beta1\n"
				    "kind: ReferenceGrant\n"
				    "metadata: {name: g, namespace: backends}\n"
				    "spec:\n"
				    "  from: [{group: gateway.networking.k8s.io, kind: TLSRoute, "
				    "namespace: edge}]\n"
				    "  to: [{group: \"\", kind: Service, name: s}]\n";
	char yaml[2048], *t, *n;
	struct config *c;

	snprintf(yaml, sizeof(yaml), "%s%s",
		 GW(PASSTHROUGH("a", "443", ""))
			 ROUTE("edge", "  parentRefs: [{name: gw}]\n"
				       "  rules:\n"
				       "  - backendRefs:\n"
				       "    - {name: s, namespace: backends, port: 443}\n"
				       "    - {name: u, namespace: backends, port: 443}\n"),
		 "");
	c = load(yaml, -EINVAL, &t, &n);
	cr_expect_str_eq(t,
			 "t.yaml:19:28: TLSRoute/r:spec.rules[0].backendRefs[0].namespace: Service "
			 "\"backends/s\" is in another namespace and no ReferenceGrant in "
			 "namespace \"backends\" "
			 "allows TLSRoutes of namespace edge to refer to it\n"
			 "t.yaml:20:28: TLSRoute/r:spec.rules[0].backendRefs[1].namespace: Service "
			 "\"backends/u\" is in another namespace and no ReferenceGrant in "
			 "namespace \"backends\" "
			 "allows TLSRoutes of namespace edge to refer to it\n");
	free(t);
	free(n);
	cr_expect_null(c);
	/* The grant names s only: u stays refused. */
	strcat(yaml, grant);
	c = load(yaml, -EINVAL, &t, &n);
	cr_expect_null(strstr(t, "backends/s\" is"), "%s", t);
	cr_expect(strstr(t, "backends/u\" is in another namespace"), "%s", t);
	free(t);
	free(n);
	config_free(c);
}

Test(config_gwapi, a_granted_cross_namespace_backend_loads)
{
	char *t, *n;
	struct config *c =
		load(GW(PASSTHROUGH("a", "443", ""))
			     ROUTE("edge", "  parentRefs: [{name: gw}]\n"
					   "  rules: [{backendRefs: [{name: s, namespace: be, "
					   "port: 443}]}]\n"
					   "---\n"
					   "apiVersion: gateway.networking.k8s.io/v1beta1\n"
					   "kind: ReferenceGrant\n"
					   "metadata: {name: g, namespace: be}\n"
					   "spec:\n"
					   "  from: [{group: gateway.networking.k8s.io, kind: "
					   "TLSRoute, namespace: edge}]\n"
					   "  to: [{group: \"\", kind: Service}]\n"),
		     0, &t, &n);

	cr_expect_str_eq(t, "");
	cr_assert_eq(c->n_routes, 1);
	cr_expect_str_eq(c->routes[0].snis[0].pattern, "*", "no hostnames anywhere: any SNI");
	cr_expect_str_eq(c->routes[0].backends[0].host, "s.be.svc.cluster.local");
	free(t);
	free(n);
	config_free(c);
}

Test(config_gwapi, the_class_is_chosen)
{
	struct cfg_options o = {.gateway_class = "sockgate"};
	char *t, *n;
	struct config *c =
		load(GW(PASSTHROUGH("a", "443", ""))
			     ROUTE("edge", "  parentRefs: [{name: gw}]\n"
					   "  rules: [{backendRefs: [{name: s, port: 443}]}]\n"),
		     0, &t, &n);

	cr_expect_eq(c->n_routes, 1);
	config_free(c);
	free(t);
	free(n);
	c = load_opts(GW(PASSTHROUGH("a", "443", ""))
			      ROUTE("edge", "  parentRefs: [{name: gw}]\n"
					    "  rules: [{backendRefs: [{name: s, port: 443}]}]\n"),
		      &o, 0, &t, &n);
	cr_expect_eq(c->n_listeners, 0);
	cr_expect_eq(c->n_routes, 0);
	cr_expect(strstr(t, "t.yaml:5:21: Gateway/gw:spec.gatewayClassName: warning: Gateway "
			    "skipped: its class \"istio\" is not \"sockgate\" (--gateway-class)\n"),
		  "%s", t);
	cr_expect(strstr(t, "warning: not attached: Gateway edge/gw is of class \"istio\", not "
			    "\"sockgate\" (--gateway-class)\n"),
		  "%s", t);
	config_free(c);
	free(t);
	free(n);
}

Test(config_gwapi, two_routes_claiming_one_hostname_on_one_listener_are_an_error)
{
	char *t, *n;
	struct config *c = load(
		GW(PASSTHROUGH("a", "443", ""))
			ROUTE("edge", "  parentRefs: [{name: gw}]\n"
				      "  hostnames: [a.example.com]\n"
				      "  rules: [{backendRefs: [{name: s, port: 443}]}]\n"
				      "---\n") "apiVersion: gateway.networking.k8s.io/v1\n"
					       "kind: TLSRoute\n"
					       "metadata: {name: r2, namespace: edge}\n"
					       "spec:\n"
					       "  parentRefs: [{name: gw}]\n"
					       "  hostnames: [a.example.com]\n"
					       "  rules: [{backendRefs: [{name: s, port: 443}]}]\n",
		-EINVAL, &t, &n);

	/* The specification lets the oldest route win, by status; with no status
	 * to show which, sockgate refuses the ambiguity. */
	cr_expect_str_eq(t, "t.yaml:25:15: TLSRoute/r2:spec.hostnames[0]: SNI pattern "
			    "\"a.example.com\" on listener \"gw:443\" is already routed by route "
			    "\"TLSRoute/edge/r\" (t.yaml:17:15)\n");
	cr_expect_null(c);
	free(t);
	free(n);
}

Test(config_gwapi, from_all_admits_other_namespaces_and_destination_rules_apply)
{
	char *t, *n;
	struct config *c = load(
		GW(PASSTHROUGH("a", "443", "    allowedRoutes: {namespaces: {from: All}}\n"))
			ROUTE("apps", "  parentRefs: [{name: gw, namespace: edge}]\n"
				      "  hostnames: [a.example.com]\n"
				      "  rules: [{backendRefs: [{name: s, port: 443}]}]\n"
				      "---\n"
				      "apiVersion: networking.istio.io/v1\n"
				      "kind: DestinationRule\n"
				      "metadata: {name: dr, namespace: apps}\n"
				      "spec:\n"
				      "  host: s.apps.svc.cluster.local\n"
				      "  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n"),
		0, &t, &n);

	cr_expect_str_eq(t, "");
	cr_assert_eq(c->n_routes, 1);
	cr_expect_str_eq(c->routes[0].name, "TLSRoute/apps/r");
	cr_expect_eq(c->routes[0].balance, CFG_BALANCE_LEAST_CONN,
		     "Istio applies DestinationRules to Gateway API routes");
	free(t);
	free(n);
	config_free(c);
}
