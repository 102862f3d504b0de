/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics_agent.h: the series of the agent itself: its build, whether its
 * latest configuration load succeeded, and its connections counted by
 * stage and by how they ended. */
#ifndef SG_METRICS_AGENT_H
#define SG_METRICS_AGENT_H

#include <stdio.h>

struct agent;

void metrics_agent_write(const struct agent *ag, FILE *f);

#endif
