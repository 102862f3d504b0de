/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sg_defaults.h: what the agent and the CLI must agree on without talking:
 * the version and where the agent pins its maps by default. */
#ifndef SG_DEFAULTS_H
#define SG_DEFAULTS_H

#define SG_VERSION	     "0.1.0"
#define SG_DEFAULT_BPFFS_DIR "/sys/fs/bpf/sockgate"

#endif
