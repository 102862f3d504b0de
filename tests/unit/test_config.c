// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config.c: the config loader with native files: good files checked field by
 * field, every bad file against its exact expected diagnostics (bad/<x>.err), merging
 * across files and directories, value syntaxes, and endpoint resolution. The Istio
 * format is in test_config_istio.c. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_value.h"
#include "addr.h"
#include "config.h"

#define CONFIGS SG_TEST_DATA "/configs"

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	cr_assert_not_null(f, "cannot open %s", path);
	*len = 0;
	for (;;) {
		buf = realloc(buf, cap + 4097);
		cr_assert_not_null(buf);
		size_t n = fread(buf + *len, 1, 4096, f);

		*len += n;
		cap += 4096;
		if (n < 4096)
			break;
	}
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static char *diags_text(const struct cfg_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cr_assert_eq(cfg_diags_print(d, f), 0);
	fclose(f);
	return text;
}

static struct config *load_good(const char *name, struct cfg_diags *d)
{
	char path[512];
	struct config *c = NULL;
	int rc;

	snprintf(path, sizeof(path), CONFIGS "/good/%s", name);
	rc = config_load_path(path, NULL, &c, d);
	if (rc) {
		char *t = diags_text(d);

		cr_assert_fail("%s: rc %d\n%s", name, rc, t);
	}
	cr_assert_not_null(c);
	return c;
}

static struct config *load_str(const char *yaml, struct cfg_diags *d, int want_rc)
{
	struct config *c = NULL;
	int rc = config_load_buf(yaml, strlen(yaml), "t.yaml", NULL, &c, d);

	cr_assert_eq(rc, want_rc, "rc %d, want %d:\n%s", rc, want_rc, diags_text(d));
	cr_assert_eq(c == NULL, want_rc != 0);
	return c;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf)
{
	return addr_format(ss, buf, 64);
}

