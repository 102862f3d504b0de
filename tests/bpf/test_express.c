// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_express.c: the express TC program (bpf/express.bpf.c) run with
 * BPF_PROG_TEST_RUN on crafted frames, with its maps filled the way the agent
 * fills them (include/sg_express.h). The program rewrites a packet of one TCP
 * connection into a packet of the other, so a wrong byte is a broken or
 * stalled connection: every case builds the frame the program must emit from
 * the translated values, computed here by hand, with checksums computed from
 * scratch (test_run skbs are not CHECKSUM_PARTIAL: the whole checksum must be
 * right), and compares the program's output with it field by field, then
 * byte for byte. Also checked: timestamp offsets learned once, SACK edges and
 * sequence numbers across 2^32, window rescaling, bytes counted once, the
 * FIN/RST end of a flow, the PENDING state, unknown tuples (another family's
 * too), IP lengths that do not fit the frame, options at odd offsets, and a
 * thousand random segments. Not observable here: what the program does to a
 * CHECKSUM_PARTIAL or CHECKSUM_COMPLETE skb (BPF_F_PSEUDO_HDR, BPF_F_IPV6:
 * test_run skbs are CHECKSUM_NONE). Needs root. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sg_abi.h"
#include "sg_express.h"
#include "express.skel.h"

/* Verdicts as BPF_PROG_TEST_RUN reports them (retval is a __u32). */
#define V_NEXT	   0xffffffffu /* TCX_NEXT, -1 */
#define V_DROP	   2u	       /* TCX_DROP */
#define V_REDIRECT 7u	       /* TCX_REDIRECT: bpf_redirect_neigh succeeded */

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define FRAME_MAX 512
#define SLOT	  5

/* The two connections of one flow: client c <-> gateway g1 (leg 1) and
 * gateway g2 <-> backend b (leg 2). */
struct topo {
	bool v6;
	const char *c, *g1, *g2, *b;
	uint16_t cport, g1port, g2port, bport;
};

static const struct topo T4 = {
	.c = "192.0.2.10",
	.g1 = "10.0.0.1",
	.g2 = "10.0.0.2",
	.b = "198.51.100.7",
	.cport = 40000,
	.g1port = 443,
	.g2port = 50000,
	.bport = 8443,
};
static const struct topo T6 = {
	.v6 = true,
	.c = "2001:db8:1::a",
	.g1 = "2001:db8::1",
	.g2 = "2001:db8::2",
	.b = "2001:db8:2::7",
	.cport = 40001,
	.g1port = 443,
	.g2port = 50001,
	.bport = 8443,
};

/* One TCP segment in an Ethernet frame. */
struct seg {
	bool v6;
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	bool ts; /* NOP, NOP, TS first */
	uint32_t tsval, tsecr;
	int nsack; /* NOP, NOP, SACK with nsack blocks after */
	uint32_t sack[8];
	const uint8_t *raw_opts; /* instead of the above */
	size_t raw_len;		 /* a multiple of 4 */
	uint16_t payload;
};

static struct sg_express *skel;

static void load(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_BPF, CAP_NET_ADMIN)");
	skel = sg_express__open_and_load();
	cr_assert_not_null(skel, "load express.bpf.o: %s", strerror(errno));
}

static void unload(void)
{
	sg_express__destroy(skel);
}

TestSuite(express, .init = load, .fini = unload);

/* --- frames ---------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Sum of big-endian 16-bit words, not folded. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static size_t l4_off(bool v6)
{
	return 14 + (v6 ? 40 : 20);
}

/* The one's complement sum of the TCP pseudo-header and segment of frame. */
static uint16_t tcp_sum(const uint8_t *frame, bool v6, size_t tcp_len)
{
	const uint8_t *ip = frame + 14;
	uint32_t s;

	if (v6) {
		s = sum16(ip + 8, 32, 0);
		s += (uint32_t)(tcp_len >> 16) + (uint32_t)(tcp_len & 0xffff) + IPPROTO_TCP;
	} else {
		s = sum16(ip + 12, 8, 0);
		s += IPPROTO_TCP + (uint32_t)tcp_len;
	}
	return fold(sum16(frame + l4_off(v6), tcp_len, s));
}

static void addr16(bool v6, const char *ip, uint8_t out[16])
{
	memset(out, 0, 16);
	if (v6) {
		cr_assert_eq(inet_pton(AF_INET6, ip, out), 1, "%s", ip);
	} else {
		out[10] = out[11] = 0xff;
		cr_assert_eq(inet_pton(AF_INET, ip, out + 12), 1, "%s", ip);
	}
}

static size_t opts_build(const struct seg *s, uint8_t *o)
{
	size_t n = 0;

	if (s->raw_opts) {
		memcpy(o, s->raw_opts, s->raw_len);
		return s->raw_len;
	}
	if (s->ts) {
		memcpy(o, "\x01\x01\x08\x0a", 4);
		put32(o + 4, s->tsval);
		put32(o + 8, s->tsecr);
		n = 12;
	}
	if (s->nsack) {
		o[n] = o[n + 1] = 1;
		o[n + 2] = 5;
		o[n + 3] = (uint8_t)(2 + 8 * s->nsack);
		for (int i = 0; i < 2 * s->nsack; i++)
			put32(o + n + 4 + 4 * i, s->sack[i]);
		n += 4 + 8 * (size_t)s->nsack;
	}
	return n;
}

/* The frame of s with valid IPv4 and TCP checksums; its length. */
static size_t seg_build(const struct seg *s, uint8_t *buf)
{
	size_t optlen, tcp_len, l4 = l4_off(s->v6);
	uint8_t *ip = buf + 14, *th = buf + l4;

	memset(buf, 0, FRAME_MAX);
	memcpy(buf, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	put16(buf + 12, s->v6 ? 0x86DD : 0x0800);
	optlen = opts_build(s, th + 20);
	cr_assert_eq(optlen % 4, 0);
	cr_assert_leq(optlen, 40);
	tcp_len = 20 + optlen + s->payload;
	cr_assert_leq(l4 + tcp_len, FRAME_MAX);
	if (s->v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)tcp_len);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		cr_assert_eq(inet_pton(AF_INET6, s->src, ip + 8), 1, "%s", s->src);
		cr_assert_eq(inet_pton(AF_INET6, s->dst, ip + 24), 1, "%s", s->dst);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + tcp_len));
		put16(ip + 4, 0x1234);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		cr_assert_eq(inet_pton(AF_INET, s->src, ip + 12), 1, "%s", s->src);
		cr_assert_eq(inet_pton(AF_INET, s->dst, ip + 16), 1, "%s", s->dst);
		put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	}
	put16(th, s->sport);
	put16(th + 2, s->dport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	th[13] = s->flags;
	put16(th + 14, s->win);
	for (size_t i = 0; i < s->payload; i++)
		th[20 + optlen + i] = (uint8_t)(i * 31 + 7);
	put16(th + 16, (uint16_t)~tcp_sum(buf, s->v6, tcp_len));
	return l4 + tcp_len;
}

