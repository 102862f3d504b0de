// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* copy_relay.c: see copy_relay.h. The sockets are watched edge-triggered,
 * so a source is read until it is known empty: recv() said EAGAIN, or
 * returned less than asked. For TCP the latter means the call found no more
 * skb to copy, in the receive queue or the backlog, so it consumed every one
 * it touched whole; any later segment raises a new edge. After the peer's FIN
 * was reported a short read is not enough: the end itself must be read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "copy_relay.h"

/* Reads per direction per step: one busy pair cannot hold the loop; the
 * caller steps again soon (copy_relay_has_more()). A settle may read more to
 * catch a fast sender at a boundary. */
#define READ_ROUNDS   16
#define SETTLE_ROUNDS 64

enum pump {
	PUMP_MORE = 0, /* the source may hold more */
	PUMP_EMPTY,    /* the source's queue was found empty */
	PUMP_ENDED,    /* the source's stream ended */
	PUMP_HELD      /* the destination is full: bytes are held */
};

void copy_relay_init(struct copy_relay *r, int client_fd, int backend_fd)
{
	*r = (struct copy_relay){.fd = {client_fd, backend_fd}};
	r->dir[COPY_CLIENT].at_boundary = r->dir[COPY_BACKEND].at_boundary = true;
}

void copy_relay_fini(struct copy_relay *r)
{
	for (int i = 0; i < COPY_LEGS; i++) {
		free(r->dir[i].held);
		r->dir[i].held = NULL;
		r->dir[i].held_off = r->dir[i].held_len = 0;
	}
}

void copy_relay_note(struct copy_relay *r, enum copy_leg leg, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		r->dir[leg].may_read = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		r->dir[leg].peer_done = true;
}

bool copy_relay_has_more(const struct copy_relay *r)
{
	for (int i = 0; i < COPY_LEGS; i++) {
		const struct copy_dir *d = &r->dir[i];

		/* A settle leaves a source at a boundary unread on purpose:
		 * that is no work left over. */
		if (d->may_read && !d->held && !d->is_eof && !(r->is_settling && d->at_boundary))
			return true;
	}
	return false;
}

bool copy_relay_is_idle(const struct copy_relay *r)
{
	for (int i = 0; i < COPY_LEGS; i++) {
		const struct copy_dir *d = &r->dir[i];

		if (d->held || d->may_read || d->is_eof)
			return false;
	}
	return true;
}

static bool would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

/* Records a failure of leg's socket; returns err. */
static int leg_failed(struct copy_relay *r, int leg, int err)
{
	r->err = err;
	r->err_leg = leg;
	return err;
}

/* Held bytes of direction i to its destination, as many as it takes. 0 or
 * -errno. */
