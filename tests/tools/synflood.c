// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * synflood: sends a bounded number of TCP SYNs through a raw IPv4 socket, from one address or
 * from random addresses of a CIDR, to one address and port. For the XDP guard's e2e test (a SYN
 * burst above one source's limit) and its SYN-flood measurement (docs/BENCHMARKS.md). It never
 * completes a handshake. Only ever point it at the test's own namespaces and addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH	  64
#define COUNT_MAX 100000000ul /* a bound, so a typo cannot flood for hours */
#define BUSY_MAX  1000000ul   /* full queues in a row before giving up */

static const char usage_text[] =
	"usage: synflood SRC|CIDR DST PORT --count N [--rate PPS]\n"
	"  Sends N SYNs to DST:PORT, each from a new source port; from SRC, or from a random\n"
	"  address of CIDR per SYN (spoofed: the replies go nowhere). --rate paces to PPS\n"
	"  packets a second, sleeping (default: as fast as the socket takes them). Needs\n"
	"  CAP_NET_RAW.\n"
	"  Prints `sent=N elapsed_us=T`. Exit: 0 ok, 1 failure, 2 usage.\n";

struct syn_pkt {
	uint8_t ip[20];
	uint8_t tcp[20];
};

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	return sum;
}

/* The TCP checksum must be right: SYNs the guard passes reach the listener,
 * which drops a bad one before answering. */
static void build(struct syn_pkt *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		  uint32_t seq)
{
	uint8_t pseudo[12];
	uint32_t sum;

	memset(p, 0, sizeof(*p));
	p->ip[0] = 0x45;
	p->ip[8] = 64;
	p->ip[9] = IPPROTO_TCP;
	memcpy(&p->ip[12], &src, 4);
	memcpy(&p->ip[16], &dst, 4);
	p->tcp[0] = (uint8_t)(sport >> 8);
	p->tcp[1] = (uint8_t)sport;
	p->tcp[2] = (uint8_t)(dport >> 8);
	p->tcp[3] = (uint8_t)dport;
	seq = htonl(seq);
	memcpy(&p->tcp[4], &seq, 4);
	p->tcp[12] = 5 << 4;
	p->tcp[13] = 0x02; /* SYN */
	p->tcp[14] = 0xff;
	p->tcp[15] = 0xff;
	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = sizeof(p->tcp);
	sum = csum_add(csum_add(0, pseudo, sizeof(pseudo)), p->tcp, sizeof(p->tcp));
	sum = csum_fold(sum);
	p->tcp[16] = (uint8_t)(sum >> 8);
	p->tcp[17] = (uint8_t)sum;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleeps while more than a millisecond ahead of rate: spinning would add a
 * busy CPU to the CPU time the flood measurement reads, and a millisecond of
 * packets (100 at 100k/s) is a burst any queue on the way takes. */
static void pace(uint64_t start, unsigned long sent, unsigned long rate)
{
	uint64_t due = start + (uint64_t)sent * 1000000000ull / rate, now = now_ns();

	if (due > now + 1000000) {
		struct timespec ts = {.tv_sec = (time_t)((due - now) / 1000000000ull),
				      .tv_nsec = (long)((due - now) % 1000000000ull)};

		nanosleep(&ts, NULL);
	}
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int parse_src(const char *s, uint32_t *net, uint32_t *host_mask)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	long bits = 32;

	snprintf(ip, sizeof(ip), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	if (slash) {
		char *end;

		bits = strtol(slash + 1, &end, 10);
		if (*end || bits < 8 || bits > 32)
			return -1;
	}
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	*host_mask = bits == 32 ? 0 : (uint32_t)((1ull << (32 - bits)) - 1);
	*net = ntohl(a.s_addr) & ~*host_mask;
	return 0;
}

int main(int argc, char **argv)
{
	static struct syn_pkt pkts[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in to = {.sin_family = AF_INET};
	uint32_t net, host_mask, dst;
	unsigned long count = 0, rate = 0, sent = 0, port, busy = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid(), start;
	int fd, one = 1;

	if (argc < 6 || parse_src(argv[1], &net, &host_mask) ||
	    inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
		fputs(usage_text, stderr);
		return 2;
	}
	port = strtoul(argv[3], NULL, 10);
	for (int i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--count"))
			count = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--rate"))
			rate = strtoul(argv[i + 1], NULL, 10);
		else
			count = 0;
	}
	if (port == 0 || port > 65535 || count == 0 || count > COUNT_MAX) {
		fputs(usage_text, stderr);
		return 2;
	}
	dst = to.sin_addr.s_addr;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd == -1 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) == -1) {
		fprintf(stderr, "synflood: raw socket: %s\n", strerror(errno));
		return 1;
	}
	start = now_ns();
	while (sent < count) {
		unsigned n = count - sent < BATCH ? (unsigned)(count - sent) : BATCH;
		int got;

		for (unsigned i = 0; i < n; i++) {
			uint64_t r = xorshift(&seed);
			uint32_t src = htonl(net | ((uint32_t)r & host_mask));
			uint16_t sport = (uint16_t)(1024 + (sent + i) % 64000);

			build(&pkts[i], src, dst, sport, (uint16_t)port, (uint32_t)(r >> 32));
			iov[i] = (struct iovec){.iov_base = &pkts[i], .iov_len = sizeof(pkts[i])};
			msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &to,
							       .msg_namelen = sizeof(to),
							       .msg_iov = &iov[i],
							       .msg_iovlen = 1}};
		}
		got = sendmmsg(fd, msgs, n, 0);
		if (got == -1 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) &&
		    ++busy < BUSY_MAX)
			continue;
		if (got == -1) {
			fprintf(stderr, "synflood: send: %s\n", strerror(errno));
			return 1;
		}
		sent += (unsigned long)got;
		busy = 0;
		if (rate)
			pace(start, sent, rate);
	}
	printf("sent=%lu elapsed_us=%llu\n", sent, (unsigned long long)((now_ns() - start) / 1000));
	close(fd);
	return 0;
}
