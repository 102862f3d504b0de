// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* exchange.c: see exchange.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "container_of.h"
#include "exchange.h"
#include "loop.h"

#define ACCEPT_BATCH 16

struct exchange_server {
	struct loop_watch w;
	struct loop *loop;
	const struct exchange_ops *ops;
	void *ctx;
	struct exchange *open; /* to end them on close */
	size_t n_open;
	unsigned long long n_shed;
	struct loop_timer resume;
	bool is_paused; /* out of the loop until resume fires */
	int spare_fd;	/* /dev/null while kept (ops->keeps_spare_fd), else -1 */
};

struct exchange {
	struct loop_watch w;
	struct loop_timer timer;
	struct loop_deferred reaper;
	struct exchange_server *srv;
	struct exchange *next, **pprev;
	char *req;
	size_t len, cap;
	char *resp;
	size_t resp_len, resp_off;
};

static void reap(struct loop_deferred *d)
{
	free(container_of(d, struct exchange, reaper));
}

/* The spare comes back as soon as a descriptor is free again. */
static void take_spare(struct exchange_server *s)
{
	if (s->ops->keeps_spare_fd && s->spare_fd < 0)
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void end(struct exchange *x)
{
	struct loop *loop = x->srv->loop;

	loop_timer_cancel(loop, &x->timer);
	loop_del(loop, &x->w);
	close(x->w.fd);
	*x->pprev = x->next;
	if (x->next)
		x->next->pprev = x->pprev;
	x->srv->n_open--;
	free(x->req);
	free(x->resp);
	take_spare(x->srv);
	/* Later events of this loop batch may still name x. */
	x->reaper.run = reap;
	loop_defer(loop, &x->reaper);
}

/* Reads what is there. Returns true once the request is whole, too large,
 * or the peer is gone (x->len then tells which). */
static bool read_request(struct exchange *x, bool *eof)
{
	const struct exchange_ops *ops = x->srv->ops;

	for (;;) {
		ssize_t n;

		if (x->len == x->cap) {
			size_t cap = x->cap ? x->cap * 2 : 4096;
			char *b;

			if (x->cap > ops->max_request)
				return true;
			if (cap > ops->max_request + 1)
				cap = ops->max_request + 1;
			b = realloc(x->req, cap + 1);
			if (!b)
				return true;
			x->req = b;
			x->cap = cap;
		}
		n = recv(x->w.fd, x->req + x->len, x->cap - x->len, 0);
		if (n == -1)
			return errno != EAGAIN && errno != EINTR;
		*eof = n == 0;
		x->len += (size_t)n;
		x->req[x->len] = '\0';
		if (ops->is_complete(x->req, x->len, *eof) || *eof)
			return true;
	}
}

static void on_exchange(struct loop_watch *w, uint32_t events)
{
	struct exchange *x = (struct exchange *)w;
	const struct exchange_ops *ops = x->srv->ops;

	if (!x->resp && !x->req && ops->refuse) {
		/* Before reading: a peer that may not send a request costs no
		 * buffer, however large the request it sends. */
		x->resp = ops->refuse(x->srv->ctx, w->fd, &x->resp_len);
		if (x->resp) {
			shutdown(w->fd, SHUT_RD);
			loop_mod(x->srv->loop, w, EPOLLOUT);
		}
	}
	if (!x->resp) {
		bool eof = false;

		if (!read_request(x, &eof) && !(events & (EPOLLERR | EPOLLHUP)))
			return;
		if (x->len > ops->max_request)
			x->resp = ops->too_large ? ops->too_large(x->srv->ctx, &x->resp_len) : NULL;
		else if (x->req && ops->is_complete(x->req, x->len, eof))
			x->resp = ops->respond(x->srv->ctx, w->fd, x->req, x->len, &x->resp_len);
		if (!x->resp) {
			end(x);
			return;
		}
		loop_mod(x->srv->loop, w, EPOLLOUT);
	}
	while (x->resp_off < x->resp_len) {
		ssize_t n =
			send(w->fd, x->resp + x->resp_off, x->resp_len - x->resp_off, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				end(x);
			return;
		}
		x->resp_off += (size_t)n;
	}
	end(x);
}

static void on_timeout(struct loop_timer *t)
{
	end(container_of(t, struct exchange, timer));
}

static void on_resume(struct loop_timer *t)
{
	struct exchange_server *s = container_of(t, struct exchange_server, resume);

	take_spare(s);
	if (loop_add(s->loop, &s->w, EPOLLIN) == 0)
		s->is_paused = false;
	else
		loop_timer_arm(s->loop, &s->resume, EXCHANGE_PAUSE_MS);
}

static bool out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static void on_accept(struct loop_watch *w, uint32_t events)
{
	struct exchange_server *s = (struct exchange_server *)w;
	(void)events;

	for (int i = 0; i < ACCEPT_BATCH && !s->is_paused; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct exchange *x;

		if (fd == -1 && (errno == EMFILE || errno == ENFILE) && s->spare_fd >= 0) {
			close(s->spare_fd);
			s->spare_fd = -1;
			fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		}
		if (fd == -1 && errno == ECONNABORTED)
			continue;
		if (fd == -1 && out_of_resources(errno)) {
			loop_del(s->loop, &s->w);
			s->is_paused = true;
			loop_timer_arm(s->loop, &s->resume, EXCHANGE_PAUSE_MS);
			return;
		}
		if (fd == -1)
			return;
		if (s->ops->max_open && s->n_open >= s->ops->max_open) {
			close(fd);
			s->n_shed++;
			continue;
		}
		x = calloc(1, sizeof(*x));
		if (!x) {
			close(fd);
			return;
		}
		x->srv = s;
		x->w = (struct loop_watch){.fd = fd, .on_event = on_exchange};
		x->timer.on_expire = on_timeout;
		if (loop_add(s->loop, &x->w, EPOLLIN) ||
		    loop_timer_arm(s->loop, &x->timer, s->ops->timeout_ms)) {
			loop_timer_cancel(s->loop, &x->timer);
			close(fd);
			free(x);
			continue;
		}
		x->next = s->open;
		if (x->next)
			x->next->pprev = &x->next;
		x->pprev = &s->open;
		s->open = x;
		s->n_open++;
	}
}

int exchange_fd(const struct exchange_server *s)
{
	return s->w.fd;
}

unsigned long long exchange_shed(const struct exchange_server *s)
{
	return s ? s->n_shed : 0;
}

struct exchange_server *exchange_serve(struct loop *loop, int listen_fd,
				       const struct exchange_ops *ops, void *ctx)
{
	struct exchange_server *s = calloc(1, sizeof(*s));

	if (!s) {
		close(listen_fd);
		return NULL;
	}
	s->loop = loop;
	s->ops = ops;
	s->ctx = ctx;
	s->w = (struct loop_watch){.fd = listen_fd, .on_event = on_accept};
	s->resume.on_expire = on_resume;
	s->spare_fd = -1;
	take_spare(s);
	if (loop_add(loop, &s->w, EPOLLIN)) {
		if (s->spare_fd >= 0)
			close(s->spare_fd);
		close(listen_fd);
		free(s);
		return NULL;
	}
	return s;
}

void exchange_close(struct exchange_server *s)
{
	if (!s)
		return;
	while (s->open)
		end(s->open);
	loop_timer_cancel(s->loop, &s->resume);
	if (!s->is_paused)
		loop_del(s->loop, &s->w);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	close(s->w.fd);
	free(s);
}
