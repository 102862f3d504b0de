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

struct listener_sock {
	struct loop_watch w;
	struct agent *ag;
	size_t index; /* into the running config's listeners */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool is_wildcard; /* 0.0.0.0 or [::]: a connection's local address needs asking */
	/* Out of the loop after accept() ran out of descriptors or memory, until
	 * resume fires: a level-triggered listener would spin on the error. */
	bool is_paused;
	struct loop_timer resume;
	bool is_wanted;	   /* scratch for listeners_apply() */
	size_t next_index; /* scratch for listeners_apply() */
};

/* Makes the open listeners those of cfg (each listener, plus [::] for an Istio
 * one on 0.0.0.0). On failure (logged) nothing changed and -errno is returned. */
int listeners_apply(struct agent *ag, const struct config *cfg);

/* Closes every listener (shutdown: no new connections). */
void listeners_close(struct agent *ag);

#endif
