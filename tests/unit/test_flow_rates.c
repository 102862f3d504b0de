// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_flow_rates.c: per-flow byte rates between two samples of the flow map. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "flow_rates.h"

#define S 1000000000ull /* one second in ns */

Test(flow_rates, the_first_sample_knows_no_rate)
{
	struct flow_sample cur[] = {{.id = 1, .start_ns = 0, .bytes = {100, 200}}};
	struct flow_rate out[1];
	struct flow_rates r;

	flow_rates_init(&r);
	cr_assert_eq(flow_rates_update(&r, cur, 1, 10 * S, out), 0);
	cr_assert_not(out[0].is_known, "nothing to compare with yet");
	cr_assert_eq(r.elapsed_ns, 0);
	flow_rates_fini(&r);
}

Test(flow_rates, a_flow_in_both_samples_counts_what_it_grew_by_over_the_time_between)
{
	struct flow_sample was[] = {{.id = 7, .bytes = {1000, 5000}}};
	struct flow_sample is[] = {{.id = 7, .bytes = {1000 + 3000, 5000 + 500}}};
	struct flow_rate out[1];
	struct flow_rates r;

	flow_rates_init(&r);
	flow_rates_update(&r, was, 1, 10 * S, out);
	cr_assert_eq(flow_rates_update(&r, is, 1, 10 * S + S / 2, out), 0);
	cr_assert(out[0].is_known);
	cr_assert_eq(out[0].delta[0], 3000);
	cr_assert_eq(out[0].delta[1], 500);
	cr_assert_eq(out[0].per_s[0], 6000, "3000 bytes in 0.5 s: %lu/s", out[0].per_s[0]);
	cr_assert_eq(out[0].per_s[1], 1000);
	cr_assert_eq(r.elapsed_ns, S / 2);
	flow_rates_fini(&r);
}

Test(flow_rates, a_flow_started_since_the_previous_sample_counts_all_its_bytes)
{
	struct flow_sample was[] = {{.id = 1, .bytes = {0, 0}}};
	struct flow_sample is[] = {{.id = 1, .bytes = {0, 0}},
				   {.id = 2, .start_ns = 10 * S + 1, .bytes = {2048, 0}}};
	struct flow_rate out[2];
	struct flow_rates r;

	flow_rates_init(&r);
	flow_rates_update(&r, was, 1, 10 * S, out);
	flow_rates_update(&r, is, 2, 12 * S, out);
	cr_assert(out[0].is_known);
	cr_assert_eq(out[0].per_s[0], 0, "an idle flow has a known rate of 0");
	cr_assert(out[1].is_known);
	cr_assert_eq(out[1].delta[0], 2048);
	cr_assert_eq(out[1].per_s[0], 1024);
	flow_rates_fini(&r);
}

Test(flow_rates, an_older_flow_the_previous_walk_missed_is_not_known)
{
	struct flow_sample was[] = {{.id = 1}};
	struct flow_sample is[] = {{.id = 1}, {.id = 3, .start_ns = 5 * S, .bytes = {1 << 20, 0}}};
	struct flow_rate out[2];
	struct flow_rates r;

	flow_rates_init(&r);
	flow_rates_update(&r, was, 1, 10 * S, out);
	flow_rates_update(&r, is, 2, 11 * S, out);
	cr_assert(out[0].is_known);
	cr_assert_not(out[1].is_known, "its bytes may be old: no rate rather than a wrong one");
	cr_assert_eq(out[1].delta[0], 0);
	flow_rates_fini(&r);
}

Test(flow_rates, a_count_that_went_down_counts_zero)
{
	struct flow_sample was[] = {{.id = 4, .bytes = {900, 900}}};
	struct flow_sample is[] = {{.id = 4, .bytes = {100, 1900}}};
	struct flow_rate out[1];
	struct flow_rates r;

	flow_rates_init(&r);
	flow_rates_update(&r, was, 1, S, out);
	flow_rates_update(&r, is, 1, 2 * S, out);
	cr_assert_eq(out[0].delta[0], 0);
	cr_assert_eq(out[0].delta[1], 1000);
	flow_rates_fini(&r);
}

Test(flow_rates, matching_follows_ids_when_flows_come_and_go)
{
	struct flow_sample was[] = {
		{.id = 2, .bytes = {10}}, {.id = 5, .bytes = {50}}, {.id = 9, .bytes = {90}}};
	struct flow_sample is[] = {{.id = 5, .bytes = {55}}, {.id = 9, .bytes = {99}}};
	struct flow_rate out[3];
	struct flow_rates r;

	flow_rates_init(&r);
	flow_rates_update(&r, was, 3, S, out);
	flow_rates_update(&r, is, 2, 2 * S, out);
	cr_assert_eq(out[0].delta[0], 5, "flow 5 after flow 2 left");
	cr_assert_eq(out[1].delta[0], 9, "flow 9");
	flow_rates_fini(&r);
}

Test(flow_rates, no_time_between_samples_knows_no_rate)
{
	struct flow_sample s[] = {{.id = 1, .bytes = {10, 10}}};
	struct flow_rate out[1];
	struct flow_rates r;

	flow_rates_init(&r);
	flow_rates_update(&r, s, 1, 3 * S, out);
	flow_rates_update(&r, s, 1, 3 * S, out);
	cr_assert_not(out[0].is_known, "a rate over zero time is undefined");
	flow_rates_fini(&r);
}

Test(flow_rates, per_s_does_not_overflow)
{
	cr_assert_eq(flow_rates_per_s(UINT64_MAX / 2, 2 * S), UINT64_MAX / 4);
	cr_assert_eq(flow_rates_per_s(UINT64_MAX, S / 2), UINT64_MAX, "saturates");
	cr_assert_eq(flow_rates_per_s(123, 0), 0);
}
