/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* access_fmt.h: one access-log record as one line, key=value or JSON.
 * Listener and route names come from user configuration and ALPN names from
 * the client, so every string is escaped: a value can never end a line or,
 * in JSON, the string it is in. Pure: no I/O, no allocation. */
#ifndef SG_ACCESS_FMT_H
#define SG_ACCESS_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum access_fmt {
	ACCESS_FMT_KV = 0, /* "access ts=... conn=... end=..." */
	ACCESS_FMT_JSON	   /* {"ts":"...","conn":1,...} */
};

/* A finished connection. NULL strings are absent values: "-" in key=value,
 * null in JSON (hello_error is left out of key=value when NULL, proxy out of
 * both formats). */
struct access_record {
	const char *ts; /* "2026-11-26T12:02:50Z" */
	uint64_t conn;
	const char *client;
	const char *listener;
	const char *sni;
	const uint8_t *alpn; /* ProtocolNameList body (1 length byte + name, ...) */
	size_t alpn_len;     /* 0: none offered */
	const char *route;
	const char *backend;
	const char *dataplane;
	const char *proxy; /* PROXY header version sent to the backend; NULL: none (left out) */
	uint64_t bytes_up, bytes_down, copied, duration_ms;
	uint32_t pauses;
	uint64_t peak_queued;
	bool is_promoted;     /* left out of both formats when false */
	uint64_t promoted_ms; /* since the accept, when the copy handed the pair over */
	const char *end;
	const char *hello_error;
};

/* Parses "kv" or "json". Returns 0 or -EINVAL. */
int access_fmt_parse(const char *name, enum access_fmt *out);

/* Formats r as one line, '\n' included, into buf (NUL-terminated when cap >
 * 0). Returns the line's full length, as snprintf does: a result >= cap means
 * the line was cut and needs a buffer of result + 1 bytes. */
size_t access_fmt_line(const struct access_record *r, enum access_fmt fmt, char *buf, size_t cap);

#endif
