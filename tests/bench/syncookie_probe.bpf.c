// SPDX-License-Identifier: GPL-2.0
/* syncookie_probe.bpf.c: what answering a SYN from XDP with a SYN cookie
 * would cost per packet, for the decision in docs/BENCHMARKS.md ("SYN
 * flood"). Not part of sockgate: tests/bench/syn_flood.sh builds it and runs
 * it with `bpftool prog run ... repeat N`. It does the work such a path
 * needs on every SYN: parse, bpf_tcp_raw_gen_syncookie_ipv4() (docs/SOCKMAP.md,
 * section "XDP guard and SYN cookies"), turn the frame into a SYN-ACK
 * in place (addresses, ports, sequence
 * numbers, an MSS option) and recompute both checksums, then XDP_TX. The
 * timestamp-cookie and ACK-validation halves of a full XDP SYN proxy come on
 * top of this. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_IP 0x0800
#define ETH_ALEN 6
#define TCP_LEN	 40 /* a Linux SYN: MSS, SACK_PERM, TS, WS; the helper wants a constant */

static __always_inline __u16 fold(__u64 sum)
{
	for (int i = 0; i < 4; i++)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int syncookie_probe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);
	__u8 mac[ETH_ALEN], *opt = (__u8 *)(th + 1);
	__u32 addr, seq, pseudo[3];
	__u16 port;
	__s64 cookie;
	__u64 sum;

	if ((void *)th + TCP_LEN > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_TCP || th->doff * 4 != TCP_LEN || !th->syn)
		return XDP_PASS; /* no ACK test: repeated runs see the SYN-ACK the first made */
	cookie = bpf_tcp_raw_gen_syncookie_ipv4(ip, th, TCP_LEN);
	if (cookie < 0)
		return XDP_ABORTED;
	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	ip->ttl = 64;
	ip->id = 0;
	ip->check = 0;
	ip->check = fold(bpf_csum_diff(NULL, 0, (__be32 *)ip, sizeof(*ip), 0));
	port = th->source;
	th->source = th->dest;
	th->dest = port;
	seq = th->seq;
	th->ack_seq = bpf_htonl(bpf_ntohl(seq) + 1);
	th->seq = bpf_htonl((__u32)cookie);
	th->ack = 1;
	/* MSS from the cookie's table, then NOPs over the client's options */
	opt[0] = 2;
	opt[1] = 4;
	opt[2] = (__u8)(cookie >> 40);
	opt[3] = (__u8)(cookie >> 32);
	for (int i = 4; i < TCP_LEN - 20; i++)
		opt[i] = 1;
	th->check = 0;
	pseudo[0] = ip->saddr;
	pseudo[1] = ip->daddr;
	pseudo[2] = bpf_htonl((IPPROTO_TCP << 16) | TCP_LEN);
	sum = bpf_csum_diff(NULL, 0, pseudo, sizeof(pseudo), 0);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)th, TCP_LEN, (__u32)sum);
	th->check = fold(sum);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
