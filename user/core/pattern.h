/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pattern.h: the deterministic byte stream the benchmark sends through a proxy,
 * and its checker. Byte o of a stream is block[(phase + o) mod PATTERN_PERIOD],
 * where the block is a fixed pseudo-random table in which no byte equals its
 * neighbour: a single dropped or duplicated byte therefore mismatches at its
 * own offset, and a reordered or corrupted span mismatches within it. Streams
 * differ by their phase, so bytes of another connection or direction do not
 * match either. Exact byte counts, which catch a whole-period loss, are the
 * protocol's job. Pure: no I/O, no allocation; the table is the caller's. */
#ifndef SG_PATTERN_H
#define SG_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A prime, so no segment, page or buffer size is a multiple of it. */
#define PATTERN_PERIOD 262139u
/* Longest span pattern_span() returns: the table repeats its head this far. */
#define PATTERN_SPAN_MAX 65536u

/* The shared table (320 KiB): fill it once with pattern_init(), then share it
 * read-only between threads. */
struct pattern {
	uint8_t block[PATTERN_PERIOD + PATTERN_SPAN_MAX];
};

/* One direction of one connection: where the stream starts and how far it is. */
struct pattern_stream {
	uint32_t phase;	 /* 0 .. PATTERN_PERIOD-1 */
	uint64_t offset; /* bytes produced or checked so far */
};

/* Fills p; the same on every host and every run. */
void pattern_init(struct pattern *p);

/* Starts a stream at offset 0 with a phase derived from seed (any value). */
void pattern_stream_init(struct pattern_stream *s, uint64_t seed);

/* Returns a pointer to the stream's next min(want, PATTERN_SPAN_MAX) bytes inside
 * the table and stores that length in *len, without advancing: send from it, then
 * pattern_advance() by what was actually sent. */
const uint8_t *pattern_span(const struct pattern *p, const struct pattern_stream *s, size_t want,
			    size_t *len);

/* Moves the stream n bytes on. */
void pattern_advance(struct pattern_stream *s, uint64_t n);

/* Copies the stream's next len bytes into buf and advances. */
void pattern_fill(const struct pattern *p, struct pattern_stream *s, uint8_t *buf, size_t len);

/* Checks that buf[0..len) are the stream's next len bytes. On success advances
 * and returns true. On a mismatch returns false, stores the stream offset of the
 * first wrong byte in *bad_offset and leaves the stream where it was. */
bool pattern_check(const struct pattern *p, struct pattern_stream *s, const uint8_t *buf,
		   size_t len, uint64_t *bad_offset);

#endif
