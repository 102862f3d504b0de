// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_pattern.c: the benchmark's byte-stream checker catches what a broken proxy
 * does (a corrupted, dropped, duplicated or reordered byte, another connection's
 * bytes) at the offset where it happened, in any chunking, across the table's wrap. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

#define STREAM_LEN (2 * PATTERN_PERIOD + 4321)

static struct pattern *pat;
static uint8_t *stream;

static void setup(void)
{
	struct pattern_stream s;

	pat = malloc(sizeof(*pat));
	stream = malloc(STREAM_LEN + 1);
	cr_assert(pat && stream);
	pattern_init(pat);
	pattern_stream_init(&s, 42);
	pattern_fill(pat, &s, stream, STREAM_LEN);
	cr_assert_eq(s.offset, STREAM_LEN);
}

static void teardown(void)
{
	free(pat);
	free(stream);
}

/* Checks buf in chunks of `chunk` bytes; returns the offset of the first mismatch
 * or UINT64_MAX when every byte matched. */
static uint64_t check_chunked(const uint8_t *buf, size_t len, size_t chunk, uint64_t seed)
{
	struct pattern_stream s;
	uint64_t bad;

	pattern_stream_init(&s, seed);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (!pattern_check(pat, &s, buf + off, n, &bad)) {
			cr_assert_eq(s.offset, off, "a failed check leaves the stream in place");
			return bad;
		}
	}
	cr_assert_eq(s.offset, len);
	return UINT64_MAX;
}

static const size_t chunks[] = {1, 7, 1448, 65536, 100000, STREAM_LEN};
/* Offsets near the start, the table's wrap for seed 42, and the end. */
static size_t probe_offsets(size_t *out)
{
	struct pattern_stream s;
	size_t wrap, n = 0;

	pattern_stream_init(&s, 42);
	wrap = PATTERN_PERIOD - s.phase;
	out[n++] = 0;
	out[n++] = 1;
	out[n++] = 4096;
	out[n++] = wrap - 1;
	out[n++] = wrap;
	out[n++] = wrap + 1;
	out[n++] = STREAM_LEN - 2;
	return n;
}

TestSuite(pattern, .init = setup, .fini = teardown);

Test(pattern, table_has_no_equal_neighbours_even_across_the_wrap)
{
	for (size_t i = 1; i < PATTERN_PERIOD; i++)
		cr_assert_neq(pat->block[i], pat->block[i - 1], "byte %zu", i);
	cr_assert_neq(pat->block[PATTERN_PERIOD - 1], pat->block[0]);
	cr_assert(!memcmp(pat->block + PATTERN_PERIOD, pat->block, PATTERN_SPAN_MAX));
}

Test(pattern, intact_stream_passes_in_every_chunking)
{
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		cr_assert_eq(check_chunked(stream, STREAM_LEN, chunks[i], 42), UINT64_MAX,
			     "chunk %zu", chunks[i]);
}

Test(pattern, spans_sent_piecewise_equal_the_filled_stream)
{
	struct pattern_stream s;
	size_t off = 0;

	pattern_stream_init(&s, 42);
	while (off < STREAM_LEN) {
		size_t want = STREAM_LEN - off < 5000 ? STREAM_LEN - off : 5000, n;
		const uint8_t *p = pattern_span(pat, &s, want, &n);

		cr_assert_gt(n, 0);
		cr_assert(!memcmp(p, stream + off, n), "offset %zu", off);
		pattern_advance(&s, n);
		off += n;
	}
}

Test(pattern, corrupted_byte_is_caught_at_its_offset)
{
	size_t offs[8], n = probe_offsets(offs);

	for (size_t k = 0; k < n; k++) {
		stream[offs[k]] ^= 0x01;
		for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
			cr_assert_eq(check_chunked(stream, STREAM_LEN, chunks[i], 42), offs[k],
				     "offset %zu, chunk %zu", offs[k], chunks[i]);
		stream[offs[k]] ^= 0x01;
	}
}

Test(pattern, dropped_byte_is_caught_at_its_offset)
{
	uint8_t *buf = malloc(STREAM_LEN);
	size_t offs[8], n = probe_offsets(offs);

	cr_assert(buf);
	for (size_t k = 0; k < n; k++) {
		size_t d = offs[k];

		memcpy(buf, stream, d);
		memcpy(buf + d, stream + d + 1, STREAM_LEN - d - 1);
		for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
			cr_assert_eq(check_chunked(buf, STREAM_LEN - 1, chunks[i], 42), d,
				     "dropped %zu, chunk %zu", d, chunks[i]);
	}
	free(buf);
}

Test(pattern, duplicated_byte_is_caught_right_after_the_original)
{
	uint8_t *buf = malloc(STREAM_LEN + 1);
	size_t offs[8], n = probe_offsets(offs);

	cr_assert(buf);
	for (size_t k = 0; k < n; k++) {
		size_t d = offs[k];

		memcpy(buf, stream, d + 1);
		memcpy(buf + d + 1, stream + d, STREAM_LEN - d);
		for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
			cr_assert_eq(check_chunked(buf, STREAM_LEN + 1, chunks[i], 42), d + 1,
				     "doubled %zu, chunk %zu", d, chunks[i]);
	}
	free(buf);
}

Test(pattern, swapped_segments_are_caught_in_the_first_one)
{
	uint8_t *buf = malloc(STREAM_LEN);
	const size_t seg = 1448, at = 10 * 1448;

	cr_assert(buf);
	memcpy(buf, stream, STREAM_LEN);
	memcpy(buf + at, stream + at + seg, seg);
	memcpy(buf + at + seg, stream + at, seg);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		uint64_t bad = check_chunked(buf, STREAM_LEN, chunks[i], 42);

		cr_assert(bad >= at && bad < at + seg, "chunk %zu: caught at %llu", chunks[i],
			  (unsigned long long)bad);
	}
	free(buf);
}

Test(pattern, another_streams_bytes_do_not_pass)
{
	/* The same bytes checked as another connection's (another seed) stream. */
	uint64_t bad = check_chunked(stream, 4096, 4096, 43);

	cr_assert_lt(bad, 8, "caught at %llu", (unsigned long long)bad);
}

Test(pattern, truncated_stream_passes_the_checker_so_counts_must_be_compared)
{
	/* Documented limit: a clean cut at the end is not a pattern error. */
	cr_assert_eq(check_chunked(stream, STREAM_LEN - 100, 1448, 42), UINT64_MAX);
}