/* A segment from the client (up) or the backend (down) as it arrives, and
 * the one the program must make of it: same numbers, new addresses. */
static struct seg seg_up(const struct topo *t)
{
	return (struct seg){.v6 = t->v6,
			    .src = t->c,
			    .dst = t->g1,
			    .sport = t->cport,
			    .dport = t->g1port,
			    .flags = F_ACK};
}

static struct seg seg_down(const struct topo *t)
{
	return (struct seg){.v6 = t->v6,
			    .src = t->b,
			    .dst = t->g2,
			    .sport = t->bport,
			    .dport = t->g2port,
			    .flags = F_ACK};
}

static struct seg out_of(const struct topo *t, struct seg s, bool up)
{
	s.src = up ? t->g2 : t->g1;
	s.dst = up ? t->b : t->c;
	s.sport = up ? t->g2port : t->g1port;
	s.dport = up ? t->bport : t->cport;
	return s;
}

/* --- maps ------------------------------------------------------------------ */

static void set_dir(struct sg_xdir *d, bool v6, const char *src, uint16_t sport, const char *dst,
		    uint16_t dport)
{
	addr16(v6, src, d->saddr);
	addr16(v6, dst, d->daddr);
	d->sport = htons(sport);
	d->dport = htons(dport);
	d->ifindex = 1;
}

/* An active flow of t with no deltas, scales 0 and timestamps unknown. */
static struct sg_xflow flow_of(const struct topo *t)
{
	struct sg_xflow f;

	memset(&f, 0, sizeof(f));
	f.flow_id = 77;
	f.state = SG_X_ACTIVE;
	f.is_ipv6 = t->v6;
	set_dir(&f.dir[SG_DIR_TO_BACKEND], t->v6, t->g2, t->g2port, t->b, t->bport);
	set_dir(&f.dir[SG_DIR_TO_CLIENT], t->v6, t->g1, t->g1port, t->c, t->cport);
	return f;
}

static void put_key(bool v6, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		    uint32_t dir)
{
	struct sg_xkey k;
	struct sg_xref r = {.slot = SLOT, .dir = dir};

	memset(&k, 0, sizeof(k));
	addr16(v6, src, k.saddr);
	addr16(v6, dst, k.daddr);
	k.sport = htons(sport);
	k.dport = htons(dport);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_xkeys), &k, &r, BPF_ANY), 0,
		     "sg_xkeys: %s", strerror(errno));
}

/* Writes the flow into its slot, then the keys of both directions. */
static void install(const struct topo *t, const struct sg_xflow *f)
{
	uint32_t slot = SLOT;

	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_xflows), &slot, f, BPF_ANY), 0,
		     "sg_xflows: %s", strerror(errno));
	put_key(t->v6, t->c, t->cport, t->g1, t->g1port, SG_DIR_TO_BACKEND);
	put_key(t->v6, t->b, t->bport, t->g2, t->g2port, SG_DIR_TO_CLIENT);
}

static struct sg_xflow read_flow(void)
{
	struct sg_xflow f;
	uint32_t slot = SLOT;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_xflows), &slot, &f), 0);
	return f;
}

static uint64_t counter(enum sg_xcounter c)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1], sum = 0;
	uint32_t key = c;

	cr_assert_gt(ncpu, 0);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_xcounters), &key, vals), 0);
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns()'s clock */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- running ---------------------------------------------------------------- */

static uint32_t run(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = FRAME_MAX, .repeat = 1);

	memset(out, 0, FRAME_MAX);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.sg_express), &o), 0,
		     "test run: %s", strerror(errno));
	*out_len = o.data_size_out;
	return o.retval;
}

/* Checks the program's output frame against want, field by field (the
 * messages name the field), the checksums from scratch, then every byte. */
static void expect_frame(const char *what, const uint8_t *got, size_t len, const struct seg *want)
{
	uint8_t exp[FRAME_MAX], a[16];
	size_t elen = seg_build(want, exp), l4 = l4_off(want->v6), tcp_len = elen - l4;
	const uint8_t *gip = got + 14, *gth = got + l4;

	cr_assert_eq(len, elen, "%s: frame of %zu bytes, want %zu", what, len, elen);
	if (want->v6) {
		cr_assert_eq(memcmp(gip + 8, exp + 14 + 8, 16), 0, "%s: IPv6 source", what);
		cr_assert_eq(memcmp(gip + 24, exp + 14 + 24, 16), 0, "%s: IPv6 destination", what);
	} else {
		addr16(false, want->src, a);
		cr_assert_eq(memcmp(gip + 12, a + 12, 4), 0, "%s: IPv4 source", what);
		addr16(false, want->dst, a);
		cr_assert_eq(memcmp(gip + 16, a + 12, 4), 0, "%s: IPv4 destination", what);
		cr_assert_eq(fold(sum16(gip, 20, 0)), 0xffff, "%s: IPv4 header checksum 0x%04x bad",
			     what, get16(gip + 10));
	}
	cr_assert_eq(get16(gth), want->sport, "%s: sport %u, want %u", what, get16(gth),
		     want->sport);
	cr_assert_eq(get16(gth + 2), want->dport, "%s: dport %u, want %u", what, get16(gth + 2),
		     want->dport);
	cr_assert_eq(get32(gth + 4), want->seq, "%s: seq 0x%08x, want 0x%08x", what, get32(gth + 4),
		     want->seq);
	cr_assert_eq(get32(gth + 8), want->ack, "%s: ack 0x%08x, want 0x%08x", what, get32(gth + 8),
		     want->ack);
	cr_assert_eq(gth[13], want->flags, "%s: flags 0x%02x, want 0x%02x", what, gth[13],
		     want->flags);
	cr_assert_eq(get16(gth + 14), want->win, "%s: window %u, want %u", what, get16(gth + 14),
		     want->win);
	if (want->ts && !want->raw_opts) {
		cr_assert_eq(get32(gth + 24), want->tsval,
			     "%s: TSval 0x%08x (%u), want 0x%08x (%u)", what, get32(gth + 24),
			     get32(gth + 24), want->tsval, want->tsval);
		cr_assert_eq(get32(gth + 28), want->tsecr,
			     "%s: TSecr 0x%08x (%u), want 0x%08x (%u)", what, get32(gth + 28),
			     get32(gth + 28), want->tsecr, want->tsecr);
	}
	if (want->nsack && !want->raw_opts) {
		size_t base = 20 + (want->ts ? 12 : 0) + 4;

		for (int i = 0; i < 2 * want->nsack; i++)
			cr_assert_eq(get32(gth + base + 4 * i), want->sack[i],
				     "%s: SACK edge %d 0x%08x, want 0x%08x", what, i,
				     get32(gth + base + 4 * i), want->sack[i]);
	}
	cr_assert_eq(tcp_sum(got, want->v6, tcp_len), 0xffff, "%s: TCP checksum 0x%04x bad", what,
		     get16(gth + 16));
	/* Two valid checksums of the same bytes differ at most as 0x0000 and
	 * 0xffff, both right: compare the rest. */
	memcpy(exp + l4 + 16, gth + 16, 2);
	cr_assert_eq(memcmp(got, exp, elen), 0, "%s: frame differs from the expected one", what);
}

