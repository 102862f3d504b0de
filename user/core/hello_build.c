// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* hello_build.c: the ClientHello of hello_build.h. The offer is a modern
 * browser-like one trimmed to what OpenSSL 3 needs to pick TLS 1.3 with x25519
 * in one round trip, plus TLS 1.2 ECDHE suites so a 1.2-only server still
 * answers. Lengths are back-patched; the writer keeps counting past cap so an
 * overflow is reported as -ENOSPC without writing out of bounds. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hello_build.h"
#include "hostname.h"

enum {
	EXT_SERVER_NAME = 0x0000,
	EXT_SUPPORTED_GROUPS = 0x000a,
	EXT_EC_POINT_FORMATS = 0x000b,
	EXT_SIGNATURE_ALGORITHMS = 0x000d,
	EXT_ALPN = 0x0010,
	EXT_EXTENDED_MASTER_SECRET = 0x0017,
	EXT_SUPPORTED_VERSIONS = 0x002b,
	EXT_PSK_KEY_EXCHANGE_MODES = 0x002d,
	EXT_KEY_SHARE = 0x0033,
	GROUP_X25519 = 0x001d,
	GROUP_SECP256R1 = 0x0017,
};

static const uint16_t cipher_suites[] = {
	0x1301, /* TLS_AES_128_GCM_SHA256 */
	0x1302, /* TLS_AES_256_GCM_SHA384 */
	0x1303, /* TLS_CHACHA20_POLY1305_SHA256 */
	0xc02b, /* ECDHE-ECDSA-AES128-GCM-SHA256 */
	0xc02f, /* ECDHE-RSA-AES128-GCM-SHA256 */
	0xc02c, /* ECDHE-ECDSA-AES256-GCM-SHA384 */
	0xc030, /* ECDHE-RSA-AES256-GCM-SHA384 */
	0xcca9, /* ECDHE-ECDSA-CHACHA20-POLY1305 */
	0xcca8, /* ECDHE-RSA-CHACHA20-POLY1305 */
};

static const uint16_t sig_algs[] = {
	0x0403, /* ecdsa_secp256r1_sha256 */
	0x0804, /* rsa_pss_rsae_sha256 */
	0x0401, /* rsa_pkcs1_sha256 */
	0x0503, /* ecdsa_secp384r1_sha384 */
	0x0805, /* rsa_pss_rsae_sha384 */
	0x0501, /* rsa_pkcs1_sha384 */
	0x0806, /* rsa_pss_rsae_sha512 */
	0x0601, /* rsa_pkcs1_sha512 */
	0x0807, /* ed25519 */
};

struct writer {
	uint8_t *buf;
	size_t cap;
	size_t pos; /* may pass cap: then nothing more is stored */
};

static void put(struct writer *w, const void *data, size_t n)
{
	if (w->pos <= w->cap && n <= w->cap - w->pos)
		memcpy(w->buf + w->pos, data, n);
	w->pos += n;
}

static void put8(struct writer *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(w, &b, 1);
}

static void put16(struct writer *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

/* Reserves a length field of width bytes at the current position; returns its offset. */
static size_t len_open(struct writer *w, size_t width)
{
	size_t at = w->pos;

	for (size_t i = 0; i < width; i++)
		put8(w, 0);
	return at;
}

/* Fills the length field opened at `at` with the bytes written after it. */
static void len_close(struct writer *w, size_t at, size_t width)
{
	size_t len = w->pos - at - width;

	if (w->pos > w->cap)
		return;
	for (size_t i = 0; i < width; i++)
		w->buf[at + i] = (uint8_t)(len >> (8 * (width - 1 - i)));
}

static void put_u16_list(struct writer *w, const uint16_t *v, size_t n, size_t len_width)
{
	size_t at = len_open(w, len_width);

	for (size_t i = 0; i < n; i++)
		put16(w, v[i]);
	len_close(w, at, len_width);
}

static void put_sni(struct writer *w, const char *name, size_t len)
{
	size_t ext, list, hn;

	put16(w, EXT_SERVER_NAME);
	ext = len_open(w, 2);
	list = len_open(w, 2);
	put8(w, 0); /* host_name */
	hn = len_open(w, 2);
	put(w, name, len);
	len_close(w, hn, 2);
	len_close(w, list, 2);
	len_close(w, ext, 2);
}

static void put_alpn(struct writer *w, const char *const *names, size_t n)
{
	size_t ext, list;

	put16(w, EXT_ALPN);
	ext = len_open(w, 2);
	list = len_open(w, 2);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		put8(w, (unsigned)len);
		put(w, names[i], len);
	}
	len_close(w, list, 2);
	len_close(w, ext, 2);
}

