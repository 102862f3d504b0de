/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conn_admit.h: admission control, between accept() and a connection's
 * start: the global --max-connections, the per-listener max_pending_hellos
 * and the optional --max-connections-per-source. A connection over a limit
 * is reset right after accept, unless the oldest connection still waiting
 * for its ClientHello (for at least CONN_EVICT_MIN_MS) can make room: idle
 * clients then cannot keep legitimate ones out. Every refusal is counted by
 * reason (ag->refused) and logged within the agent's rate limit. The
 * refused connection never becomes a struct conn, so it has no access-log
 * line; an evicted one ends with end=hello_evicted. */
#ifndef SG_CONN_ADMIT_H
#define SG_CONN_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct agent;
struct conn;

/* A connection waiting this long for its hello may be closed for a new one. */
#define CONN_EVICT_MIN_MS 1000

/* Sets up the tables and ag->max_conns (from --max-connections, else from
 * ag->fd_limit and the dataplane in use), and logs the limits. 0 or -ENOMEM. */
int conn_admit_open(struct agent *ag);
void conn_admit_close(struct agent *ag);

/* fd was just accepted on listener li from peer. True: the caller starts it
 * (conn_accept()); false: it was refused, and fd is closed. */
bool conn_admit(struct agent *ag, size_t li, int fd, const struct sockaddr_storage *peer);

/* conn.c's hooks: c starts its hello phase; c's hello phase is over (routed
 * or closed); c is released. Each is idempotent. */
void conn_admit_enter(struct conn *c);
void conn_admit_hello_done(struct conn *c);
void conn_admit_leave(struct conn *c);

#endif
