// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Active-check thresholds and outlier ejections of one endpoint. */
#include <criterion/criterion.h>

#include "endpoint_health.h"

static const struct cfg_health_check hc = {.type = CFG_CHECK_TCP, .rise = 2, .fall = 3};

Test(endpoint_health, fall_failures_in_a_row_take_it_down_and_rise_passes_bring_it_back)
{
	struct endpoint_health h = {0};

	cr_assert_not(h.is_down, "starts up");
	cr_assert_eq(eh_check_result(&h, &hc, false, "refused"), EH_SAME);
	cr_assert_eq(eh_check_result(&h, &hc, false, "refused"), EH_SAME);
	cr_assert_eq(eh_check_result(&h, &hc, true, NULL), EH_SAME, "a pass resets the run");
	cr_assert_eq(eh_check_result(&h, &hc, false, "refused"), EH_SAME);
	cr_assert_eq(eh_check_result(&h, &hc, false, "refused"), EH_SAME);
	cr_assert_eq(eh_check_result(&h, &hc, false, "timeout"), EH_WENT_DOWN);
	cr_assert(h.is_down);
	cr_assert_str_eq(h.last_failure, "timeout");
	cr_assert_eq(eh_check_result(&h, &hc, false, "timeout"), EH_SAME, "already down");
	cr_assert_eq(eh_check_result(&h, &hc, true, NULL), EH_SAME);
	cr_assert_eq(eh_check_result(&h, &hc, false, "refused"), EH_SAME, "one pass is not rise");
	cr_assert_eq(eh_check_result(&h, &hc, true, NULL), EH_SAME);
	cr_assert_eq(eh_check_result(&h, &hc, true, NULL), EH_CAME_UP);
	cr_assert_not(h.is_down);
	cr_assert_eq(h.checks_passed, 4);
	cr_assert_eq(h.checks_failed, 7);
}

static const struct cfg_outlier od = {.consecutive_errors = 3,
				      .interval_ms = 10000,
				      .base_ejection_ms = 30000,
				      .max_ejection_percent = 10};

Test(endpoint_health, consecutive_connect_failures_eject_for_a_growing_time)
{
	struct endpoint_health h = {0};
	uint64_t t = 1000;

	cr_assert_not(eh_connect_result(&h, &od, false, true, t));
	cr_assert_not(eh_connect_result(&h, &od, false, true, t));
	cr_assert_not(eh_connect_result(&h, &od, true, true, t), "a success resets the run");
	cr_assert_not(eh_connect_result(&h, &od, false, true, t));
	cr_assert_not(eh_connect_result(&h, &od, false, true, t));
	cr_assert(eh_connect_result(&h, &od, false, true, t), "third failure in a row");
	cr_assert(eh_is_ejected(&h, t));
	cr_assert(eh_is_ejected(&h, t + 29999));
	cr_assert_not(eh_is_ejected(&h, t + 30000), "base_ejection_time once");

	/* Back, fails again at once: twice as long. */
	t += 30000;
	eh_sweep(&h, t);
	for (int i = 0; i < 2; i++)
		cr_assert_not(eh_connect_result(&h, &od, false, true, t));
	cr_assert(eh_connect_result(&h, &od, false, true, t));
	cr_assert(eh_is_ejected(&h, t + 59999));
	cr_assert_not(eh_is_ejected(&h, t + 60000));
	cr_assert_eq(h.ejections, 2);
}

Test(endpoint_health, the_multiplier_decays_while_un_ejected_and_is_capped)
{
	struct endpoint_health h = {.n_ejections = 20};
	uint64_t t = 0;

	for (int i = 0; i < 3; i++)
		eh_connect_result(&h, &od, false, true, t);
	cr_assert(eh_is_ejected(&h, t + EH_MAX_EJECTION_MS - 1));
	cr_assert_not(eh_is_ejected(&h, t + EH_MAX_EJECTION_MS), "capped at Envoy's 300 s");
	cr_assert_eq(h.n_ejections, 21);
	t += EH_MAX_EJECTION_MS;
	eh_sweep(&h, t); /* the sweep that ends it keeps the multiplier */
	cr_assert_eq(h.n_ejections, 21);
	for (int i = 0; i < 5; i++)
		eh_sweep(&h, t += od.interval_ms);
	cr_assert_eq(h.n_ejections, 16, "one less per interval spent un-ejected");
}

Test(endpoint_health, the_route_limit_or_no_outlier_detection_keeps_it_in)
{
	struct endpoint_health h = {0};
	struct cfg_outlier off = {0};

	for (int i = 0; i < 10; i++)
		cr_assert_not(eh_connect_result(&h, &od, false, false, 0), "limit reached");
	cr_assert_not(eh_is_ejected(&h, 0));
	for (int i = 0; i < 10; i++)
		cr_assert_not(eh_connect_result(&h, &off, false, true, 0));
	cr_assert_not(eh_is_ejected(&h, 0));
	cr_assert_eq(h.connect_fail_run, 20);
}

Test(endpoint_health, at_most_the_percentage_but_at_least_one_is_ejected)
{
	struct cfg_outlier o = od;

	cr_assert_eq(eh_max_ejected(&o, 3), 1, "10%% of 3 rounds down to 0: one anyway");
	cr_assert_eq(eh_max_ejected(&o, 25), 2);
	o.max_ejection_percent = 100;
	cr_assert_eq(eh_max_ejected(&o, 3), 3);
	o.max_ejection_percent = 0;
	cr_assert_eq(eh_max_ejected(&o, 3), 0, "0%%: never");
}

Test(endpoint_health, a_route_panics_under_its_min_health_percent)
{
	cr_assert_not(eh_in_panic(0, 4, 0), "0 turns panic off, even with nothing healthy");
	cr_assert_not(eh_in_panic(0, 0, 50), "no endpoints: nothing to panic over");
	cr_assert(eh_in_panic(0, 1, 1));
	cr_assert(eh_in_panic(1, 3, 50), "33%% < 50%%");
	cr_assert_not(eh_in_panic(2, 4, 50), "50%% is not under 50%%");
	cr_assert(eh_in_panic(99, 100, 100), "100: any unhealthy endpoint");
	cr_assert_not(eh_in_panic(100, 100, 100));
}
