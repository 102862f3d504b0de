// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_clienthello.c: the ClientHello parser against the capture corpus in
 * every delivery split (whole, bytewise, every two-way split, random splits),
 * plus hand-built vectors for fragmentation, size limits and one input per
 * error reason. The manifest is read at run time, so new corpus rows are
 * tested without touching this file. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clienthello.h"

#define CORPUS_DIR   SG_TEST_DATA "/clienthellos/"
#define MIN_ROWS     80
#define N_RANDOM     6
#define MAX_CUTS     24
#define BUILD_MAX    (70 * 1024)
#define SNI_EXAMPLE  "sample.aliyun.com"
#define ALPN_EXAMPLE "\x02h2\x08http/1.1"

/* ---- corpus -------------------------------------------------------------- */

struct row {
	char *file;
	char *result;
	char *sni;
	char *alpn;
	size_t bytes;
	char *notes;
	uint8_t *data;
	size_t len;
};

struct corpus {
	struct row *rows;
	size_t n_rows;
	char *text;
};

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	cr_assert(f, "cannot open %s", path);
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap + 1);
			cr_assert(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static size_t count_bin_files(void)
{
	DIR *dir = opendir(CORPUS_DIR);
	struct dirent *de;
	size_t n = 0;

	cr_assert(dir, "cannot open %s", CORPUS_DIR);
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);

		if (l > 4 && !strcmp(de->d_name + l - 4, ".bin"))
			n++;
	}
	closedir(dir);
	return n;
}

/* Splits line at tabs into at most max fields; returns the field count. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
	size_t n = 0;

	while (n < max) {
		fields[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

static void corpus_load(struct corpus *c)
{
	size_t len, cap = 0;
	char *line, *save = NULL;
	bool header = true;

	memset(c, 0, sizeof(*c));
	c->text = (char *)read_all(CORPUS_DIR "MANIFEST.tsv", &len);
	for (line = strtok_r(c->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[7], path[512];
		struct row *r;

		if (header) {
			header = false;
			continue;
		}
		cr_assert_eq(split_tabs(line, f, 7), 7, "MANIFEST row %zu: not 7 columns",
			     c->n_rows + 2);
		if (c->n_rows == cap) {
			cap = cap ? cap * 2 : 128;
			c->rows = realloc(c->rows, cap * sizeof(*c->rows));
			cr_assert(c->rows);
		}
		r = &c->rows[c->n_rows++];
		r->file = f[0];
		r->result = f[2];
		r->sni = f[3];
		r->alpn = f[4];
		r->bytes = strtoul(f[5], NULL, 10);
		r->notes = f[6];
		snprintf(path, sizeof(path), "%s%s", CORPUS_DIR, r->file);
		r->data = read_all(path, &r->len);
		cr_assert_eq(r->len, r->bytes, "%s: %zu bytes on disk, MANIFEST says %zu", r->file,
			     r->len, r->bytes);
	}
	cr_assert_gt(c->n_rows, MIN_ROWS, "only %zu MANIFEST rows", c->n_rows);
	cr_assert_eq(c->n_rows, count_bin_files(), "MANIFEST rows and .bin files differ");
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n_rows; i++)
		free(c->rows[i].data);
	free(c->rows);
	free(c->text);
}

/* Feeds data in segments ending at the ascending offsets cuts[] (then the
 * rest), checking that a finished parse keeps its answer. */
static enum chello_result deliver(struct chello_parser *p, const uint8_t *data, size_t len,
				  const size_t *cuts, size_t n_cuts, const char *file,
				  const char *how)
{
	enum chello_result res = CHELLO_NEED_MORE, prev = CHELLO_NEED_MORE;
	size_t from = 0;

	chello_init(p);
	if (len == 0)
		return chello_feed(p, NULL, 0);
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t to = i < n_cuts ? cuts[i] : len;

		res = chello_feed(p, data + from, to - from);
		cr_expect(prev == CHELLO_NEED_MORE || res == prev,
			  "%s [%s]: result changed from %s to %s after it was final", file, how,
			  chello_result_str(prev), chello_result_str(res));
		prev = res;
		from = to;
	}
	return res;
}

static void alpn_join(const struct chello_info *info, char *out, size_t cap)
{
	const uint8_t *name;
	size_t name_len, off, n = 0;

	out[0] = '\0';
	for_each_alpn (name, name_len, info->alpn, info->alpn_len, off) {
		n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n ? "," : "", (int)name_len,
				      (const char *)name);
		if (n >= cap)
			break;
	}
}

/* The MANIFEST calls the need-more state "incomplete". */
static const char *manifest_result(enum chello_result res)
{
	return res == CHELLO_NEED_MORE ? "incomplete" : chello_result_str(res);
}

/* Compares one delivery's outcome with the row; returns false on mismatch so
 * the caller can stop before one bug floods the report. */
