// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* access_fmt.c: see access_fmt.h. key=value escapes what would split a value
 * (bytes up to space, DEL, backslash) as \xNN; printable names print as
 * they always did. JSON escapes per RFC 8259 and replaces bytes that are not
 * valid UTF-8 with U+FFFD, so every line parses. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "access_fmt.h"
#include "clienthello.h"
#include "json.h"

struct out {
	char *buf;
	size_t cap, len; /* len counts what would have been written */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap) {
		size_t room = o->cap - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(o, tmp, n < (int)sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

int access_fmt_parse(const char *name, enum access_fmt *out)
{
	if (strcmp(name, "kv") == 0)
		*out = ACCESS_FMT_KV;
	else if (strcmp(name, "json") == 0)
		*out = ACCESS_FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

static void kv_bytes(struct out *o, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] <= ' ' || s[i] == 0x7f || s[i] == '\\')
			putf(o, "\\x%02x", s[i]);
		else
			put(o, (const char *)&s[i], 1);
	}
}

static void kv_str(struct out *o, const char *key, const char *v)
{
	putf(o, " %s=", key);
	if (!v || !*v)
		puts_(o, "-");
	else
		kv_bytes(o, (const uint8_t *)v, strlen(v));
}

static void kv_alpn(struct out *o, const struct access_record *r)
{
	const uint8_t *name;
	size_t name_len, off;
	bool any = false;

	puts_(o, " alpn=");
	for_each_alpn (name, name_len, r->alpn, r->alpn_len, off) {
		if (any)
			puts_(o, ",");
		kv_bytes(o, name, name_len);
		any = true;
	}
	if (!any)
		puts_(o, "-");
}

static void format_kv(struct out *o, const struct access_record *r)
{
	puts_(o, "access");
	kv_str(o, "ts", r->ts);
	putf(o, " conn=%" PRIu64, r->conn);
	kv_str(o, "client", r->client);
	kv_str(o, "listener", r->listener);
	kv_str(o, "sni", r->sni);
	kv_alpn(o, r);
	kv_str(o, "route", r->route);
	kv_str(o, "backend", r->backend);
	kv_str(o, "dataplane", r->dataplane);
	if (r->proxy)
		kv_str(o, "proxy", r->proxy);
	putf(o, " bytes_up=%" PRIu64 " bytes_down=%" PRIu64 " copied=%" PRIu64, r->bytes_up,
	     r->bytes_down, r->copied);
	putf(o, " duration_ms=%" PRIu64 " pauses=%" PRIu32 " peak_queued=%" PRIu64, r->duration_ms,
	     r->pauses, r->peak_queued);
	if (r->is_promoted)
		putf(o, " promoted_ms=%" PRIu64, r->promoted_ms);
	kv_str(o, "end", r->end);
	if (r->hello_error)
		kv_str(o, "hello_error", r->hello_error);
}

static void put_out(void *ctx, const char *p, size_t len)
{
	put(ctx, p, len);
}

static void json_bytes(struct out *o, const uint8_t *s, size_t n)
{
	puts_(o, "\"");
	json_escape(s, n, put_out, o);
	puts_(o, "\"");
}

static void json_kstr(struct out *o, const char *key, const char *v)
{
	putf(o, ",\"%s\":", key);
	if (!v)
		puts_(o, "null");
	else
		json_bytes(o, (const uint8_t *)v, strlen(v));
}

static void json_u64(struct out *o, const char *key, uint64_t v)
{
	putf(o, ",\"%s\":%" PRIu64, key, v);
}

static void json_alpn(struct out *o, const struct access_record *r)
{
	const uint8_t *name;
	size_t name_len, off;
	bool any = false;

	puts_(o, ",\"alpn\":[");
	for_each_alpn (name, name_len, r->alpn, r->alpn_len, off) {
		if (any)
			puts_(o, ",");
		json_bytes(o, name, name_len);
		any = true;
	}
	puts_(o, "]");
}

static void format_json(struct out *o, const struct access_record *r)
{
	puts_(o, "{\"ts\":");
	if (r->ts)
		json_bytes(o, (const uint8_t *)r->ts, strlen(r->ts));
	else
		puts_(o, "null");
	json_u64(o, "conn", r->conn);
	json_kstr(o, "client", r->client);
	json_kstr(o, "listener", r->listener);
	json_kstr(o, "sni", r->sni);
	json_alpn(o, r);
	json_kstr(o, "route", r->route);
	json_kstr(o, "backend", r->backend);
	json_kstr(o, "dataplane", r->dataplane);
	if (r->proxy)
		json_kstr(o, "proxy", r->proxy);
	json_u64(o, "bytes_up", r->bytes_up);
	json_u64(o, "bytes_down", r->bytes_down);
	json_u64(o, "copied", r->copied);
	json_u64(o, "duration_ms", r->duration_ms);
	json_u64(o, "pauses", r->pauses);
	json_u64(o, "peak_queued", r->peak_queued);
	if (r->is_promoted)
		json_u64(o, "promoted_ms", r->promoted_ms);
	json_kstr(o, "end", r->end);
	json_kstr(o, "hello_error", r->hello_error);
	puts_(o, "}");
}

size_t access_fmt_line(const struct access_record *r, enum access_fmt fmt, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};

	if (fmt == ACCESS_FMT_JSON)
		format_json(&o, r);
	else
		format_kv(&o, r);
	puts_(&o, "\n");
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}
