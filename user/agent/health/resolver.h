/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* resolver.h: endpoint host names re-resolved off the event loop. A thread
 * (resolve_thread.h) looks every name of the running configuration up each
 * resolve_interval, and names new to the agent at once; the loop records the
 * answers (dns_cache.h). When a name's addresses change, the loop copies the
 * running configuration, gives the copy the new addresses and swaps it in as
 * a reload does, without reading any file: an operator's half-edited file is
 * never applied by a DNS change, and connections keep the runtime they were
 * accepted under. A name that stops resolving keeps its last addresses. */
#ifndef SG_RESOLVER_H
#define SG_RESOLVER_H

#include <stdio.h>

#include "config.h"

struct agent;
struct resolver;
struct runtime;

/* Makes rt (the caller's reference) the running configuration: the agent's
 * install, called with ctx. It calls resolver_follow() in turn. */
typedef void resolver_install_fn(void *ctx, struct runtime *rt);

/* Starts resolving the names of ag->rt, whose addresses (resolved before the
 * loop started) are taken as the first answers. A change of addresses gives
 * install a copy of ag->rt with the new ones. NULL on failure (logged). */
struct resolver *resolver_open(struct agent *ag, resolver_install_fn *install, void *ctx);

/* Stops the thread (never waiting for a lookup) and frees r. NULL-tolerant. */
void resolver_close(struct resolver *r);

/* The answers known now, for a reload: names the agent has resolved get
 * their addresses without a lookup, names new to it stay unresolved until
 * the thread's answer arrives (then applied as a change). */
void resolver_lookup(const struct resolver *r, struct cfg_lookup *out);

/* Follows a new running configuration (each install): its names and
 * resolve_interval; the names not known yet are looked up at once. */
void resolver_follow(struct resolver *r, const struct config *cfg);

/* Writes the sockgate_resolve_* metrics. NULL-tolerant. */
void resolver_metrics_write(const struct resolver *r, FILE *f);

#endif
