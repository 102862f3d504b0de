// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* express_reset.c: see express_reset.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "express_reset.h"

static uint32_t sum16(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A RST from d's new source to d's new destination at sequence seq, IP
 * header included: IPPROTO_RAW sockets only send, so the host's TCP
 * packets are not cloned to them as to a raw TCP socket. */
static int send_one(const struct express_raw *raw, const struct sg_xdir *d, bool is_ipv6,
		    uint32_t seq)
{
	uint8_t pkt[40 + sizeof(struct tcphdr)] = {0};
	struct tcphdr th = {0};
	uint8_t proto_len[4] = {0, IPPROTO_TCP, 0, sizeof(th)};
	struct sockaddr_storage to;
	socklen_t to_len = addr_from16(d->daddr, 0, &to);
	size_t ip_len;
	int fd = is_ipv6 ? raw->fd6 : raw->fd4;
	uint32_t sum;

	if (fd < 0)
		return -EBADF;
	th.source = d->sport;
	th.dest = d->dport;
	th.seq = htonl(seq);
	th.doff = sizeof(th) / 4;
	th.rst = 1;
	/* The pseudo-header: both addresses, protocol and length. */
	sum = is_ipv6 ? sum16(d->daddr, 16, sum16(d->saddr, 16, 0))
		      : sum16(d->daddr + 12, 4, sum16(d->saddr + 12, 4, 0));
	sum = sum16(proto_len, sizeof(proto_len), sum);
	th.check = htons(fold(sum16(&th, sizeof(th), sum)));
	if (is_ipv6) {
		ip_len = 40;
		pkt[0] = 0x60;
		pkt[5] = sizeof(th); /* payload length, low byte */
		pkt[6] = IPPROTO_TCP;
		pkt[7] = 64;
		memcpy(pkt + 8, d->saddr, 16);
		memcpy(pkt + 24, d->daddr, 16);
	} else {
		ip_len = 20;
		pkt[0] = 0x45;
		pkt[3] = 20 + sizeof(th); /* total length, low byte */
		pkt[6] = 0x40;		  /* don't fragment; id and checksum: the kernel's */
		pkt[8] = 64;
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, d->saddr + 12, 4);
		memcpy(pkt + 16, d->daddr + 12, 4);
	}
	memcpy(pkt + ip_len, &th, sizeof(th));
	if (sendto(fd, pkt, ip_len + sizeof(th), 0, (struct sockaddr *)&to, to_len) == -1)
		return -errno;
	return 0;
}

int express_raw_open(struct express_raw *raw)
{
	raw->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	raw->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw->fd4 < 0 || raw->fd6 < 0) {
		int err = -errno;

		express_raw_close(raw);
		return err;
	}
	return 0;
}

void express_raw_close(struct express_raw *raw)
{
	if (raw->fd4 >= 0)
		close(raw->fd4);
	if (raw->fd6 >= 0)
		close(raw->fd6);
	raw->fd4 = raw->fd6 = -1;
}

int express_send_resets(const struct express_raw *raw, const struct sg_xflow *f)
{
	int err = 0;

	/* Each way's next_seq is the sequence number its destination expects
	 * next, when nothing sent that way is lost. */
	for (int d = 0; d < 2; d++) {
		int e = send_one(raw, &f->dir[d], f->is_ipv6, (uint32_t)f->dir[d].next_seq);

		if (e && !err)
			err = e;
	}
	return err;
}
