/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* agent_state.h: struct agent, the state every part of the running gateway
 * shares: listeners, connections, the BPF dataplane, counters, all driven by
 * one event loop. A leaf among the agent's headers: it names the parts by
 * pointer only and declares no function of theirs, so any part may include
 * it without depending on agent.c, which starts, reloads and stops them. */
#ifndef SG_AGENT_STATE_H
#define SG_AGENT_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "bpf_loader.h"
#include "clienthello.h"
#include "config.h"
#include "live_changes.h"
#include "log_limit.h"
#include "loop.h"
#include "router.h"
#include "runtime.h"

/* Connection outcomes the agent counts (metrics read these). */
#define AGENT_COUNTER_LIST(X)                                                                      \
	X(ACCEPTED, "accepted")                                                                    \
	X(HELLO_OK, "hello_ok")                                                                    \
	X(HELLO_MALFORMED, "hello_malformed")                                                      \
	X(HELLO_TIMEOUT, "hello_timeout")                                                          \
	X(HELLO_TOO_LARGE, "hello_too_large")                                                      \
	X(HELLO_EOF, "hello_eof")                                                                  \
	X(REJECT_NO_SNI, "reject_no_sni")                                                          \
	X(REJECT_UNKNOWN_SNI, "reject_unknown_sni")                                                \
	X(CONNECT_FAILED, "connect_failed")                                                        \
	X(NO_BACKEND, "no_backend")                                                                \
	X(REJECT_MAX_CONNECTIONS, "reject_max_connections")                                        \
	X(PROXY_HEADER_SENT, "proxy_header_sent")                                                  \
	X(PROXY_HEADER_FAILED, "proxy_header_failed")                                              \
	X(SPLICED, "spliced")                                                                      \
	X(RELAYED, "relayed")                                                                      \
	X(COPIED, "copied")                                                                        \
	X(PROMOTED, "promoted")                                                                    \
	X(EXPRESS, "express")                                                                      \
	X(CLOSED, "closed")                                                                        \
	X(IDLE_TIMEOUT, "idle_timeout")                                                            \
	X(MAX_CONNECTION_DURATION, "max_connection_duration")                                      \
	X(ABORTED, "aborted")                                                                      \
	X(HELLO_EVICTED, "hello_evicted")

enum agent_counter {
#define AGENT_COUNTER_ENUM(name, str) AGENT_CNT_##name,
	AGENT_COUNTER_LIST(AGENT_COUNTER_ENUM)
#undef AGENT_COUNTER_ENUM
		AGENT_CNT_MAX
};

/* Why admission control closed a connection (conn_admit.c): the new one
 * right after accept, or the oldest one still waiting for its hello in its
 * favour. accept_error: accept() failed for lack of descriptors or memory and
 * the listener was paused. Counted in sockgate_connections_refused_total. */
#define AGENT_REFUSE_LIST(X)                                                                       \
	X(MAX_CONNECTIONS, "max_connections")                                                      \
	X(PENDING_HELLOS, "pending_hellos")                                                        \
	X(PER_SOURCE, "per_source")                                                                \
	X(ACCEPT_ERROR, "accept_error")

enum agent_refuse {
#define AGENT_REFUSE_ENUM(name, str) AGENT_REFUSE_##name,
	AGENT_REFUSE_LIST(AGENT_REFUSE_ENUM)
#undef AGENT_REFUSE_ENUM
		AGENT_REFUSE_MAX
};

struct conn;
struct express;
struct ring_buffer;
struct src_table;
struct metrics;
struct conn_stats;
struct access_log;
struct config_watch;
struct control;
struct guard;
struct endpoint_load;
struct backend_health;
struct health_checker;
struct resolver;
struct inherited;
struct takeover_give;

#define AGENT_INDEX_SIZE 65536 /* power of two */
#define AGENT_COPY_BUF	 (64 * 1024)

struct listener_watch;
struct worker_inbox;

