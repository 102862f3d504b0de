/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control_backends.h: `sockgate backends [--json]` (every endpoint of every
 * route with its weight, open connections, state and last check) and
 * `sockgate drain|undrain BACKEND...`. Same contract as control_cmds.h. */
#ifndef SG_CONTROL_BACKENDS_H
#define SG_CONTROL_BACKENDS_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

struct agent;

int control_backends(struct agent *ag, size_t argc, char **argv, FILE *out);

/* argv[0] is "drain" or "undrain"; each further argument names an endpoint
 * address or a backend as `sockgate backends` shows it. */
int control_drain(struct agent *ag, size_t argc, char **argv, FILE *out);

/* The state `sockgate backends` shows for endpoint addr of backend b of
 * route r: "drained", "down", "ejected", "full" or "up". */
const char *control_endpoint_state(const struct agent *ag, const struct cfg_route *r,
				   const struct cfg_backend *b, const char *addr);

#endif
