/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics_health.h: the /metrics series of backend health: each endpoint's
 * state (up, down, ejected, full, drained), health checks and ejections. */
#ifndef SG_METRICS_HEALTH_H
#define SG_METRICS_HEALTH_H

#include <stdio.h>

struct agent;

void metrics_write_health(const struct agent *ag, FILE *f);

#endif
