/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics_express.h: the /metrics series of the express dataplane: pairs
 * handed over, active, refused by reason, and the TC programs' counters
 * (docs/EXPRESS.md, docs/METRICS.md). Nothing when express is off. */
#ifndef SG_METRICS_EXPRESS_H
#define SG_METRICS_EXPRESS_H

#include <stdio.h>

struct agent;

void metrics_write_express(const struct agent *ag, FILE *f);

#endif
