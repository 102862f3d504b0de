// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* client_conn.c: one load-generator connection. The outgoing stream is the
 * thread's ClientHello, then hdr[] (preamble and message headers), then the
 * payload of the last DATA header: new messages are appended only when no
 * payload is owed, so the three parts always go out in this order. Incoming
 * bytes are first the pattern owed for GETs, then the 16-byte result, then
 * end of stream; anything else fails the run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client_internal.h"
#include "util.h"

#define WRITES_MAX 16
#define READS_MAX  8
#define SPANS_MAX  4

static bool hdr_room(const struct cli_conn *c, size_t n)
{
	return c->payload_left == 0 && c->hdr_len + n <= sizeof(c->hdr);
}

static void queue_msg(struct cli_conn *c, enum proto_msg type, uint32_t len)
{
	proto_msg(c->hdr + c->hdr_len, type, len);
	c->hdr_len += PROTO_MSG_LEN;
	if (type == PROTO_MSG_DATA) {
		c->payload_left = len;
		c->up_total += len;
	} else if (type == PROTO_MSG_GET) {
		c->down_left += len;
	} else {
		c->end_queued = true;
	}
}

/* A request/response exchange: DATA req + GET resp. */
static void queue_exchange(struct cli_conn *c, const struct client_opts *o)
{
	queue_msg(c, PROTO_MSG_GET, o->resp_bytes);
	queue_msg(c, PROTO_MSG_DATA, o->req_bytes);
	c->in_trans = true;
}

static void plan_bulk(struct cli_thread *t, struct cli_conn *c)
{
	const struct client_opts *o = t->cl->o;

	if (client_stopping(t)) {
		if (hdr_room(c, PROTO_MSG_LEN))
			queue_msg(c, PROTO_MSG_END, 0);
		return;
	}
	while ((o->dir & CLIENT_DIR_DOWN) && c->down_left + o->chunk_bytes <= o->window_bytes &&
	       hdr_room(c, 2 * PROTO_MSG_LEN))
		queue_msg(c, PROTO_MSG_GET, o->chunk_bytes);
	if ((o->dir & CLIENT_DIR_UP) && hdr_room(c, PROTO_MSG_LEN))
		queue_msg(c, PROTO_MSG_DATA, o->chunk_bytes);
}

/* What the mode wants next; only ever appends. */
static void plan(struct cli_thread *t, struct cli_conn *c)
{
	const struct client_opts *o = t->cl->o;

	if (c->state != CONN_OPEN || c->end_queued)
		return;
	switch (o->mode) {
	case CLIENT_MODE_BULK:
		plan_bulk(t, c);
		break;
	case CLIENT_MODE_RR:
		if (c->in_trans || !hdr_room(c, 2 * PROTO_MSG_LEN))
			break;
		if (client_stopping(t)) {
			queue_msg(c, PROTO_MSG_END, 0);
			break;
		}
		c->t0_ns = bench_now_ns();
		queue_exchange(c, o);
		break;
	case CLIENT_MODE_CRR:
		/* END follows the request's payload; the exchange was queued at connect */
		if (hdr_room(c, PROTO_MSG_LEN))
			queue_msg(c, PROTO_MSG_END, 0);
		break;
	case CLIENT_MODE_IDLE:
		if (!c->in_trans && client_stopping(t) && hdr_room(c, PROTO_MSG_LEN))
			queue_msg(c, PROTO_MSG_END, 0);
		break;
	}
}

static void set_out(struct cli_thread *t, struct cli_conn *c, bool on)
{
	bench_watch_out(t->epfd, c->fd, c, &c->want_out, on);
}

static void conn_close(struct cli_thread *t, struct cli_conn *c)
{
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = CONN_FREE;
	t->n_open--;
}

