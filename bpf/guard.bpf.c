// SPDX-License-Identifier: GPL-2.0
/* guard.bpf.c: the XDP guard in front of the listeners (docs/GUARD.md; kernel facts
 * in docs/SOCKMAP.md, section "XDP guard and SYN cookies").
 *
 * It judges only packets whose destination address is a listener address
 * (sg_guard_lsn); everything else passes untouched, so the host's other
 * traffic and the agent's own connections to backends are never judged. To a
 * listener address: malformed IP/TCP headers and TCP fragments are dropped;
 * other protocols pass (ICMP carries PMTU errors, ICMPv6 neighbour discovery);
 * TCP to a port no listener serves passes only when a socket of the host wants
 * it (another service, or the reply to an outbound connection), else it is
 * dropped. TCP to a served port then meets the deny list, the allow list and,
 * for a SYN, the per-source rate limit. Every verdict is counted by reason.
 *
 * Everything it decides on lives in maps the agent rewrites, so reloads and
 * `sockgate guard` never reload or re-attach the program. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sg_guard.h"

/* uapi macros that vmlinux.h (types only) does not carry */
#define ETH_P_IP       0x0800
#define ETH_P_IPV6     0x86DD
#define ETH_P_8021Q    0x8100
#define ETH_P_8021AD   0x88A8
#define IP_MF	       0x2000
#define IP_OFFSET      0x1FFF
#define NEXTHDR_HOP    0
#define NEXTHDR_TCP    6
#define NEXTHDR_ROUTE  43
#define NEXTHDR_FRAG   44
#define NEXTHDR_DEST   60
#define VLAN_MAX_DEPTH 2 /* 802.1ad outer + 802.1Q inner */
#define V6_EXT_MAX     6 /* more extension headers than this before TCP is malformed */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_GUARD_MAX_ADDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sg_guard_addr);
	__type(value, struct sg_guard_ports);
} sg_guard_lsn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_GUARD_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for LPM tries */
	__type(key, struct sg_guard_lpm4);
	__type(value, __u8);
} sg_guard_deny4 SEC(".maps"), sg_guard_allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_GUARD_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sg_guard_lpm6);
	__type(value, __u8);
} sg_guard_deny6 SEC(".maps"), sg_guard_allow6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_GUARD_SYN_SOURCES);
	__type(key, struct sg_guard_src);
	__type(value, __u64); /* GCRA theoretical arrival time, ns */
} sg_guard_syn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_guard_cfg);
} sg_guard_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_GUARD_R_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sg_guard_cnt SEC(".maps");

#define DROP_BIT(name, verdict, str) | ((__u32)(verdict) << SG_GUARD_R_##name)
#define DROP_MASK		     (0u SG_GUARD_REASON_LIST(DROP_BIT))

/* What the IP layer told about a packet to a listener address. */
struct l3 {
	struct sg_guard_addr src, dst; /* v4-mapped for IPv4 */
	void *l4;		       /* first byte after the IP headers */
	__u32 l4_len;		       /* its length by the IP length fields */
	__u8 proto;		       /* upper-layer protocol */
	bool is_fragment;
	bool is_v6;
};

struct vlan {
	__be16 tci;
	__be16 proto;
};

static __always_inline int verdict(enum sg_guard_reason r)
{
	__u32 key = r;
	__u64 *n = bpf_map_lookup_elem(&sg_guard_cnt, &key);

	if (n)
		*n += 1; /* per-CPU: no atomic needed */
	return (DROP_MASK >> r) & 1 ? XDP_DROP : XDP_PASS;
}

/* Skips Ethernet and up to two VLAN tags; returns the ethertype or 0 when
 * the frame is too short. */
static __always_inline __be16 parse_eth(void **pos, void *end)
{
	struct ethhdr *eth = *pos;
	__be16 proto;

	if ((void *)(eth + 1) > end)
		return 0;
	proto = eth->h_proto;
	*pos = eth + 1;
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		struct vlan *v = *pos;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(v + 1) > end)
			return 0;
		proto = v->proto;
		*pos = v + 1;
	}
	return proto;
}

static __always_inline void map_v4(struct sg_guard_addr *a, __be32 ip)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->addr[10] = 0xff;
	a->addr[11] = 0xff;
	__builtin_memcpy(&a->addr[12], &ip, 4);
}

/* IPv4: SG_GUARD_R_MAX to go on with p filled, or the final reason. */
static __always_inline enum sg_guard_reason parse_ip4(void *pos, void *end, struct l3 *p,
						      struct sg_guard_ports **ports)
{
	struct iphdr *ip = pos;
	__u32 ihl, tot;

