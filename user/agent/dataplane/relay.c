// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relay.c: splice(2) relay. Each step drains pipes first, so that bytes
 * already read leave before more are read: memory per pair stays within two
 * pipe capacities. */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"

#define SPLICE_CHUNK (1 << 20)
#define FILL_ROUNDS  64 /* splice rounds per direction per step: one pair cannot hold the loop */

int relay_init(struct relay *r, int client_fd, int backend_fd, size_t pipe_bytes)
{
	*r = (struct relay){.fd = {client_fd, backend_fd}};
	for (int i = 0; i < RELAY_LEGS; i++)
		r->dir[i].pipe_rd = r->dir[i].pipe_wr = -1;
	for (int i = 0; i < RELAY_LEGS; i++) {
		int p[2];

		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1) {
			int err = -errno;

			relay_fini(r);
			return err;
		}
		r->dir[i].pipe_rd = p[0];
		r->dir[i].pipe_wr = p[1];
		/* A larger pipe means fewer wakeups per byte; failure only costs speed. */
		if (pipe_bytes)
			fcntl(p[1], F_SETPIPE_SZ, (int)pipe_bytes);
	}
	return 0;
}

void relay_fini(struct relay *r)
{
	for (int i = 0; i < RELAY_LEGS; i++) {
		if (r->dir[i].pipe_rd >= 0)
			close(r->dir[i].pipe_rd);
		if (r->dir[i].pipe_wr >= 0)
			close(r->dir[i].pipe_wr);
		r->dir[i].pipe_rd = r->dir[i].pipe_wr = -1;
	}
}

static bool would_block(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK;
}

/* Pipe -> destination. Returns 0 or -errno (not EAGAIN). */
static int drain_pipe(struct relay_dir *d, int to)
{
	while (d->in_pipe > 0) {
		ssize_t n = splice(d->pipe_rd, NULL, to, NULL, d->in_pipe,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

		if (n == -1)
			return would_block(errno) ? 0 : -errno;
		d->in_pipe -= (size_t)n;
		d->bytes += (uint64_t)n;
	}
	return 0;
}

/* Source -> pipe, while the pipe drains. Returns 0 or -errno. */
static int fill_and_drain(struct relay_dir *d, int from, int to)
{
	for (int rounds = 0; rounds < FILL_ROUNDS && !d->is_eof; rounds++) {
		ssize_t n;
		int err = drain_pipe(d, to);

		if (err)
			return err;
		if (d->in_pipe > 0)
			return 0; /* destination full: wait for EPOLLOUT */
		n = splice(from, NULL, d->pipe_wr, NULL, SPLICE_CHUNK,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1)
			return would_block(errno) ? 0 : -errno;
		if (n == 0)
			d->is_eof = true;
		d->in_pipe += (size_t)n;
	}
	return drain_pipe(d, to);
}

enum relay_status relay_step(struct relay *r)
{
	bool done = true;

	for (int i = 0; i < RELAY_LEGS; i++) {
		struct relay_dir *d = &r->dir[i];
		int to = r->fd[1 - i];
		int err = fill_and_drain(d, r->fd[i], to);

		if (err) {
			r->err = err;
			return RELAY_ERROR;
		}
		if (d->is_eof && d->in_pipe == 0 && !d->is_shut) {
			if (shutdown(to, SHUT_WR) == -1 && errno != ENOTCONN) {
				r->err = -errno;
				return RELAY_ERROR;
			}
			d->is_shut = true;
		}
		done = done && d->is_shut;
	}
	return done ? RELAY_DONE : RELAY_RUNNING;
}

uint32_t relay_interest(const struct relay *r, enum relay_leg leg)
{
	const struct relay_dir *out = &r->dir[leg];    /* bytes read from this leg */
	const struct relay_dir *in = &r->dir[1 - leg]; /* bytes waiting to be written to it */
	uint32_t ev = 0;

	if (!out->is_eof && out->in_pipe == 0)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (in->in_pipe > 0)
		ev |= EPOLLOUT;
	return ev;
}