/* Sends in, expects a redirect and the frame of want. */
static void expect_xlate(const char *what, const struct seg *in, const struct seg *want)
{
	uint8_t frame[FRAME_MAX], out[FRAME_MAX];
	size_t len = seg_build(in, frame), out_len;
	uint32_t v = run(frame, len, out, &out_len);

	cr_assert_eq(v, V_REDIRECT, "%s: verdict 0x%x, want %u (redirect)", what, v, V_REDIRECT);
	expect_frame(what, out, out_len, want);
}

/* Sends in, expects verdict want and the frame back unchanged, byte for byte. */
static void expect_untouched(const char *what, const struct seg *in, uint32_t want)
{
	uint8_t frame[FRAME_MAX], out[FRAME_MAX];
	size_t len = seg_build(in, frame), out_len;
	uint32_t v = run(frame, len, out, &out_len);

	cr_assert_eq(v, want, "%s: verdict 0x%x, want 0x%x", what, v, want);
	cr_assert_eq(out_len, len, "%s: %zu bytes out of %zu", what, out_len, len);
	cr_assert_eq(memcmp(out, frame, len), 0, "%s: frame changed", what);
}

/* --- 1: headers, timestamps, checksums ------------------------------------- */

#define UP_SEQ_DELTA   0x10000000u /* client's numbering -> gateway's on leg 2 */
#define DOWN_SEQ_DELTA 0x20000000u /* backend's numbering -> gateway's on leg 1 */
#define UP_TS_BASE     1000000u
#define DOWN_TS_BASE   5000000u

static void headers_and_timestamps(const struct topo *t)
{
	struct sg_xflow f = flow_of(t);
	struct sg_xdir *up = &f.dir[SG_DIR_TO_BACKEND], *down = &f.dir[SG_DIR_TO_CLIENT];
	struct seg in, want;

	up->seq_delta = UP_SEQ_DELTA;
	up->ack_delta = 0u - DOWN_SEQ_DELTA;
	up->wscale_in = 7;
	up->wscale_out = 9;
	up->ts_base = UP_TS_BASE;
	up->next_seq = UP_SEQ_DELTA + 1000;
	down->seq_delta = DOWN_SEQ_DELTA;
	down->ack_delta = 0u - UP_SEQ_DELTA;
	down->wscale_in = 9;
	down->wscale_out = 7;
	down->ts_base = DOWN_TS_BASE;
	down->next_seq = DOWN_SEQ_DELTA + 5000;
	install(t, &f);

	/* The client's first timestamped packet: its TSval becomes ts_base + 1;
	 * the backend's offset is unknown, so no echo (TSecr 0). */
	in = seg_up(t);
	in.seq = 1000;
	in.ack = 0x20000000u + 5000; /* backend's byte 5000 in leg 1's numbering */
	in.flags = F_ACK | F_PSH;
	in.win = 1000;
	in.ts = true;
	in.tsval = 777;
	in.tsecr = 12345;
	in.payload = 100;
	want = out_of(t, in, true);
	want.seq = 0x10000000u + 1000;
	want.ack = 5000;
	want.win = 250; /* 1000 << 7 >> 9 */
	want.tsval = 1000001;
	want.tsecr = 0;
	expect_xlate("client's first TS packet", &in, &want);
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].ts_delta, SG_XDIR_TS_KNOWN | (1000001u - 777u),
		     "client's ts_delta 0x%llx", (unsigned long long)f.dir[0].ts_delta);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].ts_delta, 0);

	/* The backend's first: its clock is near 2^32; TSecr echoes the
	 * client's translated TSval, given back in the client's clock. */
	in = seg_down(t);
	in.seq = 5000;
	in.ack = 0x10000000u + 1100;
	in.flags = F_ACK | F_PSH;
	in.win = 250;
	in.ts = true;
	in.tsval = 0xfffffff0u;
	in.tsecr = 1000001;
	in.payload = 200;
	want = out_of(t, in, false);
	want.seq = 0x20000000u + 5000;
	want.ack = 1100;
	want.win = 1000; /* 250 << 9 >> 7 */
	want.tsval = 5000001;
	want.tsecr = 777;
	expect_xlate("backend's first TS packet", &in, &want);

	/* Later packets keep the offsets learned first. */
	in = seg_up(t);
	in.seq = 1100;
	in.ack = 0x20000000u + 5200;
	in.win = 2000;
	in.ts = true;
	in.tsval = 800;
	in.tsecr = 5000001;
	in.payload = 50;
	want = out_of(t, in, true);
	want.seq = 0x10000000u + 1100;
	want.ack = 5200;
	want.win = 500;
	want.tsval = 1000001u + (800u - 777u);
	want.tsecr = 0xfffffff0u;
	expect_xlate("client's second TS packet", &in, &want);

	/* The backend's clock wrapped past 2^32 since its first packet. */
	in = seg_down(t);
	in.seq = 5200;
	in.ack = 0x10000000u + 1150;
	in.win = 300;
	in.ts = true;
	in.tsval = 0x00000005u;
	in.tsecr = 1000001u + 23u;
	want = out_of(t, in, false);
	want.seq = 0x20000000u + 5200;
	want.ack = 1150;
	want.win = 1200;
	want.tsval = 5000001u + 0x15u;
	want.tsecr = 800;
	expect_xlate("backend's TS after its clock wrapped", &in, &want);

	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].ts_delta, SG_XDIR_TS_KNOWN | (1000001u - 777u));
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].ts_delta,
		     SG_XDIR_TS_KNOWN | (uint32_t)(5000001u - 0xfffffff0u));
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].packets, 2);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].packets, 2);
	cr_assert_eq(f.state, SG_X_ACTIVE);
	cr_assert_eq(counter(SG_XCNT_PACKETS), 4);
}

Test(express, v4_addresses_ports_numbers_window_timestamps_checksums)
{
	headers_and_timestamps(&T4);
}

Test(express, v6_addresses_ports_numbers_window_timestamps_checksums)
{
	headers_and_timestamps(&T6);
}

/* --- 2: sequence numbers and SACK edges across 2^32 ----------------------- */

