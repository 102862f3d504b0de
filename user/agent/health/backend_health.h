/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* backend_health.h: agent-wide health of every endpoint of every route
 * (endpoint_health.h: active checks and outlier ejections) and the drained
 * backends of `sockgate drain`. Keyed by names and addresses, not by a
 * configuration's indices, so reloads keep every state. */
#ifndef SG_BACKEND_HEALTH_H
#define SG_BACKEND_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "endpoint_health.h"
#include "hostname.h"

/* "[host]:port" with the longest host name. */
#define BACKEND_NAME_MAX (HOSTNAME_MAX + 9)

struct backend_health;

#define BACKEND_HEALTH_MAX 16384 /* (route, endpoint) pairs tracked */
#define BACKEND_DRAIN_MAX  4096	 /* drained names */

struct backend_health *backend_health_new(void);
void backend_health_free(struct backend_health *bh);

/* The state of endpoint addr ("10.0.0.5:443") of route, added (up, never
 * ejected) if new. Stable until backend_health_free(). NULL on ENOMEM. */
struct endpoint_health *backend_health_get(struct backend_health *bh, const char *route,
					   const char *addr);

/* The same, or NULL when never seen; never adds one. */
const struct endpoint_health *backend_health_find(const struct backend_health *bh,
						  const char *route, const char *addr);

/* "host:port" of backend b as `sockgate drain` names it ("[v6]:port" for an
 * IPv6 literal). */
void backend_name(const struct cfg_backend *b, char *buf, size_t size);

/* Marks name (an endpoint address or a backend_name()) drained or not. 0,
 * -ENOMEM, or -ENOENT when undraining a name that is not drained. */
int backend_health_drain(struct backend_health *bh, const char *name, bool is_drained);

/* Is endpoint addr of backend b drained, by its address or its backend's name? */
bool backend_health_is_drained(const struct backend_health *bh, const struct cfg_backend *b,
			       const char *addr);

/* Does the configuration have an endpoint or backend called name? */
bool backend_health_names_backend(const struct config *c, const char *name);

/* Endpoints of route r ejected at now_ms. */
size_t backend_health_ejected(const struct backend_health *bh, const struct cfg_route *r,
			      uint64_t now_ms);

/* Iteration, for metrics and `sockgate backends`: the i-th (route, address)
 * pair in the order they were added. */
size_t backend_health_count(const struct backend_health *bh);
const struct endpoint_health *backend_health_at(const struct backend_health *bh, size_t i,
						const char **route, const char **addr);

/* Drained names, i < backend_health_drained_count(); NULL for an undrained slot. */
size_t backend_health_drained_count(const struct backend_health *bh);
const char *backend_health_drained_at(const struct backend_health *bh, size_t i);

#endif
