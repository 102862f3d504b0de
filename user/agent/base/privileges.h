/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* privileges.h: what sockgated keeps of root once its startup has mounted what it
 * must (docs/OPERATING.md, section "Privileges"): the four capabilities the
 * running agent still uses, no_new_privs, and with --user that user's ids. */
#ifndef SG_PRIVILEGES_H
#define SG_PRIVILEGES_H

#include <stdint.h>
#include <sys/types.h>

#define PRIV_NAME_MAX 64

/* The user named by --user: resolved before startup touches anything, so a
 * typo fails before a BPF program is attached. */
struct priv_user {
	char name[PRIV_NAME_MAX];
	uid_t uid;
	gid_t gid; /* the user's primary group */
};

/* The capabilities the running agent keeps (bit n: capability n), 0xc000001400:
 * CAP_NET_BIND_SERVICE, CAP_NET_ADMIN, CAP_PERFMON and CAP_BPF. */
uint64_t privileges_keep_mask(void);

/* Looks name up in the user database. 0, or -ENOENT (logged) when there is no
 * such user, or another -errno. */
int privileges_find_user(const char *name, struct priv_user *u);

/* Reduces the process to privileges_keep_mask(): bounding, ambient, permitted,
 * effective and inheritable sets; then sets no_new_privs. With u, first moves
 * to u's uid, gid and groups, keeping those capabilities across the change.
 * Capabilities are per thread, so the process must have only the calling
 * thread: -EBUSY otherwise. Capabilities the process does not hold are not
 * asked for (under systemd's CapabilityBoundingSet= it holds exactly these).
 * 0, or -errno after logging what failed (the agent must not go on). */
int privileges_drop(const struct priv_user *u);

/* In a child about to run the next agent (`sockgate upgrade`): makes the
 * kept capabilities this process holds inheritable and ambient, so that the
 * program it executes holds them too when it is not root (systemd's
 * User=sockgate); root gets them from the bounding set anyway. The agent
 * itself never calls it: its own inheritable and ambient sets stay empty.
 * System calls only (async-signal-safe, for after fork() of a threaded
 * process); a failure leaves the child to fail its BPF load, logged there. */
void privileges_pass_on(void);

#endif
