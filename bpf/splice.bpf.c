// SPDX-License-Identifier: GPL-2.0
/* splice.bpf.c: the sk_skb verdict that moves every byte received on a
 * spliced socket to its peer's egress and counts it on the flow, and the
 * sock_ops program that pauses a direction (docs/SOCKMAP.md, section "Bounded memory").
 *
 * Two SOCKHASHes: sg_socks (V) carries the verdict and holds the sources that
 * are forwarding; sg_targets (T) has no program and holds both legs, so a
 * socket removed from V to pause its input keeps its psock and the bytes
 * queued into it. Verdict-only, no strparser (docs/SOCKMAP.md, section
 * "Verdict-only sk_skb"). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "sg_abi.h"
#include "sg_counters.h"

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

#define TRIM_STEP  4095 /* sk_skb bpf_skb_adjust_room() moves at most 0xfff per call */
#define TRIM_STEPS 64

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SG_MAX_SOCKS);
	__type(key, __u64); /* socket cookie */
	__type(value, __u64);
} sg_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SG_MAX_SOCKS);
	__type(key, __u64); /* socket cookie */
	__type(value, __u64);
} sg_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_MAX_SOCKS);
	__type(key, __u64); /* socket cookie */
	__type(value, struct sg_peer);
} sg_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_MAX_FLOWS);
	__type(key, __u64); /* flow id */
	__type(value, struct sg_flow);
} sg_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);   /* source socket cookie */
	__type(value, __u32); /* enum sg_pause_state */
} sg_pausereq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} sg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sg_counters SEC(".maps");

static __always_inline void count(enum sg_counter c, __u64 n)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&sg_counters, &key);

	if (v)
		*v += n;
}

/* A segment retransmitted while its source was paused may overlap bytes that
 * were already handed on; tcp_read_skb() passes whole skbs regardless of
 * copied_seq, so cut the old head off here (docs/SOCKMAP.md, section "Overlap trim"). Returns
 * false when the skb could not be trimmed. */
static __always_inline bool trim_overlap(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct tcp_sock *tp = (struct tcp_sock *)kskb->sk;
	__u32 seq = 0, copied = 0, len = skb->len, cut;
	__s32 overlap;
	long err = 0;

	if (!tp)
		return true;
	/* TCP_SKB_CB(skb)->seq is the first word of skb->cb. */
	bpf_probe_read_kernel(&seq, sizeof(seq), &kskb->cb[0]);
	bpf_probe_read_kernel(&copied, sizeof(copied), &tp->copied_seq);
	overlap = (__s32)(copied - seq);
	if (overlap <= 0)
		return true;
	cut = (__u32)overlap < len ? (__u32)overlap : len;
	count(SG_CNT_OVERLAP_TRIMMED, 1);
	if (cut < len)
		err = bpf_skb_pull_data(skb, cut);
	for (int i = 0; i < TRIM_STEPS && cut && !err; i++) {
		__u32 n = cut > TRIM_STEP ? TRIM_STEP : cut;

		err = bpf_skb_adjust_room(skb, -(__s32)n, 0, 0);
		if (!err)
			cut -= n;
	}
	return !err && !cut;
}

/* Set by tests before load to widen the window between the sg_peers lookup
 * and the copy of its fields, where a reused element would be read. At 0, the
 * default, the verifier removes the loop. */
const volatile __u32 sg_test_peer_delay_loops = 0;

static long delay_step(__u32 i __attribute__((unused)), void *ctx __attribute__((unused)))
{
	return 0;
}

