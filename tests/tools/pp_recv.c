// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pp_recv.c: a strict PROXY protocol v2 receiver for the e2e tests, written
 * from haproxy's doc/proxy-protocol.txt independently of the agent's encoder
 * (user/core/proxy_header.c): its own parser and a bit-at-a-time CRC32C.
 *
 *   pp_recv LISTEN_IP PORT UPSTREAM_IP UPSTREAM_PORT
 *
 * Serves one connection at a time, forever. For each it reads the v2 header,
 * checks it (signature, version 2, command PROXY, TCP over IPv4 or IPv6, the
 * length field against the address block and every TLV's bounds, no TLV type
 * twice, the CRC32C when present, a TLS record right after the header) and
 * prints one line on stdout:
 *
 *   v2 PROXY TCP4 src=10.199.1.2:40001 dst=10.199.1.1:445 ALPN=h2
 *      AUTHORITY=sample.aliyun.com CRC32C=ok next=tls        (one line)
 *
 * then relays the rest of the connection to UPSTREAM, both ways. A header
 * that breaks a rule gives "error: <why>" and the connection is closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS	    5000
#define IDLE_MS	    30000
#define HEADER_MAX  (16 + 65535)
#define LINE_MAX_SZ 2048

static const uint8_t signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* RFC 4960 Appendix B CRC32C, one bit at a time (no table: a second,
 * independent implementation of what the agent computes). */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

/* Reads exactly n bytes, waiting at most WAIT_MS for each piece. */
static int read_exact(int fd, uint8_t *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, WAIT_MS) != 1)
			return -ETIMEDOUT;
		r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return r == 0 ? -EPIPE : -errno;
		got += (size_t)r;
	}
	return 0;
}

struct line {
	char text[LINE_MAX_SZ];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = l->len + (size_t)n < sizeof(l->text) ? l->len + (size_t)n
							      : sizeof(l->text) - 1;
}

/* Prints a TLV value as text when it is printable, else as hex. */
static void add_value(struct line *l, const uint8_t *v, size_t n)
{
	bool printable = n > 0;

	for (size_t i = 0; i < n; i++)
		printable = printable && v[i] > ' ' && v[i] < 0x7f;
	for (size_t i = 0; i < n; i++)
		add(l, printable ? "%c" : "%02x", v[i]);
	if (n == 0)
		add(l, "(empty)");
}

static void add_endpoints(struct line *l, int af, const uint8_t *a, size_t alen)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const uint8_t *ports = a + 2 * alen;

	inet_ntop(af, a, src, sizeof(src));
	inet_ntop(af, a + alen, dst, sizeof(dst));
	add(l, " src=%s%s%s:%u dst=%s%s%s:%u", af == AF_INET6 ? "[" : "", src,
	    af == AF_INET6 ? "]" : "", ports[0] << 8 | ports[1], af == AF_INET6 ? "[" : "", dst,
	    af == AF_INET6 ? "]" : "", ports[2] << 8 | ports[3]);
}

/* Walks the TLVs of h[start..total); the CRC32C is checked over h[0..total). */
static const char *check_tlvs(struct line *l, uint8_t *h, size_t start, size_t total)
{
	static const char *const names[] = {[0x01] = "ALPN",
					    [0x02] = "AUTHORITY",
					    [0x03] = "CRC32C",
					    [0x04] = "NOOP",
					    [0x05] = "UNIQUE_ID"};
	bool seen[256] = {false};
	size_t off = start;

	while (off < total) {
		uint8_t type;
		size_t vlen;

		if (off + 3 > total)
			return "a TLV header overruns the length field";
		type = h[off];
		vlen = (size_t)h[off + 1] << 8 | h[off + 2];
		if (off + 3 + vlen > total)
			return "a TLV value overruns the length field";
		if (seen[type])
			return "a TLV type appears twice";
		seen[type] = true;
		if (type < sizeof(names) / sizeof(names[0]) && names[type])
			add(l, " %s=", names[type]);
		else
			add(l, " TLV_0x%02x=", type);
		if (type == 0x03) {
			uint32_t want, got;

			if (vlen != 4)
				return "CRC32C value is not 4 bytes";
			want = (uint32_t)h[off + 3] << 24 | (uint32_t)h[off + 4] << 16 |
			       (uint32_t)h[off + 5] << 8 | h[off + 6];
			memset(h + off + 3, 0, 4);
			got = crc32c_bitwise(h, total);
			if (got != want) {
				add(l, "bad(sent %08x, computed %08x)", want, got);
				return "CRC32C mismatch";
			}
			add(l, "ok");
		} else {
			add_value(l, h + off + 3, vlen);
		}
		off += 3 + vlen;
	}
	return NULL;
}

