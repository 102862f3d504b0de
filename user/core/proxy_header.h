/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* proxy_header.h: the PROXY protocol header a gateway writes to a backend before
 * the client's bytes (haproxy's doc/proxy-protocol.txt): version 1 (one text
 * line) and version 2 (binary, with TLVs for the SNI, the first offered ALPN
 * protocol and an optional CRC32C). Pure: no I/O, no allocation, no globals. */
#ifndef SG_PROXY_HEADER_H
#define SG_PROXY_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* TLV types of the specification, section 2.2. */
#define PP2_TYPE_ALPN	   0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_CRC32C	   0x03

/* Bytes of the fixed v2 header: signature, version/command, family, length. */
#define PROXY_V2_FIXED 16
/* The longest v1 line ("PROXY UNKNOWN" with two full IPv6 addresses, CRLF). */
#define PROXY_V1_MAX 107
/* The longest header built here: v2 with IPv6 addresses, a 255-byte ALPN name,
 * a 255-byte SNI and the CRC32C TLV. A fresh socket's send buffer holds it whole. */
#define PROXY_HEADER_MAX (PROXY_V2_FIXED + 36 + (3 + 255) + (3 + 255) + (3 + 4))

struct proxy_header_in {
	const struct sockaddr_storage *src; /* the client's address */
	const struct sockaddr_storage *dst; /* the address the client connected to */
	const char *authority;		    /* v2: SNI for PP2_TYPE_AUTHORITY; NULL, "": none */
	/* v2: the ClientHello's ALPN ProtocolNameList body (length byte, name, ...).
	 * Only its first name is sent: see proxy_header_v2(). alpn_len 0: none. */
	const uint8_t *alpn;
	size_t alpn_len;
	bool has_crc32c; /* v2: append a PP2_TYPE_CRC32C TLV */
};

/* Writes the v1 line for in->src and in->dst into buf[0..cap) and its length
 * into *len (no NUL is written). An IPv4-mapped IPv6 address counts as IPv4;
 * two IPv4 addresses give "TCP4", otherwise an IPv4 one is written as an
 * IPv4-mapped IPv6 address (in hex groups) and the line says "TCP6". Either
 * address not AF_INET/AF_INET6 gives "PROXY UNKNOWN\r\n", which tells the
 * receiver to use the connection's own addresses. TLV fields of in are not used.
 * Returns 0 or -ENOSPC (buf too small; nothing usable written). */
int proxy_header_v1(const struct proxy_header_in *in, uint8_t *buf, size_t cap, size_t *len);

/* Writes the v2 header into buf[0..cap) and its length into *len. Addresses
 * as in proxy_header_v1(): AF_INET (0x11) for two IPv4 addresses, else AF_INET6
 * (0x21) with the IPv4 one mapped; a non-IP address gives LOCAL/UNSPEC and no
 * address block. Then, in this order, when present: PP2_TYPE_ALPN with the
 * client's FIRST offered protocol name (the gateway never sees the server's
 * choice; in the common single-protocol case the first offer is what the
 * server picks), PP2_TYPE_AUTHORITY with in->authority, PP2_TYPE_CRC32C with
 * the CRC32C of the whole header computed over a zeroed checksum field, stored
 * big-endian. Returns 0, -ENOSPC (buf too small) or -EINVAL (an authority over
 * 255 bytes, an ALPN list whose first name is empty or overruns it). */
int proxy_header_v2(const struct proxy_header_in *in, uint8_t *buf, size_t cap, size_t *len);

/* CRC32C (Castagnoli, RFC 4960 Appendix B) of data[0..len):
 * proxy_crc32c("123456789", 9) == 0xE3069283. */
uint32_t proxy_crc32c(const void *data, size_t len);

#endif
