/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics_flows.h: bytes of the connections open now, per route. The
 * finished connections' bytes are in sockgate_bytes_total; without these a
 * long flow shows no traffic until it ends. */
#ifndef SG_METRICS_FLOWS_H
#define SG_METRICS_FLOWS_H

#include <stdio.h>

struct agent;

/* Writes sockgate_route_open_bytes{route,direction}: every route of the
 * running configuration (0 when it has no open connection), and the routes
 * of older configurations that open connections still hold. */
void metrics_flows_write(const struct agent *ag, FILE *f);

#endif
