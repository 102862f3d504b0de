/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cmd_upgrade.h: `sockgate upgrade [BINARY]`: asks the agent to start BINARY
 * with --takeover (docs/OPERATING.md, "Upgrade without dropping
 * connections"), then waits until the new agent answers on the control
 * socket. */
#ifndef SG_CMD_UPGRADE_H
#define SG_CMD_UPGRADE_H

#include <stdio.h>

/* binary: NULL for the agent's own path. Returns the exit code: 0 once the
 * new agent serves, 1 when it did not take over (the old one serves on), 3
 * no agent, 4 denied. */
int cmd_upgrade(const char *control_path, const char *binary, FILE *out);

#endif
