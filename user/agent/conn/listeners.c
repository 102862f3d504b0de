// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* listeners.c: see listeners.h. Sockets are allocated one by one, so the
 * epoll registration of a kept listener survives a reload untouched. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "addr.h"
#include "agent_state.h"
#include "conn.h"
#include "conn_admit.h"
#include "container_of.h"
#include "inherited.h"
#include "listeners.h"
#include "log.h"

#define LISTEN_BACKLOG 4096
#define ACCEPT_BATCH   64 /* accepts per wakeup: other listeners get their turn */

static bool addr_is_wildcard(const struct sockaddr_storage *ss);

static void on_resume(struct loop_timer *t)
{
	struct acceptor *acc = container_of(t, struct acceptor, resume);

	if (loop_add(acc->ag->loop, &acc->w, acc->events) == 0)
		acc->is_paused = false;
	else
		loop_timer_arm(acc->ag->loop, &acc->resume, LISTENER_PAUSE_MS);
}

/* The connection stays in the kernel's accept queue; retrying at once would
 * fail the same way as fast as the loop turns (HAProxy and NGINX pause too). */
static void pause_accepting(struct acceptor *acc, int err)
{
	struct agent *ag = acc->ag;

	agent_add(&ag->root->refused[AGENT_REFUSE_ACCEPT_ERROR], 1);
	if (agent_log_allowed(ag))
		log_warn("accept on %s: %s; pausing the listener %d ms",
			 ag->rt->cfg->listeners[acc->index].name, strerror(err), LISTENER_PAUSE_MS);
	loop_del(ag->loop, &acc->w);
	acc->is_paused = true;
	loop_timer_arm(ag->loop, &acc->resume, LISTENER_PAUSE_MS);
}