struct agent {
	struct loop *loop;
	const struct args *args;
	/* Workers (docs/ARCHITECTURE.md, section "Workers"). With --workers 1
	 * the one agent does everything and root is itself. Otherwise root is
	 * the control thread's agent (control socket, metrics, signals, health,
	 * reloads, the verdict's events), which carries no connection, and each
	 * worker is a copy of it with its own loop, thread, listener watches,
	 * connections, timers and buffers; the pointers to what they share stay
	 * the root's. Counters are the root's, added to atomically. */
	struct agent *root;
	struct agent **workers; /* root: n_workers of them; NULL with --workers 1 */
	size_t n_workers;
	size_t worker_index;
	bool has_workers; /* root: connections are the workers' (decided before the listeners open) */
	pthread_t thread;
	/* Held by a loop while it runs handlers, released while it waits: the
	 * root's loop holds shared_lock, a worker's its own own_lock. Workers
	 * take shared_lock around what they share (pools, endpoint and route
	 * counts, health, admission tables, labelled stats, the listener list);
	 * lock order: a worker's own_lock, then shared_lock, never the reverse. */
	pthread_mutex_t *shared_lock;
	pthread_mutex_t own_lock;
	int own_lock_wanted;	    /* worker: the root waits for own_lock (loop_set_lock()) */
	struct worker_inbox *inbox; /* worker: messages from the root */
	struct loop_watch inbox_w;  /* worker: the inbox's eventfd */
	uint64_t accepted_here; /* worker: connections it accepted (atomic: the root reads it) */
	struct listener_sock **resting; /* root, with workers: dropped by the last reload */
	size_t n_resting;
	struct listener_sock **next_resting; /* scratch for listeners_apply() */
	size_t n_next_resting;
	uint64_t listener_serial;	 /* root: the last listener_sock's serial */
	struct listener_watch **watches; /* worker: one per root listener socket */
	size_t n_watches;
	uint64_t conns_total;		  /* root: open connections of every worker (atomic) */
	struct loop_watch workers_done_w; /* root: an eventfd each worker writes as it ends */
	struct worker_sync *sync;	  /* root and workers: "applied" hand-shake */
	uint64_t apply_gen;		  /* root: reloads handed to the workers */
	uint64_t applied_gen;		  /* worker: the last of them it took (under sync) */
	size_t n_workers_done;
	struct runtime *rt; /* the running configuration; connections hold their own */
	struct bpf_dataplane dp;
	struct express *express; /* shared by the workers; NULL: no express dataplane */
	bool use_sockmap;
	bool starts_in_copy; /* pairs start in the user-space copy (copy_relay.h) */
	bool promotes;	     /* ...and are promoted to sockmap or splice(2) */
	/* The copy's scratch buffer, AGENT_COPY_BUF bytes, shared by every pair:
	 * a pair holds memory of its own only while a destination is full. */
	uint8_t *copy_buf;
	struct listener_sock **listeners;
	size_t n_listeners;
	uint64_t n_reloads, n_reloads_rejected;
	/* Whether the latest load of --config (start, SIGHUP, `sockgate reload`)
	 * succeeded, and when (Unix seconds) the latest that did: an operator
	 * alerts on a rejected reload while the previous configuration serves. */
	bool is_last_reload_ok;
	uint64_t last_reload_ok_s;
	struct loop_watch signals;
	struct loop_timer stop_timer;
	struct loop_timer lifetime_timer; /* idle and duration sweep (conn_lifetime.c) */
	struct conn *conns;		  /* every live connection, doubly linked */
	struct conn **index;		  /* the same, chained by id, AGENT_INDEX_SIZE buckets */
	struct ring_buffer *events;	  /* crossings posted by the verdict */
	struct loop_watch events_w;
	int cgroup_fd;
	size_t n_conns;
	uint64_t next_conn_id;
	uint64_t flow_id_base; /* start time << 32: flow ids stay unique across restarts,
				* since sg_flows is pinned and outlives the agent */
	bool is_stopping;
	uint64_t drain_ms; /* root: the drain deadline (--drain-timeout, or the takeover's) */
	/* Upgrade (control/takeover.h), root only. inherited: what a --takeover
	 * agent received, until its startup is done. handover: the connection of
	 * the agent taking this one's sockets, until it confirms. While
	 * is_accept_held, no loop accepts on the listeners (they stay open). */
	struct inherited *inherited;
	struct takeover_give *handover;
	bool is_accept_held;
	uint64_t counters[AGENT_CNT_MAX];
	uint64_t bytes_total[2];	   /* finished connections: [0] client->backend, [1] back */
	uint64_t copied_total;		   /* of which sockmap flows moved in user space */
	struct metrics *metrics;	   /* NULL without --metrics */
	struct config_watch *config_watch; /* NULL unless --config names a directory */
	struct live_changes changes;	   /* sockgate load / unload, replayed on reload */
	struct endpoint_load *endpoint_load; /* open connections per endpoint address */
	struct endpoint_load *route_load;    /* ...and per route name (max_connections) */
	struct endpoint_load *route_panic;   /* per route name: 1 while in panic, to log changes */
	struct backend_health *backend_health; /* checks, ejections, drains; outlive reloads */
	struct health_checker *health;	       /* the checks of rt; NULL when it has none */
	struct control *control;	       /* the control socket; NULL with --control off */
	struct guard *guard;		       /* the XDP guard (guard.h); NULL before start */
	struct resolver *resolver;	       /* endpoint names re-resolved; NULL before start */
	uint64_t start_ms;
	uint64_t fd_limit; /* soft RLIMIT_NOFILE after raising it to the hard one */
	/* The buffer hellos are peeked into, shared: a pending connection holds
	 * only its parser, however much its client sent (conn.c). */
	uint8_t *peek_buf;
	size_t peek_buf_cap;
	uint64_t hello_peeks, hello_peek_bytes; /* recv(MSG_PEEK) calls and bytes */

