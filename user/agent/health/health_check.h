/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* health_check.h: the active checks of one runtime's routes, on the agent's
 * loop (non-blocking sockets, loop timers), and the outlier-detection sweeps.
 * A check is a TCP connect, or for type tls a ClientHello with the check's
 * SNI (hello_build.h) that must be answered by a TLS handshake record holding
 * a ServerHello: the check a passthrough gateway needs, since it cannot see
 * HTTP. Results go to the agent's backend_health, which outlives the checker:
 * a reload replaces the checker and keeps every endpoint's state. */
#ifndef SG_HEALTH_CHECK_H
#define SG_HEALTH_CHECK_H

struct backend_health;
struct loop;
struct runtime;
struct health_checker;

/* Starts checking, on loop, every resolved endpoint of rt's routes that have
 * a health_check, each first within its jitter, and sweeping the outlier
 * state of routes with outlier_detection; results go to health (the agent's
 * backend_health). Holds a reference to rt. NULL when rt has neither (or on
 * ENOMEM, logged). */
struct health_checker *health_checker_new(struct loop *loop, struct backend_health *health,
					  struct runtime *rt);

/* Stops every check in flight and drops the reference. NULL-tolerant. */
void health_checker_free(struct health_checker *hc);

#endif
