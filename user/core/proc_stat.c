// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* proc_stat.c: see proc_stat.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proc_stat.h"

int proc_stat_parse(const char *line, struct proc_stat *out)
{
	/* The command name is the only field that may hold spaces or ')', and
	 * it ends at the last ')': the fields are counted from there. */
	const char *p = strrchr(line, ')');
	uint64_t f[22];
	int n;

	if (!p || !strchr(line, '('))
		return -EINVAL;
	/* Fields 3 (state) to 24 (rss) of proc(5); state is skipped as %*s. */
	n = sscanf(p + 1,
		   " %*s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64 " %" SCNu64,
		   &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11], &f[12], &f[13], &f[14],
		   &f[15], &f[16], &f[17], &f[18], &f[19], &f[20], &f[21], &f[0], &f[1], &f[2]);
	if (n != 21)
		return -EINVAL;
	/* f[4..21] are fields 4..21; f[0..2] fields 22..24. Priority and nice
	 * (18, 19) may be negative: they are read as unsigned and not used. */
	out->utime_ticks = f[14];
	out->stime_ticks = f[15];
	out->start_ticks = f[0];
	out->vsize_bytes = f[1];
	out->rss_pages = f[2];
	return 0;
}

int proc_stat_boot_time(const char *text, uint64_t *btime)
{
	const char *p = text;

	while (p && *p) {
		if (sscanf(p, "btime %" SCNu64, btime) == 1)
			return 0;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -EINVAL;
}