Test(config, native_full_file_sets_every_key)
{
	struct cfg_diags d = {0};
	struct config *c = load_good("native-full.yaml", &d);
	const struct cfg_listener *ls;
	const struct cfg_route *r;
	char buf[64];

	cr_assert_eq(d.n, 0, "%s", diags_text(&d));
	cr_assert_eq(c->n_listeners, 2);
	ls = &c->listeners[0];
	cr_assert_str_eq(ls->name, "tls");
	cr_assert_str_eq(addr_str(&ls->addr, buf), "0.0.0.0:443");
	cr_assert_eq(ls->port, 443);
	cr_assert_eq(ls->hello_timeout_ms, 2500);
	cr_assert_eq(ls->max_hello_bytes, 16389);
	cr_assert_eq(ls->max_pending_hellos, CFG_DEFAULT_MAX_PENDING_HELLOS);
	cr_assert_eq(ls->no_sni.action, CFG_POLICY_ROUTE);
	cr_assert_str_eq(ls->no_sni.route_name, "fallback");
	cr_assert_eq(ls->no_sni.route, 1);
	cr_assert_eq(ls->unknown_sni.action, CFG_POLICY_REJECT);
	cr_assert_not(ls->is_istio);
	ls = &c->listeners[1];
	cr_assert_str_eq(ls->name, "tls6");
	cr_assert_str_eq(addr_str(&ls->addr, buf), "[::]:8443");
	cr_assert_eq(ls->addr.ss_family, AF_INET6);
	cr_assert_eq(ls->hello_timeout_ms, 60000);
	cr_assert_eq(ls->max_hello_bytes, CFG_DEFAULT_MAX_HELLO_BYTES);
	cr_assert_eq(ls->max_pending_hellos, CFG_DEFAULT_MAX_PENDING_HELLOS);
	cr_assert_eq(ls->no_sni.action, CFG_POLICY_REJECT);

	cr_assert_eq(c->n_routes, 3);
	r = &c->routes[0];
	cr_assert_str_eq(r->name, "sample");
	cr_assert_eq(r->n_listeners, 1);
	cr_assert_eq(r->listeners[0], 0);
	cr_assert_eq(r->n_snis, 2);
	cr_assert_str_eq(r->snis[0].pattern, "sample.aliyun.com");
	cr_assert_not(r->snis[0].is_wildcard);
	/* Normalised: lowercase, trailing dot gone. */
	cr_assert_str_eq(r->snis[1].pattern, "*.apps.example.com");
	cr_assert(r->snis[1].is_wildcard);
	cr_assert_eq(r->snis[1].src.line, 15);
	cr_assert_eq(r->snis[1].src.column, 32);
	cr_assert_str_eq(r->snis[1].src.path, "routes[0].sni[1]");
	cr_assert_eq(r->n_alpn, 2);
	cr_assert_str_eq(r->alpn[0], "h2");
	cr_assert_str_eq(r->alpn[1], "http/1.1");
	cr_assert_eq(r->balance, CFG_BALANCE_LEAST_CONN);
	cr_assert_eq(r->connect_timeout_ms, 1500);
	cr_assert_eq(r->connect_retries, 0);
	cr_assert_eq(r->proxy_protocol, CFG_PROXY_V2);
	cr_assert_eq(r->max_connections, 1000);
	cr_assert_eq(r->n_dst_subnets, 0);
	cr_assert_eq(r->n_backends, 3);
	cr_assert_str_eq(r->backends[0].host, "10.0.0.5");
	cr_assert_eq(r->backends[0].port, 443);
	cr_assert_eq(r->backends[0].weight, 3);
	cr_assert_eq(r->backends[0].n_endpoints, 1);
	cr_assert(r->backends[0].endpoints[0].is_resolved);
	cr_assert_null(r->backends[0].endpoints[0].host);
	cr_assert_str_eq(addr_str(&r->backends[0].endpoints[0].addr, buf), "10.0.0.5:443");
	cr_assert_str_eq(r->backends[1].host, "2001:db8::1");
	cr_assert_eq(r->backends[1].port, 8443);
	cr_assert_eq(r->backends[1].weight, 1);
	cr_assert_str_eq(addr_str(&r->backends[1].endpoints[0].addr, buf), "[2001:db8::1]:8443");
	cr_assert_str_eq(r->backends[2].host, "backend.example.net");
	cr_assert_eq(r->backends[2].weight, 1000000);
	cr_assert_not(r->backends[2].endpoints[0].is_resolved);
	cr_assert_str_eq(r->backends[2].endpoints[0].host, "backend.example.net");
	cr_assert_eq(r->backends[2].endpoints[0].port, 443);

	r = &c->routes[1];
	cr_assert_str_eq(r->name, "fallback");
	cr_assert_eq(r->n_listeners, 2, "no listeners key: every listener");
	cr_assert_eq(r->n_snis, 0);
	cr_assert_eq(r->balance, CFG_BALANCE_ROUND_ROBIN);
	cr_assert_eq(r->connect_timeout_ms, CFG_DEFAULT_CONNECT_TIMEOUT_MS);
	cr_assert_eq(r->connect_retries, CFG_DEFAULT_CONNECT_RETRIES);
	cr_assert_eq(r->proxy_protocol, CFG_PROXY_OFF);

	r = &c->routes[2];
	cr_assert_eq(r->n_listeners, 1);
	cr_assert_eq(r->listeners[0], 1);
	cr_assert_str_eq(r->snis[0].pattern, "*");
	cr_assert(r->snis[0].is_wildcard);
	cr_assert_eq(r->balance, CFG_BALANCE_MAGLEV);
	cr_assert_eq(r->proxy_protocol, CFG_PROXY_V1);
	cr_assert_eq(c->resolve_interval_ms, 45000);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config, native_minimal_file_gets_defaults)
{
	struct cfg_diags d = {0};
	struct config *c = load_good("native-minimal.yaml", &d);
	char *dump = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&dump, &len);

	cr_assert_eq(d.n, 0);
	cr_assert_eq(c->listeners[0].hello_timeout_ms, 10000);
	cr_assert_geq(c->listeners[0].max_hello_bytes, 65536 + 4 + 5);
	cr_assert_eq(c->resolve_interval_ms, CFG_DEFAULT_RESOLVE_INTERVAL_MS);
	config_dump(c, f);
	fclose(f);
	cr_assert_str_eq(
		dump, "listener tls 0.0.0.0:443 hello_timeout=10000ms max_hello_bytes=65565 "
		      "no_sni=reject unknown_sni=reject\n"
		      "route sample balance=round_robin connect_timeout=5000ms connect_retries=2 "
		      "proxy_protocol=off max_connections=0\n"
		      "  listeners tls\n"
		      "  sni sample.aliyun.com\n"
		      "  backend 10.0.0.5:443 weight=1\n"
		      "    endpoint 10.0.0.5:443\n");
	free(dump);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config, same_sni_with_disjoint_alpn_is_allowed)
{
	struct cfg_diags d = {0};
	struct config *c = load_good("native-alpn-split.yaml", &d);

	cr_assert_eq(c->n_routes, 3);
	cr_assert_str_eq(c->routes[0].snis[0].pattern, c->routes[1].snis[0].pattern);
	cr_assert_eq(c->routes[0].balance, CFG_BALANCE_RANDOM2);
	cr_assert_str_eq(c->routes[2].name, "other", "second document of the same file");
	config_free(c);
	cfg_diags_free(&d);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.yaml names of dir. */
static size_t list_yaml(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d, "%s", dir);
	*out = NULL;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		*out = realloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(*out, n, sizeof(**out), name_cmp);
	return n;
}

