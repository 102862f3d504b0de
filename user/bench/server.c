// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* server.c: the bench backend of server.h. One thread per core, each with its
 * own epoll set and its own SO_REUSEPORT listeners, so the kernel spreads the
 * connections and threads share nothing but the read-only pattern table and a
 * stop eventfd. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "addr.h"
#include "clienthello.h"
#include "pattern.h"
#include "proto.h"
#include "server.h"
#include "util.h"

#define READ_BUF   (256 * 1024)
#define READS_MAX  8 /* reads per wakeup, so one busy connection cannot starve the rest */
#define EVENTS_MAX 256

enum watch_kind { WATCH_LISTEN = 0, WATCH_STOP, WATCH_CONN };

enum srv_state { ST_HELLO = 0, ST_PREAMBLE, ST_MSG, ST_DATA, ST_ENDED };

struct srv_watch {
	enum watch_kind kind;
	int fd;
};

struct srv_conn {
	struct srv_watch w; /* first: epoll data points here */
	enum srv_state state;
	bool want_out;	    /* EPOLLOUT is armed */
	bool wr_shut;	    /* result sent and FIN queued */
	uint8_t acc_have;   /* bytes in acc of the preamble or message header */
	uint8_t result_off; /* result bytes sent; PROTO_RESULT_LEN when none pending */
	uint8_t acc[PROTO_PREAMBLE_LEN];
	uint8_t result[PROTO_RESULT_LEN];
	uint32_t data_left; /* DATA payload bytes still to check */
	uint64_t down_pending;
	uint64_t hello_fed; /* stream bytes given to the hello parser */
	struct chello_parser *hello;
	struct pattern_stream up, down;
};

struct server;

struct srv_thread {
	struct server *srv;
	pthread_t tid;
	int epfd;
	struct srv_watch listeners[SERVER_MAX_LISTEN];
	uint8_t *buf;
	uint64_t conns, bytes_up, bytes_down, failures;
};

struct server {
	const struct server_opts *o;
	struct pattern *pat;
	struct srv_watch stop;
	struct srv_thread *threads;
};

static const char server_usage[] =
	"usage: sockgate-bench server --listen IP:PORT [--listen IP:PORT ...] [options]\n"
	"  --listen IP:PORT      where to accept (repeatable, up to 8)\n"
	"  --threads N           event-loop threads (default: online CPUs)\n"
	"  --expect-sni NAME     fail connections whose ClientHello carries another SNI\n"
	"Stops on SIGTERM/SIGINT and prints a JSON summary; exit 1 if any check failed.\n";

int server_parse_args(int argc, char **argv, struct server_opts *o)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"threads", required_argument, NULL, 't'},
		{"expect-sni", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->threads = bench_default_threads();
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (o->n_listen == SERVER_MAX_LISTEN) {
				fprintf(stderr, "sockgate-bench server: at most %d --listen\n",
					SERVER_MAX_LISTEN);
				return 2;
			}
			if (bench_parse_addr("--listen", optarg, &o->listen[o->n_listen],
					     &o->listen_len[o->n_listen]))
				return 2;
			o->n_listen++;
			break;
		case 't':
			if (bench_parse_count("--threads", optarg, 1, BENCH_MAX_THREADS, &v))
				return 2;
			o->threads = (unsigned)v;
			break;
		case 's':
			o->expect_sni = optarg;
			break;
		case 'h':
			fputs(server_usage, stdout);
			exit(0);
		default:
			fputs(server_usage, stderr);
			return 2;
		}
	}
	if (o->n_listen == 0 || optind != argc) {
		fputs(server_usage, stderr);
		return 2;
	}
	return 0;
}

static void conn_fail(struct srv_thread *t, struct srv_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conn_free(struct srv_thread *t, struct srv_conn *c, bool reset)
{
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->w.fd, NULL);
	if (reset)
		bench_abort_fd(c->w.fd);
	else
		close(c->w.fd);
	free(c->hello);
	free(c);
}

/* A check failed: say where, loudly, and reset so the client fails at once too. */
static void conn_fail(struct srv_thread *t, struct srv_conn *c, const char *fmt, ...)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[ADDR_STR_MAX] = "-", why[256];
	va_list ap;

	if (getpeername(c->w.fd, (struct sockaddr *)&ss, &len) == 0)
		addr_format(&ss, peer, sizeof(peer));
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sockgate-bench server: FAIL client=%s: %s\n", peer, why);
	t->failures++;
	conn_free(t, c, true);
}

