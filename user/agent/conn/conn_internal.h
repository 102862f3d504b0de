/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conn_internal.h: struct conn and what the conn/ modules share of it:
 * conn.c (hello, route, connect, and the one close), conn_data.c (dataplane),
 * conn_pace.c and conn_health.c. control_cmds.c and control_top.c read struct
 * conn for their tables. */
#ifndef SG_CONN_INTERNAL_H
#define SG_CONN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "agent_state.h"
#include "copy_relay.h"
#include "express.h"
#include "relay.h"
#include "sockpair.h"

#define CONN_MAX_TRIES 16

enum conn_state {
	CONN_HELLO = 0,
	CONN_CONNECTING,
	CONN_COPYING, /* user-space copy, until promoted (docs/ARCHITECTURE.md, section "Promotion") */
	CONN_SPLICED, /* sockmap: the kernel moves the bytes */
	CONN_RELAYED, /* splice(2) relay in user space */
	/* express (docs/EXPRESS.md): the flow is installed pending while the
	 * legs go quiet; the copy is held, not ended, in case they never do */
	CONN_EXPRESS_WAIT,
	CONN_EXPRESS, /* TC translates every packet; the sockets are silent */
	CONN_CLOSED
};

struct conn {
	struct conn *prev, *next;
	struct conn *index_next; /* chain in agent.index, by id */
	struct agent *ag;
	struct runtime *rt; /* the configuration this connection was accepted under */
	uint64_t id;
	enum conn_state state;
	struct loop_watch client_w, backend_w; /* leg 0, leg 1 */
	bool is_watched[2];
	struct loop_timer timer; /* hello, connect, drain poll: one at a time */
	struct loop_deferred reaper;
	struct loop_deferred again; /* COPYING: a step left bytes for later */
	/* EPOLL* events seen on each leg before the dataplane started: sockets
	 * are registered once, edge-triggered, so an edge is not reported twice. */
	uint32_t seen[2];
	bool is_rcvlowat_raised; /* the hello phase raised SO_RCVLOWAT above 1 */
	size_t listener;
	struct sockaddr_storage client_addr, local_addr;
	uint64_t start_ms;
	/* Outcome counters of this listener and route in ag->stats (conn_stats.h);
	 * NULL when that table was out of memory. */
	uint64_t *stats;

	/* HELLO */
	struct chello_parser *parser;
	size_t peek_fed;	 /* stream bytes the parser has seen (peeks start at byte 0) */
	size_t peek_want;	 /* stream bytes queued before the next peek is worth it */
	const char *hello_error; /* chello_reason_str() of a malformed hello */
	struct conn *hello_prev, *hello_next; /* ag->hello_oldest list, while in it */
	bool in_hello_list;
	uint64_t *pending;	/* its listener's count in ag->listener_pending, while in it */
	bool is_source_counted; /* in ag->sources */

	/* routing, kept for the access log */
	bool has_route;
	enum route_match match;
	size_t route;
	char sni[HOSTNAME_MAX + 1];
	uint8_t alpn[CHELLO_ALPN_MAX];
	size_t alpn_len;

	/* CONNECTING */
	struct pool_choice tried[CONN_MAX_TRIES];
	size_t n_tried;
	struct sockaddr_storage backend_addr;
	socklen_t backend_addr_len;
	char backend_str[ADDR_STR_MAX];
	const char *proxy; /* PROXY header version written (or tried): "v1", "v2"; or NULL */
	uint64_t *endpoint_active; /* endpoint_load's count this connection is in */
	uint64_t *route_active;	   /* ag->route_load's count of its route, once admitted */
	uint32_t n_full_skips;	   /* endpoints passed over for their max_connections */
	bool in_panic;		   /* its route was under min_health_percent when routed */
	uint64_t connect_start_ns; /* CLOCK_MONOTONIC, of the attempt in flight */

