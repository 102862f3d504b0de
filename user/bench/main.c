// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c: sockgate-bench, the benchmark harness's traffic tool. Dispatches to
 * the roles; scripts/bench.sh runs them against each gateway. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "probe.h"
#include "server.h"
#include "tls_load.h"

static const char usage[] =
	"usage: sockgate-bench ROLE [options]   (ROLE --help for its options)\n"
	"  server   bench backend: checks the ClientHello and every byte, answers GETs\n"
	"  client   load generator: --mode bulk|rr|crr|idle; one JSON line per run\n"
	"  tls      full TLS handshakes + one HTTPS request each, against a real server\n"
	"  probe    send one generated ClientHello, report the server's answer\n"
	"Runs are orchestrated by scripts/bench.sh (make bench); see docs/BENCHMARKS.md.\n";

int main(int argc, char **argv)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "server")) {
		struct server_opts o;

		rc = server_parse_args(argc - 1, argv + 1, &o);
		return rc ? rc : server_run(&o);
	}
	if (!strcmp(argv[1], "client")) {
		struct client_opts o;

		rc = client_parse_args(argc - 1, argv + 1, &o);
		return rc ? rc : client_run(&o);
	}
	if (!strcmp(argv[1], "tls")) {
		struct tls_opts o;

		rc = tls_parse_args(argc - 1, argv + 1, &o);
		return rc ? rc : tls_run(&o);
	}
	if (!strcmp(argv[1], "probe"))
		return probe_main(argc - 1, argv + 1);
	fprintf(stderr, "sockgate-bench: unknown role '%s'\n%s", argv[1], usage);
	return 2;
}
