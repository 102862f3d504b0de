// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics_process.c: see metrics_process.h. The sources are those of the Go
 * and Python clients: /proc/self/stat, /proc/stat's btime, /proc/self/fd and
 * RLIMIT_NOFILE. */
#include <dirent.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics_process.h"
#include "proc_stat.h"

/* Reads a small /proc file whole into buf (NUL-terminated). */
static int read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n ? 0 : -1;
}

static long count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	/* The directory's own descriptor was listed too and is gone now. */
	return n - 1;
}

void metrics_process_write(FILE *f)
{
	/* /proc/stat grows with the CPU count: btime is near its end. */
	static char stat_text[65536];
	char line[1024];
	struct proc_stat ps;
	struct rlimit rl;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), fds = count_fds();
	uint64_t btime;

	if (read_small("/proc/self/stat", line, sizeof(line)) == 0 &&
	    proc_stat_parse(line, &ps) == 0 && tck > 0) {
		fprintf(f,
			"# HELP process_cpu_seconds_total Total user and system CPU time spent in "
			"seconds.\n"
			"# TYPE process_cpu_seconds_total counter\n"
			"process_cpu_seconds_total %.2f\n"
			"# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
			"# TYPE process_virtual_memory_bytes gauge\n"
			"process_virtual_memory_bytes %llu\n"
			"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			"# TYPE process_resident_memory_bytes gauge\n"
			"process_resident_memory_bytes %llu\n",
			(double)(ps.utime_ticks + ps.stime_ticks) / (double)tck,
			(unsigned long long)ps.vsize_bytes,
			(unsigned long long)(ps.rss_pages * (uint64_t)page));
		if (read_small("/proc/stat", stat_text, sizeof(stat_text)) == 0 &&
		    proc_stat_boot_time(stat_text, &btime) == 0)
			fprintf(f,
				"# HELP process_start_time_seconds Start time of the process since "
				"unix epoch in seconds.\n"
				"# TYPE process_start_time_seconds gauge\n"
				"process_start_time_seconds %.2f\n",
				(double)btime + (double)ps.start_ticks / (double)tck);
	}
	if (fds >= 0)
		fprintf(f,
			"# HELP process_open_fds Number of open file descriptors.\n"
			"# TYPE process_open_fds gauge\n"
			"process_open_fds %ld\n",
			fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fprintf(f,
			"# HELP process_max_fds Maximum number of open file descriptors.\n"
			"# TYPE process_max_fds gauge\n"
			"process_max_fds %llu\n",
			(unsigned long long)rl.rlim_cur);
}