/* Spreads n written bytes over hello, headers and payload. */
static void account_sent(struct cli_thread *t, struct cli_conn *c, size_t n)
{
	size_t k = t->hello_len - c->pre_off;

	k = k < n ? k : n;
	c->pre_off += (uint16_t)k;
	n -= k;
	k = (size_t)(c->hdr_len - c->hdr_off);
	k = k < n ? k : n;
	c->hdr_off += (uint8_t)k;
	n -= k;
	if (c->hdr_off == c->hdr_len)
		c->hdr_off = c->hdr_len = 0;
	pattern_advance(&c->up, n);
	c->payload_left -= n;
	t->bytes_up += n;
}

static int build_iov(const struct cli_thread *t, const struct cli_conn *c, struct iovec *iov)
{
	struct pattern_stream s = c->up;
	uint64_t left = c->payload_left;
	int n = 0;

	if (c->pre_off < t->hello_len)
		iov[n++] =
			(struct iovec){(void *)(t->hello + c->pre_off), t->hello_len - c->pre_off};
	if (c->hdr_off < c->hdr_len)
		iov[n++] = (struct iovec){(void *)(c->hdr + c->hdr_off),
					  (size_t)(c->hdr_len - c->hdr_off)};
	for (int i = 0; i < SPANS_MAX && left > 0; i++) {
		size_t len;
		const uint8_t *p = pattern_span(t->cl->pat, &s, left, &len);

		iov[n++] = (struct iovec){(void *)p, len};
		pattern_advance(&s, len);
		left -= len;
	}
	return n;
}

void conn_pump(struct cli_thread *t, struct cli_conn *c)
{
	for (int i = 0; i < WRITES_MAX && c->state == CONN_OPEN; i++) {
		struct iovec iov[2 + SPANS_MAX];
		int n_iov;
		ssize_t sent;

		plan(t, c);
		n_iov = build_iov(t, c, iov);
		if (n_iov == 0) {
			set_out(t, c, false);
			return;
		}
		sent = writev(c->fd, iov, n_iov);
		if (sent == -1 && (errno == EAGAIN || errno == EINTR)) {
			set_out(t, c, true);
			return;
		}
		if (sent == -1) {
			client_fail(t, c - t->conns, "send: %s", strerror(errno));
			return;
		}
		account_sent(t, c, (size_t)sent);
	}
	set_out(t, c, true); /* more to write: come back after the others had a turn */
}

static void trans_done(struct cli_thread *t, struct cli_conn *c)
{
	c->in_trans = false;
	latency_hist_add(&t->hist, bench_now_ns() - c->t0_ns);
	t->n_trans++;
	if (t->cl->o->mode == CLIENT_MODE_IDLE && !c->idle_ready) {
		c->idle_ready = true;
		t->n_unready--;
		atomic_fetch_add(&t->cl->idle_ready, 1);
	}
}

static bool check_result(struct cli_thread *t, struct cli_conn *c)
{
	if (memcmp(c->res, proto_result_magic, 4) != 0) {
		client_fail(t, c - t->conns, "no result record after the response bytes");
		return false;
	}
	if (proto_get32(c->res + 4) != PROTO_STATUS_OK || proto_get64(c->res + 8) != c->up_total) {
		client_fail(t, c - t->conns,
			    "backend verified %llu upstream bytes of %llu sent (status %u): "
			    "bytes were lost or added on the way",
			    (unsigned long long)proto_get64(c->res + 8),
			    (unsigned long long)c->up_total, proto_get32(c->res + 4));
		return false;
	}
	return true;
}

