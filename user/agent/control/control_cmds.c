// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* control_cmds.c: see control_cmds.h. Changes go through the agent's rebuild, so
 * a load or unload is exactly a reload with one more live change: the same
 * validation, the same atomic swap, and connections in flight keep the
 * configuration they were accepted under. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "agent_state.h"
#include "conn_internal.h"
#include "control_backends.h"
#include "control_cmds.h"
#include "guard_cmds.h"
#include "control_top.h"
#include "endpoint_load.h"
#include "json.h"
#include "log.h"
#include "sg_defaults.h"
#include "table.h"
#include "upgrade.h"

static bool has_route(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_routes; i++) {
		if (!strcmp(c->routes[i].name, name))
			return true;
	}
	return false;
}

static bool want_json(size_t argc, char **argv, FILE *out, int *code)
{
	if (argc == 1)
		return false;
	if (argc == 2 && !strcmp(argv[1], "--json"))
		return true;
	fprintf(out, "usage: %s [--json]\n", argv[0]);
	*code = CONTROL_EXIT_USAGE;
	return false;
}

static int cmd_load(const struct control_agent *ca, size_t argc, char **argv, const char *payload,
		    size_t len, FILE *out)
{
	struct agent *ag = ca->ag;
	struct runtime *old;
	size_t added = 0, replaced = 0;
	int err;

	if (argc != 2 || !argv[1][0]) {
		fprintf(out, "usage: load FILE\n");
		return CONTROL_EXIT_USAGE;
	}
	err = live_changes_push_load(&ag->changes, argv[1], payload, len);
	if (err) {
		fprintf(out, "%s: cannot keep another change: %s\n", argv[1], strerror(-err));
		return CONTROL_EXIT_FAILED;
	}
	old = runtime_get(ag->rt); /* for the summary below */
	if (ca->rebuild(ca->rebuild_ctx, out)) {
		live_changes_pop(&ag->changes);
		runtime_put(old);
		fprintf(out, "%s rejected: nothing changed\n", argv[1]);
		log_warn("control: load %s rejected", argv[1]);
		return CONTROL_EXIT_FAILED;
	}
	live_changes_commit(&ag->changes);
	for (size_t i = 0; i < ag->rt->cfg->n_routes; i++) {
		const struct cfg_route *r = &ag->rt->cfg->routes[i];

		if (strcmp(r->src.file, argv[1]))
			continue;
		if (has_route(old->cfg, r->name))
			replaced++;
		else
			added++;
	}
	runtime_put(old);
	fprintf(out, "loaded %s: %zu route%s added, %zu replaced\n", argv[1], added,
		added == 1 ? "" : "s", replaced);
	log_info("control: loaded %s: %zu added, %zu replaced", argv[1], added, replaced);
	return CONTROL_EXIT_OK;
}

static int cmd_unload(const struct control_agent *ca, size_t argc, char **argv, FILE *out)
{
	struct agent *ag = ca->ag;
	int code = CONTROL_EXIT_OK, err;

	if (argc < 2) {
		fprintf(out, "usage: unload ROUTE...\n");
		return CONTROL_EXIT_USAGE;
	}
	for (size_t i = 1; i < argc; i++) {
		if (!has_route(ag->rt->cfg, argv[i])) {
			fprintf(out, "unknown route %s (see: sockgate routes)\n", argv[i]);
			code = CONTROL_EXIT_FAILED;
		}
	}
	if (code) {
		fprintf(out, "nothing changed\n");
		return code;
	}
	err = live_changes_push_unload(&ag->changes, (const char *const *)argv + 1, argc - 1);
	if (err) {
		fprintf(out, "cannot keep another change: %s\n", strerror(-err));
		return CONTROL_EXIT_FAILED;
	}
	if (ca->rebuild(ca->rebuild_ctx, out)) {
		live_changes_pop(&ag->changes);
		fprintf(out, "unload rejected: nothing changed\n");
		return CONTROL_EXIT_FAILED;
	}
	fprintf(out, "unloaded %zu route%s\n", argc - 1, argc == 2 ? "" : "s");
	for (size_t i = 1; i < argc; i++)
		log_info("control: unloaded route %s", argv[i]);
	return CONTROL_EXIT_OK;
}

