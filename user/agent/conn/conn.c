// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn.c: the per-connection state machine up to the handover: peek the
 * ClientHello (never consume it: docs/SOCKMAP.md, section
 * "Never read the hello before the insert"), route it, connect to a
 * backend with retries elsewhere, then hand both sockets to the dataplane
 * (conn_data.c). Every end of a connection, whatever its state, goes
 * through conn_close() here: counters, the access-log line, the free. */
#include <errno.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "container_of.h"
#include "access_log.h"
#include "conn_admit.h"
#include "conn_internal.h"
#include "endpoint_load.h"
#include "maglev.h"
#include "conn_pace.h"
#include "conn_proxy.h"
#include "conn_stats.h"
#include "log.h"

static void on_client(struct loop_watch *w, uint32_t events);
static void on_backend(struct loop_watch *w, uint32_t events);
static void on_timer(struct loop_timer *t);
static void start_connect(struct conn *c);
static void peek_hello(struct conn *c, uint32_t events);

static void reap(struct loop_deferred *d)
{
	struct conn *c = container_of(d, struct conn, reaper);

	runtime_put(c->rt);
	free(c);
}

static struct conn **index_slot(struct agent *ag, uint64_t id)
{
	return &ag->index[id & (AGENT_INDEX_SIZE - 1)];
}

static void unlink_conn(struct conn *c)
{
	struct agent *ag = c->ag;
	struct conn **pp = index_slot(ag, c->id);

	while (*pp && *pp != c)
		pp = &(*pp)->index_next;
	if (*pp)
		*pp = c->index_next;

	if (c->prev)
		c->prev->next = c->next;
	else
		ag->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ag->n_conns--;
	__atomic_fetch_sub(&ag->root->conns_total, 1, __ATOMIC_RELAXED);
	if (ag->is_stopping && ag->n_conns == 0)
		loop_stop(ag->loop); /* shutdown waited only for this one */
}

/* Frees what c holds, closes its sockets and unlinks it; the struct itself
 * is freed after the current batch of events. */
static void release(struct conn *c)
{
	struct agent *ag = c->ag;

	loop_timer_cancel(ag->loop, &c->timer);
	loop_defer_cancel(ag->loop, &c->again);
	agent_shared_lock(ag);
	conn_admit_leave(c);
	if (c->endpoint_active)
		(*c->endpoint_active)--;
	c->endpoint_active = NULL;
	if (c->route_active)
		(*c->route_active)--;
	c->route_active = NULL;
	agent_shared_unlock(ag);
	for (int leg = 0; leg < 2; leg++) {
		struct loop_watch *w = leg ? &c->backend_w : &c->client_w;

		if (w->fd < 0)
			continue;
		/* No EPOLL_CTL_DEL: the agent never duplicates a connection's
		 * descriptor, so closing it ends its registration. */
		close(w->fd);
		w->fd = -1;
		c->is_watched[leg] = false;
	}
	free(c->parser);
	c->parser = NULL;
	c->state = CONN_CLOSED;
	unlink_conn(c);
	/* Later events of this batch may still name c: free it after the batch. */
	loop_defer(ag->loop, &c->reaper);
}

void conn_set_watch(struct conn *c, int leg, uint32_t events)
{
	struct loop_watch *w = leg ? &c->backend_w : &c->client_w;
	int err;

	if (c->is_watched[leg])
		err = loop_mod(c->ag->loop, w, events);
	else
		err = loop_add(c->ag->loop, w, events);
	if (!err)
		c->is_watched[leg] = true;
}

void conn_count(struct conn *c, enum agent_counter cnt)
{
	agent_add(&c->ag->root->counters[cnt], 1);
	if (c->stats)
		agent_add(&c->stats[cnt], 1);
}

/* The counters of c's listener and, once chosen, its route, by name: the
 * agent's table outlives the configuration c was routed with. */
