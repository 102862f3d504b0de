// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics_health.c: see metrics_health.h. */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "agent_state.h"
#include "backend_health.h"
#include "control_backends.h"
#include "metrics_health.h"
#include "prom.h"

static const char *const states[] = {"up", "down", "ejected", "full", "drained"};

static void write_states(const struct agent *ag, FILE *f)
{
	static const char *const names[] = {"route", "backend", "endpoint", "state"};
	const struct config *c = ag->rt->cfg;

	fprintf(f, "# HELP sockgate_endpoint_state Whether an endpoint takes new connections (up) "
		   "or why not; one series per state, 1 for the current one.\n"
		   "# TYPE sockgate_endpoint_state gauge\n");
	for (size_t r = 0; r < c->n_routes; r++) {
		const struct cfg_route *rt = &c->routes[r];

		for (size_t b = 0; b < rt->n_backends; b++) {
			const struct cfg_backend *be = &rt->backends[b];
			char backend[BACKEND_NAME_MAX];

			backend_name(be, backend, sizeof(backend));
			for (size_t e = 0; e < be->n_endpoints; e++) {
				char addr[ADDR_STR_MAX];
				const char *now;

				if (!be->endpoints[e].is_resolved)
					continue;
				addr_format(&be->endpoints[e].addr, addr, sizeof(addr));
				now = control_endpoint_state(ag, rt, be, addr);
				for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
					const char *values[] = {rt->name, backend, addr, states[s]};

					fputs("sockgate_endpoint_state{", f);
					prom_write_labels(f, names, values, 4);
					fprintf(f, "} %d\n", !strcmp(now, states[s]));
				}
			}
		}
	}
}

/* Totals of every (route, endpoint) ever checked or ejected: counters stay
 * monotonic across reloads, so they come from backend_health, not the config. */
static void write_totals(const struct agent *ag, FILE *f)
{
	static const char *const names[] = {"route", "endpoint", "result"};
	size_t n = backend_health_count(ag->backend_health);

	fprintf(f, "# HELP sockgate_endpoint_checks_total Active health checks by result.\n"
		   "# TYPE sockgate_endpoint_checks_total counter\n");
	for (size_t i = 0; i < n; i++) {
		const char *route, *addr;
		const struct endpoint_health *h =
			backend_health_at(ag->backend_health, i, &route, &addr);
		const char *passed[] = {route, addr, "passed"}, *failed[] = {route, addr, "failed"};

		if (h->checks_passed + h->checks_failed == 0)
			continue;
		fputs("sockgate_endpoint_checks_total{", f);
		prom_write_labels(f, names, passed, 3);
		fprintf(f, "} %llu\nsockgate_endpoint_checks_total{",
			(unsigned long long)h->checks_passed);
		prom_write_labels(f, names, failed, 3);
		fprintf(f, "} %llu\n", (unsigned long long)h->checks_failed);
	}
	fprintf(f, "# HELP sockgate_endpoint_ejections_total Outlier-detection ejections.\n"
		   "# TYPE sockgate_endpoint_ejections_total counter\n");
	for (size_t i = 0; i < n; i++) {
		const char *route, *addr;
		const struct endpoint_health *h =
			backend_health_at(ag->backend_health, i, &route, &addr);
		const char *values[] = {route, addr};

		fputs("sockgate_endpoint_ejections_total{", f);
		prom_write_labels(f, names, values, 2);
		fprintf(f, "} %llu\n", (unsigned long long)h->ejections);
	}
}

void metrics_write_health(const struct agent *ag, FILE *f)
{
	write_states(ag, f);
	write_totals(ag, f);
}
