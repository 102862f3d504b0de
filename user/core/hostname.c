// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* hostname.c: the SNI name rules of docs/ARCHITECTURE.md, section "Life of a connection"
 * (step 2), and the corpus README. */
#include <string.h>

#include "hostname.h"

const char *hostname_result_str(enum hostname_result r)
{
	switch (r) {
	case HOSTNAME_OK:
		return "ok";
	case HOSTNAME_EMPTY:
		return "empty name";
	case HOSTNAME_TOO_LONG:
		return "name longer than 255 bytes";
	case HOSTNAME_BAD_CHAR:
		return "character outside A-Z a-z 0-9 - . _";
	case HOSTNAME_EMPTY_LABEL:
		return "empty label";
	case HOSTNAME_BAD_WILDCARD:
		return "'*' allowed only as a leading \"*.\" or alone";
	}
	return "unknown";
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

enum hostname_result hostname_normalize(const char *in, size_t len, char *out, size_t *out_len)
{
	size_t n = len;

	if (len == 0)
		return HOSTNAME_EMPTY;
	if (len > HOSTNAME_MAX)
		return HOSTNAME_TOO_LONG;
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char((unsigned char)in[i]))
			return HOSTNAME_BAD_CHAR;
	}
	/* A bare "." is an empty label, not an empty name: it was sent as one byte. */
	if (in[n - 1] == '.' && n > 1)
		n--;
	for (size_t i = 0; i < n; i++) {
		bool starts_label = i == 0 || in[i - 1] == '.';

		if (in[i] == '.' && starts_label)
			return HOSTNAME_EMPTY_LABEL;
	}
	if (in[n - 1] == '.')
		return HOSTNAME_EMPTY_LABEL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n] = '\0';
	*out_len = n;
	return HOSTNAME_OK;
}

enum hostname_result hostname_pattern_normalize(const char *in, size_t len, char *out,
						size_t *out_len, bool *is_wildcard)
{
	enum hostname_result r;
	size_t rest_len;

	*is_wildcard = len > 0 && in[0] == '*';
	if (!*is_wildcard) {
		if (memchr(in, '*', len))
			return HOSTNAME_BAD_WILDCARD;
		return hostname_normalize(in, len, out, out_len);
	}
	if (len == 1) {
		out[0] = '*';
		out[1] = '\0';
		*out_len = 1;
		return HOSTNAME_OK;
	}
	if (in[1] != '.' || memchr(in + 1, '*', len - 1))
		return HOSTNAME_BAD_WILDCARD;
	if (len > HOSTNAME_MAX)
		return HOSTNAME_TOO_LONG;
	r = hostname_normalize(in + 2, len - 2, out + 2, &rest_len);
	if (r != HOSTNAME_OK)
		return r;
	out[0] = '*';
	out[1] = '.';
	*out_len = rest_len + 2;
	return HOSTNAME_OK;
}
