/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* maglev.h: Maglev consistent hashing (Eisenbud et al., NSDI 2016) with
 * weights. A lookup table of MAGLEV_TABLE_SIZE slots is filled from the
 * members' preference lists; each member's permutation comes from a hash of
 * its stable name (an endpoint's "address:port"), never from its position,
 * so a table rebuilt after a reload or after one member leaves maps almost
 * every key as before: only the keys of members that came or went move.
 * Pure: no I/O; one allocation per table. */
#ifndef SG_MAGLEV_H
#define SG_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#define MAGLEV_TABLE_SIZE 65537u /* prime, >> members: balance within ~1% */

struct maglev_member {
	const char *name; /* stable identity */
	uint32_t weight;  /* relative; 0: never chosen */
};

struct maglev {
	uint32_t *slots; /* member index per slot; UINT32_MAX when no member has weight */
	size_t n_members;
};

/* Builds the table for members[0..n). 0, -EINVAL (n > UINT32_MAX - 1) or -ENOMEM. */
int maglev_build(struct maglev *m, const struct maglev_member *members, size_t n);

/* The member for key, or UINT32_MAX when no member has weight. */
uint32_t maglev_lookup(const struct maglev *m, uint64_t key);

/* The k-th member for key in slot order after the first (k = 0 is
 * maglev_lookup()): where a retry goes when the preferred member is down,
 * still consistent for the same key. UINT32_MAX past the table's end. */
uint32_t maglev_lookup_nth(const struct maglev *m, uint64_t key, size_t k);

void maglev_free(struct maglev *m);

/* A 64-bit hash of bytes (stable across builds and hosts). */
uint64_t maglev_hash(const void *data, size_t len, uint64_t seed);

#endif