static void on_accept(struct loop_watch *w, uint32_t events)
{
	struct acceptor *acc = container_of(w, struct acceptor, w);
	struct agent *ag = acc->ag;
	(void)events;

	for (int i = 0; i < ACCEPT_BATCH && !acc->is_paused && !acc->is_gone; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(w->fd, (struct sockaddr *)&peer, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		bool is_admitted;

		if (fd >= 0) {
			agent_shared_lock(ag);
			is_admitted = conn_admit(ag, acc->index, fd, &peer);
			agent_shared_unlock(ag);
			if (is_admitted)
				conn_accept(ag, acc->index, fd, &peer,
					    acc->is_wildcard ? NULL : &acc->addr);
			continue;
		}
		switch (errno) {
		case EAGAIN:
		case EINTR:
			return;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			pause_accepting(acc, errno);
			return;
		case ECONNABORTED: /* that client gave up: the next may be there */
			continue;
		case EINVAL:
			/* The root stopped this socket (a reload dropped it); this
			 * worker drops its watch when it takes that reload. */
			if (ag->root != ag) {
				loop_del(ag->loop, &acc->w);
				acc->is_paused = true;
				return;
			}
			/* fall through */
		default:
			if (agent_log_allowed(ag))
				log_warn("accept on %s: %s",
					 ag->rt->cfg->listeners[acc->index].name, strerror(errno));
			return;
		}
	}
}

static void acceptor_init(struct acceptor *acc, struct agent *ag, int fd, size_t index,
			  const struct sockaddr_storage *addr, socklen_t addr_len, uint32_t events)
{
	*acc = (struct acceptor){.w = {.fd = fd, .on_event = on_accept},
				 .ag = ag,
				 .index = index,
				 .addr = *addr,
				 .addr_len = addr_len,
				 .is_wildcard = addr_is_wildcard(addr),
				 .events = events,
				 .resume = {.on_expire = on_resume}};
}

static bool addr_is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static struct listener_sock *open_one(struct agent *ag, size_t li,
				      const struct sockaddr_storage *addr, socklen_t addr_len,
				      int *err)
{
	struct listener_sock *ls = calloc(1, sizeof(*ls));
	int one = 1, fd = -1;

	if (!ls) {
		*err = -ENOMEM;
		return NULL;
	}
	/* Taken over: the same socket, listening all along, its queue intact. */
	fd = inherited_take_sock(ag->inherited, INHERITED_LISTENER, (const struct sockaddr *)addr,
				 addr_len);
	if (fd >= 0) {
		ls->is_inherited = true;
		/* Ours now: the previous agent set them, a newer build may not. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (listen(fd, LISTEN_BACKLOG) == -1)
			goto err;
	} else {
		fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			goto err;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (addr->ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		/* Accepted sockets inherit it: no per-connection call. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)addr, addr_len) == -1 ||
		    listen(fd, LISTEN_BACKLOG) == -1)
			goto err;
	}
	acceptor_init(&ls->acc, ag, fd, li, addr, addr_len, EPOLLIN);
	ls->serial = ++ag->listener_serial;
	/* With workers, the root only holds the socket: they accept. */
	*err = ag->has_workers ? 0 : loop_add(ag->loop, &ls->acc.w, EPOLLIN);
	if (*err) {
		close(fd);
		free(ls);
		return NULL;
	}
	return ls;
err:
	*err = -errno;
	if (fd >= 0)
		close(fd);
	free(ls);
	return NULL;
}

static void close_one(struct agent *ag, struct listener_sock *ls)
{
	loop_timer_cancel(ag->loop, &ls->acc.resume);
	if (!ls->acc.is_paused && !ag->has_workers)
		loop_del(ag->loop, &ls->acc.w);
	close(ls->acc.w.fd);
	free(ls);
}

/* Deferred accept hands a connection over with its first segment (the
 * hello, mostly) already queued, so the agent peeks it at once; one that
 * sends nothing is accepted once the time is up (the kernel rounds it to its
 * SYN-ACK retransmissions) and meets hello_timeout then. Set on every apply,
 * so a reload changes it on a listener it keeps. */
static void set_defer_accept(struct listener_sock *ls, const struct cfg_listener *l)
{
	int secs = (int)((l->defer_accept_ms + 999) / 1000);

	setsockopt(ls->acc.w.fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
}

static bool same_addr(const struct listener_sock *ls, const struct sockaddr_storage *addr,
		      socklen_t len)
{
	return ls->acc.addr_len == len && memcmp(&ls->acc.addr, addr, len) == 0;
}

/* The open socket for addr: a live one (is_wanted set), or a resting one
 * taken back (is_revived set). */
static struct listener_sock *find(struct agent *ag, const struct sockaddr_storage *addr,
				  socklen_t len)
{
	for (size_t i = 0; i < ag->n_listeners; i++) {
		if (same_addr(ag->listeners[i], addr, len)) {
			ag->listeners[i]->is_wanted = true;
			return ag->listeners[i];
		}
	}
	for (size_t i = 0; i < ag->n_resting; i++) {
		struct listener_sock *ls = ag->resting[i];

		/* Listening again; a new serial, so every worker watches it anew. */
		if (same_addr(ls, addr, len) && listen(ls->acc.w.fd, LISTEN_BACKLOG) == 0) {
			ls->is_revived = true;
			ls->serial = ++ag->listener_serial;
			return ls;
		}
	}
	return NULL;
}

/* Adds the socket for addr to next[], reusing an open one. */
static int want(struct agent *ag, size_t li, const struct sockaddr_storage *addr, socklen_t len,
		const struct cfg_listener *l, bool is_optional, struct listener_sock **next,
		size_t *n_next)
{
	const char *name = l->name;
	struct listener_sock *ls = find(ag, addr, len);
	char text[ADDR_STR_MAX];
	int err = 0;

	addr_format(addr, text, sizeof(text));
	if (ls) {
		ls->next_index = li;
	} else {
		ls = open_one(ag, li, addr, len, &err);
		if (!ls) {
			if (is_optional) {
				log_warn("listener %s on %s: %s (IPv4 only)", name, text,
					 strerror(-err));
				return 0;
			}
			log_err("listener %s on %s: %s", name, text, strerror(-err));
			return err;
		}
		log_info("%s %s (%s)", ls->is_inherited ? "took over listening on" : "listening on",
			 text, name);
		ls->next_index = li;
	}
	set_defer_accept(ls, l);
	next[(*n_next)++] = ls;
	return 0;
}

/* Room for the sockets this apply may put to rest. -ENOMEM or 0. */
static int rest(struct agent *ag)
{
	ag->next_resting = calloc(ag->n_listeners + 1, sizeof(*ag->next_resting));
	ag->n_next_resting = 0;
	return ag->next_resting ? 0 : -ENOMEM;
}

int listeners_apply(struct agent *ag, const struct config *cfg)
{
	struct listener_sock **next = calloc(cfg->n_listeners * 2 + 1, sizeof(*next));
	size_t n_next = 0, li;
	int err = next ? 0 : -ENOMEM;

	for (size_t i = 0; i < ag->n_listeners; i++)
		ag->listeners[i]->is_wanted = false;
	for (size_t i = 0; i < ag->n_resting; i++)
		ag->resting[i]->is_revived = false;
	for (li = 0; !err && li < cfg->n_listeners; li++) {
		const struct cfg_listener *l = &cfg->listeners[li];
		struct sockaddr_storage twin;
		socklen_t twin_len;

		err = want(ag, li, &l->addr, l->addr_len, l, false, next, &n_next);
		if (!err && cfg_listener_v6_twin(l, &twin, &twin_len))
			err = want(ag, li, &twin, twin_len, l, true, next, &n_next);
	}
	if (!err)
		err = rest(ag);
	if (err) {
		/* Undo: close only what this call opened. */
		for (size_t i = 0; next && i < n_next; i++) {
			if (!next[i]->is_wanted && !next[i]->is_revived)
				close_one(ag, next[i]);
		}
		free(next);
		return err;
	}
	/* Commit: kept sockets take their new index, dropped ones close. */
	for (size_t i = 0; i < n_next; i++)
		next[i]->acc.index = next[i]->next_index;
	for (size_t i = 0; i < ag->n_listeners; i++) {
		if (!ag->listeners[i]->is_wanted) {
			char text[ADDR_STR_MAX];

			log_info("no longer listening on %s",
				 addr_format(&ag->listeners[i]->acc.addr, text, sizeof(text)));
			/* Resting: no longer listening (queued connections are
			 * reset, as a close would), but still bound. */
			if (ag->has_workers) {
				shutdown(ag->listeners[i]->acc.w.fd, SHUT_RD);
				ag->next_resting[ag->n_next_resting++] = ag->listeners[i];
			} else
				close_one(ag, ag->listeners[i]);
		}
	}
	/* What rested through one reload and was not taken back closes now. */
	for (size_t i = 0; i < ag->n_resting; i++) {
		if (!ag->resting[i]->is_revived)
			close_one(ag, ag->resting[i]);
	}
	free(ag->resting);
	ag->resting = ag->next_resting;
	ag->n_resting = ag->n_next_resting;
	ag->next_resting = NULL;
	ag->n_next_resting = 0;
	free(ag->listeners);
	ag->listeners = next;
	ag->n_listeners = n_next;
	return 0;
}

void listeners_close(struct agent *ag)
{
	for (size_t i = 0; i < ag->n_resting; i++)
		close_one(ag, ag->resting[i]);
	free(ag->resting);
	ag->resting = NULL;
	ag->n_resting = 0;
	for (size_t i = 0; i < ag->n_listeners; i++)
		close_one(ag, ag->listeners[i]);
	free(ag->listeners);
	ag->listeners = NULL;
	ag->n_listeners = 0;
}

void listeners_hold(struct agent *ag, bool hold)
{
	if (ag->is_accept_held == hold)
		return;
	__atomic_store_n(&ag->is_accept_held, hold, __ATOMIC_RELAXED); /* agent_is_held() */
	if (ag->has_workers)
		return; /* the workers' watches follow at their next listeners_sync() */
	for (size_t i = 0; i < ag->n_listeners; i++) {
		struct acceptor *acc = &ag->listeners[i]->acc;

		loop_timer_cancel(ag->loop, &acc->resume);
		if (hold && !acc->is_paused)
			loop_del(ag->loop, &acc->w);
		/* is_paused also keeps close_one() from a second loop_del(). */
		acc->is_paused = hold;
		if (!hold && loop_add(ag->loop, &acc->w, acc->events) != 0) {
			acc->is_paused = true;
			loop_timer_arm(ag->loop, &acc->resume, LISTENER_PAUSE_MS);
		}
	}
}

/* ---- a worker's watches on the root's sockets ---- */

static void reap_watch(struct loop_deferred *d)
{
	struct listener_watch *lw = container_of(d, struct listener_watch, reap);

	close(lw->acc.w.fd);
	free(lw);
}

/* Events of this batch may still name lw: it goes after the batch. */
static void drop_watch(struct agent *w, struct listener_watch *lw)
{
	lw->acc.is_gone = true;
	loop_timer_cancel(w->loop, &lw->acc.resume);
	if (!lw->acc.is_paused)
		loop_del(w->loop, &lw->acc.w);
	lw->reap.run = reap_watch;
	loop_defer(w->loop, &lw->reap);
}

static struct listener_watch *new_watch(struct agent *w, const struct listener_sock *ls)
{
	struct listener_watch *lw = calloc(1, sizeof(*lw));
	int fd = lw ? fcntl(ls->acc.w.fd, F_DUPFD_CLOEXEC, 0) : -1;

	if (fd < 0) {
		log_err("worker %zu: listener: %s", w->worker_index, strerror(lw ? errno : ENOMEM));
		free(lw);
		return NULL;
	}
	lw->serial = ls->serial;
	acceptor_init(&lw->acc, w, fd, ls->acc.index, &ls->acc.addr, ls->acc.addr_len,
		      EPOLLIN | EPOLLEXCLUSIVE);
	if (loop_add(w->loop, &lw->acc.w, lw->acc.events) != 0) {
		log_err("worker %zu: listener: %s", w->worker_index, strerror(errno));
		close(fd);
		free(lw);
		return NULL;
	}
	return lw;
}

int listeners_sync(struct agent *w)
{
	struct agent *root = w->root;
	struct listener_watch **next;
	size_t n = 0;

	agent_shared_lock(w);
	next = calloc(root->n_listeners + 1, sizeof(*next));
	if (!next) {
		agent_shared_unlock(w);
		return -ENOMEM;
	}
	/* Held for a takeover: every watch goes, the sockets stay open. */
	for (size_t i = 0; !root->is_accept_held && i < root->n_listeners; i++) {
		const struct listener_sock *ls = root->listeners[i];
		struct listener_watch *lw = NULL;

		for (size_t j = 0; j < w->n_watches && !lw; j++) {
			if (w->watches[j] && w->watches[j]->serial == ls->serial) {
				lw = w->watches[j];
				w->watches[j] = NULL; /* kept */
			}
		}
		if (!lw)
			lw = new_watch(w, ls);
		if (!lw)
			continue;
		lw->acc.index = ls->acc.index;
		next[n++] = lw;
	}
	agent_shared_unlock(w);
	for (size_t j = 0; j < w->n_watches; j++) {
		if (w->watches[j])
			drop_watch(w, w->watches[j]);
	}
	free(w->watches);
	w->watches = next;
	w->n_watches = n;
	return 0;
}

void listeners_unwatch(struct agent *w)
{
	for (size_t j = 0; j < w->n_watches; j++)
		drop_watch(w, w->watches[j]);
	free(w->watches);
	w->watches = NULL;
	w->n_watches = 0;
}
