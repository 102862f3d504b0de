// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* maglev.c: see maglev.h. Weights follow the paper's §3.4 extension: in each
 * round a member places entries in proportion to its weight, by a credit it
 * accumulates and spends, so shares follow weights while the permutation of
 * every member stays its own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"

#define EMPTY UINT32_MAX

uint64_t maglev_hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	/* FNV alone mixes the last bytes poorly; finish with splitmix64. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

struct perm {
	uint64_t offset, skip, next;
	uint64_t credit; /* in units of max_weight */
	uint32_t member; /* index into members[] */
};

static int by_name(const void *a, const void *b, void *arg)
{
	const struct maglev_member *members = arg;
	const struct perm *x = a, *y = b;

	return strcmp(members[x->member].name, members[y->member].name);
}

int maglev_build(struct maglev *m, const struct maglev_member *members, size_t n)
{
	const uint64_t size = MAGLEV_TABLE_SIZE;
	struct perm *perm;
	uint64_t max_weight = 0, filled = 0;

	memset(m, 0, sizeof(*m));
	if (n >= EMPTY)
		return -EINVAL;
	m->slots = malloc(size * sizeof(*m->slots));
	perm = calloc(n ? n : 1, sizeof(*perm));
	if (!m->slots || !perm) {
		free(perm);
		maglev_free(m);
		return -ENOMEM;
	}
	m->n_members = n;
	for (size_t i = 0; i < size; i++)
		m->slots[i] = EMPTY;
	/* Fill in name order: which member wins a contested slot must not depend
	 * on where the configuration happened to list it. */
	for (size_t i = 0; i < n; i++)
		perm[i].member = (uint32_t)i;
	qsort_r(perm, n, sizeof(*perm), by_name, (void *)members);
	for (size_t i = 0; i < n; i++) {
		const struct maglev_member *mb = &members[perm[i].member];
		size_t len = strlen(mb->name);

		perm[i].offset = maglev_hash(mb->name, len, 0) % size;
		perm[i].skip = maglev_hash(mb->name, len, 1) % (size - 1) + 1;
		if (mb->weight > max_weight)
			max_weight = mb->weight;
	}
	while (max_weight && filled < size) {
		for (size_t i = 0; i < n && filled < size; i++) {
			perm[i].credit += members[perm[i].member].weight;
			if (perm[i].credit < max_weight)
				continue;
			perm[i].credit -= max_weight;
			for (;;) {
				uint64_t slot =
					(perm[i].offset + perm[i].next * perm[i].skip) % size;

				perm[i].next++;
				if (m->slots[slot] == EMPTY) {
					m->slots[slot] = perm[i].member;
					filled++;
					break;
				}
			}
		}
	}
	free(perm);
	return 0;
}

uint32_t maglev_lookup_nth(const struct maglev *m, uint64_t key, size_t k)
{
	uint64_t slot = key % MAGLEV_TABLE_SIZE;

	if (!m->slots || k >= MAGLEV_TABLE_SIZE)
		return EMPTY;
	return m->slots[(slot + k) % MAGLEV_TABLE_SIZE];
}

uint32_t maglev_lookup(const struct maglev *m, uint64_t key)
{
	return maglev_lookup_nth(m, key, 0);
}

void maglev_free(struct maglev *m)
{
	free(m->slots);
	m->slots = NULL;
	m->n_members = 0;
}
