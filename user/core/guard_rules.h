/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* guard_rules.h: the XDP guard's deny and allow lists as the agent keeps
 * them. Each CIDR records who wants it: the configuration, a runtime command
 * (`sockgate guard deny add`), or both. A reload replaces only the
 * configuration's part, so a runtime entry survives it until it is deleted or
 * the agent stops. The BPF tries hold exactly the CIDRs some origin wants:
 * every change tells the caller which CIDRs enter or leave them. Pure: no I/O,
 * no BPF. */
#ifndef SG_GUARD_RULES_H
#define SG_GUARD_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum guard_list { GUARD_DENY = 0, GUARD_ALLOW, GUARD_LIST_MAX };

#define GUARD_ORIGIN_CONFIG  (1u << 0)
#define GUARD_ORIGIN_RUNTIME (1u << 1)

/* Entries one list may hold, over both families: what the BPF tries hold
 * for one family (SG_GUARD_MAX_RULES), so neither can overflow. */
#define GUARD_RULES_MAX 65536

struct guard_rule {
	struct cfg_cidr cidr;
	unsigned origins; /* GUARD_ORIGIN_*; never 0 while listed */
	char *where;	  /* with GUARD_ORIGIN_CONFIG: "file:line:column" */
};

struct guard_rules {
	struct guard_rule *v[GUARD_LIST_MAX]; /* in order of arrival */
	size_t n[GUARD_LIST_MAX];
	size_t max; /* entries a list may hold; 0: GUARD_RULES_MAX (tests set less) */
};

/* A CIDR that enters (is_add) or leaves one of the BPF tries. */
struct guard_change {
	enum guard_list list;
	struct cfg_cidr cidr;
	bool is_add;
};

enum guard_rules_result {
	GUARD_RULES_OK = 0,
	GUARD_RULES_ALREADY,	 /* add: the runtime already has it */
	GUARD_RULES_NOT_FOUND,	 /* del: not in the list at all */
	GUARD_RULES_CONFIG_ONLY, /* del: only the configuration has it */
	GUARD_RULES_FULL,	 /* add: the list holds its maximum already */
	GUARD_RULES_NOMEM
};

/* "deny" or "allow". */
const char *guard_list_str(enum guard_list l);

/* One line of English for r ("already in the runtime deny list", ...). */
const char *guard_rules_result_str(enum guard_rules_result r);

/* Makes the configuration's part of both lists exactly g's (g NULL or not
 * set: empty). *changes gets a malloc'd array of what enters or leaves the
 * tries, deletions first (free it; *n_changes may be 0). 0 or -ENOMEM, and
 * then nothing changed. */
int guard_rules_set_config(struct guard_rules *r, const struct cfg_guard *g,
			   struct guard_change **changes, size_t *n_changes);

/* Adds c to list as a runtime entry. *enters is set when c was in neither
 * origin, so the caller must add it to the trie. */
enum guard_rules_result guard_rules_add(struct guard_rules *r, enum guard_list list,
					const struct cfg_cidr *c, bool *enters);

/* Removes the runtime entry c from list. *leaves is set when no origin wants
 * c any more, so the caller must delete it from the trie. */
enum guard_rules_result guard_rules_del(struct guard_rules *r, enum guard_list list,
					const struct cfg_cidr *c, bool *leaves);

/* The entry for c in list, or NULL. */
const struct guard_rule *guard_rules_find(const struct guard_rules *r, enum guard_list list,
					  const struct cfg_cidr *c);

enum guard_cidr_result {
	GUARD_CIDR_OK = 0,
	GUARD_CIDR_BAD,	      /* neither an address nor address/prefix */
	GUARD_CIDR_HOST_BITS, /* bits set past the prefix */
	GUARD_CIDR_V4_MAPPED  /* ::ffff:a.b.c.d: IPv4 packets never carry it */
};

/* Parses a deny or allow entry: an address (a full-length prefix) or a CIDR.
 * With GUARD_CIDR_HOST_BITS, *out is the network s probably meant. */
enum guard_cidr_result guard_parse_cidr(const char *s, struct cfg_cidr *out);

/* Formats c as "203.0.113.0/24" or "2001:db8::/32" into buf (64 bytes is
 * always enough); returns buf. */
char *guard_cidr_str(const struct cfg_cidr *c, char *buf, size_t len);

/* Frees everything and leaves r empty. */
void guard_rules_fini(struct guard_rules *r);

#endif
