/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics_process.h: the process_* series every Prometheus client library
 * exports (CPU, memory, descriptors, start time) with the same names and
 * meaning, so the dashboards and alerts written for them work unchanged. */
#ifndef SG_METRICS_PROCESS_H
#define SG_METRICS_PROCESS_H

#include <stdio.h>

/* Writes process_* of the calling process to f; a series whose source cannot
 * be read is left out rather than written as 0. */
void metrics_process_write(FILE *f);

#endif