static int cmd_reload(const struct control_agent *ca, size_t argc, FILE *out)
{
	struct agent *ag = ca->ag;
	if (argc != 1) {
		fprintf(out, "usage: reload\n");
		return CONTROL_EXIT_USAGE;
	}
	if (ca->rebuild(ca->rebuild_ctx, out)) {
		fprintf(out, "reload rejected: nothing changed\n");
		return CONTROL_EXIT_FAILED;
	}
	fprintf(out, "reloaded: %zu listeners, %zu routes\n", ag->rt->cfg->n_listeners,
		ag->rt->cfg->n_routes);
	return CONTROL_EXIT_OK;
}

/* A cell written piecewise with fprintf(): cell_begin(), then cell_end(). */
struct cell {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *cell_begin(struct cell *c)
{
	c->buf = NULL;
	c->f = open_memstream(&c->buf, &c->len);
	return c->f ? c->f : stderr; /* stderr only keeps fprintf() safe; the cell is "?" */
}

static void cell_end(struct cell *c, struct table *t)
{
	if (c->f)
		fclose(c->f);
	table_cell(t, "%s", !c->f ? "?" : c->buf && c->buf[0] ? c->buf : "-");
	free(c->buf);
}

/* One row of `routes`: NAME LISTENERS SNI ALPN BALANCE BACKENDS FILE:LINE. */
static void route_row(const struct config *c, const struct cfg_route *r, struct table *t)
{
	struct cell cell;
	FILE *f;

	table_cell(t, "%s", r->name);
	f = cell_begin(&cell);
	for (size_t i = 0; i < r->n_listeners; i++)
		fprintf(f, "%s%s", i ? "," : "", c->listeners[r->listeners[i]].name);
	cell_end(&cell, t);
	f = cell_begin(&cell);
	for (size_t i = 0; i < r->n_snis; i++)
		fprintf(f, "%s%s", i ? "," : "", r->snis[i].pattern);
	cell_end(&cell, t);
	f = cell_begin(&cell);
	for (size_t i = 0; i < r->n_alpn; i++)
		fprintf(f, "%s%s", i ? "," : "", r->alpn[i]);
	cell_end(&cell, t);
	table_cell(t, "%s", cfg_balance_str(r->balance));
	f = cell_begin(&cell);
	for (size_t i = 0; i < r->n_backends; i++) {
		const struct cfg_backend *b = &r->backends[i];
		bool v6 = strchr(b->host, ':') != NULL;

		fprintf(f, "%s%s%s%s:%u*%u", i ? "," : "", v6 ? "[" : "", b->host, v6 ? "]" : "",
			b->port, b->weight);
	}
	cell_end(&cell, t);
	table_cell(t, "%s:%u", r->src.file, r->src.line);
}

static void str_array(FILE *out, char *const *v, size_t n)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		json_str(out, v[i]);
	}
	fputc(']', out);
}

static void route_json(const struct config *c, const struct cfg_route *r, FILE *out)
{
	int first = 1;

	fputc('{', out);
	json_key(out, "name", &first);
	json_str(out, r->name);
	json_key(out, "listeners", &first);
	fputc('[', out);
	for (size_t i = 0; i < r->n_listeners; i++) {
		fputs(i ? "," : "", out);
		json_str(out, c->listeners[r->listeners[i]].name);
	}
	fputc(']', out);
	json_key(out, "sni", &first);
	fputc('[', out);
	for (size_t i = 0; i < r->n_snis; i++) {
		fputs(i ? "," : "", out);
		json_str(out, r->snis[i].pattern);
	}
	fputc(']', out);
	json_key(out, "alpn", &first);
	str_array(out, r->alpn, r->n_alpn);
	json_key(out, "balance", &first);
	json_str(out, cfg_balance_str(r->balance));
	json_key(out, "backends", &first);
	fputc('[', out);
	for (size_t i = 0; i < r->n_backends; i++) {
		fprintf(out, "%s{\"host\":", i ? "," : "");
		json_str(out, r->backends[i].host);
		fprintf(out, ",\"port\":%u,\"weight\":%u", r->backends[i].port,
			r->backends[i].weight);
		/* Two destinations of one host differ only by it (an Istio canary). */
		if (r->backends[i].subset) {
			fputs(",\"subset\":", out);
			json_str(out, r->backends[i].subset);
		}
		fputc('}', out);
	}
	fputc(']', out);
	json_key(out, "file", &first);
	json_str(out, r->src.file);
	fprintf(out, ",\"line\":%u}", r->src.line);
}

