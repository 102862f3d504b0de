/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* client.h: the load generator (`sockgate-bench client`). Every connection opens
 * with hello_build()'s ClientHello for the chosen SNI and ALPN, then speaks
 * proto.h to a `sockgate-bench server`, through whatever sits in between:
 *   bulk  N connections stream for T seconds (up, down or both); Gbit/s
 *   rr    N persistent connections ping-pong small messages; transactions/s
 *   crr   N slots connect, send a request, read the response, close; connections/s
 *   idle  N connections open, exchange once, and are held; for memory per connection
 * Every byte received is checked against the pattern and every count against
 * what was sent: any difference fails the run with a FAIL line and exit 1.
 * Prints one JSON object per run on stdout. */
#ifndef SG_BENCH_CLIENT_H
#define SG_BENCH_CLIENT_H

#include <stdint.h>
#include <sys/socket.h>

#define CLIENT_ALPN_MAX 8

enum client_mode { CLIENT_MODE_BULK = 0, CLIENT_MODE_RR, CLIENT_MODE_CRR, CLIENT_MODE_IDLE };

enum client_dir { CLIENT_DIR_UP = 1, CLIENT_DIR_DOWN = 2, CLIENT_DIR_BOTH = 3 };

struct client_opts {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *sni; /* NULL: no server_name */
	const char *alpn[CLIENT_ALPN_MAX];
	size_t n_alpn;
	char alpn_buf[256]; /* the names of alpn[] point in here */
	enum client_mode mode;
	enum client_dir dir;
	unsigned conns;
	unsigned threads;
	uint64_t duration_ms;
	uint64_t hold_ms;    /* idle: how long the connections are held */
	uint64_t timeout_ms; /* on top of duration (and hold): then the run fails */
	uint32_t req_bytes;  /* rr, crr, idle: request size */
	uint32_t resp_bytes; /* rr, crr, idle: response size */
	uint32_t chunk_bytes;
	uint64_t window_bytes; /* bulk down: bytes asked for and not yet received */
	uint64_t seed;
	const char *label; /* echoed in the JSON line */
};

/* Parses the client's options (argv[0] is "client"). 0, or 2 on a usage error. */
int client_parse_args(int argc, char **argv, struct client_opts *o);

/* Runs the load and prints the JSON line. Returns 0, or 1 when a check failed,
 * a connection broke or the run timed out. */
int client_run(const struct client_opts *o);

const char *client_mode_str(enum client_mode m);

#endif
