/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control_top.h: the control command `top`, what `sockgate top` asks the agent
 * once a refresh. Tab-separated lines rather than JSON, so that the CLI can
 * read them without a JSON parser; the tables of `routes` and `backends` are
 * for people and may change. Names never hold a tab or a newline (config
 * checks them), so no field needs escaping. The reply, in this order:
 *
 *   sockgate-top 1
 *   status   VERSION PID UPTIME_S LISTENERS ROUTES CONNECTIONS DATAPLANE
 *   route    NAME FLOW_NAME CONNS SNI[,SNI...]|-
 *   endpoint ROUTE BACKEND ENDPOINT|unresolved WEIGHT CONNS
 *
 * one route line per route and one endpoint line per resolved endpoint (or
 * per unresolved backend), in configuration order. FLOW_NAME is the route's
 * name as the flow map stores it (long names are cut), so flows join routes
 * by it. CONNS counts live connections routed there, accepted under any
 * configuration; relayed connections count too, although only spliced ones
 * are in the flow map. */
#ifndef SG_CONTROL_TOP_H
#define SG_CONTROL_TOP_H

#include <stddef.h>
#include <stdio.h>

struct agent;

/* The header line's version: a CLI refuses a reply with another one. */
#define CONTROL_TOP_FORMAT "sockgate-top 1"

/* Writes the reply above to out. argv[0] is "top"; no arguments are taken.
 * Returns a CONTROL_EXIT_* code. */
int control_top(const struct agent *ag, size_t argc, FILE *out);

#endif
