/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* guard_cmds.h: `sockgate guard ...` on the control socket and the guard's
 * block of /metrics. Both read the counters the XDP program keeps per CPU. */
#ifndef SG_GUARD_CMDS_H
#define SG_GUARD_CMDS_H

#include <stddef.h>
#include <stdio.h>

struct agent;

/* argv[0] is "guard". Commands:
 *   guard deny|allow add|del CIDR   a runtime entry, in force at once
 *   guard show [--json]             interfaces, listeners, rules, counters
 * Writes what `sockgate` prints to out; returns the control exit code. */
int guard_cmd(struct agent *ag, size_t argc, char **argv, FILE *out);

/* Appends sockgate_guard_packets_total{verdict,reason}, sockgate_guard_rules
 * {list,origin} and sockgate_guard_interfaces{mode} in Prometheus text. */
void guard_metrics_write(const struct agent *ag, FILE *f);

#endif
