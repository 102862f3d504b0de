// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* fuzz_clienthello.c: libFuzzer target for the ClientHello parser. Beyond
 * "no crash", it checks that the answer does not depend on how the stream is
 * cut (whole, chunked, bytewise), that a prefix never disagrees with the whole,
 * and that an OK result is self-consistent; any difference aborts. Seed it
 * with the .bin files of tests/data/clienthellos. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clienthello.h"

#define BYTEWISE_MAX 4096

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 0x100000001b3ULL;
	return h | 1;
}

/* Feeds data in chunks of 1..max_chunk bytes drawn from seed; max_chunk 1 is
 * bytewise. */
static enum chello_result feed_chunked(struct chello_parser *p, const uint8_t *data, size_t size,
				       size_t max_chunk, uint64_t seed)
{
	enum chello_result res = CHELLO_NEED_MORE;
	size_t off = 0;

	chello_init(p);
	while (off < size) {
		size_t n = 1 + next_rand(&seed) % max_chunk;
		enum chello_result prev = res;

		if (n > size - off)
			n = size - off;
		res = chello_feed(p, data + off, n);
		/* A final answer must stay final. */
		if (prev != CHELLO_NEED_MORE && res != prev)
			abort();
		off += n;
	}
	return res;
}

static void check_same(const struct chello_parser *a, const struct chello_parser *b)
{
	const struct chello_info *x = &a->info, *y = &b->info;

	if (a->result != b->result || a->reason != b->reason)
		abort();
	if (a->result != CHELLO_OK)
		return;
	if (x->has_sni != y->has_sni || x->has_alpn != y->has_alpn ||
	    x->alpn_truncated != y->alpn_truncated ||
	    x->versions_truncated != y->versions_truncated ||
	    x->legacy_version != y->legacy_version || x->n_alpn != y->n_alpn ||
	    x->alpn_len != y->alpn_len || x->n_versions != y->n_versions ||
	    x->n_records != y->n_records || x->hello_end != y->hello_end)
		abort();
	if (x->has_sni && (x->sni_len != y->sni_len || strcmp(x->sni, y->sni)))
		abort();
	if (memcmp(x->alpn, y->alpn, x->alpn_len) ||
	    memcmp(x->versions, y->versions, x->n_versions * sizeof(x->versions[0])))
		abort();
}

/* What an OK result promises its users: a clean name, a walkable ALPN list. */
static void check_ok_invariants(const struct chello_parser *p, size_t size)
{
	const struct chello_info *info = &p->info;
	const uint8_t *name;
	size_t name_len, off, n = 0, walked = 0;
	char again[HOSTNAME_MAX + 1];
	size_t again_len;

	if (p->reason != CHELLO_REASON_NONE || info->hello_end > size || info->hello_end < 9 ||
	    info->n_records == 0)
		abort();
	if (info->has_sni) {
		if (info->sni_len == 0 || info->sni_len != strlen(info->sni) ||
		    hostname_normalize(info->sni, info->sni_len, again, &again_len) !=
			    HOSTNAME_OK ||
		    strcmp(again, info->sni))
			abort();
	}
	for_each_alpn (name, name_len, info->alpn, info->alpn_len, off) {
		walked += 1 + name_len;
		n++;
	}
	if (walked != info->alpn_len || n != info->n_alpn || info->has_alpn != (n > 0) ||
	    info->alpn_len > CHELLO_ALPN_MAX || info->n_versions > CHELLO_VERSIONS_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chello_parser whole, other;
	uint64_t seed = fnv1a(data, size);
	size_t cut;

	chello_init(&whole);
	chello_feed(&whole, data, size);
	if (whole.result == CHELLO_OK)
		check_ok_invariants(&whole, size);
	if (whole.result == CHELLO_ERROR && whole.reason == CHELLO_REASON_NONE)
		abort();

	feed_chunked(&other, data, size, 1 + seed % 64, seed);
	check_same(&whole, &other);
	feed_chunked(&other, data, size, 1 + seed % 4096, seed >> 7);
	check_same(&whole, &other);
	if (size < BYTEWISE_MAX) {
		feed_chunked(&other, data, size, 1, seed);
		check_same(&whole, &other);
	}

	/* A prefix may only lack the answer, never give another one; OK arrives
	 * exactly when its last byte does. */
	if (size == 0)
		return 0;
	cut = (size_t)(next_rand(&seed) % size);
	if (whole.result == CHELLO_OK && whole.info.hello_end > 0)
		cut = (seed & 1) ? whole.info.hello_end : whole.info.hello_end - 1;
	chello_init(&other);
	chello_feed(&other, data, cut);
	if (other.result != CHELLO_NEED_MORE) {
		check_same(&whole, &other);
	} else if (whole.result == CHELLO_OK && cut >= whole.info.hello_end) {
		abort();
	}
	if (whole.result == CHELLO_OK && cut < whole.info.hello_end &&
	    other.result != CHELLO_NEED_MORE)
		abort();
	return 0;
}
