/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* top_agent.h: what `sockgate top` learns from the agent each refresh: its
 * status, routes and endpoints with live connection counts, from the control
 * command `top` (user/agent/control_top.h describes the reply). */
#ifndef SG_CLI_TOP_AGENT_H
#define SG_CLI_TOP_AGENT_H

#include <stdbool.h>
#include <stddef.h>

struct top_agent_route {
	const char *name;
	const char *flow_name; /* the name as the flow map holds it */
	const char *snis;      /* "a.example,*.b.example" or "-" */
	unsigned long conns;
};

struct top_agent_ep {
	const char *route;
	const char *backend;  /* as configured: "host:port" */
	const char *endpoint; /* resolved "addr:port", or "unresolved" */
	unsigned long weight;
	unsigned long conns;
};

struct top_agent {
	bool is_up;    /* the agent answered and the reply was understood */
	char why[256]; /* !is_up: why not, one line */
	const char *version, *dataplane;
	long pid;
	unsigned long long uptime_s;
	unsigned long n_listeners, n_routes, n_conns;
	struct top_agent_route *routes;
	size_t n_route_rows;
	struct top_agent_ep *eps;
	size_t n_eps;
	char *text; /* the reply; the strings above point into it */
};

/* Asks the agent on control_path, waiting at most timeout_ms, and fills a
 * (emptied first). Returns 0, or a negative errno with a->is_up false and
 * a->why set: not running, permission denied, timed out, a reply of another
 * format version. */
int top_agent_query(struct top_agent *a, const char *control_path, int timeout_ms);

/* Frees what a query kept; a is then empty. */
void top_agent_fini(struct top_agent *a);

#endif
