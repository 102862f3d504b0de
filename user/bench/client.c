// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* client.c: the load generator's threads, timing and JSON line. Connections are
 * dealt to one thread per core; each thread owns its epoll set, its slots and
 * its counters, and the main thread merges them when all have finished. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "hello_build.h"
#include "json.h"
#include "util.h"

#define EVENTS_MAX   256
#define TICK_MS	     20
#define IDLE_RAMP    64 /* idle: connections per thread still in their first exchange */
#define IDLE_POLL_MS 10

void client_fail(struct cli_thread *t, long conn, const char *fmt, ...)
{
	struct client *cl = t->cl;
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sockgate-bench client: FAIL thread=%u conn=%ld: %s\n", t->id, conn, why);
	pthread_mutex_lock(&cl->fail_lock);
	if (!atomic_load(&cl->failed))
		snprintf(cl->fail_msg, sizeof(cl->fail_msg), "conn %ld: %s", conn, why);
	atomic_store(&cl->failed, true);
	pthread_mutex_unlock(&cl->fail_lock);
}

bool client_stopping(const struct cli_thread *t)
{
	if (t->cl->o->mode == CLIENT_MODE_IDLE)
		return atomic_load(&t->cl->idle_release);
	return bench_now_ns() >= t->cl->t_stop_ns;
}

/* This thread's ClientHello: the same shape for every connection, with random,
 * session id and key share drawn from the seed so runs repeat exactly. */
static int build_hello(struct cli_thread *t)
{
	const struct client_opts *o = t->cl->o;
	struct hello_spec spec = {.sni = o->sni, .alpn = o->alpn, .n_alpn = o->n_alpn};
	uint64_t x = t->seed_next | 1;
	ssize_t n;

	for (size_t i = 0; i < 32; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		spec.random[i] = (uint8_t)x;
		spec.session_id[i] = (uint8_t)(x >> 8);
		spec.key_share[i] = (uint8_t)(x >> 16);
	}
	n = hello_build(t->hello, sizeof(t->hello), &spec);
	if (n < 0) {
		fprintf(stderr,
			"sockgate-bench client: cannot build a ClientHello for SNI %s: %s\n",
			o->sni ? o->sni : "(none)", strerror((int)-n));
		return (int)n;
	}
	t->hello_len = (size_t)n;
	return 0;
}

/* idle: keeps IDLE_RAMP first exchanges in flight until every slot is open. */
static void idle_ramp(struct cli_thread *t)
{
	while (t->n_started < t->n_conns && t->n_unready < IDLE_RAMP &&
	       !atomic_load(&t->cl->failed)) {
		if (!conn_open(t, &t->conns[t->n_started]))
			return;
	}
}

static void stop_all(struct cli_thread *t)
{
	for (unsigned i = 0; i < t->n_conns && !atomic_load(&t->cl->failed); i++)
		if (t->conns[i].state == CONN_OPEN)
			conn_pump(t, &t->conns[i]);
	t->stop_sent = true;
}

static void report_hung(struct cli_thread *t)
{
	unsigned connecting = 0, waiting = 0;

	for (unsigned i = 0; i < t->n_conns; i++) {
		connecting += t->conns[i].state == CONN_CONNECTING;
		waiting += t->conns[i].state == CONN_OPEN && t->conns[i].in_trans;
	}
	/* A gateway out of file descriptors completes the TCP handshake in the kernel
	 * but never answers: that shows up here as connections waiting for a response. */
	client_fail(t, -1,
		    "run timed out with %u connections open: %u still connecting, %u waiting "
		    "for a response",
		    t->n_open, connecting, waiting);
}