static bool check_row(const struct row *r, const struct chello_parser *p, enum chello_result res,
		      const char *how)
{
	const struct chello_info *info = &p->info;
	char alpn[2048];
	bool ok = true;

	cr_expect_str_eq(manifest_result(res), r->result, "%s [%s]: result %s (reason %s)", r->file,
			 how, manifest_result(res), chello_reason_str(p->reason));
	if (strcmp(manifest_result(res), r->result))
		return false;
	if (res == CHELLO_ERROR) {
		ok = p->reason != CHELLO_REASON_NONE;
		cr_expect(ok, "%s [%s]: error without a reason", r->file, how);
	}
	if (res != CHELLO_OK)
		return ok;
	if (!strcmp(r->sni, "-")) {
		cr_expect(!info->has_sni, "%s [%s]: unexpected SNI \"%s\"", r->file, how,
			  info->sni);
		ok &= !info->has_sni;
	} else {
		bool same = info->has_sni && !strcmp(info->sni, r->sni) &&
			    info->sni_len == strlen(r->sni);

		cr_expect(same, "%s [%s]: SNI \"%s\" (has_sni %d), expected \"%s\"", r->file, how,
			  info->sni, info->has_sni, r->sni);
		ok &= same;
	}
	alpn_join(info, alpn, sizeof(alpn));
	if (!strcmp(r->alpn, "-")) {
		cr_expect(!info->has_alpn, "%s [%s]: unexpected ALPN \"%s\"", r->file, how, alpn);
		ok &= !info->has_alpn;
	} else {
		bool same = info->has_alpn && !info->alpn_truncated && !strcmp(alpn, r->alpn);

		cr_expect(same, "%s [%s]: ALPN \"%s\", expected \"%s\"", r->file, how, alpn,
			  r->alpn);
		ok &= same;
	}
	cr_expect(info->hello_end <= r->len, "%s [%s]: hello_end %zu > %zu bytes", r->file, how,
		  info->hello_end, r->len);
	ok &= info->hello_end <= r->len;
	/* A one-record capture holds the hello and nothing else. */
	if (!strncmp(r->notes, "records=1;", 10)) {
		bool whole = info->hello_end == r->len && info->n_records == 1;

		cr_expect(whole, "%s [%s]: hello_end %zu of %zu bytes, %u records", r->file, how,
			  info->hello_end, r->len, (unsigned)info->n_records);
		ok &= whole;
	}
	return ok;
}

static struct chello_parser *parser_new(void)
{
	struct chello_parser *p = malloc(sizeof(*p));

	cr_assert(p);
	return p;
}

Test(chello, corpus_fed_whole_matches_manifest)
{
	struct chello_parser *p = parser_new();
	struct corpus c;
	size_t n_checked = 0;

	corpus_load(&c);
	for (size_t i = 0; i < c.n_rows; i++) {
		struct row *r = &c.rows[i];

		check_row(r, p, deliver(p, r->data, r->len, NULL, 0, r->file, "whole"), "whole");
		n_checked++;
	}
	cr_expect_eq(n_checked, c.n_rows);
	corpus_free(&c);
	free(p);
}

Test(chello, corpus_fed_bytewise_matches_manifest)
{
	struct chello_parser *p = parser_new();
	struct corpus c;
	size_t n_checked = 0;

	corpus_load(&c);
	for (size_t i = 0; i < c.n_rows; i++) {
		struct row *r = &c.rows[i];
		enum chello_result res = CHELLO_NEED_MORE;

		chello_init(p);
		if (r->len == 0)
			res = chello_feed(p, NULL, 0);
		for (size_t k = 0; k < r->len; k++) {
			enum chello_result prev = res;

			res = chello_feed(p, r->data + k, 1);
			cr_expect(prev == CHELLO_NEED_MORE || res == prev,
				  "%s [bytewise]: final result changed at byte %zu", r->file, k);
		}
		check_row(r, p, res, "bytewise");
		n_checked++;
	}
	cr_expect_eq(n_checked, c.n_rows);
	corpus_free(&c);
	free(p);
}