Test(config, every_good_file_loads_alone)
{
	char **names;
	size_t n = list_yaml(CONFIGS "/good", &names);

	cr_assert_geq(n, 5);
	for (size_t i = 0; i < n; i++) {
		struct cfg_diags d = {0};
		struct config *c = load_good(names[i], &d);

		cr_expect_eq(d.n_errors, 0, "%s", names[i]);
		config_free(c);
		cfg_diags_free(&d);
		free(names[i]);
	}
	free(names);
}

Test(config, every_bad_file_gives_exactly_its_err_file)
{
	char **names;
	size_t n = list_yaml(CONFIGS "/bad", &names), n_checked = 0;

	for (size_t i = 0; i < n; i++) {
		char path[512], name[512], *yaml, *want, *got;
		struct cfg_diags d = {0};
		struct config *c = NULL;
		size_t len, want_len;
		int rc;

		snprintf(path, sizeof(path), CONFIGS "/bad/%s", names[i]);
		snprintf(name, sizeof(name), "bad/%s", names[i]);
		yaml = read_all(path, &len);
		strcpy(path + strlen(path) - 5, ".err");
		want = read_all(path, &want_len);
		rc = config_load_buf(yaml, len, name, NULL, &c, &d);
		got = diags_text(&d);
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", name, rc);
		cr_expect_null(c, "%s: a bad file must give no model", name);
		cr_expect_gt(d.n_errors, 0, "%s", name);
		cr_expect_str_eq(got, want, "%s: got\n%s\nwant\n%s", name, got, want);
		n_checked++;
		config_free(c);
		cfg_diags_free(&d);
		free(yaml);
		free(want);
		free(got);
		free(names[i]);
	}
	free(names);
	cr_assert_geq(n_checked, 15, "only %zu bad files", n_checked);
}

Test(config, all_errors_of_a_file_are_reported_in_order)
{
	size_t len;
	char *yaml = read_all(CONFIGS "/bad/multiple-errors.yaml", &len);
	struct cfg_diags d = {0};
	struct config *c = (struct config *)1;
	int rc = config_load_buf(yaml, len, "m.yaml", NULL, &c, &d);

	cr_assert_eq(rc, -EINVAL);
	cr_assert_null(c);
	cr_assert_eq(d.n_errors, 10, "%s", diags_text(&d));
	cr_assert_eq(d.n, 10);
	for (size_t i = 1; i < d.n; i++) {
		const struct cfg_diag *a = &d.items[i - 1], *b = &d.items[i];

		cr_assert(a->line < b->line || (a->line == b->line && a->column <= b->column),
			  "diag %zu out of order", i);
	}
	/* Per-key errors, cross-reference errors and post-merge errors all appear. */
	cr_assert_str_eq(d.items[0].path, "listeners[0].no_sni");
	cr_assert_str_eq(d.items[0].message, "unknown route \"nowhere\"");
	cr_assert_str_eq(d.items[3].message, "unknown key \"balanse\" (did you mean \"balance\"?)");
	cr_assert_eq(d.items[6].line, 14);
	cr_assert_str_eq(d.items[9].message, "missing required key \"name\"");
	free(yaml);
	cfg_diags_free(&d);
}

Test(config, syntax_error_has_libyaml_position)
{
	struct cfg_diags d = {0};

	load_str("listeners:\n  - name: tls\n    address: [1, 2\n", &d, -EINVAL);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.items[0].line, 4);
	cr_assert_eq(d.items[0].column, 1);
	cr_assert_str_eq(d.items[0].path, "");
	cr_assert(strstr(d.items[0].message, "YAML syntax"));
	cfg_diags_free(&d);
}

