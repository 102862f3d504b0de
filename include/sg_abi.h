/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sg_abi.h: the contract between bpf/ and user/: map keys and values and their
 * limits. Both compilers include this one file; the _Static_asserts pin the
 * layout, so change both sides in one commit. Never include vmlinux.h here. */
#ifndef SG_ABI_H
#define SG_ABI_H

#ifndef __VMLINUX_H__ /* the BPF side already has the kernel types */
#include <linux/types.h>
#endif

#define SG_MAX_SOCKS 262144 /* sg_socks entries: two per spliced connection */
#define SG_MAX_FLOWS 131072 /* sg_flows: LRU, one per spliced connection */

/* Value of sg_peers, keyed by a spliced socket's cookie: where its bytes go. */
struct sg_peer {
	__u64 peer_cookie; /* key of the destination socket in sg_targets */
	__u64 flow_id;	   /* key of the connection in sg_flows */
	__u32 dir;	   /* enum sg_dir: which byte counter of the flow this socket feeds */
	__u32 flags;	   /* reserved, zero; keeps the struct padding-free */
	/* When the flow's byte counter for dir reaches this, the verdict posts one
	 * struct sg_event and sets it to 0 (disarmed). The agent re-arms it. */
	__u64 notify_at;
};
_Static_assert(sizeof(struct sg_peer) == 32, "sg_peer is ABI: update both sides");

/* Posted on sg_events when a direction crossed its notify_at mark: the agent
 * then measures that direction's queued bytes and pauses it if over budget. */
struct sg_event {
	__u64 cookie; /* the source socket */
	__u64 flow_id;
	__u64 bytes; /* the flow's counter for dir when it crossed */
	__u32 dir;
	__u32 pad;
};
_Static_assert(sizeof(struct sg_event) == 32, "sg_event is ABI: update both sides");

/* Values of sg_pausereq, keyed by a source socket's cookie. */
enum sg_pause_state {
	SG_PAUSE_REQUESTED = 1, /* the agent asks sock_ops to remove the source from sg_socks */
	SG_PAUSE_DONE = 2,	/* removed: its verdict no longer runs */
	SG_PAUSE_FAILED = 3	/* the delete failed */
};

enum sg_dir {
	SG_DIR_TO_BACKEND = 0, /* bytes the client sent */
	SG_DIR_TO_CLIENT = 1,  /* bytes the backend sent */
	SG_DIR_MAX
};

/* Value of sg_flows (the pinned flow -> backend mapping), keyed by flow id. The
 * agent writes everything but the byte counters, which only BPF updates. */
struct sg_flow {
	__u8 client_addr[16]; /* IPv4 as v4-mapped IPv6 */
	__u8 backend_addr[16];
	__u16 client_port; /* host byte order */
	__u16 backend_port;
	__u32 route_id;
	__u64 start_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 bytes[SG_DIR_MAX];
};
_Static_assert(sizeof(struct sg_flow) == 64, "sg_flow is ABI: update both sides");

#endif