Test(chello, corpus_split_at_every_offset_matches_manifest)
{
	struct chello_parser *p = parser_new();
	struct corpus c;
	size_t n_checked = 0;

	corpus_load(&c);
	for (size_t i = 0; i < c.n_rows; i++) {
		struct row *r = &c.rows[i];

		for (size_t k = 1; k < r->len; k++) {
			char how[64];

			snprintf(how, sizeof(how), "split at %zu", k);
			if (!check_row(r, p, deliver(p, r->data, r->len, &k, 1, r->file, how), how))
				break;
		}
		n_checked++;
	}
	cr_expect_eq(n_checked, c.n_rows);
	corpus_free(&c);
	free(p);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

Test(chello, corpus_random_multiway_splits_match_manifest)
{
	struct chello_parser *p = parser_new();
	uint64_t seed = 0x5eed5eed5eedULL;
	struct corpus c;
	size_t n_checked = 0;

	corpus_load(&c);
	for (size_t i = 0; i < c.n_rows; i++) {
		struct row *r = &c.rows[i];

		for (int t = 0; t < N_RANDOM && r->len > 1; t++) {
			size_t cuts[MAX_CUTS], n_cuts = 2 + xorshift(&seed) % (MAX_CUTS - 1);
			char how[64];

			for (size_t j = 0; j < n_cuts; j++)
				cuts[j] = 1 + xorshift(&seed) % (r->len - 1);
			qsort(cuts, n_cuts, sizeof(cuts[0]), cmp_size);
			snprintf(how, sizeof(how), "random split #%d, %zu cuts from %zu", t, n_cuts,
				 cuts[0]);
			if (!check_row(r, p,
				       deliver(p, r->data, r->len, cuts, n_cuts, r->file, how),
				       how))
				break;
		}
		n_checked++;
	}
	cr_expect_eq(n_checked, c.n_rows);
	corpus_free(&c);
	free(p);
}

/* ---- hand-built vectors ---------------------------------------------------- */

struct buf {
	uint8_t d[BUILD_MAX];
	size_t n;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (n == 0)
		return;
	cr_assert_leq(b->n + n, sizeof(b->d));
	memcpy(b->d + b->n, d, n);
	b->n += n;
}

static void put8(struct buf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	put(b, &x, 1);
}

static void put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put24(struct buf *b, unsigned v)
{
	put8(b, v >> 16);
	put16(b, v);
}

static void put_fill(struct buf *b, uint8_t c, size_t n)
{
	cr_assert_leq(b->n + n, sizeof(b->d));
	memset(b->d + b->n, c, n);
	b->n += n;
}

static void put_ext(struct buf *b, unsigned type, const void *data, size_t len)
{
	put16(b, type);
	put16(b, (unsigned)len);
	put(b, data, len);
}

/* server_name extension carrying one host_name. */
static void put_sni(struct buf *b, const char *name)
{
	size_t n = strlen(name);

	put16(b, 0x0000);
	put16(b, (unsigned)n + 5);
	put16(b, (unsigned)n + 3);
	put8(b, 0);
	put16(b, (unsigned)n);
	put(b, name, n);
}

/* ALPN extension from a wire-form ProtocolNameList body. */
static void put_alpn(struct buf *b, const char *wire, size_t len)
{
	put16(b, 0x0010);
	put16(b, (unsigned)len + 2);
	put16(b, (unsigned)len);
	put(b, wire, len);
}

/* ClientHello handshake message (header included) around an extensions block;
 * exts NULL means no block at all. */
static void put_hello(struct buf *b, const struct buf *exts)
{
	size_t start = b->n;

	put8(b, 1);
	put24(b, 0);
	put16(b, 0x0303);
	put_fill(b, 0xab, 32);
	put8(b, 32);
	put_fill(b, 0xcd, 32);
	put16(b, 4);
	put16(b, 0x1301);
	put16(b, 0x1302);
	put8(b, 1);
	put8(b, 0);
	if (exts) {
		put16(b, (unsigned)exts->n);
		put(b, exts->d, exts->n);
	}
	b->d[start + 1] = (uint8_t)((b->n - start - 4) >> 16);
	b->d[start + 2] = (uint8_t)((b->n - start - 4) >> 8);
	b->d[start + 3] = (uint8_t)(b->n - start - 4);
}

/* Wraps hs in handshake records of the given payload sizes; the last record
 * takes whatever is left. */
static void put_records(struct buf *out, const struct buf *hs, const size_t *sizes, size_t n)
{
	size_t off = 0;

	for (size_t i = 0; off < hs->n; i++) {
		size_t len = i < n ? sizes[i] : hs->n - off;

		if (len > hs->n - off)
			len = hs->n - off;
		put8(out, 0x16);
		put16(out, 0x0301);
		put16(out, (unsigned)len);
		put(out, hs->d + off, len);
		off += len;
	}
}

static struct buf *buf_new(void)
{
	struct buf *b = calloc(1, sizeof(*b));

	cr_assert(b);
	return b;
}

/* Baseline extensions: SNI, ALPN h2+http/1.1, supported_versions. */
static void put_base_exts(struct buf *e)
{
	static const uint8_t sv[] = {6, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03};

	put_sni(e, SNI_EXAMPLE);
	put_alpn(e, ALPN_EXAMPLE, sizeof(ALPN_EXAMPLE) - 1);
	put_ext(e, 0x002b, sv, sizeof(sv));
}

static enum chello_result feed_all(struct chello_parser *p, const void *d, size_t n)
{
	chello_init(p);
	return chello_feed(p, d, n);
}

static enum chello_result feed_bytewise(struct chello_parser *p, const uint8_t *d, size_t n)
{
	enum chello_result res = CHELLO_NEED_MORE;

	chello_init(p);
	for (size_t i = 0; i < n; i++)
		res = chello_feed(p, d + i, 1);
	return res;
}

Test(chello, truncated_record_header_needs_more)
{
	static const uint8_t rec[] = {0x16, 0x03, 0x01, 0x02};
	struct chello_parser p;

	cr_assert_eq(feed_all(&p, rec, sizeof(rec)), CHELLO_NEED_MORE);
	cr_assert_eq(p.reason, CHELLO_REASON_NONE);
}

Test(chello, empty_feed_needs_more)
{
	struct chello_parser p;

	cr_assert_eq(feed_all(&p, NULL, 0), CHELLO_NEED_MORE);
}

Test(chello, record_length_65535_fails_once_header_is_in)
{
	static const uint8_t rec[] = {0x16, 0x03, 0x01, 0xff, 0xff};
	struct chello_parser p;

	cr_assert_eq(feed_all(&p, rec, 4), CHELLO_NEED_MORE);
	cr_assert_eq(chello_feed(&p, rec + 4, 1), CHELLO_ERROR);
	cr_assert_eq(p.reason, CHELLO_REASON_RECORD_LENGTH);
}

Test(chello, record_length_16384_is_accepted_and_16385_is_not)
{
	static const uint8_t ok[] = {0x16, 0x03, 0x01, 0x40, 0x00};
	static const uint8_t bad[] = {0x16, 0x03, 0x01, 0x40, 0x01};
	struct chello_parser p;

	cr_assert_eq(feed_all(&p, ok, sizeof(ok)), CHELLO_NEED_MORE);
	cr_assert_eq(feed_all(&p, bad, sizeof(bad)), CHELLO_ERROR);
	cr_assert_eq(p.reason, CHELLO_REASON_RECORD_LENGTH);
}

Test(chello, first_non_handshake_byte_fails_at_once)
{
	struct chello_parser p;

	cr_assert_eq(feed_all(&p, "G", 1), CHELLO_ERROR);
	cr_assert_eq(p.reason, CHELLO_REASON_NOT_HANDSHAKE);
	cr_assert_eq(feed_all(&p, "\x80", 1), CHELLO_ERROR);
	cr_assert_eq(p.reason, CHELLO_REASON_SSLV2);
}

Test(chello, handshake_length_over_64k_fails_immediately)
{
	/* 4 + 0xfffd = 65537: one byte more than a 64 KiB buffer holds */
	static const uint8_t too_big[] = {0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0xff, 0xfd};
	static const uint8_t largest[] = {0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0xff, 0xfc};
	struct chello_parser p;

	cr_assert_eq(feed_bytewise(&p, too_big, sizeof(too_big) - 1), CHELLO_NEED_MORE);
	cr_assert_eq(chello_feed(&p, too_big + 8, 1), CHELLO_ERROR);
	cr_assert_eq(p.reason, CHELLO_REASON_HANDSHAKE_LENGTH);
	cr_assert_eq(feed_all(&p, largest, sizeof(largest)), CHELLO_NEED_MORE);
}

Test(chello, hello_over_three_records_split_in_header_and_name_is_ok)
{
	struct buf *e = buf_new(), *hs = buf_new(), *wire = buf_new();
	struct chello_parser p;
	size_t sizes[2], name_off;

	put_base_exts(e);
	put_hello(hs, e);
	name_off = (size_t)((uint8_t *)memmem(hs->d, hs->n, SNI_EXAMPLE, 17) - hs->d);
	/* record 1 ends inside the 4-byte handshake header, record 2 inside the name */
	sizes[0] = 2;
	sizes[1] = name_off + 5 - 2;
	put_records(wire, hs, sizes, 2);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_OK, "reason %s",
		     chello_reason_str(p.reason));
	cr_assert_eq(p.info.n_records, 3);
	cr_assert_eq(p.info.hello_end, wire->n);
	cr_assert_str_eq(p.info.sni, SNI_EXAMPLE);
	cr_assert_eq(feed_bytewise(&p, wire->d, wire->n), CHELLO_OK);
	cr_assert_str_eq(p.info.sni, SNI_EXAMPLE);
	cr_assert_eq(p.info.alpn_len, sizeof(ALPN_EXAMPLE) - 1);
	cr_assert_eq(memcmp(p.info.alpn, ALPN_EXAMPLE, p.info.alpn_len), 0);
	cr_assert_eq(p.info.n_alpn, 2);
	cr_assert_eq(p.info.n_versions, 2, "GREASE version must be left out");
	cr_assert_eq(p.info.versions[0], 0x0304);
	cr_assert_eq(p.info.versions[1], 0x0303);
	cr_assert_eq(p.info.legacy_version, 0x0303);
	free(e);
	free(hs);
	free(wire);
}

