// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_latency_hist.c: percentiles of the benchmark's latency histogram are exact
 * for small values, within 1/32 above, capped by the true maximum, and merge. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "latency_hist.h"

static struct latency_hist *hist_new(void)
{
	struct latency_hist *h = malloc(sizeof(*h));

	cr_assert(h);
	latency_hist_init(h);
	return h;
}

Test(latency_hist, empty_histogram_reports_zero)
{
	struct latency_hist *h = hist_new();

	cr_assert_eq(latency_hist_quantile(h, 0.5), 0);
	cr_assert_eq(h->count, 0);
	free(h);
}

Test(latency_hist, values_below_32_are_exact)
{
	struct latency_hist *h = hist_new();

	for (uint64_t v = 1; v <= 20; v++)
		latency_hist_add(h, v);
	cr_assert_eq(latency_hist_quantile(h, 0.5), 10);
	cr_assert_eq(latency_hist_quantile(h, 1.0), 20);
	cr_assert_eq(latency_hist_quantile(h, 0.01), 1);
	free(h);
}

Test(latency_hist, quantiles_of_a_uniform_range_are_within_one_bucket)
{
	struct latency_hist *h = hist_new();
	const double qs[] = {0.5, 0.9, 0.99, 0.999};

	for (uint64_t v = 1; v <= 1000000; v++)
		latency_hist_add(h, v * 1000); /* 1 us .. 1 s */
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double want = qs[i] * 1e9, got = (double)latency_hist_quantile(h, qs[i]);

		cr_assert(got >= want && got <= want * (1 + 1.0 / 32) + 1000,
			  "q %.3f: %.0f vs %.0f", qs[i], got, want);
	}
	cr_assert_eq(latency_hist_quantile(h, 1.0), 1000000000ull, "max is exact");
	cr_assert_eq(h->min_ns, 1000);
	free(h);
}

Test(latency_hist, huge_values_land_in_the_last_bucket_and_max_stays_exact)
{
	struct latency_hist *h = hist_new();

	latency_hist_add(h, UINT64_MAX / 2);
	cr_assert_eq(h->buckets[LATENCY_HIST_BUCKETS - 1], 1);
	cr_assert_eq(latency_hist_quantile(h, 0.5), UINT64_MAX / 2);
	free(h);
}

Test(latency_hist, merge_equals_adding_everything_to_one)
{
	struct latency_hist *a = hist_new(), *b = hist_new(), *all = hist_new();

	for (uint64_t v = 0; v < 5000; v++) {
		latency_hist_add(v % 2 ? a : b, v * 977);
		latency_hist_add(all, v * 977);
	}
	latency_hist_merge(a, b);
	cr_assert_eq(a->count, all->count);
	cr_assert_eq(a->max_ns, all->max_ns);
	cr_assert_eq(a->min_ns, all->min_ns);
	cr_assert_eq(a->sum_ns, all->sum_ns);
	cr_assert_eq(latency_hist_quantile(a, 0.99), latency_hist_quantile(all, 0.99));
	free(a);
	free(b);
	free(all);
}
