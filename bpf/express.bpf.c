// SPDX-License-Identifier: GPL-2.0
/* express.bpf.c: joins two TCP connections at the packet level
 * (docs/EXPRESS.md). Attached at TC ingress of the interfaces an express
 * flow's peers are reached through. A packet of a flow in sg_xkeys is
 * rewritten into a packet of the other connection (addresses, ports,
 * sequence and acknowledgment numbers, window, timestamps, SACK edges,
 * checksums) and sent out toward the other peer, so the gateway's own TCP
 * stack never sees it. Everything else goes on to the next program. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sg_abi.h"
#include "sg_express.h"

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define TCP_OPT_EOL  0
#define TCP_OPT_NOP  1
#define TCP_OPT_SACK 5
#define TCP_OPT_TS   8
#define TCP_OPT_SCAN 40 /* option bytes at most: a bound the verifier can see */
#define CAS_TRIES    4

#define READ_ONCE(x)	 (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SG_MAX_XFLOWS);
	__type(key, struct sg_xkey);
	__type(value, struct sg_xref);
} sg_xkeys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_MAX_XFLOWS);
	__type(key, __u32);
	__type(value, struct sg_xflow);
} sg_xflows SEC(".maps");

/* One struct sg_event (SG_EVENT_EXPRESS_CLOSED) per flow that ends: the
 * agent learns at once, as a sockmap pair's socket tells it by EPOLLRDHUP. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} sg_xevents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_XCNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sg_xcounters SEC(".maps");

static __always_inline void count(enum sg_xcounter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&sg_xcounters, &key);

	if (v)
		*v += 1;
}

/* Where the parsed packet's pieces are, as offsets from skb->data. */
struct pkt {
	__u32 l3;      /* IP header */
	__u32 l4;      /* TCP header */
	__u32 doff;    /* TCP header length */
	__u32 payload; /* TCP payload bytes */
	bool is_ipv6;
};

static __always_inline void map_v4(__u8 out[16], __be32 addr)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &addr, 4);
}

/* Fills key and p from skb; false when it is not a TCP packet this program
 * could translate (those go on untouched). */
static __always_inline bool parse(struct __sk_buff *skb, struct sg_xkey *key, struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 total;

	if ((void *)(eth + 1) > end)
		return false;
	p->l3 = sizeof(*eth);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + sizeof(*eth);

		if ((void *)(ip + 1) > end)
			return false;
		if (ip->ihl != 5 || ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			return false;
		map_v4(key->saddr, ip->saddr);
		map_v4(key->daddr, ip->daddr);
		p->l4 = p->l3 + sizeof(*ip);
		total = bpf_ntohs(ip->tot_len);
		/* Lengths ip_rcv() would drop the frame for go on to it. */
		if (total && (total < sizeof(*ip) || total > skb->len - p->l3))
			return false;
		/* 0 in a GSO packet larger than 64 KiB (BIG TCP) */
		total = total ? total - sizeof(*ip) : skb->len - p->l4;
		p->is_ipv6 = false;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + sizeof(*eth);

		if ((void *)(ip6 + 1) > end)
			return false;
		if (ip6->nexthdr != IPPROTO_TCP)
			return false;
		__builtin_memcpy(key->saddr, &ip6->saddr, 16);
		__builtin_memcpy(key->daddr, &ip6->daddr, 16);
		p->l4 = p->l3 + sizeof(*ip6);
		total = bpf_ntohs(ip6->payload_len);
		if (total > skb->len - p->l4)
			return false;
		total = total ? total : skb->len - p->l4;
		p->is_ipv6 = true;
	} else {
		return false;
	}
	struct tcphdr *th = data + p->l4;

	if ((void *)(th + 1) > end)
		return false;
	key->sport = th->source;
	key->dport = th->dest;
	p->doff = th->doff * 4;
	if (p->doff < sizeof(*th) || total < p->doff)
		return false;
	p->payload = total - p->doff;
	return true;
}

