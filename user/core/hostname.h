/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* hostname.h: server-name normalisation shared by the ClientHello parser, the
 * config loader and the route table, so that all three agree on what a name is.
 * Pure: no I/O, no allocation. */
#ifndef SG_HOSTNAME_H
#define SG_HOSTNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Longest host_name accepted on the wire (OpenSSL's TLSEXT_MAXLEN_host_name). */
#define HOSTNAME_MAX 255

enum hostname_result {
	HOSTNAME_OK = 0,
	HOSTNAME_EMPTY,	      /* zero bytes (a bare "." is an empty label) */
	HOSTNAME_TOO_LONG,    /* more than HOSTNAME_MAX bytes */
	HOSTNAME_BAD_CHAR,    /* a byte outside A-Z a-z 0-9 - . _ */
	HOSTNAME_EMPTY_LABEL, /* leading dot, "..", or a bare "." */
	HOSTNAME_BAD_WILDCARD /* patterns only: '*' anywhere but a leading "*." or a lone "*" */
};

/* Returns a short English description of r ("empty label", ...). */
const char *hostname_result_str(enum hostname_result r);

/* Checks the name in in[0..len) against the SNI rules (1..255 bytes, LDH and '_',
 * no empty label), lowercases it and strips one trailing dot. On HOSTNAME_OK,
 * out holds the NUL-terminated result and *out_len its length; out must hold
 * HOSTNAME_MAX + 1 bytes. in need not be NUL-terminated. */
enum hostname_result hostname_normalize(const char *in, size_t len, char *out, size_t *out_len);

/* Like hostname_normalize() for a route pattern: an exact name, "*.suffix"
 * (suffix a valid name) or a lone "*". *is_wildcard tells whether it starts with
 * '*'; out holds the normalised pattern including the "*." prefix. */
enum hostname_result hostname_pattern_normalize(const char *in, size_t len, char *out,
						size_t *out_len, bool *is_wildcard);

#endif
