/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cmd_top.h: `sockgate top`, a live view of routes, backends and the busiest
 * flows with their byte rates. The agent is asked for its routes, endpoints
 * and connection counts; flows come from the pinned flow map, so they still
 * show while the agent restarts or does not answer. */
#ifndef SG_CLI_CMD_TOP_H
#define SG_CLI_CMD_TOP_H

struct top_opts {
	const char *bpffs_dir;
	const char *control_path;
	double interval_s;	  /* between refreshes, > 0 */
	unsigned long iterations; /* plain frames to print; 0: until quit */
};

/* On a terminal (stdin and stdout ttys, no iterations): a full-screen view
 * on the alternate screen, redrawn every interval, keys q (quit) and s
 * (sort by rate, bytes, age). Otherwise plain frames, one every interval,
 * each after a first interval so every frame has rates; with iterations,
 * that many. Returns the exit code: 0 after q, Ctrl-C or the last frame;
 * 1 on an error (one line on stderr, after the terminal is restored); 128 +
 * N after signal N (SIGTERM, SIGHUP, SIGQUIT). */
int cmd_top(const struct top_opts *o);

#endif