/* A 32-bit field's old and new value, added to the running checksum diff. */
static __always_inline __s64 diff32(__be32 from, __be32 to, __s64 seed)
{
	return bpf_csum_diff(&from, 4, &to, 4, (__wsum)seed);
}

/* The offset this direction adds to TSval: learned from the first
 * timestamped packet after hand-over, once, whichever CPU sees it. */
static __always_inline __u32 ts_delta(struct sg_xdir *dir, __u32 tsval)
{
	__u64 cur = READ_ONCE(dir->ts_delta);

	if (!(cur & SG_XDIR_TS_KNOWN)) {
		__u64 want = SG_XDIR_TS_KNOWN | (__u32)(dir->ts_base + 1 - tsval);

		__sync_val_compare_and_swap(&dir->ts_delta, cur, want);
		cur = READ_ONCE(dir->ts_delta);
	}
	return (__u32)cur;
}

/* The option scan's state: the options copied to the stack, and the
 * offsets (from the TCP header) of the ones this program rewrites; 0: absent. */
struct opts {
	__u8 buf[TCP_OPT_SCAN];
	__u32 len; /* option bytes in buf */
	__u32 off; /* next option, from the start of buf */
	__u32 ts;
	__u32 sack;
	__u32 sack_len;
};

/* One option per call (bpf_loop): the verifier checks the body once,
 * however many options a packet has. */
static long scan_option(__u64 index, void *arg)
{
	struct opts *o = arg;
	__u32 off = o->off;
	__u8 kind, len;

	(void)index;
	if (off >= o->len || off >= TCP_OPT_SCAN - 1)
		return 1;
	kind = o->buf[off];
	if (kind == TCP_OPT_EOL)
		return 1;
	if (kind == TCP_OPT_NOP) {
		o->off = off + 1;
		return 0;
	}
	len = o->buf[off + 1];
	if (len < 2 || off + len > o->len)
		return 1;
	if (kind == TCP_OPT_TS && len == 10)
		o->ts = sizeof(struct tcphdr) + off;
	else if (kind == TCP_OPT_SACK && len >= 10)
		o->sack = sizeof(struct tcphdr) + off, o->sack_len = len;
	o->off = off + len;
	return 0;
}

static __always_inline void find_options(struct __sk_buff *skb, const struct pkt *p, struct opts *o)
{
	__u32 n = p->doff - sizeof(struct tcphdr);

	if (n > TCP_OPT_SCAN || n == 0)
		return;
	if (bpf_skb_load_bytes(skb, p->l4 + sizeof(struct tcphdr), o->buf, n))
		return;
	o->len = n;
	bpf_loop(TCP_OPT_SCAN, scan_option, o, 0);
}

/* Reads the 32-bit field at off (from the TCP header) into *old, writes new.
 * false when the packet is shorter. */
static __always_inline bool swap32(__u8 *th, void *end, __u32 off, __be32 *old,
				   __be32 (*fn)(__be32, void *), void *arg, __s64 *csum)
{
	__u8 *f = th + (off & 63);

	if ((void *)(f + 4) > end)
		return false;
	*old = *(__be32 *)f;
	__be32 nv = fn(*old, arg);

	*(__be32 *)f = nv;
	*csum = diff32(*old, nv, *csum);
	return true;
}

static __always_inline __be32 add_ack_delta(__be32 v, void *arg)
{
	return bpf_htonl(bpf_ntohl(v) + ((struct sg_xdir *)arg)->ack_delta);
}

static __always_inline __be32 add_ts_delta(__be32 v, void *arg)
{
	return bpf_htonl(bpf_ntohl(v) + ts_delta(arg, bpf_ntohl(v)));
}

/* Echo of the other way's translated TSval, given back in its sender's
 * clock; 0 (no echo, so no RTT sample) until that way's offset is known. */