/* Builds a hello whose handshake message is exactly total bytes long, with a
 * padding extension first and server_name last. */
static void put_big_hello(struct buf *hs, size_t total)
{
	struct buf *e = buf_new();
	size_t fixed;

	put_hello(hs, e);
	fixed = hs->n + 4 + 4 + 5 + strlen(SNI_EXAMPLE); /* + padding and SNI headers */
	hs->n = 0;
	put16(e, 0x0015);
	put16(e, (unsigned)(total - fixed));
	put_fill(e, 0, total - fixed);
	put_sni(e, SNI_EXAMPLE);
	put_hello(hs, e);
	cr_assert_eq(hs->n, total);
	free(e);
}

Test(chello, largest_hello_over_five_records_is_ok)
{
	struct buf *hs = buf_new(), *wire = buf_new();
	static const size_t sizes[] = {16384, 16384, 16384, 16000};
	struct chello_parser p;

	put_big_hello(hs, 65536);
	put_records(wire, hs, sizes, 4);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_OK, "reason %s",
		     chello_reason_str(p.reason));
	cr_assert_eq(p.info.n_records, 5);
	cr_assert_eq(p.info.hello_end, 65536 + 5 * 5);
	cr_assert_str_eq(p.info.sni, SNI_EXAMPLE);
	cr_assert_eq(feed_bytewise(&p, wire->d, wire->n), CHELLO_OK);
	cr_assert_eq(p.info.hello_end, wire->n);
	/* Once both headers are in, a reader waits for the end of the record and
	 * the next header, once per record, not 64 Ki times. */
	chello_init(&p);
	cr_assert_eq(chello_feed(&p, wire->d, 9), CHELLO_NEED_MORE);
	cr_assert_eq(chello_need(&p), 16384 - 4 + 1);
	for (size_t k = 9; k < wire->n; k++) {
		cr_assert_leq(k + chello_need(&p), wire->n, "need past the end at byte %zu", k);
		chello_feed(&p, wire->d + k, 1);
	}
	cr_assert_eq(p.result, CHELLO_OK);
	free(hs);
	free(wire);
}

