// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_histogram.c: bucketing by the "le" rule and the Prometheus text. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "histogram.h"
#include "prom.h"

static const double sizes[] = {256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static char *written(struct histogram *h, const char *const *names, const char *const *values,
		     size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	histogram_write(h, f, "x_bytes", names, values, n);
	fclose(f);
	return text;
}

Test(histogram, a_value_on_a_bound_falls_in_that_bound)
{
	cr_assert_eq(histogram_bucket(sizes, N_SIZES, 0), 0);
	cr_assert_eq(histogram_bucket(sizes, N_SIZES, 256), 0);
	cr_assert_eq(histogram_bucket(sizes, N_SIZES, 257), 1);
	cr_assert_eq(histogram_bucket(sizes, N_SIZES, 512), 1);
	cr_assert_eq(histogram_bucket(sizes, N_SIZES, 65536), 8);
	cr_assert_eq(histogram_bucket(sizes, N_SIZES, 65537), N_SIZES, "above the last: +Inf");
	cr_assert_eq(histogram_bucket(sizes, N_SIZES, NAN), N_SIZES, "NaN goes to +Inf");
	cr_assert_eq(histogram_bucket(sizes, 0, 1), 0, "no bounds: everything is +Inf");
}

Test(histogram, init_refuses_unsorted_or_too_many_bounds)
{
	static const double unsorted[] = {1, 3, 2};
	static const double equal[] = {1, 1};
	double many[HISTOGRAM_MAX_BOUNDS + 1];
	struct histogram h;

	for (size_t i = 0; i < HISTOGRAM_MAX_BOUNDS + 1; i++)
		many[i] = (double)i;
	cr_assert_lt(histogram_init(&h, unsorted, 3), 0);
	cr_assert_lt(histogram_init(&h, equal, 2), 0);
	cr_assert_lt(histogram_init(&h, many, HISTOGRAM_MAX_BOUNDS + 1), 0);
	cr_assert_eq(histogram_init(&h, many, HISTOGRAM_MAX_BOUNDS), 0);
}

Test(histogram, buckets_are_written_cumulative_with_sum_and_count)
{
	static const char *const names[] = {"route"};
	static const char *const values[] = {"r1"};
	struct histogram h;
	char *text;

	cr_assert_eq(histogram_init(&h, sizes, N_SIZES), 0);
	histogram_observe(&h, 275);
	histogram_observe(&h, 275);
	histogram_observe(&h, 517);
	histogram_observe(&h, 100000);
	text = written(&h, names, values, 1);
	cr_assert_str_eq(text, "x_bytes_bucket{route=\"r1\",le=\"256\"} 0\n"
			       "x_bytes_bucket{route=\"r1\",le=\"512\"} 2\n"
			       "x_bytes_bucket{route=\"r1\",le=\"1024\"} 3\n"
			       "x_bytes_bucket{route=\"r1\",le=\"2048\"} 3\n"
			       "x_bytes_bucket{route=\"r1\",le=\"4096\"} 3\n"
			       "x_bytes_bucket{route=\"r1\",le=\"8192\"} 3\n"
			       "x_bytes_bucket{route=\"r1\",le=\"16384\"} 3\n"
			       "x_bytes_bucket{route=\"r1\",le=\"32768\"} 3\n"
			       "x_bytes_bucket{route=\"r1\",le=\"65536\"} 3\n"
			       "x_bytes_bucket{route=\"r1\",le=\"+Inf\"} 4\n"
			       "x_bytes_sum{route=\"r1\"} 101067\n"
			       "x_bytes_count{route=\"r1\"} 4\n");
	free(text);
}

Test(histogram, without_labels_only_le_is_written_and_fractions_keep_their_digits)
{
	static const double secs[] = {0.0005, 0.001, 0.25, 5};
	struct histogram h;
	char *text;

	cr_assert_eq(histogram_init(&h, secs, 4), 0);
	histogram_observe(&h, 0.000123);
	text = written(&h, NULL, NULL, 0);
	cr_assert_str_eq(text, "x_bytes_bucket{le=\"0.0005\"} 1\n"
			       "x_bytes_bucket{le=\"0.001\"} 1\n"
			       "x_bytes_bucket{le=\"0.25\"} 1\n"
			       "x_bytes_bucket{le=\"5\"} 1\n"
			       "x_bytes_bucket{le=\"+Inf\"} 1\n"
			       "x_bytes_sum 0.000123\n"
			       "x_bytes_count 1\n");
	free(text);
}

Test(prom, label_values_are_escaped)
{
	static const char *const names[] = {"route", "listener"};
	static const char *const values[] = {"a\"b\\c\nd", "plain"};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	prom_write_labels(f, names, values, 2);
	fclose(f);
	cr_assert_str_eq(text, "route=\"a\\\"b\\\\c\\nd\",listener=\"plain\"");
	free(text);
}
