/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* proto.h: what the load generator and the bench backend say to each other,
 * after the TLS ClientHello record that opens every connection:
 *   client -> server: preamble, then messages: DATA len + len pattern bytes,
 *                     GET len, END (once, last);
 *   server -> client: for each GET, len pattern bytes; after END, one result,
 *                     then FIN.
 * Both directions are fully delimited, so each side knows exactly how many
 * bytes must arrive: a truncated stream is an error, not a clean close. All
 * integers are big-endian. */
#ifndef SG_BENCH_PROTO_H
#define SG_BENCH_PROTO_H

#include <stdint.h>
#include <string.h>

#define PROTO_PREAMBLE_LEN 16 /* "SGB1", u32 flags (0), u64 seed */
#define PROTO_MSG_LEN	   8  /* u8 type, 3 zero bytes, u32 len */
#define PROTO_RESULT_LEN   16 /* "SGBR", u32 status, u64 DATA bytes verified */
#define PROTO_DATA_MAX	   (1u << 20)

static const uint8_t proto_preamble_magic[4] = {'S', 'G', 'B', '1'};
static const uint8_t proto_result_magic[4] = {'S', 'G', 'B', 'R'};

enum proto_msg {
	PROTO_MSG_DATA = 'D',
	PROTO_MSG_GET = 'G',
	PROTO_MSG_END = 'E',
};

enum proto_status {
	PROTO_STATUS_OK = 0,
};

/* The downstream pattern's seed: another phase than the upstream's. */
static inline uint64_t proto_down_seed(uint64_t seed)
{
	return seed ^ 0x646f776e73747265ull; /* "downstre" */
}

static inline void proto_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void proto_put64(uint8_t *p, uint64_t v)
{
	proto_put32(p, (uint32_t)(v >> 32));
	proto_put32(p + 4, (uint32_t)v);
}

static inline uint32_t proto_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t proto_get64(const uint8_t *p)
{
	return (uint64_t)proto_get32(p) << 32 | proto_get32(p + 4);
}

static inline void proto_preamble(uint8_t *p, uint64_t seed)
{
	memcpy(p, proto_preamble_magic, 4);
	proto_put32(p + 4, 0);
	proto_put64(p + 8, seed);
}

static inline void proto_msg(uint8_t *p, enum proto_msg type, uint32_t len)
{
	p[0] = (uint8_t)type;
	p[1] = p[2] = p[3] = 0;
	proto_put32(p + 4, len);
}

static inline void proto_result(uint8_t *p, uint32_t status, uint64_t verified)
{
	memcpy(p, proto_result_magic, 4);
	proto_put32(p + 4, status);
	proto_put64(p + 8, verified);
}

#endif
