/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* guard_bpf.h: the XDP guard object (bpf/guard.bpf.c): load, attach to an
 * interface, and the map writes that change what it does without reloading
 * it. Nothing is pinned: runtime rules end with the agent, and the XDP links
 * die with its fds, so even a crashed agent leaves no guard behind. */
#ifndef SG_GUARD_BPF_H
#define SG_GUARD_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "guard_rules.h"
#include "sg_guard.h"

struct sg_guard;

struct guard_bpf {
	struct sg_guard *skel; /* NULL: not loaded */
	int prog_fd, lsn_fd, cfg_fd, syn_fd, cnt_fd;
	int rules_fd[GUARD_LIST_MAX][2]; /* [list][0: IPv4 trie, 1: IPv6 trie] */
};

/* A TCP address:port some listener serves; IPv4 as v4-mapped IPv6. */
struct guard_listen {
	uint8_t addr[16];
	uint16_t port; /* host byte order */
};

/* Loads guard.bpf.o. 0 or -errno, logged once. */
int guard_bpf_open(struct guard_bpf *b);

/* Destroys the object (its maps and program). Links must be closed first.
 * Safe on a zeroed or closed struct. */
void guard_bpf_close(struct guard_bpf *b);

/* Attaches the program to ifindex: native (driver) mode, else generic mode.
 * Returns the XDP link's fd (closing it detaches) with *is_generic set, or
 * -errno of the native attempt when both failed (*generic_err gets the other's). */
int guard_bpf_attach(const struct guard_bpf *b, int ifindex, bool *is_generic, int *generic_err);

/* Puts this program into link_fd, an XDP link another agent made (a
 * takeover): the interface is never without a guard, and the link is then
 * as good as one guard_bpf_attach() returned. 0 or -errno. */
int guard_bpf_relink(const struct guard_bpf *b, int link_fd);

/* Adds or deletes c in list's trie of its family. 0 or -errno. */
int guard_bpf_rule(const struct guard_bpf *b, enum guard_list list, const struct cfg_cidr *c,
		   bool is_add);

/* Derives the GCRA parameters of a rate and a burst (0 per_second: no
 * limit) into cfg, with the allow-only flag. Pure, for tests too. */
void guard_bpf_make_cfg(uint32_t per_second, uint32_t burst, bool is_allow_only,
			struct sg_guard_cfg *cfg);

/* Writes the program's settings. 0 or -errno. */
int guard_bpf_set_cfg(const struct guard_bpf *b, const struct sg_guard_cfg *cfg);

/* Makes sg_guard_lsn exactly the addresses of ls[0..n) with their ports.
 * Stale addresses are deleted after the wanted ones are written, so a port
 * that stays served is never missing. 0 or -errno (the map may then hold a
 * mix; the next call repairs it). */
int guard_bpf_set_listeners(const struct guard_bpf *b, const struct guard_listen *ls, size_t n);

/* Empties the SYN table: every source starts with a full burst. 0 or -errno. */
int guard_bpf_clear_syn(const struct guard_bpf *b);

/* Fills l from a bound socket address (AF_INET or AF_INET6). */
void guard_listen_from(const struct sockaddr_storage *ss, struct guard_listen *l);

/* Sums the per-CPU counters into out[SG_GUARD_R_MAX]. 0 or -errno. */
int guard_bpf_read_counters(const struct guard_bpf *b, uint64_t *out);

#endif
