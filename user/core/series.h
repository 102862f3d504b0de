/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* series.h: a bounded table of metric label sets (tuples of label values),
 * each with a zeroed payload the caller counts in (a counter, an array of
 * counters, a histogram). Label values are copied, so a series outlives the
 * configuration that named it: counters stay monotonic across reloads. The
 * table never grows past its limit plus one: once full, new label sets are
 * counted in the series whose every value is SERIES_OTHER. Pure. */
#ifndef SG_SERIES_H
#define SG_SERIES_H

#include <stddef.h>

#define SERIES_MAX_LABELS 4
#define SERIES_OTHER	  "__other__"

struct series_table;

/* A table of series with n_labels (1..SERIES_MAX_LABELS) values each and a
 * payload of payload_bytes (aligned for any type), holding at most
 * max_series (>= 1) label sets besides the SERIES_OTHER one. NULL on EINVAL
 * or ENOMEM. */
struct series_table *series_table_new(size_t n_labels, size_t payload_bytes, size_t max_series);

/* Frees t and every payload. NULL-tolerant. */
void series_table_free(struct series_table *t);

/* The payload of the series labelled values[0..n_labels), added (zeroed) if
 * new; when the table is full, the payload of the SERIES_OTHER series. A
 * payload keeps its address until series_table_free(). NULL only on ENOMEM. */
void *series_table_get(struct series_table *t, const char *const *values);

/* The payload of the series labelled values[0..n_labels), or NULL when the
 * table has no such series; never adds one. */
void *series_table_find(const struct series_table *t, const char *const *values);

/* Series held, SERIES_OTHER included once it exists. */
size_t series_table_count(const struct series_table *t);

/* The i-th series (i < count) in the order they were added: sets *values to
 * its n_labels label values and returns its payload. */
void *series_table_at(const struct series_table *t, size_t i, const char *const **values);

#endif
