// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* latency_hist.c: bucket k = exponent * SUB + the SUB_BITS bits below the top
 * set bit; values below SUB get one bucket each, so small values are exact. */
#include <string.h>

#include "latency_hist.h"

static unsigned bucket_of(uint64_t v)
{
	unsigned e, k;

	if (v < LATENCY_HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* top bit, >= SUB_BITS */
	k = (e - LATENCY_HIST_SUB_BITS + 1) * LATENCY_HIST_SUB +
	    (unsigned)((v >> (e - LATENCY_HIST_SUB_BITS)) & (LATENCY_HIST_SUB - 1));
	return k < LATENCY_HIST_BUCKETS ? k : LATENCY_HIST_BUCKETS - 1;
}

/* The largest value that falls in bucket k. */
static uint64_t bucket_top(unsigned k)
{
	unsigned e, sub;

	if (k < LATENCY_HIST_SUB)
		return k;
	e = k / LATENCY_HIST_SUB + LATENCY_HIST_SUB_BITS - 1;
	sub = k % LATENCY_HIST_SUB;
	return ((uint64_t)(LATENCY_HIST_SUB + sub + 1) << (e - LATENCY_HIST_SUB_BITS)) - 1;
}

void latency_hist_init(struct latency_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

void latency_hist_add(struct latency_hist *h, uint64_t ns)
{
	h->buckets[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
}

void latency_hist_merge(struct latency_hist *dst, const struct latency_hist *src)
{
	for (unsigned k = 0; k < LATENCY_HIST_BUCKETS; k++)
		dst->buckets[k] += src->buckets[k];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
}

uint64_t latency_hist_quantile(const struct latency_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++; /* ceil without libm */
	if (rank < 1)
		rank = 1;
	for (unsigned k = 0; k < LATENCY_HIST_BUCKETS; k++) {
		seen += h->buckets[k];
		if (seen >= rank) {
			/* The last bucket is open-ended: only the maximum bounds it. */
			uint64_t top = k == LATENCY_HIST_BUCKETS - 1 ? h->max_ns : bucket_top(k);

			return top < h->max_ns ? top : h->max_ns;
		}
	}
	return h->max_ns;
}
