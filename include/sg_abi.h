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
/* sg_flows: LRU, one entry per spliced connection, closed ones kept until
 * evicted. Not below SG_MAX_SOCKS / 2: an evicted live flow loses the byte
 * counters its pacing reads. The kernel preallocates it: 131072 values of
 * 456 bytes are 57 MiB, about 66 MiB with its per-entry overhead. */
#define SG_MAX_FLOWS 131072

/* Value of sg_peers, keyed by a spliced socket's cookie: where its bytes go. */
struct sg_peer {
	/* The key this value was written for. The verdict copies the fields it
	 * needs and then checks this: a hash element freed by a delete is reused
	 * at once by the next insert, so a verdict still holding it could read
	 * another pair's destination (docs/SOCKMAP.md, section "Data integrity"). */
	__u64 self_cookie;
	__u64 peer_cookie; /* key of the destination socket in sg_targets */
	__u64 flow_id;	   /* key of the connection in sg_flows */
	__u32 dir;	   /* enum sg_dir: which byte counter of the flow this socket feeds */
	__u32 flags;	   /* SG_PEER_F_*, set by the verdict */
	/* When the flow's byte counter for dir reaches this, the verdict posts one
	 * struct sg_event and sets it to 0 (disarmed). The agent re-arms it in
	 * place with sg_peer_arm, never by replacing the element. */
	__u64 notify_at;
};
_Static_assert(sizeof(struct sg_peer) == 40, "sg_peer is ABI: update both sides");

/* The verdict could not hand a byte of a live pair to its peer (the redirect
 * or the overlap trim failed) and kept it on the source. From then on it
 * forwards nothing more from that source, so no later byte overtakes it; the
 * agent ends the pair (end=redirect_failed) unless the destination is gone. */
#define SG_PEER_F_BROKEN 1u

enum sg_event_kind {
	SG_EVENT_BUDGET = 0, /* dir crossed its notify_at mark */
	SG_EVENT_BROKEN = 1, /* the source was marked SG_PEER_F_BROKEN */
	/* express.bpf.c: the flow (flow_id) saw both FINs acknowledged or a RST;
	 * cookie, bytes and dir are 0 */
	SG_EVENT_EXPRESS_CLOSED = 2,
};

/* Posted on sg_events when a direction crossed its notify_at mark: the agent
 * then measures that direction's queued bytes and pauses it if over budget. */
struct sg_event {
	__u64 cookie; /* the source socket */
	__u64 flow_id;
	__u64 bytes; /* the flow's counter for dir when it crossed */
	__u32 dir;
	__u32 kind; /* enum sg_event_kind */
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

#define SG_FLOW_SNI_LEN	  256 /* the longest SNI the agent accepts (255 bytes) + NUL */
#define SG_FLOW_ROUTE_LEN 128 /* route name + NUL; longer names are cut (sockpair.c) */

/* sg_flow.state. Written only by the agent. */
enum sg_flow_state {
	SG_FLOW_OPEN = 0,  /* spliced; sg_flow.flags tells what each direction does */
	SG_FLOW_CLOSED = 1 /* both sockets left the maps; sg_flow.end says why */
};

/* sg_flow.flags while SG_FLOW_OPEN. "up" is client -> backend. */
#define SG_FLOW_F_PAUSED_UP	   (1u << 0) /* over budget: the client's input waits in its queue */
#define SG_FLOW_F_PAUSED_DOWN	   (1u << 1)
#define SG_FLOW_F_COPYING_UP	   (1u << 2) /* the agent copies the rest in user space */
#define SG_FLOW_F_COPYING_DOWN	   (1u << 3)
#define SG_FLOW_F_HALF_CLOSED_UP   (1u << 4) /* the client's end of stream reached the backend */
#define SG_FLOW_F_HALF_CLOSED_DOWN (1u << 5)

/* sg_flow.end of a closed flow: the access log's end= reasons a spliced pair
 * can close with. X(enum constant, name); a reason missing here is "other". */
#define SG_FLOW_END_LIST(X)                                                                        \
	X(SG_FLOW_END_NONE, "-")                                                                   \
	X(SG_FLOW_END_EOF, "eof")                                                                  \
	X(SG_FLOW_END_CLIENT_RESET, "client_reset")                                                \
	X(SG_FLOW_END_BACKEND_RESET, "backend_reset")                                              \
	X(SG_FLOW_END_CLIENT_ERROR, "client_error")                                                \
	X(SG_FLOW_END_BACKEND_ERROR, "backend_error")                                              \
	X(SG_FLOW_END_OVER_BUDGET, "over_budget")                                                  \
	X(SG_FLOW_END_TAIL_COPY_FAILED, "tail_copy_failed")                                        \
	X(SG_FLOW_END_RESUME_FAILED, "resume_failed")                                              \
	X(SG_FLOW_END_SHUTDOWN, "shutdown")                                                        \
	X(SG_FLOW_END_OTHER, "other")                                                              \
	X(SG_FLOW_END_REDIRECT_FAILED, "redirect_failed")

enum sg_flow_end {
#define SG_FLOW_END_ENUM(name, str) name,
	SG_FLOW_END_LIST(SG_FLOW_END_ENUM)
#undef SG_FLOW_END_ENUM
		SG_FLOW_END_MAX
};

/* Value of sg_flows (the pinned flow table the CLI reads), keyed by flow id.
 * The verdict program adds to bytes[] in place and writes nothing else; the
 * agent writes the rest. sockpair.c explains how the agent changes state,
 * flags and end without losing a concurrent byte count. */
struct sg_flow {
	__u8 client_addr[16]; /* IPv4 as v4-mapped IPv6 */
	__u8 backend_addr[16];
	__u16 client_port; /* host byte order */
	__u16 backend_port;
	__u32 route_id; /* index in the configuration it was routed with: void after a reload */
	__u64 start_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 bytes[SG_DIR_MAX];
	__u8 state; /* enum sg_flow_state */
	__u8 flags; /* SG_FLOW_F_* */
	__u8 end;   /* enum sg_flow_end */
	__u8 pad[5];
	char sni[SG_FLOW_SNI_LEN];     /* normalised; "" when the hello had none */
	char route[SG_FLOW_ROUTE_LEN]; /* NUL-terminated */
};
_Static_assert(sizeof(struct sg_flow) == 456, "sg_flow is ABI: update both sides");

/* Context of sg_peer_arm, the syscall program the agent runs to set a live
 * pair's notify_at in place. */
struct sg_peer_arm_req {
	__u64 cookie; /* the source socket's key in sg_peers */
	__u64 notify_at;
};
_Static_assert(sizeof(struct sg_peer_arm_req) == 16, "sg_peer_arm_req is ABI: update both sides");

/* Context of sg_flow_set_state, the syscall program the agent runs to change
 * a flow's state, flags and end in place. */
struct sg_flow_state_req {
	__u64 flow_id;
	__u8 state;
	__u8 flags;
	__u8 end;
	__u8 pad[5];
};
_Static_assert(sizeof(struct sg_flow_state_req) == 16, "sg_flow_state_req is ABI");

#endif