static __always_inline __be32 untranslate_ecr(__be32 v, void *arg)
{
	__u64 od = READ_ONCE(((struct sg_xdir *)arg)->ts_delta);

	return (od & SG_XDIR_TS_KNOWN) && v ? bpf_htonl(bpf_ntohl(v) - (__u32)od) : 0;
}

/* Rewrites the TSval/TSecr and SACK options in place; adds the changes to
 * *csum. false: an option the checksum arithmetic cannot handle (odd
 * offset; Linux and every common stack pad options to even offsets). */
static __always_inline bool rewrite_options(struct __sk_buff *skb, const struct pkt *p,
					    struct sg_xdir *dir, struct sg_xdir *odir, __s64 *csum)
{
	struct opts o = {};
	__be32 old;

	find_options(skb, p, &o);
	/* No helper below moves the packet: these stay valid. */
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *th = data + (p->l4 & 0xff);

	if (((p->l4 + o.ts) | (p->l4 + o.sack)) & 1)
		return false;
	if (o.ts) {
		swap32(th, end, o.ts + 2, &old, add_ts_delta, dir, csum);
		swap32(th, end, o.ts + 6, &old, untranslate_ecr, odir, csum);
	}
	if (o.sack) {
		__u32 edges = (o.sack_len - 2) / 4;

		for (__u32 e = 0; e < 8; e++) {
			if (e >= edges)
				break;
			swap32(th, end, o.sack + 2 + 4 * e, &old, add_ack_delta, dir, csum);
		}
	}
	return true;
}

/* The window field rescaled from the source's scale to the one the
 * destination applies, clamped; never 0 unless it was 0. */
static __always_inline __u16 rescale(__u16 win, const struct sg_xdir *dir)
{
	__u64 bytes = (__u64)win << (dir->wscale_in & 15);
	__u64 w = bytes >> (dir->wscale_out & 15);

	if (w > 0xffff)
		w = 0xffff;
	if (!w && win)
		w = 1;
	return (__u16)w;
}

/* Advances the direction's highest sequence number to end and counts the
 * new bytes: a retransmission adds nothing, and two CPUs never count the
 * same byte twice. */
static __always_inline void account(struct sg_xdir *dir, __u32 end)
{
	for (int i = 0; i < CAS_TRIES; i++) {
		__u64 old = READ_ONCE(dir->next_seq);

		if ((__s32)(end - (__u32)old) <= 0)
			return;
		if (__sync_val_compare_and_swap(&dir->next_seq, old, (__u64)end) == old) {
			__sync_fetch_and_add(&dir->bytes, (__u64)(__u32)(end - (__u32)old));
			return;
		}
	}
}

static __always_inline void track_end(struct sg_xflow *f, struct sg_xdir *dir, struct sg_xdir *odir,
				      __u32 end, __u32 ack, bool has_ack, bool fin, bool rst,
				      __u64 now)
{
	if (fin && !(READ_ONCE(dir->flags) & SG_XDIR_F_FIN)) {
		WRITE_ONCE(dir->fin_ack, end + 1);
		__sync_fetch_and_or(&dir->flags, (__u64)SG_XDIR_F_FIN);
	}
	if (rst)
		__sync_fetch_and_or(&dir->flags, (__u64)SG_XDIR_F_RST);
	/* ack is in the other way's translated numbering, like its fin_ack */
	if (has_ack &&
	    (READ_ONCE(odir->flags) & (SG_XDIR_F_FIN | SG_XDIR_F_FIN_ACKED)) == SG_XDIR_F_FIN &&
	    (__s32)(ack - READ_ONCE(odir->fin_ack)) >= 0)
		__sync_fetch_and_or(&odir->flags, (__u64)SG_XDIR_F_FIN_ACKED);
	if (rst || ((READ_ONCE(dir->flags) & SG_XDIR_F_FIN_ACKED) &&
		    (READ_ONCE(odir->flags) & SG_XDIR_F_FIN_ACKED))) {
		if (__sync_val_compare_and_swap(&f->state, (__u64)SG_X_ACTIVE,
						(__u64)SG_X_CLOSED) == SG_X_ACTIVE) {
			struct sg_event ev = {.flow_id = f->flow_id,
					      .kind = SG_EVENT_EXPRESS_CLOSED};

			WRITE_ONCE(f->closed_ns, now);
			count(SG_XCNT_CLOSED);
			if (bpf_ringbuf_output(&sg_xevents, &ev, sizeof(ev), 0))
				count(SG_XCNT_EVENTS_LOST); /* the agent's look finds it */
		}
	}
}