	if ((void *)(ip + 1) > end)
		return SG_GUARD_R_SHORT;
	map_v4(&p->dst, ip->daddr);
	*ports = bpf_map_lookup_elem(&sg_guard_lsn, &p->dst);
	if (!*ports)
		return SG_GUARD_R_NOT_LISTENER;
	ihl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || ihl < sizeof(*ip) || tot < ihl || pos + tot > end)
		return SG_GUARD_R_MALFORMED;
	map_v4(&p->src, ip->saddr);
	p->is_fragment = (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)) != 0;
	p->proto = ip->protocol;
	p->l4 = pos + ihl;
	p->l4_len = tot - ihl;
	return SG_GUARD_R_MAX;
}

/* IPv6, walking the extension headers a TCP segment may carry. */
static __always_inline enum sg_guard_reason parse_ip6(void *pos, void *end, struct l3 *p,
						      struct sg_guard_ports **ports)
{
	struct ipv6hdr *ip6 = pos;
	__u32 left;
	__u8 nh;
	void *h;

	if ((void *)(ip6 + 1) > end)
		return SG_GUARD_R_SHORT;
	__builtin_memcpy(&p->dst, &ip6->daddr, sizeof(p->dst));
	*ports = bpf_map_lookup_elem(&sg_guard_lsn, &p->dst);
	if (!*ports)
		return SG_GUARD_R_NOT_LISTENER;
	left = bpf_ntohs(ip6->payload_len);
	h = ip6 + 1;
	if (ip6->version != 6 || h + left > end)
		return SG_GUARD_R_MALFORMED;
	__builtin_memcpy(&p->src, &ip6->saddr, sizeof(p->src));
	p->is_v6 = true;
	nh = ip6->nexthdr;
	for (int i = 0; i < V6_EXT_MAX; i++) {
		struct ipv6_opt_hdr *o = h;
		__u32 len = 8;

		if (nh != NEXTHDR_HOP && nh != NEXTHDR_ROUTE && nh != NEXTHDR_DEST &&
		    nh != NEXTHDR_FRAG)
			break;
		if ((void *)(o + 1) > end)
			return SG_GUARD_R_MALFORMED;
		if (nh == NEXTHDR_FRAG)
			p->is_fragment = true; /* even an atomic fragment: TCP never needs one */
		else
			len = (o->hdrlen + 1) * 8;
		if (len > left)
			return SG_GUARD_R_MALFORMED;
		nh = o->nexthdr;
		h += len;
		left -= len;
	}
	if (nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTE || nh == NEXTHDR_DEST || nh == NEXTHDR_FRAG)
		return SG_GUARD_R_MALFORMED;
	p->proto = nh;
	p->l4 = h;
	p->l4_len = left;
	return SG_GUARD_R_MAX;
}

/* A TCP segment to a port no listener of ours serves: it is somebody else's
 * when the host has a socket for it (a listener of another service, or one of
 * the host's own connections, the agent's to its backends included). */
static __always_inline enum sg_guard_reason host_socket(struct xdp_md *ctx, const struct l3 *p,
							const struct tcphdr *th)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	if (p->is_v6) {
		__builtin_memcpy(t.ipv6.saddr, p->src.addr, 16);
		__builtin_memcpy(t.ipv6.daddr, p->dst.addr, 16);
		t.ipv6.sport = th->source;
		t.ipv6.dport = th->dest;
		sk = bpf_skc_lookup_tcp(ctx, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
	} else {
		__builtin_memcpy(&t.ipv4.saddr, &p->src.addr[12], 4);
		__builtin_memcpy(&t.ipv4.daddr, &p->dst.addr[12], 4);
		t.ipv4.sport = th->source;
		t.ipv4.dport = th->dest;
		sk = bpf_skc_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	}
	if (!sk)
		return SG_GUARD_R_PORT_CLOSED;
	bpf_sk_release(sk);
	return SG_GUARD_R_HOST_SOCKET;
}

/* Deny wins over allow; a non-empty allow list admits only its sources. */
static __always_inline enum sg_guard_reason policy(const struct l3 *p,
						   const struct sg_guard_cfg *cfg)
{
	bool is_allowed;

	if (p->is_v6) {
		struct sg_guard_lpm6 k = {.prefixlen = 128};

		__builtin_memcpy(k.addr, p->src.addr, 16);
		if (bpf_map_lookup_elem(&sg_guard_deny6, &k))
			return SG_GUARD_R_DENY;
		is_allowed = bpf_map_lookup_elem(&sg_guard_allow6, &k) != NULL;
	} else {
		struct sg_guard_lpm4 k = {.prefixlen = 32};

		__builtin_memcpy(k.addr, &p->src.addr[12], 4);
		if (bpf_map_lookup_elem(&sg_guard_deny4, &k))
			return SG_GUARD_R_DENY;
		is_allowed = bpf_map_lookup_elem(&sg_guard_allow4, &k) != NULL;
	}
	if ((cfg->flags & SG_GUARD_F_ALLOW_ONLY) && !is_allowed)
		return SG_GUARD_R_NOT_ALLOWED;
	return SG_GUARD_R_MAX;
}

