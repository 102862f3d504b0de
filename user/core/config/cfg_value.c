// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cfg_value.c: scalar syntaxes shared by both config formats. Every parser takes a
 * NUL-terminated string the YAML walker has already checked for embedded NULs, and
 * bounds its own work (digit counts, edit-distance lengths) so hostile input stays
 * cheap. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cfg_value.h"

/* Durations above this (about 35 years) are typos, and the cap keeps the
 * arithmetic below far from uint64_t overflow. */
#define DURATION_MAX_MS (1ull << 40)
/* Longer words get no suggestion: the table is O(len^2) and nobody mistypes a key
 * into 64 characters. */
#define SUGGEST_MAX_LEN 64

int cfg_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	char digits[24];
	size_t n = strspn(s, "0123456789");
	unsigned shift = 0;
	uint64_t v;
	int err;

	if (n == 0 || n >= sizeof(digits))
		return n == 0 ? -EINVAL : -ERANGE;
	memcpy(digits, s, n);
	digits[n] = '\0';
	err = cfg_parse_u64(digits, &v);
	if (err)
		return err;
	switch (s[n]) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (shift && s[n + 1] != '\0')
		return -EINVAL;
	if (v > UINT64_MAX >> shift)
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static uint64_t unit_ms(const char **p)
{
	const char *s = *p;

	if (s[0] == 'm' && s[1] == 's') {
		*p = s + 2;
		return 1;
	}
	*p = s + 1;
	switch (s[0]) {
	case 's':
		return 1000;
	case 'm':
		return 60 * 1000;
	case 'h':
		return 3600 * 1000;
	}
	return 0;
}

int cfg_parse_duration_ms(const char *s, uint64_t *out_ms)
{
	uint64_t total = 0;

	if (*s == '\0')
		return -EINVAL;
	while (*s) {
		uint64_t whole = 0, frac = 0, frac_div = 1, unit;
		int n_digits = 0;

		for (; *s >= '0' && *s <= '9'; s++, n_digits++) {
			if (whole > DURATION_MAX_MS)
				return -ERANGE;
			whole = whole * 10 + (uint64_t)(*s - '0');
		}
		if (*s == '.') {
			for (s++; *s >= '0' && *s <= '9'; s++, n_digits++) {
				/* Digits past the 9th cannot change whole milliseconds. */
				if (frac_div < 1000000000ull) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					frac_div *= 10;
				}
			}
		}
		if (n_digits == 0)
			return -EINVAL;
		unit = unit_ms(&s);
		if (unit == 0)
			return -EINVAL;
		if (whole > DURATION_MAX_MS / unit)
			return -ERANGE;
		total += whole * unit + frac * unit / frac_div;
		if (total > DURATION_MAX_MS)
			return -ERANGE;
	}
	*out_ms = total;
	return 0;
}

const char *cfg_addr_result_str(enum cfg_addr_result r)
{
	switch (r) {
	case CFG_ADDR_OK:
		return "ok";
	case CFG_ADDR_NO_PORT:
		return "missing \":port\"";
	case CFG_ADDR_BAD_PORT:
		return "port must be 1..65535";
	case CFG_ADDR_NO_HOST:
		return "missing host before \":port\"";
	case CFG_ADDR_V6_BRACKETS:
		return "an IPv6 address must be written in brackets, as [2001:db8::1]:443";
	case CFG_ADDR_BAD_IP:
		return "not a valid IP address";
	case CFG_ADDR_BAD_NAME:
		return "not a valid IP address or DNS name";
	}
	return "unknown";
}

int cfg_parse_ip(const char *s, uint16_t port, struct sockaddr_storage *addr, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;

	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

static bool looks_like_ipv4(const char *s)
{
	return strspn(s, "0123456789.") == strlen(s);
}

static enum cfg_addr_result parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (*s == '\0')
		return CFG_ADDR_NO_PORT;
	if (cfg_parse_u64(s, &v) != 0 || v < 1 || v > 65535)
		return CFG_ADDR_BAD_PORT;
	*port = (uint16_t)v;
	return CFG_ADDR_OK;
}

enum cfg_addr_result cfg_parse_hostport(const char *s, struct cfg_hostport *out)
{
	enum cfg_addr_result r;
	const char *colon, *host_end;
	size_t host_len, norm_len;
	char host[HOSTNAME_MAX + 1];
	bool is_bracketed = s[0] == '[';