static void attach_stats(struct conn *c)
{
	const struct config *cfg = c->rt->cfg;

	if (!c->ag->stats)
		return;
	c->stats = conn_stats_counters(c->ag->stats, cfg->listeners[c->listener].name,
				       c->has_route ? cfg->routes[c->route].name : "");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The one access-log line of c, written when it ends (conn_close()). */
static void log_access(const struct conn *c)
{
	const struct config *cfg = c->rt->cfg;
	char client[ADDR_STR_MAX], stamp[32];
	struct access_record r;
	struct timespec ts;
	struct tm tm;

	if (!c->ag->access_log)
		return;
	addr_format(&c->client_addr, client, sizeof(client));
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r = (struct access_record){
		.ts = stamp,
		.conn = c->id,
		.client = client,
		.listener = cfg->listeners[c->listener].name,
		.sni = c->sni[0] ? c->sni : NULL,
		.alpn = c->alpn,
		.alpn_len = c->alpn_len,
		.route = c->has_route ? cfg->routes[c->route].name : NULL,
		.backend = c->backend_addr_len ? c->backend_str : NULL,
		.dataplane = c->state == CONN_SPLICED					 ? "sockmap"
			     : c->state == CONN_RELAYED					 ? "splice"
			     : c->state == CONN_EXPRESS					 ? "express"
			     : c->state == CONN_COPYING || c->state == CONN_EXPRESS_WAIT ? "copy"
											 : NULL,
		.is_promoted = c->promoted_ms != 0,
		.promoted_ms = c->promoted_ms ? c->promoted_ms - c->start_ms : 0,
		.proxy = c->proxy,
		.bytes_up = c->bytes[0],
		.bytes_down = c->bytes[1],
		.copied = conn_copied_bytes(c),
		.duration_ms = loop_now_ms() - c->start_ms,
		.pauses = c->n_pauses,
		.peak_queued = c->peak_queued,
		.end = c->end_reason,
		.hello_error = c->hello_error,
	};
	access_log_write(c->ag->access_log, &r);
}

void conn_close(struct conn *c, enum agent_counter cnt, const char *reason, bool reset)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	/* Linger 0 turns the close into a reset, so each peer learns the other
	 * failed instead of seeing a clean end of a truncated stream. */
	if (reset && c->client_w.fd >= 0)
		setsockopt(c->client_w.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (reset && c->backend_w.fd >= 0)
		setsockopt(c->backend_w.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (conn_in_dataplane(c))
		conn_data_end(c, reason);
	conn_count(c, cnt);
	/* Zero unless the pair reached the dataplane. */
	agent_add(&c->ag->root->bytes_total[0], c->bytes[0]);
	agent_add(&c->ag->root->bytes_total[1], c->bytes[1]);
	agent_add(&c->ag->root->copied_total, conn_copied_bytes(c));
	c->end_reason = reason;
	log_access(c);
	release(c);
}

/* Every connection socket is registered once, edge-triggered, for all it
 * will ever need: no EPOLL_CTL_MOD on the copied path. */
#define CONN_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

void conn_accept(struct agent *ag, size_t li, int fd, const struct sockaddr_storage *peer,
		 const struct sockaddr_storage *local)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->client_addr = *peer;
	c->ag = ag;
	c->rt = runtime_get(ag->rt);
	/* One sequence for every worker: ids stay dense and unique. */
	c->id = __atomic_add_fetch(&ag->root->next_conn_id, 1, __ATOMIC_RELAXED);
	c->listener = li;
	c->start_ms = loop_now_ms();
	c->client_w = (struct loop_watch){.fd = fd, .on_event = on_client};
	c->backend_w = (struct loop_watch){.fd = -1, .on_event = on_backend};
	c->timer.on_expire = on_timer;
	c->reaper.run = reap;
	if (local) {
		c->local_addr = *local;
	} else {
		socklen_t len = sizeof(c->local_addr);

		getsockname(fd, (struct sockaddr *)&c->local_addr, &len);
	}
	c->next = ag->conns;
	if (ag->conns)
		ag->conns->prev = c;
	ag->conns = c;
	c->index_next = *index_slot(ag, c->id);
	*index_slot(ag, c->id) = c;
	ag->n_conns++;
	agent_add(&ag->root->conns_total, 1);
	agent_add(&ag->accepted_here, 1);
	c->state = CONN_HELLO;
	agent_shared_lock(ag);
	attach_stats(c);
	conn_count(c, AGENT_CNT_ACCEPTED);
	conn_admit_enter(c);
	agent_shared_unlock(ag);
	c->parser = malloc(sizeof(*c->parser));
	if (!c->parser) {
		conn_close(c, AGENT_CNT_ABORTED, "out_of_memory", false);
		return;
	}
	chello_init(c->parser);
	loop_timer_arm(ag->loop, &c->timer, c->rt->cfg->listeners[li].hello_timeout_ms);
	/* Edge-triggered: the peeked bytes stay queued, so a level-triggered
	 * EPOLLIN would fire again at once for bytes already seen. */
	conn_set_watch(c, 0, CONN_EVENTS);
	/* The listener defers accept until the first segment, so the hello is
	 * usually there already: no wait for the edge. */
	if (c->state == CONN_HELLO)
		peek_hello(c, 0);
}

static void set_rcvlowat(struct conn *c, size_t bytes)
{
	int v = bytes > INT32_MAX ? INT32_MAX : (int)bytes;

	setsockopt(c->client_w.fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
	c->is_rcvlowat_raised = v > 1;
}

static void hello_failed(struct conn *c)
{
	struct agent *ag = c->ag;
	enum chello_reason r = c->parser->reason;

	agent_add(&ag->root->hello_errors[r < CHELLO_REASON_MAX ? r : 0], 1);
	if (agent_log_allowed(ag))
		log_warn("conn=%llu malformed ClientHello: %s", (unsigned long long)c->id,
			 chello_reason_str(r));
	c->hello_error = chello_reason_str(r);
	conn_close(c, AGENT_CNT_HELLO_MALFORMED, "hello_malformed", false);
}

static void route_hello(struct conn *c)
{
	struct agent *ag = c->ag;
	const struct chello_info *info = &c->parser->info;
	enum route_match m;
	size_t route;

	agent_shared_lock(ag);
	conn_count(c, AGENT_CNT_HELLO_OK);
	if (ag->stats)
		conn_stats_hello(ag->stats, info->hello_end);
	agent_shared_unlock(ag);
	if (info->has_sni)
		memcpy(c->sni, info->sni, info->sni_len + 1);
	c->alpn_len = info->alpn_len;
	memcpy(c->alpn, info->alpn, info->alpn_len);
	m = router_lookup(c->rt->router, c->listener, info->has_sni ? info->sni : NULL, info->alpn,
			  info->alpn_len, &route);
	if (route_match_is_routed(m) && !router_accepts_local(c->rt->router, route, &c->local_addr))
		m = ROUTE_REJECT_UNKNOWN_SNI; /* Istio destinationSubnets */
	c->match = m;
	if (!route_match_is_routed(m)) {
		if (agent_log_allowed(ag))
			log_info("conn=%llu rejected: %s sni=%s", (unsigned long long)c->id,
				 route_match_str(m), info->has_sni ? info->sni : "-");
		conn_close(c,
			   m == ROUTE_REJECT_NO_SNI ? AGENT_CNT_REJECT_NO_SNI
						    : AGENT_CNT_REJECT_UNKNOWN_SNI,
			   route_match_str(m), false);
		return;
	}
	c->route = route;
	c->has_route = true;
	agent_shared_lock(ag);
	attach_stats(c);
	/* The parser's 10 KiB are not needed past this point, and the dataplanes
	 * want every byte reported again (peek_hello() raised the mark). */
	free(c->parser);
	c->parser = NULL;
	if (c->is_rcvlowat_raised)
		set_rcvlowat(c, 1);
	conn_admit_hello_done(c);
	if (!conn_admit_to_route(c)) {
		agent_shared_unlock(ag);
		conn_close(c, AGENT_CNT_REJECT_MAX_CONNECTIONS, "max_connections", false);
		return;
	}
	agent_shared_unlock(ag);
	start_connect(c);
}

/* The shared peek buffer, at least want bytes. NULL on ENOMEM. */
static uint8_t *peek_buf(struct agent *ag, size_t want)
{
	size_t cap = ag->peek_buf_cap ? ag->peek_buf_cap : 4096;
	uint8_t *b;

	if (want <= ag->peek_buf_cap)
		return ag->peek_buf;
	while (cap < want)
		cap *= 2;
	b = realloc(ag->peek_buf, cap);
	if (!b)
		return NULL;
	ag->peek_buf = b;
	ag->peek_buf_cap = cap;
	return b;
}

/* Peeks what is queued, at most max_hello_bytes + 1 (so a hello one byte over
 * the limit is seen as such), and feeds the parser what it has not seen yet.
 * MSG_PEEK always starts at byte 0, so a hello trickling in small segments
 * would cost a peek of everything so far per segment, quadratic in its size:
 * the next peek waits until what the parser needs next (chello_need()) is
 * queued, so each byte is peeked a bounded number of times. SO_RCVLOWAT set
 * to that makes the kernel wake the loop only then, mostly: under receive
 * memory pressure (many tiny segments) it wakes anyway, and such a wakeup
 * costs one SIOCINQ, no peek. A FIN or an error is acted on at once. The
 * first peek, right after accept (events 0), asks for everything a hello may
 * be: MSG_PEEK copies only what is queued, and most hellos are whole by then.
 * Edges that report only room to write are not the hello's business. */
static void peek_hello(struct conn *c, uint32_t events)
{
	struct agent *ag = c->ag;
	size_t max = c->rt->cfg->listeners[c->listener].max_hello_bytes;
	size_t want = c->peek_fed + 1, fed_to;
	enum chello_result r = CHELLO_NEED_MORE;
	int queued = 0;
	uint8_t *buf;
	ssize_t n;

	if (events && !(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	if (!events && c->peek_fed == 0)
		want = max + 1;
	else if (ioctl(c->client_w.fd, SIOCINQ, &queued) == 0 && (size_t)queued > want)
		want = (size_t)queued;
	if (want < c->peek_want && want < max + 1 && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	if (want > max + 1)
		want = max + 1;
	buf = peek_buf(ag, want);
	if (!buf) {
		conn_close(c, AGENT_CNT_ABORTED, "out_of_memory", false);
		return;
	}
	n = recv(c->client_w.fd, buf, want, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
		conn_close(c, AGENT_CNT_HELLO_EOF, "client_error", false);
		return;
	}
	if (n == 0) {
		conn_close(c, AGENT_CNT_HELLO_EOF, "client_eof", false);
		return;
	}
	if (n > 0) {
		agent_add(&ag->root->hello_peeks, 1);
		agent_add(&ag->root->hello_peek_bytes, (uint64_t)n);
	}
	/* Only the first max bytes may complete a hello. */
	fed_to = n > 0 ? ((size_t)n < max ? (size_t)n : max) : 0;
	if (fed_to > c->peek_fed) {
		r = chello_feed(c->parser, buf + c->peek_fed, fed_to - c->peek_fed);
		c->peek_fed = fed_to;
	}
	if (r == CHELLO_OK) {
		route_hello(c);
		return;
	}
	if (r == CHELLO_ERROR) {
		hello_failed(c);
		return;
	}
	if (n > 0 && (size_t)n > max) {
		conn_close(c, AGENT_CNT_HELLO_TOO_LARGE, "hello_too_large", false);
		return;
	}
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		conn_close(c, AGENT_CNT_HELLO_EOF, "client_eof", false);
		return;
	}
	/* Past max, one byte is enough to know the hello is too large. */
	want = c->peek_fed + chello_need(c->parser);
	c->peek_want = want < max + 1 ? want : max + 1;
	set_rcvlowat(c, c->peek_want);
}

static void on_client(struct loop_watch *w, uint32_t events)
{
	struct conn *c = container_of(w, struct conn, client_w);

	switch (c->state) {
	case CONN_HELLO:
		peek_hello(c, events);
		return;
	case CONN_CONNECTING:
		if (events & EPOLLERR) {
			conn_close(c, AGENT_CNT_ABORTED, "client_reset", false);
			return;
		}
		/* Hello then FIN is legal: the copy or relay forwards the FIN
		 * after the bytes (a sockmap insert fails with EOPNOTSUPP). */
		c->seen[0] |= events;
		return;
	default:
		conn_data_event(c, 0, events);
	}
}

/* One failed attempt, whichever way it failed. The connection's outcome
 * (connect_failed once every attempt failed) is counted when it closes. */
static void count_connect_failure(struct conn *c)
{
	agent_shared_lock(c->ag);
	conn_health_connect_result(c, false);
	if (c->ag->stats)
		conn_stats_connect_failed(c->ag->stats, c->rt->cfg->routes[c->route].name,
					  c->backend_str);
	agent_shared_unlock(c->ag);
}

static void connect_failed(struct conn *c, int err)
{
	struct agent *ag = c->ag;

	if (agent_log_allowed(ag))
		log_warn("conn=%llu backend %s: %s", (unsigned long long)c->id, c->backend_str,
			 strerror(err));
	loop_timer_cancel(ag->loop, &c->timer);
	if (c->is_watched[1])
		loop_del(ag->loop, &c->backend_w);
	c->is_watched[1] = false;
	close(c->backend_w.fd);
	c->backend_w.fd = -1;
	count_connect_failure(c);
	start_connect(c);
}

/* Writes the PROXY header of c's route, if it asks for one, from c's client
 * and local addresses, SNI and ALPN list, and records the version for the
 * access log. On failure logs why (rate-limited), makes closing the backend
 * socket reset it, and returns the error; the caller ends c. Returns 0
 * otherwise. The header goes out before either dataplane owns the pair, so
 * it precedes the peeked ClientHello on the wire with sockmap and splice(2)
 * alike. A fresh connection's send buffer (tcp_wmem's default, 16 KiB here)
 * holds PROXY_HEADER_MAX bytes many times over, so a short write is not
 * waited out: it means something is wrong with this connection, which is
 * then ended. */
static int send_proxy_header(struct conn *c)
{
	const struct cfg_route *rt = &c->rt->cfg->routes[c->route];
	struct proxy_header_in in = {.src = &c->client_addr,
				     .dst = &c->local_addr,
				     .authority = c->sni,
				     .alpn = c->alpn,
				     .alpn_len = c->alpn_len,
				     .has_crc32c = rt->has_proxy_crc32c};
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	size_t sent, len;
	int err;

	if (rt->proxy_protocol == CFG_PROXY_OFF)
		return 0;
	c->proxy = cfg_proxy_protocol_str(rt->proxy_protocol);
	err = conn_proxy_write(c->backend_w.fd, rt->proxy_protocol, &in, &sent, &len);
	if (!err)
		return 0;
	if (agent_log_allowed(c->ag))
		log_warn("conn=%llu backend %s: PROXY %s header: %s (%zu of %zu bytes sent)",
			 (unsigned long long)c->id, c->backend_str, c->proxy, strerror(-err), sent,
			 len);
	/* A receiver could take a truncated header for a whole one: reset, not FIN. */
	setsockopt(c->backend_w.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	return err;
}

static void connected(struct conn *c)
{
	agent_shared_lock(c->ag);
	conn_health_connect_result(c, true);
	if (c->ag->stats)
		conn_stats_connected(c->ag->stats, c->rt->cfg->routes[c->route].name,
				     now_ns() - c->connect_start_ns);
	agent_shared_unlock(c->ag);
	loop_timer_cancel(c->ag->loop, &c->timer);
	if (send_proxy_header(c) != 0) {
		conn_close(c, AGENT_CNT_PROXY_HEADER_FAILED, "proxy_header_failed", false);
		return;
	}
	if (c->proxy)
		conn_count(c, AGENT_CNT_PROXY_HEADER_SENT);
	conn_start_data(c);
}

static void on_backend(struct loop_watch *w, uint32_t events)
{
	struct conn *c = container_of(w, struct conn, backend_w);
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (c->state != CONN_CONNECTING) {
		conn_data_event(c, 1, events);
		return;
	}
	/* Writable without an error or hangup is a completed connect: no
	 * SO_ERROR read on the common path. */
	if ((events & EPOLLOUT) && !(events & (EPOLLERR | EPOLLHUP))) {
		c->seen[1] |= events & ~EPOLLOUT;
		connected(c);
		return;
	}
	if (!(events & (EPOLLERR | EPOLLHUP))) {
		c->seen[1] |= events; /* bytes before the connect edge: kept for the copy */
		return;
	}
	if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	connect_failed(c, soerr ? soerr : ECONNREFUSED);
}

/* Timers fire after the loop's batch of events: when one iteration ran long
 * (a busy host, a resume forwarding a large queue in the agent's own recv()),
 * the connect may have completed with its EPOLLOUT still waiting for the next
 * epoll_wait(). Dropping it then would turn a live backend connection, already
 * accepted by the backend, into a connect failure. */
static bool backend_is_connected(struct conn *c)
{
	struct pollfd p = {.fd = c->backend_w.fd, .events = POLLOUT};
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT) || (p.revents & (POLLERR | POLLHUP)))
		return false;
	return getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0;
}

static void on_timer(struct loop_timer *t)
{
	struct conn *c = container_of(t, struct conn, timer);

	switch (c->state) {
	case CONN_HELLO:
		conn_close(c, AGENT_CNT_HELLO_TIMEOUT, "hello_timeout", false);
		return;
	case CONN_CONNECTING:
		if (backend_is_connected(c)) {
			connected(c);
			return;
		}
		connect_failed(c, ETIMEDOUT);
		return;
	default:
		conn_data_timer(c);
	}
}

/* Maglev's key: the client's address without its port (Istio useSourceIp),
 * so every connection of one client lands on the same endpoint. */
static uint64_t client_key(const struct conn *c)
{
	const struct sockaddr_storage *ss = &c->client_addr;

	if (ss->ss_family == AF_INET6)
		return maglev_hash(&((const struct sockaddr_in6 *)ss)->sin6_addr, 16, 0);
	return maglev_hash(&((const struct sockaddr_in *)ss)->sin_addr, 4, 0);
}

/* Moves this connection's count to the endpoint it now connects to. */
static void count_on_endpoint(struct conn *c)
{
	if (c->endpoint_active)
		(*c->endpoint_active)--;
	c->endpoint_active = endpoint_load_slot(c->ag->endpoint_load, c->backend_str);
	if (c->endpoint_active)
		(*c->endpoint_active)++;
}

static void start_connect(struct conn *c)
{
	struct agent *ag = c->ag;
	const struct cfg_route *rt = &c->rt->cfg->routes[c->route];
	const struct cfg_endpoint *ep;
	struct pool_choice choice;
	struct pool_hint hint = {.key = client_key(c),
				 .active = endpoint_load_active,
				 .usable = conn_endpoint_usable,
				 .arg = c};
	int one = 1, fd;

	bool is_picked;

	c->state = CONN_CONNECTING;
	agent_shared_lock(ag);
	c->in_panic = conn_route_in_panic(c);
	agent_shared_unlock(ag);
	for (;;) {
		c->n_full_skips = 0;
		/* The pool's state, the endpoints' health and counts are shared
		 * by the workers. */
		agent_shared_lock(ag);
		is_picked = c->n_tried <= rt->connect_retries &&
			    pool_pick(c->rt->pools[c->route], &hint, c->tried, c->n_tried, &choice);
		if (is_picked) {
			c->tried[c->n_tried++] = choice;
			ep = &rt->backends[choice.backend].endpoints[choice.endpoint];
			memcpy(&c->backend_addr, &ep->addr, ep->addr_len);
			c->backend_addr_len = ep->addr_len;
			addr_format(&c->backend_addr, c->backend_str, sizeof(c->backend_str));
			count_on_endpoint(c);
		}
		agent_shared_unlock(ag);
		if (!is_picked) {
			if (c->n_tried)
				conn_close(c, AGENT_CNT_CONNECT_FAILED, "connect_failed", false);
			else if (c->n_full_skips)
				conn_close(c, AGENT_CNT_REJECT_MAX_CONNECTIONS, "max_connections",
					   false);
			else
				conn_close(c, AGENT_CNT_NO_BACKEND, "no_backend", false);
			return;
		}
		fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			conn_close(c, AGENT_CNT_ABORTED, "socket_failed", false);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->backend_w.fd = fd;
		c->connect_start_ns = now_ns();
		if (connect(fd, (const struct sockaddr *)&ep->addr, ep->addr_len) == 0) {
			conn_set_watch(c, 1, CONN_EVENTS);
			connected(c);
			return;
		}
		if (errno == EINPROGRESS)
			break;
		if (agent_log_allowed(ag))
			log_warn("conn=%llu backend %s: %s", (unsigned long long)c->id,
				 c->backend_str, strerror(errno));
		count_connect_failure(c);
		close(fd);
		c->backend_w.fd = -1;
	}
	loop_timer_arm(ag->loop, &c->timer, rt->connect_timeout_ms);
	conn_set_watch(c, 1, CONN_EVENTS);
}

/* The verdict kept a byte of this pair on its source and forwards nothing
 * more from it. A destination that is gone explains it, and its own error
 * ends the pair; otherwise a reset is the honest end: the stream cannot go on
 * without a hole. */
static void on_broken(struct conn *c, uint64_t cookie)
{
	int src = cookie == c->pair.cookie[SOCKPAIR_CLIENT] ? SOCKPAIR_CLIENT : SOCKPAIR_BACKEND;

	if (!sockpair_leg_is_established(&c->pair, 1 - src))
		return;
	if (agent_log_allowed(c->ag))
		log_warn("conn=%llu the verdict could not forward from the %s: resetting the pair",
			 (unsigned long long)c->id, src == SOCKPAIR_CLIENT ? "client" : "backend");
	conn_close(c, AGENT_CNT_ABORTED, "redirect_failed", true);
}

void conn_on_bpf_event(struct agent *ag, const struct sg_event *e)
{
	uint64_t id = e->flow_id & 0xffffffffu; /* flow ids are base | conn id */
	struct conn *c = *index_slot(ag, id);

	while (c && (c->id & 0xffffffffu) != id)
		c = c->index_next;
	if (c && e->kind == SG_EVENT_EXPRESS_CLOSED &&
	    (ag->flow_id_base | (c->id & 0xffffffffu)) == e->flow_id) {
		conn_express_closed(c);
		return;
	}
	if (!c || c->state != CONN_SPLICED || c->pair.flow_id != e->flow_id)
		return;
	if (e->kind == SG_EVENT_BROKEN) {
		on_broken(c, e->cookie);
	} else {
		struct conn_pace_next next = conn_pace_event(c, e->cookie);

		if (next.abort)
			conn_close(c, AGENT_CNT_ABORTED, next.abort, true);
		else if (next.schedule)
			conn_schedule(c);
	}
}

void conn_abort_all(struct agent *ag)
{
	while (ag->conns)
		conn_close(ag->conns, AGENT_CNT_ABORTED, "shutdown", true);
}
