// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_proxy.c: PROXY protocol per route. Native: the scalar form
 * (off, v1, v2) and the mapping form {version, crc32c}; Istio: a
 * DestinationRule's trafficPolicy.proxyProtocol.version on the user's
 * scenario. The bad native file (bad/proxy-protocol.yaml) is checked against
 * its .err by test_config.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CONFIGS SG_TEST_DATA "/configs"

/* A native route "r" with the given proxy_protocol line ("" for none). */
#define NATIVE(pp)                                                                                 \
	"listeners:\n"                                                                             \
	"  - name: tls\n"                                                                          \
	"    address: \"0.0.0.0:443\"\n"                                                           \
	"routes:\n"                                                                                \
	"  - name: r\n"                                                                            \
	"    sni: [a.example.com]\n" pp "    backends:\n"                                          \
	"      - address: \"10.0.0.5:443\"\n"

/* Loads yaml (file name "p.yaml"); returns the model or NULL, with every
 * diagnostic printed into *text. */
static struct config *load(const char *yaml, char **text)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	size_t len = 0;
	FILE *f;

	config_load_buf(yaml, strlen(yaml), "p.yaml", NULL, &c, &d);
	*text = NULL;
	f = open_memstream(text, &len);
	cr_assert_not_null(f);
	cfg_diags_print(&d, f);
	fclose(f);
	cfg_diags_free(&d);
	return c;
}

static void expect_route(const char *yaml, enum cfg_proxy_protocol want, bool want_crc)
{
	char *text;
	struct config *c = load(yaml, &text);

	cr_assert_not_null(c, "%s\n%s", yaml, text);
	cr_assert_str_eq(text, "", "no diagnostics for\n%s", yaml);
	cr_assert_eq(c->routes[0].proxy_protocol, want, "%s", yaml);
	cr_assert_eq(c->routes[0].has_proxy_crc32c, want_crc, "%s", yaml);
	config_free(c);
	free(text);
}

static void expect_error(const char *yaml, const char *want)
{
	char *text;
	struct config *c = load(yaml, &text);

	cr_assert_null(c, "accepted:\n%s", yaml);
	cr_assert_str_eq(text, want);
	free(text);
}

Test(config_proxy, native_scalar_forms)
{
	expect_route(NATIVE(""), CFG_PROXY_OFF, false);
	expect_route(NATIVE("    proxy_protocol: \"off\"\n"), CFG_PROXY_OFF, false);
	expect_route(NATIVE("    proxy_protocol: v1\n"), CFG_PROXY_V1, false);
	expect_route(NATIVE("    proxy_protocol: v2\n"), CFG_PROXY_V2, false);
	expect_route(NATIVE("    proxy_protocol: null\n"), CFG_PROXY_OFF, false);
}

Test(config_proxy, native_mapping_forms)
{
	expect_route(NATIVE("    proxy_protocol: {version: v2, crc32c: true}\n"), CFG_PROXY_V2,
		     true);
	expect_route(NATIVE("    proxy_protocol:\n      version: v2\n      crc32c: false\n"),
		     CFG_PROXY_V2, false);
	expect_route(NATIVE("    proxy_protocol: {version: v1}\n"), CFG_PROXY_V1, false);
	/* crc32c: false says nothing a v1 header could not honour. */
	expect_route(NATIVE("    proxy_protocol: {version: v1, crc32c: false}\n"), CFG_PROXY_V1,
		     false);
}

Test(config_proxy, native_errors_name_file_line_column_and_path)
{
	expect_error(NATIVE("    proxy_protocol: {version: v1, crc32c: true}\n"),
		     "p.yaml:7:43: routes[0].proxy_protocol.crc32c: crc32c needs version v2 (only "
		     "v2 has TLVs), got version \"v1\"\n");
	expect_error(NATIVE("    proxy_protocol: v3\n"),
		     "p.yaml:7:21: routes[0].proxy_protocol: expected one of off, v1, v2, got "
		     "\"v3\" (did you mean \"v1\"?)\n");
	expect_error(NATIVE("    proxy_protocol: {version: v2, crc32: true}\n"),
		     "p.yaml:7:35: routes[0].proxy_protocol.crc32: unknown key \"crc32\" (did you "
		     "mean \"crc32c\"?)\n");
	expect_error(NATIVE("    proxy_protocol: {}\n"),
		     "p.yaml:7:21: routes[0].proxy_protocol: missing required key \"version\"\n");
}

Test(config_proxy, dump_shows_the_crc32c_option)
{
	char *text, *dump = NULL;
	size_t len = 0;
	struct config *c = load(NATIVE("    proxy_protocol: {version: v2, crc32c: true}\n"), &text);
	FILE *f = open_memstream(&dump, &len);

	cr_assert_not_null(c, "%s", text);
	config_dump(c, f);
	fclose(f);
	cr_assert(strstr(dump, " proxy_protocol=v2+crc32c max_connections=0\n"), "%s", dump);
	config_free(c);
	free(dump);
	free(text);
}

/* The user's scenario (docs/ARCHITECTURE.md, section "The reference scenario") with a
 * DestinationRule for its backend. */
static char *scenario_with(const char *dr)
{
	FILE *f = fopen(CONFIGS "/good/istio-scenario.yaml", "rb");
	char *out = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&out, &len);
	int ch;

	cr_assert_not_null(f);
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, o);
	fclose(f);
	fputs("---\napiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"
	      "metadata: {name: pp, namespace: default}\nspec:\n"
	      "  host: mynginxapp.default.svc.cluster.local\n"
	      "  trafficPolicy:\n",
	      o);
	fputs(dr, o);
	fclose(o);
	return out;
}

Test(config_istio_proxy, destination_rule_versions_reach_the_scenario_route)
{
	static const struct {
		const char *dr;
		enum cfg_proxy_protocol want;
	} cases[] = {
		{"    proxyProtocol: {version: V1}\n", CFG_PROXY_V1},
		{"    proxyProtocol:\n      version: V2\n", CFG_PROXY_V2},
		{"    loadBalancer: {simple: ROUND_ROBIN}\n", CFG_PROXY_OFF},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *yaml = scenario_with(cases[i].dr), *text;
		struct config *c = load(yaml, &text);

		cr_assert_not_null(c, "%s", text);
		cr_assert_eq(c->n_routes, 1);
		cr_assert_str_eq(c->routes[0].name, "istio-mynginx-customvirtualservice.tls[0]");
		cr_assert_eq(c->routes[0].proxy_protocol, cases[i].want, "%s", cases[i].dr);
		cr_assert_not(c->routes[0].has_proxy_crc32c, "Istio has no CRC32C option");
		config_free(c);
		free(text);
		free(yaml);
	}
}

Test(config_istio_proxy, destination_rule_errors)
{
	char *yaml = scenario_with("    proxyProtocol: {}\n"), *text;
	struct config *c = load(yaml, &text);

	/* The scenario file has 36 lines; "---" and the rule's header follow, so
	 * proxyProtocol is on line 44. */
	cr_assert_null(c);
	cr_assert_str_eq(text, "p.yaml:44:20: DestinationRule/pp:spec.trafficPolicy.proxyProtocol: "
			       "missing required key \"version\"\n");
	free(text);
	free(yaml);

	yaml = scenario_with("    proxyProtocol: {version: v2}\n");
	c = load(yaml, &text);
	cr_assert_null(c);
	cr_assert_str_eq(text, "p.yaml:44:30: DestinationRule/pp:spec.trafficPolicy.proxyProtocol."
			       "version: expected one of V1, V2, got \"v2\" (did you mean "
			       "\"V2\"?)\n");
	free(text);
	free(yaml);
}
