/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conn.h: one client connection from accept to close:
 * HELLO (peek and parse) -> CONNECTING (to a backend, with retries) ->
 * COPYING (user space), promoted to SPLICED (sockmap) or RELAYED (splice(2))
 * -> closed, with one access-log line. */
#ifndef SG_CONN_H
#define SG_CONN_H

#include <sys/socket.h>

#include "agent_state.h"
#include "sg_abi.h"

/* Takes ownership of fd, a non-blocking socket just accepted on listener li
 * from peer, and admitted (conn_admit.c). local: the listener's address when
 * it names one (NULL for a wildcard listener: getsockname() tells). */
void conn_accept(struct agent *ag, size_t li, int fd, const struct sockaddr_storage *peer,
		 const struct sockaddr_storage *local);

/* Hands a crossing event from the verdict to its connection, if still open. */
void conn_on_bpf_event(struct agent *ag, const struct sg_event *e);

/* Resets every live connection (shutdown deadline reached). */
void conn_abort_all(struct agent *ag);
/* At shutdown: ends every express pair of ag without ending its flow, which
 * the kernel carries on and the next agent adopts (docs/EXPRESS.md). */
void conn_express_hand_off(struct agent *ag);

/* A takeover holds the listeners (agent_is_held()): every pair of ag still
 * waiting for its express hand-over goes back to the copy, and is promoted to
 * the fallback. The next agent reads which express slots are in use once
 * every loop has done this, and must not find one still pending. */
void conn_express_unpend(struct agent *ag);

#endif
