/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control_cmds.h: what the control socket's commands do to a running agent.
 * Each writes the text `sockgate` prints to out and returns its exit code. */
#ifndef SG_CONTROL_CMDS_H
#define SG_CONTROL_CMDS_H

#include <stddef.h>
#include <stdio.h>

#include "control_exit.h"

struct agent;

/* A rebuild of the running configuration with ag->changes as they are now,
 * the agent's (load, unload and reload go through it); diagnostics and the
 * closing line go to out. Returns 0, or -EINVAL when it was rejected and
 * nothing changed. */
typedef int control_rebuild_fn(void *ctx, FILE *out);

/* What the commands act on: the agent's state and its rebuild. */
struct control_agent {
	struct agent *ag;
	control_rebuild_fn *rebuild;
	void *rebuild_ctx;
};

/* Runs argv[0] with argv[1..argc) and, for load, the file's bytes
 * payload[0..len). Commands: load FILE, unload ROUTE..., reload, routes
 * [--json], backends [--json] and drain|undrain BACKEND... (control_backends.h),
 * status [--json], top (control_top.h), guard ... (guard_cmds.h). */
int control_dispatch(const struct control_agent *ca, size_t argc, char **argv, const char *payload,
		     size_t len, FILE *out);

#endif
