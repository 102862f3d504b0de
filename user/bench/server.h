/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* server.h: the bench backend (`sockgate-bench server`). Each connection must
 * open with a ClientHello our parser accepts, then speak proto.h: DATA is
 * checked against the pattern (the sink), GET is answered with pattern bytes
 * (the source and responder), END gets the verified byte count. A wrong byte
 * is a FAIL line on stderr and a reset to the client. */
#ifndef SG_BENCH_SERVER_H
#define SG_BENCH_SERVER_H

#include <sys/socket.h>

#include "hostname.h"

#define SERVER_MAX_LISTEN 8

struct server_opts {
	struct sockaddr_storage listen[SERVER_MAX_LISTEN];
	socklen_t listen_len[SERVER_MAX_LISTEN];
	unsigned n_listen;
	unsigned threads;
	const char *expect_sni; /* NULL: any SNI; else the hello must carry this one */
};

/* Parses the server's options (argv[0] is "server"). 0, or 2 on a usage error. */
int server_parse_args(int argc, char **argv, struct server_opts *o);

/* Serves until SIGTERM or SIGINT, then prints one JSON summary line to stdout.
 * Returns 0, or 1 when a connection failed its checks (or the start failed). */
int server_run(const struct server_opts *o);

#endif
