/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics.h: Prometheus text exposition of the agent's counters on
 * `--metrics ADDR` (GET /metrics), served from the agent's own loop: a
 * scrape never blocks connection handling and holds no lock. */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdio.h>

struct agent;
struct metrics;

/* Listens on addr ("host:port", "[v6]:port" or ":port" for all IPv4
 * addresses) for scrapes. Returns NULL and logs the reason on failure. */
struct metrics *metrics_open(struct agent *ag, const char *addr);

/* Closes the listener and ends the scrapes in progress. NULL-tolerant. */
/* The listening socket (a takeover hands it over), or -1 for NULL. */
int metrics_fd(const struct metrics *m);

void metrics_close(struct metrics *m);

/* Writes the exposition of ag's state to f (also used by tests and tools). */
void metrics_write(const struct agent *ag, FILE *f);

#endif
