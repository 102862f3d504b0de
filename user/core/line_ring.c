// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* line_ring.c: see line_ring.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "line_ring.h"

int line_ring_init(struct line_ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	if (cap == 0)
		return -EINVAL;
	/* Untouched pages of a large ring cost no resident memory. */
	r->buf = malloc(cap);
	if (!r->buf)
		return -ENOMEM;
	r->cap = cap;
	return 0;
}

void line_ring_fini(struct line_ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

bool line_ring_push(struct line_ring *r, const char *line, size_t n)
{
	size_t tail, first;

	if (n > r->cap - r->len)
		return false;
	tail = (r->head + r->len) % r->cap;
	first = r->cap - tail < n ? r->cap - tail : n;
	memcpy(r->buf + tail, line, first);
	memcpy(r->buf, line + first, n - first);
	r->len += n;
	return true;
}

size_t line_ring_peek(const struct line_ring *r, const char **out)
{
	*out = r->buf + r->head;
	return r->cap - r->head < r->len ? r->cap - r->head : r->len;
}

void line_ring_consume(struct line_ring *r, size_t n)
{
	if (n > r->len)
		n = r->len;
	r->len -= n;
	r->head = r->len ? (r->head + n) % r->cap : 0;
}
