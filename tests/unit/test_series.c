// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_series.c: the bounded label-set table behind labelled metrics. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "series.h"

static uint64_t *get2(struct series_table *t, const char *a, const char *b)
{
	const char *v[] = {a, b};

	return series_table_get(t, v);
}

Test(series, the_same_label_values_find_the_same_payload_and_copies_are_kept)
{
	struct series_table *t = series_table_new(2, sizeof(uint64_t), 16);
	char listener[] = "tls", route[] = "r1";
	const char *const *values;
	uint64_t *p;

	cr_assert_not_null(t);
	p = get2(t, listener, route);
	cr_assert_not_null(p);
	cr_assert_eq(*p, 0, "a new series starts at zero");
	(*p)++;
	/* The caller's strings may go away (a reload frees the old config). */
	strcpy(listener, "xxx");
	strcpy(route, "yy");
	cr_assert_eq(get2(t, "tls", "r1"), p);
	cr_assert_eq(*get2(t, "tls", "r1"), 1);
	cr_assert_neq(get2(t, "tls", "r2"), p);
	cr_assert_neq(get2(t, "tl", "sr1"), p, "values are not just concatenated");
	cr_assert_eq(series_table_count(t), 3);
	cr_assert_eq(series_table_at(t, 0, &values), p);
	cr_assert_str_eq(values[0], "tls");
	cr_assert_str_eq(values[1], "r1");
	series_table_at(t, 2, &values);
	cr_assert_str_eq(values[0], "tl");
	series_table_free(t);
}

Test(series, a_full_table_counts_new_label_sets_in_one_other_series)
{
	struct series_table *t = series_table_new(2, sizeof(uint64_t), 4);
	const char *const *values;
	uint64_t *other;
	char name[32];

	cr_assert_not_null(t);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		(*get2(t, "tls", name))++;
	}
	cr_assert_eq(series_table_count(t), 4);
	other = get2(t, "tls", "r4");
	cr_assert_not_null(other);
	for (int i = 5; i < 1000; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		cr_assert_eq(get2(t, "listener-churn", name), other);
	}
	cr_assert_eq(series_table_count(t), 5, "the limit plus the other series, never more");
	series_table_at(t, 4, &values);
	cr_assert_str_eq(values[0], SERIES_OTHER);
	cr_assert_str_eq(values[1], SERIES_OTHER);
	/* Label sets seen before the table filled keep their own series. */
	cr_assert_eq(*get2(t, "tls", "r2"), 1);
	series_table_free(t);
}

Test(series, payloads_keep_their_address_and_alignment)
{
	struct series_table *t = series_table_new(1, 3 * sizeof(double), 300);
	double *first;
	char name[16];

	cr_assert_not_null(t);
	first = series_table_get(t, (const char *[]){"a"});
	first[2] = 1.5;
	for (int i = 0; i < 299; i++) {
		double *p;

		snprintf(name, sizeof(name), "n%d", i);
		p = series_table_get(t, (const char *[]){name});
		cr_assert_not_null(p);
		cr_assert_eq((uintptr_t)p % _Alignof(max_align_t), 0);
	}
	cr_assert_eq(series_table_get(t, (const char *[]){"a"}), first);
	cr_assert_eq(first[2], 1.5);
	series_table_free(t);
}

Test(series, bad_shapes_are_refused)
{
	cr_assert_null(series_table_new(0, 8, 16));
	cr_assert_null(series_table_new(SERIES_MAX_LABELS + 1, 8, 16));
	cr_assert_null(series_table_new(1, 8, 0));
	series_table_free(NULL);
}
