/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics_probe.h: /healthz and /ready, the probes an orchestrator polls, on
 * the --metrics listener. /healthz answers while the event loop runs (it is
 * the loop that answers); /ready only while new connections are served. */
#ifndef SG_METRICS_PROBE_H
#define SG_METRICS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

struct agent;

/* True when ag serves new connections: a configuration is loaded, all its
 * listeners are bound and the dataplane chosen is attached. Else false, with
 * the reason in why (size bytes). */
bool metrics_ready(const struct agent *ag, char *why, size_t size);

#endif