static void set_out(struct srv_thread *t, struct srv_conn *c, bool on)
{
	bench_watch_out(t->epfd, c->w.fd, c, &c->want_out, on);
}

/* Sends what GETs asked for, then the result and a FIN. false: c was freed. */
static bool conn_flush(struct srv_thread *t, struct srv_conn *c)
{
	const struct pattern *pat = t->srv->pat;

	while (c->down_pending > 0) {
		size_t n;
		const uint8_t *p = pattern_span(pat, &c->down, c->down_pending, &n);
		ssize_t sent = send(c->w.fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (sent == -1) {
			if (errno == EAGAIN || errno == EINTR)
				goto blocked;
			conn_fail(t, c, "send: %s with %llu bytes still to send", strerror(errno),
				  (unsigned long long)c->down_pending);
			return false;
		}
		pattern_advance(&c->down, (uint64_t)sent);
		c->down_pending -= (uint64_t)sent;
		t->bytes_down += (uint64_t)sent;
	}
	while (c->result_off < PROTO_RESULT_LEN) {
		ssize_t sent = send(c->w.fd, c->result + c->result_off,
				    PROTO_RESULT_LEN - c->result_off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (sent == -1) {
			if (errno == EAGAIN || errno == EINTR)
				goto blocked;
			conn_fail(t, c, "send result: %s", strerror(errno));
			return false;
		}
		c->result_off += (uint8_t)sent;
	}
	if (c->state == ST_ENDED && !c->wr_shut) {
		shutdown(c->w.fd, SHUT_WR);
		c->wr_shut = true;
	}
	set_out(t, c, false);
	return true;
blocked:
	set_out(t, c, true);
	return true;
}

/* Feeds the hello parser; returns bytes that belonged to the hello, or -1 (freed). */
static ssize_t eat_hello(struct srv_thread *t, struct srv_conn *c, const uint8_t *b, size_t n)
{
	const char *want = t->srv->o->expect_sni;
	enum chello_result r = chello_feed(c->hello, b, n);
	size_t used;

	if (r == CHELLO_NEED_MORE) {
		c->hello_fed += n;
		return (ssize_t)n;
	}
	if (r == CHELLO_ERROR) {
		conn_fail(t, c, "ClientHello rejected by the parser: %s",
			  chello_reason_str(c->hello->reason));
		return -1;
	}
	if (want && (!c->hello->info.has_sni || strcmp(c->hello->info.sni, want) != 0)) {
		conn_fail(t, c, "ClientHello SNI \"%s\", expected \"%s\"",
			  c->hello->info.has_sni ? c->hello->info.sni : "", want);
		return -1;
	}
	used = c->hello->info.hello_end - c->hello_fed;
	free(c->hello);
	c->hello = NULL;
	c->state = ST_PREAMBLE;
	return (ssize_t)used;
}

/* Copies up to want bytes into acc; true once it holds want. */
static bool accumulate(struct srv_conn *c, size_t want, const uint8_t **b, size_t *n)
{
	size_t k = want - c->acc_have;

	if (k > *n)
		k = *n;
	memcpy(c->acc + c->acc_have, *b, k);
	c->acc_have += (uint8_t)k;
	*b += k;
	*n -= k;
	if (c->acc_have < want)
		return false;
	c->acc_have = 0;
	return true;
}

static bool eat_message(struct srv_thread *t, struct srv_conn *c)
{
	uint32_t len = proto_get32(c->acc + 4);

	switch (c->acc[0]) {
	case PROTO_MSG_DATA:
		if (len > PROTO_DATA_MAX) {
			conn_fail(t, c, "DATA of %u bytes, limit %u", len, PROTO_DATA_MAX);
			return false;
		}
		c->data_left = len;
		c->state = len ? ST_DATA : ST_MSG;
		return true;
	case PROTO_MSG_GET:
		c->down_pending += len;
		return true;
	case PROTO_MSG_END:
		proto_result(c->result, PROTO_STATUS_OK, c->up.offset);
		c->result_off = 0;
		c->state = ST_ENDED;
		return true;
	}
	conn_fail(t, c, "unknown message type 0x%02x at upstream offset %llu", c->acc[0],
		  (unsigned long long)c->up.offset);
	return false;
}

/* Runs the received bytes through the protocol. false: c was freed. */
static bool conn_eat(struct srv_thread *t, struct srv_conn *c, const uint8_t *b, size_t n)
{
	while (n > 0) {
		uint64_t bad;
		ssize_t used;
		size_t k;

		switch (c->state) {
		case ST_HELLO:
			used = eat_hello(t, c, b, n);
			if (used < 0)
				return false;
			b += used;
			n -= (size_t)used;
			break;
		case ST_PREAMBLE:
			if (!accumulate(c, PROTO_PREAMBLE_LEN, &b, &n))
				break;
			if (memcmp(c->acc, proto_preamble_magic, 4) != 0) {
				conn_fail(t, c, "no bench preamble after the ClientHello");
				return false;
			}
			pattern_stream_init(&c->up, proto_get64(c->acc + 8));
			pattern_stream_init(&c->down, proto_down_seed(proto_get64(c->acc + 8)));
			c->state = ST_MSG;
			break;
		case ST_MSG:
			if (accumulate(c, PROTO_MSG_LEN, &b, &n) && !eat_message(t, c))
				return false;
			break;
		case ST_DATA:
			k = n < c->data_left ? n : c->data_left;
			if (!pattern_check(t->srv->pat, &c->up, b, k, &bad)) {
				conn_fail(t, c,
					  "upstream byte %llu differs from the pattern (lost, "
					  "doubled, reordered or corrupted on the way)",
					  (unsigned long long)bad);
				return false;
			}
			t->bytes_up += k;
			c->data_left -= (uint32_t)k;
			b += k;
			n -= k;
			if (c->data_left == 0)
				c->state = ST_MSG;
			break;
		case ST_ENDED:
			conn_fail(t, c, "%zu bytes after END", n);
			return false;
		}
	}
	return true;
}

static void conn_readable(struct srv_thread *t, struct srv_conn *c)
{
	for (int i = 0; i < READS_MAX; i++) {
		ssize_t got = recv(c->w.fd, t->buf, READ_BUF, MSG_DONTWAIT);

		if (got > 0) {
			if (!conn_eat(t, c, t->buf, (size_t)got))
				return;
			continue;
		}
		if (got == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (got == 0 && c->state == ST_ENDED && c->wr_shut) {
			conn_free(t, c, false);
			return;
		}
		if (got == 0 && c->state == ST_ENDED)
			break; /* the client may close before our FIN is out; finish sending */
		if (got == 0 && c->state == ST_HELLO && c->hello_fed == 0) {
			/* A port probe (connect, close): nothing was sent, so nothing was lost. */
			conn_free(t, c, false);
			return;
		}
		if (got == 0)
			conn_fail(t, c, "end of stream before END (upstream offset %llu)",
				  (unsigned long long)c->up.offset);
		else
			conn_fail(t, c, "recv: %s before END", strerror(errno));
		return;
	}
	conn_flush(t, c);
}

static void accept_all(struct srv_thread *t, int lfd)
{
	for (int i = 0; i < 64; i++) {
		int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct srv_conn *c;
		struct epoll_event ev;

		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "sockgate-bench server: accept: %s\n",
					strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c)
			c->hello = malloc(sizeof(*c->hello));
		if (!c || !c->hello) {
			fprintf(stderr, "sockgate-bench server: out of memory\n");
			if (c)
				free(c);
			bench_abort_fd(fd);
			return;
		}
		chello_init(c->hello);
		c->w.kind = WATCH_CONN;
		c->w.fd = fd;
		c->result_off = PROTO_RESULT_LEN;
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			fprintf(stderr, "sockgate-bench server: epoll: %s\n", strerror(errno));
			free(c->hello);
			free(c);
			bench_abort_fd(fd);
			return;
		}
		t->conns++;
	}
}

static void *thread_main(void *arg)
{
	struct srv_thread *t = arg;
	struct epoll_event evs[EVENTS_MAX];

	for (;;) {
		int n = epoll_wait(t->epfd, evs, EVENTS_MAX, -1);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "sockgate-bench server: epoll_wait: %s\n", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct srv_watch *w = evs[i].data.ptr;
			struct srv_conn *c;

			switch (w->kind) {
			case WATCH_STOP:
				return NULL;
			case WATCH_LISTEN:
				accept_all(t, w->fd);
				break;
			case WATCH_CONN:
				c = (struct srv_conn *)w;
				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					conn_readable(t, c);
				else if (evs[i].events & EPOLLOUT)
					conn_flush(t, c);
				break;
			}
		}
	}
}

