// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* histogram.c: see histogram.h. Buckets are kept per range and summed only
 * when written, so observing is one comparison walk and one increment. */
#include <errno.h>
#include <string.h>

#include "histogram.h"
#include "prom.h"

size_t histogram_bucket(const double *bounds, size_t n_bounds, double v)
{
	size_t i = 0;

	/* A NaN compares false with every bound and lands in +Inf, which is
	 * where Prometheus clients put it too. */
	while (i < n_bounds && !(v <= bounds[i]))
		i++;
	return i;
}

int histogram_init(struct histogram *h, const double *bounds, size_t n_bounds)
{
	if (n_bounds > HISTOGRAM_MAX_BOUNDS)
		return -EINVAL;
	for (size_t i = 1; i < n_bounds; i++) {
		if (!(bounds[i - 1] < bounds[i]))
			return -EINVAL;
	}
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->n_bounds = n_bounds;
	return 0;
}

void histogram_observe(struct histogram *h, double v)
{
	h->counts[histogram_bucket(h->bounds, h->n_bounds, v)]++;
	h->count++;
	h->sum += v;
}

/* name + suffix and the label set, braces left out when it is empty (the
 * _bucket lines always add le). */
static void write_series(FILE *f, const char *name, const char *suffix, const char *const *names,
			 const char *const *values, size_t n, const char *le)
{
	fprintf(f, "%s%s", name, suffix);
	if (!n && !le)
		return;
	fputc('{', f);
	prom_write_labels(f, names, values, n);
	if (le)
		fprintf(f, "%sle=\"%s\"", n ? "," : "", le);
	fputc('}', f);
}

void histogram_write(const struct histogram *h, FILE *f, const char *name,
		     const char *const *label_names, const char *const *label_values,
		     size_t n_labels)
{
	uint64_t cumulative = 0;
	char le[32];

	for (size_t i = 0; i <= h->n_bounds; i++) {
		cumulative += h->counts[i];
		if (i < h->n_bounds)
			snprintf(le, sizeof(le), "%.15g", h->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		write_series(f, name, "_bucket", label_names, label_values, n_labels, le);
		fprintf(f, " %llu\n", (unsigned long long)cumulative);
	}
	write_series(f, name, "_sum", label_names, label_values, n_labels, NULL);
	fputc(' ', f);
	prom_write_value(f, h->sum);
	fputc('\n', f);
	write_series(f, name, "_count", label_names, label_values, n_labels, NULL);
	fprintf(f, " %llu\n", (unsigned long long)h->count);
}
