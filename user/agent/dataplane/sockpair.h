/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sockpair.h: one client/backend socket pair spliced through sg_socks, in the
 * race-free order of docs/SOCKMAP.md, section "Splice order", and the drain
 * test of docs/SOCKMAP.md, section "Detecting that a direction has drained", that tells
 * when every byte redirected toward a socket has left it, so that end of
 * stream can be forwarded without truncation. */
#ifndef SG_SOCKPAIR_H
#define SG_SOCKPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf_loader.h"
#include "sg_abi.h"

/* Index of the two legs in struct sockpair. */
enum sockpair_leg { SOCKPAIR_CLIENT = 0, SOCKPAIR_BACKEND = 1, SOCKPAIR_LEGS };

struct sockpair {
	int fd[SOCKPAIR_LEGS];
	uint64_t cookie[SOCKPAIR_LEGS];
	uint64_t flow_id;
	/* Baselines taken at splice time: bytes_received of each leg, and
	 * bytes_acked + unsent of each leg (docs/SOCKMAP.md, section
	 * "Detecting that a direction has drained"). */
	uint64_t base_rx[SOCKPAIR_LEGS];
	uint64_t base_tx[SOCKPAIR_LEGS];
	/* Bytes from each leg the copy moved before a promotion: the flow
	 * entry's counters start there, so the CLI shows whole pairs. */
	uint64_t base_redirected[SOCKPAIR_LEGS];
	bool is_inserted[SOCKPAIR_LEGS];    /* in sg_targets */
	bool is_forwarding[SOCKPAIR_LEGS];  /* in sg_socks: its input is redirected */
	struct sg_peer peer[SOCKPAIR_LEGS]; /* what sg_peers was given at splice (notify_at: 0) */
	uint64_t copied[SOCKPAIR_LEGS];	    /* bytes from leg moved by sockpair_copy_tail() */
	uint8_t flow_flags;		    /* SG_FLOW_F_* last written to the flow entry */
};

/* Fills f's sni and route fields. route names longer than the field keep
 * their start and end around a "..." marker. sni may be NULL or "". */
void sockpair_flow_names(struct sg_flow *f, const char *sni, const char *route);

/* Splices client_fd and backend_fd (both ESTABLISHED): writes both sg_peers
 * entries and the flow (flow's state and flags are written as SG_FLOW_OPEN,
 * none), inserts the backend then the client into sg_socks, takes the drain
 * baselines and kicks both sockets. consumed[leg]: bytes user space already
 * read from leg and sent on, each leg's receive queue then found empty (a
 * promotion); NULL when nothing was read (the ClientHello only peeked). The
 * flow's counters start at those. Returns 0,
 * -EOPNOTSUPP when a socket is no longer ESTABLISHED (the caller relays that
 * connection in user space), or another -errno; on error nothing stays in the
 * maps, the flow entry included. */
int sockpair_splice(struct sockpair *p, const struct bpf_dataplane *dp, int client_fd,
		    int backend_fd, uint64_t flow_id, const struct sg_flow *flow,
		    const uint64_t consumed[SOCKPAIR_LEGS]);

/* After end of stream was seen on leg src: true once every byte src received
 * before its FIN has been sent and acknowledged out of the other leg. */
bool sockpair_is_drained(const struct sockpair *p, enum sockpair_leg src);

/* Right after sockpair_splice(): true when the client's FIN had already
 * arrived and none of the bytes it queued since the splice's baseline reached
 * the verdict. On this kernel the
 * insert of such a socket succeeds but the kick does not hand its queue over;
 * the caller unsplices and relays the pair instead (nothing was forwarded, so
 * nothing is lost or duplicated). */
bool sockpair_is_stuck(const struct sockpair *p, const struct bpf_dataplane *dp);

/* Bytes redirected from leg src that have not yet entered the other leg's TCP
 * send queue: the uncharged psock queue that needs a budget (docs/SOCKMAP.md,
 * section "No backpressure").
 * Also returns the flow's counter for src's direction in *redirected. */
int sockpair_backlog(const struct sockpair *p, const struct bpf_dataplane *dp,
		     enum sockpair_leg src, uint64_t *backlog, uint64_t *redirected);

/* Asks the verdict for one event once src's direction has redirected
 * `redirected_mark` bytes in all. 0 or -errno. */
/* Whether leg's socket is still ESTABLISHED (not reset, closed or past its
 * own FIN exchange). */
bool sockpair_leg_is_established(const struct sockpair *p, enum sockpair_leg leg);

int sockpair_arm(struct sockpair *p, const struct bpf_dataplane *dp, enum sockpair_leg src,
		 uint64_t redirected_mark);

/* Stops redirecting src's input: its bytes stay in its receive queue and
 * TCP closes the window. Needs the pause program attached. 0, -EPIPE when
 * src can no longer send (half-closed), or -EAGAIN when the kernel skipped
 * the callback (try again). */
int sockpair_pause(struct sockpair *p, const struct bpf_dataplane *dp, enum sockpair_leg src);

/* Restarts redirecting src's input and kicks what queued up meanwhile. 0,
 * -EOPNOTSUPP when src's peer ended its stream while paused (copy the tail
 * with sockpair_copy_tail()), or another -errno. */
int sockpair_resume(struct sockpair *p, const struct bpf_dataplane *dp, enum sockpair_leg src);

/* For a src that no longer forwards and cannot resume (its stream ended, or
 * it was half-closed): once the other leg has taken every redirected byte,
 * copies what src holds to it, without blocking and never more than the
 * other leg accepts.
 * Returns 1 when src's end of stream was reached (the caller forwards the
 * FIN), 0 when more remains, or -errno. */
int sockpair_copy_tail(struct sockpair *p, const struct bpf_dataplane *dp, enum sockpair_leg src);

/* Bytes src has received that were neither redirected nor copied yet (its
 * FIN, once received, counts as one). */
int sockpair_pending(const struct sockpair *p, const struct bpf_dataplane *dp,
		     enum sockpair_leg src, uint64_t *pending);

/* Removes both sockets and peer entries from the maps; the flow entry stays
 * in the LRU map for the CLI until evicted. Safe to call twice. */
void sockpair_unsplice(struct sockpair *p, const struct bpf_dataplane *dp);

/* Writes flags (SG_FLOW_F_*) to the pair's flow entry, in place, while the
 * verdict may be counting; does nothing when they did not change. 0, -ENOENT
 * when the entry was evicted, or another -errno. */
int sockpair_flow_set_flags(struct sockpair *p, const struct bpf_dataplane *dp, uint8_t flags);

/* Records the pair's final byte counts (BPF's plus what the agent copied),
 * SG_FLOW_CLOSED and end_reason (an access-log end= value) in the pinned flow
 * entry, once neither leg forwards any more (after sockpair_unsplice()). */
/* The same for a flow no struct sockpair carries (an express pair's). */
void sg_flow_finalise(const struct bpf_dataplane *dp, uint64_t flow_id,
		      const uint64_t bytes[SG_DIR_MAX], const char *end_reason);
void sockpair_flow_finalise(const struct sockpair *p, const struct bpf_dataplane *dp,
			    const uint64_t bytes[SG_DIR_MAX], const char *end_reason);

/* Removes the flow entry of a pair that was unspliced before it moved any
 * byte and goes on in the relay, which the flow map does not list. */
void sockpair_flow_discard(const struct sockpair *p, const struct bpf_dataplane *dp);

/* Reads the flow's byte counters (client->backend, backend->client). */
int sockpair_flow_bytes(const struct sockpair *p, const struct bpf_dataplane *dp,
			uint64_t bytes[SG_DIR_MAX]);

#endif
