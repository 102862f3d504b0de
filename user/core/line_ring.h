/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* line_ring.h: a fixed-size byte ring that takes whole lines or nothing, so
 * a full queue drops lines instead of growing or splitting them. One
 * producer and one consumer; the caller provides the locking. The consumer
 * may read a peeked span without the lock while the producer pushes: a push
 * only writes bytes outside the queued span. Pure. */
#ifndef SG_LINE_RING_H
#define SG_LINE_RING_H

#include <stdbool.h>
#include <stddef.h>

struct line_ring {
	char *buf;
	size_t cap;
	size_t head; /* offset of the oldest queued byte */
	size_t len;  /* bytes queued */
};

/* Allocates cap bytes. Returns 0 or -ENOMEM (or -EINVAL for cap 0). */
int line_ring_init(struct line_ring *r, size_t cap);

/* Frees the buffer. Idempotent. */
void line_ring_fini(struct line_ring *r);

/* Queues all n bytes of line, or nothing when fewer than n bytes are free.
 * Returns whether it was queued. */
bool line_ring_push(struct line_ring *r, const char *line, size_t n);

/* Sets *out to the oldest queued bytes and returns how many of them are
 * contiguous (0 when empty; the rest follows after a consume). */
size_t line_ring_peek(const struct line_ring *r, const char **out);

/* Removes the n oldest bytes (n <= what line_ring_peek() returned). */
void line_ring_consume(struct line_ring *r, size_t n);

#endif