	/* COPYING / SPLICED / RELAYED */
	struct copy_relay copy;
	bool wants_promotion;  /* past --promote-bytes or --promote-after */
	bool is_promotable;    /* false once a promotion failed: stays copied */
	bool has_keepalive;    /* conn_lifetime_keepalive() ran */
	uint64_t pre_bytes[2]; /* moved by the copy before promotion, [0] up, [1] down */
	uint64_t promoted_ms;  /* loop_now_ms() at promotion; 0: never */
	struct sockpair pair;
	struct relay relay;
	struct express_pair xp;	  /* EXPRESS_WAIT, EXPRESS */
	uint32_t n_express_waits; /* EXPRESS_WAIT: timer rounds so far */
	bool is_express_tried;	  /* express is tried once per pair */
	bool eof[2];		  /* leg's peer ended its stream */
	bool shut[2];		  /* FIN forwarded to leg (shutdown(SHUT_WR) done) */
	uint64_t bytes[2];	  /* [0] client->backend, [1] backend->client, at close */
	bool paused[2];		  /* SPLICED: leg's input is not forwarded (conn_pace.c) */
	bool copying[2];	  /* ...and its rest is copied in user space (conn_pace.c) */
	uint32_t n_pauses;
	uint64_t peak_queued; /* largest backlog of either direction the agent saw */
	/* idleness (conn_lifetime.c): bytes moved either way at the last look,
	 * when that was, and when they were last seen to change */
	uint64_t idle_moved, idle_checked_ms, active_ms;

	const char *end_reason;
};

/* conn.c */
/* Ends c, whatever its state, the one way every path ends a connection:
 * resets both legs first when reset (linger 0: each peer learns the other
 * failed), stops its dataplane (conn_data_end()), counts outcome cnt and its
 * bytes, writes its access-log line with end reason reason, and frees it. */
void conn_close(struct conn *c, enum agent_counter cnt, const char *reason, bool reset);
/* Counts outcome cnt agent-wide and under c's listener and route. */
void conn_count(struct conn *c, enum agent_counter cnt);
void conn_set_watch(struct conn *c, int leg, uint32_t events);

/* conn_health.c */
/* struct pool_hint's usable(): arg is the struct conn being routed. Counts
 * the endpoints it passes over for their connection limit in n_full_skips. */
bool conn_endpoint_usable(void *arg, uint32_t backend, uint32_t endpoint);
/* Whether c's route is under its min_health_percent now; logs a route's
 * entry into and exit from that panic. */
bool conn_route_in_panic(struct conn *c);
/* Feeds the outcome of the connect to c->backend_str to outlier detection. */
void conn_health_connect_result(struct conn *c, bool ok);
/* Counts c in its route's open connections, or returns false when the route
 * is at its max_connections. */
bool conn_admit_to_route(struct conn *c);

/* conn_data.c */
void conn_schedule(struct conn *c);
void conn_start_data(struct conn *c);
void conn_data_event(struct conn *c, int leg, uint32_t events);
void conn_data_timer(struct conn *c);
/* Stops c's dataplane (SPLICED or RELAYED) and collects its byte counts; the
 * flow entry is finalised with reason. For conn_close() only. */
void conn_data_end(struct conn *c, const char *reason);
/* c's entry in the pinned flow table as it starts (the CLI's `flows`, `top`). */
void conn_flow_entry(const struct conn *c, struct sg_flow *flow);
/* Whether c is in one of the dataplanes (conn_data_end() has work). */
bool conn_in_dataplane(const struct conn *c);

/* conn_express.c */
/* When c is due for promotion: installs c's flow pending and starts
 * waiting for its legs to go quiet. false: c cannot go express (counted),
 * the caller promotes it to the fallback. */
bool conn_express_begin(struct conn *c);
void conn_express_timer(struct conn *c);
/* The program said c's flow ended (SG_EVENT_EXPRESS_CLOSED): c ends now. */
void conn_express_closed(struct conn *c);
/* conn_data_end()'s part for the two express states. */
void conn_express_end(struct conn *c, const char *reason);
/* c's bytes so far, copy included: [0] up, [1] down. false when unknown. */
bool conn_express_bytes(const struct conn *c, uint64_t b[2]);

/* Bytes of c moved through the agent's own buffers (recv/send) rather than
 * the verdict program or splice(2): the copy's, and a sockmap flow's tails. */
uint64_t conn_copied_bytes(const struct conn *c);

#endif
