// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_list.c: a `kind: List` document (what `kubectl get ... -o yaml`
 * writes for several objects) loads as its items would as separate documents:
 * the same model, and diagnostics at each item's own lines. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "config.h"
#include "config_text.h"

#define GOOD SG_TEST_DATA "/configs/good"

static struct config *load(const char *path)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	int rc = config_load_path(path, NULL, &c, &d);
	char *t = config_text_diags(&d);

	cr_assert_eq(rc, 0, "%s: rc %d\n%s", path, rc, t);
	free(t);
	cfg_diags_free(&d);
	return c;
}

Test(config_list, kubectl_list_gives_the_same_model_as_separate_documents)
{
	struct config *list = load(GOOD "/istio-list.yaml");
	struct config *docs = load(GOOD "/istio-scenario.yaml");
	char *a = config_text_dump(list), *b = config_text_dump(docs);

	cr_expect_eq(list->n_listeners, 1);
	cr_expect_eq(list->n_routes, 1);
	cr_expect_str_eq(a, b);
	cr_expect_eq(list->routes[0].src.line, 44, "the route points at its item's line, not %u",
		     list->routes[0].src.line);
	free(a);
	free(b);
	config_free(list);
	config_free(docs);
}

static char *diags_of(const char *yaml, int want_rc)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;
	int rc = config_load_buf(yaml, strlen(yaml), "t.yaml", NULL, &c, &d);
	char *t = config_text_diags(&d);

	cr_expect_eq(rc, want_rc, "rc %d:\n%s", rc, t);
	config_free(c);
	cfg_diags_free(&d);
	return t;
}

Test(config_list, items_are_checked_at_their_own_lines)
{
	char *t = diags_of("apiVersion: v1\n"
			   "kind: List\n"
			   "items:\n"
			   "- apiVersion: networking.istio.io/v1\n"
			   "  kind: Gateway\n"
			   "  metadata: {name: a}\n"
			   "  spec:\n"
			   "    servers:\n"
			   "    - {port: {number: 443, protocol: TLS}, hosts: [\"*\"]}\n"
			   "- apiVersion: networking.istio.io/v1\n"
			   "  kind: Gateway\n"
			   "  metadata: {name: b}\n"
			   "  spec: {servers: [], selectr: {}}\n",
			   -EINVAL);

	cr_expect_str_eq(t, "t.yaml:9:7: Gateway/a:spec.servers[0]: protocol \"TLS\" needs "
			    "\"tls\" with mode PASSTHROUGH\n"
			    "t.yaml:13:23: Gateway/b:spec.selectr: unknown key \"selectr\" (did "
			    "you mean \"selector\"?)\n");
	free(t);
}

Test(config_list, the_list_itself_is_checked)
{
	char *t = diags_of("apiVersion: v1\nkind: List\nitemz: []\n", -EINVAL);

	cr_expect_str_eq(t, "t.yaml:1:1: List: missing required key \"items\"\n"
			    "t.yaml:3:1: List:itemz: unknown key \"itemz\" (did you mean "
			    "\"items\"?)\n");
	free(t);
}

Test(config_list, an_empty_list_and_an_aliased_item_load)
{
	char *t = diags_of("apiVersion: v1\nkind: List\nitems: []\n", 0);

	cr_expect_str_eq(t, "t.yaml: warning: no listeners: nothing will be served\n");
	free(t);
	/* An alias inside an item is copied once, not expanded. */
	t = diags_of("apiVersion: v1\n"
		     "kind: List\n"
		     "items:\n"
		     "- apiVersion: networking.istio.io/v1\n"
		     "  kind: Gateway\n"
		     "  metadata: {name: a}\n"
		     "  spec:\n"
		     "    servers:\n"
		     "    - &s {port: {number: 443, protocol: TLS}, hosts: [\"*\"], tls: {}}\n"
		     "    - *s\n",
		     0);
	cr_expect_str_eq(t, "");
	free(t);
}
