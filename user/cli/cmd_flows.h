/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cmd_flows.h: `sockgate flows`: the pinned flow map, one row per flow, most
 * bytes first. Reads the map only; never writes it. */
#ifndef SG_CLI_CMD_FLOWS_H
#define SG_CLI_CMD_FLOWS_H

#include <stdbool.h>
#include <stdio.h>

/* Writes every flow in <bpffs_dir>/sg_flows to out, sorted by bytes up + down
 * (descending), as a table with a header line (CLIENT SNI ROUTE BACKEND AGE
 * BYTES_UP BYTES_DOWN STATE) or, with is_json, as a JSON array of
 * {"flow_id","client","sni","route","route_id","backend","age_ms","bytes_up",
 * "bytes_down","state","end"}; sni is null without one, end null until the
 * flow is closed. Age is now minus the flow's start, both CLOCK_MONOTONIC.
 * Returns 0, or a negative errno after printing one line to stderr. */
int cmd_flows(const char *bpffs_dir, bool is_json, FILE *out);

#endif
