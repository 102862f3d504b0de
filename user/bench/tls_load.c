// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tls_load.c: see tls_load.h. Non-blocking OpenSSL on one epoll set per thread;
 * each thread has its own SSL_CTX so threads share no locks. */
#include <errno.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "json.h"
#include "latency_hist.h"
#include "tls_load.h"
#include "util.h"

#define RESP_KEEP  4096
#define EVENTS_MAX 256
#define TICK_MS	   20

enum tls_state { TLS_FREE = 0, TLS_CONNECTING, TLS_HANDSHAKE, TLS_WRITING, TLS_READING };

struct tls_conn {
	int fd;
	enum tls_state state;
	SSL *ssl;
	uint64_t t0_ns;
	size_t resp_len;
	char resp[RESP_KEEP + 1];
};

struct tls_thread {
	const struct tls_opts *o;
	pthread_t tid;
	unsigned id;
	int epfd;
	SSL_CTX *ctx;
	struct tls_conn *conns;
	unsigned n_conns, n_open;
	uint64_t t_stop_ns, t_deadline_ns;
	atomic_bool *failed;
	char request[512];
	size_t request_len;
	struct latency_hist hist;
	uint64_t n_done;
	char fail_msg[400];
};

static const char tls_usage[] =
	"usage: sockgate-bench tls --connect IP:PORT --sni NAME --cafile FILE [options]\n"
	"  --conns N        concurrent connections (default 16)\n"
	"  --duration T     default 5s\n"
	"  --path PATH      request path (default /)\n"
	"  --expect TEXT    the response must contain TEXT (default: status 200 only)\n"
	"  --threads N      default: online CPUs\n"
	"  --timeout T      extra time before the run fails as hung (default 30s)\n"
	"  --label TEXT     copied into the JSON line\n";

int tls_parse_args(int argc, char **argv, struct tls_opts *o)
{
	static const struct option longopts[] = {
		{"connect", required_argument, NULL, 'c'},
		{"sni", required_argument, NULL, 's'},
		{"cafile", required_argument, NULL, 'C'},
		{"path", required_argument, NULL, 'p'},
		{"expect", required_argument, NULL, 'x'},
		{"conns", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 'd'},
		{"threads", required_argument, NULL, 't'},
		{"timeout", required_argument, NULL, 'T'},
		{"label", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c, has_addr = 0, bad = 0;

	memset(o, 0, sizeof(*o));
	o->path = "/";
	o->conns = 16;
	o->threads = bench_default_threads();
	o->duration_ms = 5000;
	o->timeout_ms = 30000;
	optind = 1;
	while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			has_addr = 1;
			bad = bench_parse_addr("--connect", optarg, &o->addr, &o->addr_len);
			break;
		case 's':
			o->sni = optarg;
			break;
		case 'C':
			o->cafile = optarg;
			break;
		case 'p':
			o->path = optarg;
			break;
		case 'x':
			o->expect = optarg;
			break;
		case 'n':
			bad = bench_parse_count("--conns", optarg, 1, 100000, &v);
			o->conns = (unsigned)v;
			break;
		case 'd':
			bad = bench_parse_duration("--duration", optarg, &o->duration_ms);
			break;
		case 't':
			bad = bench_parse_count("--threads", optarg, 1, BENCH_MAX_THREADS, &v);
			o->threads = (unsigned)v;
			break;
		case 'T':
			bad = bench_parse_duration("--timeout", optarg, &o->timeout_ms);
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'h':
			fputs(tls_usage, stdout);
			exit(0);
		default:
			bad = 1;
		}
	}
	if (bad || !has_addr || !o->sni || !o->cafile || optind != argc) {
		fputs(tls_usage, stderr);
		return 2;
	}
	if (o->threads > o->conns)
		o->threads = o->conns;
	return 0;
}

static void fail(struct tls_thread *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct tls_thread *t, const char *fmt, ...)
{
	unsigned long e = ERR_get_error();
	char why[300], ssl_err[120] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (e)
		ERR_error_string_n(e, ssl_err, sizeof(ssl_err));
	ERR_clear_error();
	fprintf(stderr, "sockgate-bench tls: FAIL thread=%u: %s%s%s\n", t->id, why, e ? ": " : "",
		ssl_err);
	if (!t->fail_msg[0])
		snprintf(t->fail_msg, sizeof(t->fail_msg), "%s%s%s", why, e ? ": " : "", ssl_err);
	atomic_store(t->failed, true);
}