static void put_fixed_exts(struct writer *w, const struct hello_spec *s)
{
	static const uint16_t groups[] = {GROUP_X25519, GROUP_SECP256R1};
	static const uint16_t versions[] = {0x0304, 0x0303};
	size_t ext, shares;

	put16(w, EXT_EC_POINT_FORMATS);
	put16(w, 2);
	put8(w, 1);
	put8(w, 0); /* uncompressed */

	put16(w, EXT_SUPPORTED_GROUPS);
	ext = len_open(w, 2);
	put_u16_list(w, groups, sizeof(groups) / sizeof(groups[0]), 2);
	len_close(w, ext, 2);

	put16(w, EXT_SIGNATURE_ALGORITHMS);
	ext = len_open(w, 2);
	put_u16_list(w, sig_algs, sizeof(sig_algs) / sizeof(sig_algs[0]), 2);
	len_close(w, ext, 2);

	/* Lets a TLS 1.2 server finish a full handshake with RFC 7627 hashing. */
	put16(w, EXT_EXTENDED_MASTER_SECRET);
	put16(w, 0);

	put16(w, EXT_SUPPORTED_VERSIONS);
	ext = len_open(w, 2);
	put_u16_list(w, versions, sizeof(versions) / sizeof(versions[0]), 1);
	len_close(w, ext, 2);

	/* Without it an OpenSSL server refuses to issue session tickets, nothing worse;
	 * browsers always send it, so proxies see the usual shape. */
	put16(w, EXT_PSK_KEY_EXCHANGE_MODES);
	put16(w, 2);
	put8(w, 1);
	put8(w, 1); /* psk_dhe_ke */

	put16(w, EXT_KEY_SHARE);
	ext = len_open(w, 2);
	shares = len_open(w, 2);
	put16(w, GROUP_X25519);
	put16(w, sizeof(s->key_share));
	put(w, s->key_share, sizeof(s->key_share));
	len_close(w, shares, 2);
	len_close(w, ext, 2);
}

static bool alpn_valid(const struct hello_spec *s)
{
	if (s->n_alpn > 0 && !s->alpn)
		return false;
	for (size_t i = 0; i < s->n_alpn; i++) {
		size_t len;

		if (!s->alpn[i])
			return false;
		len = strlen(s->alpn[i]);
		if (len == 0 || len > 255)
			return false;
	}
	return true;
}

ssize_t hello_build(uint8_t *buf, size_t cap, const struct hello_spec *s)
{
	char sni[HOSTNAME_MAX + 1];
	size_t sni_len = 0, record, hs, exts;
	struct writer w = {.buf = buf, .cap = cap};

	if (s->sni && hostname_normalize(s->sni, strlen(s->sni), sni, &sni_len) != HOSTNAME_OK)
		return -EINVAL;
	if (!alpn_valid(s))
		return -EINVAL;

	put8(&w, 0x16);	   /* handshake record */
	put16(&w, 0x0301); /* record version: what TLS 1.3 clients send in the first record */
	record = len_open(&w, 2);
	put8(&w, 1); /* client_hello */
	hs = len_open(&w, 3);
	put16(&w, 0x0303);
	put(&w, s->random, sizeof(s->random));
	put8(&w, sizeof(s->session_id));
	put(&w, s->session_id, sizeof(s->session_id));
	put_u16_list(&w, cipher_suites, sizeof(cipher_suites) / sizeof(cipher_suites[0]), 2);
	put8(&w, 1);
	put8(&w, 0); /* null compression */
	exts = len_open(&w, 2);
	if (s->sni)
		put_sni(&w, sni, sni_len);
	put_fixed_exts(&w, s);
	if (s->n_alpn > 0)
		put_alpn(&w, s->alpn, s->n_alpn);
	len_close(&w, exts, 2);
	len_close(&w, hs, 3);
	len_close(&w, record, 2);

	if (w.pos - record - 2 > HELLO_BUILD_RECORD_MAX)
		return -EINVAL;
	if (w.pos > cap)
		return -ENOSPC;
	return (ssize_t)w.pos;
}
