// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_layers.c: config_load_inputs(), the model behind `sockgate load`
 * and `unload`: a later layer replaces routes and listeners by name, within a
 * layer a repeated name stays an error, unloaded routes vanish, and references
 * (listener names, policies, Istio gateways) still resolve across layers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "config.h"
#include "config_text.h"

static const char BASE[] = "listeners:\n"
			   "  - name: tls\n"
			   "    address: \"127.0.0.1:8443\"\n"
			   "routes:\n"
			   "  - name: a\n"
			   "    sni: [a.example.com]\n"
			   "    backends: [{address: \"10.0.0.1:443\"}]\n"
			   "  - name: b\n"
			   "    sni: [b.example.com]\n"
			   "    backends: [{address: \"10.0.0.2:443\"}]\n";

static struct cfg_input buf_input(const char *name, const char *text, bool is_layer)
{
	return (struct cfg_input){
		.buf = text, .len = strlen(text), .name = name, .is_layer = is_layer};
}

static const struct cfg_route *find_route(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_routes; i++) {
		if (!strcmp(c->routes[i].name, name))
			return &c->routes[i];
	}
	return NULL;
}

static struct config *load(const struct cfg_input *in, size_t n, const struct cfg_unload *unload,
			   size_t n_unload, struct cfg_diags *d)
{
	struct config *c = NULL;
	int err = config_load_inputs(in, n, unload, n_unload, NULL, &c, d);
	char *text = config_text_diags(d);

	cr_assert_eq(err, 0, "load failed: %s", text);
	free(text);
	return c;
}

/* Loads what must be rejected; returns every diagnostic as text. */
static char *load_rejected(const struct cfg_input *in, size_t n, const struct cfg_unload *unload,
			   size_t n_unload)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	char *text;

	cr_assert_eq(config_load_inputs(in, n, unload, n_unload, NULL, &c, &d), -EINVAL);
	cr_assert_null(c);
	text = config_text_diags(&d);
	cfg_diags_free(&d);
	return text;
}

Test(config_layers, later_layer_replaces_route_by_name_and_adds_new)
{
	static const char over[] = "routes:\n"
				   "  - name: b\n"
				   "    listeners: [tls]\n"
				   "    sni: [b2.example.com]\n"
				   "    backends: [{address: \"10.0.0.9:443\", weight: 7}]\n"
				   "  - name: c\n"
				   "    sni: [c.example.com]\n"
				   "    backends: [{address: \"10.0.0.3:443\"}]\n";
	struct cfg_input in[] = {buf_input("base.yaml", BASE, false),
				 buf_input("over.yaml", over, true)};
	struct cfg_diags d = {0};
	struct config *c = load(in, 2, NULL, 0, &d);
	const struct cfg_route *b = find_route(c, "b");

	cr_assert_eq(c->n_routes, 3);
	cr_assert_not_null(find_route(c, "a"));
	cr_assert_not_null(find_route(c, "c"));
	cr_assert_not_null(b);
	cr_assert_str_eq(b->snis[0].pattern, "b2.example.com");
	cr_assert_eq(b->backends[0].weight, 7);
	cr_assert_str_eq(b->src.file, "over.yaml");
	cr_assert_eq(b->n_listeners, 1);
	cr_assert_eq(b->listeners[0], 0);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_layers, same_name_twice_in_one_layer_is_still_an_error)
{
	static const char over[] = "routes:\n"
				   "  - name: c\n"
				   "    sni: [c.example.com]\n"
				   "    backends: [{address: \"10.0.0.3:443\"}]\n"
				   "  - name: c\n"
				   "    sni: [d.example.com]\n"
				   "    backends: [{address: \"10.0.0.4:443\"}]\n";
	struct cfg_input in[] = {buf_input("base.yaml", BASE, false),
				 buf_input("over.yaml", over, true)};
	char *text = load_rejected(in, 2, NULL, 0);

	cr_assert_str_eq(text,
			 "over.yaml:5:5: routes[1]: duplicate route name \"c\" "
			 "(first defined at over.yaml:2:5)\n",
			 "got: %s", text);
	free(text);
}

