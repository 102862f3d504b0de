// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* series.c: see series.h. Each series is one allocation (header, payload,
 * label strings), found through a chained hash sized for the limit at
 * creation, so a lookup never rehashes and payload addresses stay put. */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"

struct series {
	struct series *next; /* hash chain */
	uint64_t hash;
	const char *values[SERIES_MAX_LABELS];
	alignas(max_align_t) unsigned char payload[];
};

struct series_table {
	size_t n_labels, payload_bytes, max_series;
	struct series **buckets;
	size_t n_buckets;      /* power of two */
	struct series **order; /* insertion order, max_series + 1 slots */
	size_t n_series;
	struct series *other; /* the overflow series, once used */
};

static uint64_t hash_values(const char *const *values, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		/* The NUL is hashed too, so ("ab","c") and ("a","bc") differ. */
		for (const unsigned char *p = (const unsigned char *)values[i];; p++) {
			h = (h ^ *p) * 1099511628211ull;
			if (!*p)
				break;
		}
	}
	return h;
}

struct series_table *series_table_new(size_t n_labels, size_t payload_bytes, size_t max_series)
{
	struct series_table *t;

	if (n_labels == 0 || n_labels > SERIES_MAX_LABELS || max_series == 0 ||
	    max_series > (SIZE_MAX >> 4))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->n_labels = n_labels;
	t->payload_bytes = payload_bytes;
	t->max_series = max_series;
	t->n_buckets = 16;
	while (t->n_buckets < max_series + 1)
		t->n_buckets <<= 1;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	t->order = calloc(max_series + 1, sizeof(*t->order));
	if (!t->buckets || !t->order) {
		series_table_free(t);
		return NULL;
	}
	return t;
}

void series_table_free(struct series_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_series; i++)
		free(t->order[i]);
	free(t->order);
	free(t->buckets);
	free(t);
}

static struct series *find(const struct series_table *t, const char *const *values, uint64_t h)
{
	for (struct series *s = t->buckets[h & (t->n_buckets - 1)]; s; s = s->next) {
		size_t i = 0;

		if (s->hash != h)
			continue;
		while (i < t->n_labels && strcmp(s->values[i], values[i]) == 0)
			i++;
		if (i == t->n_labels)
			return s;
	}
	return NULL;
}

static struct series *add(struct series_table *t, const char *const *values, uint64_t h)
{
	size_t len[SERIES_MAX_LABELS], strings = 0;
	struct series *s;
	char *p;

	for (size_t i = 0; i < t->n_labels; i++) {
		len[i] = strlen(values[i]) + 1;
		strings += len[i];
	}
	s = calloc(1, sizeof(*s) + t->payload_bytes + strings);
	if (!s)
		return NULL;
	p = (char *)s->payload + t->payload_bytes;
	for (size_t i = 0; i < t->n_labels; i++) {
		memcpy(p, values[i], len[i]);
		s->values[i] = p;
		p += len[i];
	}
	s->hash = h;
	s->next = t->buckets[h & (t->n_buckets - 1)];
	t->buckets[h & (t->n_buckets - 1)] = s;
	t->order[t->n_series++] = s;
	return s;
}

void *series_table_find(const struct series_table *t, const char *const *values)
{
	struct series *s = find(t, values, hash_values(values, t->n_labels));

	return s ? s->payload : NULL;
}

void *series_table_get(struct series_table *t, const char *const *values)
{
	const char *other[SERIES_MAX_LABELS];
	uint64_t h = hash_values(values, t->n_labels);
	struct series *s = find(t, values, h);

	if (s)
		return s->payload;
	if (t->n_series - (t->other ? 1 : 0) < t->max_series) {
		s = add(t, values, h);
		return s ? s->payload : NULL;
	}
	if (!t->other) {
		for (size_t i = 0; i < t->n_labels; i++)
			other[i] = SERIES_OTHER;
		/* A label set spelt all SERIES_OTHER by the caller is this one. */
		h = hash_values(other, t->n_labels);
		t->other = find(t, other, h);
		if (!t->other)
			t->other = add(t, other, h);
	}
	return t->other ? t->other->payload : NULL;
}

size_t series_table_count(const struct series_table *t)
{
	return t->n_series;
}

void *series_table_at(const struct series_table *t, size_t i, const char *const **values)
{
	*values = t->order[i]->values;
	return t->order[i]->payload;
}
