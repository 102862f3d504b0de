// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* proxy_header.c: see proxy_header.h. Both versions first reduce the two
 * socket addresses to one family (struct pp_pair), so v1 and v2 always agree
 * on what they describe. Every write is checked against cap up front. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy_header.h"

#define V2_VERSION_PROXY 0x21 /* version 2, command PROXY */
#define V2_VERSION_LOCAL 0x20 /* version 2, command LOCAL */
#define V2_TCP4		 0x11 /* AF_INET, STREAM */
#define V2_TCP6		 0x21 /* AF_INET6, STREAM */
#define V2_UNSPEC	 0x00
#define TLV_HEAD	 3 /* type, length high, length low */
#define NAME_MAX_BYTES	 255

static const uint8_t v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
					 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* Both endpoints in one family: AF_INET (4 address bytes used), AF_INET6, or
 * AF_UNSPEC when either is not an IP address. Ports in host order. */
struct pp_pair {
	sa_family_t family;
	uint8_t addr[2][16];
	uint16_t port[2];
};

/* Takes one endpoint; an IPv4-mapped IPv6 address (a dual-stack listener's
 * IPv4 client) becomes plain IPv4. Returns false for other families. */
static bool take(const struct sockaddr_storage *ss, uint8_t addr[16], uint16_t *port,
		 sa_family_t *family)
{
	if (ss && ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memcpy(addr, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		*family = AF_INET;
		return true;
	}
	if (ss && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		*port = ntohs(sin6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(addr, sin6->sin6_addr.s6_addr + 12, 4);
			*family = AF_INET;
		} else {
			memcpy(addr, sin6->sin6_addr.s6_addr, 16);
			*family = AF_INET6;
		}
		return true;
	}
	return false;
}

/* Rewrites a 4-byte IPv4 address in place as ::ffff:a.b.c.d. */
static void map_v4(uint8_t addr[16])
{
	uint8_t v4[4];

	memcpy(v4, addr, 4);
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	memcpy(addr + 12, v4, 4);
}

static void pair_of(const struct proxy_header_in *in, struct pp_pair *p)
{
	sa_family_t f[2];

	memset(p, 0, sizeof(*p));
	if (!take(in->src, p->addr[0], &p->port[0], &f[0]) ||
	    !take(in->dst, p->addr[1], &p->port[1], &f[1])) {
		p->family = AF_UNSPEC;
		return;
	}
	if (f[0] == f[1]) {
		p->family = f[0];
		return;
	}
	/* Mixed: a header carries one family, so the IPv4 side is mapped. */
	map_v4(p->addr[f[0] == AF_INET ? 0 : 1]);
	p->family = AF_INET6;
}

/* RFC 5952 text of an IPv6 address, in hex groups only (the v1 grammar has no
 * dotted-quad tail): lowercase, the longest run of two or more zero groups
 * (the first of equals) as "::". out holds at least 40 bytes. */
static void format_v6(const uint8_t a[16], char *out)
{
	int best = -1, best_len = 1, run = 0;
	uint16_t w[8];
	char *o = out;

	for (int i = 0; i < 8; i++) {
		w[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
		run = w[i] ? 0 : run + 1;
		if (run > best_len) {
			best_len = run;
			best = i - run + 1;
		}
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			o += sprintf(o, "::");
			i += best_len - 1;
			continue;
		}
		o += sprintf(o, "%s%x", i && i != best + best_len ? ":" : "", w[i]);
	}
	*o = '\0';
}

static void format_addr(const struct pp_pair *p, int i, char *out)
{
	if (p->family == AF_INET)
		sprintf(out, "%u.%u.%u.%u", p->addr[i][0], p->addr[i][1], p->addr[i][2],
			p->addr[i][3]);
	else
		format_v6(p->addr[i], out);
}

int proxy_header_v1(const struct proxy_header_in *in, uint8_t *buf, size_t cap, size_t *len)
{
	char line[PROXY_V1_MAX + 1], a[2][48];
	struct pp_pair p;
	int n;

	pair_of(in, &p);
	if (p.family == AF_UNSPEC) {
		n = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	} else {
		format_addr(&p, 0, a[0]);
		format_addr(&p, 1, a[1]);
		n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
			     p.family == AF_INET ? "TCP4" : "TCP6", a[0], a[1], p.port[0],
			     p.port[1]);
	}
	if (n < 0 || (size_t)n >= sizeof(line) || (size_t)n > cap)
		return -ENOSPC;
	memcpy(buf, line, (size_t)n);
	*len = (size_t)n;
	return 0;
}

static uint8_t *put_tlv(uint8_t *o, uint8_t type, const void *value, size_t n)
{
	o[0] = type;
	o[1] = (uint8_t)(n >> 8);
	o[2] = (uint8_t)n;
	if (n)
		memcpy(o + TLV_HEAD, value, n);
	return o + TLV_HEAD + n;
}

