/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* dns_cache.h: what each endpoint host name resolved to last. The agent's
 * resolver thread looks names up (dns_lookup.h); its loop records the answers
 * here and rebuilds the configuration from them (config_resolve_with()). A
 * failed lookup keeps the last good addresses: a DNS outage must not empty a
 * pool whose backends are still there. Pure: no lookups, no clock, no I/O. */
#ifndef SG_DNS_CACHE_H
#define SG_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/* Room for a resolver's reason ("Temporary failure in name resolution"). */
#define DNS_WHY_MAX 96

/* An address without a port: AF_INET or AF_INET6, port 0, everything but the
 * address (and an IPv6 scope) zeroed, so two equal addresses compare equal
 * byte for byte. */
struct dns_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* Sorts v[0..n) and drops duplicates; returns how many are left. */
size_t dns_addrs_normalize(struct dns_addr *v, size_t n);

/* True when the normalised sets a[0..na) and b[0..nb) are the same. */
bool dns_addrs_equal(const struct dns_addr *a, size_t na, const struct dns_addr *b, size_t nb);

/* Writes v[0..n) as "10.0.0.1,fd00::1" into buf (cut to fit, NUL-terminated);
 * "none" when n is 0. Returns buf. */
char *dns_addrs_format(const struct dns_addr *v, size_t n, char *buf, size_t len);

/* Fills *out from a socket address, dropping its port. False for a family
 * other than AF_INET and AF_INET6. */
bool dns_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct dns_addr *out);

/* One name's state. */
struct dns_entry {
	char *name;
	struct dns_addr *addrs; /* normalised: the last successful answer */
	size_t n_addrs;
	bool has_answer;       /* some lookup succeeded; addrs is what it said */
	bool is_failing;       /* the latest lookup failed (addrs, if any, are older) */
	char why[DNS_WHY_MAX]; /* is_failing: the resolver's reason */
};

enum dns_update {
	DNS_UPDATE_SAME = 0,  /* the answer is the one already known */
	DNS_UPDATE_CHANGED,   /* a first answer, or a different set of addresses */
	DNS_UPDATE_FAILED,    /* the lookup failed; the last answer (if any) stays */
	DNS_UPDATE_RECOVERED, /* it succeeded after failing, with the same addresses */
	DNS_UPDATE_MAX
};

struct dns_cache;

/* NULL on ENOMEM. */
struct dns_cache *dns_cache_new(void);

/* NULL-tolerant. */
void dns_cache_free(struct dns_cache *c);

/* The entry of name, or NULL. Valid until the next call that changes c. */
const struct dns_entry *dns_cache_find(const struct dns_cache *c, const char *name);

/* Records a lookup of name: a success with addrs[0..n) (any order, duplicates
 * allowed, n >= 1), or a failure when why is not NULL (addrs ignored). Adds
 * the name if new. Sets *out to what changed. 0 or -ENOMEM (c unchanged). */
int dns_cache_update(struct dns_cache *c, const char *name, const struct dns_addr *addrs, size_t n,
		     const char *why, enum dns_update *out);

/* Records the addresses config c resolved its endpoint names to (each name's
 * resolved endpoints, all ports), as answers already known: the agent's first
 * configuration is resolved before its loop starts. Names c did not resolve
 * are not added. 0 or -ENOMEM. */
int dns_cache_seed(struct dns_cache *c, const struct config *cfg);

/* Forgets every name not in names[0..n): the configuration no longer uses it. */
void dns_cache_retain(struct dns_cache *c, const char *const *names, size_t n);

/* Entries in name order: count, then the i-th (i < count). */
size_t dns_cache_count(const struct dns_cache *c);
const struct dns_entry *dns_cache_at(const struct dns_cache *c, size_t i);

/* A struct cfg_lookup (config.h) answering from c: a name with an answer gets
 * its addresses (also while failing), a name that never resolved fails with
 * its reason, a name not in c is pending. */
void dns_cache_lookup(const struct dns_cache *c, struct cfg_lookup *out);

#endif
