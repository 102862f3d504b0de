// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_line_ring.c: the access log's queue takes whole lines or none, in order,
 * across the wrap. */
#include <criterion/criterion.h>
#include <string.h>

#include "line_ring.h"

/* Drains r into out (NUL-terminated), as the writer thread does. */
static size_t drain(struct line_ring *r, char *out, size_t cap)
{
	size_t total = 0, n;
	const char *p;

	while ((n = line_ring_peek(r, &p)) > 0) {
		cr_assert_lt(total + n, cap);
		memcpy(out + total, p, n);
		total += n;
		line_ring_consume(r, n);
	}
	out[total] = '\0';
	return total;
}

Test(line_ring, a_line_that_does_not_fit_is_refused_whole)
{
	struct line_ring r;
	char out[64];

	cr_assert_eq(line_ring_init(&r, 10), 0);
	cr_assert(line_ring_push(&r, "abcd\n", 5));
	cr_assert(line_ring_push(&r, "efg\n", 4));
	cr_assert_not(line_ring_push(&r, "hi\n", 3), "2 bytes free, 3 needed");
	cr_assert(line_ring_push(&r, "\n", 1));
	cr_assert_eq(r.len, 10);
	cr_assert_eq(drain(&r, out, sizeof(out)), 10);
	cr_assert_str_eq(out, "abcd\nefg\n\n");
	line_ring_fini(&r);
	line_ring_fini(&r);
}

Test(line_ring, lines_wrap_around_the_end_and_come_out_in_order)
{
	struct line_ring r;
	char out[64], want[64] = "";
	const char *p;

	cr_assert_eq(line_ring_init(&r, 8), 0);
	cr_assert(line_ring_push(&r, "12345\n", 6));
	cr_assert_eq(line_ring_peek(&r, &p), 6);
	line_ring_consume(&r, 4); /* a partial write: "5\n" stays at offset 4 */
	cr_assert(line_ring_push(&r, "abcde\n", 6), "6 of 8 free, split over the end");
	cr_assert_eq(line_ring_peek(&r, &p), 4, "contiguous up to the end only");
	strcat(want, "5\nabcde\n");
	cr_assert_eq(drain(&r, out, sizeof(out)), 8);
	cr_assert_str_eq(out, want);
	cr_assert_eq(line_ring_peek(&r, &p), 0);
	line_ring_fini(&r);
}

Test(line_ring, zero_capacity_is_refused)
{
	struct line_ring r;

	cr_assert_lt(line_ring_init(&r, 0), 0);
}
