// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* probe.c: see probe.h. Blocking I/O with socket timeouts: one connection. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hello_build.h"
#include "probe.h"
#include "util.h"

#define REC_MAX (5 + 16384 + 256)

/* RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static const char probe_usage[] =
	"usage: sockgate-bench probe --connect IP:PORT [--sni NAME] [--alpn LIST] [--timeout T]\n";

struct server_hello {
	uint16_t version; /* supported_versions if present, else legacy_version */
	uint16_t cipher;
	bool is_hrr;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Parses a handshake record holding a ServerHello. false: not one. */
static bool parse_server_hello(const uint8_t *r, size_t n, struct server_hello *sh)
{
	size_t off = 5 + 4, end, sid;

	if (n < off + 2 + 32 + 1 || r[0] != 0x16 || r[5] != 0x02)
		return false;
	sh->version = be16(r + off);
	sh->is_hrr = memcmp(r + off + 2, hrr_random, 32) == 0;
	off += 2 + 32;
	sid = r[off];
	off += 1 + sid;
	if (off + 3 > n)
		return false;
	sh->cipher = be16(r + off);
	off += 3;
	if (off + 2 > n)
		return true; /* no extensions: TLS 1.2 or older */
	end = off + 2 + be16(r + off);
	if (end > n)
		return false;
	for (off += 2; off + 4 <= end;) {
		uint16_t type = be16(r + off), len = be16(r + off + 2);

		if (off + 4 + len > end)
			return false;
		if (type == 0x002b && len == 2)
			sh->version = be16(r + off + 4);
		off += 4 + len;
	}
	return true;
}

static const char *version_str(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "TLSv1.3";
	case 0x0303:
		return "TLSv1.2";
	case 0x0302:
		return "TLSv1.1";
	}
	return "other";
}

/* Reads until one whole record is in buf; returns its length, 0 on EOF first, -errno. */
static ssize_t read_record(int fd, uint8_t *buf)
{
	size_t have = 0, want = 5;

	while (have < want) {
		ssize_t got = recv(fd, buf + have, want - have, 0);

		if (got == 0)
			return have ? -EPIPE : 0;
		if (got == -1)
			return -errno;
		have += (size_t)got;
		if (have == 5) {
			want = 5 + (size_t)be16(buf + 3);
			if (want > REC_MAX)
				return -EMSGSIZE;
		}
	}
	return (ssize_t)have;
}

static int run(const struct sockaddr_storage *ss, socklen_t len, const struct hello_spec *spec,
	       uint64_t timeout_ms)
{
	struct timeval tv = {.tv_sec = (time_t)(timeout_ms / 1000),
			     .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
	static uint8_t buf[REC_MAX];
	struct server_hello sh = {0};
	ssize_t n = hello_build(buf, sizeof(buf), spec), got;
	int fd;

	if (n < 0) {
		printf("{\"role\":\"probe\",\"ok\":false,\"error\":\"cannot build the hello: "
		       "%s\"}\n",
		       strerror((int)-n));
		return 1;
	}
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)ss, len) == -1 ||
	    send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n) {
		printf("{\"role\":\"probe\",\"ok\":false,\"error\":\"connect/send: %s\"}\n",
		       strerror(errno));
		close(fd);
		return 1;
	}
	got = read_record(fd, buf);
	close(fd);
	if (got <= 0) {
		printf("{\"role\":\"probe\",\"ok\":false,\"error\":\"%s\"}\n",
		       got == 0 ? "closed without an answer" : strerror((int)-got));
		return 1;
	}
	if (buf[0] == 0x15 && got >= 7) {
		printf("{\"role\":\"probe\",\"ok\":false,\"error\":\"TLS alert level %u "
		       "description "
		       "%u\"}\n",
		       buf[5], buf[6]);
		return 1;
	}
	if (!parse_server_hello(buf, (size_t)got, &sh)) {
		printf("{\"role\":\"probe\",\"ok\":false,\"error\":\"first record (type %u) is not "
		       "a "
		       "ServerHello\"}\n",
		       buf[0]);
		return 1;
	}
	printf("{\"role\":\"probe\",\"ok\":%s,\"server_hello\":true,\"hello_retry_request\":%s,"
	       "\"version\":\"%s\",\"cipher\":\"0x%04x\",\"hello_bytes\":%zd,\"error\":%s}\n",
	       sh.is_hrr ? "false" : "true", sh.is_hrr ? "true" : "false", version_str(sh.version),
	       sh.cipher, n, sh.is_hrr ? "\"the server asked for another key share\"" : "null");
	return sh.is_hrr ? 1 : 0;
}

int probe_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"connect", required_argument, NULL, 'c'},
		{"sni", required_argument, NULL, 's'},
		{"alpn", required_argument, NULL, 'a'},
		{"timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *alpn[8];
	static char alpn_buf[256];
	struct hello_spec spec = {.sni = "bench.sockgate.test"};
	struct sockaddr_storage ss;
	socklen_t len = 0;
	uint64_t timeout_ms = 5000;
	char *save = NULL, *tok;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (bench_parse_addr("--connect", optarg, &ss, &len))
				return 2;
			break;
		case 's':
			spec.sni = optarg;
			break;
		case 'a':
			snprintf(alpn_buf, sizeof(alpn_buf), "%s", optarg);
			spec.n_alpn = 0;
			for (tok = strtok_r(alpn_buf, ",", &save); tok && spec.n_alpn < 8;
			     tok = strtok_r(NULL, ",", &save))
				alpn[spec.n_alpn++] = tok;
			spec.alpn = alpn;
			break;
		case 'T':
			if (bench_parse_duration("--timeout", optarg, &timeout_ms))
				return 2;
			break;
		case 'h':
			fputs(probe_usage, stdout);
			return 0;
		default:
			fputs(probe_usage, stderr);
			return 2;
		}
	}
	if (len == 0 || optind != argc) {
		fputs(probe_usage, stderr);
		return 2;
	}
	/* Fresh random bytes are not needed: the server only has to answer. */
	for (size_t i = 0; i < 32; i++) {
		spec.random[i] = (uint8_t)(i * 7 + 1);
		spec.session_id[i] = (uint8_t)(i * 13 + 5);
		spec.key_share[i] = (uint8_t)(i * 29 + 9);
	}
	return run(&ss, len, &spec, timeout_ms);
}