Test(chello, one_record_byte_records_are_reassembled)
{
	struct buf *e = buf_new(), *hs = buf_new(), *wire = buf_new();
	size_t sizes[400];
	struct chello_parser p;

	for (size_t i = 0; i < 400; i++)
		sizes[i] = 1;
	put_base_exts(e);
	put_hello(hs, e);
	put_records(wire, hs, sizes, 400);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_OK);
	cr_assert_eq(p.info.n_records, hs->n);
	cr_assert_str_eq(p.info.sni, SNI_EXAMPLE);
	free(e);
	free(hs);
	free(wire);
}

Test(chello, bytes_after_the_hello_are_left_to_the_stream)
{
	struct buf *e = buf_new(), *hs = buf_new(), *wire = buf_new();
	struct chello_parser p;
	size_t end;

	put_base_exts(e);
	put_hello(hs, e);
	end = hs->n;
	/* a second handshake message in the same record, then garbage */
	put_fill(hs, 0x99, 20);
	put_records(wire, hs, NULL, 0);
	put(wire, "GET / HTTP/1.1\r\n", 16);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_OK);
	cr_assert_eq(p.info.hello_end, 5 + end);
	cr_assert_eq(chello_feed(&p, (const uint8_t *)"\x15", 1), CHELLO_OK);
	cr_assert_eq(p.info.hello_end, 5 + end);
	cr_assert_eq(feed_bytewise(&p, wire->d, wire->n), CHELLO_OK);
	cr_assert_eq(p.info.hello_end, 5 + end);
	free(e);
	free(hs);
	free(wire);
}

Test(chello, error_is_sticky)
{
	struct chello_parser p;

	cr_assert_eq(feed_all(&p, "\x15\x03\x03", 3), CHELLO_ERROR);
	cr_assert_eq(chello_feed(&p, (const uint8_t *)"\x16\x03\x01", 3), CHELLO_ERROR);
	cr_assert_eq(p.reason, CHELLO_REASON_NOT_HANDSHAKE);
}

Test(chello, long_alpn_list_is_truncated_but_fully_validated)
{
	struct buf *e = buf_new(), *hs = buf_new(), *wire = buf_new(), *list = buf_new();
	struct chello_parser p;
	const uint8_t *name;
	size_t name_len, off, n = 0, total = 0;

	/* 20 names of 100 bytes: 2020 bytes of list, twice the cap */
	for (int i = 0; i < 20; i++) {
		put8(list, 100);
		put_fill(list, (uint8_t)('a' + i), 100);
	}
	put_alpn(e, (const char *)list->d, list->n);
	put_hello(hs, e);
	put_records(wire, hs, NULL, 0);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_OK);
	cr_assert(p.info.has_alpn);
	cr_assert(p.info.alpn_truncated);
	cr_assert_eq(p.info.n_alpn, 10);
	cr_assert_eq(p.info.alpn_len, 1010);
	for_each_alpn (name, name_len, p.info.alpn, p.info.alpn_len, off) {
		cr_assert_eq(name_len, 100);
		cr_assert_eq(name[0], 'a' + n);
		total += 1 + name_len;
		n++;
	}
	cr_assert_eq(n, 10);
	cr_assert_eq(total, p.info.alpn_len);

	/* an empty name beyond the cap still fails the hello */
	list->d[list->n - 101] = 0;
	list->n -= 100;
	e->n = 0;
	hs->n = 0;
	wire->n = 0;
	put_alpn(e, (const char *)list->d, list->n);
	put_hello(hs, e);
	put_records(wire, hs, NULL, 0);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_ERROR);
	cr_assert_eq(p.reason, CHELLO_REASON_BAD_ALPN);
	free(e);
	free(hs);
	free(wire);
	free(list);
}