/* Reads and checks the header on fd; the line says what it carried. */
static const char *read_header(int fd, struct line *l)
{
	static uint8_t h[HEADER_MAX];
	size_t body, total, alen;
	const char *why;
	uint8_t next;
	int af;

	if (read_exact(fd, h, 16))
		return "no complete 16-byte header";
	if (memcmp(h, signature, sizeof(signature)))
		return "bad signature";
	if (h[12] != 0x21)
		return h[12] == 0x20 ? "command LOCAL, expected PROXY" : "not version 2 PROXY";
	if (h[13] == 0x11) {
		af = AF_INET;
		alen = 4;
	} else if (h[13] == 0x21) {
		af = AF_INET6;
		alen = 16;
	} else {
		return "family/protocol is not TCP over IPv4 or IPv6";
	}
	body = (size_t)h[14] << 8 | h[15];
	total = 16 + body;
	if (body < 2 * alen + 4)
		return "length field shorter than the address block";
	if (read_exact(fd, h + 16, body))
		return "header shorter than its length field";
	add(l, "v2 PROXY %s", af == AF_INET ? "TCP4" : "TCP6");
	add_endpoints(l, af, h + 16, alen);
	why = check_tlvs(l, h, 16 + 2 * alen + 4, total);
	if (why)
		return why;
	/* What follows must be the client's ClientHello record, untouched. */
	if (recv(fd, &next, 1, MSG_PEEK) != 1 || next != 0x16)
		return "the header is not followed by a TLS handshake record";
	add(l, " next=tls");
	return NULL;
}

/* Parses an IP literal and a port into ss; returns its length, or 0. */
static socklen_t sockaddr_of(const char *ip, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		return sizeof(*sin6);
	}
	return 0;
}

static int dial(const char *ip, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(ip, port, &ss);
	int fd;

	if (!len || (fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Copies both ways until both directions ended, or IDLE_MS of silence. */
static void relay(int a, int b)
{
	static uint8_t buf[1 << 16];
	int fds[2] = {a, b};
	bool open[2] = {true, true};

	while (open[0] || open[1]) {
		struct pollfd p[2] = {{.fd = open[0] ? a : -1, .events = POLLIN},
				      {.fd = open[1] ? b : -1, .events = POLLIN}};

		if (poll(p, 2, IDLE_MS) <= 0)
			return;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!p[i].revents)
				continue;
			n = recv(fds[i], buf, sizeof(buf), 0);
			if (n <= 0) {
				open[i] = false;
				shutdown(fds[1 - i], SHUT_WR);
				continue;
			}
			for (ssize_t sent = 0; sent < n;) {
				ssize_t w = send(fds[1 - i], buf + sent, (size_t)(n - sent),
						 MSG_NOSIGNAL);

				if (w <= 0)
					return;
				sent += w;
			}
		}
	}
}

static int listen_on(const char *ip, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(ip, port, &ss);
	int one = 1, fd;

	if (!len || (fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 || listen(fd, 16) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int lfd;

	if (argc != 5) {
		fprintf(stderr, "usage: pp_recv LISTEN_IP PORT UPSTREAM_IP UPSTREAM_PORT\n");
		return 2;
	}
	lfd = listen_on(argv[1], argv[2]);
	if (lfd < 0) {
		fprintf(stderr, "pp_recv: cannot listen on %s port %s: %s\n", argv[1], argv[2],
			strerror(errno));
		return 1;
	}
	for (;;) {
		struct line l = {.len = 0};
		const char *why;
		int fd = accept(lfd, NULL, NULL), up;

		if (fd < 0)
			continue;
		why = read_header(fd, &l);
		if (why) {
			printf("error: %s%s%s\n", why, l.len ? " after: " : "", l.text);
		} else if ((up = dial(argv[3], argv[4])) < 0) {
			printf("error: upstream %s port %s: %s\n", argv[3], argv[4],
			       strerror(errno));
		} else {
			printf("%s\n", l.text);
			fflush(stdout);
			relay(fd, up);
			close(up);
		}
		fflush(stdout);
		close(fd);
	}
}