static void wrap_and_sack(const struct topo *t)
{
	struct sg_xflow f = flow_of(t);
	struct sg_xdir *up = &f.dir[SG_DIR_TO_BACKEND], *down = &f.dir[SG_DIR_TO_CLIENT];
	/* Client's SACK blocks, in leg 1's numbering; ack_delta 0x30. */
	static const uint32_t c_sack[6] = {0xfffffff0u, 0x00000008u, 0xffffffc0u,
					   0xffffffd8u, 0x00000100u, 0x00000200u};
	static const uint32_t c_want[6] = {0x00000020u, 0x00000038u, 0xfffffff0u,
					   0x00000008u, 0x00000130u, 0x00000230u};
	/* Backend's, in leg 2's numbering; ack_delta -0x100. */
	static const uint32_t b_sack[6] = {0x00000050u, 0x00000150u, 0xffffff00u,
					   0x00000010u, 0xfffffff0u, 0xffffffffu};
	static const uint32_t b_want[6] = {0xffffff50u, 0x00000050u, 0xfffffe00u,
					   0xffffff10u, 0xfffffef0u, 0xfffffeffu};
	struct seg in, want;
	char what[64];

	up->seq_delta = 0x100;
	up->ack_delta = 0x30;
	down->seq_delta = 0u - 0x30u;
	down->ack_delta = 0u - 0x100u;
	install(t, &f);

	for (int n = 1; n <= 3; n++) {
		for (int ts = 0; ts <= (n == 3); ts++) {
			/* client: seq 0xffffff80 + 0x100 wraps to 0x80, its
			 * payload crosses 2^32 before; ack 0xffffffe0 + 0x30 */
			in = seg_up(t);
			in.seq = 0xffffff80u;
			in.ack = 0xffffffe0u;
			in.win = 512;
			in.nsack = n;
			memcpy(in.sack, c_sack, sizeof(c_sack));
			in.ts = ts;
			in.tsval = 100;
			in.tsecr = 0;
			in.payload = 200;
			want = out_of(t, in, true);
			want.seq = 0x00000080u;
			want.ack = 0x00000010u;
			memcpy(want.sack, c_want, sizeof(c_want));
			want.tsval = 1; /* ts_base 0 */
			snprintf(what, sizeof(what), "client, %d SACK block(s)%s", n,
				 ts ? " after TS" : "");
			expect_xlate(what, &in, &want);

			/* backend: seq 0xfffffff0 - 0x30, ack 0x80 - 0x100 */
			in = seg_down(t);
			in.seq = 0xfffffff0u;
			in.ack = 0x00000080u;
			in.win = 512;
			in.nsack = n;
			memcpy(in.sack, b_sack, sizeof(b_sack));
			in.ts = ts;
			in.tsval = 0x7fffffffu;
			in.tsecr = 1;
			in.payload = 30;
			want = out_of(t, in, false);
			want.seq = 0xffffffc0u;
			want.ack = 0xffffff80u;
			memcpy(want.sack, b_want, sizeof(b_want));
			want.tsval = 1;
			want.tsecr = 100; /* 1 - (1 - 100) */
			snprintf(what, sizeof(what), "backend, %d SACK block(s)%s", n,
				 ts ? " after TS" : "");
			expect_xlate(what, &in, &want);
		}
	}
}

Test(express, v4_sequence_ack_and_sack_edges_across_2_32)
{
	wrap_and_sack(&T4);
}

Test(express, v6_sequence_ack_and_sack_edges_across_2_32)
{
	wrap_and_sack(&T6);
}

/* --- random segments ---------------------------------------------------------- */

static uint32_t rnd_state = 0x2545f491u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Many segments with random numbers, deltas, scales, timestamps and SACK
 * blocks, both families and directions: incremental checksum arithmetic
 * goes wrong on a carry or an end-around case, rarely, so many values. Each
 * flow is fresh: the segment's direction learns its offset (TSval becomes
 * ts_base + 1); the other direction's offset is known, or not. */
Test(express, random_segments_translate_with_valid_checksums)
{
	char what[96];

	for (int i = 0; i < 1000; i++) {
		const struct topo *t = rnd() & 1 ? &T6 : &T4;
		bool up = rnd() & 1, other_known = rnd() & 1;
		struct sg_xflow f = flow_of(t);
		struct sg_xdir *d = &f.dir[up ? SG_DIR_TO_BACKEND : SG_DIR_TO_CLIENT];
		struct sg_xdir *od = &f.dir[up ? SG_DIR_TO_CLIENT : SG_DIR_TO_BACKEND];
		uint32_t other_off = rnd();
		struct seg in = up ? seg_up(t) : seg_down(t), want;
		uint64_t bytes;
		uint32_t next0;

		d->seq_delta = rnd();
		d->ack_delta = rnd();
		d->wscale_in = (uint8_t)(rnd() % 15);
		d->wscale_out = (uint8_t)(rnd() % 15);
		d->ts_base = rnd();
		d->next_seq = next0 = rnd();
		od->ts_delta = other_known ? SG_XDIR_TS_KNOWN | other_off : 0;
		install(t, &f);

		in.seq = rnd();
		in.ack = rnd();
		in.flags = (uint8_t)(rnd() % 4 ? F_ACK | (rnd() & F_PSH) : rnd() & (F_ACK | F_PSH));
		in.win = (uint16_t)(rnd() % 3 ? rnd() : rnd() % 4);
		in.ts = rnd() % 4 != 0;
		in.tsval = rnd();
		in.tsecr = rnd() % 8 ? rnd() : 0;
		in.nsack = (int)(rnd() % (in.ts ? 4 : 5));
		for (int e = 0; e < 8; e++)
			in.sack[e] = rnd();
		in.payload = (uint16_t)(rnd() % 4 ? rnd() % 300 : 0);
		want = out_of(t, in, up);
		want.seq = in.seq + d->seq_delta;
		want.ack = in.flags & F_ACK ? in.ack + d->ack_delta : in.ack;
		{
			uint64_t w = ((uint64_t)in.win << d->wscale_in) >> d->wscale_out;

			want.win = (uint16_t)(w > 65535 ? 65535 : w == 0 && in.win ? 1 : w);
		}
		want.tsval = d->ts_base + 1;
		want.tsecr = other_known && in.tsecr ? in.tsecr - other_off : 0;
		for (int e = 0; e < 2 * in.nsack; e++)
			want.sack[e] = in.sack[e] + d->ack_delta;
		snprintf(what, sizeof(what), "random segment %d (%s, %s, %d SACK, TS %d)", i,
			 t->v6 ? "IPv6" : "IPv4", up ? "up" : "down", in.nsack, in.ts);
		expect_xlate(what, &in, &want);

		bytes = in.payload && (int32_t)(want.seq + in.payload - next0) > 0
				? (uint32_t)(want.seq + in.payload - next0)
				: 0;
		f = read_flow(); /* d and od point into f */
		cr_assert_eq(f.dir[up ? 0 : 1].bytes, bytes, "%s: bytes", what);
		cr_assert_eq(f.dir[up ? 1 : 0].bytes, 0, "%s: the other way's bytes", what);
		if (in.ts)
			cr_assert_eq(f.dir[up ? 0 : 1].ts_delta,
				     SG_XDIR_TS_KNOWN | (uint32_t)(d->ts_base + 1 - in.tsval),
				     "%s: ts_delta", what);
	}
}

