// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_stats.c: see conn_stats.h. Only counters that moved are written, so a
 * (listener, route) pair costs one line per outcome it has seen. */
#include <stdlib.h>

#include "agent_state.h"
#include "conn_stats.h"
#include "prom.h"
#include "series.h"

/* Whole hellos: one record is at most 16 KiB, the parser accepts 64 KiB. */
static const double hello_bounds[] = {256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};

/* A connect within the same host takes tens of microseconds, a distant one
 * tens of milliseconds; the default connect timeout is seconds. */
static const double connect_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					0.1,	0.25,  0.5,    1,     2.5,  5};

static const char *const result_names[AGENT_CNT_MAX] = {
#define NAME(name, str) [AGENT_CNT_##name] = str,
	AGENT_COUNTER_LIST(NAME)
#undef NAME
};

struct conn_stats *conn_stats_new(void)
{
	struct conn_stats *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->conns = series_table_new(2, AGENT_CNT_MAX * sizeof(uint64_t), CONN_STATS_MAX_SERIES);
	s->connect = series_table_new(1, sizeof(struct histogram), CONN_STATS_MAX_SERIES);
	s->failures = series_table_new(2, sizeof(uint64_t), CONN_STATS_MAX_SERIES);
	if (!s->conns || !s->connect || !s->failures ||
	    histogram_init(&s->hello_bytes, hello_bounds,
			   sizeof(hello_bounds) / sizeof(hello_bounds[0]))) {
		conn_stats_free(s);
		return NULL;
	}
	return s;
}

void conn_stats_free(struct conn_stats *s)
{
	if (!s)
		return;
	series_table_free(s->conns);
	series_table_free(s->connect);
	series_table_free(s->failures);
	free(s);
}

uint64_t *conn_stats_counters(struct conn_stats *s, const char *listener, const char *route)
{
	const char *values[] = {listener, route};

	return series_table_get(s->conns, values);
}

void conn_stats_hello(struct conn_stats *s, size_t hello_bytes)
{
	histogram_observe(&s->hello_bytes, (double)hello_bytes);
}

void conn_stats_connected(struct conn_stats *s, const char *route, uint64_t elapsed_ns)
{
	struct histogram *h = series_table_get(s->connect, &route);

	if (!h)
		return;
	if (!h->bounds) /* a new series: the table hands it out zeroed */
		histogram_init(h, connect_bounds,
			       sizeof(connect_bounds) / sizeof(connect_bounds[0]));
	histogram_observe(h, (double)elapsed_ns / 1e9);
}

void conn_stats_connect_failed(struct conn_stats *s, const char *route, const char *backend)
{
	const char *values[] = {route, backend};
	uint64_t *n = series_table_get(s->failures, values);

	if (n)
		(*n)++;
}

static void write_conns(const struct conn_stats *s, FILE *f)
{
	static const char *const names[] = {"listener", "route", "result"};

	fprintf(f, "# HELP sockgate_route_connections_total Client connections by listener, "
		   "route (empty before or without one) and outcome.\n"
		   "# TYPE sockgate_route_connections_total counter\n");
	for (size_t i = 0; i < series_table_count(s->conns); i++) {
		const char *const *key;
		const uint64_t *counts = series_table_at(s->conns, i, &key);

		for (int r = 0; r < AGENT_CNT_MAX; r++) {
			const char *values[] = {key[0], key[1], result_names[r]};
			/* Workers add to these atomically (conn_count()). */
			uint64_t n = __atomic_load_n(&counts[r], __ATOMIC_RELAXED);

			if (!n)
				continue;
			fputs("sockgate_route_connections_total{", f);
			prom_write_labels(f, names, values, 3);
			fprintf(f, "} %llu\n", (unsigned long long)n);
		}
	}
}

static void write_connect(const struct conn_stats *s, FILE *f)
{
	static const char *const route_label[] = {"route"};
	static const char *const failure_labels[] = {"route", "backend"};

	fprintf(f, "# HELP sockgate_backend_connect_seconds Time from connect() to an "
		   "established backend connection, by route.\n"
		   "# TYPE sockgate_backend_connect_seconds histogram\n");
	for (size_t i = 0; i < series_table_count(s->connect); i++) {
		const char *const *key;
		const struct histogram *h = series_table_at(s->connect, i, &key);

		histogram_write(h, f, "sockgate_backend_connect_seconds", route_label, key, 1);
	}
	fprintf(f, "# HELP sockgate_backend_connect_failures_total Failed backend connect "
		   "attempts (refused, reset, unreachable, timed out) by route and backend.\n"
		   "# TYPE sockgate_backend_connect_failures_total counter\n");
	for (size_t i = 0; i < series_table_count(s->failures); i++) {
		const char *const *key;
		const uint64_t *n = series_table_at(s->failures, i, &key);

		fputs("sockgate_backend_connect_failures_total{", f);
		prom_write_labels(f, failure_labels, key, 2);
		fprintf(f, "} %llu\n", (unsigned long long)*n);
	}
}

void conn_stats_write(const struct conn_stats *s, FILE *f)
{
	write_conns(s, f);
	fprintf(f, "# HELP sockgate_hello_size_bytes Size of complete ClientHellos, all "
		   "their TLS records.\n"
		   "# TYPE sockgate_hello_size_bytes histogram\n");
	histogram_write(&s->hello_bytes, f, "sockgate_hello_size_bytes", NULL, NULL, 0);
	write_connect(s, f);
}
