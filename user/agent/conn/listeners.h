/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* listeners.h: the agent's listening sockets, kept in step with the running
 * configuration. A reload keeps the sockets whose address stays (no accept
 * queue is lost), opens the new ones first and closes the dropped ones last,
 * so a failure leaves the old set serving. */
#ifndef SG_LISTENERS_H
#define SG_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "loop.h"

/* How long a listener rests after accept() failed for lack of resources. */
#define LISTENER_PAUSE_MS 100

struct agent;
struct config;

/* What accepts on one listening socket in one loop: the root's own with
 * --workers 1, else each worker's, on its own duplicate of the socket. */
struct acceptor {
	struct loop_watch w;
	struct agent *ag; /* the loop's agent */
	size_t index;	  /* into that agent's running config's listeners */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool is_wildcard; /* 0.0.0.0 or [::]: a connection's local address needs asking */
	uint32_t events;  /* EPOLLIN, with EPOLLEXCLUSIVE in a worker */
	/* Out of the loop after accept() ran out of descriptors or memory, until
	 * resume fires: a level-triggered listener would spin on the error. */
	bool is_paused;
	bool is_gone; /* dropped by a reload: events still queued for it are ignored */
	struct loop_timer resume;
};

struct listener_sock {
	struct acceptor acc; /* acc.w.fd is the socket; watched only with --workers 1 */
	uint64_t serial;     /* unique per socket: what a worker's watch names */
	bool is_wanted;	     /* scratch for listeners_apply() */
	bool is_revived;     /* scratch for listeners_apply(): taken back from resting */
	bool is_inherited;   /* taken over from the previous agent (inherited.h) */
	size_t next_index;   /* scratch for listeners_apply() */
};

/* A worker's acceptor for one of the root's listener sockets. */
struct listener_watch {
	struct acceptor acc;
	uint64_t serial; /* of the root's listener_sock it duplicates */
	struct loop_deferred reap;
};

/* With workers, a socket a reload drops rests one more reload before it is
 * closed, as each worker closes its own duplicate only when it takes the new
 * configuration: a later reload that wants the address back takes the
 * resting socket again rather than failing to bind while a duplicate lives.
 *
 * Makes the open listeners those of cfg (each listener, plus [::] for an Istio
 * one on 0.0.0.0). On failure (logged) nothing changed and -errno is returned. */
int listeners_apply(struct agent *ag, const struct config *cfg);

/* hold: no loop of this agent accepts any more, the sockets stay open and
 * listening (another process accepts from their queues: a takeover);
 * !hold: accepting again. With workers, workers_apply() makes them follow. */
void listeners_hold(struct agent *ag, bool hold);

/* Closes every listener (shutdown: no new connections). */
void listeners_close(struct agent *ag);

/* In worker w's thread: makes its watches those of the root's listener
 * sockets now (a duplicate descriptor each, watched with EPOLLEXCLUSIVE so
 * one worker wakes per connection), with the root's indices. Takes
 * shared_lock. 0 or -errno (a watch that could not be made is logged and
 * left out: the other workers still accept there). */
int listeners_sync(struct agent *w);

/* In worker w's thread: drops every watch (shutdown). */
void listeners_unwatch(struct agent *w);

#endif
