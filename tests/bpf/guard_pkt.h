/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* guard_pkt.h: crafted Ethernet frames for the XDP guard's BPF_PROG_TEST_RUN
 * tests and its benchmark (tests/tools/guard_bench.c): IPv4 or IPv6, TCP,
 * UDP or ICMP, optional VLAN tag, fragments, any TCP flags. Header-only so
 * the single-file benchmark can use it too. Checksums are left zero: the
 * guard never reads them. */
#ifndef SG_GUARD_PKT_H
#define SG_GUARD_PKT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10

#define PKT_MAX 256

struct pkt_spec {
	const char *src, *dst; /* IP literals of one family */
	uint8_t proto;	       /* IPPROTO_TCP (default when 0), _UDP, _ICMP, _ICMPV6 */
	uint16_t sport, dport;
	uint8_t flags;	    /* TCP flags, PKT_* */
	uint8_t doff;	    /* TCP data offset in words; 0: 5 */
	uint16_t vlan;	    /* 802.1Q tag; 0: none */
	uint16_t v4_frag;   /* IPv4 frag_off field, host order (0x2000 = MF) */
	bool v6_frag;	    /* an IPv6 fragment header before the upper layer */
	uint8_t v6_hop_len; /* with v6_hop: hdrlen of a hop-by-hop header */
	bool v6_hop;	    /* a hop-by-hop options header first */
	uint16_t payload;   /* bytes after the L4 header */
};

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes the frame into buf (PKT_MAX bytes) and returns its length, or 0
 * when the addresses do not parse or it would not fit. */
static inline size_t pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	bool is_v6 = strchr(s->dst, ':') != NULL;
	uint8_t proto = s->proto ? s->proto : IPPROTO_TCP, doff = s->doff ? s->doff : 5;
	size_t l4_len, off = 12, ip_off, ext = 0;
	uint8_t *ip, *l4;

	l4_len = (proto == IPPROTO_TCP ? doff * 4u : 8u) + s->payload;
	memset(buf, 0, PKT_MAX);
	memcpy(buf, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (s->vlan) {
		pkt_put16(buf + off, 0x8100);
		pkt_put16(buf + off + 2, s->vlan);
		off += 4;
	}
	pkt_put16(buf + off, is_v6 ? 0x86DD : 0x0800);
	ip_off = off + 2;
	ip = buf + ip_off;
	if (is_v6) {
		uint8_t next = proto, *h;

		ext = (s->v6_hop ? (s->v6_hop_len + 1u) * 8u : 0) + (s->v6_frag ? 8u : 0);
		if (ip_off + 40 + ext + l4_len > PKT_MAX)
			return 0;
		ip[0] = 0x60;
		pkt_put16(ip + 4, (uint16_t)(ext + l4_len));
		if (inet_pton(AF_INET6, s->src, ip + 8) != 1 ||
		    inet_pton(AF_INET6, s->dst, ip + 24) != 1)
			return 0;
		ip[7] = 64;
		h = ip + 40;
		if (s->v6_frag)
			next = 44;
		if (s->v6_hop) {
			ip[6] = 0;
			h[0] = next;
			h[1] = s->v6_hop_len;
			h += (s->v6_hop_len + 1u) * 8u;
		} else {
			ip[6] = next;
		}
		if (s->v6_frag)
			h[0] = proto; /* offset 0, M set: the first fragment */
		if (s->v6_frag)
			h[3] = 1;
		l4 = ip + 40 + ext;
	} else {
		if (ip_off + 20 + l4_len > PKT_MAX)
			return 0;
		ip[0] = 0x45;
		pkt_put16(ip + 2, (uint16_t)(20 + l4_len));
		pkt_put16(ip + 6, s->v4_frag);
		ip[8] = 64;
		ip[9] = proto;
		if (inet_pton(AF_INET, s->src, ip + 12) != 1 ||
		    inet_pton(AF_INET, s->dst, ip + 16) != 1)
			return 0;
		l4 = ip + 20;
	}
	if (proto == IPPROTO_TCP) {
		pkt_put16(l4, s->sport);
		pkt_put16(l4 + 2, s->dport);
		l4[12] = (uint8_t)(doff << 4);
		l4[13] = s->flags;
		pkt_put16(l4 + 14, 65535);
	} else if (proto == IPPROTO_UDP) {
		pkt_put16(l4, s->sport);
		pkt_put16(l4 + 2, s->dport);
		pkt_put16(l4 + 4, (uint16_t)l4_len);
	} else {
		l4[0] = proto == IPPROTO_ICMP ? 8 : 128; /* echo request */
	}
	return (size_t)(l4 - buf) + l4_len;
}

/* Offset of the IP header in a frame pkt_build() made with or without a tag. */
static inline size_t pkt_ip_off(const struct pkt_spec *s)
{
	return s->vlan ? 18 : 14;
}

#endif
