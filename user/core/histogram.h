/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* histogram.h: fixed-bucket histograms in the Prometheus sense (cumulative
 * "le" buckets, _sum, _count). Pure: the bounds are the caller's static
 * tables, nothing is allocated, and writing goes to a FILE the caller owns. */
#ifndef SG_HISTOGRAM_H
#define SG_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HISTOGRAM_MAX_BOUNDS 16

struct histogram {
	const double *bounds; /* ascending finite upper bounds; +Inf is implied */
	size_t n_bounds;
	/* Per bucket, not cumulative: counts[i] holds bounds[i-1] < v <= bounds[i],
	 * counts[n_bounds] the values above the last bound. */
	uint64_t counts[HISTOGRAM_MAX_BOUNDS + 1];
	uint64_t count;
	double sum;
};

/* The index of the bucket v falls in: the first i with v <= bounds[i] (the
 * "le" rule), or n_bounds when v exceeds them all (NaN included). */
size_t histogram_bucket(const double *bounds, size_t n_bounds, double v);

/* Empties h and gives it bounds (n_bounds <= HISTOGRAM_MAX_BOUNDS, ascending;
 * bounds must outlive h). Returns 0 or -EINVAL. */
int histogram_init(struct histogram *h, const double *bounds, size_t n_bounds);

/* Counts one value. */
void histogram_observe(struct histogram *h, double v);

/* Writes name_bucket{labels,le="..."} (cumulative, ending with le="+Inf"),
 * name_sum and name_count, with the n_labels label pairs first in each. */
void histogram_write(const struct histogram *h, FILE *f, const char *name,
		     const char *const *label_names, const char *const *label_values,
		     size_t n_labels);

#endif