/* --- 3: window scale pairs ------------------------------------------------- */

Test(express, window_rescaled_clamped_and_never_rounded_to_zero)
{
	static const struct {
		uint8_t in, out;
		uint16_t win, want;
	} cases[] = {
		{0, 0, 12345, 12345}, {0, 0, 0, 0},	   {0, 0, 65535, 65535},
		{7, 0, 300, 38400},   {7, 0, 1000, 65535}, /* 128000: clamped */
		{7, 0, 0, 0},	      {0, 7, 1000, 7},	   /* 7.8 rounds down */
		{0, 7, 127, 1},				   /* would be 0 */
		{0, 7, 1, 1},	      {0, 7, 128, 1},	   {0, 7, 0, 0},
		{14, 7, 3, 384},      {14, 7, 600, 65535}, /* 76800 */
		{14, 7, 0, 0},	      {7, 14, 100, 1},	   /* 12800 >> 14 = 0 */
		{7, 14, 65535, 511},
	};
	struct seg in, want;
	char what[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sg_xflow f = flow_of(&T4);

		f.dir[SG_DIR_TO_BACKEND].wscale_in = cases[i].in;
		f.dir[SG_DIR_TO_BACKEND].wscale_out = cases[i].out;
		install(&T4, &f);
		in = seg_up(&T4);
		in.seq = 1;
		in.ack = 1;
		in.win = cases[i].win;
		want = out_of(&T4, in, true);
		want.win = cases[i].want;
		snprintf(what, sizeof(what), "scales (%u,%u), window %u", cases[i].in, cases[i].out,
			 cases[i].win);
		expect_xlate(what, &in, &want);
	}
}

/* --- 5: accounting ------------------------------------------------------------ */

static void send_up_data(uint32_t seq, uint16_t payload, uint32_t want_seq)
{
	struct seg in = seg_up(&T4), want;
	char what[64];

	in.seq = seq;
	in.ack = 1;
	in.win = 100;
	in.payload = payload;
	want = out_of(&T4, in, true);
	want.seq = want_seq;
	want.ack = 1;
	snprintf(what, sizeof(what), "seq 0x%08x, %u bytes", seq, payload);
	expect_xlate(what, &in, &want);
}

static void expect_account(const char *what, uint64_t bytes, uint64_t packets, uint32_t next_seq)
{
	struct sg_xflow f = read_flow();
	const struct sg_xdir *up = &f.dir[SG_DIR_TO_BACKEND];

	cr_assert_eq(up->bytes, bytes, "%s: bytes %llu, want %llu", what,
		     (unsigned long long)up->bytes, (unsigned long long)bytes);
	cr_assert_eq(up->packets, packets, "%s: packets %llu, want %llu", what,
		     (unsigned long long)up->packets, (unsigned long long)packets);
	cr_assert_eq(up->next_seq, (uint64_t)next_seq, "%s: next_seq 0x%llx, want 0x%x", what,
		     (unsigned long long)up->next_seq, next_seq);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].bytes, 0, "%s: the other way counted", what);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].packets, 0, "%s: the other way counted", what);
}

Test(express, bytes_counted_once_packets_every_time_across_2_32)
{
	struct sg_xflow f = flow_of(&T4);
	const uint32_t s0 = 0xfffffe00u; /* client's; 0xffffff00 translated */

	f.dir[SG_DIR_TO_BACKEND].seq_delta = 0x100;
	f.dir[SG_DIR_TO_BACKEND].next_seq = 0xffffff00u;
	install(&T4, &f);

	send_up_data(s0, 100, 0xffffff00u);
	expect_account("first 100 bytes", 100, 1, 0xffffff64u);
	send_up_data(s0, 100, 0xffffff00u);
	expect_account("their retransmission", 100, 2, 0xffffff64u);
	send_up_data(s0 + 100, 0, 0xffffff64u);
	expect_account("a pure ACK", 100, 3, 0xffffff64u);
	send_up_data(s0 + 100, 200, 0xffffff64u);
	expect_account("200 bytes across 2^32", 300, 4, 0x0000002cu);
	send_up_data(s0 + 100, 200, 0xffffff64u);
	expect_account("their retransmission", 300, 5, 0x0000002cu);
	send_up_data(s0 + 250, 100, 0xfffffffau);
	expect_account("100 bytes, 50 of them new", 350, 6, 0x0000005eu);
	send_up_data(s0, 100, 0xffffff00u);
	expect_account("old bytes from before 2^32", 350, 7, 0x0000005eu);
	send_up_data(s0 + 0x15e, 10, 0x0000005eu);
	expect_account("the next 10 bytes", 360, 8, 0x00000068u);
	cr_assert_eq(counter(SG_XCNT_PACKETS), 8);
}

/* --- 6: end of life ---------------------------------------------------------- */

