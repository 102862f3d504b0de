// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* endpoint_health.c: see endpoint_health.h. */
#include "endpoint_health.h"

enum eh_change eh_check_result(struct endpoint_health *h, const struct cfg_health_check *hc,
			       bool ok, const char *why)
{
	if (ok) {
		h->checks_passed++;
		h->check_fail_run = 0;
		h->check_ok_run++;
		if (h->is_down && h->check_ok_run >= hc->rise) {
			h->is_down = false;
			return EH_CAME_UP;
		}
		return EH_SAME;
	}
	h->checks_failed++;
	h->last_failure = why;
	h->check_ok_run = 0;
	h->check_fail_run++;
	if (!h->is_down && h->check_fail_run >= hc->fall) {
		h->is_down = true;
		return EH_WENT_DOWN;
	}
	return EH_SAME;
}

bool eh_is_ejected(const struct endpoint_health *h, uint64_t now_ms)
{
	return h->ejected_until_ms && now_ms < h->ejected_until_ms;
}

bool eh_connect_result(struct endpoint_health *h, const struct cfg_outlier *o, bool ok,
		       bool may_eject, uint64_t now_ms)
{
	uint64_t len, cap;

	if (ok) {
		h->connect_fail_run = 0;
		return false;
	}
	h->connect_fail_run++;
	if (!o->consecutive_errors || h->connect_fail_run < o->consecutive_errors ||
	    eh_is_ejected(h, now_ms) || !may_eject)
		return false;
	h->n_ejections++;
	cap = o->base_ejection_ms > EH_MAX_EJECTION_MS ? o->base_ejection_ms : EH_MAX_EJECTION_MS;
	len = (uint64_t)o->base_ejection_ms * h->n_ejections;
	h->ejected_until_ms = now_ms + (len < cap ? len : cap);
	h->connect_fail_run = 0;
	h->ejections++;
	return true;
}

void eh_sweep(struct endpoint_health *h, uint64_t now_ms)
{
	if (eh_is_ejected(h, now_ms))
		return;
	if (h->ejected_until_ms) {
		h->ejected_until_ms = 0; /* just returned: keep the multiplier this round */
		return;
	}
	if (h->n_ejections)
		h->n_ejections--;
}

bool eh_in_panic(size_t n_healthy, size_t n_endpoints, uint32_t min_health_percent)
{
	return min_health_percent && n_endpoints &&
	       n_healthy * 100 < (size_t)min_health_percent * n_endpoints;
}

size_t eh_max_ejected(const struct cfg_outlier *o, size_t n_endpoints)
{
	size_t n = n_endpoints * o->max_ejection_percent / 100;

	if (n == 0 && o->max_ejection_percent > 0)
		n = 1;
	return n;
}