/* GCRA: one word per source, advanced with compare-and-swap so that SYNs
 * of one source arriving on several CPUs are all charged. */
static __always_inline enum sg_guard_reason syn_rate(const struct l3 *p,
						     const struct sg_guard_cfg *cfg)
{
	struct sg_guard_src key;
	__u64 now, *tat;

	if (!cfg->syn_interval_ns)
		return SG_GUARD_R_SYN;
	key = *(struct sg_guard_src *)&p->src;
	if (p->is_v6) /* one host usually owns a whole /64 */
		__builtin_memset(&key.addr[SG_GUARD_V6_SOURCE_LEN], 0, 16 - SG_GUARD_V6_SOURCE_LEN);
	now = bpf_ktime_get_ns();
	tat = bpf_map_lookup_elem(&sg_guard_syn, &key);
	if (!tat) {
		__u64 first = now + cfg->syn_interval_ns;

		if (bpf_map_update_elem(&sg_guard_syn, &key, &first, BPF_NOEXIST) == 0)
			return SG_GUARD_R_SYN;
		tat = bpf_map_lookup_elem(&sg_guard_syn, &key); /* another CPU made it */
		if (!tat)
			return SG_GUARD_R_SYN;
	}
	for (int i = 0; i < 4; i++) {
		__u64 old = *(volatile __u64 *)tat, t = old > now ? old : now;

		if (t - now > cfg->syn_tolerance_ns)
			return SG_GUARD_R_SYN_RATE;
		if (__sync_val_compare_and_swap(tat, old, t + cfg->syn_interval_ns) == old)
			return SG_GUARD_R_SYN;
	}
	return SG_GUARD_R_SYN; /* lost four races in a row: let it through */
}

static __always_inline enum sg_guard_reason judge_tcp(struct xdp_md *ctx, const struct l3 *p,
						      const struct sg_guard_ports *ports, void *end)
{
	const struct sg_guard_cfg *cfg;
	struct tcphdr *th = p->l4;
	__u32 doff, key = 0;
	enum sg_guard_reason r;
	__u16 dport;

	if ((void *)(th + 1) > end || p->l4_len < sizeof(*th))
		return SG_GUARD_R_MALFORMED;
	doff = th->doff * 4;
	if (doff < sizeof(*th) || doff > p->l4_len)
		return SG_GUARD_R_MALFORMED;
	if ((th->syn && (th->fin || th->rst)) || !(th->syn || th->ack || th->rst))
		return SG_GUARD_R_TCP_FLAGS;
	dport = bpf_ntohs(th->dest);
	if (!((ports->bits[dport >> 6] >> (dport & 63)) & 1))
		return host_socket(ctx, p, th);
	cfg = bpf_map_lookup_elem(&sg_guard_cfg, &key);
	if (!cfg)
		return SG_GUARD_R_SERVED;
	r = policy(p, cfg);
	if (r != SG_GUARD_R_MAX)
		return r;
	if (th->syn && !th->ack)
		return syn_rate(p, cfg);
	return SG_GUARD_R_SERVED;
}

SEC("xdp")
int sg_xdp_guard(struct xdp_md *ctx)
{
	void *pos = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct sg_guard_ports *ports = NULL;
	struct l3 p = {};
	enum sg_guard_reason r;
	__be16 proto;

	proto = parse_eth(&pos, end);
	if (!proto)
		return verdict(SG_GUARD_R_SHORT);
	if (proto == bpf_htons(ETH_P_IP))
		r = parse_ip4(pos, end, &p, &ports);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = parse_ip6(pos, end, &p, &ports);
	else
		return verdict(SG_GUARD_R_NOT_IP);
	if (r != SG_GUARD_R_MAX)
		return verdict(r);
	if (p.proto != NEXTHDR_TCP)
		return verdict(SG_GUARD_R_NOT_TCP);
	if (p.is_fragment)
		return verdict(SG_GUARD_R_FRAGMENT);
	if (!ports) /* the parsers set it whenever they go on; the verifier wants it seen */
		return verdict(SG_GUARD_R_NOT_LISTENER);
	return verdict(judge_tcp(ctx, &p, ports, end));
}

char LICENSE[] SEC("license") = "GPL";
