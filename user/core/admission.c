// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* admission.c: see admission.h. The source table is a chained hash with one
 * small node per address that has connections open, freed at zero, so its
 * memory follows the number of distinct clients connected now. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"

uint64_t admission_reserve(uint64_t fd_limit)
{
	uint64_t r = fd_limit / 8;

	if (r < ADMISSION_RESERVE_MIN)
		r = ADMISSION_RESERVE_MIN;
	if (r > ADMISSION_RESERVE_MAX)
		r = ADMISSION_RESERVE_MAX;
	return r;
}

uint32_t admission_default_max(uint64_t fd_limit, unsigned fds_per_conn)
{
	uint64_t reserve = admission_reserve(fd_limit), n;

	if (fds_per_conn == 0)
		fds_per_conn = 1;
	if (fd_limit <= reserve + fds_per_conn)
		return 1;
	n = (fd_limit - reserve) / fds_per_conn;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

struct src_key {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

struct src_node {
	struct src_node *next;
	struct src_key key;
	uint32_t count;
};

struct src_table {
	struct src_node *buckets[SRC_TABLE_BUCKETS];
	size_t size;
};

static bool key_of(const struct sockaddr_storage *ss, struct src_key *k)
{
	memset(k, 0, sizeof(*k));
	if (ss->ss_family == AF_INET) {
		k->family = AF_INET;
		memcpy(k->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		/* One client, one count, whichever socket family it came in on. */
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			k->family = AF_INET;
			memcpy(k->addr, &a->s6_addr[12], 4);
		} else {
			k->family = AF_INET6;
			memcpy(k->addr, a, 16);
		}
		return true;
	}
	return false;
}

/* FNV-1a: the addresses are the clients', so no cheap structure to exploit
 * beyond what a chain absorbs; chains stay short at the table's sizes. */
static size_t bucket_of(const struct src_key *k)
{
	uint64_t h = 1469598103934665603ull;

	h = (h ^ k->family) * 1099511628211ull;
	for (size_t i = 0; i < sizeof(k->addr); i++)
		h = (h ^ k->addr[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 32)) & (SRC_TABLE_BUCKETS - 1);
}

static struct src_node **find(struct src_table *t, const struct src_key *k)
{
	struct src_node **pp = &t->buckets[bucket_of(k)];

	while (*pp && memcmp(&(*pp)->key, k, sizeof(*k)) != 0)
		pp = &(*pp)->next;
	return pp;
}

struct src_table *src_table_new(void)
{
	return calloc(1, sizeof(struct src_table));
}

void src_table_free(struct src_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < SRC_TABLE_BUCKETS; i++) {
		while (t->buckets[i]) {
			struct src_node *n = t->buckets[i];

			t->buckets[i] = n->next;
			free(n);
		}
	}
	free(t);
}

uint32_t src_table_get(const struct src_table *t, const struct sockaddr_storage *addr)
{
	struct src_key k;
	struct src_node **pp;

	if (!key_of(addr, &k))
		return 0;
	pp = find((struct src_table *)t, &k);
	return *pp ? (*pp)->count : 0;
}

int src_table_inc(struct src_table *t, const struct sockaddr_storage *addr, uint32_t *count)
{
	struct src_key k;
	struct src_node **pp;

	if (!key_of(addr, &k))
		return -EAFNOSUPPORT;
	pp = find(t, &k);
	if (!*pp) {
		struct src_node *n = calloc(1, sizeof(*n));

		if (!n)
			return -ENOMEM;
		n->key = k;
		*pp = n;
		t->size++;
	}
	if ((*pp)->count < UINT32_MAX)
		(*pp)->count++;
	*count = (*pp)->count;
	return 0;
}

void src_table_dec(struct src_table *t, const struct sockaddr_storage *addr)
{
	struct src_key k;
	struct src_node **pp, *n;

	if (!key_of(addr, &k))
		return;
	pp = find(t, &k);
	n = *pp;
	if (!n)
		return;
	if (--n->count == 0) {
		*pp = n->next;
		free(n);
		t->size--;
	}
}

size_t src_table_size(const struct src_table *t)
{
	return t->size;
}
