// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_express.c: a pair's life in the express dataplane (docs/EXPRESS.md).
 * When the pair is due for promotion its flow is installed pending, so no
 * new byte enters a receive queue; the copy reads the queues dry; once
 * every byte the gateway sent is acknowledged, the legs' sequence numbers
 * are read and the flow goes active. From then on the pair ends when the
 * program reports both FINs acknowledged or a reset (an event, or the
 * once-a-second look), or at the idle and duration limits
 * (conn_lifetime.c); its flow then lingers in express.c. */
#include <errno.h>
#include <sys/epoll.h>

#include "conn_internal.h"
#include "log.h"

#include <bpf/bpf.h>

#define WAIT_STEP_MS 1
#define WAIT_ROUNDS  200  /* quiet within 200 ms, or the fallback */
#define LOOK_MS	     1000 /* an active flow's look at its slot */

bool conn_express_begin(struct conn *c)
{
	struct agent *ag = c->ag;
	enum express_refusal why;

	c->is_express_tried = true;
	if (express_begin(ag->express, &c->xp, c->client_w.fd, c->backend_w.fd,
			  ag->flow_id_base | (c->id & 0xffffffffu), &why)) {
		log_debug("conn=%llu express: %s", (unsigned long long)c->id,
			  express_refusal_name(why));
		return false;
	}
	c->state = CONN_EXPRESS_WAIT;
	c->n_express_waits = 0;
	loop_timer_cancel(ag->loop, &c->timer);
	loop_timer_arm(ag->loop, &c->timer, WAIT_STEP_MS);
	return true;
}

/* Back to the copy, which reads whatever arrived and promotes the pair to
 * the fallback at its next settle point. */
static void back_to_copy(struct conn *c)
{
	express_abort(c->ag->express, &c->xp);
	c->state = CONN_COPYING;
	copy_relay_note(&c->copy, COPY_CLIENT, EPOLLIN);
	copy_relay_note(&c->copy, COPY_BACKEND, EPOLLIN);
	loop_defer(c->ag->loop, &c->again);
}

/* The pinned flow table shows express pairs too (sockgate flows, top):
 * written whole by the agent, which alone writes an express flow's entry;
 * its byte counts follow the program's at each look. */
static void write_flow_entry(struct conn *c, const uint64_t bytes[2])
{
	struct sg_flow flow;
	uint64_t id = c->ag->flow_id_base | (c->id & 0xffffffffu);

	if (!c->ag->use_sockmap)
		return;
	conn_flow_entry(c, &flow);
	flow.bytes[SG_DIR_TO_BACKEND] = bytes[0];
	flow.bytes[SG_DIR_TO_CLIENT] = bytes[1];
	bpf_map_update_elem(c->ag->dp.flows_fd, &id, &flow, BPF_ANY);
}

static void activate(struct conn *c)
{
	for (int leg = 0; leg < 2; leg++)
		c->pre_bytes[leg] = c->copy.dir[leg].bytes_out;
	copy_relay_fini(&c->copy);
	c->state = CONN_EXPRESS;
	conn_count(c, AGENT_CNT_PROMOTED);
	conn_count(c, AGENT_CNT_EXPRESS);
	c->promoted_ms = loop_now_ms();
	write_flow_entry(c, c->pre_bytes);
	loop_timer_arm(c->ag->loop, &c->timer, LOOK_MS);
}

/* The copy goes on while the flow is pending: it forwards what reached a
 * receive queue before the flow was installed (nothing more can), until it
 * holds nothing and has read every queue dry. Only then are the sockets'
 * numbers the streams' positions: a byte still held here would be missing
 * from the stream the program continues. */
static void wait_step(struct conn *c)
{
	enum express_refusal why;
	enum copy_status status = copy_relay_step(&c->copy, c->ag->copy_buf, AGENT_COPY_BUF);
	int err = -EAGAIN;

	if (status != COPY_RUNNING) {
		back_to_copy(c); /* which ends the pair */
		return;
	}
	/* copy_relay_is_idle(): nothing held, no queue left to read. Bytes the
	 * copy read but its destination did not take yet are in neither
	 * socket: a hand-over now would start the translation past them (the
	 * source's rcv_nxt) and activate() would free them. */
	if (copy_relay_is_idle(&c->copy))
		err = express_finish(c->ag->express, &c->xp, &why);
	if (!err) {
		activate(c);
		return;
	}
	if (err == -EAGAIN && ++c->n_express_waits < WAIT_ROUNDS) {
		loop_timer_arm(c->ag->loop, &c->timer, WAIT_STEP_MS);
		return;
	}
	log_debug("conn=%llu express: %s", (unsigned long long)c->id,
		  err == -EAGAIN ? "never quiet" : express_refusal_name(why));
	back_to_copy(c);
}

/* "eof", or which side reset. Both FINs acknowledged is a clean end even if
 * a reset followed: every byte either way was acknowledged by then, and a
 * peer that has closed answers a late packet with a reset (seen: the
 * client's last ACK and its FIN reordered between CPUs on the way, the
 * backend in TIME_WAIT acknowledging the stale ACK again, the closed client
 * resetting that). */