	/* Admission control (conn/conn_admit.c). */
	uint32_t max_conns;			  /* --max-connections, or derived */
	struct conn *hello_oldest, *hello_newest; /* connections in CONN_HELLO, by age */
	struct endpoint_load *listener_pending;	  /* ...of each listener, by name */
	struct src_table *sources;		  /* open connections per client IP */
	uint64_t refused[AGENT_REFUSE_MAX];
	uint64_t hello_errors[CHELLO_REASON_MAX];

	struct conn_stats *stats;      /* labelled metrics; outlive every reload */
	struct access_log *access_log; /* NULL with --access-log off */

	struct log_limit log_limit; /* of per-connection warnings */
};

#define AGENT_LOG_PER_SECOND 20

/* True when a per-connection warning may be logged now (at most
 * AGENT_LOG_PER_SECOND a second; the number suppressed is reported when the
 * window turns). */
static inline bool agent_log_allowed(struct agent *ag)
{
	return log_limit_allow(&ag->log_limit, loop_now_ms());
}

/* Counters the root keeps for every worker: added to by any thread, read by
 * the root's (metrics, status). */
static inline void agent_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline uint64_t agent_read(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* Open connections, all workers together. */
static inline uint64_t agent_conns(const struct agent *ag)
{
	return agent_read(&ag->root->conns_total);
}

/* A takeover holds (or took) the root's listeners: from then on the next
 * agent owns what the agents share besides them, the free express slots of
 * the pinned flow map among them. Any thread. */
static inline bool agent_is_held(const struct agent *ag)
{
	return __atomic_load_n(&ag->root->is_accept_held, __ATOMIC_RELAXED);
}

static inline void agent_shared_lock(struct agent *ag)
{
	pthread_mutex_lock(ag->shared_lock);
}

static inline void agent_shared_unlock(struct agent *ag)
{
	pthread_mutex_unlock(ag->shared_lock);
}

#endif
