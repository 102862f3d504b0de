// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_admit.c: see conn_admit.h. The hello list is in accept order, so its
 * head is the connection that has waited longest for its hello. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "admission.h"
#include "agent_state.h"
#include "conn_admit.h"
#include "conn_internal.h"
#include "endpoint_load.h"
#include "log.h"

static const char *const refuse_names[AGENT_REFUSE_MAX] = {
#define NAME(name, str) [AGENT_REFUSE_##name] = str,
	AGENT_REFUSE_LIST(NAME)
#undef NAME
};

int conn_admit_open(struct agent *ag)
{
	const struct args *a = ag->args;
	uint64_t fd_limit = ag->fd_limit ? ag->fd_limit : 1024;

	ag->listener_pending = endpoint_load_new();
	if (!ag->listener_pending)
		return -ENOMEM;
	if (a->max_connections_per_source) {
		ag->sources = src_table_new();
		if (!ag->sources)
			return -ENOMEM;
	}
	ag->max_conns =
		a->max_connections
			? a->max_connections
			: admission_default_max(fd_limit, ag->use_sockmap ? ADMISSION_FDS_SOCKMAP
									  : ADMISSION_FDS_RELAY);
	log_info("admission: max_connections %u (%s, fd limit %llu), per source %s%.0u",
		 ag->max_conns, a->max_connections ? "--max-connections" : "from the fd limit",
		 (unsigned long long)ag->fd_limit, a->max_connections_per_source ? "" : "off",
		 a->max_connections_per_source);
	return 0;
}

void conn_admit_close(struct agent *ag)
{
	endpoint_load_free(ag->listener_pending);
	ag->listener_pending = NULL;
	src_table_free(ag->sources);
	ag->sources = NULL;
}

static void log_refusal(struct agent *ag, enum agent_refuse why, const char *listener,
			const struct sockaddr_storage *peer, const char *what)
{
	char text[ADDR_STR_MAX];

	if (!agent_log_allowed(ag))
		return;
	log_warn("listener %s: %s %s: %s", listener, what, addr_format(peer, text, sizeof(text)),
		 refuse_names[why]);
}

static void refuse(struct agent *ag, int fd, enum agent_refuse why, const char *listener,
		   const struct sockaddr_storage *peer)
{
	/* A reset, not a FIN: the client learns at once it was not served. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	agent_add(&ag->root->refused[why], 1);
	log_refusal(ag, why, listener, peer, "refused");
}

/* Closes the oldest connection still in its hello phase (on the listener
 * whose count is pending, or on any with NULL) if it has waited at least
 * CONN_EVICT_MIN_MS; true if it did. A fresh one is left alone: under a
 * burst, the new connection is refused instead of cutting short a client
 * that is sending its hello right now. */
static bool evict(struct agent *ag, const uint64_t *pending, enum agent_refuse why)
{
	struct conn *c = ag->hello_oldest;
	const char *listener;

	while (c && pending && c->pending != pending)
		c = c->hello_next;
	if (!c || loop_now_ms() - c->start_ms < CONN_EVICT_MIN_MS)
		return false;
	agent_add(&ag->root->refused[why], 1);
	listener = c->rt->cfg->listeners[c->listener].name;
	log_refusal(ag, why, listener, &c->client_addr, "evicted the oldest pending hello, from");
	conn_close(c, AGENT_CNT_HELLO_EVICTED, "hello_evicted", true);
	return true;
}

bool conn_admit(struct agent *ag, size_t li, int fd, const struct sockaddr_storage *peer)
{
	const struct cfg_listener *l = &ag->rt->cfg->listeners[li];
	uint32_t per_source = ag->args->max_connections_per_source;
	uint64_t *pending = endpoint_load_slot(ag->listener_pending, l->name);

	if (per_source && ag->sources && src_table_get(ag->sources, peer) >= per_source) {
		refuse(ag, fd, AGENT_REFUSE_PER_SOURCE, l->name, peer);
		return false;
	}
	if (agent_conns(ag) >= ag->max_conns && !evict(ag, NULL, AGENT_REFUSE_MAX_CONNECTIONS)) {
		refuse(ag, fd, AGENT_REFUSE_MAX_CONNECTIONS, l->name, peer);
		return false;
	}
	if (pending && *pending >= l->max_pending_hellos &&
	    !evict(ag, pending, AGENT_REFUSE_PENDING_HELLOS)) {
		refuse(ag, fd, AGENT_REFUSE_PENDING_HELLOS, l->name, peer);
		return false;
	}
	return true;
}

void conn_admit_enter(struct conn *c)
{
	struct agent *ag = c->ag;
	uint32_t n;

	if (c->in_hello_list)
		return;
	c->hello_prev = ag->hello_newest;
	c->hello_next = NULL;
	if (ag->hello_newest)
		ag->hello_newest->hello_next = c;
	else
		ag->hello_oldest = c;
	ag->hello_newest = c;
	c->in_hello_list = true;
	c->pending =
		endpoint_load_slot(ag->listener_pending, c->rt->cfg->listeners[c->listener].name);
	if (c->pending)
		(*c->pending)++;
	if (ag->sources && src_table_inc(ag->sources, &c->client_addr, &n) == 0)
		c->is_source_counted = true;
}

void conn_admit_hello_done(struct conn *c)
{
	struct agent *ag = c->ag;

	if (!c->in_hello_list)
		return;
	if (c->hello_prev)
		c->hello_prev->hello_next = c->hello_next;
	else
		ag->hello_oldest = c->hello_next;
	if (c->hello_next)
		c->hello_next->hello_prev = c->hello_prev;
	else
		ag->hello_newest = c->hello_prev;
	c->hello_prev = c->hello_next = NULL;
	c->in_hello_list = false;
	if (c->pending)
		(*c->pending)--;
	c->pending = NULL;
}

void conn_admit_leave(struct conn *c)
{
	conn_admit_hello_done(c);
	if (c->is_source_counted)
		src_table_dec(c->ag->sources, &c->client_addr);
	c->is_source_counted = false;
}
