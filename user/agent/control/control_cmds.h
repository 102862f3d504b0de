/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control_cmds.h: what the control socket's commands do to a running agent.
 * Each writes the text `sockgate` prints to out and returns its exit code. */
#ifndef SG_CONTROL_CMDS_H
#define SG_CONTROL_CMDS_H

#include <stddef.h>
#include <stdio.h>

struct agent;

enum control_exit {
	CONTROL_EXIT_OK = 0,
	CONTROL_EXIT_FAILED = 1, /* rejected file, unknown route: nothing changed */
	CONTROL_EXIT_USAGE = 2,
	CONTROL_EXIT_NO_AGENT = 3, /* the CLI's own: no agent answers on the socket */
	CONTROL_EXIT_DENIED = 4,
};

/* Runs argv[0] with argv[1..argc) and, for load, the file's bytes
 * payload[0..len). Commands: load FILE, unload ROUTE..., reload, routes
 * [--json], backends [--json] and drain|undrain BACKEND... (control_backends.h),
 * status [--json], top (control_top.h), guard ... (guard_cmds.h). */
int control_dispatch(struct agent *ag, size_t argc, char **argv, const char *payload, size_t len,
		     FILE *out);

#endif
