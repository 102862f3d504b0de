// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_proc_stat.c: /proc/<pid>/stat and /proc/stat as the process_* metrics read them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "proc_stat.h"

/* A real line of a kernel 6.1 process, with a command name built to mislead. */
#define LINE(comm)                                                                                 \
	"4242 (" comm ") S 1 4242 4242 0 -1 4194560 1200 0 3 0 157 42 0 0 20 -5 3 0 "              \
	"987654 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n"

Test(proc_stat, reads_cpu_start_and_memory_fields)
{
	struct proc_stat s;

	cr_assert_eq(proc_stat_parse(LINE("sockgated"), &s), 0);
	cr_assert_eq(s.utime_ticks, 157);
	cr_assert_eq(s.stime_ticks, 42);
	cr_assert_eq(s.start_ticks, 987654);
	cr_assert_eq(s.vsize_bytes, 123456789);
	cr_assert_eq(s.rss_pages, 2048);
}

Test(proc_stat, a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields)
{
	struct proc_stat s;

	cr_assert_eq(proc_stat_parse(LINE("a ) b (c) 7 8"), &s), 0);
	cr_assert_eq(s.utime_ticks, 157);
	cr_assert_eq(s.rss_pages, 2048);
}

Test(proc_stat, a_cut_line_is_refused)
{
	struct proc_stat s;

	cr_assert_eq(proc_stat_parse("4242 (x) S 1 2 3", &s), -EINVAL);
	cr_assert_eq(proc_stat_parse("no parentheses 1 2 3", &s), -EINVAL);
}

Test(proc_stat, boot_time_is_the_btime_line)
{
	uint64_t bt = 0;

	cr_assert_eq(
		proc_stat_boot_time("cpu  1 2 3\nintr 5\nbtime 1765000000\nprocesses 9\n", &bt), 0);
	cr_assert_eq(bt, 1765000000);
	cr_assert_eq(proc_stat_boot_time("cpu 1 2\n", &bt), -EINVAL);
}
