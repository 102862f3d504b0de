// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* json.c: see json.h. */
#include <stdint.h>
#include <string.h>

#include "json.h"

/* The length of the valid UTF-8 sequence at s (of n bytes), or 0 when the
 * first byte does not start one: no overlong forms, surrogates or code
 * points above U+10FFFF (RFC 3629). */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	size_t want;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		want = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		want = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		want = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	cp = s[0] & (0x7f >> want);
	if (n < want)
		return 0;
	for (size_t i = 1; i < want; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return want;
}

void json_escape(const void *data, size_t n, void (*put)(void *ctx, const char *p, size_t len),
		 void *ctx)
{
	const uint8_t *s = data;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i);
		char esc[8];

		if (k == 0) {
			put(ctx, "\\ufffd", 6);
			i++;
			continue;
		}
		if (k > 1 || (s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')) {
			put(ctx, (const char *)s + i, k);
		} else if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			put(ctx, esc, 2);
		} else if (s[i] == '\n') {
			put(ctx, "\\n", 2);
		} else if (s[i] == '\r') {
			put(ctx, "\\r", 2);
		} else if (s[i] == '\t') {
			put(ctx, "\\t", 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			put(ctx, esc, 6);
		}
		i += k;
	}
}

static void put_file(void *ctx, const char *p, size_t len)
{
	fwrite(p, 1, len, ctx);
}

static void write_quoted(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	json_escape(s, n, put_file, f);
	fputc('"', f);
}

void json_str(FILE *f, const char *s)
{
	if (!s)
		fputs("null", f);
	else
		write_quoted(f, s, strlen(s));
}

void json_field(FILE *f, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (!n)
		fputs("null", f);
	else
		write_quoted(f, s, n);
}

void json_key(FILE *f, const char *key, int *first)
{
	if (!*first)
		fputc(',', f);
	*first = 0;
	json_str(f, key);
	fputc(':', f);
}
