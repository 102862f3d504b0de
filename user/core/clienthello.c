// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* clienthello.c: the rules of tests/data/clienthellos/README.md as a byte-at-a-
 * time state machine. Record de-framing feeds payload bytes to a walker over the
 * handshake message; every declared length is checked against its parent the
 * moment it is read, so errors come as early as the rules allow and nothing but
 * the SNI, ALPN and version bytes is ever stored. Pure: no I/O, no allocation. */
#include <string.h>

#include "clienthello.h"

#define TLS_CONTENT_HANDSHAKE  0x16
#define TLS_RECORD_HDR_LEN     5
#define TLS_RECORD_MAX	       16384 /* 2^14: plaintext record_overflow limit */
#define TLS_HS_CLIENT_HELLO    1
#define TLS_HS_MAX	       65536 /* header + body: what a 64 KiB buffer holds */
#define TLS_RANDOM_LEN	       32
#define TLS_SESSION_ID_MAX     32
#define EXT_SERVER_NAME	       0x0000
#define EXT_ALPN	       0x0010
#define EXT_SUPPORTED_VERSIONS 0x002b
#define SNI_TYPE_HOST_NAME     0

/* Where the walker is inside the handshake message. Integer states assemble
 * acc_want bytes big-endian; span states pass bytes through up to span_end. */
enum hs_state {
	HS_TYPE = 0,
	HS_LEN,
	HS_VERSION,
	HS_RANDOM,
	HS_SID_LEN,
	HS_SID,
	HS_CS_LEN,
	HS_CS,
	HS_COMP_LEN,
	HS_COMP,
	HS_EXTS_LEN,
	HS_EXT_HDR,
	HS_EXT_SKIP,
	HS_SNI_LIST_LEN,
	HS_SNI_TYPE,
	HS_SNI_NAME_LEN,
	HS_SNI_NAME,
	HS_ALPN_LIST_LEN,
	HS_ALPN_NAME_LEN,
	HS_ALPN_NAME,
	HS_SV_LEN,
	HS_SV_VERSION,
	HS_DONE
};

/* One of these lives per pending connection; keep the footprint deliberate. */
_Static_assert(sizeof(struct chello_parser) <= 10 * 1024, "chello_parser grew past 10 KiB");

static const char *const reason_names[CHELLO_REASON_MAX] = {
	[CHELLO_REASON_NONE] = "none",
	[CHELLO_REASON_NOT_HANDSHAKE] = "not_handshake",
	[CHELLO_REASON_SSLV2] = "sslv2_hello",
	[CHELLO_REASON_RECORD_VERSION] = "record_version",
	[CHELLO_REASON_RECORD_LENGTH] = "record_length",
	[CHELLO_REASON_RECORD_TYPE] = "record_type",
	[CHELLO_REASON_NOT_CLIENT_HELLO] = "not_client_hello",
	[CHELLO_REASON_HANDSHAKE_LENGTH] = "handshake_length",
	[CHELLO_REASON_HELLO_LENGTH] = "hello_length",
	[CHELLO_REASON_SESSION_ID] = "session_id",
	[CHELLO_REASON_CIPHER_SUITES] = "cipher_suites",
	[CHELLO_REASON_COMPRESSION] = "compression_methods",
	[CHELLO_REASON_EXTENSIONS_LENGTH] = "extensions_length",
	[CHELLO_REASON_EXTENSION_LENGTH] = "extension_length",
	[CHELLO_REASON_DUPLICATE_EXTENSION] = "duplicate_extension",
	[CHELLO_REASON_BAD_SNI] = "bad_sni",
	[CHELLO_REASON_BAD_SNI_NAME] = "bad_sni_name",
	[CHELLO_REASON_BAD_ALPN] = "bad_alpn",
	[CHELLO_REASON_BAD_SUPPORTED_VERSIONS] = "bad_supported_versions",
};

const char *chello_reason_str(enum chello_reason r)
{
	if ((unsigned)r >= CHELLO_REASON_MAX || !reason_names[r])
		return "unknown";
	return reason_names[r];
}

const char *chello_result_str(enum chello_result r)
{
	switch (r) {
	case CHELLO_NEED_MORE:
		return "need_more";
	case CHELLO_OK:
		return "ok";
	case CHELLO_ERROR:
		return "error";
	}
	return "unknown";
}

void chello_init(struct chello_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = HS_TYPE;
	p->acc_want = 1;
}

