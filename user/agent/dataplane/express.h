/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* express.h: the express dataplane's agent side (docs/EXPRESS.md). A pair
 * whose two TCP connections are quiet is handed to bpf/express.bpf.c, which
 * from then on rewrites each packet of one connection into a packet of the
 * other at TC ingress; the gateway's sockets stay open, silent in repair
 * mode, only to keep their addresses and ports reserved. Shared by every
 * worker: the slot allocator and the attachments take their own lock. */
#ifndef SG_EXPRESS_AGENT_H
#define SG_EXPRESS_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "sg_abi.h"
#include "sg_express.h"

struct express;

/* How long a flow stays translated after the kernel saw it end: its last
 * ACK or FIN may be lost and retransmitted (RTO 200 ms, doubling). */
#define EXPRESS_LINGER_NS (5ull * 1000000000ull)

/* Why a pair was not handed over: it stays on the fallback dataplane.
 * X(enum suffix, label) */
#define EXPRESS_REFUSAL_LIST(X)                                                                    \
	X(STATE, "not_established")                                                                \
	X(OPTIONS, "options_differ")                                                               \
	X(MTU, "mtu_differs")                                                                      \
	X(FAMILY, "family_differs")                                                                \
	X(LOCAL_PEER, "local_peer")                                                                \
	X(ROUTE, "no_route")                                                                       \
	X(ATTACH, "attach_failed")                                                                 \
	X(NO_SLOT, "no_slot")                                                                      \
	X(NOT_QUIET, "not_quiet")                                                                  \
	X(REPAIR, "repair_failed")                                                                 \
	X(MAP, "map_failed")

enum express_refusal {
#define EXPRESS_REFUSAL_ENUM(name, str) EXPRESS_REFUSED_##name,
	EXPRESS_REFUSAL_LIST(EXPRESS_REFUSAL_ENUM)
#undef EXPRESS_REFUSAL_ENUM
		EXPRESS_REFUSED_MAX
};

const char *express_refusal_name(enum express_refusal r);

/* One pair's hand-over and life in express. */
struct express_pair {
	int fd[2]; /* [SG_DIR_TO_BACKEND]: the client's socket; [SG_DIR_TO_CLIENT]: the backend's */
	uint32_t slot;
	bool has_slot;
	struct sg_xkey key[2]; /* the packets arriving from the client, from the backend */
	struct sg_xflow flow;  /* as written at activation */
	int reuse[2];	       /* SO_REUSEADDR of each socket before repair mode */
};

/* Loads express.bpf.o; its maps and per-interface attachments are pinned
 * under pin_dir (NULL: nothing pinned, for tests) so that express flows
 * outlive the agent. 0 or -errno. */
int express_open(struct express **out, const char *pin_dir);

/* Leaves the pinned maps and attachments to the flows still in them. */
void express_close(struct express *x);

/* Puts this agent's programs back into its TC links: a takeover that failed
 * left the other agent's there (the maps are the same pinned ones).
 * NULL-tolerant. */
void express_relink(struct express *x);

/* Step 1, when a pair is due for promotion (no settle point needed): checks that the pair can be
 * translated exactly, attaches the program where its packets arrive, and
 * installs the flow as SG_X_PENDING. -1 and *why when it cannot (nothing
 * is left installed), 0 otherwise. */
int express_begin(struct express *x, struct express_pair *p, int client_fd, int backend_fd,
		  uint64_t flow_id, enum express_refusal *why);

/* Step 2, repeated: once both legs are quiet (receive queues empty, every
 * byte sent acknowledged) reads their TCP state in repair mode and makes
 * the flow active. 0 when active, -EAGAIN while not yet quiet, another
 * -errno (and *why) when it failed: the caller then calls express_abort(). */
int express_finish(struct express *x, struct express_pair *p, enum express_refusal *why);

/* Undoes express_begin() before activation: the sockets carry on as they
 * were, and the segments dropped meanwhile are retransmitted by their
 * senders. */
void express_abort(struct express *x, struct express_pair *p);

/* The active flow's current slot (counters, state). 0 or -errno. */
int express_read(struct express *x, const struct express_pair *p, struct sg_xflow *out);

/* Ends an active flow: its packets reach the gateway's stack again (which
 * has no connection for them any more once the caller closes the sockets,
 * silently as they are in repair mode). */
void express_release(struct express *x, struct express_pair *p);

/* Frees the slots of flows a previous agent left that have ended since
 * (closed linger_ns ago, or idle an hour). Root loop only. Returns how many. */
size_t express_sweep_adopted(struct express *x, uint64_t now_ns, uint64_t linger_ns);

/* Ends an active flow for the agent's own reasons (idle, duration): the
 * flow is released and each peer sent a RST (express_reset.h); a closed
 * flow is only released. */
void express_end(struct express *x, struct express_pair *p);

/* At agent stop: leaves an active flow to the kernel and the next agent;
 * releases one that already closed. */
void express_hand_off(struct express *x, struct express_pair *p);

/* The ring buffer of SG_EVENT_EXPRESS_CLOSED events (sg_abi.h). */
int express_events_fd(struct express *x);

/* Takes over an ended flow and the two sockets that still hold its
 * tuples (in repair mode), for the root's sweep to release and close once
 * until_ns (CLOCK_MONOTONIC) has passed. 0 or -ENOMEM (nothing taken). */
int express_linger(struct express *x, struct express_pair *p, const int fd[2], uint64_t until_ns);
/* Root loop: releases the lingering flows whose time is up. */
size_t express_sweep_lingering(struct express *x, uint64_t now_ns);

/* Counts of pairs refused, by reason, of pairs handed over, of flows the
 * agent ended with resets. */
void express_counts(struct express *x, uint64_t refused[EXPRESS_REFUSED_MAX], uint64_t *active,
		    uint64_t *handed_over, uint64_t *resets_sent);

/* Sum of the program's per-CPU counters (enum sg_xcounter). */
int express_bpf_counters(struct express *x, uint64_t out[SG_XCNT_MAX]);

#endif
