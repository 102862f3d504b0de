/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* tls_load.h: the real-TLS workload (`sockgate-bench tls`). N slots each open a
 * connection, complete a full TLS handshake with OpenSSL (no session reuse, the
 * certificate verified against a CA file and the SNI), send one HTTP/1.1
 * request with "Connection: close", check the response and close: handshakes
 * per second and their latency, through whatever sits in between. */
#ifndef SG_BENCH_TLS_LOAD_H
#define SG_BENCH_TLS_LOAD_H

#include <stdint.h>
#include <sys/socket.h>

struct tls_opts {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *sni;
	const char *cafile;
	const char *path;
	const char *expect; /* the response must contain this */
	unsigned conns;
	unsigned threads;
	uint64_t duration_ms;
	uint64_t timeout_ms;
	const char *label;
};

/* Parses the options (argv[0] is "tls"). 0, or 2 on a usage error. */
int tls_parse_args(int argc, char **argv, struct tls_opts *o);

/* Runs the load and prints one JSON line. 0, or 1 on any failed handshake,
 * certificate check or response. */
int tls_run(const struct tls_opts *o);

#endif
