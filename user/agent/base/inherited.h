/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* inherited.h: what a --takeover agent received from the agent it replaces
 * (control/takeover.h): listening sockets, the metrics socket and the
 * guard's XDP links, each with what identifies it. The parts that would
 * otherwise bind or attach (listeners.c, metrics.c, guard.c) claim their own
 * here first: a socket that is still the same open file never stops
 * listening, so no connection meets a closed port during the upgrade. What
 * no part claims is closed once startup is done. */
#ifndef SG_INHERITED_H
#define SG_INHERITED_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum inherited_kind {
	INHERITED_LISTENER = 1,
	INHERITED_METRICS,
	INHERITED_GUARD_LINK,
};

struct inherited_item {
	uint32_t kind;	   /* enum inherited_kind */
	uint32_t addr_len; /* sockets: their bound address */
	struct sockaddr_storage addr;
	int32_t ifindex;     /* guard links: the interface */
	uint32_t is_generic; /* ...attached in generic (skb) mode */
	char ifname[IF_NAMESIZE];
};

struct inherited {
	struct inherited_item *items;
	int *fds; /* -1 once claimed or closed */
	size_t n, cap;
	int from_fd; /* the connection to the agent they came from; -1: none */
};

/* Adds item with its descriptor (owned from now on). 0 or -ENOMEM (fd is
 * then closed). */
int inherited_add(struct inherited *inh, const struct inherited_item *item, int fd);

/* The socket of kind bound to addr, removed from inh (the caller owns it),
 * or -1. Addresses compare by family, address, port (and scope for IPv6). */
int inherited_take_sock(struct inherited *inh, enum inherited_kind kind,
			const struct sockaddr *addr, socklen_t len);

/* The guard's link on ifindex, removed from inh, or -1. */
int inherited_take_link(struct inherited *inh, int ifindex, bool *is_generic);

/* Closes from_fd and what was not taken (a listener the new configuration dropped:
 * closed here and by the old agent, it stops listening, as a reload would),
 * and frees inh. NULL-tolerant. */
void inherited_free(struct inherited *inh);

/* True when a and b name the same local address. */
bool inherited_same_addr(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
			 socklen_t blen);

#endif
