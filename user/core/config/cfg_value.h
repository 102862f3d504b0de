/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cfg_value.h: the scalar value syntaxes of the config (integers, durations,
 * host:port addresses, CIDRs) and the "did you mean" key suggestion.
 * Pure: no I/O, no allocation, no dependency on libyaml. */
#ifndef SG_CFG_VALUE_H
#define SG_CFG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "hostname.h"

/* Parses an unsigned decimal integer ("0", "443"; no sign, no spaces).
 * Returns 0, -EINVAL (syntax) or -ERANGE (> UINT64_MAX). */
int cfg_parse_u64(const char *s, uint64_t *out);

/* Parses a byte count with an optional binary unit: "4194304", "512K", "4M", "1G".
 * Returns 0, -EINVAL (syntax) or -ERANGE (> UINT64_MAX). */
int cfg_parse_size(const char *s, uint64_t *out);

/* Parses a duration: one or more <number><unit> terms, unit ms, s, m or h, number
 * with an optional fraction ("250ms", "10s", "1.5s", "1m30s"). The result is
 * truncated to whole milliseconds. Returns 0, -EINVAL or -ERANGE (> 2^40 ms). */
int cfg_parse_duration_ms(const char *s, uint64_t *out_ms);

enum cfg_addr_result {
	CFG_ADDR_OK = 0,
	CFG_ADDR_NO_PORT,     /* no ":port" */
	CFG_ADDR_BAD_PORT,    /* port not 1..65535 */
	CFG_ADDR_NO_HOST,     /* ":443" */
	CFG_ADDR_V6_BRACKETS, /* IPv6 literal without [ ], or unbalanced brackets */
	CFG_ADDR_BAD_IP,      /* looks like an IP literal but is not one */
	CFG_ADDR_BAD_NAME     /* not a valid DNS name either */
};

/* Returns a short English description of r. */
const char *cfg_addr_result_str(enum cfg_addr_result r);

struct cfg_hostport {
	char host[HOSTNAME_MAX + 1]; /* IP literal without brackets, or normalised name */
	uint16_t port;
	bool is_ip;
	struct sockaddr_storage addr; /* is_ip: the address with port */
	socklen_t addr_len;
};

/* Parses "host:port", "[v6]:port" or "v4:port"; host is an IP literal or a DNS name
 * (hostname_normalize() rules). */
enum cfg_addr_result cfg_parse_hostport(const char *s, struct cfg_hostport *out);

/* Parses an IP literal (v4, or v6 without brackets) into *addr with port.
 * Returns 0 or -EINVAL. */
int cfg_parse_ip(const char *s, uint16_t port, struct sockaddr_storage *addr, socklen_t *len);

/* Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a full-length prefix).
 * Host bits past the prefix must be zero. Returns 0 or -EINVAL. */
int cfg_parse_cidr(const char *s, struct cfg_cidr *out);

/* True when s is 1..max_len printable ASCII bytes other than space (names of
 * listeners and routes: they appear in logs and on the CLI command line). */
bool cfg_is_name(const char *s, size_t max_len);

/* Nearest-key suggestion: feed the candidates with cfg_suggest_add(), then
 * cfg_suggest_best() gives the closest one within a small edit distance
 * (case-insensitive, transpositions count 1), or NULL. */
struct cfg_suggest {
	const char *word;
	const char *best;
	unsigned best_dist;
};

void cfg_suggest_init(struct cfg_suggest *s, const char *word);
void cfg_suggest_add(struct cfg_suggest *s, const char *candidate);
const char *cfg_suggest_best(const struct cfg_suggest *s);

#endif