Test(express, fins_both_ways_acknowledged_close_the_flow)
{
	struct sg_xflow f = flow_of(&T4);
	struct seg in, want;
	uint64_t t0, t1;

	f.dir[SG_DIR_TO_BACKEND].seq_delta = 0x1000;
	f.dir[SG_DIR_TO_BACKEND].ack_delta = 0u - 0x2000u;
	f.dir[SG_DIR_TO_CLIENT].seq_delta = 0x2000;
	f.dir[SG_DIR_TO_CLIENT].ack_delta = 0u - 0x1000u;
	install(&T4, &f);

	/* The client's FIN after 15 bytes: translated seq 0xfffffff0, its
	 * data ends at 0xffffffff, the FIN takes 2^32 - 1: fin_ack is 0. */
	in = seg_up(&T4);
	in.seq = 0xffffeff0u;
	in.ack = 0x2000u + 0x5000u;
	in.flags = F_FIN | F_ACK;
	in.payload = 15;
	want = out_of(&T4, in, true);
	want.seq = 0xfffffff0u;
	want.ack = 0x5000u;
	expect_xlate("client's FIN", &in, &want);
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].flags, SG_XDIR_F_FIN, "flags 0x%llx",
		     (unsigned long long)f.dir[SG_DIR_TO_BACKEND].flags);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].fin_ack, 0x00000000u, "fin_ack 0x%x",
		     f.dir[SG_DIR_TO_BACKEND].fin_ack);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].flags, 0);

	/* The backend acks in its own view of the client's stream (the
	 * translated one): first the data only, then in the client's
	 * original numbering (0xfffff000 covers the FIN there but is not
	 * the backend's view), neither acknowledges the FIN. */
	in = seg_down(&T4);
	in.seq = 0x5000;
	in.ack = 0xffffffffu;
	want = out_of(&T4, in, false);
	want.seq = 0x7000;
	want.ack = 0xffffefffu;
	expect_xlate("backend acks the data, not the FIN", &in, &want);
	in.ack = 0xfffff000u;
	want.ack = 0xffffe000u;
	expect_xlate("an ack in the client's untranslated numbering", &in, &want);
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].flags, SG_XDIR_F_FIN, "flags 0x%llx",
		     (unsigned long long)f.dir[SG_DIR_TO_BACKEND].flags);

	in.ack = 0x00000000u;
	want.ack = 0xfffff000u;
	expect_xlate("backend acks the FIN", &in, &want);
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].flags, SG_XDIR_F_FIN | SG_XDIR_F_FIN_ACKED,
		     "flags 0x%llx", (unsigned long long)f.dir[SG_DIR_TO_BACKEND].flags);
	cr_assert_eq(f.state, SG_X_ACTIVE, "one FIN acknowledged: still active");
	cr_assert_eq(f.closed_ns, 0);

	/* The backend's FIN (no data): translated seq 0x7000, fin_ack 0x7001. */
	in.flags = F_FIN | F_ACK;
	want = out_of(&T4, in, false);
	want.seq = 0x7000;
	want.ack = 0xfffff000u;
	expect_xlate("backend's FIN", &in, &want);
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].flags, SG_XDIR_F_FIN);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].fin_ack, 0x7001u, "fin_ack 0x%x",
		     f.dir[SG_DIR_TO_CLIENT].fin_ack);
	cr_assert_eq(f.state, SG_X_ACTIVE);

	/* The client acks it in its own numbering (leg 1's, translated). */
	in = seg_up(&T4);
	in.seq = 0xffffeff0u + 16;
	in.ack = 0x7000u;
	want = out_of(&T4, in, true);
	want.seq = 0x00000000u;
	want.ack = 0x5000u;
	expect_xlate("client acks up to the backend's FIN", &in, &want);
	cr_assert_eq(read_flow().state, SG_X_ACTIVE);
	cr_assert_eq(read_flow().dir[SG_DIR_TO_CLIENT].flags, SG_XDIR_F_FIN);

	in.ack = 0x7001u;
	want.ack = 0x5001u;
	t0 = now_ns();
	expect_xlate("client acks the backend's FIN", &in, &want);
	t1 = now_ns();
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].flags, SG_XDIR_F_FIN | SG_XDIR_F_FIN_ACKED);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].flags, SG_XDIR_F_FIN | SG_XDIR_F_FIN_ACKED);
	cr_assert_eq(f.state, SG_X_CLOSED, "state %llu", (unsigned long long)f.state);
	cr_assert(f.closed_ns >= t0 && f.closed_ns <= t1, "closed_ns %llu not in [%llu, %llu]",
		  (unsigned long long)f.closed_ns, (unsigned long long)t0, (unsigned long long)t1);
	cr_assert_eq(counter(SG_XCNT_CLOSED), 1);

	/* A late retransmission is still translated; the close stays as it was. */
	expect_xlate("retransmission after close", &in, &want);
	cr_assert_eq(read_flow().closed_ns, f.closed_ns);
	cr_assert_eq(read_flow().state, SG_X_CLOSED);
	cr_assert_eq(counter(SG_XCNT_CLOSED), 1);
}

Test(express, rst_closes_at_once)
{
	struct sg_xflow f = flow_of(&T6);
	struct seg in, want;
	uint64_t t0, t1;

	f.dir[SG_DIR_TO_CLIENT].seq_delta = 0x100;
	f.dir[SG_DIR_TO_CLIENT].ack_delta = 0x200;
	f.dir[SG_DIR_TO_BACKEND].seq_delta = 0x200;
	f.dir[SG_DIR_TO_BACKEND].ack_delta = 0x100;
	install(&T6, &f);
	/* A bare RST: without ACK its acknowledgment field is no number and
	 * stays as it is. */
	in = seg_down(&T6);
	in.seq = 42;
	in.ack = 43;
	in.flags = F_RST;
	want = out_of(&T6, in, false);
	want.seq = 42 + 0x100;
	want.ack = 43;
	t0 = now_ns();
	expect_xlate("backend's bare RST", &in, &want);
	t1 = now_ns();
	f = read_flow();
	cr_assert_eq(f.state, SG_X_CLOSED, "state %llu", (unsigned long long)f.state);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].flags, SG_XDIR_F_RST);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].flags, 0);
	cr_assert(f.closed_ns >= t0 && f.closed_ns <= t1);
	cr_assert_eq(counter(SG_XCNT_CLOSED), 1);

	/* The client's RST|ACK after it: translated, closed once. */
	in = seg_up(&T6);
	in.seq = 43;
	in.ack = 142;
	in.flags = F_RST | F_ACK;
	want = out_of(&T6, in, true);
	want.seq = 43 + 0x200;
	want.ack = 142 + 0x100;
	expect_xlate("client's RST|ACK", &in, &want);
	cr_assert_eq(read_flow().dir[SG_DIR_TO_BACKEND].flags, SG_XDIR_F_RST);
	cr_assert_eq(read_flow().closed_ns, f.closed_ns);
	cr_assert_eq(counter(SG_XCNT_CLOSED), 1);
}

/* --- 7: PENDING and unknown tuples -------------------------------------------- */

/* While pending: nothing may enter a receive queue (data, SYN, FIN are
 * dropped), pure ACKs and resets reach the sockets, and every ACK number is
 * recorded, the dropped segments' too (the agent's proof of delivery). */