static __always_inline int translate(struct __sk_buff *skb, const struct pkt *p, struct sg_xflow *f,
				     __u32 d)
{
	struct sg_xdir *dir = &f->dir[d & 1], *odir = &f->dir[(d & 1) ^ 1];
	__u64 now = bpf_ktime_get_ns();
	__s64 csum = 0, csum_ph = 0;
	__u8 old_addr[32], new_addr[32];
	bool fin, rst, has_ack;
	__u32 seq_end, ack;

	if (bpf_skb_pull_data(skb, p->l4 + p->doff))
		return TCX_DROP;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tcphdr *th = data + p->l4;
	__u8 *ip = data + p->l3;

	if ((void *)(th + 1) > end || (void *)(ip + 40) > end)
		return TCX_DROP;

	/* addresses: the pseudo-header's part of the checksum */
	if (p->is_ipv6) {
		__builtin_memcpy(old_addr, ip + 8, 32);
		__builtin_memcpy(new_addr, dir->saddr, 16);
		__builtin_memcpy(new_addr + 16, dir->daddr, 16);
		__builtin_memcpy(ip + 8, new_addr, 32);
		csum_ph = bpf_csum_diff((__be32 *)old_addr, 32, (__be32 *)new_addr, 32, 0);
	} else {
		__builtin_memcpy(old_addr, ip + 12, 8);
		__builtin_memcpy(new_addr, dir->saddr + 12, 4);
		__builtin_memcpy(new_addr + 4, dir->daddr + 12, 4);
		__builtin_memcpy(ip + 12, new_addr, 8);
		csum_ph = bpf_csum_diff((__be32 *)old_addr, 8, (__be32 *)new_addr, 8, 0);
	}

	/* ports, sequence and acknowledgment numbers, window */
	__be32 ports = *(__be32 *)th, seq = th->seq, ack_be = th->ack_seq;
	__be32 flags_win = *(__be32 *)((__u8 *)th + 12);
	__be32 nports, nseq, nack = ack_be, nflags_win;
	__u16 *np = (__u16 *)&nports;

	np[0] = dir->sport;
	np[1] = dir->dport;
	nseq = bpf_htonl(bpf_ntohl(seq) + dir->seq_delta);
	has_ack = th->ack;
	ack = bpf_ntohl(ack_be);
	if (has_ack)
		nack = bpf_htonl(ack + dir->ack_delta);
	nflags_win = flags_win;
	((__u16 *)&nflags_win)[1] = bpf_htons(rescale(bpf_ntohs(th->window), dir));
	fin = th->fin;
	rst = th->rst;

	*(__be32 *)th = nports;
	th->seq = nseq;
	th->ack_seq = nack;
	*(__be32 *)((__u8 *)th + 12) = nflags_win;
	csum = diff32(ports, nports, csum);
	csum = diff32(seq, nseq, csum);
	csum = diff32(ack_be, nack, csum);
	csum = diff32(flags_win, nflags_win, csum);

	if (p->doff > sizeof(struct tcphdr) && !rewrite_options(skb, p, dir, odir, &csum)) {
		count(SG_XCNT_UNALIGNED_DROPS);
		return TCX_DROP;
	}

	__u32 csum_off = p->l4 + offsetof(struct tcphdr, check);

	/* BPF_F_IPV6 (Linux 6.16): in a CHECKSUM_COMPLETE frame the new L4
	 * checksum cancels the IPv6 address change, so skb->csum must stay
	 * (IPv4's header checksum cancels its own: there it moves). Older
	 * kernels refuse the flag, -EINVAL before touching anything: then
	 * the call without it, as before. */
	if (bpf_l4_csum_replace(skb, csum_off, 0, (__u64)csum_ph,
				BPF_F_PSEUDO_HDR | (p->is_ipv6 ? BPF_F_IPV6 : 0)) &&
	    p->is_ipv6)
		bpf_l4_csum_replace(skb, csum_off, 0, (__u64)csum_ph, BPF_F_PSEUDO_HDR);
	bpf_l4_csum_replace(skb, csum_off, 0, (__u64)csum, 0);
	if (!p->is_ipv6)
		bpf_l3_csum_replace(skb, p->l3 + offsetof(struct iphdr, check), 0, (__u64)csum_ph,
				    0);

	seq_end = bpf_ntohl(nseq) + p->payload;
	if (p->payload)
		account(dir, seq_end);
	__sync_fetch_and_add(&dir->packets, 1);
	WRITE_ONCE(dir->last_ns, now);
	track_end(f, dir, odir, seq_end, ack, has_ack, fin, rst, now);
	count(SG_XCNT_PACKETS);

	if (!dir->ifindex)
		return TCX_DROP;
	long rc = bpf_redirect_neigh(dir->ifindex, NULL, 0, 0);

	if (rc != TCX_REDIRECT)
		count(SG_XCNT_REDIRECT_FAILED);
	return (int)rc;
}

