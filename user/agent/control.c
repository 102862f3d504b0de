// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* control.c: see control.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "control.h"
#include "control_cmds.h"
#include "log.h"

#define REQUEST_MAX	   ((16u << 20) + 65536u) /* a 16 MiB file plus its header line */
#define REQUEST_TIMEOUT_MS 10000
#define ARGS_MAX	   256

struct control {
	struct loop_watch w;
	struct agent *ag;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct session *sessions; /* open requests, to end them on close */
};

struct session {
	struct loop_watch w;
	struct loop_timer timer;
	struct loop_deferred reaper;
	struct control *ctl;
	struct session *next, **pprev;
	char *buf;
	size_t len, cap;
	char *resp;
	size_t resp_len, resp_off;
	bool is_allowed; /* the peer is root or the agent's own user */
};

static void session_reap(struct loop_deferred *d)
{
	free((char *)d - offsetof(struct session, reaper));
}

static void session_end(struct session *s)
{
	struct loop *loop = s->ctl->ag->loop;

	loop_timer_cancel(loop, &s->timer);
	loop_del(loop, &s->w);
	close(s->w.fd);
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
	free(s->buf);
	free(s->resp);
	s->reaper.run = session_reap;
	loop_defer(loop, &s->reaper);
}

/* Splits the header line into words at tabs, in place. */
static size_t split_args(char *line, char **argv)
{
	size_t n = 0;

	for (char *p = line; p && n < ARGS_MAX;) {
		char *tab = strchr(p, '\t');

		if (tab)
			*tab = '\0';
		argv[n++] = p;
		p = tab ? tab + 1 : NULL;
	}
	return n;
}

static void respond(struct session *s)
{
	char *text = NULL, *argv[ARGS_MAX];
	size_t text_len = 0, argc;
	FILE *out = open_memstream(&text, &text_len);
	char *nl = memchr(s->buf, '\n', s->len);
	int code;

	if (!out)
		return;
	if (!s->is_allowed) {
		fprintf(out, "permission denied: only root or the agent's user may control it\n");
		code = CONTROL_EXIT_DENIED;
	} else if (!nl) {
		fprintf(out, "malformed request: no command line\n");
		code = CONTROL_EXIT_USAGE;
	} else {
		*nl = '\0';
		argc = split_args(s->buf, argv);
		code = control_dispatch(s->ctl->ag, argc, argv, nl + 1,
					s->len - (size_t)(nl + 1 - s->buf), out);
	}
	fclose(out);
	if (asprintf(&s->resp, "%d\n%.*s", code, (int)text_len, text ? text : "") < 0)
		s->resp = NULL;
	else
		s->resp_len = strlen(s->resp);
	free(text);
}

static bool read_request(struct session *s)
{
	for (;;) {
		ssize_t n;

		if (s->len == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 65536;
			char *b;

			if (cap > REQUEST_MAX + 1)
				cap = REQUEST_MAX + 1;
			if (s->len == cap)
				return true; /* too large: answered as such below */
			b = realloc(s->buf, cap);
			if (!b)
				return true;
			s->buf = b;
			s->cap = cap;
		}
		n = recv(s->w.fd, s->buf + s->len, s->cap - s->len, 0);
		if (n == 0)
			return true;
		if (n == -1)
			return errno != EAGAIN && errno != EINTR;
		s->len += (size_t)n;
	}
}

static void on_session(struct loop_watch *w, uint32_t events)
{
	struct session *s = (struct session *)w;

	if (!s->resp) {
		if (!read_request(s) && !(events & (EPOLLERR | EPOLLHUP)))
			return;
		if (s->len > REQUEST_MAX) {
			if (asprintf(&s->resp, "%d\nrequest larger than %u bytes\n",
				     CONTROL_EXIT_FAILED, REQUEST_MAX) < 0)
				s->resp = NULL;
			else
				s->resp_len = strlen(s->resp);
		} else {
			respond(s);
		}
		if (!s->resp) {
			session_end(s);
			return;
		}
		loop_mod(s->ctl->ag->loop, w, EPOLLOUT);
	}
	while (s->resp_off < s->resp_len) {
		ssize_t n =
			send(w->fd, s->resp + s->resp_off, s->resp_len - s->resp_off, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				session_end(s);
			return;
		}
		s->resp_off += (size_t)n;
	}
	session_end(s);
}

static void on_session_timeout(struct loop_timer *t)
{
	session_end((struct session *)((char *)t - offsetof(struct session, timer)));
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void on_accept(struct loop_watch *w, uint32_t events)
{
	struct control *c = (struct control *)w;
	(void)events;

	for (int i = 0; i < 16; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct session *s;

		if (fd == -1)
			return;
		s = calloc(1, sizeof(*s));
		if (!s) {
			close(fd);
			return;
		}
		s->ctl = c;
		s->is_allowed = peer_allowed(fd);
		s->w = (struct loop_watch){.fd = fd, .on_event = on_session};
		s->timer.on_expire = on_session_timeout;
		if (loop_add(c->ag->loop, &s->w, EPOLLIN) ||
		    loop_timer_arm(c->ag->loop, &s->timer, REQUEST_TIMEOUT_MS)) {
			loop_timer_cancel(c->ag->loop, &s->timer);
			close(fd);
			free(s);
			continue;
		}
		s->next = c->sessions;
		if (s->next)
			s->next->pprev = &s->next;
		s->pprev = &c->sessions;
		c->sessions = s;
	}
}

/* 0 when path is free to bind (nothing there, or a socket no one answers on,
 * now removed); else -EADDRINUSE or another -errno. */
static int claim_path(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err = 0;

	if (lstat(sa->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		err = -EADDRINUSE;
	else if (errno != ECONNREFUSED)
		err = -errno;
	close(fd);
	if (!err && unlink(sa->sun_path) == -1 && errno != ENOENT)
		err = -errno;
	return err;
}

static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

static int listen_at(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	mode_t old;

	if (fd == -1)
		return -errno;
	/* The mode is right from the first moment: a chmod after bind() would
	 * leave a window in which anyone could connect. */
	old = umask(0177);
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == -1)
		err = -errno;
	umask(old);
	if (!err && listen(fd, 64) == -1)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

struct control *control_open(struct agent *ag, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct control *c;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket %s: path longer than %zu bytes", path,
			sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	err = make_parent(path);
	if (!err)
		err = claim_path(&sa);
	if (err == -EADDRINUSE) {
		log_err("control socket %s: another sockgated is running there (use --control "
			"to choose another path)",
			path);
		return NULL;
	}
	fd = err ? err : listen_at(&sa);
	if (fd < 0) {
		log_err("control socket %s: %s", path, strerror(-fd));
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		unlink(path);
		return NULL;
	}
	c->ag = ag;
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	c->w = (struct loop_watch){.fd = fd, .on_event = on_accept};
	if (loop_add(ag->loop, &c->w, EPOLLIN)) {
		close(fd);
		unlink(path);
		free(c);
		return NULL;
	}
	log_info("control socket %s", path);
	return c;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	while (c->sessions)
		session_end(c->sessions);
	loop_del(c->ag->loop, &c->w);
	close(c->w.fd);
	unlink(c->path);
	free(c);
}
