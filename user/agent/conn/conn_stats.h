/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conn_stats.h: the agent's labelled connection metrics, keyed by listener,
 * route and backend NAMES in tables the agent owns, so a reload (which
 * rebuilds the configuration) neither resets nor drops a series: counters
 * stay monotonic and a removed route keeps what it counted. Each table holds
 * at most CONN_STATS_MAX_SERIES label sets; later ones are counted under
 * "__other__" (series.h), so configuration churn cannot grow memory. */
#ifndef SG_CONN_STATS_H
#define SG_CONN_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "histogram.h"

#define CONN_STATS_MAX_SERIES 4096

struct series_table;

struct conn_stats {
	struct series_table *conns;    /* (listener, route): uint64_t[AGENT_CNT_MAX] */
	struct series_table *connect;  /* (route): struct histogram of connect seconds */
	struct series_table *failures; /* (route, backend address): uint64_t */
	struct histogram hello_bytes;  /* every complete ClientHello, all listeners */
};

/* NULL on ENOMEM. */
struct conn_stats *conn_stats_new(void);

/* NULL-tolerant; every pointer handed out by conn_stats_counters() dies. */
void conn_stats_free(struct conn_stats *s);

/* The outcome counters (indexed by enum agent_counter) of connections on
 * listener routed to route ("" before or without a route). The pointer stays
 * valid until conn_stats_free(), so a connection may keep it. NULL on ENOMEM. */
uint64_t *conn_stats_counters(struct conn_stats *s, const char *listener, const char *route);

/* Counts a complete ClientHello of hello_bytes (as peeked, all its records). */
void conn_stats_hello(struct conn_stats *s, size_t hello_bytes);

/* Counts a backend connect of route that succeeded after elapsed_ns. */
void conn_stats_connected(struct conn_stats *s, const char *route, uint64_t elapsed_ns);

/* Counts one failed connect attempt (refused, reset, timed out, unreachable)
 * of route to backend ("10.0.0.5:443"). */
void conn_stats_connect_failed(struct conn_stats *s, const char *route, const char *backend);

/* Writes every family as Prometheus text. */
void conn_stats_write(const struct conn_stats *s, FILE *f);

#endif