Test(chello, alpn_iterator_stops_at_malformed_entry)
{
	static const uint8_t wire[] = {2, 'h', '2', 0, 3, 'x'};
	const uint8_t *name;
	size_t name_len, off, n = 0;

	for_each_alpn (name, name_len, wire, sizeof(wire), off)
		n++;
	cr_assert_eq(n, 1);
	n = 0;
	for_each_alpn (name, name_len, wire + 4, 2, off)
		n++;
	cr_assert_eq(n, 0, "a name running past the end must not be returned");
}

Test(chello, two_different_grease_extensions_are_ok_but_one_twice_is_not)
{
	struct buf *e = buf_new(), *hs = buf_new(), *wire = buf_new();
	struct chello_parser p;

	put_ext(e, 0x0a0a, "", 0);
	put_base_exts(e);
	put_ext(e, 0x3a3a, "\0", 1);
	put_hello(hs, e);
	put_records(wire, hs, NULL, 0);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_OK);
	e->n = hs->n = wire->n = 0;
	put_ext(e, 0x0a0a, "", 0);
	put_base_exts(e);
	put_ext(e, 0x0a0a, "\0", 1);
	put_hello(hs, e);
	put_records(wire, hs, NULL, 0);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_ERROR);
	cr_assert_eq(p.reason, CHELLO_REASON_DUPLICATE_EXTENSION);
	free(e);
	free(hs);
	free(wire);
}

Test(chello, reason_names_are_distinct_snake_case)
{
	for (int i = 0; i < CHELLO_REASON_MAX; i++) {
		const char *a = chello_reason_str((enum chello_reason)i);

		cr_assert_str_neq(a, "unknown", "reason %d has no name", i);
		cr_assert_eq(strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(a),
			     "reason %d: \"%s\" is not snake_case", i, a);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(a, chello_reason_str((enum chello_reason)j),
					  "reasons %d and %d share a name", i, j);
	}
	cr_assert_str_eq(chello_reason_str(CHELLO_REASON_MAX), "unknown");
}

/* ---- one input per error reason ---------------------------------------------- */

enum mut {
	MUT_NONE = 0,
	MUT_SID_33,
	MUT_CS_ODD,
	MUT_CS_EMPTY,
	MUT_COMP_EMPTY,
	MUT_HS_SHORT,
	MUT_EXTS_LEN_PLUS_1,
	MUT_TRAILING_BYTE
};

struct vector {
	const char *name;
	enum chello_reason reason;
	enum mut mut;
	const char *raw; /* whole stream when set; else a hello built from exts */
	size_t raw_len;
	const char *exts; /* raw extensions block body */
	size_t exts_len;
};

#define RAW(s)	.raw = s, .raw_len = sizeof(s) - 1
#define EXTS(s) .exts = s, .exts_len = sizeof(s) - 1

