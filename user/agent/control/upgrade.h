/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* upgrade.h: `sockgate upgrade [BINARY]`: the agent starts the next one
 * itself, BINARY (default: the path it was started from, which a package
 * upgrade has replaced) with its own command line and --takeover, in a new
 * session but in its own cgroup and environment, so that under systemd the
 * new agent is the service's (NOTIFY_SOCKET, MAINPID=). The hand-over is
 * then control/takeover.h's. */
#ifndef SG_UPGRADE_H
#define SG_UPGRADE_H

#include <stddef.h>
#include <stdio.h>

struct agent;

/* argv: "upgrade" [BINARY]. Writes "upgrading: BINARY started as pid N" (or
 * why not) to out; returns the exit code. Returns as soon as BINARY runs:
 * the caller waits for the new pid to answer on the control socket. */
int control_upgrade(struct agent *ag, size_t argc, char **argv, FILE *out);

#endif