Test(express, pending_drops_data_syn_fin_passes_acks_and_rst_records_acks)
{
	struct sg_xflow f = flow_of(&T4);
	static const struct {
		const char *what;
		uint8_t flags;
		uint16_t payload;
	} drops[] = {
		{"data", F_ACK | F_PSH, 10},
		{"SYN", F_SYN, 0},
		{"FIN", F_FIN | F_ACK, 0},
	};
	struct seg in;

	f.state = SG_X_PENDING;
	f.dir[SG_DIR_TO_BACKEND].seq_delta = 0x1234;
	f.dir[SG_DIR_TO_BACKEND].ack_delta = 0x4321;
	install(&T4, &f);
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++) {
		in = i % 2 ? seg_down(&T4) : seg_up(&T4);
		in.seq = 1000;
		in.ack = 2000;
		in.flags = drops[i].flags;
		in.payload = drops[i].payload;
		in.win = 100;
		expect_untouched(drops[i].what, &in, V_DROP);
		cr_assert_eq(counter(SG_XCNT_PENDING_DROPS), i + 1);
	}
	in = seg_up(&T4);
	in.seq = 1000;
	in.ack = 2000;
	in.win = 100;
	in.ts = true;
	in.tsval = 5;
	in.tsecr = 6;
	expect_untouched("client's pure ACK", &in, V_NEXT);
	in = seg_down(&T4);
	in.seq = 2000;
	in.ack = 1000;
	expect_untouched("backend's pure ACK", &in, V_NEXT);
	in = seg_up(&T4);
	in.seq = 1000;
	in.ack = 0x70000000u;
	in.payload = 10;
	in.flags = F_ACK | F_PSH;
	expect_untouched("client's data with a newer ack", &in, V_DROP);
	in.ack = 0xe0000000u;
	expect_untouched("client's data with a newer ack still", &in, V_DROP);
	in.ack = 0x10; /* newer still, across the wrap */
	expect_untouched("client's data acking across the wrap", &in, V_DROP);
	in.ack = 0xffffff00u; /* older: the highest stays */
	expect_untouched("client's data with an older ack", &in, V_DROP);
	in = seg_down(&T4);
	in.flags = F_RST;
	in.seq = 2000;
	in.ack = 0;
	expect_untouched("backend's RST", &in, V_NEXT);
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].pending_ack, SG_XDIR_ACK_KNOWN | 0x10,
		     "client's highest ack 0x%llx",
		     (unsigned long long)f.dir[SG_DIR_TO_BACKEND].pending_ack);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].pending_ack, SG_XDIR_ACK_KNOWN | 1000,
		     "backend's highest ack 0x%llx (a RST without ACK adds none)",
		     (unsigned long long)f.dir[SG_DIR_TO_CLIENT].pending_ack);
	cr_assert_eq(f.state, SG_X_PENDING);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].ts_delta, 0, "no offset learned while pending");
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].packets, 0);
	cr_assert_eq(f.dir[SG_DIR_TO_CLIENT].packets, 0);
	cr_assert_eq(counter(SG_XCNT_PACKETS), 0);
	cr_assert_eq(counter(SG_XCNT_PENDING_DROPS), 7);
}

Test(express, unknown_tuples_pass_unchanged)
{
	struct sg_xflow f4 = flow_of(&T4);
	struct seg in;

	install(&T4, &f4);
	in = seg_up(&T4);
	in.sport++;
	in.seq = 1;
	in.ack = 2;
	in.payload = 40;
	expect_untouched("another client port", &in, V_NEXT);
	in = seg_up(&T4);
	in.src = T4.b;
	in.payload = 40;
	expect_untouched("another client address", &in, V_NEXT);
	in = seg_up(&T4); /* g1 -> c: a key reversed */
	in.src = T4.g1;
	in.dst = T4.c;
	in.sport = T4.g1port;
	in.dport = T4.cport;
	expect_untouched("the reverse of a key", &in, V_NEXT);
	in = seg_up(&T6); /* T4's ports, another family */
	in.sport = T4.cport;
	in.payload = 7;
	expect_untouched("an IPv6 tuple", &in, V_NEXT);
	cr_assert_eq(read_flow().dir[SG_DIR_TO_BACKEND].packets, 0);
	cr_assert_eq(counter(SG_XCNT_PACKETS), 0);
}

/* A slot the agent freed while its keys are still being removed: nothing
 * of it is used. */
Test(express, a_free_slot_passes_everything_unchanged)
{
	struct sg_xflow f = flow_of(&T4);
	struct seg in;

	f.state = SG_X_FREE;
	f.dir[SG_DIR_TO_BACKEND].seq_delta = 0x100;
	install(&T4, &f);
	in = seg_up(&T4);
	in.seq = 1;
	in.ack = 2;
	in.flags = F_ACK | F_PSH;
	in.payload = 10;
	expect_untouched("data to a free slot", &in, V_NEXT);
	in.flags = F_RST;
	in.payload = 0;
	expect_untouched("RST to a free slot", &in, V_NEXT);
	f = read_flow();
	cr_assert_eq(f.state, SG_X_FREE);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].packets, 0);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].flags, 0);
	cr_assert_eq(counter(SG_XCNT_PACKETS) + counter(SG_XCNT_PENDING_DROPS), 0);
}

/* Keys hold IPv4 addresses v4-mapped: an IPv6 frame between the v4-mapped
 * addresses of an IPv4 flow's tuple must not pass for one of its packets
 * (translated into an IPv6 frame with v4-mapped addresses, counted, able to
 * close the IPv4 flow with a RST). */
Test(express, an_ipv6_frame_with_an_ipv4_flows_mapped_tuple_passes_unchanged)
{
	struct sg_xflow f = flow_of(&T4);
	struct seg in = seg_up(&T4);

	f.dir[SG_DIR_TO_BACKEND].seq_delta = 0x100;
	install(&T4, &f);
	in.v6 = true;
	in.src = "::ffff:192.0.2.10";
	in.dst = "::ffff:10.0.0.1";
	in.seq = 1;
	in.ack = 2;
	in.flags = F_RST | F_ACK;
	in.payload = 10;
	expect_untouched("IPv6 RST with T4's mapped tuple", &in, V_NEXT);
	f = read_flow();
	cr_assert_eq(f.state, SG_X_ACTIVE, "state %llu", (unsigned long long)f.state);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].flags, 0);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].packets, 0);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].bytes, 0);
	cr_assert_eq(counter(SG_XCNT_PACKETS), 0);
}

/* --- lengths ------------------------------------------------------------------ */

/* Frames shorter than 60 bytes arrive with Ethernet padding: the IP length,
 * not the frame's, says where the segment ends. */
Test(express, ethernet_padding_is_not_payload)
{
	struct sg_xflow f = flow_of(&T4);
	uint8_t frame[FRAME_MAX], exp[FRAME_MAX], out[FRAME_MAX];
	size_t len, elen, out_len;
	struct seg in, want;
	uint32_t v;

	f.dir[SG_DIR_TO_BACKEND].seq_delta = 0x10;
	f.dir[SG_DIR_TO_BACKEND].next_seq = 0x10 + 100;
	install(&T4, &f);
	for (uint16_t payload = 0; payload <= 1; payload++) {
		in = seg_up(&T4);
		in.seq = 100;
		in.ack = 1;
		in.win = 10;
		in.payload = payload;
		want = out_of(&T4, in, true);
		want.seq = 0x10 + 100;
		len = seg_build(&in, frame);
		elen = seg_build(&want, exp);
		cr_assert_lt(len, 60);
		len = elen = 60; /* zero padding, as the builders left it */
		v = run(frame, len, out, &out_len);
		cr_assert_eq(v, V_REDIRECT, "%u byte(s): verdict 0x%x", payload, v);
		cr_assert_eq(out_len, elen);
		cr_assert_eq(tcp_sum(out, false, 20u + payload), 0xffff,
			     "%u byte(s): TCP checksum bad", payload);
		memcpy(exp + l4_off(false) + 16, out + l4_off(false) + 16, 2);
		cr_assert_eq(memcmp(out, exp, elen), 0, "%u byte(s): frame differs", payload);
	}
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].bytes, 1);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].next_seq, 0x10 + 101);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].packets, 2);
}