static void conn_close(struct tls_thread *t, struct tls_conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = TLS_FREE;
	t->n_open--;
}

static void watch(struct tls_thread *t, struct tls_conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static bool conn_open(struct tls_thread *t, struct tls_conn *c)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	int fd = bench_connect(&t->o->addr, t->o->addr_len);

	if (fd < 0) {
		fail(t, "connect: %s", strerror(-fd));
		return false;
	}
	c->fd = fd;
	c->state = TLS_CONNECTING;
	c->resp_len = 0;
	c->t0_ns = bench_now_ns();
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(fd);
		c->fd = -1;
		c->state = TLS_FREE;
		fail(t, "epoll: %s", strerror(errno));
		return false;
	}
	t->n_open++;
	return true;
}

/* Waits for what OpenSSL asked for; false when r was an error (reported). */
static bool want(struct tls_thread *t, struct tls_conn *c, int r, const char *what)
{
	int e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ) {
		watch(t, c, EPOLLIN);
		return true;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		watch(t, c, EPOLLOUT);
		return true;
	}
	if (c->state == TLS_HANDSHAKE && e == SSL_ERROR_SSL &&
	    SSL_get_verify_result(c->ssl) != X509_V_OK)
		fail(t, "%s: certificate check failed: %s", what,
		     X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
	else
		fail(t, "%s: SSL error %d (%s)", what, e,
		     e == SSL_ERROR_SYSCALL ? strerror(errno) : "");
	return false;
}

static bool start_tls(struct tls_thread *t, struct tls_conn *c)
{
	int err = bench_sock_error(c->fd);

	if (err) {
		fail(t, "connect: %s", strerror(err));
		return false;
	}
	c->ssl = SSL_new(t->ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) || !SSL_set_tlsext_host_name(c->ssl, t->o->sni) ||
	    !SSL_set1_host(c->ssl, t->o->sni)) {
		fail(t, "SSL setup");
		return false;
	}
	SSL_set_connect_state(c->ssl);
	c->state = TLS_HANDSHAKE;
	return true;
}

static bool response_ok(struct tls_thread *t, struct tls_conn *c)
{
	c->resp[c->resp_len] = '\0';
	if (strncmp(c->resp, "HTTP/1.1 200 ", 13) != 0) {
		fail(t, "response is not 200: \"%.40s\"", c->resp);
		return false;
	}
	if (t->o->expect && !strstr(c->resp, t->o->expect)) {
		fail(t, "response lacks \"%s\"", t->o->expect);
		return false;
	}
	return true;
}

static void finish(struct tls_thread *t, struct tls_conn *c)
{
	if (!response_ok(t, c))
		return;
	latency_hist_add(&t->hist, bench_now_ns() - c->t0_ns);
	t->n_done++;
	conn_close(t, c);
	if (bench_now_ns() < t->t_stop_ns)
		conn_open(t, c);
}

static void drive(struct tls_thread *t, struct tls_conn *c)
{
	int r;

	if (c->state == TLS_CONNECTING && !start_tls(t, c))
		return;
	if (c->state == TLS_HANDSHAKE) {
		r = SSL_connect(c->ssl);
		if (r != 1) {
			want(t, c, r, "handshake");
			return;
		}
		c->state = TLS_WRITING;
	}
	if (c->state == TLS_WRITING) {
		r = SSL_write(c->ssl, t->request, (int)t->request_len);
		if (r <= 0) {
			want(t, c, r, "write");
			return;
		}
		c->state = TLS_READING;
	}
	for (;;) {
		char tmp[4096];
		size_t keep;

		r = SSL_read(c->ssl, tmp, sizeof(tmp));
		if (r <= 0)
			break;
		keep = RESP_KEEP - c->resp_len < (size_t)r ? RESP_KEEP - c->resp_len : (size_t)r;
		memcpy(c->resp + c->resp_len, tmp, keep);
		c->resp_len += keep;
	}
	if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
		finish(t, c);
	else
		want(t, c, r, "read");
}

