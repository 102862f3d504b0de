// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_data.c: a connected pair from handover until its end (conn_close()
 * then ends it with conn_data_end()). By default a pair starts in the
 * user-space copy (copy_relay.c) and is promoted to sockmap, or to the
 * splice(2) relay, once it proved long-lived or bulky (docs/ARCHITECTURE.md,
 * section "Promotion"). Sockmap pairs are
 * watched for end of stream only (EPOLLRDHUP: data wakeups would cost the
 * agent CPU per byte, docs/SOCKMAP.md, section "Detecting that a direction has drained");
 * a FIN is forwarded only once every
 * byte before it has left (drain, then shutdown), a reset is propagated as a
 * reset. Relayed pairs move their bytes with splice(2). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "conn_internal.h"
#include "container_of.h"
#include "conn_lifetime.h"
#include "conn_pace.h"
#include "log.h"

#define DRAIN_POLL_MS	 5
#define PAUSE_POLL_MS	 1
#define SPLICE_RCVBUF	 (2 << 20) /* doubled by the kernel; also bounds a resume's burst */
#define SPLICE_SNDBUF	 (4 << 20) /* docs/SOCKMAP.md, section "Send-buffer re-poll stall" */
#define RELAY_PIPE_BYTES (1 << 20)

/* Bytes of a pair that went through the agent's own buffers: the copy's,
 * before or without a promotion, and a sockmap flow's pause tails and
 * half-close rests. What redirect_bytes does not count of a sockmap flow. */
uint64_t conn_copied_bytes(const struct conn *c)
{
	uint64_t n = c->pre_bytes[0] + c->pre_bytes[1];

	if (c->state == CONN_COPYING)
		n = c->copy.dir[COPY_CLIENT].bytes_out + c->copy.dir[COPY_BACKEND].bytes_out;
	if (c->state == CONN_SPLICED)
		n += c->pair.copied[SOCKPAIR_CLIENT] + c->pair.copied[SOCKPAIR_BACKEND];
	return n;
}

/* The flow entry's counters start at what the copy moved before a
 * promotion (sockpair_splice()); the relay's start at 0. */
static void collect_bytes(struct conn *c)
{
	if (c->state == CONN_SPLICED) {
		uint64_t b[SG_DIR_MAX];

		c->bytes[0] = c->pre_bytes[0];
		c->bytes[1] = c->pre_bytes[1];
		if (sockpair_flow_bytes(&c->pair, &c->ag->dp, b) == 0) {
			c->bytes[0] = b[SG_DIR_TO_BACKEND];
			c->bytes[1] = b[SG_DIR_TO_CLIENT];
		}
		c->bytes[0] += c->pair.copied[SOCKPAIR_CLIENT];
		c->bytes[1] += c->pair.copied[SOCKPAIR_BACKEND];
	} else if (c->state == CONN_RELAYED) {
		c->bytes[0] = c->pre_bytes[0] + c->relay.dir[RELAY_CLIENT].bytes;
		c->bytes[1] = c->pre_bytes[1] + c->relay.dir[RELAY_BACKEND].bytes;
	} else if (c->state == CONN_COPYING) {
		c->bytes[0] = c->copy.dir[COPY_CLIENT].bytes_out;
		c->bytes[1] = c->copy.dir[COPY_BACKEND].bytes_out;
	}
}

bool conn_in_dataplane(const struct conn *c)
{
	return c->state == CONN_COPYING || c->state == CONN_SPLICED || c->state == CONN_RELAYED ||
	       c->state == CONN_EXPRESS_WAIT || c->state == CONN_EXPRESS;
}