/* Checks received bytes; false when the run failed. */
static bool eat(struct cli_thread *t, struct cli_conn *c, const uint8_t *b, size_t n)
{
	while (n > 0) {
		uint64_t bad;
		size_t k;

		if (c->down_left > 0) {
			k = n < c->down_left ? n : (size_t)c->down_left;
			if (!pattern_check(t->cl->pat, &c->down, b, k, &bad)) {
				client_fail(t, c - t->conns,
					    "downstream byte %llu differs from the pattern (lost, "
					    "doubled, reordered or corrupted on the way)",
					    (unsigned long long)bad);
				return false;
			}
			c->down_left -= k;
			t->bytes_down += k;
			if (c->down_left == 0 && c->in_trans)
				trans_done(t, c);
		} else if (c->end_queued && c->res_have < PROTO_RESULT_LEN) {
			k = PROTO_RESULT_LEN - c->res_have;
			k = k < n ? k : n;
			memcpy(c->res + c->res_have, b, k);
			c->res_have += (uint8_t)k;
			if (c->res_have == PROTO_RESULT_LEN && !check_result(t, c))
				return false;
		} else {
			client_fail(t, c - t->conns, "%zu unexpected bytes from the server", n);
			return false;
		}
		b += k;
		n -= k;
	}
	return true;
}

/* End of stream: complete only after the whole result. */
static void conn_eof(struct cli_thread *t, struct cli_conn *c)
{
	if (c->res_have < PROTO_RESULT_LEN) {
		client_fail(t, c - t->conns,
			    "end of stream with %llu response bytes and %u result bytes missing",
			    (unsigned long long)c->down_left, PROTO_RESULT_LEN - c->res_have);
		return;
	}
	conn_close(t, c);
	t->n_done++;
	if (t->cl->o->mode == CLIENT_MODE_CRR && !client_stopping(t))
		conn_open(t, c);
}

static void conn_readable(struct cli_thread *t, struct cli_conn *c)
{
	for (int i = 0; i < READS_MAX; i++) {
		ssize_t got = recv(c->fd, t->buf, CLIENT_READ_BUF, MSG_DONTWAIT);

		if (got > 0) {
			if (!eat(t, c, t->buf, (size_t)got))
				return;
			continue;
		}
		if (got == 0) {
			conn_eof(t, c);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			break;
		client_fail(t, c - t->conns,
			    "recv: %s (a proxy or the backend gave up: see its log)",
			    strerror(errno));
		return;
	}
	conn_pump(t, c);
}

static void conn_connected(struct cli_thread *t, struct cli_conn *c)
{
	int err = bench_sock_error(c->fd);

	if (err) {
		client_fail(t, c - t->conns, "connect: %s", strerror(err));
		return;
	}
	c->state = CONN_OPEN;
	conn_pump(t, c);
}

void conn_event(struct cli_thread *t, struct cli_conn *c, uint32_t events)
{
	if (c->state == CONN_CONNECTING) {
		conn_connected(t, c);
		if (c->state != CONN_OPEN)
			return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_readable(t, c);
	else if (events & EPOLLOUT)
		conn_pump(t, c);
}

bool conn_open(struct cli_thread *t, struct cli_conn *c)
{
	const struct client_opts *o = t->cl->o;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT, .data.ptr = c};
	uint64_t seed = t->seed_next++;
	int fd;

	memset(c, 0, sizeof(*c));
	c->t0_ns = bench_now_ns();
	fd = bench_connect(&o->addr, o->addr_len);
	if (fd < 0) {
		c->fd = -1;
		client_fail(t, c - t->conns, "socket/connect: %s", strerror(-fd));
		return false;
	}
	c->fd = fd;
	c->state = CONN_CONNECTING;
	c->want_out = true;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(fd);
		c->fd = -1;
		c->state = CONN_FREE;
		client_fail(t, c - t->conns, "epoll: %s", strerror(errno));
		return false;
	}
	t->n_open++;
	pattern_stream_init(&c->up, seed);
	pattern_stream_init(&c->down, proto_down_seed(seed));
	proto_preamble(c->hdr, seed);
	c->hdr_len = PROTO_PREAMBLE_LEN;
	switch (o->mode) {
	case CLIENT_MODE_CRR:
		queue_exchange(c, o);
		break;
	case CLIENT_MODE_IDLE:
		queue_exchange(c, o);
		t->n_started++;
		t->n_unready++;
		break;
	default:
		break;
	}
	return true;
}
