// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_log_limit.c: per-connection warnings are limited per one-second window,
 * counted when held back, and allowed again once the window turns. The clock
 * is passed in, so nothing here depends on how fast the test runs. */
#include <criterion/criterion.h>

#include "log.h"
#include "log_limit.h"

/* Far from 0, as loop_now_ms() is: the first call starts a window. */
#define T0 1000000u

Test(log_limit, allows_per_second_messages_in_a_window_then_counts_the_rest)
{
	struct log_limit l = LOG_LIMIT_INIT(20);

	log_set_level(LOG_LEVEL_ERR);
	for (int i = 0; i < 20; i++)
		cr_assert(log_limit_allow(&l, T0 + (uint64_t)i), "message %d", i);
	cr_assert_not(log_limit_allow(&l, T0 + 20));
	cr_assert_not(log_limit_allow(&l, T0 + 999));
	cr_assert_eq(l.in_window, 20);
	cr_assert_eq(l.suppressed, 2);
}

Test(log_limit, a_new_window_starts_one_second_after_the_last_began)
{
	struct log_limit l = LOG_LIMIT_INIT(2);

	log_set_level(LOG_LEVEL_ERR);
	cr_assert(log_limit_allow(&l, T0));
	cr_assert(log_limit_allow(&l, T0 + 500));
	cr_assert_not(log_limit_allow(&l, T0 + 600));
	cr_assert_eq(l.suppressed, 1);
	/* The window is measured from its first message, not from the last. */
	cr_assert(log_limit_allow(&l, T0 + 1000));
	cr_assert_eq(l.window_ms, T0 + 1000);
	cr_assert_eq(l.in_window, 1);
	cr_assert_eq(l.suppressed, 0, "the count was reported and reset");
}

Test(log_limit, a_zeroed_limit_allows_nothing)
{
	struct log_limit l = LOG_LIMIT_INIT(0);

	log_set_level(LOG_LEVEL_ERR);
	cr_assert_not(log_limit_allow(&l, T0));
	cr_assert_not(log_limit_allow(&l, T0 + 5000));
	cr_assert_eq(l.suppressed, 1, "a new window began and counted again");
}

Test(log_limit, each_limit_is_its_own)
{
	struct log_limit a = LOG_LIMIT_INIT(1), b = LOG_LIMIT_INIT(1);

	log_set_level(LOG_LEVEL_ERR);
	cr_assert(log_limit_allow(&a, T0));
	cr_assert_not(log_limit_allow(&a, T0 + 1));
	cr_assert(log_limit_allow(&b, T0 + 1));
}