static __always_inline bool is_syn(struct __sk_buff *skb, const struct pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tcphdr *th = data + p->l4;

	return (void *)(th + 1) <= end && th->syn && !th->ack;
}

/* Deletes both keys of f: the packets arriving from each peer are the
 * reverse of what the other way sends that peer. */
static __always_inline void forget(const struct sg_xflow *f)
{
	for (int d = 0; d < 2; d++) {
		const struct sg_xdir *o = &f->dir[1 - d];
		struct sg_xkey k = {};

		__builtin_memcpy(k.saddr, o->daddr, 16);
		__builtin_memcpy(k.daddr, o->saddr, 16);
		k.sport = o->dport;
		k.dport = o->sport;
		bpf_map_delete_elem(&sg_xkeys, &k);
	}
}

/* Raises the direction's pending_ack to ack (modular order). */
static __always_inline void note_ack(struct sg_xdir *dir, __u32 ack)
{
	for (int i = 0; i < CAS_TRIES; i++) {
		__u64 old = READ_ONCE(dir->pending_ack);

		if ((old & SG_XDIR_ACK_KNOWN) && (__s32)(ack - (__u32)old) <= 0)
			return;
		if (__sync_val_compare_and_swap(&dir->pending_ack, old, SG_XDIR_ACK_KNOWN | ack) ==
		    old)
			return;
	}
}

/* While the agent reads the sockets' state: nothing new may enter a
 * receive queue, but what the peer acknowledges is recorded, also from the
 * data segments dropped (a busy peer's ACKs ride on its data). */
static __always_inline int pending(struct __sk_buff *skb, const struct pkt *p, struct sg_xflow *f,
				   __u32 d)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tcphdr *th = data + p->l4;

	if ((void *)(th + 1) > end)
		return TCX_NEXT;
	if (th->ack)
		note_ack(&f->dir[d & 1], bpf_ntohl(th->ack_seq));
	if (th->rst)
		return TCX_NEXT; /* the pair is over: the copy sees it and ends it */
	if (p->payload || th->syn || th->fin) {
		count(SG_XCNT_PENDING_DROPS);
		return TCX_DROP;
	}
	return TCX_NEXT;
}