static const struct vector vectors[] = {
	{"http request", CHELLO_REASON_NOT_HANDSHAKE, RAW("GET / HTTP/1.1\r\n")},
	{"sslv2 hello", CHELLO_REASON_SSLV2, RAW("\x80\x2b\x01\x03\x01")},
	{"record major 2", CHELLO_REASON_RECORD_VERSION, RAW("\x16\x02\x00\x00\x10")},
	{"record length 0", CHELLO_REASON_RECORD_LENGTH, RAW("\x16\x03\x01\x00\x00")},
	{"ccs inside hello", CHELLO_REASON_RECORD_TYPE,
	 RAW("\x16\x03\x01\x00\x02\x01\x00\x14\x03\x03\x00\x01\x01")},
	{"server hello", CHELLO_REASON_NOT_CLIENT_HELLO, RAW("\x16\x03\x03\x00\x04\x02")},
	{"handshake 65537", CHELLO_REASON_HANDSHAKE_LENGTH,
	 RAW("\x16\x03\x01\x00\x04\x01\x00\xff\xfd")},
	{"random past message", CHELLO_REASON_HELLO_LENGTH, .mut = MUT_HS_SHORT},
	{"session id 33", CHELLO_REASON_SESSION_ID, .mut = MUT_SID_33},
	{"cipher suites odd", CHELLO_REASON_CIPHER_SUITES, .mut = MUT_CS_ODD},
	{"cipher suites empty", CHELLO_REASON_CIPHER_SUITES, .mut = MUT_CS_EMPTY},
	{"no compression", CHELLO_REASON_COMPRESSION, .mut = MUT_COMP_EMPTY},
	{"extensions block too long", CHELLO_REASON_EXTENSIONS_LENGTH, .mut = MUT_EXTS_LEN_PLUS_1},
	{"one byte after compression", CHELLO_REASON_EXTENSIONS_LENGTH, .mut = MUT_TRAILING_BYTE},
	{"extension header cut", CHELLO_REASON_EXTENSION_LENGTH, EXTS("\x00\x17\x00")},
	{"extension overruns block", CHELLO_REASON_EXTENSION_LENGTH, EXTS("\x00\x17\x00\x05\x00")},
	{"duplicate extension", CHELLO_REASON_DUPLICATE_EXTENSION,
	 EXTS("\x00\x17\x00\x00\x00\x17\x00\x00")},
	{"sni empty list", CHELLO_REASON_BAD_SNI, EXTS("\x00\x00\x00\x02\x00\x00")},
	{"sni no data", CHELLO_REASON_BAD_SNI, EXTS("\x00\x00\x00\x00")},
	{"sni type 1", CHELLO_REASON_BAD_SNI, EXTS("\x00\x00\x00\x06\x00\x04\x01\x00\x01x")},
	{"sni two names", CHELLO_REASON_BAD_SNI,
	 EXTS("\x00\x00\x00\x0a\x00\x08\x00\x00\x01x\x00\x00\x01y")},
	{"sni list length short", CHELLO_REASON_BAD_SNI,
	 EXTS("\x00\x00\x00\x06\x00\x03\x00\x00\x01x")},
	{"sni name past list", CHELLO_REASON_BAD_SNI,
	 EXTS("\x00\x00\x00\x06\x00\x04\x00\x00\x02x")},
	{"sni empty name", CHELLO_REASON_BAD_SNI_NAME,
	 EXTS("\x00\x00\x00\x05\x00\x03\x00\x00\x00")},
	{"sni empty label", CHELLO_REASON_BAD_SNI_NAME,
	 EXTS("\x00\x00\x00\x09\x00\x07\x00\x00\x04\x61..b")},
	{"sni slash", CHELLO_REASON_BAD_SNI_NAME,
	 EXTS("\x00\x00\x00\x08\x00\x06\x00\x00\x03\x61/b")},
	{"sni nul", CHELLO_REASON_BAD_SNI_NAME,
	 EXTS("\x00\x00\x00\x08\x00\x06\x00\x00\x03\x61\x00\x62")},
	{"alpn empty list", CHELLO_REASON_BAD_ALPN, EXTS("\x00\x10\x00\x02\x00\x00")},
	{"alpn no data", CHELLO_REASON_BAD_ALPN, EXTS("\x00\x10\x00\x00")},
	{"alpn empty name", CHELLO_REASON_BAD_ALPN, EXTS("\x00\x10\x00\x06\x00\x04\x02h2\x00")},
	{"alpn name past list", CHELLO_REASON_BAD_ALPN, EXTS("\x00\x10\x00\x05\x00\x03\x03h2")},
	{"alpn list length long", CHELLO_REASON_BAD_ALPN, EXTS("\x00\x10\x00\x05\x00\x04\x02h2")},
	{"versions odd", CHELLO_REASON_BAD_SUPPORTED_VERSIONS,
	 EXTS("\x00\x2b\x00\x04\x03\x03\x04\x03")},
	{"versions empty", CHELLO_REASON_BAD_SUPPORTED_VERSIONS, EXTS("\x00\x2b\x00\x01\x00")},
	{"versions no data", CHELLO_REASON_BAD_SUPPORTED_VERSIONS, EXTS("\x00\x2b\x00\x00")},
};

/* Builds the stream for a hello-based vector by editing a valid hello. */
static void build_vector(const struct vector *v, struct buf *wire)
{
	struct buf *e = buf_new(), *hs = buf_new();

	put(e, v->exts, v->exts_len);
	put_hello(hs, v->mut == MUT_TRAILING_BYTE ? NULL : e);
	/* put_hello()'s fixed layout: 4 header, 2 version, 32 random, 1+32 session
	 * id, 2+4 cipher suites (length at 71), 1+1 compression (77), block length (79) */
	switch (v->mut) {
	case MUT_SID_33:
		hs->d[38] = 33;
		break;
	case MUT_CS_ODD:
		hs->d[72] = 3;
		break;
	case MUT_CS_EMPTY:
		hs->d[72] = 0;
		break;
	case MUT_COMP_EMPTY:
		hs->d[77] = 0;
		break;
	case MUT_HS_SHORT:
		hs->d[1] = hs->d[2] = 0;
		hs->d[3] = 20;
		break;
	case MUT_EXTS_LEN_PLUS_1:
		hs->d[80]++;
		break;
	case MUT_TRAILING_BYTE:
		put8(hs, 0);
		hs->d[3]++;
		break;
	case MUT_NONE:
		break;
	}
	put_records(wire, hs, NULL, 0);
	free(e);
	free(hs);
}

