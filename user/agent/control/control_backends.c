// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* control_backends.c: see control_backends.h. Drains are kept by name in
 * backend_health, so they outlast reloads until undrained. */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "agent_state.h"
#include "backend_health.h"
#include "control_backends.h"
#include "control_exit.h"
#include "endpoint_load.h"
#include "json.h"
#include "table.h"

const char *control_endpoint_state(const struct agent *ag, const struct cfg_route *r,
				   const struct cfg_backend *b, const char *addr)
{
	const struct endpoint_health *h = backend_health_find(ag->backend_health, r->name, addr);

	if (backend_health_is_drained(ag->backend_health, b, addr))
		return "drained";
	if (h && r->health_check.type != CFG_CHECK_NONE && h->is_down)
		return "down";
	if (h && eh_is_ejected(h, loop_now_ms()))
		return "ejected";
	if (b->max_connections && endpoint_load_get(ag->endpoint_load, addr) >= b->max_connections)
		return "full";
	return "up";
}

/* "ok", the last failure, or "-" without checks. */
static const char *check_text(const struct cfg_route *r, const struct endpoint_health *h)
{
	if (r->health_check.type == CFG_CHECK_NONE || !h ||
	    h->checks_passed + h->checks_failed == 0)
		return "-";
	return h->check_fail_run ? h->last_failure : "ok";
}

struct row {
	const struct cfg_route *r;
	const struct cfg_backend *b;
	const char *backend, *addr, *state;
	const char *host; /* the name the endpoint was resolved from; NULL: a literal */
	const struct endpoint_health *h;
	uint64_t active;
};

static void json_row(FILE *out, const struct row *w, bool is_first)
{
	int first = 1;

	fputs(is_first ? "{" : ",{", out);
	json_key(out, "route", &first);
	json_str(out, w->r->name);
	json_key(out, "backend", &first);
	json_str(out, w->backend);
	json_key(out, "endpoint", &first);
	json_str(out, w->addr);
	json_key(out, "host", &first);
	json_str(out, w->host);
	fprintf(out, ",\"weight\":%u,\"active\":%llu,\"max_connections\":%u", w->b->weight,
		(unsigned long long)w->active, w->b->max_connections);
	json_key(out, "state", &first);
	json_str(out, w->state);
	json_key(out, "check", &first);
	if (w->r->health_check.type == CFG_CHECK_NONE) {
		fputs("null", out);
	} else {
		fputs("{\"type\":", out);
		json_str(out, cfg_check_type_str(w->r->health_check.type));
		fprintf(out, ",\"passed\":%llu,\"failed\":%llu,\"last_failure\":",
			(unsigned long long)(w->h ? w->h->checks_passed : 0),
			(unsigned long long)(w->h ? w->h->checks_failed : 0));
		json_str(out, w->h ? w->h->last_failure : NULL);
		fputc('}', out);
	}
	fprintf(out, ",\"ejections\":%llu}", (unsigned long long)(w->h ? w->h->ejections : 0));
}

int control_backends(struct agent *ag, size_t argc, char **argv, FILE *out)
{
	static const char *const cols[] = {"ROUTE",  "BACKEND", "ENDPOINT", "HOST",
					   "WEIGHT", "ACTIVE",	"STATE",    "CHECK"};
	const struct config *c = ag->rt->cfg;
	bool json = argc == 2 && !strcmp(argv[1], "--json"), is_first = true;
	struct table t;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(out, "usage: %s [--json]\n", argv[0]);
		return CONTROL_EXIT_USAGE;
	}
	table_init(&t, cols, sizeof(cols) / sizeof(cols[0]));
	if (json)
		fputc('[', out);
	for (size_t i = 0; i < c->n_routes; i++) {
		const struct cfg_route *r = &c->routes[i];

		for (size_t b = 0; b < r->n_backends; b++) {
			const struct cfg_backend *be = &r->backends[b];
			char name[BACKEND_NAME_MAX];

			backend_name(be, name, sizeof(name));
			for (size_t e = 0; e < be->n_endpoints || (e == 0 && !be->n_endpoints);
			     e++) {
				const struct cfg_endpoint *ep =
					be->n_endpoints ? &be->endpoints[e] : NULL;
				char addr[ADDR_STR_MAX] = "unresolved";
				struct row w = {.r = r,
						.b = be,
						.backend = name,
						.addr = addr,
						.host = ep ? ep->host : NULL};

				if (ep && ep->is_resolved) {
					addr_format(&ep->addr, addr, sizeof(addr));
					w.active = endpoint_load_get(ag->endpoint_load, addr);
					w.h = backend_health_find(ag->backend_health, r->name,
								  addr);
					w.state = control_endpoint_state(ag, r, be, addr);
				} else {
					w.addr = NULL;
					w.state = "unresolved";
				}
				if (json) {
					json_row(out, &w, is_first);
					is_first = false;
					continue;
				}
				table_cell(&t, "%s", r->name);
				table_cell(&t, "%s", name);
				table_cell(&t, "%s", addr);
				table_cell(&t, "%s", w.host ? w.host : "-");
				table_cell(&t, "%u", be->weight);
				table_cell(&t, "%llu", (unsigned long long)w.active);
				table_cell(&t, "%s", w.state);
				table_cell(&t, "%s", check_text(r, w.h));
			}
		}
	}
	if (json)
		fputs("]\n", out);
	else
		table_print(&t, out);
	table_free(&t);
	return CONTROL_EXIT_OK;
}

int control_drain(struct agent *ag, size_t argc, char **argv, FILE *out)
{
	bool on = !strcmp(argv[0], "drain");
	int code = CONTROL_EXIT_OK;

	if (argc < 2) {
		fprintf(out,
			"usage: %s BACKEND...  (an endpoint address or a backend as "
			"`sockgate backends` shows it)\n",
			argv[0]);
		return CONTROL_EXIT_USAGE;
	}
	for (size_t i = 1; i < argc; i++) {
		int err;

		if (on && !backend_health_names_backend(ag->rt->cfg, argv[i])) {
			fprintf(out, "%s: no such backend or endpoint\n", argv[i]);
			code = CONTROL_EXIT_FAILED;
			continue;
		}
		err = backend_health_drain(ag->backend_health, argv[i], on);
		if (err == -ENOENT) {
			fprintf(out, "%s: not drained\n", argv[i]);
			code = CONTROL_EXIT_FAILED;
		} else if (err) {
			fprintf(out, "%s: %s\n", argv[i], strerror(-err));
			code = CONTROL_EXIT_FAILED;
		} else {
			fprintf(out, "%s %s\n", argv[i],
				on ? "drained: no new connections, open ones finish"
				   : "undrained: takes new connections");
		}
	}
	return code;
}