static __always_inline void post(__u64 cookie, __u64 flow_id, __u32 dir, __u64 bytes, __u32 kind)
{
	struct sg_event *e = bpf_ringbuf_reserve(&sg_events, sizeof(*e), 0);

	if (!e) {
		count(SG_CNT_EVENTS_LOST, 1);
		return;
	}
	e->cookie = cookie;
	e->flow_id = flow_id;
	e->bytes = bytes;
	e->dir = dir;
	e->kind = kind;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void maybe_notify(struct sg_peer *peer, __u64 cookie, __u64 flow_id,
					 __u32 dir, __u64 bytes)
{
	__u64 mark = peer->notify_at;

	if (!mark || bytes < mark)
		return;
	/* The agent re-arms in place; only the verdict that disarms posts. */
	if (__sync_val_compare_and_swap(&peer->notify_at, mark, 0) != mark)
		return;
	post(cookie, flow_id, dir, bytes, SG_EVENT_BUDGET);
}

/* Keeps the skb on its source and stops that source for good: a byte that
 * stays behind while later ones are forwarded would be a hole in the stream. */
static __always_inline int mark_broken(struct sg_peer *peer, __u64 cookie, __u64 flow_id, __u32 dir)
{
	/* Only this source's verdict writes flags, under its socket lock. */
	if (!(peer->flags & SG_PEER_F_BROKEN)) {
		peer->flags |= SG_PEER_F_BROKEN;
		count(SG_CNT_BROKEN, 1);
		post(cookie, flow_id, dir, 0, SG_EVENT_BROKEN);
	}
	return SK_PASS;
}

/* Copies what the verdict needs from an sg_peers element, then checks the
 * element still belongs to cookie: one freed by a delete or a replacing update
 * is reused at once, and a reader still holding it would see another key's
 * value (docs/SOCKMAP.md, section "Data integrity"). x86 keeps loads in order; the
 * barrier keeps the compiler from moving them. */
static __always_inline bool read_peer(const struct sg_peer *peer, __u64 cookie, __u64 *dst,
				      __u64 *flow_id, __u32 *dir)
{
	*dst = peer->peer_cookie;
	*flow_id = peer->flow_id;
	*dir = peer->dir;
	asm volatile("" ::: "memory");
	return peer->self_cookie == cookie;
}

SEC("sk_skb/stream_verdict")
int sg_splice_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb), dst, flow_id;
	struct sg_peer *peer;
	struct sg_flow *flow;
	__u32 len, dir;

	count(SG_CNT_VERDICT_CALLS, 1);
	/* A redirected pure FIN sets EPIPE on the destination and disables its
	 * psock (docs/SOCKMAP.md, section "FIN is not forwarded"); the agent forwards
	 * end of stream itself. */
	if (skb->len == 0) {
		count(SG_CNT_ZERO_LEN, 1);
		return SK_DROP;
	}
	peer = bpf_map_lookup_elem(&sg_peers, &cookie);
	if (peer && sg_test_peer_delay_loops)
		bpf_loop(sg_test_peer_delay_loops, delay_step, NULL, 0);
	if (peer && !read_peer(peer, cookie, &dst, &flow_id, &dir)) {
		/* Reused since the lookup: our entry, if it still exists, is
		 * another element now. */
		count(SG_CNT_PEER_STALE, 1);
		peer = bpf_map_lookup_elem(&sg_peers, &cookie);
		if (peer && !read_peer(peer, cookie, &dst, &flow_id, &dir))
			peer = NULL;
	}
	if (!peer) {
		/* SK_PASS keeps the bytes queued on this socket instead of ACKing
		 * and dropping them; the agent aborts the pair (docs/SOCKMAP.md, section
		 * "Splice order"). */
		count(SG_CNT_PEER_MISSING, 1);
		return SK_PASS;
	}
	if (peer->flags & SG_PEER_F_BROKEN)
		return SK_PASS;
	if (!trim_overlap(skb)) {
		count(SG_CNT_TRIM_FAILED, 1);
		return mark_broken(peer, cookie, flow_id, dir);
	}
	len = skb->len;
	if (len == 0)
		return SK_DROP; /* every byte was a duplicate */
	if (bpf_sk_redirect_hash(skb, &sg_targets, &dst, 0) != SK_PASS) {
		count(SG_CNT_REDIRECT_FAILED, 1);
		return mark_broken(peer, cookie, flow_id, dir);
	}
	flow = bpf_map_lookup_elem(&sg_flows, &flow_id);
	if (flow && dir < SG_DIR_MAX) {
		__u64 bytes = __sync_fetch_and_add(&flow->bytes[dir & 1], len) + len;

		maybe_notify(peer, cookie, flow_id, dir, bytes);
	}
	count(SG_CNT_REDIRECTS, 1);
	count(SG_CNT_REDIRECT_BYTES, len);
	return SK_PASS;
}

/* Attached to the agent's cgroup. Removing a source from sg_socks from user
 * space races with its verdict and loses ACKed bytes; here the delete runs
 * under the source's socket lock, outside tcp_read_skb(), when the agent
 * sends zero bytes on it (tcp_sendmsg -> tcp_current_mss -> HDR_OPT_LEN). */
SEC("sockops")
int sg_pause_ops(struct bpf_sock_ops *ops)
{
	__u64 cookie;
	__u32 *req;

	switch (ops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags |
						       BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		if (ops->args[0] != BPF_WRITE_HDR_TCP_CURRENT_MSS)
			break;
		cookie = bpf_get_socket_cookie(ops);
		req = bpf_map_lookup_elem(&sg_pausereq, &cookie);
		if (req && *req == SG_PAUSE_REQUESTED) {
			*req = bpf_map_delete_elem(&sg_socks, &cookie) == 0 ? SG_PAUSE_DONE
									    : SG_PAUSE_FAILED;
			count(SG_CNT_PAUSES, 1);
		}
		break;
	}
	return 1;
}

/* Run by the agent (BPF_PROG_TEST_RUN) to set a live pair's notify_at. An
 * update from user space would replace the element and free the old one to
 * be reused by the next insert while a verdict may still be reading it.
 * Returns 0, or 1 when the cookie is not in the map. */
SEC("syscall")
int sg_peer_arm(struct sg_peer_arm_req *req)
{
	__u64 cookie = req->cookie; /* map keys cannot point into a syscall ctx */
	struct sg_peer *peer = bpf_map_lookup_elem(&sg_peers, &cookie);

	if (!peer)
		return 1;
	peer->notify_at = req->notify_at;
	return 0;
}

/* Run by the agent (BPF_PROG_TEST_RUN) to change a flow's state in place. A
 * map update from user space would replace the whole value, so increments the
 * verdict makes to bytes[] between the agent's read and its write would be
 * lost; here the verdict's atomic adds and these stores touch different bytes
 * of the same element. Returns 0, or 1 when the flow is not in the map. */
SEC("syscall")
int sg_flow_set_state(struct sg_flow_state_req *req)
{
	__u64 id = req->flow_id; /* map keys cannot point into a syscall ctx */
	struct sg_flow *flow = bpf_map_lookup_elem(&sg_flows, &id);

	if (!flow)
		return 1;
	flow->state = req->state;
	flow->flags = req->flags;
	flow->end = req->end;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