	memset(out, 0, sizeof(*out));
	if (is_bracketed) {
		host_end = strchr(s, ']');
		if (!host_end)
			return CFG_ADDR_V6_BRACKETS;
		if (host_end[1] != ':')
			return CFG_ADDR_NO_PORT;
		colon = host_end + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return CFG_ADDR_NO_PORT;
		if (memchr(s, ':', (size_t)(colon - s)) || strchr(s, ']'))
			return CFG_ADDR_V6_BRACKETS;
		host_end = colon;
	}
	host_len = (size_t)(host_end - s);
	if (host_len == 0)
		return CFG_ADDR_NO_HOST;
	if (host_len > HOSTNAME_MAX)
		return CFG_ADDR_BAD_NAME;
	r = parse_port(colon + 1, &out->port);
	if (r != CFG_ADDR_OK)
		return r;
	memcpy(host, s, host_len);
	host[host_len] = '\0';
	if (cfg_parse_ip(host, out->port, &out->addr, &out->addr_len) == 0) {
		/* Brackets promise IPv6; "[10.0.0.1]:443" is a typo worth reporting. */
		if (is_bracketed != (out->addr.ss_family == AF_INET6))
			return out->addr.ss_family == AF_INET6 ? CFG_ADDR_V6_BRACKETS
							       : CFG_ADDR_BAD_IP;
		out->is_ip = true;
		memcpy(out->host, host, host_len + 1);
		return CFG_ADDR_OK;
	}
	if (is_bracketed || looks_like_ipv4(host))
		return CFG_ADDR_BAD_IP;
	if (hostname_normalize(host, host_len, out->host, &norm_len) != HOSTNAME_OK)
		return CFG_ADDR_BAD_NAME;
	return CFG_ADDR_OK;
}

int cfg_parse_cidr(const char *s, struct cfg_cidr *out)
{
	struct sockaddr_storage ss;
	socklen_t ss_len;
	const char *slash = strchr(s, '/');
	char ip[INET6_ADDRSTRLEN];
	size_t ip_len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max_bits, bits;
	uint64_t v;

	if (ip_len == 0 || ip_len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, ip_len);
	ip[ip_len] = '\0';
	if (cfg_parse_ip(ip, 0, &ss, &ss_len) != 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		memcpy(out->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		max_bits = 32;
	} else {
		memcpy(out->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		max_bits = 128;
	}
	bits = max_bits;
	if (slash) {
		if (cfg_parse_u64(slash + 1, &v) != 0 || v > max_bits)
			return -EINVAL;
		bits = (unsigned)v;
	}
	for (unsigned i = bits; i < max_bits; i++) {
		if (out->addr[i / 8] & (0x80u >> (i % 8)))
			return -EINVAL;
	}
	out->prefix_len = (uint8_t)bits;
	return 0;
}

bool cfg_is_name(const char *s, size_t max_len)
{
	size_t n = 0;

	for (; s[n]; n++) {
		if (n >= max_len || s[n] <= ' ' || s[n] > '~')
			return false;
	}
	return n > 0;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Optimal string alignment distance, case-insensitive: the usual typos
 * (a swapped pair, a missing or extra letter, wrong case) each cost 1. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
	size_t la = strlen(a), lb = strlen(b);

	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = lower(a[i - 1]) != lower(b[j - 1]);
			unsigned v = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

void cfg_suggest_init(struct cfg_suggest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->best_dist = ~0u;
}

void cfg_suggest_add(struct cfg_suggest *s, const char *candidate)
{
	size_t len = strlen(candidate);
	/* About one typo per four letters: "weigth" → "weight", but not "sni" → "alpn". */
	unsigned limit = 1 + (unsigned)len / 4, dist;

	if (strlen(s->word) > SUGGEST_MAX_LEN || len > SUGGEST_MAX_LEN)
		return;
	dist = edit_distance(s->word, candidate);
	if (dist <= limit && dist < s->best_dist) {
		s->best = candidate;
		s->best_dist = dist;
	}
}

const char *cfg_suggest_best(const struct cfg_suggest *s)
{
	return s->best;
}
