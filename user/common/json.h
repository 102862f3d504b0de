/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* json.h: the one JSON string escaper of the project (RFC 8259), used by the
 * access log, the control socket's replies and the CLI. Names come from user
 * configuration and clients, so every string is escaped: a value can never
 * end the string it is in, and bytes that are not valid UTF-8 become U+FFFD,
 * so every document parses. */
#ifndef SG_JSON_H
#define SG_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Calls put(ctx, piece, len) with the escaped form of s[0..n), quotes not
 * included. Pure: no I/O, no allocation. */
void json_escape(const void *s, size_t n, void (*put)(void *ctx, const char *p, size_t len),
		 void *ctx);

/* Writes s as a JSON string, quotes included; NULL as null. */
void json_str(FILE *f, const char *s);

/* Writes the NUL-terminated or max-byte field s as a JSON string; an empty
 * field as null (fixed-size name fields of BPF maps). */
void json_field(FILE *f, const char *s, size_t max);

/* Writes ",\"key\":" (no comma when *first; then clears it). */
void json_key(FILE *f, const char *key, int *first);

#endif