static int cmd_routes(struct agent *ag, size_t argc, char **argv, FILE *out)
{
	const struct config *c = ag->rt->cfg;
	int code = CONTROL_EXIT_OK;
	bool json = want_json(argc, argv, out, &code);

	if (code)
		return code;
	if (!json) {
		static const char *const cols[] = {"NAME",    "LISTENERS", "SNI",      "ALPN",
						   "BALANCE", "BACKENDS",  "FILE:LINE"};
		struct table t;

		table_init(&t, cols, 7);
		for (size_t i = 0; i < c->n_routes; i++)
			route_row(c, &c->routes[i], &t);
		table_print(&t, out);
		table_free(&t);
		return CONTROL_EXIT_OK;
	}
	fputc('[', out);
	for (size_t i = 0; i < c->n_routes; i++) {
		fputs(i ? "," : "", out);
		route_json(c, &c->routes[i], out);
	}
	fputs("]\n", out);
	return CONTROL_EXIT_OK;
}

static int cmd_status(struct agent *ag, size_t argc, char **argv, FILE *out)
{
	const struct config *c = ag->rt->cfg;
	int code = CONTROL_EXIT_OK, first = 1;
	bool json = want_json(argc, argv, out, &code);
	unsigned long long uptime_s = (loop_now_ms() - ag->start_ms) / 1000;

	if (code)
		return code;
	if (!json) {
		fprintf(out,
			"sockgated %s pid %d up %llus\n%zu listeners, %zu routes, %zu "
			"connections, %zu live changes (sockgate load)\n",
			SG_VERSION, (int)getpid(), uptime_s, c->n_listeners, c->n_routes,
			(size_t)agent_conns(ag), live_changes_n_loads(&ag->changes));
		return CONTROL_EXIT_OK;
	}
	fputc('{', out);
	json_key(out, "version", &first);
	json_str(out, SG_VERSION);
	fprintf(out,
		",\"pid\":%d,\"uptime_s\":%llu,\"listeners\":%zu,\"routes\":%zu,"
		"\"connections\":%zu,\"loaded_files\":%zu,\"dataplane\":\"%s\"}\n",
		(int)getpid(), uptime_s, c->n_listeners, c->n_routes, (size_t)agent_conns(ag),
		live_changes_n_loads(&ag->changes), ag->use_sockmap ? "sockmap" : "splice");
	return CONTROL_EXIT_OK;
}

int control_dispatch(const struct control_agent *ca, size_t argc, char **argv, const char *payload,
		     size_t len, FILE *out)
{
	struct agent *ag = ca->ag;
	const char *cmd = argv[0];

	if (!strcmp(cmd, "load"))
		return cmd_load(ca, argc, argv, payload, len, out);
	if (!strcmp(cmd, "unload"))
		return cmd_unload(ca, argc, argv, out);
	if (!strcmp(cmd, "reload"))
		return cmd_reload(ca, argc, out);
	if (!strcmp(cmd, "routes"))
		return cmd_routes(ag, argc, argv, out);
	if (!strcmp(cmd, "backends"))
		return control_backends(ag, argc, argv, out);
	if (!strcmp(cmd, "upgrade"))
		return control_upgrade(ag, argc, argv, out);
	if (!strcmp(cmd, "drain") || !strcmp(cmd, "undrain"))
		return control_drain(ag, argc, argv, out);
	if (!strcmp(cmd, "status"))
		return cmd_status(ag, argc, argv, out);
	if (!strcmp(cmd, "top"))
		return control_top(ag, argc, out);
	if (!strcmp(cmd, "guard"))
		return guard_cmd(ag, argc, argv, out);
	fprintf(out, "unknown command %s\n", cmd);
	return CONTROL_EXIT_USAGE;
}