SEC("tc")
int sg_express(struct __sk_buff *skb)
{
	struct sg_xkey key = {};
	struct pkt p = {};

	if (!parse(skb, &key, &p))
		return TCX_NEXT;
	struct sg_xref *ref = bpf_map_lookup_elem(&sg_xkeys, &key);

	if (!ref)
		return TCX_NEXT;
	__u32 slot = ref->slot, d = ref->dir;
	struct sg_xflow *f = bpf_map_lookup_elem(&sg_xflows, &slot);

	if (!f)
		return TCX_NEXT;
	/* Keys hold IPv4 addresses v4-mapped: an IPv6 frame between the mapped
	 * addresses of an IPv4 flow's tuple is none of its packets. */
	if (!!f->is_ipv6 != p.is_ipv6)
		return TCX_NEXT;
	__u64 state = READ_ONCE(f->state);

	if (state == SG_X_PENDING)
		return pending(skb, &p, f, d);
	if (state != SG_X_ACTIVE && state != SG_X_CLOSED)
		return TCX_NEXT;
	if (is_syn(skb, &p)) {
		/* A new connection on the four-tuple of a flow that ended: a
		 * peer that closed passively may reuse its port at once. The
		 * ended flow lets go of both tuples; the SYN goes to the stack.
		 * A SYN on a live flow's tuple is no packet of it either. */
		if (state == SG_X_CLOSED)
			forget(f);
		count(SG_XCNT_SYN_PASSED);
		return TCX_NEXT;
	}
	return translate(skb, &p, f, d);
}

/* At TC egress: a packet the gateway's own socket of an active flow sends
 * (a delayed ACK, a retransmission of bytes the peer already acknowledged
 * while pending) must not reach the peer, which now talks to the other
 * side. Told apart from translated packets of the same tuple by the
 * socket they carry. */
SEC("tc")
int sg_express_egress(struct __sk_buff *skb)
{
	struct sg_xkey key = {}, rev = {};
	struct pkt p = {};

	if (!parse(skb, &key, &p))
		return TCX_NEXT;
	/* sg_xkeys holds what arrives from the peer: the reverse tuple */
	__builtin_memcpy(rev.saddr, key.daddr, 16);
	__builtin_memcpy(rev.daddr, key.saddr, 16);
	rev.sport = key.dport;
	rev.dport = key.sport;
	struct sg_xref *ref = bpf_map_lookup_elem(&sg_xkeys, &rev);

	if (!ref)
		return TCX_NEXT;
	__u32 slot = ref->slot;
	struct sg_xflow *f = bpf_map_lookup_elem(&sg_xflows, &slot);

	if (!f)
		return TCX_NEXT;
	__u64 state = READ_ONCE(f->state);

	if (state != SG_X_ACTIVE && state != SG_X_CLOSED)
		return TCX_NEXT;
	__u64 cookie = bpf_get_socket_cookie(skb); /* 0 without a socket */

	if (!cookie || (cookie != f->sock_cookie[0] && cookie != f->sock_cookie[1]))
		return TCX_NEXT;
	count(SG_XCNT_SELF_DROPS);
	return TCX_DROP;
}

/* Run by the agent (BPF_PROG_TEST_RUN): 0 when slot was free and is now
 * pending, hers; 1 when another agent has it. */
SEC("syscall")
int sg_xslot_claim(struct sg_xslot_claim_req *req)
{
	__u32 slot = req->slot; /* map keys cannot point into a syscall ctx */
	struct sg_xflow *f = bpf_map_lookup_elem(&sg_xflows, &slot);

	if (!f)
		return 1;
	return __sync_val_compare_and_swap(&f->state, (__u64)SG_X_FREE, (__u64)SG_X_PENDING) ==
			       SG_X_FREE
		       ? 0
		       : 1;
}

char LICENSE[] SEC("license") = "GPL";
