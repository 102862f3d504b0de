// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* client_args.c: the options of `sockgate-bench client`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "proto.h"
#include "util.h"

static const char client_usage[] =
	"usage: sockgate-bench client --connect IP:PORT --mode bulk|rr|crr|idle [options]\n"
	"  --connect IP:PORT   the gateway (or, for the direct path, the backend)\n"
	"  --sni NAME          server_name of every ClientHello (default bench.sockgate.test)\n"
	"  --no-sni            send no server_name\n"
	"  --alpn LIST         comma-separated ALPN names (default h2,http/1.1; \"\" for none)\n"
	"  --conns N           connections (bulk, rr, idle) or concurrent slots (crr)\n"
	"  --duration T        how long to generate load (default 5s)\n"
	"  --dir up|down|both  bulk direction (default both)\n"
	"  --size BYTES        rr/crr/idle request and response size (default 64)\n"
	"  --req-size BYTES    request size alone;  --resp-size BYTES  response size alone\n"
	"  --hold T            idle: how long the connections are held (default 3s)\n"
	"  --threads N         event-loop threads (default: online CPUs)\n"
	"  --timeout T         extra time before the run fails as hung (default 30s)\n"
	"  --seed N            varies the byte pattern (default 1)\n"
	"  --label TEXT        copied into the JSON line\n"
	"Prints one JSON line; exit 1 with a FAIL line when any byte or count differs.\n";

const char *client_mode_str(enum client_mode m)
{
	switch (m) {
	case CLIENT_MODE_BULK:
		return "bulk";
	case CLIENT_MODE_RR:
		return "rr";
	case CLIENT_MODE_CRR:
		return "crr";
	case CLIENT_MODE_IDLE:
		return "idle";
	}
	return "?";
}

static int parse_mode(const char *s, enum client_mode *m)
{
	for (enum client_mode i = CLIENT_MODE_BULK; i <= CLIENT_MODE_IDLE; i++) {
		if (strcmp(s, client_mode_str(i)) == 0) {
			*m = i;
			return 0;
		}
	}
	fprintf(stderr, "sockgate-bench client: --mode %s: expected bulk, rr, crr or idle\n", s);
	return -1;
}

static int parse_dir(const char *s, enum client_dir *d)
{
	if (strcmp(s, "up") == 0)
		*d = CLIENT_DIR_UP;
	else if (strcmp(s, "down") == 0)
		*d = CLIENT_DIR_DOWN;
	else if (strcmp(s, "both") == 0)
		*d = CLIENT_DIR_BOTH;
	else {
		fprintf(stderr, "sockgate-bench client: --dir %s: expected up, down or both\n", s);
		return -1;
	}
	return 0;
}

static int parse_alpn(const char *s, struct client_opts *o)
{
	char *save = NULL, *tok;

	o->n_alpn = 0;
	if (strlen(s) >= sizeof(o->alpn_buf)) {
		fprintf(stderr, "sockgate-bench client: --alpn: list too long\n");
		return -1;
	}
	strcpy(o->alpn_buf, s);
	for (tok = strtok_r(o->alpn_buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_alpn == CLIENT_ALPN_MAX) {
			fprintf(stderr, "sockgate-bench client: --alpn: at most %d names\n",
				CLIENT_ALPN_MAX);
			return -1;
		}
		o->alpn[o->n_alpn++] = tok;
	}
	return 0;
}

static void defaults(struct client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sni = "bench.sockgate.test";
	parse_alpn("h2,http/1.1", o);
	o->mode = CLIENT_MODE_BULK;
	o->dir = CLIENT_DIR_BOTH;
	o->conns = 1;
	o->threads = bench_default_threads();
	o->duration_ms = 5000;
	o->hold_ms = 3000;
	o->timeout_ms = 30000;
	o->req_bytes = 64;
	o->resp_bytes = 64;
	o->chunk_bytes = 256 * 1024;
	o->window_bytes = 4 << 20;
	o->seed = 1;
}

/* One option; -1 on a bad value. */
static int parse_one(int c, const char *v, struct client_opts *o, int *has_addr)
{
	uint64_t n;

	switch (c) {
	case 'c':
		*has_addr = 1;
		return bench_parse_addr("--connect", v, &o->addr, &o->addr_len);
	case 's':
		o->sni = v;
		return 0;
	case 'S':
		o->sni = NULL;
		return 0;
	case 'a':
		return parse_alpn(v, o);
	case 'm':
		return parse_mode(v, &o->mode);
	case 'n':
		if (bench_parse_count("--conns", v, 1, 1000000, &n))
			return -1;
		o->conns = (unsigned)n;
		return 0;
	case 'd':
		return bench_parse_duration("--duration", v, &o->duration_ms);
	case 'D':
		return parse_dir(v, &o->dir);
	case 'z':
	case 'q':
	case 'r':
		if (bench_parse_size("--size", v, 1, PROTO_DATA_MAX, &n))
			return -1;
		if (c != 'r')
			o->req_bytes = (uint32_t)n;
		if (c != 'q')
			o->resp_bytes = (uint32_t)n;
		return 0;
	case 'H':
		return bench_parse_duration("--hold", v, &o->hold_ms);
	case 't':
		if (bench_parse_count("--threads", v, 1, BENCH_MAX_THREADS, &n))
			return -1;
		o->threads = (unsigned)n;
		return 0;
	case 'T':
		return bench_parse_duration("--timeout", v, &o->timeout_ms);
	case 'e':
		return bench_parse_count("--seed", v, 0, UINT64_MAX, &o->seed);
	case 'l':
		o->label = v;
		return 0;
	}
	return -1;
}

int client_parse_args(int argc, char **argv, struct client_opts *o)
{
	static const struct option longopts[] = {
		{"connect", required_argument, NULL, 'c'},
		{"sni", required_argument, NULL, 's'},
		{"no-sni", no_argument, NULL, 'S'},
		{"alpn", required_argument, NULL, 'a'},
		{"mode", required_argument, NULL, 'm'},
		{"conns", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 'd'},
		{"dir", required_argument, NULL, 'D'},
		{"size", required_argument, NULL, 'z'},
		{"req-size", required_argument, NULL, 'q'},
		{"resp-size", required_argument, NULL, 'r'},
		{"hold", required_argument, NULL, 'H'},
		{"threads", required_argument, NULL, 't'},
		{"timeout", required_argument, NULL, 'T'},
		{"seed", required_argument, NULL, 'e'},
		{"label", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, has_addr = 0;

	defaults(o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(client_usage, stdout);
			exit(0);
		}
		if (c == '?' || parse_one(c, optarg, o, &has_addr) < 0) {
			if (c == '?')
				fputs(client_usage, stderr);
			return 2;
		}
	}
	if (!has_addr || optind != argc) {
		fputs(client_usage, stderr);
		return 2;
	}
	if (o->threads > o->conns)
		o->threads = o->conns;
	return 0;
}
