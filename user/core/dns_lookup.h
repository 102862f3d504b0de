/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* dns_lookup.h: a host name to its addresses with the system resolver
 * (getaddrinfo: /etc/hosts, DNS, as nsswitch.conf says). Blocking, for as
 * long as the resolver's timeouts allow: the agent calls it from its resolver
 * thread, and before its event loop starts, never on the loop. */
#ifndef SG_DNS_LOOKUP_H
#define SG_DNS_LOOKUP_H

#include <stddef.h>

#include "dns_cache.h"

/* Looks host up. 0 with *out (malloc()ed, dns_addrs_normalize()d) holding
 * *n >= 1 IPv4 and IPv6 addresses; -ENOENT when there is none, with the
 * resolver's reason in why (names under ".invalid" fail at once, RFC 6761:
 * glibc would ask DNS and wait for its timeout); -ENOMEM. */
int dns_lookup(const char *host, struct dns_addr **out, size_t *n, char why[DNS_WHY_MAX]);

#endif
