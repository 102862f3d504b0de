/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* latency_hist.h: a log-linear latency histogram for the benchmark's
 * percentiles. Each power of two of nanoseconds is split into
 * LATENCY_HIST_SUB buckets, so a reported percentile is within 1/32 (3 %) of
 * the true value at any scale from 1 ns to 9 hours, in a fixed 10 KiB.
 * Pure: no I/O, no allocation. */
#ifndef SG_LATENCY_HIST_H
#define SG_LATENCY_HIST_H

#include <stdint.h>

#define LATENCY_HIST_SUB_BITS 5
#define LATENCY_HIST_SUB      (1u << LATENCY_HIST_SUB_BITS)
#define LATENCY_HIST_EXP      40 /* exponents kept: values from 2^45 ns on share the last bucket */
#define LATENCY_HIST_BUCKETS  ((LATENCY_HIST_EXP + 1) * LATENCY_HIST_SUB)

struct latency_hist {
	uint64_t count;
	uint64_t max_ns;
	uint64_t min_ns;
	uint64_t sum_ns;
	uint64_t buckets[LATENCY_HIST_BUCKETS];
};

/* Empties h. */
void latency_hist_init(struct latency_hist *h);

/* Counts one latency. */
void latency_hist_add(struct latency_hist *h, uint64_t ns);

/* Adds every value of src to dst (per-thread histograms into one). */
void latency_hist_merge(struct latency_hist *dst, const struct latency_hist *src);

/* The value at quantile q (0 < q <= 1): the upper bound of the bucket holding the
 * ceil(q * count)-th smallest value, capped by the exact maximum. 0 when empty. */
uint64_t latency_hist_quantile(const struct latency_hist *h, double q);

#endif