static bool is_grease(uint32_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static bool fail(struct chello_parser *p, enum chello_reason why)
{
	p->result = CHELLO_ERROR;
	p->reason = why;
	return false;
}

/* Next comes a width-byte integer; it must end by limit, the end of the
 * innermost enclosing vector, which itself was checked against its parent. */
static bool expect_int(struct chello_parser *p, enum hs_state st, unsigned width, uint32_t limit,
		       enum chello_reason why)
{
	if (p->pos + width > limit)
		return fail(p, why);
	p->state = st;
	p->acc = 0;
	p->acc_have = 0;
	p->acc_want = width;
	return true;
}

static bool span_done(struct chello_parser *p);

static bool expect_span(struct chello_parser *p, enum hs_state st, uint32_t len, uint32_t limit,
			enum chello_reason why)
{
	if (p->pos + len > limit)
		return fail(p, why);
	p->state = st;
	p->acc_want = 0;
	p->span_end = p->pos + len;
	/* An empty vector ends where it starts: no byte will arrive to finish it. */
	if (len == 0)
		return span_done(p);
	return true;
}

static bool hello_done(struct chello_parser *p)
{
	p->state = HS_DONE;
	p->result = CHELLO_OK;
	/* Only a whole hello is judged: a later duplicate could still have failed it. */
	p->info.has_sni = p->saw_sni;
	p->info.has_alpn = p->saw_alpn;
	return true;
}

/* The previous extension ended exactly at its declared end. */
static bool next_extension(struct chello_parser *p)
{
	if (p->pos == p->exts_end)
		return hello_done(p);
	return expect_int(p, HS_EXT_HDR, 4, p->exts_end, CHELLO_REASON_EXTENSION_LENGTH);
}

static bool extension_start(struct chello_parser *p, uint16_t type, uint16_t len)
{
	uint8_t bit = (uint8_t)(1u << (type & 7));

	if (p->pos + len > p->exts_end)
		return fail(p, CHELLO_REASON_EXTENSION_LENGTH);
	if (p->seen_ext[type >> 3] & bit)
		return fail(p, CHELLO_REASON_DUPLICATE_EXTENSION);
	p->seen_ext[type >> 3] |= bit;
	p->ext_end = p->pos + len;
	switch (type) {
	case EXT_SERVER_NAME:
		return expect_int(p, HS_SNI_LIST_LEN, 2, p->ext_end, CHELLO_REASON_BAD_SNI);
	case EXT_ALPN:
		return expect_int(p, HS_ALPN_LIST_LEN, 2, p->ext_end, CHELLO_REASON_BAD_ALPN);
	case EXT_SUPPORTED_VERSIONS:
		return expect_int(p, HS_SV_LEN, 1, p->ext_end,
				  CHELLO_REASON_BAD_SUPPORTED_VERSIONS);
	}
	return expect_span(p, HS_EXT_SKIP, len, p->ext_end, CHELLO_REASON_EXTENSION_LENGTH);
}

static bool alpn_name_start(struct chello_parser *p, uint32_t len)
{
	struct chello_info *info = &p->info;

	if (len == 0)
		return fail(p, CHELLO_REASON_BAD_ALPN);
	/* Keep a prefix of whole names so info.alpn always walks cleanly; once one
	 * name is dropped, later ones are too, to keep wire order meaningful. */
	p->alpn_storing = !info->alpn_truncated && info->alpn_len + 1 + len <= CHELLO_ALPN_MAX;
	if (p->alpn_storing) {
		info->alpn[info->alpn_len++] = (uint8_t)len;
		info->n_alpn++;
	} else {
		info->alpn_truncated = true;
	}
	return expect_span(p, HS_ALPN_NAME, len, p->list_end, CHELLO_REASON_BAD_ALPN);
}

static bool version_seen(struct chello_parser *p, uint32_t v)
{
	struct chello_info *info = &p->info;

	if (!is_grease(v)) {
		if (info->n_versions < CHELLO_VERSIONS_MAX)
			info->versions[info->n_versions++] = (uint16_t)v;
		else
			info->versions_truncated = true;
	}
	if (p->pos == p->list_end)
		return next_extension(p);
	return expect_int(p, HS_SV_VERSION, 2, p->list_end, CHELLO_REASON_BAD_SUPPORTED_VERSIONS);
}

/* An integer field is complete: validate it against the rules and its parent. */
static bool int_done(struct chello_parser *p, uint32_t v)
{
	uint32_t rest = 0;

	switch ((enum hs_state)p->state) {
	case HS_TYPE:
		if (v != TLS_HS_CLIENT_HELLO)
			return fail(p, CHELLO_REASON_NOT_CLIENT_HELLO);
		return expect_int(p, HS_LEN, 3, UINT32_MAX, CHELLO_REASON_NONE);
	case HS_LEN:
		/* Refuse now: waiting for bytes that cannot fit would stall the client. */
		if (4 + v > TLS_HS_MAX)
			return fail(p, CHELLO_REASON_HANDSHAKE_LENGTH);
		p->msg_end = 4 + v;
		return expect_int(p, HS_VERSION, 2, p->msg_end, CHELLO_REASON_HELLO_LENGTH);
	case HS_VERSION:
		p->info.legacy_version = (uint16_t)v;
		return expect_span(p, HS_RANDOM, TLS_RANDOM_LEN, p->msg_end,
				   CHELLO_REASON_HELLO_LENGTH);
	case HS_SID_LEN:
		if (v > TLS_SESSION_ID_MAX)
			return fail(p, CHELLO_REASON_SESSION_ID);
		return expect_span(p, HS_SID, v, p->msg_end, CHELLO_REASON_HELLO_LENGTH);
	case HS_CS_LEN:
		if (v < 2 || (v & 1))
			return fail(p, CHELLO_REASON_CIPHER_SUITES);
		return expect_span(p, HS_CS, v, p->msg_end, CHELLO_REASON_HELLO_LENGTH);
	case HS_COMP_LEN:
		if (v < 1)
			return fail(p, CHELLO_REASON_COMPRESSION);
		return expect_span(p, HS_COMP, v, p->msg_end, CHELLO_REASON_HELLO_LENGTH);
	case HS_EXTS_LEN:
		if (v != p->msg_end - p->pos)
			return fail(p, CHELLO_REASON_EXTENSIONS_LENGTH);
		p->exts_end = p->msg_end;
		return next_extension(p);
	case HS_EXT_HDR:
		return extension_start(p, (uint16_t)(v >> 16), (uint16_t)v);
	case HS_SNI_LIST_LEN:
		if (v == 0 || v != p->ext_end - p->pos)
			return fail(p, CHELLO_REASON_BAD_SNI);
		p->list_end = p->ext_end;
		return expect_int(p, HS_SNI_TYPE, 1, p->list_end, CHELLO_REASON_BAD_SNI);
	case HS_SNI_TYPE:
		if (v != SNI_TYPE_HOST_NAME)
			return fail(p, CHELLO_REASON_BAD_SNI);
		return expect_int(p, HS_SNI_NAME_LEN, 2, p->list_end, CHELLO_REASON_BAD_SNI);
	case HS_SNI_NAME_LEN:
		/* The list holds exactly one entry, so the name must end it. */
		if (p->pos + v != p->list_end)
			return fail(p, CHELLO_REASON_BAD_SNI);
		if (v == 0 || v > HOSTNAME_MAX)
			return fail(p, CHELLO_REASON_BAD_SNI_NAME);
		p->sni_raw_len = 0;
		return expect_span(p, HS_SNI_NAME, v, p->list_end, CHELLO_REASON_BAD_SNI);
	case HS_ALPN_LIST_LEN:
		if (v == 0 || v != p->ext_end - p->pos)
			return fail(p, CHELLO_REASON_BAD_ALPN);
		p->list_end = p->ext_end;
		p->saw_alpn = true;
		return expect_int(p, HS_ALPN_NAME_LEN, 1, p->list_end, CHELLO_REASON_BAD_ALPN);
	case HS_ALPN_NAME_LEN:
		return alpn_name_start(p, v);
	case HS_SV_LEN:
		rest = p->ext_end - p->pos;
		if (v < 2 || (v & 1) || v != rest)
			return fail(p, CHELLO_REASON_BAD_SUPPORTED_VERSIONS);
		p->list_end = p->ext_end;
		return expect_int(p, HS_SV_VERSION, 2, p->list_end,
				  CHELLO_REASON_BAD_SUPPORTED_VERSIONS);
	case HS_SV_VERSION:
		return version_seen(p, v);
	default:
		break;
	}
	return fail(p, CHELLO_REASON_NONE);
}

/* A byte span reached its declared end. */
static bool span_done(struct chello_parser *p)
{
	struct chello_info *info = &p->info;
	size_t sni_len;

	switch ((enum hs_state)p->state) {
	case HS_RANDOM:
		return expect_int(p, HS_SID_LEN, 1, p->msg_end, CHELLO_REASON_HELLO_LENGTH);
	case HS_SID:
		return expect_int(p, HS_CS_LEN, 2, p->msg_end, CHELLO_REASON_HELLO_LENGTH);
	case HS_CS:
		return expect_int(p, HS_COMP_LEN, 1, p->msg_end, CHELLO_REASON_HELLO_LENGTH);
	case HS_COMP:
		/* The extensions block may be absent only if the body ends here. */
		if (p->pos == p->msg_end)
			return hello_done(p);
		return expect_int(p, HS_EXTS_LEN, 2, p->msg_end, CHELLO_REASON_EXTENSIONS_LENGTH);
	case HS_EXT_SKIP:
		return next_extension(p);
	case HS_SNI_NAME:
		if (hostname_normalize(p->sni_raw, p->sni_raw_len, info->sni, &sni_len) !=
		    HOSTNAME_OK)
			return fail(p, CHELLO_REASON_BAD_SNI_NAME);
		info->sni_len = (uint16_t)sni_len;
		p->saw_sni = true;
		return next_extension(p);
	case HS_ALPN_NAME:
		if (p->pos == p->list_end)
			return next_extension(p);
		return expect_int(p, HS_ALPN_NAME_LEN, 1, p->list_end, CHELLO_REASON_BAD_ALPN);
	default:
		break;
	}
	return fail(p, CHELLO_REASON_NONE);
}

static void span_bytes(struct chello_parser *p, const uint8_t *d, size_t n)
{
	struct chello_info *info = &p->info;

	/* Lengths were bounded when the span started: 255 and CHELLO_ALPN_MAX. */
	if (p->state == HS_SNI_NAME) {
		memcpy(p->sni_raw + p->sni_raw_len, d, n);
		p->sni_raw_len += (uint16_t)n;
	} else if (p->state == HS_ALPN_NAME && p->alpn_storing) {
		memcpy(info->alpn + info->alpn_len, d, n);
		info->alpn_len += (uint16_t)n;
	}
}

/* Walks up to n payload bytes of handshake data; returns how many it used,
 * which is fewer than n only when the hello ended or failed. */
static size_t hs_consume(struct chello_parser *p, const uint8_t *d, size_t n)
{
	size_t i = 0;

	while (i < n && p->result == CHELLO_NEED_MORE) {
		if (p->acc_want) {
			p->acc = p->acc << 8 | d[i++];
			p->pos++;
			if (++p->acc_have == p->acc_want)
				int_done(p, p->acc);
		} else {
			size_t k = p->span_end - p->pos;

			if (k > n - i)
				k = n - i;
			span_bytes(p, d + i, k);
			i += k;
			p->pos += (uint32_t)k;
			if (p->pos == p->span_end)
				span_done(p);
		}
	}
	return i;
}

/* One byte of a record header. Content type is judged on its own byte, the
 * rest once all five are in. */
static bool record_header_byte(struct chello_parser *p, uint8_t b)
{
	switch (p->rec_hdr_have++) {
	case 0:
		if (b == TLS_CONTENT_HANDSHAKE)
			return true;
		if (p->info.n_records > 0)
			return fail(p, CHELLO_REASON_RECORD_TYPE);
		return fail(p, b & 0x80 ? CHELLO_REASON_SSLV2 : CHELLO_REASON_NOT_HANDSHAKE);
	case 1:
		p->rec_major = b;
		return true;
	case 2:
		return true;
	case 3:
		p->rec_len = (uint16_t)(b << 8);
		return true;
	default:
		p->rec_len |= b;
		break;
	}
	if (p->rec_major != 3)
		return fail(p, CHELLO_REASON_RECORD_VERSION);
	if (p->rec_len == 0 || p->rec_len > TLS_RECORD_MAX)
		return fail(p, CHELLO_REASON_RECORD_LENGTH);
	p->rec_left = p->rec_len;
	p->info.n_records++;
	return true;
}

enum chello_result chello_feed(struct chello_parser *p, const uint8_t *data, size_t len)
{
	size_t i = 0;

	while (i < len && p->result == CHELLO_NEED_MORE) {
		size_t n, used;

		if (p->rec_hdr_have < TLS_RECORD_HDR_LEN) {
			p->stream_pos++;
			record_header_byte(p, data[i++]);
			continue;
		}
		n = len - i < p->rec_left ? len - i : p->rec_left;
		used = hs_consume(p, data + i, n);
		i += used;
		p->stream_pos += used;
		p->rec_left -= (uint16_t)used;
		if (p->rec_left == 0)
			p->rec_hdr_have = 0;
		/* hs_consume() stopped on the hello's last byte, so this is its end. */
		if (p->result == CHELLO_OK)
			p->info.hello_end = p->stream_pos;
	}
	return p->result;
}

size_t chello_need(const struct chello_parser *p)
{
	size_t hs_need;

	if (p->result != CHELLO_NEED_MORE)
		return 0;
	/* Header bytes are judged one by one (a record's content type and version,
	 * the handshake type) and a record that is not a handshake ends the hello
	 * there: no wait may reach past them, or a malformed hello would sit until
	 * hello_timeout for bytes its client will never send. Headers are short, so
	 * this costs a few peeks per record. */
	if (p->rec_hdr_have < TLS_RECORD_HDR_LEN || !p->msg_end)
		return 1;
	hs_need = p->msg_end > p->pos ? (size_t)(p->msg_end - p->pos) : 1;
	/* The message ends in this record, or the record ends first and the next
	 * header's first byte is the next thing judged. */
	return hs_need <= p->rec_left ? hs_need : (size_t)p->rec_left + 1;
}
