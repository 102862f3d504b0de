// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_lifetime.c: see conn_lifetime.h. Idleness is judged from the byte
 * counters the dataplane keeps anyway (the verdict's in sg_flows, the
 * relay's own), never per packet: a sockmap pair's bytes do not pass through
 * the agent at all. One timer walks every connection; a pair's counters are
 * read every eighth of its idle_timeout and once more when it would expire,
 * so with the default hour a busy pair costs one map lookup every 7.5
 * minutes, and a pair that went quiet ends between idle_timeout and
 * 1.125 x idle_timeout (plus two sweeps) after its last byte: a change is
 * only known to have happened since the previous look, and is dated at the
 * look that saw it. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "conn_internal.h"
#include "conn_lifetime.h"
#include "container_of.h"
#include "log.h"

#define SWEEP_MAX_MS 1000 /* the sweep's period, unless a route asks for finer */
#define SWEEP_MIN_MS 50

/* Bytes moved either way so far, or false when the counters cannot be read. */
static bool moved_bytes(struct conn *c, uint64_t *moved)
{
	if (c->state == CONN_SPLICED) {
		uint64_t b[SG_DIR_MAX];

		if (sockpair_flow_bytes(&c->pair, &c->ag->dp, b))
			return false;
		*moved = b[SG_DIR_TO_BACKEND] + b[SG_DIR_TO_CLIENT] +
			 c->pair.copied[SOCKPAIR_CLIENT] + c->pair.copied[SOCKPAIR_BACKEND];
		return true;
	}
	if (c->state == CONN_EXPRESS) {
		uint64_t b[2];

		if (!conn_express_bytes(c, b))
			return false;
		*moved = b[0] + b[1];
		return true;
	}
	if (c->state == CONN_COPYING)
		*moved = c->copy.dir[COPY_CLIENT].bytes_out + c->copy.dir[COPY_BACKEND].bytes_out;
	else
		*moved = c->relay.dir[RELAY_CLIENT].bytes + c->relay.dir[RELAY_BACKEND].bytes;
	return true;
}

static uint64_t min_positive(uint64_t a, uint64_t b)
{
	return b && b < a ? b : a;
}

/* An eighth of the smallest timeout in force, within SWEEP_MIN_MS and
 * SWEEP_MAX_MS. Routes of an older configuration that connections still
 * hold are judged at this rate too: coarser for a while after a reload that
 * shortened a timeout, never wrong. */
static uint64_t sweep_period(const struct agent *ag)
{
	const struct config *cfg = ag->rt->cfg;
	uint64_t p = SWEEP_MAX_MS;

	for (size_t i = 0; i < cfg->n_routes; i++) {
		p = min_positive(p, cfg->routes[i].idle_timeout_ms / 8);
		p = min_positive(p, cfg->routes[i].max_connection_duration_ms / 8);
	}
	return p < SWEEP_MIN_MS ? SWEEP_MIN_MS : p;
}

/* Ends c when it outlived its route's limits; true when it did. */
static bool judge(struct conn *c, uint64_t now)
{
	const struct cfg_route *rt = &c->rt->cfg->routes[c->route];
	uint64_t moved = 0;

	if (rt->max_connection_duration_ms && now - c->start_ms >= rt->max_connection_duration_ms) {
		/* Bytes may be in flight: a reset, so that neither peer takes
		 * the cut for the stream's end. */
		conn_close(c, AGENT_CNT_MAX_CONNECTION_DURATION, "max_connection_duration", true);
		return true;
	}
	if (!rt->idle_timeout_ms || (now - c->idle_checked_ms < rt->idle_timeout_ms / 8 &&
				     now - c->active_ms < rt->idle_timeout_ms))
		return false;
	c->idle_checked_ms = now;
	/* Unreadable counters (the flow entry evicted) say nothing: count
	 * them as activity rather than end a pair that may be busy. */
	if (!moved_bytes(c, &moved) || moved != c->idle_moved) {
		c->idle_moved = moved;
		c->active_ms = now;
		return false;
	}
	if (now - c->active_ms < rt->idle_timeout_ms)
		return false;
	/* Nothing is in flight either way: a FIN is a clean end, as Envoy's
	 * tcp_proxy closes an idle pair. */
	conn_close(c, AGENT_CNT_IDLE_TIMEOUT, "idle_timeout", false);
	return true;
}

static void on_sweep(struct loop_timer *t)
{
	struct agent *ag = container_of(t, struct agent, lifetime_timer);
	uint64_t now = loop_now_ms();
	struct conn *c, *next;

	for (c = ag->conns; c; c = next) {
		next = c->next; /* conn_close() unlinks c only */
		if (c->state == CONN_SPLICED || c->state == CONN_RELAYED ||
		    c->state == CONN_COPYING || c->state == CONN_EXPRESS)
			judge(c, now);
	}
	if (ag->express && ag->root == ag) {
		express_sweep_adopted(ag->express, now * 1000000ull, EXPRESS_LINGER_NS);
		express_sweep_lingering(ag->express, now * 1000000ull);
	}
	loop_timer_arm(ag->loop, &ag->lifetime_timer, sweep_period(ag));
}

int conn_lifetime_open(struct agent *ag)
{
	ag->lifetime_timer.on_expire = on_sweep;
	return loop_timer_arm(ag->loop, &ag->lifetime_timer, sweep_period(ag));
}

void conn_lifetime_close(struct agent *ag)
{
	if (ag->loop && ag->lifetime_timer.on_expire)
		loop_timer_cancel(ag->loop, &ag->lifetime_timer);
}

/* Failures are not fatal: the pair still ends by idle_timeout. */
static void set_probes(int fd, const struct cfg_route *rt)
{
	int on = 1, idle = (int)rt->keepalive_time_s, intvl = (int)rt->keepalive_interval_s,
	    cnt = (int)rt->keepalive_probes;
	unsigned int user = rt->user_timeout_ms;

	if (rt->keepalive_time_s) {
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	if (user)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user, sizeof(user));
}

void conn_lifetime_start(struct conn *c)
{
	c->active_ms = c->idle_checked_ms = loop_now_ms();
	c->idle_moved = 0;
}

void conn_lifetime_keepalive(struct conn *c)
{
	const struct cfg_route *rt = &c->rt->cfg->routes[c->route];

	if (c->has_keepalive)
		return;
	c->has_keepalive = true;
	set_probes(c->client_w.fd, rt);
	set_probes(c->backend_w.fd, rt);
}