Test(config, diags_print_formats_warnings_and_whole_file_messages)
{
	struct cfg_diag items[] = {
		{.file = "a.yaml", .line = 3, .column = 7, .path = "routes[0]", .message = "m1"},
		{.file = "a.yaml",
		 .line = 4,
		 .column = 1,
		 .path = "x",
		 .message = "m2",
		 .is_warning = true},
		{.file = "a.yaml", .path = "", .message = "m3"},
	};
	struct cfg_diags d = {.items = items, .n = 3, .n_errors = 2};
	char *t = diags_text(&d);

	cr_assert_str_eq(t, "a.yaml:3:7: routes[0]: m1\n"
			    "a.yaml:4:1: x: warning: m2\n"
			    "a.yaml: m3\n");
	free(t);
}

Test(config, null_diags_and_null_frees_are_fine)
{
	const char *yaml = "listeners: [{name: a, address: \"1.2.3.4:5\"}]\n";
	struct config *c = NULL;

	cr_assert_eq(config_load_buf(yaml, strlen(yaml), NULL, NULL, &c, NULL), 0);
	config_free(c);
	cr_assert_eq(config_load_buf("routes: 1\n", 10, "x", NULL, &c, NULL), -EINVAL);
	cr_assert_null(c);
	config_free(NULL);
	cfg_diags_free(NULL);
}

Test(config, max_pending_hellos_is_read)
{
	struct cfg_diags d = {0};
	struct config *c = load_str("listeners:\n  - name: tls\n    address: \"0.0.0.0:443\"\n"
				    "    max_pending_hellos: 77\n",
				    &d, 0);

	cr_assert_eq(c->listeners[0].max_pending_hellos, 77);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config, max_pending_hellos_is_at_least_one)
{
	struct cfg_diags d = {0};
	char *text;

	load_str("listeners:\n  - name: tls\n    address: \"0.0.0.0:443\"\n"
		 "    max_pending_hellos: 0\n",
		 &d, -EINVAL);
	text = diags_text(&d);
	cr_assert(strstr(text, "listeners[0].max_pending_hellos: expected integer 1..2147483647"),
		  "%s", text);
	free(text);
	cfg_diags_free(&d);
}

