/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* guard.h: the XDP guard as the agent runs it (README "XDP guard"). The BPF
 * object is loaded the first time a configuration has a guard: section and
 * kept from then on; a reload or a `sockgate guard` command only rewrites its
 * maps. Interfaces follow the configuration (attach new ones, detach dropped
 * ones); the listener map follows the bound listeners and, for a wildcard
 * listener, the addresses of the guarded interfaces (watched over netlink).
 * Runtime rules last until deleted or the agent stops; a reload replaces
 * only the configuration's rules (guard_rules.h). */
#ifndef SG_GUARD_AGENT_H
#define SG_GUARD_AGENT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "guard_bpf.h"
#include "guard_rules.h"
#include "loop.h"

struct agent;
struct config;

struct guard_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int link_fd; /* the XDP link; closing it detaches */
	bool is_generic;
};

struct guard {
	struct agent *ag;
	struct guard_bpf bpf; /* bpf.skel NULL until a configuration first has a guard */
	struct guard_rules rules;
	struct guard_iface *ifs; /* attached and in force */
	size_t n_ifs;
	struct guard_iface *next; /* guard_prepare()'s set until commit or abort */
	size_t n_next;
	bool has_next;
	bool has_all_rules; /* the tries hold every rule (false right after a load) */
	uint32_t syn_per_second, syn_burst;
	struct guard_listen *lsn; /* what sg_guard_lsn holds */
	size_t n_lsn;
	struct loop_watch addr_events; /* netlink: interface addresses changed */
};

/* First half of applying cfg (at start and on every reload): loads the BPF
 * object if cfg has a guard and it is not loaded yet, and attaches to the
 * interfaces cfg adds. Nothing takes effect until guard_commit(). 0, or
 * -errno after logging why (unknown interface, no XDP, no BPF), and writing
 * it to out unless NULL; then guard_abort() undoes it and the reload is
 * rejected. */
int guard_prepare(struct agent *ag, const struct config *cfg, FILE *out);

/* Undoes guard_prepare(): detaches what it attached. Safe without one. */
void guard_abort(struct agent *ag);

/* Puts cfg in force: detaches dropped interfaces, writes the configuration's
 * rules, the SYN limit and the listener addresses of ag->listeners. Call after
 * listeners_apply(). Map failures are logged, not returned: the listeners are
 * already switched. */
void guard_commit(struct agent *ag, const struct config *cfg);

/* Re-reads the listener addresses (ag->listeners, the interfaces' addresses
 * for wildcard listeners) into the listener map. */
void guard_sync_listeners(struct guard *g);

/* Before the listeners of cfg are opened (start and reload): the guard judges
 * their addresses as well as those open now, so not one SYN reaches a new
 * listener unjudged. The next guard_commit() or guard_abort() narrows the set
 * to the sockets then open. */
void guard_expect_listeners(struct agent *ag, const struct config *cfg);

/* A runtime rule change (`sockgate guard deny|allow add|del`), in force at
 * once. Returns the rules' answer; *err is a map error (the change is then
 * undone) or 0. */
enum guard_rules_result guard_change_rule(struct guard *g, enum guard_list list,
					  const struct cfg_cidr *c, bool is_add, int *err);

/* Detaches from every interface and frees everything. NULL-tolerant. */
void guard_close(struct agent *ag);

/* A takeover is done: the new agent holds the links (with its program), so
 * this one's descriptors close without detaching anything. */
void guard_let_go(struct agent *ag);

/* Puts this agent's program back into its links: a takeover that failed
 * may have left the other agent's there. */
void guard_relink(struct agent *ag);

#endif
