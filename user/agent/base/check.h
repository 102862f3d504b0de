/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* check.h: `sockgated --check`, the configuration linter (docs/OPERATING.md,
 * section "Checking a configuration"): load, resolve and route the --config
 * paths as the agent would, print the route tables, and say whether the
 * result is fit to serve. */
#ifndef SG_CHECK_H
#define SG_CHECK_H

#include "args.h"

/* Diagnostics to stderr, route tables and the verdict line to stdout. Returns
 * the exit code: 0 when the configuration loads and serves something (at
 * least one listener and one route) and, with a->strict, the load gave no
 * warning; 1 otherwise. Name lookups that fail are warnings about the
 * machine running the check, not about the configuration: --strict does not
 * count them, so a CI job without cluster DNS can lint. */
int check_run(const struct args *a);

#endif
