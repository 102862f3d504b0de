/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sg_express.h: the contract between bpf/express.bpf.c and the agent for the
 * express dataplane, where the gateway joins a client and a backend TCP
 * connection at the packet level (docs/EXPRESS.md). Both compilers include
 * this file; the _Static_asserts pin the layout. */
#ifndef SG_EXPRESS_H
#define SG_EXPRESS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SG_MAX_XFLOWS 65536 /* express pairs at once: slots of sg_xflows */

/* Key of sg_xkeys: a packet's addresses and ports as it arrives at the
 * gateway. IPv4 addresses are v4-mapped IPv6; ports in network order. */
struct sg_xkey {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 pad; /* 0 */
};
_Static_assert(sizeof(struct sg_xkey) == 40, "sg_xkey is ABI: update both sides");

/* Value of sg_xkeys: which slot of sg_xflows, and which direction of it. */
struct sg_xref {
	__u32 slot;
	__u32 dir; /* enum sg_dir: SG_DIR_TO_BACKEND for the client's packets */
};
_Static_assert(sizeof(struct sg_xref) == 8, "sg_xref is ABI: update both sides");

/* sg_xflow.state */
enum sg_xstate {
	SG_X_FREE = 0,
	/* Installed while the agent waits for the legs to go quiet and reads
	 * their state: segments that carry data, SYN or FIN are dropped (their
	 * senders retransmit them once the flow is active), so nothing new
	 * enters the receive queues; pure ACKs and resets still reach the
	 * sockets, and every acknowledgment number is recorded (pending_ack). */
	SG_X_PENDING = 1,
	SG_X_ACTIVE = 2, /* every packet is translated and sent on */
	/* Both FINs were acknowledged, or a RST passed: still translated
	 * (late retransmissions) until the agent frees the slot. */
	SG_X_CLOSED = 3,
};

/* sg_xdir.flags, set by the program with atomic or */
#define SG_XDIR_F_FIN	    (1u << 0) /* a FIN went this way; fin_ack is valid */
#define SG_XDIR_F_FIN_ACKED (1u << 1) /* the other way acknowledged it */
#define SG_XDIR_F_RST	    (1u << 2)

/* SG_XDIR_TS_KNOWN in ts_delta: the offset has been learned from this
 * direction's first timestamped packet after hand-over. */
#define SG_XDIR_TS_KNOWN  (1ull << 32)
#define SG_XDIR_ACK_KNOWN (1ull << 32) /* in pending_ack */

/* One direction of an express flow: how a packet arriving from its source
 * becomes a packet of the other connection. Every field but the counters
 * and the learned ones is written by the agent before the flow is active and
 * never again while the slot is used. */
struct sg_xdir {
	__u8 saddr[16]; /* new source: the gateway's address on the other leg */
	__u8 daddr[16]; /* new destination: the other peer */
	__u16 sport;	/* network order */
	__u16 dport;
	__u32 ifindex;	 /* where the translated packet leaves */
	__u32 seq_delta; /* added to the sequence number */
	__u32 ack_delta; /* added to the acknowledgment number and SACK edges */
	/* Window scales: the source's (its window field is shifted by it) and
	 * the one the destination applies to what the gateway sends it. */
	__u8 wscale_in;
	__u8 wscale_out;
	__u8 pad0[2];
	/* The gateway's own TSval toward the destination at hand-over: the
	 * first TSval translated this way lands just above it, so PAWS at the
	 * destination accepts it. */
	__u32 ts_base;
	__u64 ts_delta; /* SG_XDIR_TS_KNOWN | offset added to TSval; learned */
	/* Translated sequence number after the highest byte sent this way:
	 * starts at the destination's view of the stream at hand-over. 64
	 * bits wide (low 32 used) because BPF's compare-and-swap is. */
	__u64 next_seq;
	__u64 flags;   /* SG_XDIR_F_*; 64 bits for BPF's atomic or */
	__u32 fin_ack; /* the acknowledgment number that covers this way's FIN */
	__u32 pad1;
	/* While pending: SG_XDIR_ACK_KNOWN | the highest acknowledgment number
	 * this way's source sent, in a pure ACK or a dropped data segment: the
	 * agent's proof that the source has every byte the gateway sent it. */
	__u64 pending_ack;
	__u64 bytes;   /* payload bytes, each counted once (retransmissions not) */
	__u64 packets; /* packets translated, retransmissions included */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last packet */
};
_Static_assert(sizeof(struct sg_xdir) == 120, "sg_xdir is ABI: update both sides");

/* Value of sg_xflows (an array indexed by slot). */
struct sg_xflow {
	__u64 flow_id; /* key in sg_flows, for the CLI and the access log */
	__u64 state;   /* enum sg_xstate; 64 bits for BPF's compare-and-swap */
	__u64 closed_ns;
	__u32 is_ipv6;
	__u32 pad;
	/* SO_COOKIE of the gateway's two sockets, whose own packets the egress
	 * program drops once the flow is active. A translated packet may also
	 * carry a socket (veth keeps the sender's across namespaces), never
	 * one of these. */
	__u64 sock_cookie[2];
	struct sg_xdir dir[2]; /* indexed by enum sg_dir */
};
_Static_assert(sizeof(struct sg_xflow) == 48 + 2 * 120, "sg_xflow is ABI: update both sides");

/* Context of sg_xslot_claim, the syscall program an agent runs to take a
 * free slot: two agents share the pinned map during a hot restart, and only
 * the kernel can hand a slot to exactly one of them. */
struct sg_xslot_claim_req {
	__u32 slot;
	__u32 pad;
};
_Static_assert(sizeof(struct sg_xslot_claim_req) == 8, "sg_xslot_claim_req is ABI");

/* X(enum suffix, metric name suffix): per-CPU counters of express.bpf.c */
#define SG_XCOUNTER_LIST(X)                                                                        \
	X(PACKETS, "packets")                                                                      \
	X(PENDING_DROPS, "pending_drops")                                                          \
	X(UNALIGNED_DROPS, "unaligned_drops")                                                      \
	X(REDIRECT_FAILED, "redirect_failed")                                                      \
	X(CLOSED, "closed")                                                                        \
	X(SELF_DROPS, "self_drops")                                                                \
	X(SYN_PASSED, "syn_passed")                                                                \
	X(EVENTS_LOST, "events_lost")

enum sg_xcounter {
#define SG_XCOUNTER_ENUM(name, str) SG_XCNT_##name,
	SG_XCOUNTER_LIST(SG_XCOUNTER_ENUM)
#undef SG_XCOUNTER_ENUM
		SG_XCNT_MAX
};

#endif
