// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* clienthello.h: incremental TLS ClientHello parser. It de-frames handshake
 * records and walks the ClientHello body as bytes arrive, in any split, and
 * keeps only what routing needs: the normalised SNI, the ALPN list in wire form
 * and the offered versions. Pure: no I/O, no allocation, no globals; all state
 * lives in the caller's struct chello_parser. */
#ifndef SG_CLIENTHELLO_H
#define SG_CLIENTHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostname.h"

/* Bytes of ALPN ProtocolNameList kept; longer lists are still validated whole. */
#define CHELLO_ALPN_MAX 1024
/* Non-GREASE supported_versions entries kept (the wire allows 127). */
#define CHELLO_VERSIONS_MAX 16

enum chello_result {
	CHELLO_NEED_MORE = 0, /* every byte so far fits a ClientHello; feed more */
	CHELLO_OK,	      /* complete, valid ClientHello; info is filled */
	CHELLO_ERROR	      /* can never become an acceptable ClientHello */
};

/* Why a parse failed. Each value is one kind of malformation, so that a
 * per-reason counter tells operators what clients are sending. */
enum chello_reason {
	CHELLO_REASON_NONE = 0,
	CHELLO_REASON_NOT_HANDSHAKE,	      /* first byte is not 0x16 (HTTP, PROXY, alert...) */
	CHELLO_REASON_SSLV2,		      /* first byte has the high bit set: SSLv2 hello */
	CHELLO_REASON_RECORD_VERSION,	      /* record version major byte is not 3 */
	CHELLO_REASON_RECORD_LENGTH,	      /* record length 0 or above 2^14 */
	CHELLO_REASON_RECORD_TYPE,	      /* non-handshake record before the hello ended */
	CHELLO_REASON_NOT_CLIENT_HELLO,	      /* first handshake message type is not 1 */
	CHELLO_REASON_HANDSHAKE_LENGTH,	      /* 4 + declared length exceeds 64 KiB */
	CHELLO_REASON_HELLO_LENGTH,	      /* a fixed field runs past the handshake message */
	CHELLO_REASON_SESSION_ID,	      /* legacy_session_id longer than 32 bytes */
	CHELLO_REASON_CIPHER_SUITES,	      /* cipher_suites empty or of odd length */
	CHELLO_REASON_COMPRESSION,	      /* no compression method */
	CHELLO_REASON_EXTENSIONS_LENGTH,      /* extensions block does not end the message */
	CHELLO_REASON_EXTENSION_LENGTH,	      /* an extension header or body overruns the block */
	CHELLO_REASON_DUPLICATE_EXTENSION,    /* the same extension type twice */
	CHELLO_REASON_BAD_SNI,		      /* server_name structure (list, entry count, type) */
	CHELLO_REASON_BAD_SNI_NAME,	      /* host_name breaks the hostname rules */
	CHELLO_REASON_BAD_ALPN,		      /* ALPN list empty, malformed or with an empty name */
	CHELLO_REASON_BAD_SUPPORTED_VERSIONS, /* supported_versions list malformed */
	CHELLO_REASON_MAX
};

/* What a complete ClientHello offered. Valid only once chello_feed() has
 * returned CHELLO_OK; while it needs more, nothing here may be trusted. */
struct chello_info {
	bool has_sni;		 /* a server_name extension with a valid host_name */
	bool has_alpn;		 /* an ALPN extension (never empty when present) */
	bool alpn_truncated;	 /* names beyond CHELLO_ALPN_MAX bytes were dropped */
	bool versions_truncated; /* supported versions beyond CHELLO_VERSIONS_MAX dropped */
	uint16_t legacy_version; /* ClientHello.legacy_version, e.g. 0x0303 */
	uint16_t sni_len;
	uint16_t alpn_len;	    /* bytes used in alpn[] */
	uint16_t n_alpn;	    /* names held in alpn[] (not counting dropped ones) */
	uint16_t n_versions;	    /* entries in versions[], GREASE left out */
	uint32_t n_records;	    /* TLS records the hello was spread over */
	size_t hello_end;	    /* stream bytes up to and including the hello's last byte */
	char sni[HOSTNAME_MAX + 1]; /* normalised (lowercase, no trailing dot), NUL-terminated */
	uint16_t versions[CHELLO_VERSIONS_MAX]; /* supported_versions in wire order */
	/* ProtocolNameList body in wire order: for each name, 1 length byte + name.
	 * Only whole names are kept, so it always walks cleanly. */
	uint8_t alpn[CHELLO_ALPN_MAX];
};