void conn_data_end(struct conn *c, const char *reason)
{
	if (c->state == CONN_EXPRESS_WAIT || c->state == CONN_EXPRESS) {
		conn_express_end(c, reason);
		return;
	}
	if (c->state == CONN_SPLICED && log_get_level() >= LOG_LEVEL_DEBUG) {
		uint64_t b0 = 0, b1 = 0, r;

		sockpair_backlog(&c->pair, &c->ag->dp, SOCKPAIR_CLIENT, &b0, &r);
		sockpair_backlog(&c->pair, &c->ag->dp, SOCKPAIR_BACKEND, &b1, &r);
		log_debug("conn=%llu finish backlog_up=%llu backlog_down=%llu copying=%d/%d "
			  "paused=%d/%d copied=%llu/%llu",
			  (unsigned long long)c->id, (unsigned long long)b0, (unsigned long long)b1,
			  c->copying[0], c->copying[1], c->paused[0], c->paused[1],
			  (unsigned long long)c->pair.copied[0],
			  (unsigned long long)c->pair.copied[1]);
	}
	collect_bytes(c);
	if (c->state == CONN_SPLICED) {
		sockpair_unsplice(&c->pair, &c->ag->dp);
		sockpair_flow_finalise(&c->pair, &c->ag->dp, c->bytes, reason);
	}
	if (c->state == CONN_RELAYED)
		relay_fini(&c->relay);
	if (c->state == CONN_COPYING)
		copy_relay_fini(&c->copy);
}

static void update_relay_watches(struct conn *c)
{
	conn_set_watch(c, 0, relay_interest(&c->relay, RELAY_CLIENT));
	conn_set_watch(c, 1, relay_interest(&c->relay, RELAY_BACKEND));
}

static void step_relay(struct conn *c)
{
	switch (relay_step(&c->relay)) {
	case RELAY_RUNNING:
		update_relay_watches(c);
		return;
	case RELAY_DONE:
		conn_close(c, AGENT_CNT_CLOSED, "eof", false);
		return;
	case RELAY_ERROR:
		conn_close(c, AGENT_CNT_ABORTED, c->relay.err == -ECONNRESET ? "reset" : "error",
			   true);
		return;
	}
}

/* Receive buffers capped on both legs, whatever the dataplane: autotuning
 * lets each grow to tcp_rmem[2] (32 MiB here), and a gateway with many busy
 * pairs then drives the host into TCP memory pressure, where windows clamp
 * and a connection was seen to stall for good. */
