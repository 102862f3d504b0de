// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* takeover_give.c: the old agent's half of a takeover (takeover.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_state.h"
#include "container_of.h"
#include "control_exit.h"
#include "guard.h"
#include "listeners.h"
#include "log.h"
#include "metrics.h"
#include "takeover.h"
#include "takeover_wire.h"

/* How long the new agent may take from the sockets to its 'R': its whole
 * startup (BPF load, guard, listeners, workers). Past it, this agent accepts
 * again and the new one's 'R' finds the connection closed. */
#define CONFIRM_TIMEOUT_MS 60000
#define SEND_WAIT_MS	   2000

struct takeover_give {
	struct agent *ag;
	struct loop_watch w;
	struct loop_timer timer;
	struct loop_deferred reap;
	struct takeover_hooks hooks;
	uint64_t drain_ms;
};

/* The connection's descriptor is non-blocking (the control socket's): a
 * chunk fits an empty socket buffer, but wait a little if it does not. */
static int send_chunk(int fd, struct takeover_chunk *ch, const int *fds)
{
	char cbuf[CMSG_SPACE(TAKEOVER_CHUNK * sizeof(int))];
	struct iovec iov = {.iov_base = ch, .iov_len = sizeof(*ch)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	size_t off = 0;

	memset(cbuf, 0, sizeof(cbuf));
	if (ch->n) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(ch->n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(ch->n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, ch->n * sizeof(int));
	}
	while (off < sizeof(*ch)) {
		ssize_t n;

		iov.iov_base = (char *)ch + off;
		iov.iov_len = sizeof(*ch) - off;
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			if (poll(&p, 1, SEND_WAIT_MS) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0) {
			off += (size_t)n;
			/* The descriptors went with the first bytes. */
			mh.msg_control = NULL;
			mh.msg_controllen = 0;
		}
	}
	return 0;
}

struct sender {
	int fd;
	struct takeover_chunk ch;
	int fds[TAKEOVER_CHUNK];
	size_t total;
	int err;
};

static void flush(struct sender *s, bool is_last)
{
	if (s->err)
		return;
	s->ch.is_last = is_last;
	s->err = send_chunk(s->fd, &s->ch, s->fds);
	s->ch.n = 0;
	memset(s->ch.items, 0, sizeof(s->ch.items));
}

static void add(struct sender *s, const struct inherited_item *it, int fd)
{
	if (s->ch.n == TAKEOVER_CHUNK)
		flush(s, false);
	s->ch.items[s->ch.n] = *it;
	s->fds[s->ch.n++] = fd;
	s->total++;
}

static void add_sock(struct sender *s, enum inherited_kind kind, int fd)
{
	struct inherited_item it = {.kind = kind};
	socklen_t len = sizeof(it.addr);

	/* What the socket is bound to, as the kernel says: the same words the
	 * new agent's configuration resolves to. */
	if (getsockname(fd, (struct sockaddr *)&it.addr, &len) == -1) {
		log_warn("takeover: getsockname: %s", strerror(errno));
		return;
	}
	it.addr_len = len;
	add(s, &it, fd);
}

static int send_all(struct agent *ag, int fd)
{
	struct sender s = {.fd = fd,
			   .ch = {.magic = TAKEOVER_MAGIC,
				  .pid = (uint32_t)getpid(),
				  .flow_id_base = ag->flow_id_base}};

	for (size_t i = 0; i < ag->n_listeners; i++)
		add_sock(&s, INHERITED_LISTENER, ag->listeners[i]->acc.w.fd);
	if (ag->metrics)
		add_sock(&s, INHERITED_METRICS, metrics_fd(ag->metrics));
	for (size_t i = 0; ag->guard && i < ag->guard->n_ifs; i++) {
		const struct guard_iface *gi = &ag->guard->ifs[i];
		struct inherited_item it = {.kind = INHERITED_GUARD_LINK,
					    .ifindex = gi->ifindex,
					    .is_generic = gi->is_generic};

		snprintf(it.ifname, sizeof(it.ifname), "%s", gi->name);
		add(&s, &it, gi->link_fd);
	}
	flush(&s, true);
	if (!s.err)
		log_info("takeover: handed over %zu sockets and links; not accepting until the new "
			 "agent confirms",
			 s.total);
	return s.err;
}

static void reap(struct loop_deferred *d)
{
	free(container_of(d, struct takeover_give, reap));
}

static void end(struct takeover_give *t)
{
	struct agent *ag = t->ag;

	loop_timer_cancel(ag->loop, &t->timer);
	loop_del(ag->loop, &t->w);
	close(t->w.fd);
	ag->handover = NULL;
	/* Later events of this loop batch may still name t. */
	t->reap.run = reap;
	loop_defer(ag->loop, &t->reap);
}

static void roll_back(struct takeover_give *t, const char *why)
{
	log_warn("takeover: %s before it confirmed; accepting again", why);
	if (!t->ag->is_stopping)
		t->hooks.hold(t->hooks.ctx, false);
	end(t);
}

static void on_timeout(struct loop_timer *tm)
{
	roll_back(container_of(tm, struct takeover_give, timer), "the new agent took too long");
}

static void on_peer(struct loop_watch *w, uint32_t events)
{
	struct takeover_give *t = container_of(w, struct takeover_give, w);
	char c = 0, ack = TAKEOVER_ACK;
	ssize_t n = recv(w->fd, &c, 1, MSG_DONTWAIT);
	(void)events;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != 1 || c != TAKEOVER_READY) {
		roll_back(t, "the new agent went away");
		return;
	}
	/* One byte into an empty buffer: it goes, or the peer is gone. */
	if (send(w->fd, &ack, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
		roll_back(t, "the new agent went away");
		return;
	}
	log_info("takeover: the new agent serves; draining");
	t->hooks.handed_over(t->hooks.ctx, t->drain_ms);
	end(t);
}

int takeover_give(struct agent *ag, int fd, size_t argc, char **argv,
		  const struct takeover_hooks *hooks, FILE *out, bool *is_taken)
{
	struct takeover_give *t;
	uint64_t drain_ms = ag->drain_ms;
	char *end_p;
	int err;

	*is_taken = false;
	if (argc > 1) {
		errno = 0;
		drain_ms = strtoull(argv[1], &end_p, 10);
		if (!argv[1][0] || *end_p || errno) {
			fprintf(out, "takeover: %s: expected a drain deadline in ms\n", argv[1]);
			return CONTROL_EXIT_USAGE;
		}
	}
	if (ag->is_stopping || ag->handover) {
		fprintf(out, "takeover: this agent is %s\n",
			ag->is_stopping ? "stopping" : "already being taken over");
		return CONTROL_EXIT_FAILED;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(out, "takeover: %s\n", strerror(ENOMEM));
		return CONTROL_EXIT_FAILED;
	}
	*t = (struct takeover_give){.ag = ag,
				    .hooks = *hooks,
				    .drain_ms = drain_ms,
				    .w = {.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3), .on_event = on_peer},
				    .timer = {.on_expire = on_timeout}};
	if (t->w.fd < 0) {
		fprintf(out, "takeover: %s\n", strerror(errno));
		free(t);
		return CONTROL_EXIT_FAILED;
	}
	/* Stop accepting first: the new agent may accept as soon as the first
	 * socket arrives, and only one process accepts at any time. */
	hooks->hold(hooks->ctx, true);
	err = send_all(ag, t->w.fd);
	if (!err)
		err = loop_add(ag->loop, &t->w, EPOLLIN);
	if (!err)
		err = loop_timer_arm(ag->loop, &t->timer, CONFIRM_TIMEOUT_MS);
	if (err) {
		loop_del(ag->loop, &t->w);
		hooks->hold(hooks->ctx, false);
		close(t->w.fd);
		free(t);
		log_warn("takeover: %s; still serving", strerror(-err));
		fprintf(out, "takeover: %s\n", strerror(-err));
		return CONTROL_EXIT_FAILED;
	}
	ag->handover = t;
	*is_taken = true;
	return 0;
}

void takeover_give_close(struct agent *ag)
{
	struct takeover_give *t = ag->handover;

	if (!t)
		return;
	loop_timer_cancel(ag->loop, &t->timer);
	loop_del(ag->loop, &t->w);
	close(t->w.fd);
	free(t);
	ag->handover = NULL;
}