static int flush(struct copy_relay *r, int i)
{
	struct copy_dir *d = &r->dir[i];
	int to = r->fd[1 - i];

	while (d->held) {
		ssize_t n = send(to, d->held + d->held_off, d->held_len - d->held_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		r->syscalls++;
		if (n == -1)
			return would_block(errno) ? 0 : leg_failed(r, 1 - i, -errno);
		d->held_off += (size_t)n;
		d->bytes_out += (uint64_t)n;
		if (d->held_off == d->held_len) {
			free(d->held);
			d->held = NULL;
			d->held_off = d->held_len = 0;
		}
	}
	return 0;
}

/* One read from the source, sent on at once. Returns an enum pump or
 * -errno. */
static int pump_once(struct copy_relay *r, int i, uint8_t *scratch, size_t cap)
{
	struct copy_dir *d = &r->dir[i];
	ssize_t n = recv(r->fd[i], scratch, cap, MSG_DONTWAIT), sent;

	r->syscalls++;
	if (n == -1) {
		if (!would_block(errno))
			return leg_failed(r, i, -errno);
		d->may_read = false;
		d->at_boundary = true;
		return PUMP_EMPTY;
	}
	if (n == 0) {
		d->is_eof = true;
		d->may_read = false;
		return PUMP_ENDED;
	}
	d->bytes_in += (uint64_t)n;
	d->at_boundary = (size_t)n < cap;
	sent = send(r->fd[1 - i], scratch, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	r->syscalls++;
	if (sent == -1) {
		if (!would_block(errno))
			return leg_failed(r, 1 - i, -errno);
		sent = 0;
	}
	d->bytes_out += (uint64_t)sent;
	if (sent < n) {
		d->held_len = (size_t)(n - sent);
		d->held = malloc(d->held_len);
		if (!d->held)
			return -ENOMEM;
		memcpy(d->held, scratch + sent, d->held_len);
		return PUMP_HELD;
	}
	if (d->at_boundary && !d->peer_done) {
		d->may_read = false;
		return PUMP_EMPTY;
	}
	return PUMP_MORE;
}

/* Flushes, then reads while the source may hold more, at most rounds times;
 * a settle stops at the first boundary. Returns the last enum pump or
 * -errno. */
static int pump(struct copy_relay *r, int i, uint8_t *scratch, size_t cap, int rounds,
		bool settling)
{
	struct copy_dir *d = &r->dir[i];
	int res = flush(r, i);

	if (res)
		return res;
	if (d->held)
		return PUMP_HELD;
	if (d->is_eof)
		return PUMP_ENDED;
	if (settling) {
		/* At a boundary, read no more: what is queued now is whole
		 * skbs, for the kernel to take over. After a full read, read
		 * on to the next boundary. */
		if (d->at_boundary)
			return PUMP_EMPTY;
		d->may_read = true;
	}
	for (int n = 0; n < rounds && d->may_read; n++) {
		res = pump_once(r, i, scratch, cap);
		if (res != PUMP_MORE)
			return res;
		if (settling && d->at_boundary)
			return PUMP_EMPTY; /* peer_done: the FIN is read by the next step */
	}
	return d->may_read ? PUMP_MORE : PUMP_EMPTY;
}

/* Forwards each ended direction's FIN once nothing of it is held. The last
 * one is left to the caller's close(): both streams ended, so both receive
 * queues are empty and the close sends a FIN, not a reset, one call fewer. */
static enum copy_status finish(struct copy_relay *r)
{
	bool done = true;

	for (int i = 0; i < COPY_LEGS; i++) {
		struct copy_dir *d = &r->dir[i];

		if (d->is_eof && !d->held && !d->is_shut && r->dir[1 - i].is_shut) {
			d->is_shut = true;
		} else if (d->is_eof && !d->held && !d->is_shut) {
			r->syscalls++;
			if (shutdown(r->fd[1 - i], SHUT_WR) == -1 && errno != ENOTCONN) {
				leg_failed(r, 1 - i, -errno);
				return COPY_ERROR;
			}
			d->is_shut = true;
		}
		done = done && d->is_shut;
	}
	return done ? COPY_DONE : COPY_RUNNING;
}

static enum copy_status step(struct copy_relay *r, uint8_t *scratch, size_t cap, bool settling)
{
	for (int i = 0; i < COPY_LEGS; i++) {
		if (pump(r, i, scratch, cap, settling ? SETTLE_ROUNDS : READ_ROUNDS, settling) < 0)
			return COPY_ERROR;
	}
	return finish(r);
}

enum copy_status copy_relay_step(struct copy_relay *r, uint8_t *scratch, size_t cap)
{
	r->is_settling = false;
	return step(r, scratch, cap, false);
}

bool copy_relay_settle(struct copy_relay *r, uint8_t *scratch, size_t cap, enum copy_status *status)
{
	r->is_settling = true;
	*status = step(r, scratch, cap, true);
	if (*status != COPY_RUNNING)
		return false;
	for (int i = 0; i < COPY_LEGS; i++) {
		const struct copy_dir *d = &r->dir[i];

		if (d->held || d->is_eof || !d->at_boundary)
			return false;
	}
	return true;
}