static int listen_on(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, fd, err;
	char a[ADDR_STR_MAX];

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) == -1 || listen(fd, 4096) == -1) {
		err = -errno;
		fprintf(stderr, "sockgate-bench server: listen on %s: %s\n",
			addr_format(ss, a, sizeof(a)), strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static int thread_setup(struct server *s, struct srv_thread *t)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->stop};

	t->srv = s;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->buf = malloc(READ_BUF);
	if (t->epfd == -1 || !t->buf)
		return -ENOMEM;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, s->stop.fd, &ev) == -1)
		return -errno;
	for (unsigned i = 0; i < s->o->n_listen; i++) {
		int fd = listen_on(&s->o->listen[i], s->o->listen_len[i]);

		if (fd < 0)
			return fd;
		t->listeners[i].kind = WATCH_LISTEN;
		t->listeners[i].fd = fd;
		ev.data.ptr = &t->listeners[i];
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			return -errno;
	}
	return 0;
}

static void thread_teardown(const struct server *s, struct srv_thread *t)
{
	for (unsigned i = 0; i < s->o->n_listen; i++)
		if (t->listeners[i].fd >= 0)
			close(t->listeners[i].fd);
	if (t->epfd >= 0)
		close(t->epfd);
	free(t->buf);
}

int server_run(const struct server_opts *o)
{
	struct server s = {.o = o};
	uint64_t conns = 0, up = 0, down = 0, failures = 0, one = 1;
	unsigned started = 0;
	sigset_t sigs;
	int sig, rc = 1;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	/* Blocked before the threads start, so they inherit the mask and only sigwait sees them. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	s.pat = malloc(sizeof(*s.pat));
	s.threads = calloc(o->threads, sizeof(*s.threads));
	s.stop.kind = WATCH_STOP;
	s.stop.fd = eventfd(0, EFD_CLOEXEC);
	if (!s.pat || !s.threads || s.stop.fd == -1) {
		fprintf(stderr, "sockgate-bench server: out of memory\n");
		goto out;
	}
	pattern_init(s.pat);
	for (unsigned i = 0; i < o->threads; i++) {
		s.threads[i].epfd = -1;
		for (unsigned j = 0; j < SERVER_MAX_LISTEN; j++)
			s.threads[i].listeners[j].fd = -1;
	}
	for (unsigned i = 0; i < o->threads; i++) {
		if (thread_setup(&s, &s.threads[i]) < 0)
			goto stop;
	}
	for (; started < o->threads; started++) {
		if (pthread_create(&s.threads[started].tid, NULL, thread_main,
				   &s.threads[started])) {
			fprintf(stderr, "sockgate-bench server: cannot start threads\n");
			goto stop;
		}
	}
	fprintf(stderr, "sockgate-bench server: ready, %u threads\n", o->threads);
	sigwait(&sigs, &sig);
	rc = 0;
stop:
	if (write(s.stop.fd, &one, sizeof(one)) != sizeof(one))
		rc = 1;
	for (unsigned i = 0; i < started; i++) {
		struct srv_thread *t = &s.threads[i];

		pthread_join(t->tid, NULL);
		conns += t->conns;
		up += t->bytes_up;
		down += t->bytes_down;
		failures += t->failures;
	}
	for (unsigned i = 0; i < o->threads; i++)
		thread_teardown(&s, &s.threads[i]);
	printf("{\"role\":\"server\",\"connections\":%llu,\"bytes_up\":%llu,\"bytes_down\":%llu,"
	       "\"failures\":%llu}\n",
	       (unsigned long long)conns, (unsigned long long)up, (unsigned long long)down,
	       (unsigned long long)failures);
	fflush(stdout);
	if (failures)
		rc = 1;
out:
	if (s.stop.fd >= 0)
		close(s.stop.fd);
	free(s.threads);
	free(s.pat);
	return rc;
}
