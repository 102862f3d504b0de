/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* endpoint_health.h: whether one endpoint of one route may take new
 * connections, from two sources (docs/CONFIG.md, "Health"):
 * - active checks: `fall` failed checks in a row take it down, `rise`
 *   passed ones bring it back; it starts up, as HAProxy's servers do;
 * - outlier detection (Envoy's, which Istio configures): `consecutive_errors`
 *   connect failures in a row eject it for base_ejection_time times the
 *   number of times it was ejected (capped), unless the route already has
 *   as many endpoints ejected as max_ejection_percent allows; each interval
 *   it spends un-ejected takes one off that number.
 * Pure: the caller passes the time. */
#ifndef SG_ENDPOINT_HEALTH_H
#define SG_ENDPOINT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Envoy's max_ejection_time default: a flapping endpoint is retried at least
 * this often, however many times it was ejected. */
#define EH_MAX_EJECTION_MS 300000u

struct endpoint_health {
	bool is_down; /* by active checks */
	uint32_t check_ok_run, check_fail_run;
	uint32_t connect_fail_run;
	uint32_t n_ejections;	   /* multiplier of the next ejection's length */
	uint64_t ejected_until_ms; /* 0: not ejected */
	/* Totals, for metrics. */
	uint64_t checks_passed, checks_failed, ejections;
	const char *last_failure; /* static text of the last failed check, or NULL */
};

enum eh_change { EH_SAME = 0, EH_WENT_DOWN, EH_CAME_UP };

/* Feeds one active check's outcome (why: a static reason when !ok). */
enum eh_change eh_check_result(struct endpoint_health *h, const struct cfg_health_check *hc,
			       bool ok, const char *why);

/* Feeds one connect attempt's outcome. may_eject: the route is below its
 * ejection limit (eh_max_ejected()). Returns true when this failure ejected
 * the endpoint. Without outlier detection (consecutive_errors 0) it only counts. */
bool eh_connect_result(struct endpoint_health *h, const struct cfg_outlier *o, bool ok,
		       bool may_eject, uint64_t now_ms);

bool eh_is_ejected(const struct endpoint_health *h, uint64_t now_ms);

/* Ends an expired ejection and decays the multiplier of an endpoint that
 * stayed un-ejected: call once per outlier interval. */
void eh_sweep(struct endpoint_health *h, uint64_t now_ms);

/* How many of n endpoints may be ejected at once: max_ejection_percent of
 * them, at least one when the percentage is not 0 (as Envoy does). */
size_t eh_max_ejected(const struct cfg_outlier *o, size_t n_endpoints);

/* Whether a route with n_healthy of n_endpoints healthy is in panic: under
 * min_health_percent (0: never), health stops excluding endpoints. */
bool eh_in_panic(size_t n_healthy, size_t n_endpoints, uint32_t min_health_percent);

#endif
