/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cgroup.h: puts the agent in a cgroup v2 of its own, so the pause program
 * (sock_ops) sees the agent's sockets and nobody else's. */
#ifndef SG_CGROUP_H
#define SG_CGROUP_H

#include <stddef.h>

/* Finds the cgroup v2 hierarchy (mounting it under /run/sockgate when this
 * mount namespace shows none, as under `ip netns exec`), creates "sockgated"
 * below the agent's current cgroup, moves the process into it and returns an
 * open fd of it, or -errno. Where the hierarchy is mounted read-only (a
 * container's own cgroup, as a Kubernetes runtime mounts it), returns the
 * current cgroup instead. The path is written to path (may be NULL).
 * Sockets created afterwards, and those accepted on them, belong to it. */
int cgroup_join_own(char *path, size_t path_len);

#endif