Test(config_layers, replacing_a_listener_keeps_routes_that_name_it)
{
	static const char over[] = "listeners:\n"
				   "  - name: tls\n"
				   "    address: \"127.0.0.1:9443\"\n";
	struct cfg_input in[] = {buf_input("base.yaml", BASE, false),
				 buf_input("over.yaml", over, true)};
	struct cfg_diags d = {0};
	struct config *c = load(in, 2, NULL, 0, &d);

	cr_assert_eq(c->n_listeners, 1);
	cr_assert_eq(c->listeners[0].port, 9443);
	cr_assert_eq(c->n_routes, 2);
	for (size_t i = 0; i < c->n_routes; i++)
		cr_assert_eq(c->routes[i].n_listeners, 1);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_layers, unload_drops_routes_from_any_layer)
{
	static const char over[] = "routes:\n"
				   "  - name: c\n"
				   "    sni: [c.example.com]\n"
				   "    backends: [{address: \"10.0.0.3:443\"}]\n";
	const struct cfg_unload gone[] = {{"a", 2}, {"c", 2}, {"never-existed", 2}};
	struct cfg_input in[] = {buf_input("base.yaml", BASE, false),
				 buf_input("over.yaml", over, true)};
	struct cfg_diags d = {0};
	struct config *c = load(in, 2, gone, 3, &d);

	cr_assert_eq(c->n_routes, 1);
	cr_assert_str_eq(c->routes[0].name, "b");
	cr_assert_eq(c->routes[0].n_listeners, 1);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_layers, unloading_a_route_a_policy_names_is_an_error_at_the_policy)
{
	static const char base[] = "listeners:\n"
				   "  - name: tls\n"
				   "    address: \"127.0.0.1:8443\"\n"
				   "    no_sni: a\n"
				   "routes:\n"
				   "  - name: a\n"
				   "    sni: [a.example.com]\n"
				   "    backends: [{address: \"10.0.0.1:443\"}]\n";
	const struct cfg_unload gone[] = {{"a", 1}};
	struct cfg_input in[] = {buf_input("base.yaml", base, false)};
	char *text = load_rejected(in, 1, gone, 1);

	cr_assert(strstr(text, "base.yaml:4:") && strstr(text, "unknown route \"a\""), "got: %s",
		  text);
	free(text);
}

Test(config_layers, conflicting_sni_from_a_new_route_is_rejected)
{
	static const char over[] = "routes:\n"
				   "  - name: z\n"
				   "    sni: [a.example.com]\n"
				   "    backends: [{address: \"10.0.0.3:443\"}]\n";
	struct cfg_input in[] = {buf_input("base.yaml", BASE, false),
				 buf_input("over.yaml", over, true)};
	char *text = load_rejected(in, 2, NULL, 0);

	cr_assert(strstr(text, "over.yaml:3:") && strstr(text, "already routed by route \"a\""),
		  "got: %s", text);
	free(text);
}

Test(config_layers, istio_virtualservice_layer_replaces_its_routes)
{
	static const char base[] =
		"apiVersion: networking.istio.io/v1\n"
		"kind: Gateway\n"
		"metadata: {name: gw}\n"
		"spec:\n"
		"  selector: {istio: ingressgateway}\n"
		"  servers:\n"
		"  - port: {number: 8443, name: tls, protocol: TLS}\n"
		"    tls: {mode: PASSTHROUGH}\n"
		"    hosts: [\"*\"]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: vs}\n"
		"spec:\n"
		"  hosts: [a.example.com]\n"
		"  gateways: [gw]\n"
		"  tls:\n"
		"  - match: [{port: 8443, sniHosts: [a.example.com]}]\n"
		"    route: [{destination: {host: 10.0.0.1, port: {number: 443}}}]\n";
	static const char over[] =
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: vs}\n"
		"spec:\n"
		"  hosts: [a.example.com]\n"
		"  gateways: [gw]\n"
		"  tls:\n"
		"  - match: [{port: 8443, sniHosts: [a.example.com]}]\n"
		"    route: [{destination: {host: 10.0.0.7, port: {number: 443}}}]\n";
	struct cfg_input in[] = {buf_input("base.yaml", base, false),
				 buf_input("over.yaml", over, true)};
	struct cfg_diags d = {0};
	struct config *c = load(in, 2, NULL, 0, &d);

	cr_assert_eq(c->n_routes, 1);
	cr_assert_str_eq(c->routes[0].name, "vs.tls[0]");
	cr_assert_str_eq(c->routes[0].backends[0].host, "10.0.0.7");
	cr_assert_eq(c->routes[0].n_listeners, 1);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config_layers, a_layer_after_an_unload_brings_the_route_back)
{
	static const char again[] = "routes:\n"
				    "  - name: a\n"
				    "    sni: [a.example.com]\n"
				    "    backends: [{address: \"10.0.0.8:443\"}]\n";
	/* base (layer 0), unload a (before layer 1), then again.yaml (layer 1). */
	const struct cfg_unload gone[] = {{"a", 1}, {"b", 1}};
	struct cfg_input in[] = {buf_input("base.yaml", BASE, false),
				 buf_input("again.yaml", again, true)};
	struct cfg_diags d = {0};
	struct config *c = load(in, 2, gone, 2, &d);

	cr_assert_eq(c->n_routes, 1);
	cr_assert_str_eq(c->routes[0].name, "a");
	cr_assert_str_eq(c->routes[0].backends[0].host, "10.0.0.8");
	config_free(c);
	cfg_diags_free(&d);
}