/* Parser state. Everything but info, result and reason is private to
 * clienthello.c. 9856 bytes on x86-64, 8 KiB of which is the extension-type
 * bitmap that makes the duplicate check exact for all 65536 types; embed it in
 * the per-connection struct rather than putting it on a small stack. */
struct chello_parser {
	enum chello_result result;
	enum chello_reason reason;
	struct chello_info info;

	/* record de-framer */
	size_t stream_pos;    /* stream bytes consumed so far */
	uint8_t rec_hdr_have; /* header bytes seen for the current record, 0..5 */
	uint8_t rec_major;
	uint16_t rec_len;  /* length field being assembled */
	uint16_t rec_left; /* payload bytes of the current record not yet consumed */

	/* handshake message walker; offsets count from the handshake header */
	uint8_t state;
	uint8_t acc_have;
	uint8_t acc_want; /* 0: the state is a byte span, not an integer */
	bool saw_sni;
	bool saw_alpn;
	uint32_t acc;
	uint32_t pos;
	uint32_t msg_end;
	uint32_t exts_end;
	uint32_t ext_end;
	uint32_t list_end;
	uint32_t span_end;
	uint16_t sni_raw_len;
	bool alpn_storing; /* the name being read is copied into info.alpn */
	char sni_raw[HOSTNAME_MAX];
	uint8_t seen_ext[65536 / 8];
};

/* Resets p for a new connection. Must be called before the first feed. */
void chello_init(struct chello_parser *p);

/* Feeds the next len bytes of the stream (data may be NULL when len is 0).
 * Returns CHELLO_NEED_MORE while the hello is incomplete, CHELLO_OK once the
 * last byte of a valid ClientHello has been consumed (p->info is filled; bytes
 * from info.hello_end on belong to the stream), or CHELLO_ERROR (p->reason says
 * why) as soon as the bytes can no longer become a valid hello. After OK or
 * ERROR, further feeds return the same result and ignore their bytes. */
enum chello_result chello_feed(struct chello_parser *p, const uint8_t *data, size_t len);

/* The stream bytes still to come before p can next decide: 1 while a record or
 * handshake header is coming in (judged byte by byte); else the rest of the
 * handshake message if it ends in the current record; else the rest of the
 * record and the next header's first byte. 0 once the result is final. A
 * caller that waits for this many more bytes before feeding again
 * (SO_RCVLOWAT) sees every result as soon as its bytes are in, and peeks a
 * hello of R records about 10 R times, however it is segmented. */
size_t chello_need(const struct chello_parser *p);

/* Returns a short, stable snake_case name for r ("duplicate_extension", ...),
 * usable as a metrics label. Never NULL. */
const char *chello_reason_str(enum chello_reason r);

/* Returns "need_more", "ok" or "error". Never NULL. */
const char *chello_result_str(enum chello_result r);

/* Steps through a ProtocolNameList body in wire form (info.alpn, or the same
 * form from a route table). *off is the cursor: start it at 0. On success
 * stores the next name and its length and returns true; returns false at the
 * end or if the next entry is empty or would run past wire_len. */
static inline bool chello_alpn_next(const uint8_t *wire, size_t wire_len, size_t *off,
				    const uint8_t **name, size_t *name_len)
{
	size_t n;

	if (*off >= wire_len)
		return false;
	n = wire[*off];
	if (n == 0 || n > wire_len - *off - 1)
		return false;
	*name = wire + *off + 1;
	*name_len = n;
	*off += 1 + n;
	return true;
}

/* Loops over the names of a wire-form list: name (const uint8_t *) and
 * name_len (size_t) are set for each; off (size_t) is the cursor. */
#define for_each_alpn(name, name_len, wire, wire_len, off)                                         \
	for ((off) = 0; chello_alpn_next((wire), (wire_len), &(off), &(name), &(name_len));)

#endif