static void cap_buffers(struct conn *c)
{
	int rcvbuf = SPLICE_RCVBUF;

	setsockopt(c->client_w.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(c->backend_w.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
}

static void start_relay(struct conn *c)
{
	int err;

	cap_buffers(c);
	err = relay_init(&c->relay, c->client_w.fd, c->backend_w.fd, RELAY_PIPE_BYTES);

	if (err) {
		conn_close(c, AGENT_CNT_ABORTED, "relay_failed", true);
		return;
	}
	if (c->state == CONN_COPYING) {
		copy_relay_fini(&c->copy);
		conn_count(c, AGENT_CNT_PROMOTED);
		c->promoted_ms = loop_now_ms();
	}
	c->state = CONN_RELAYED;
	conn_count(c, AGENT_CNT_RELAYED);
	step_relay(c);
}

/* Stores ss as an IPv6 (v4-mapped for IPv4) address and host-order port. */
static void flow_addr(const struct sockaddr_storage *ss, __u8 addr[16], __u16 *port)
{
	addr_to16(ss, addr, port);
	*port = ntohs(*port);
}

void conn_flow_entry(const struct conn *c, struct sg_flow *flow)
{
	memset(flow, 0, sizeof(*flow));
	flow->route_id = (uint32_t)c->route;
	flow_addr(&c->client_addr, flow->client_addr, &flow->client_port);
	flow_addr(&c->backend_addr, flow->backend_addr, &flow->backend_port);
	_Static_assert(sizeof(c->sni) <= sizeof(flow->sni), "every SNI fits the flow entry");
	sockpair_flow_names(flow, c->sni, c->rt->cfg->routes[c->route].name);
	/* loop_now_ms() is CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(). */
	flow->start_ns = c->start_ms * 1000000u;
}

static int splice_pair(struct conn *c, const uint64_t consumed[SOCKPAIR_LEGS])
{
	struct agent *ag = c->ag;
	struct sg_flow flow;
	int sndbuf = SPLICE_SNDBUF, err;

	for (int leg = 0; leg < 2; leg++) {
		int fd = leg ? c->backend_w.fd : c->client_w.fd;

		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) == -1)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	cap_buffers(c);
	conn_flow_entry(c, &flow);
	err = sockpair_splice(&c->pair, &ag->dp, c->client_w.fd, c->backend_w.fd,
			      ag->flow_id_base | (c->id & 0xffffffffu), &flow, consumed);
	if (err == -EOPNOTSUPP)
		return 1; /* a leg is no longer ESTABLISHED (hello then FIN) */
	if (err) {
		if (agent_log_allowed(ag))
			log_warn("conn=%llu splice: %s", (unsigned long long)c->id, strerror(-err));
		conn_close(c, AGENT_CNT_ABORTED, "splice_failed", true);
		return -1;
	}
	if (sockpair_is_stuck(&c->pair, &ag->dp)) {
		sockpair_unsplice(&c->pair, &ag->dp);
		sockpair_flow_discard(&c->pair, &ag->dp);
		return 1;
	}
	if (c->state == CONN_COPYING) {
		copy_relay_fini(&c->copy);
		conn_count(c, AGENT_CNT_PROMOTED);
		c->promoted_ms = loop_now_ms();
	}
	c->state = CONN_SPLICED;
	conn_count(c, AGENT_CNT_SPLICED);
	conn_set_watch(c, 0, EPOLLRDHUP);
	conn_set_watch(c, 1, EPOLLRDHUP);
	conn_pace_start(c);
	return 0;
}

static void start_splice(struct conn *c)
{
	if (splice_pair(c, NULL) == 1)
		start_relay(c);
}

/* ---- the copy, and its promotion ---- */

static void close_copy_failed(struct conn *c)
{
	bool reset = c->copy.err == -ECONNRESET || c->copy.err == -EPIPE;
	bool client = c->copy.err_leg == COPY_CLIENT;

	conn_close(c, AGENT_CNT_ABORTED,
		   client ? (reset ? "client_reset" : "client_error")
			  : (reset ? "backend_reset" : "backend_error"),
		   true);
}

/* Ends c when status says its copy ended; true when it did. */
static bool copy_ended(struct conn *c, enum copy_status status)
{
	if (status == COPY_DONE)
		conn_close(c, AGENT_CNT_CLOSED, "eof", false);
	else if (status == COPY_ERROR)
		close_copy_failed(c);
	return status != COPY_RUNNING;
}

/* Hands c to the kernel at a point where both receive queues were found
 * empty (copy_relay_settle()): every byte read so far has been sent on, so
 * the sockmap insert finds only whole skbs, and splice(2) starts at the
 * stream's next byte. Otherwise c stays in the copy and the next step tries
 * again. A leg whose stream ended is never promoted: the copy forwards its
 * FIN. */
static void promote(struct conn *c)
{
	enum copy_status status;
	uint64_t consumed[SOCKPAIR_LEGS];

	if (!copy_relay_settle(&c->copy, c->ag->copy_buf, AGENT_COPY_BUF, &status)) {
		if (!copy_ended(c, status) &&
		    (c->copy.dir[COPY_CLIENT].is_eof || c->copy.dir[COPY_BACKEND].is_eof))
			c->is_promotable = false;
		return;
	}
	for (int leg = 0; leg < SOCKPAIR_LEGS; leg++) {
		consumed[leg] = c->copy.dir[leg].bytes_in;
		c->pre_bytes[leg] = c->copy.dir[leg].bytes_out;
	}
	conn_lifetime_keepalive(c);
	if (!c->ag->use_sockmap) {
		start_relay(c);
		return;
	}
	if (splice_pair(c, consumed) != 1)
		return;
	/* Not spliced and nothing forwarded: the copy goes on, for good, and
	 * reads whatever queued meanwhile. */
	c->is_promotable = false;
	copy_relay_note(&c->copy, COPY_CLIENT, EPOLLIN);
	copy_relay_note(&c->copy, COPY_BACKEND, EPOLLIN);
}

static bool past_promote_bytes(const struct conn *c)
{
	uint64_t mark = c->ag->args->promote_bytes;

	return mark && (c->copy.dir[COPY_CLIENT].bytes_out >= mark ||
			c->copy.dir[COPY_BACKEND].bytes_out >= mark);
}

/* Once a pair is due for promotion it no longer reads ahead: each step
 * only works toward the settle point, and the senders wait on TCP's flow
 * control meanwhile, so a fast flow is caught within a step or two. */
static void step_copy(struct conn *c)
{
	if (!(c->is_promotable && c->wants_promotion)) {
		if (copy_ended(c, copy_relay_step(&c->copy, c->ag->copy_buf, AGENT_COPY_BUF)))
			return;
		c->wants_promotion = c->is_promotable && past_promote_bytes(c);
	}
	if (c->is_promotable && c->wants_promotion) {
		/* Express needs no settle point: once its flow is pending no byte
		 * can enter a queue, and the copy then reads them dry. Not while
		 * held for a takeover: the next agent promotes to express then. */
		if (c->ag->express && !c->is_express_tried && !agent_is_held(c->ag) &&
		    conn_express_begin(c))
			return;
		promote(c);
		if (c->state != CONN_COPYING)
			return;
	}
	if (copy_relay_has_more(&c->copy))
		loop_defer(c->ag->loop, &c->again);
}

static void on_again(struct loop_deferred *d)
{
	struct conn *c = container_of(d, struct conn, again);

	if (c->state == CONN_COPYING)
		step_copy(c);
}

/* The copy's one timer: at --promote-after a pair is due for promotion, and
 * its keepalive starts (a pair that ends sooner never needed it, and skips
 * its setsockopt() calls). */
static void copy_timer(struct conn *c)
{
	conn_lifetime_keepalive(c);
	if (c->is_promotable && c->ag->args->promote_after_ms)
		c->wants_promotion = true;
	step_copy(c);
}

static void start_copy(struct conn *c)
{
	const struct args *a = c->ag->args;

	copy_relay_init(&c->copy, c->client_w.fd, c->backend_w.fd);
	/* The hello is queued on the client; edges already reported on either
	 * leg are not reported again. */
	copy_relay_note(&c->copy, COPY_CLIENT, c->seen[0] | EPOLLIN);
	copy_relay_note(&c->copy, COPY_BACKEND, c->seen[1]);
	c->again.run = on_again;
	c->state = CONN_COPYING;
	c->is_promotable = c->ag->promotes;
	conn_count(c, AGENT_CNT_COPIED);
	loop_timer_arm(c->ag->loop, &c->timer,
		       c->is_promotable && a->promote_after_ms ? a->promote_after_ms
							       : ARGS_DEFAULT_PROMOTE_MS);
	step_copy(c);
}

void conn_start_data(struct conn *c)
{
	conn_lifetime_start(c);
	if (c->ag->starts_in_copy) {
		start_copy(c);
		return;
	}
	conn_lifetime_keepalive(c);
	if (c->ag->use_sockmap)
		start_splice(c);
	else
		start_relay(c);
}

static int other(int leg)
{
	return 1 - leg;
}

/* Forwards each finished direction's FIN once drained. Returns true while a
 * direction waits for its bytes to leave. A paused direction's FIN is
 * forwarded by its tail copy instead (conn_pace.c). */
static bool forward_fins(struct conn *c)
{
	bool waiting = false;

	for (int leg = 0; leg < 2; leg++) {
		int dst = other(leg);

		if (!c->eof[leg] || c->shut[dst] || c->paused[leg])
			continue;
		if (!sockpair_is_drained(&c->pair, leg)) {
			waiting = true;
			continue;
		}
		conn_pace_before_shutdown(c, dst);
		shutdown(dst ? c->backend_w.fd : c->client_w.fd, SHUT_WR);
		c->shut[dst] = true;
		waiting = waiting || c->copying[dst];
	}
	return waiting;
}

/* What the CLI shows of each direction (SG_FLOW_F_*). */
static uint8_t flow_flags(const struct conn *c)
{
	uint8_t f = 0;

	if (c->copying[SOCKPAIR_CLIENT])
		f |= SG_FLOW_F_COPYING_UP;
	else if (c->paused[SOCKPAIR_CLIENT])
		f |= SG_FLOW_F_PAUSED_UP;
	if (c->copying[SOCKPAIR_BACKEND])
		f |= SG_FLOW_F_COPYING_DOWN;
	else if (c->paused[SOCKPAIR_BACKEND])
		f |= SG_FLOW_F_PAUSED_DOWN;
	if (c->shut[SOCKPAIR_BACKEND])
		f |= SG_FLOW_F_HALF_CLOSED_UP;
	if (c->shut[SOCKPAIR_CLIENT])
		f |= SG_FLOW_F_HALF_CLOSED_DOWN;
	return f;
}

/* Runs the pair's periodic work and re-arms the timer while there is some:
 * 1 ms while a direction is paused, 5 ms while one drains. */
void conn_schedule(struct conn *c)
{
	struct conn_pace_next next = conn_pace_tick(c);
	bool draining;

	if (next.abort) {
		conn_close(c, AGENT_CNT_ABORTED, next.abort, true);
		return;
	}
	if (c->state != CONN_SPLICED)
		return; /* only a sockmap pair has this work */
	draining = forward_fins(c);
	if (c->shut[0] && c->shut[1]) {
		conn_close(c, AGENT_CNT_CLOSED, "eof", false);
		return;
	}
	/* Every pause, resume and half-close passes here. */
	sockpair_flow_set_flags(&c->pair, &c->ag->dp, flow_flags(c));
	loop_timer_cancel(c->ag->loop, &c->timer);
	if (next.paused || draining)
		loop_timer_arm(c->ag->loop, &c->timer, next.paused ? PAUSE_POLL_MS : DRAIN_POLL_MS);
}

static int socket_error(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return errno;
	return soerr;
}

static void spliced_event(struct conn *c, int leg, uint32_t events)
{
	int fd = leg ? c->backend_w.fd : c->client_w.fd;

	if (events & EPOLLERR) {
		int err = socket_error(fd);

		conn_close(c, AGENT_CNT_ABORTED,
			   err == ECONNRESET ? (leg ? "backend_reset" : "client_reset")
					     : (leg ? "backend_error" : "client_error"),
			   true);
		return;
	}
	if ((events & (EPOLLRDHUP | EPOLLHUP)) && !c->eof[leg]) {
		c->eof[leg] = true;
		/* Stop the level-triggered RDHUP; errors are still reported. */
		conn_set_watch(c, leg, 0);
	}
	conn_schedule(c);
}

void conn_data_event(struct conn *c, int leg, uint32_t events)
{
	if (c->state == CONN_COPYING) {
		copy_relay_note(&c->copy, leg, events);
		step_copy(c);
	} else if (c->state == CONN_SPLICED)
		spliced_event(c, leg, events);
	else if (c->state == CONN_RELAYED)
		step_relay(c);
	else if (c->state == CONN_EXPRESS_WAIT)
		copy_relay_note(&c->copy, leg, events); /* read if the hand-over is undone */
}

void conn_data_timer(struct conn *c)
{
	if (c->state == CONN_SPLICED)
		conn_schedule(c);
	else if (c->state == CONN_COPYING)
		copy_timer(c);
	else if (c->state == CONN_EXPRESS_WAIT || c->state == CONN_EXPRESS)
		conn_express_timer(c);
}
