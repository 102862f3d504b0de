/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sg_defaults.h: what the agent and the CLI must agree on without talking:
 * the version, where the agent pins its maps and where its control socket
 * is by default. */
#ifndef SG_DEFAULTS_H
#define SG_DEFAULTS_H

#define SG_VERSION	     "0.1.0"
#define SG_DEFAULT_BPFFS_DIR "/sys/fs/bpf/sockgate"
#define SG_DEFAULT_CONTROL   "/run/sockgate/sockgate.sock"
/* When set, the control socket path both use without --control: one agent
 * per test or per network namespace without repeating the flag. */
#define SG_CONTROL_ENV "SOCKGATE_CONTROL"

#endif