Test(chello, every_reason_is_reached_by_some_input)
{
	bool hit[CHELLO_REASON_MAX] = {false};
	struct buf *wire = buf_new();
	struct chello_parser p;

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		const uint8_t *d = (const uint8_t *)v->raw;
		size_t n = v->raw_len;

		if (!v->raw) {
			wire->n = 0;
			build_vector(v, wire);
			d = wire->d;
			n = wire->n;
		}
		cr_expect_eq(feed_all(&p, d, n), CHELLO_ERROR, "%s [whole]: %s", v->name,
			     chello_result_str(p.result));
		cr_expect_eq(p.reason, v->reason, "%s [whole]: reason %s, expected %s", v->name,
			     chello_reason_str(p.reason), chello_reason_str(v->reason));
		cr_expect_eq(feed_bytewise(&p, d, n), CHELLO_ERROR, "%s [bytewise]", v->name);
		cr_expect_eq(p.reason, v->reason, "%s [bytewise]: reason %s", v->name,
			     chello_reason_str(p.reason));
		hit[v->reason] = true;
	}
	for (int r = 1; r < CHELLO_REASON_MAX; r++)
		cr_expect(hit[r], "no vector reaches reason %s", chello_reason_str(r));
	free(wire);
}

Test(chello, unmodified_vector_hello_is_ok)
{
	/* The mutations above must be what breaks the hello, not the builder. */
	static const struct vector good = {"good", CHELLO_REASON_NONE, MUT_NONE, NULL,
					   0,	   "\x00\x17\x00\x00", 4};
	struct buf *wire = buf_new();
	struct chello_parser p;

	build_vector(&good, wire);
	cr_assert_eq(feed_all(&p, wire->d, wire->n), CHELLO_OK, "reason %s",
		     chello_reason_str(p.reason));
	cr_assert(!p.info.has_sni);
	cr_assert(!p.info.has_alpn);
	cr_assert_eq(p.info.n_versions, 0);
	free(wire);
}

/* chello_need() never asks for a byte past the hello's end, so a reader that
 * waits for that many bytes never waits for what will not come. */
Test(chello, need_never_overshoots_the_hello_end)
{
	struct chello_parser *p = parser_new();
	struct corpus c;
	size_t n_ok = 0;

	corpus_load(&c);
	for (size_t i = 0; i < c.n_rows; i++) {
		struct row *r = &c.rows[i];
		size_t end;

		if (strcmp(r->result, "ok"))
			continue;
		chello_init(p);
		cr_assert_eq(feed_all(p, r->data, r->len), CHELLO_OK, "%s", r->file);
		end = p->info.hello_end;
		chello_init(p);
		for (size_t k = 0; k < end; k++) {
			size_t need = chello_need(p);

			cr_assert(need >= 1 && k + need <= end, "%s: need %zu at byte %zu of %zu",
				  r->file, need, k, end);
			chello_feed(p, r->data + k, 1);
		}
		cr_assert_eq(chello_need(p), 0, "%s: need after OK", r->file);
		n_ok++;
	}
	cr_assert(n_ok > 10);
	corpus_free(&c);
	free(p);
}

/* A reader that feeds only when chello_need() more bytes are in reaches every
 * corpus case's result, errors included, from the file's bytes alone: no
 * malformed hello is left waiting for bytes its client will never send. */
Test(chello, waiting_for_need_reaches_every_result_from_the_bytes_sent)
{
	struct chello_parser *p = parser_new();
	struct corpus c;
	size_t n_err = 0;

	corpus_load(&c);
	for (size_t i = 0; i < c.n_rows; i++) {
		struct row *r = &c.rows[i];
		enum chello_result want, got = CHELLO_NEED_MORE;
		size_t k = 0;

		chello_init(p);
		want = feed_all(p, r->data, r->len);
		if (want == CHELLO_NEED_MORE)
			continue; /* a truncated case: it waits whatever the reader does */
		chello_init(p);
		while (got == CHELLO_NEED_MORE && k < r->len) {
			size_t need = chello_need(p);

			cr_assert(need >= 1, "%s: need 0 before a result", r->file);
			if (k + need > r->len)
				break;
			got = chello_feed(p, r->data + k, need);
			k += need;
		}
		cr_assert_eq(got, want, "%s: %s after %zu of %zu bytes, want %s", r->file,
			     got == CHELLO_NEED_MORE ? "still waiting" : "other result", k, r->len,
			     want == CHELLO_OK ? "ok" : "error");
		n_err += want == CHELLO_ERROR;
	}
	cr_assert(n_err > 10);
	corpus_free(&c);
	free(p);
}