static void *thread_main(void *arg)
{
	struct cli_thread *t = arg;
	struct client *cl = t->cl;
	struct epoll_event evs[EVENTS_MAX];

	if (cl->o->mode == CLIENT_MODE_IDLE)
		idle_ramp(t);
	else
		for (unsigned i = 0; i < t->n_conns && !atomic_load(&cl->failed); i++)
			conn_open(t, &t->conns[i]);
	while (!atomic_load(&cl->failed)) {
		int n;

		if (t->n_open == 0 && (cl->o->mode != CLIENT_MODE_IDLE || t->stop_sent))
			break;
		if (bench_now_ns() > cl->t_deadline_ns) {
			report_hung(t);
			break;
		}
		if (!t->stop_sent && client_stopping(t))
			stop_all(t);
		n = epoll_wait(t->epfd, evs, EVENTS_MAX, TICK_MS);
		if (n == -1 && errno != EINTR) {
			client_fail(t, -1, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && !atomic_load(&cl->failed); i++)
			conn_event(t, evs[i].data.ptr, evs[i].events);
		if (cl->o->mode == CLIENT_MODE_IDLE)
			idle_ramp(t);
	}
	return NULL;
}

static int thread_setup(struct client *cl, struct cli_thread *t, unsigned id, unsigned n_conns)
{
	const struct client_opts *o = cl->o;

	t->cl = cl;
	t->id = id;
	t->n_conns = n_conns;
	t->seed_next = o->seed * 0x100000001b3ull + ((uint64_t)id << 40);
	latency_hist_init(&t->hist);
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->conns = calloc(n_conns ? n_conns : 1, sizeof(*t->conns));
	t->buf = malloc(CLIENT_READ_BUF);
	if (t->epfd == -1 || !t->conns || !t->buf) {
		fprintf(stderr, "sockgate-bench client: out of memory\n");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n_conns; i++)
		t->conns[i].fd = -1;
	return build_hello(t);
}

static void thread_teardown(struct cli_thread *t)
{
	for (unsigned i = 0; t->conns && i < t->n_conns; i++)
		if (t->conns[i].fd >= 0)
			bench_abort_fd(t->conns[i].fd);
	if (t->epfd >= 0)
		close(t->epfd);
	free(t->conns);
	free(t->buf);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* idle: waits until every connection has done its first exchange, says so on
 * stderr (the harness measures memory then), holds, and releases them. */
static void idle_supervise(struct client *cl, double *setup_s)
{
	const struct client_opts *o = cl->o;
	uint64_t hold_end;

	while (!atomic_load(&cl->failed) && atomic_load(&cl->idle_ready) < o->conns) {
		if (bench_now_ns() > cl->t_deadline_ns)
			return; /* the threads report the hang */
		sleep_ms(IDLE_POLL_MS);
	}
	if (atomic_load(&cl->failed))
		return;
	*setup_s = (double)(bench_now_ns() - cl->t_start_ns) / 1e9;
	fprintf(stderr,
		"sockgate-bench client: idle: %u connections open and checked in %.2f s; "
		"holding %.1f s\n",
		o->conns, *setup_s, (double)o->hold_ms / 1000.0);
	fflush(stderr);
	hold_end = bench_now_ns() + o->hold_ms * 1000000ull;
	while (!atomic_load(&cl->failed) && bench_now_ns() < hold_end)
		sleep_ms(IDLE_POLL_MS);
	atomic_store(&cl->idle_release, true);
}

struct totals {
	struct latency_hist hist;
	uint64_t bytes_up, bytes_down, n_done, n_trans;
};

static void print_json(const struct client *cl, const struct totals *tot, double elapsed_s,
		       double setup_s)
{
	const struct client_opts *o = cl->o;
	double user_s, sys_s;
	bool ok = !atomic_load(&cl->failed);

	bench_cpu_self(&user_s, &sys_s);
	printf("{\"role\":\"client\",\"label\":");
	json_str(stdout, o->label ? o->label : "");
	printf(",\"mode\":\"%s\",\"dir\":\"%s\",\"connections\":%u,\"threads\":%u,",
	       client_mode_str(o->mode),
	       o->dir == CLIENT_DIR_UP	   ? "up"
	       : o->dir == CLIENT_DIR_DOWN ? "down"
					   : "both",
	       o->conns, o->threads);
	printf("\"req_bytes\":%u,\"resp_bytes\":%u,\"duration_s\":%.3f,\"elapsed_s\":%.3f,",
	       o->req_bytes, o->resp_bytes, (double)o->duration_ms / 1000.0, elapsed_s);
	printf("\"bytes_up\":%llu,\"bytes_down\":%llu,\"gbit_s\":%.3f,",
	       (unsigned long long)tot->bytes_up, (unsigned long long)tot->bytes_down,
	       elapsed_s > 0 ? (double)(tot->bytes_up + tot->bytes_down) * 8 / elapsed_s / 1e9
			     : 0.0);
	printf("\"conns_completed\":%llu,\"conn_per_s\":%.1f,\"transactions\":%llu,"
	       "\"trans_per_s\":%.1f,",
	       (unsigned long long)tot->n_done,
	       elapsed_s > 0 ? (double)tot->n_done / elapsed_s : 0.0,
	       (unsigned long long)tot->n_trans,
	       elapsed_s > 0 ? (double)tot->n_trans / elapsed_s : 0.0);
	bench_json_latency(stdout, "latency_us", &tot->hist);
	printf(",\"setup_s\":%.3f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"ok\":%s,\"error\":",
	       setup_s, user_s, sys_s, ok ? "true" : "false");
	json_str(stdout, ok ? NULL : cl->fail_msg);
	printf("}\n");
	fflush(stdout);
}

int client_run(const struct client_opts *o)
{
	struct client cl = {.o = o};
	struct cli_thread *threads = calloc(o->threads, sizeof(*threads));
	struct totals *tot = calloc(1, sizeof(*tot));
	unsigned started = 0;
	double setup_s = 0, elapsed_s;
	int rc = 1;

	pthread_mutex_init(&cl.fail_lock, NULL);
	cl.pat = malloc(sizeof(*cl.pat));
	if (!threads || !tot || !cl.pat) {
		fprintf(stderr, "sockgate-bench client: out of memory\n");
		goto out;
	}
	pattern_init(cl.pat);
	latency_hist_init(&tot->hist);
	for (unsigned i = 0; i < o->threads; i++)
		threads[i].epfd = -1;
	for (unsigned i = 0; i < o->threads; i++) {
		unsigned share = o->conns / o->threads + (i < o->conns % o->threads);

		if (thread_setup(&cl, &threads[i], i, share) < 0)
			goto teardown;
	}
	cl.t_start_ns = bench_now_ns();
	cl.t_stop_ns = cl.t_start_ns + o->duration_ms * 1000000ull;
	cl.t_deadline_ns =
		cl.t_start_ns +
		((o->mode == CLIENT_MODE_IDLE ? o->hold_ms : o->duration_ms) + o->timeout_ms) *
			1000000ull;
	for (; started < o->threads; started++) {
		if (pthread_create(&threads[started].tid, NULL, thread_main, &threads[started])) {
			fprintf(stderr, "sockgate-bench client: cannot start threads\n");
			atomic_store(&cl.failed, true);
			break;
		}
	}
	if (o->mode == CLIENT_MODE_IDLE)
		idle_supervise(&cl, &setup_s);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(threads[i].tid, NULL);
		latency_hist_merge(&tot->hist, &threads[i].hist);
		tot->bytes_up += threads[i].bytes_up;
		tot->bytes_down += threads[i].bytes_down;
		tot->n_done += threads[i].n_done;
		tot->n_trans += threads[i].n_trans;
	}
	elapsed_s = (double)(bench_now_ns() - cl.t_start_ns) / 1e9;
	print_json(&cl, tot, elapsed_s, setup_s);
	rc = atomic_load(&cl.failed) ? 1 : 0;
teardown:
	for (unsigned i = 0; i < o->threads; i++)
		thread_teardown(&threads[i]);
out:
	free(cl.pat);
	free(tot);
	free(threads);
	pthread_mutex_destroy(&cl.fail_lock);
	return rc;
}
