/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* proc_stat.h: the fields of /proc/<pid>/stat and the boot time in /proc/stat
 * that the standard process_* metrics need, parsed from text the caller has
 * read. Pure, so the awkward part (a command name may hold spaces and
 * parentheses) is unit-tested. */
#ifndef SG_PROC_STAT_H
#define SG_PROC_STAT_H

#include <stdint.h>

struct proc_stat {
	uint64_t utime_ticks, stime_ticks; /* clock ticks (sysconf(_SC_CLK_TCK)) */
	uint64_t start_ticks;		   /* since boot */
	uint64_t vsize_bytes;
	uint64_t rss_pages;
};

/* Parses the one line of /proc/<pid>/stat. 0, or -EINVAL when it is not one. */
int proc_stat_parse(const char *line, struct proc_stat *out);

/* The "btime" of /proc/stat (boot time, seconds since the epoch). 0, or
 * -EINVAL when there is none. */
int proc_stat_boot_time(const char *text, uint64_t *btime);

#endif
