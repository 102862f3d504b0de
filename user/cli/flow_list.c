// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flow_list.c: see flow_list.h. The map is an LRU the agent and the kernel
 * change while we walk it, so the walk is bounded, tolerates entries that
 * vanish between next_key and lookup, and drops the duplicates a restarted
 * walk can produce. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/bpf.h>

#include "flow_list.h"

static int list_push(struct flow_list *l, __u64 id, const struct sg_flow *f)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct flow_row *rows = realloc(l->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		l->rows = rows;
		l->cap = cap;
	}
	l->rows[l->n].id = id;
	l->rows[l->n].f = *f;
	l->n++;
	return 0;
}

/* Appends every entry of the map to l. A walk whose current key was evicted
 * restarts from the first key, so the number of steps is capped. */
static int walk(int fd, __u32 max_entries, struct flow_list *l)
{
	size_t steps = 0, max_steps = 2 * (size_t)max_entries + 16;
	__u64 key = 0, next;
	struct sg_flow f;
	bool has_key = false;
	int err;

	for (;;) {
		if (bpf_map_get_next_key(fd, has_key ? &key : NULL, &next) < 0) {
			err = -errno;
			return err == -ENOENT ? 0 : err; /* ENOENT: past the last key */
		}
		if (++steps > max_steps || l->n >= max_entries)
			return 0;
		key = next;
		has_key = true;
		if (bpf_map_lookup_elem(fd, &key, &f) < 0) {
			err = -errno;
			if (err == -ENOENT)
				continue; /* evicted or closed since next_key */
			return err;
		}
		err = list_push(l, key, &f);
		if (err)
			return err;
	}
}

static int by_id(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Most bytes first; the flow id breaks ties so the order is stable. */
static int by_bytes_desc(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;
	__u64 tx = flow_total_bytes(&x->f), ty = flow_total_bytes(&y->f);

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return by_id(a, b);
}

static void sort_unique(struct flow_list *l)
{
	size_t n = 0;

	if (l->n == 0)
		return;
	qsort(l->rows, l->n, sizeof(*l->rows), by_id);
	for (size_t i = 1; i < l->n; i++) {
		if (l->rows[i].id != l->rows[n].id)
			l->rows[++n] = l->rows[i];
	}
	l->n = n + 1;
}

int flow_list_read(int fd, __u32 max_entries, struct flow_list *l)
{
	int err;

	l->n = 0;
	err = walk(fd, max_entries, l);
	sort_unique(l);
	return err;
}

void flow_list_sort_by_bytes(struct flow_list *l)
{
	if (l->n)
		qsort(l->rows, l->n, sizeof(*l->rows), by_bytes_desc);
}

__u64 flow_total_bytes(const struct sg_flow *f)
{
	return f->bytes[SG_DIR_TO_BACKEND] + f->bytes[SG_DIR_TO_CLIENT];
}

__u64 flow_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns() */
	return (__u64)ts.tv_sec * NS_PER_S + (__u64)ts.tv_nsec;
}

void flow_list_free(struct flow_list *l)
{
	free(l->rows);
	l->rows = NULL;
	l->n = l->cap = 0;
}