static const char *end_of(const struct sg_xflow *f)
{
	if ((f->dir[SG_DIR_TO_BACKEND].flags & SG_XDIR_F_FIN_ACKED) &&
	    (f->dir[SG_DIR_TO_CLIENT].flags & SG_XDIR_F_FIN_ACKED))
		return "eof";
	if (f->dir[SG_DIR_TO_BACKEND].flags & SG_XDIR_F_RST)
		return "client_reset";
	if (f->dir[SG_DIR_TO_CLIENT].flags & SG_XDIR_F_RST)
		return "backend_reset";
	return "eof";
}

/* The pair ends now, for the access log, the counters and its route's
 * and endpoint's limits; its flow lingers (conn_express_end()). */
static void close_ended(struct conn *c, const struct sg_xflow *f)
{
	const char *end = end_of(f);

	conn_close(c, end[0] == 'e' ? AGENT_CNT_CLOSED : AGENT_CNT_ABORTED, end, false);
}

static void look(struct conn *c)
{
	struct sg_xflow f;

	if (express_read(c->ag->express, &c->xp, &f)) {
		loop_timer_arm(c->ag->loop, &c->timer, LOOK_MS);
		return;
	}
	/* Freed, or reused, by the agent that took this one's place (a
	 * takeover): the flow ended unseen. */
	if (f.state == SG_X_FREE || f.flow_id != c->xp.flow.flow_id) {
		conn_close(c, AGENT_CNT_CLOSED, "eof", false);
		return;
	}
	write_flow_entry(c, (uint64_t[2]){c->pre_bytes[0] + f.dir[SG_DIR_TO_BACKEND].bytes,
					  c->pre_bytes[1] + f.dir[SG_DIR_TO_CLIENT].bytes});
	if (f.state == SG_X_CLOSED) {
		close_ended(c, &f);
		return;
	}
	loop_timer_arm(c->ag->loop, &c->timer, LOOK_MS);
}

void conn_express_closed(struct conn *c)
{
	struct sg_xflow f;

	if (c->state == CONN_EXPRESS && express_read(c->ag->express, &c->xp, &f) == 0 &&
	    f.state == SG_X_CLOSED)
		close_ended(c, &f);
}

void conn_express_timer(struct conn *c)
{
	if (c->state == CONN_EXPRESS_WAIT)
		wait_step(c);
	else if (c->state == CONN_EXPRESS)
		look(c);
}

bool conn_express_bytes(const struct conn *c, uint64_t b[2])
{
	struct sg_xflow f;

	if (c->state != CONN_EXPRESS || express_read(c->ag->express, &c->xp, &f))
		return false;
	b[0] = c->pre_bytes[0] + f.dir[SG_DIR_TO_BACKEND].bytes;
	b[1] = c->pre_bytes[1] + f.dir[SG_DIR_TO_CLIENT].bytes;
	return true;
}

/* An ended flow stays translated EXPRESS_LINGER_NS for late
 * retransmissions, its sockets holding the tuples meanwhile: express.c
 * takes both over, and the pair itself ends now. false: not ended, or not
 * taken (then released at once). */
static bool linger(struct conn *c)
{
	struct sg_xflow f;
	int fd[2] = {c->client_w.fd, c->backend_w.fd};

	if (express_read(c->ag->express, &c->xp, &f) || f.state != SG_X_CLOSED)
		return false;
	/* The express module closes them later: no event may reach c. */
	loop_del(c->ag->loop, &c->client_w);
	loop_del(c->ag->loop, &c->backend_w);
	if (express_linger(c->ag->express, &c->xp, fd, f.closed_ns + EXPRESS_LINGER_NS)) {
		express_release(c->ag->express, &c->xp);
		return true;
	}
	c->client_w.fd = c->backend_w.fd = -1;
	return true;
}

void conn_express_end(struct conn *c, const char *reason)
{
	if (c->state == CONN_EXPRESS_WAIT) {
		express_abort(c->ag->express, &c->xp);
		c->bytes[0] = c->copy.dir[COPY_CLIENT].bytes_out;
		c->bytes[1] = c->copy.dir[COPY_BACKEND].bytes_out;
		copy_relay_fini(&c->copy);
		return;
	}
	c->bytes[0] = c->pre_bytes[0];
	c->bytes[1] = c->pre_bytes[1];
	conn_express_bytes(c, c->bytes);
	if (c->ag->use_sockmap)
		sg_flow_finalise(&c->ag->dp, c->ag->flow_id_base | (c->id & 0xffffffffu), c->bytes,
				 reason);
	/* A stopping agent leaves a live flow to the kernel and the next
	 * agent; the sockets, in repair mode, close without a packet either
	 * way. */
	if (c->ag->is_stopping)
		express_hand_off(c->ag->express, &c->xp);
	else if (!linger(c))
		express_end(c->ag->express, &c->xp);
}

void conn_express_hand_off(struct agent *ag)
{
	struct conn *c, *next;

	for (c = ag->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_EXPRESS)
			conn_close(c, AGENT_CNT_CLOSED, "handed_off", false);
	}
}

void conn_express_unpend(struct agent *ag)
{
	for (struct conn *c = ag->conns; c; c = c->next) {
		if (c->state == CONN_EXPRESS_WAIT) {
			loop_timer_cancel(ag->loop, &c->timer); /* the wait's next step */
			back_to_copy(c);
		}
	}
}