/* An IP length beyond the frame, or IPv4's shorter than its header, is a
 * frame IP drops (ip_rcv, ipv6_rcv): it goes on to the stack, untouched,
 * and never counts as payload in the flow. */
Test(express, ip_lengths_that_do_not_fit_the_frame_go_on_untouched)
{
	static const struct {
		const char *what;
		bool v6;
		int tot_len; /* IPv4 tot_len or IPv6 payload_len; < 0: real + -x */
	} cases[] = {
		{"IPv4 total length 10", false, 10},
		{"IPv4 total length 19", false, 19},
		{"IPv4 total length 1000 past the frame", false, -1000},
		{"IPv6 payload length 1000 past the frame", true, -1000},
		{"IPv6 payload length 1 past the frame", true, -1},
	};
	uint8_t frame[FRAME_MAX], out[FRAME_MAX];
	size_t len, out_len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct topo *t = cases[i].v6 ? &T6 : &T4;
		struct sg_xflow f = flow_of(t);
		struct seg in = seg_up(t);
		uint8_t *ip = frame + 14;
		uint32_t v;

		f.dir[SG_DIR_TO_BACKEND].seq_delta = 0x10;
		install(t, &f);
		in.seq = 100;
		in.ack = 1;
		in.payload = 10;
		len = seg_build(&in, frame);
		if (cases[i].v6) {
			put16(ip + 4, (uint16_t)(get16(ip + 4) - cases[i].tot_len));
		} else {
			put16(ip + 2,
			      (uint16_t)(cases[i].tot_len < 0 ? get16(ip + 2) - cases[i].tot_len
							      : cases[i].tot_len));
			put16(ip + 10, 0);
			put16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
		}
		v = run(frame, len, out, &out_len);
		cr_assert_eq(v, V_NEXT, "%s: verdict 0x%x", cases[i].what, v);
		cr_assert_eq(out_len, len);
		cr_assert_eq(memcmp(out, frame, len), 0, "%s: frame changed", cases[i].what);
		f = read_flow();
		cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].bytes, 0, "%s: %llu bytes counted",
			     cases[i].what, (unsigned long long)f.dir[SG_DIR_TO_BACKEND].bytes);
		cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].packets, 0, "%s", cases[i].what);
	}
}

/* --- 8: options at odd offsets ---------------------------------------------- */

Test(express, options_at_odd_offsets_dropped_and_counted)
{
	/* NOP, TS at offset 21 of the TCP header, NOP */
	static const uint8_t ts_odd[12] = {1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1};
	/* NOP, SACK of one block at 21, NOP */
	static const uint8_t sack_odd[12] = {1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1};
	/* NOP, NOP, TS at 22 (fine), NOP, SACK at 33, NOP */
	static const uint8_t sack_odd2[24] = {1, 1, 8,	10, 0, 0, 0, 1, 0, 0, 0, 2,
					      1, 5, 10, 0,  0, 0, 3, 0, 0, 0, 4, 1};
	static const struct {
		const char *what;
		const uint8_t *o;
		size_t len;
	} cases[] = {
		{"TS at an odd offset", ts_odd, sizeof(ts_odd)},
		{"SACK at an odd offset", sack_odd, sizeof(sack_odd)},
		{"SACK at an odd offset after an even TS", sack_odd2, sizeof(sack_odd2)},
	};
	struct sg_xflow f = flow_of(&T4);
	struct seg in;
	uint8_t frame[FRAME_MAX], out[FRAME_MAX];
	size_t out_len;

	install(&T4, &f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v;

		in = seg_up(&T4);
		in.seq = 10;
		in.ack = 20;
		in.payload = 5;
		in.raw_opts = cases[i].o;
		in.raw_len = cases[i].len;
		v = run(frame, seg_build(&in, frame), out, &out_len);
		cr_assert_eq(v, V_DROP, "%s: verdict 0x%x", cases[i].what, v);
		cr_assert_eq(counter(SG_XCNT_UNALIGNED_DROPS), i + 1, "%s", cases[i].what);
	}
	f = read_flow();
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].ts_delta, 0, "offset learned from a dropped packet");
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].packets, 0);
	cr_assert_eq(f.dir[SG_DIR_TO_BACKEND].bytes, 0);
	cr_assert_eq(counter(SG_XCNT_PACKETS), 0);
}

/* --- 9: a new connection on an ended flow's tuple ----------------------------- */

static bool has_key(bool v6, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct sg_xkey k;
	struct sg_xref r;

	memset(&k, 0, sizeof(k));
	addr16(v6, src, k.saddr);
	addr16(v6, dst, k.daddr);
	k.sport = htons(sport);
	k.dport = htons(dport);
	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_xkeys), &k, &r) == 0;
}

/* A client that closed passively may reuse its port at once: its SYN must
 * reach the stack, and the ended flow must let go of both tuples so the
 * new connection's later packets are not translated. A SYN on a live
 * flow's tuple passes too, and the flow keeps its keys. */
Test(express, syn_on_a_closed_flow_passes_and_frees_its_tuples)
{
	struct sg_xflow f = flow_of(&T4);
	struct seg in;

	install(&T4, &f);
	in = seg_up(&T4);
	in.flags = F_SYN;
	in.seq = 12345;
	in.ack = 0;
	expect_untouched("SYN on a live flow", &in, V_NEXT);
	cr_assert(has_key(false, T4.c, T4.cport, T4.g1, T4.g1port), "live flow keeps its keys");
	cr_assert(has_key(false, T4.b, T4.bport, T4.g2, T4.g2port));

	f.state = SG_X_CLOSED;
	install(&T4, &f);
	expect_untouched("SYN on a closed flow", &in, V_NEXT);
	cr_assert(!has_key(false, T4.c, T4.cport, T4.g1, T4.g1port), "client-side key deleted");
	cr_assert(!has_key(false, T4.b, T4.bport, T4.g2, T4.g2port), "backend-side key deleted");
	cr_assert_eq(counter(SG_XCNT_SYN_PASSED), 2);
	in.flags = F_ACK;
	in.seq = 12346;
	in.ack = 777;
	expect_untouched("the new connection's next packet", &in, V_NEXT);
}
