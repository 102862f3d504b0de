// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* inherited.c: see inherited.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inherited.h"
#include "log.h"

int inherited_add(struct inherited *inh, const struct inherited_item *item, int fd)
{
	if (inh->n == inh->cap) {
		size_t cap = inh->cap ? 2 * inh->cap : 16;
		struct inherited_item *items = realloc(inh->items, cap * sizeof(*items));
		int *fds;

		if (!items) {
			close(fd);
			return -ENOMEM;
		}
		inh->items = items;
		fds = realloc(inh->fds, cap * sizeof(*fds));
		if (!fds) {
			close(fd);
			return -ENOMEM;
		}
		inh->fds = fds;
		inh->cap = cap;
	}
	inh->items[inh->n] = *item;
	inh->fds[inh->n++] = fd;
	return 0;
}

/* Compared field by field: the two agents may be different builds, and the
 * padding of a sockaddr is nobody's promise. */
bool inherited_same_addr(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
			 socklen_t blen)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET && alen >= sizeof(struct sockaddr_in) &&
	    blen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6 && alen >= sizeof(struct sockaddr_in6) &&
	    blen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

int inherited_take_sock(struct inherited *inh, enum inherited_kind kind,
			const struct sockaddr *addr, socklen_t len)
{
	for (size_t i = 0; inh && i < inh->n; i++) {
		const struct inherited_item *it = &inh->items[i];
		int fd = inh->fds[i];

		if (fd < 0 || it->kind != (uint32_t)kind ||
		    !inherited_same_addr((const struct sockaddr *)&it->addr, it->addr_len, addr,
					 len))
			continue;
		inh->fds[i] = -1;
		return fd;
	}
	return -1;
}

int inherited_take_link(struct inherited *inh, int ifindex, bool *is_generic)
{
	for (size_t i = 0; inh && i < inh->n; i++) {
		const struct inherited_item *it = &inh->items[i];
		int fd = inh->fds[i];

		if (fd < 0 || it->kind != INHERITED_GUARD_LINK || it->ifindex != ifindex)
			continue;
		inh->fds[i] = -1;
		*is_generic = it->is_generic != 0;
		return fd;
	}
	return -1;
}

void inherited_free(struct inherited *inh)
{
	if (!inh)
		return;
	for (size_t i = 0; i < inh->n; i++) {
		if (inh->fds[i] < 0)
			continue;
		if (inh->items[i].kind == INHERITED_GUARD_LINK)
			log_info("takeover: the guard's link on %s is not in this configuration; "
				 "detached",
				 inh->items[i].ifname);
		close(inh->fds[i]);
	}
	if (inh->from_fd >= 0)
		close(inh->from_fd);
	free(inh->items);
	free(inh->fds);
	free(inh);
}