static void *thread_main(void *arg)
{
	struct tls_thread *t = arg;
	struct epoll_event evs[EVENTS_MAX];

	for (unsigned i = 0; i < t->n_conns && !atomic_load(t->failed); i++)
		conn_open(t, &t->conns[i]);
	while (!atomic_load(t->failed) && t->n_open > 0) {
		int n;

		if (bench_now_ns() > t->t_deadline_ns) {
			fail(t, "run timed out with %u connections open", t->n_open);
			break;
		}
		n = epoll_wait(t->epfd, evs, EVENTS_MAX, TICK_MS);
		for (int i = 0; i < n && !atomic_load(t->failed); i++)
			drive(t, evs[i].data.ptr);
	}
	return NULL;
}

static int thread_setup(struct tls_thread *t, const struct tls_opts *o, unsigned id, unsigned n)
{
	t->o = o;
	t->id = id;
	t->n_conns = n;
	latency_hist_init(&t->hist);
	t->request_len =
		(size_t)snprintf(t->request, sizeof(t->request),
				 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sockgate-bench\r\n"
				 "Connection: close\r\n\r\n",
				 o->path, o->sni);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->conns = calloc(n, sizeof(*t->conns));
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->epfd == -1 || !t->conns || !t->ctx || t->request_len >= sizeof(t->request))
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		t->conns[i].fd = -1;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* Every connection is a full handshake: no session cache, no tickets used. */
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(t->ctx, o->cafile, NULL) != 1) {
		fprintf(stderr, "sockgate-bench tls: cannot load CA file %s\n", o->cafile);
		return -EINVAL;
	}
	return 0;
}

static void thread_teardown(struct tls_thread *t)
{
	for (unsigned i = 0; t->conns && i < t->n_conns; i++) {
		if (t->conns[i].ssl)
			SSL_free(t->conns[i].ssl);
		if (t->conns[i].fd >= 0)
			close(t->conns[i].fd);
	}
	if (t->epfd >= 0)
		close(t->epfd);
	SSL_CTX_free(t->ctx);
	free(t->conns);
}

int tls_run(const struct tls_opts *o)
{
	struct tls_thread *th = calloc(o->threads, sizeof(*th));
	struct latency_hist *hist = malloc(sizeof(*hist));
	atomic_bool failed = false;
	uint64_t t0, n_done = 0;
	unsigned started = 0;
	const char *why = NULL;
	double el, user_s, sys_s;
	int rc = 1;

	if (!th || !hist)
		goto out;
	latency_hist_init(hist);
	for (unsigned i = 0; i < o->threads; i++)
		th[i].epfd = -1;
	t0 = bench_now_ns();
	for (unsigned i = 0; i < o->threads; i++) {
		th[i].failed = &failed;
		th[i].t_stop_ns = t0 + o->duration_ms * 1000000ull;
		th[i].t_deadline_ns = th[i].t_stop_ns + o->timeout_ms * 1000000ull;
		if (thread_setup(&th[i], o, i,
				 o->conns / o->threads + (i < o->conns % o->threads))) {
			fprintf(stderr, "sockgate-bench tls: setup failed\n");
			goto teardown;
		}
	}
	for (; started < o->threads; started++)
		if (pthread_create(&th[started].tid, NULL, thread_main, &th[started]))
			break;
	for (unsigned i = 0; i < started; i++) {
		pthread_join(th[i].tid, NULL);
		latency_hist_merge(hist, &th[i].hist);
		n_done += th[i].n_done;
		if (!why && th[i].fail_msg[0])
			why = th[i].fail_msg;
	}
	el = (double)(bench_now_ns() - t0) / 1e9;
	bench_cpu_self(&user_s, &sys_s);
	rc = atomic_load(&failed) || started < o->threads ? 1 : 0;
	printf("{\"role\":\"tls\",\"label\":");
	json_str(stdout, o->label ? o->label : "");
	printf(",\"connections\":%u,\"elapsed_s\":%.3f,\"handshakes\":%llu,\"hs_per_s\":%.1f,",
	       o->conns, el, (unsigned long long)n_done, el > 0 ? (double)n_done / el : 0.0);
	bench_json_latency(stdout, "latency_us", hist);
	printf(",\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"ok\":%s,\"error\":", user_s, sys_s,
	       rc ? "false" : "true");
	json_str(stdout, rc ? (why ? why : "threads did not start") : NULL);
	printf("}\n");
	fflush(stdout);
teardown:
	for (unsigned i = 0; i < o->threads; i++)
		thread_teardown(&th[i]);
out:
	free(hist);
	free(th);
	return rc;
}
