/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cmd_stats.h: `sockgate stats`: the dataplane's per-CPU counters from the
 * pinned sg_counters map, summed over CPUs and named by SG_COUNTER_LIST. */
#ifndef SG_CLI_CMD_STATS_H
#define SG_CLI_CMD_STATS_H

#include <stdbool.h>
#include <stdio.h>

/* Writes each counter of <bpffs_dir>/sg_counters, summed over the possible
 * CPUs, to out in SG_COUNTER_LIST order: "name value" lines or, with is_json,
 * one JSON object name -> value. Returns 0, or a negative errno after printing
 * one line to stderr. */
int cmd_stats(const char *bpffs_dir, bool is_json, FILE *out);

#endif