Test(config, empty_input_is_an_empty_model)
{
	struct cfg_diags d = {0};
	struct config *c = load_str("", &d, 0);

	cr_assert_eq(c->n_listeners + c->n_routes, 0);
	cr_assert_eq(d.n_errors, 0);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config, alias_expansion_is_bounded)
{
	/* 8 levels of 8 aliases would be 8^6 routes: the node budget stops it early. */
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	struct cfg_diags d = {0};
	struct config *c = NULL;

	fprintf(f, "x0: &a0 {name: r, sni: [a.b], backends: [{address: \"1.1.1.1:1\"}]}\n");
	fprintf(f, "routes: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n");
	for (int i = 2; i < 8; i++)
		fprintf(f, "x%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i,
			i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	fprintf(f, "listeners: [{name: t, address: \"1.2.3.4:5\"}]\nroutes2: *a7\n");
	fclose(f);
	cr_assert_eq(config_load_buf(yaml, len, "bomb.yaml", NULL, &c, &d), -EINVAL);
	cr_assert_null(c);
	cr_assert_leq(d.n, CFG_DIAGS_MAX);
	free(yaml);
	cfg_diags_free(&d);
}

Test(config, bad_agent_label_is_rejected)
{
	const char *const labels[] = {"istio"};
	struct cfg_options o = {.labels = labels, .n_labels = 1};
	struct cfg_diags d = {0};
	struct config *c = NULL;

	cr_assert_eq(config_load_buf("", 0, "x", &o, &c, &d), -EINVAL);
	cr_assert_null(c);
	cr_assert_eq(d.n_errors, 1);
	cfg_diags_free(&d);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static void remove_dir(const char *dir)
{
	char **names;
	size_t n = list_yaml(dir, &names);
	char path[512];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
		free(names[i]);
	}
	free(names);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	unlink(path);
	rmdir(dir);
}

Test(config, directory_files_are_merged_in_sorted_order)
{
	char dir[] = "/tmp/sg-cfg-XXXXXX";
	struct cfg_diags d = {0};
	struct config *c = NULL;
	int rc;

	cr_assert_not_null(mkdtemp(dir));
	write_file(dir, "20-routes.yaml",
		   "routes:\n  - name: r\n    listeners: [tls]\n    sni: [a.example.com]\n"
		   "    backends: [{address: \"10.0.0.1:443\"}]\n");
	write_file(dir, "10-listeners.yaml",
		   "listeners:\n  - name: tls\n    address: \"0.0.0.0:443\"\n    no_sni: r\n");
	write_file(dir, ".hidden.yaml", "this: is not read\n");
	write_file(dir, "notes.txt", "not yaml: [\n");
	rc = config_load_path(dir, NULL, &c, &d);
	cr_assert_eq(rc, 0, "%s", diags_text(&d));
	cr_assert_eq(c->n_files, 2);
	cr_assert(strstr(c->files[0], "10-listeners.yaml"));
	cr_assert(strstr(c->files[1], "20-routes.yaml"));
	cr_assert_eq(c->listeners[0].no_sni.route, 0);
	cr_assert_eq(c->routes[0].n_listeners, 1);
	cr_assert_eq(c->routes[0].src.file, c->files[1]);
	config_free(c);
	cfg_diags_free(&d);

	/* An error in the second file names that file and rejects both. */
	write_file(dir, "20-routes.yaml",
		   "routes:\n  - name: r\n    listeners: [tsl]\n"
		   "    backends: [{address: \"10.0.0.1:443\"}]\n");
	rc = config_load_path(dir, NULL, &c, &d);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_null(c);
	cr_assert_eq(d.n_errors, 1);
	cr_assert(strstr(d.items[0].file, "20-routes.yaml"));
	cr_assert_str_eq(d.items[0].message, "unknown listener \"tsl\" (did you mean \"tls\"?)");
	cfg_diags_free(&d);
	remove_dir(dir);
}

Test(config, load_paths_merges_several_files)
{
	const char *paths[] = {CONFIGS "/good/native-minimal.yaml",
			       CONFIGS "/good/istio-scenario.yaml"};
	struct cfg_diags d = {0};
	struct config *c = NULL;

	/* Both bind 0.0.0.0:443 and route sample.aliyun.com: merging must notice,
	 * at the second file. */
	cr_assert_eq(config_load_paths(paths, 2, NULL, &c, &d), -EINVAL);
	cr_assert_null(c);
	cr_assert_eq(d.n_errors, 2, "%s", diags_text(&d));
	cr_assert(strstr(d.items[0].file, "istio-scenario.yaml"));
	cr_assert_eq(d.items[0].file_index, 1);
	cr_assert(strstr(d.items[0].message, "overlaps listener \"tls\""));
	cr_assert(strstr(d.items[1].message, "is already routed by route \"sample\""));
	cfg_diags_free(&d);
}

Test(config, missing_file_is_reported_with_errno)
{
	struct cfg_diags d = {0};
	struct config *c = NULL;

	cr_assert_eq(config_load_path("/nonexistent/sockgate.yaml", NULL, &c, &d), -ENOENT);
	cr_assert_null(c);
	cr_assert_eq(d.n, 1);
	cr_assert_str_eq(d.items[0].file, "/nonexistent/sockgate.yaml");
	cr_assert_eq(d.items[0].line, 0);
	cfg_diags_free(&d);
}

Test(config, durations_parse)
{
	uint64_t ms;

	cr_assert_eq(cfg_parse_duration_ms("250ms", &ms), 0);
	cr_assert_eq(ms, 250);
	cr_assert_eq(cfg_parse_duration_ms("10s", &ms), 0);
	cr_assert_eq(ms, 10000);
	cr_assert_eq(cfg_parse_duration_ms("1m30s", &ms), 0);
	cr_assert_eq(ms, 90000);
	cr_assert_eq(cfg_parse_duration_ms("1.5s", &ms), 0);
	cr_assert_eq(ms, 1500);
	cr_assert_eq(cfg_parse_duration_ms("2h", &ms), 0);
	cr_assert_eq(ms, 7200000);
	cr_assert_eq(cfg_parse_duration_ms("10", &ms), -EINVAL);
	cr_assert_eq(cfg_parse_duration_ms("s", &ms), -EINVAL);
	cr_assert_eq(cfg_parse_duration_ms("1d", &ms), -EINVAL);
	cr_assert_eq(cfg_parse_duration_ms("", &ms), -EINVAL);
	cr_assert_eq(cfg_parse_duration_ms("99999999999999999999h", &ms), -ERANGE);
}

Test(config, sizes_parse)
{
	uint64_t n;

	cr_assert_eq(cfg_parse_size("4194304", &n), 0);
	cr_assert_eq(n, 4194304);
	cr_assert_eq(cfg_parse_size("512K", &n), 0);
	cr_assert_eq(n, 512 * 1024);
	cr_assert_eq(cfg_parse_size("4M", &n), 0);
	cr_assert_eq(n, 4 << 20);
	cr_assert_eq(cfg_parse_size("1G", &n), 0);
	cr_assert_eq(n, 1 << 30);
	cr_assert_eq(cfg_parse_size("", &n), -EINVAL);
	cr_assert_eq(cfg_parse_size("K", &n), -EINVAL);
	cr_assert_eq(cfg_parse_size("-1", &n), -EINVAL);
	cr_assert_eq(cfg_parse_size("4MB", &n), -EINVAL);
	cr_assert_eq(cfg_parse_size("4k", &n), -EINVAL);
	cr_assert_eq(cfg_parse_size("17179869184G", &n), -ERANGE);
	cr_assert_eq(cfg_parse_size("999999999999999999999", &n), -ERANGE);
}

Test(config, host_port_parse)
{
	struct cfg_hostport hp;

	cr_assert_eq(cfg_parse_hostport("[2001:db8::1]:443", &hp), CFG_ADDR_OK);
	cr_assert(hp.is_ip);
	cr_assert_str_eq(hp.host, "2001:db8::1");
	cr_assert_eq(cfg_parse_hostport("Backend.Example.:8443", &hp), CFG_ADDR_OK);
	cr_assert_not(hp.is_ip);
	cr_assert_str_eq(hp.host, "backend.example");
	cr_assert_eq(hp.port, 8443);
	cr_assert_eq(cfg_parse_hostport("2001:db8::1", &hp), CFG_ADDR_V6_BRACKETS);
	cr_assert_eq(cfg_parse_hostport("1.2.3.4:65536", &hp), CFG_ADDR_BAD_PORT);
	cr_assert_eq(cfg_parse_hostport("1.2.3:1", &hp), CFG_ADDR_BAD_IP);
}

Test(config, cidrs_parse)
{
	struct cfg_cidr n;

	cr_assert_eq(cfg_parse_cidr("10.0.0.0/8", &n), 0);
	cr_assert_eq(n.family, AF_INET);
	cr_assert_eq(n.prefix_len, 8);
	cr_assert_eq(n.addr[0], 10);
	cr_assert_eq(cfg_parse_cidr("2001:db8::/32", &n), 0);
	cr_assert_eq(n.prefix_len, 32);
	cr_assert_eq(cfg_parse_cidr("192.0.2.1", &n), 0);
	cr_assert_eq(n.prefix_len, 32);
	cr_assert_eq(cfg_parse_cidr("10.0.0.1/8", &n), -EINVAL, "host bits set");
	cr_assert_eq(cfg_parse_cidr("10.0.0.0/33", &n), -EINVAL);
}

Test(config, suggestions_pick_the_nearest_key)
{
	struct cfg_suggest s;

	cfg_suggest_init(&s, "weigth");
	cfg_suggest_add(&s, "address");
	cfg_suggest_add(&s, "weight");
	cr_assert_str_eq(cfg_suggest_best(&s), "weight");
	cfg_suggest_init(&s, "colour");
	cfg_suggest_add(&s, "address");
	cfg_suggest_add(&s, "weight");
	cr_assert_null(cfg_suggest_best(&s));
}

Test(config, resolve_fills_localhost_endpoints)
{
	struct cfg_diags d = {0};
	struct config *c = load_str("listeners: [{name: l, address: \"[::1]:1\"}]\n"
				    "routes:\n  - name: r\n    sni: [a.b]\n"
				    "    backends: [{address: \"localhost:443\"}, "
				    "{address: \"127.0.0.2:80\"}]\n",
				    &d, 0);
	const struct cfg_backend *b = &c->routes[0].backends[0];

	cr_assert_eq(b->n_endpoints, 1);
	cr_assert_not(b->endpoints[0].is_resolved);
	cr_assert_eq(config_resolve(c, &d), 0);
	cr_assert_eq(d.n, 0, "%s", diags_text(&d));
	cr_assert_geq(b->n_endpoints, 1);
	for (size_t i = 0; i < b->n_endpoints; i++) {
		const struct cfg_endpoint *e = &b->endpoints[i];
		char buf[64];

		cr_assert(e->is_resolved);
		cr_assert_str_eq(e->host, "localhost", "kept for re-resolution");
		cr_assert_eq(e->port, 443);
		addr_format(&e->addr, buf, sizeof(buf));
		cr_assert(!strcmp(buf, "127.0.0.1:443") || !strcmp(buf, "[::1]:443"), "%s", buf);
	}
	cr_assert_eq(c->routes[0].backends[1].n_endpoints, 1, "literals stay as they are");
	config_free(c);
	cfg_diags_free(&d);
}

Test(config, resolve_failure_is_a_warning_and_keeps_the_endpoint)
{
	struct cfg_diags d = {0};
	struct config *c = load_str("listeners: [{name: l, address: \"[::1]:1\"}]\n"
				    "routes:\n  - name: r\n    sni: [a.b]\n"
				    "    backends: [{address: \"nowhere.invalid:8443\"}]\n",
				    &d, 0);
	const struct cfg_backend *b = &c->routes[0].backends[0];
	char *t;

	cr_assert_eq(config_resolve(c, &d), 0);
	cr_assert_eq(d.n_errors, 0);
	t = diags_text(&d);
	cr_assert_str_eq(t, "t.yaml:5:26: routes[0].backends[0].address: warning: cannot resolve "
			    "\"nowhere.invalid\": reserved name (RFC 6761); endpoint left "
			    "unresolved, retried later\n");
	cr_assert_eq(b->n_endpoints, 1);
	cr_assert_not(b->endpoints[0].is_resolved);
	cr_assert_str_eq(b->endpoints[0].host, "nowhere.invalid");
	cr_assert_eq(b->endpoints[0].port, 8443);
	free(t);
	config_free(c);
	cfg_diags_free(&d);
}

Test(config, health_checks_outlier_detection_and_limits)
{
	struct cfg_diags d = {0};
	struct config *c = load_good("native-health.yaml", &d);
	const struct cfg_route *web = &c->routes[0], *api = &c->routes[1], *plain = &c->routes[2];

	cr_assert_eq(d.n, 0);
	cr_assert_eq(web->health_check.type, CFG_CHECK_TLS);
	cr_assert_eq(web->health_check.interval_ms, 2000);
	cr_assert_eq(web->health_check.timeout_ms, 500);
	cr_assert_eq(web->health_check.jitter_ms, 200, "a tenth of the interval by default");
	cr_assert_eq(web->health_check.rise, 3);
	cr_assert_eq(web->health_check.fall, 2);
	cr_assert_str_eq(web->health_check.sni, "www.example.com", "the first exact SNI");
	cr_assert_eq(web->outlier.consecutive_errors, 3);
	cr_assert_eq(web->outlier.base_ejection_ms, 10000);
	cr_assert_eq(web->outlier.interval_ms, 10000, "Istio's default");
	cr_assert_eq(web->outlier.max_ejection_percent, 10, "Istio's default");
	cr_assert_eq(web->max_connections, 1000);
	cr_assert_eq(web->min_health_percent, 50);
	cr_assert_eq(api->min_health_percent, 0, "no panic unless configured");
	cr_assert_eq(web->backends[0].max_connections, 100);
	cr_assert_eq(web->backends[1].max_connections, 0, "unlimited");
	cr_assert_str_eq(api->health_check.sni, "health.api.example.com");
	cr_assert_eq(api->health_check.jitter_ms, 0);
	cr_assert_eq(api->outlier.consecutive_errors, 0, "off unless configured");
	cr_assert_eq(plain->health_check.type, CFG_CHECK_TCP);
	cr_assert_null(plain->health_check.sni);
	cr_assert_eq(plain->health_check.interval_ms, 5000);
	cr_assert_eq(plain->health_check.timeout_ms, 2000);
	cr_assert_eq(plain->health_check.rise, 2);
	cr_assert_eq(plain->health_check.fall, 3);
	config_free(c);
	cfg_diags_free(&d);
}