/* The first name of an ALPN ProtocolNameList body: 0 and *name, or -EINVAL. */
static int first_alpn(const uint8_t *list, size_t list_len, const uint8_t **name, size_t *n)
{
	if (list_len == 0) {
		*n = 0;
		return 0;
	}
	if (!list || list[0] == 0 || (size_t)list[0] + 1 > list_len)
		return -EINVAL;
	*name = list + 1;
	*n = list[0];
	return 0;
}

int proxy_header_v2(const struct proxy_header_in *in, uint8_t *buf, size_t cap, size_t *len)
{
	size_t addr_len, sni_len = in->authority ? strlen(in->authority) : 0, alpn_len, total;
	const uint8_t *alpn = NULL;
	uint8_t *o, *crc_at = NULL;
	struct pp_pair p;
	int err;

	err = first_alpn(in->alpn, in->alpn_len, &alpn, &alpn_len);
	if (err || sni_len > NAME_MAX_BYTES)
		return -EINVAL;
	pair_of(in, &p);
	addr_len = p.family == AF_INET ? 12 : p.family == AF_INET6 ? 36 : 0;
	total = PROXY_V2_FIXED + addr_len + (alpn_len ? TLV_HEAD + alpn_len : 0) +
		(sni_len ? TLV_HEAD + sni_len : 0) + (in->has_crc32c ? TLV_HEAD + 4 : 0);
	if (total > cap)
		return -ENOSPC;

	memcpy(buf, v2_signature, sizeof(v2_signature));
	buf[12] = p.family == AF_UNSPEC ? V2_VERSION_LOCAL : V2_VERSION_PROXY;
	buf[13] = p.family == AF_INET ? V2_TCP4 : p.family == AF_INET6 ? V2_TCP6 : V2_UNSPEC;
	buf[14] = (uint8_t)((total - PROXY_V2_FIXED) >> 8);
	buf[15] = (uint8_t)(total - PROXY_V2_FIXED);
	o = buf + PROXY_V2_FIXED;
	if (addr_len) {
		size_t a = addr_len == 12 ? 4 : 16;

		memcpy(o, p.addr[0], a);
		memcpy(o + a, p.addr[1], a);
		o += 2 * a;
		for (int i = 0; i < 2; i++) {
			*o++ = (uint8_t)(p.port[i] >> 8);
			*o++ = (uint8_t)p.port[i];
		}
	}
	if (alpn_len)
		o = put_tlv(o, PP2_TYPE_ALPN, alpn, alpn_len);
	if (sni_len)
		o = put_tlv(o, PP2_TYPE_AUTHORITY, in->authority, sni_len);
	if (in->has_crc32c) {
		static const uint8_t zero[4];

		crc_at = o + TLV_HEAD;
		o = put_tlv(o, PP2_TYPE_CRC32C, zero, sizeof(zero));
	}
	if (crc_at) {
		uint32_t crc = proxy_crc32c(buf, total);

		crc_at[0] = (uint8_t)(crc >> 24);
		crc_at[1] = (uint8_t)(crc >> 16);
		crc_at[2] = (uint8_t)(crc >> 8);
		crc_at[3] = (uint8_t)crc;
	}
	*len = (size_t)(o - buf);
	return 0;
}

/* The reflected Castagnoli polynomial 0x1EDC6F41, and its 256-entry table built
 * by the preprocessor: entry n is n shifted through the polynomial 8 times.
 * CRC_STEP names its argument twice, so 8 nested steps expand 256-fold per
 * entry: cheap for the compiler, and no table to initialise at run time. */
#define CRC32C_POLY  0x82F63B78u
#define CRC_STEP(c)  (((c) >> 1) ^ (CRC32C_POLY & (0u - ((c)&1u))))
#define CRC_STEP2(c) CRC_STEP(CRC_STEP(c))
#define CRC_ENTRY(n) CRC_STEP2(CRC_STEP2(CRC_STEP2(CRC_STEP2((uint32_t)(n)))))
#define CRC_ROW4(n)  CRC_ENTRY(n), CRC_ENTRY((n) + 1), CRC_ENTRY((n) + 2), CRC_ENTRY((n) + 3)
#define CRC_ROW16(n) CRC_ROW4(n), CRC_ROW4((n) + 4), CRC_ROW4((n) + 8), CRC_ROW4((n) + 12)
#define CRC_ROW64(n) CRC_ROW16(n), CRC_ROW16((n) + 16), CRC_ROW16((n) + 32), CRC_ROW16((n) + 48)

static const uint32_t crc32c_table[256] = {CRC_ROW64(0), CRC_ROW64(64), CRC_ROW64(128),
					   CRC_ROW64(192)};

uint32_t proxy_crc32c(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++)
		crc = (crc >> 8) ^ crc32c_table[(crc ^ p[i]) & 0xFFu];
	return crc ^ 0xFFFFFFFFu;
}
