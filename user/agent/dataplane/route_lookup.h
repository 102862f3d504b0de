/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* route_lookup.h: which interface the kernel would send a packet to an
 * address through (what `ip route get ADDR` prints), by one rtnetlink
 * request. The express dataplane attaches its program there and sends the
 * other way's packets out of it. */
#ifndef SG_ROUTE_LOOKUP_H
#define SG_ROUTE_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

struct route_answer {
	int oif;       /* output interface index */
	bool is_local; /* the address is the host's own (routed through lo) */
};

/* addr: 16 bytes, IPv4 as v4-mapped IPv6. 0 or -errno. */
int route_lookup(const uint8_t addr[16], struct route_answer *out);

#endif
