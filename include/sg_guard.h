/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sg_guard.h: the contract between bpf/guard.bpf.c (the XDP guard) and the
 * agent that fills its maps: keys, values, limits and the verdict reasons the
 * per-CPU counters are indexed by. The _Static_asserts pin the layout, so
 * change both sides in one commit. Never include vmlinux.h here. */
#ifndef SG_GUARD_H
#define SG_GUARD_H

#ifndef __VMLINUX_H__ /* the BPF side already has the kernel types */
#include <linux/types.h>
#endif

/* Map sizes. The LPM tries and the listener map are not preallocated, so
 * their size is only a ceiling; the SYN table is an LRU, preallocated by the
 * kernel: 65536 sources of 16 + 8 bytes, about 6 MiB with its overhead. */
#define SG_GUARD_MAX_RULES     65536 /* per list and family: deny4, deny6, allow4, allow6 */
#define SG_GUARD_MAX_ADDRS     1024  /* listener addresses */
#define SG_GUARD_SYN_SOURCES   65536 /* sources with a SYN bucket; the least recent goes first */
#define SG_GUARD_PORT_WORDS    1024  /* 65536 ports, one bit each */
#define SG_GUARD_V6_SOURCE_LEN 8     /* an IPv6 source's SYN bucket covers its /64 */

/* Key of sg_guard_lsn: an address some listener is bound to, IPv4 as
 * v4-mapped IPv6 (::ffff:a.b.c.d), exactly as the packet carries it. */
struct sg_guard_addr {
	__u8 addr[16];
};
_Static_assert(sizeof(struct sg_guard_addr) == 16, "sg_guard_addr is ABI");

/* Value of sg_guard_lsn: the TCP ports listeners serve on that address, bit
 * (port & 63) of word (port >> 6), port in host byte order. One lookup then
 * answers both "is this a listener address" and "is the port served". */
struct sg_guard_ports {
	__u64 bits[SG_GUARD_PORT_WORDS];
};
_Static_assert(sizeof(struct sg_guard_ports) == 8192, "sg_guard_ports is ABI");

/* Keys of the LPM tries: prefix length in bits, then the network address in
 * network byte order (BPF_MAP_TYPE_LPM_TRIE's required layout). */
struct sg_guard_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};
_Static_assert(sizeof(struct sg_guard_lpm4) == 8, "sg_guard_lpm4 is ABI");

struct sg_guard_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct sg_guard_lpm6) == 20, "sg_guard_lpm6 is ABI");

/* Key of sg_guard_syn: the source address (v4-mapped for IPv4; for IPv6 only
 * its first SG_GUARD_V6_SOURCE_LEN bytes, the rest zero). The value is a __u64,
 * the source's GCRA "theoretical arrival time" in bpf_ktime_get_ns() time. */
struct sg_guard_src {
	__u8 addr[16];
};
_Static_assert(sizeof(struct sg_guard_src) == 16, "sg_guard_src is ABI");

/* sg_guard_cfg.flags */
#define SG_GUARD_F_ALLOW_ONLY (1u << 0) /* the allow list is not empty: only it may connect */

/* The one value of sg_guard_cfg (an ARRAY of 1), rewritten by the agent on
 * every change. The SYN limit is a GCRA, the token bucket in one word: a
 * source may send a SYN when its theoretical arrival time is at most
 * syn_tolerance_ns ahead of now, and each SYN moves it syn_interval_ns on. */
struct sg_guard_cfg {
	__u64 syn_interval_ns;	/* 1e9 / per_second; 0: no SYN limit */
	__u64 syn_tolerance_ns; /* (burst - 1) * syn_interval_ns */
	__u32 flags;		/* SG_GUARD_F_* */
	__u32 pad;
};
_Static_assert(sizeof(struct sg_guard_cfg) == 24, "sg_guard_cfg is ABI");

enum sg_guard_verdict {
	SG_GUARD_PASS = 0,
	SG_GUARD_DROP = 1,
};

/* Why a packet got its verdict, one per-CPU counter each (sg_guard_cnt).
 * X(enum suffix, verdict, reason name in metrics and `sockgate guard show`). */
#define SG_GUARD_REASON_LIST(X)                                                                    \
	X(NOT_IP, SG_GUARD_PASS, "not_ip")	       /* not IPv4/IPv6 (ARP, LLDP...) */          \
	X(SHORT, SG_GUARD_PASS, "short")	       /* too short to name a destination */       \
	X(NOT_LISTENER, SG_GUARD_PASS, "not_listener") /* not to a listener address */             \
	X(NOT_TCP, SG_GUARD_PASS, "not_tcp")	       /* ICMP, UDP... to a listener address */    \
	X(HOST_SOCKET, SG_GUARD_PASS, "host_socket") /* another port with a socket on the host */  \
	X(SYN, SG_GUARD_PASS, "syn")		     /* a new connection within its rate */        \
	X(SERVED, SG_GUARD_PASS, "served")	     /* any other segment to a served port */      \
	X(MALFORMED, SG_GUARD_DROP, "malformed")     /* bad or truncated IP/TCP header */          \
	X(FRAGMENT, SG_GUARD_DROP, "fragment")	     /* a TCP fragment */                          \
	X(TCP_FLAGS, SG_GUARD_DROP, "tcp_flags")     /* SYN+FIN, SYN+RST, no SYN/ACK/RST */        \
	X(PORT_CLOSED, SG_GUARD_DROP, "port_closed") /* no socket on the host wants it */          \
	X(DENY, SG_GUARD_DROP, "deny")		     /* source in the deny list */                 \
	X(NOT_ALLOWED, SG_GUARD_DROP, "not_allowed") /* source not in a non-empty allow list */    \
	X(SYN_RATE, SG_GUARD_DROP, "syn_rate")	     /* source over its SYN rate */

enum sg_guard_reason {
#define SG_GUARD_REASON_ENUM(name, verdict, str) SG_GUARD_R_##name,
	SG_GUARD_REASON_LIST(SG_GUARD_REASON_ENUM)
#undef SG_GUARD_REASON_ENUM
		SG_GUARD_R_MAX
};

#endif
