// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pattern.c: the benchmark byte stream of pattern.h. Generation and checking
 * are memcpy and memcmp against the table, so a client verifies every byte at
 * memory speed and the checker never limits the throughput it measures. */
#include <string.h>

#include "pattern.h"

/* splitmix64: a fixed, well-mixed sequence from a constant; not for secrets. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void pattern_init(struct pattern *p)
{
	uint64_t state = 0x736f636b67617465ull; /* "sockgate" */
	uint8_t prev = 0;

	for (size_t i = 0; i < PATTERN_PERIOD; i++) {
		uint8_t b;

		/* Redraw equal neighbours, and keep the wrap from last to first byte
		 * unequal too, so one byte lost or doubled is seen where it happened. */
		do {
			b = (uint8_t)splitmix64(&state);
		} while ((i > 0 && b == prev) || (i == PATTERN_PERIOD - 1 && b == p->block[0]));
		p->block[i] = b;
		prev = b;
	}
	memcpy(p->block + PATTERN_PERIOD, p->block, PATTERN_SPAN_MAX);
}

void pattern_stream_init(struct pattern_stream *s, uint64_t seed)
{
	uint64_t state = seed;

	s->phase = (uint32_t)(splitmix64(&state) % PATTERN_PERIOD);
	s->offset = 0;
}

static size_t position(const struct pattern_stream *s)
{
	return (size_t)((s->phase + s->offset % PATTERN_PERIOD) % PATTERN_PERIOD);
}

const uint8_t *pattern_span(const struct pattern *p, const struct pattern_stream *s, size_t want,
			    size_t *len)
{
	*len = want < PATTERN_SPAN_MAX ? want : PATTERN_SPAN_MAX;
	return p->block + position(s);
}

void pattern_advance(struct pattern_stream *s, uint64_t n)
{
	s->offset += n;
}

void pattern_fill(const struct pattern *p, struct pattern_stream *s, uint8_t *buf, size_t len)
{
	while (len > 0) {
		size_t n;
		const uint8_t *src = pattern_span(p, s, len, &n);

		memcpy(buf, src, n);
		pattern_advance(s, n);
		buf += n;
		len -= n;
	}
}

bool pattern_check(const struct pattern *p, struct pattern_stream *s, const uint8_t *buf,
		   size_t len, uint64_t *bad_offset)
{
	struct pattern_stream at = *s;

	while (len > 0) {
		size_t n;
		const uint8_t *want = pattern_span(p, &at, len, &n);

		if (memcmp(buf, want, n) != 0) {
			size_t i = 0;

			while (buf[i] == want[i])
				i++;
			*bad_offset = at.offset + i;
			return false;
		}
		pattern_advance(&at, n);
		buf += n;
		len -= n;
	}
	*s = at;
	return true;
}
