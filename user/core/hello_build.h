/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* hello_build.h: builds one TLS record holding a TLS 1.3 ClientHello that real
 * servers (OpenSSL 3, nginx) answer with a ServerHello. Used by the load generator,
 * which must look like a TLS client to every proxy it measures, and by the TLS
 * health check. Pure: no I/O, no allocation, no randomness of its own; the
 * caller supplies every random byte, so the output is a function of the spec. */
#ifndef SG_HELLO_BUILD_H
#define SG_HELLO_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest TLS plaintext record payload (RFC 8446 §5.1); the hello fits in one. */
#define HELLO_BUILD_RECORD_MAX 16384
/* Bytes needed for a hello without ALPN and with a 255-byte SNI, rounded up. */
#define HELLO_BUILD_BASE_MAX 600

struct hello_spec {
	const char *sni;	 /* server_name host_name; NULL sends no server_name */
	const char *const *alpn; /* ALPN protocol names, each 1..255 bytes */
	size_t n_alpn;		 /* 0 sends no ALPN extension (alpn may be NULL) */
	uint8_t random[32];	 /* ClientHello.random */
	uint8_t session_id[32];	 /* legacy_session_id (middlebox compatibility mode) */
	uint8_t key_share[32];	 /* x25519 public key offered in key_share */
};

/* Writes the record (5-byte header + ClientHello handshake message) to buf and
 * returns its length. The SNI is sent lowercased without a trailing dot.
 * Returns -EINVAL when the SNI breaks the hostname rules (hostname.h), an ALPN
 * name is NULL, empty or longer than 255 bytes, or the hello would not fit one
 * record; -ENOSPC when cap is smaller than the record (buf is then undefined). */
ssize_t hello_build(uint8_t *buf, size_t cap, const struct hello_spec *s);

#endif
