// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* resolve_thread.c: see resolve_thread.h. One thread drives one c-ares
 * channel: every name due is asked at once (A and AAAA through
 * ares_getaddrinfo, which also reads /etc/hosts as the system's lookup order
 * says), so a slow name only delays itself, and each answer's smallest record
 * TTL, kept within [RESOLVE_MIN_TTL_MS, interval], says when the name is asked
 * again. The thread waits in poll() on the channel's sockets and on an
 * eventfd the owner writes to when it gives new names: the channel is never
 * touched by the owner. Everything the two sides share is in struct
 * resolve_thread, under mu, and freed by whichever side lets go last. */
#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "resolve_thread.h"

/* A record with TTL 0 (or a hosts-file entry, which has none) is asked again
 * after this, not in a loop. */
#define RESOLVE_MIN_TTL_MS 1000u

struct resolve_thread {
	pthread_mutex_t mu;
	unsigned refs; /* the owner and the thread */
	bool is_stopping;
	int efd;      /* answers are waiting: the owner's loop watches it */
	int wake;     /* names changed or stopping: the thread polls it */
	char **names; /* followed: each asked again when its TTL ends */
	size_t n_names;
	char **urgent; /* asked as soon as the thread sees them */
	size_t n_urgent;
	uint64_t interval_ms;		/* the longest a name waits */
	uint64_t gen;			/* bumped when names or interval change */
	struct resolve_answer *answers; /* posted, not yet taken */
	size_t n_answers;
};

/* The thread's own view of one followed name. */
struct name_state {
	char *name;
	uint64_t due_ms; /* CLOCK_MONOTONIC */
	bool is_asking;
	bool is_followed; /* in t->names (else asked once, urgently) */
};

struct worker {
	struct resolve_thread *t;
	ares_channel ch;
	struct name_state *v;
	size_t n;
	uint64_t gen, interval_ms;
};

struct query {
	struct worker *w;
	char *name;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **dup_strs(const char *const *v, size_t n)
{
	char **d = calloc(n ? n : 1, sizeof(*d));

	for (size_t i = 0; d && i < n; i++) {
		d[i] = strdup(v[i]);
		if (!d[i]) {
			free_strs(d, i);
			return NULL;
		}
	}
	return d;
}

void resolve_answers_free(struct resolve_answer *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].addrs);
	}
	free(v);
}

static void destroy(struct resolve_thread *t)
{
	free_strs(t->names, t->n_names);
	free_strs(t->urgent, t->n_urgent);
	resolve_answers_free(t->answers, t->n_answers);
	close(t->efd);
	close(t->wake);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Drops one side's hold; the last one frees. Called with mu held, returns
 * with it released. */
static void let_go(struct resolve_thread *t)
{
	bool is_last = --t->refs == 0;

	pthread_mutex_unlock(&t->mu);
	if (is_last)
		destroy(t);
}

static void kick(int fd)
{
	uint64_t one = 1;

	/* The counter only saturates after 2^64-2 writes: a failed write means nothing. */
	if (write(fd, &one, sizeof(one)) == -1)
		return;
}

/* Appends one answer (moved) for the owner and wakes its loop. */
static void post(struct resolve_thread *t, struct resolve_answer *a)
{
	struct resolve_answer *grown;

	pthread_mutex_lock(&t->mu);
	grown = t->is_stopping ? NULL : realloc(t->answers, (t->n_answers + 1) * sizeof(*grown));
	if (!grown) {
		pthread_mutex_unlock(&t->mu);
		resolve_answers_free(a, 1); /* asked again when due */
		return;
	}
	grown[t->n_answers++] = *a;
	free(a);
	t->answers = grown;
	kick(t->efd);
	pthread_mutex_unlock(&t->mu);
}

static struct name_state *find(struct worker *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++) {
		if (!strcmp(w->v[i].name, name))
			return &w->v[i];
	}
	return NULL;
}

/* RFC 6761 §6.4: names under .invalid are answered negatively at once;
 * asking DNS would only add a timeout. */
static bool is_invalid_tld(const char *host)
{
	size_t len = strlen(host);

	return !strcasecmp(host, "invalid") || (len > 8 && !strcasecmp(host + len - 8, ".invalid"));
}

/* The addresses of res into a (normalised); the smallest TTL in *ttl_s. */
static int fill(struct resolve_answer *a, const struct ares_addrinfo *res, uint64_t *ttl_s)
{
	size_t total = 0, k = 0;

	for (const struct ares_addrinfo_node *n = res->nodes; n; n = n->ai_next)
		total++;
	a->addrs = calloc(total ? total : 1, sizeof(*a->addrs));
	if (!a->addrs)
		return -ENOMEM;
	*ttl_s = UINT64_MAX;
	for (const struct ares_addrinfo_node *n = res->nodes; n; n = n->ai_next) {
		if (dns_addr_from_sockaddr(n->ai_addr, n->ai_addrlen, &a->addrs[k])) {
			k++;
			if ((uint64_t)(n->ai_ttl < 0 ? 0 : n->ai_ttl) < *ttl_s)
				*ttl_s = (uint64_t)(n->ai_ttl < 0 ? 0 : n->ai_ttl);
		}
	}
	a->n_addrs = dns_addrs_normalize(a->addrs, k);
	if (!a->n_addrs) {
		snprintf(a->why, DNS_WHY_MAX, "no IPv4 or IPv6 address");
		return -ENOENT;
	}
	return 0;
}

static uint64_t clamp_ttl_ms(uint64_t ttl_s, uint64_t max_ms)
{
	uint64_t ms = ttl_s > UINT64_MAX / 1000 ? UINT64_MAX : ttl_s * 1000;

	if (ms < RESOLVE_MIN_TTL_MS)
		ms = RESOLVE_MIN_TTL_MS;
	return ms > max_ms && max_ms >= RESOLVE_MIN_TTL_MS ? max_ms : ms;
}

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct query *q = arg;
	struct worker *w = q->w;
	struct resolve_answer *a = calloc(1, sizeof(*a));
	uint64_t ttl_s = UINT64_MAX;
	struct name_state *s;
	(void)timeouts;

	if (status == ARES_EDESTRUCTION || !a) {
		/* The channel is going away, or no memory: asked again when due. */
		goto out;
	}
	a->name = q->name;
	q->name = NULL;
	if (status == ARES_SUCCESS && res)
		a->err = fill(a, res, &ttl_s);
	else if (status == ARES_ENOMEM)
		a->err = -ENOMEM;
	else {
		a->err = -ENOENT;
		snprintf(a->why, DNS_WHY_MAX, "%s", ares_strerror(status));
	}
	if (a->err) {
		free(a->addrs);
		a->addrs = NULL;
		a->n_addrs = 0;
	}
	s = find(w, a->name);
	if (s) {
		s->is_asking = false;
		/* A failed name is asked again at the interval: it keeps its last
		 * addresses meanwhile (resolver.c). */
		s->due_ms =
			now_ms() + (a->err ? w->interval_ms : clamp_ttl_ms(ttl_s, w->interval_ms));
	}
	post(w->t, a);
	a = NULL;
out:
	if (res)
		ares_freeaddrinfo(res);
	free(a);
	free(q->name);
	free(q);
}

static void ask(struct worker *w, struct name_state *s)
{
	struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct query *q = calloc(1, sizeof(*q));

	if (!q || !(q->name = strdup(s->name))) {
		free(q);
		return;
	}
	q->w = w;
	s->is_asking = true;
	if (is_invalid_tld(s->name)) {
		struct resolve_answer *a = calloc(1, sizeof(*a));

		s->is_asking = false;
		s->due_ms = now_ms() + w->interval_ms;
		if (a) {
			a->name = q->name;
			a->err = -ENOENT;
			snprintf(a->why, DNS_WHY_MAX, "reserved name (RFC 6761)");
			post(w->t, a);
		} else {
			free(q->name);
		}
		free(q);
		return;
	}
	ares_getaddrinfo(w->ch, s->name, NULL, &hints, on_answer, q);
}

/* Brings the thread's names in line with the owner's, with mu held: kept names
 * keep their schedule (within a shorter interval); new ones are due in
 * RESOLVE_MIN_TTL_MS, urgent ones now. A dropped name still being asked is forgotten:
 * its answer is posted all the same, and the owner drops it. */
static void sync_names(struct worker *w)
{
	struct resolve_thread *t = w->t;
	uint64_t now = now_ms();

	if (w->gen != t->gen) {
		struct name_state *v = calloc(t->n_names + 1, sizeof(*v));
		size_t k = 0;

		if (!v)
			return; /* tried again on the next wake-up */
		for (size_t i = 0; i < t->n_names; i++) {
			struct name_state *old = find(w, t->names[i]);

			v[k].name = strdup(t->names[i]);
			if (!v[k].name)
				continue;
			/* A name new to the thread was looked up without its TTL
			 * (at start, by the owner): asked soon, to learn it. */
			v[k].due_ms = old ? old->due_ms : now + RESOLVE_MIN_TTL_MS;
			if (v[k].due_ms > now + t->interval_ms)
				v[k].due_ms = now + t->interval_ms;
			v[k].is_asking = old && old->is_asking;
			k++;
		}
		for (size_t i = 0; i < w->n; i++)
			free(w->v[i].name);
		free(w->v);
		w->v = v;
		w->n = k;
		w->gen = t->gen;
		w->interval_ms = t->interval_ms;
	}
	for (size_t i = 0; i < t->n_urgent; i++) {
		struct name_state *s = find(w, t->urgent[i]);

		if (s)
			s->due_ms = now;
	}
	free_strs(t->urgent, t->n_urgent);
	t->urgent = NULL;
	t->n_urgent = 0;
}

/* Asks every name due; returns how long poll() may sleep (ms). */
static int ask_due(struct worker *w)
{
	uint64_t now = now_ms(), next = now + 60000;

	for (size_t i = 0; i < w->n; i++) {
		struct name_state *s = &w->v[i];

		if (s->is_asking)
			continue;
		if (s->due_ms <= now)
			ask(w, s);
		if (!s->is_asking && s->due_ms < next)
			next = s->due_ms;
	}
	return next > now ? (int)(next - now) : 0;
}

/* One wait on the wake eventfd and the channel's sockets, then the channel's
 * work (answers, retries, timeouts). */
static void wait_and_process(struct worker *w, int sleep_ms)
{
	struct pollfd p[ARES_GETSOCK_MAXNUM + 1] = {{.fd = w->t->wake, .events = POLLIN}};
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	int bits = ares_getsock(w->ch, socks, ARES_GETSOCK_MAXNUM);
	struct timeval tv, *tvp = ares_timeout(w->ch, NULL, &tv);
	nfds_t np = 1;
	uint64_t count;

	for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		/* c-ares's ARES_GETSOCK_WRITABLE() shifts a signed 1 into the
		 * sign bit for socket 15 (undefined behaviour): the same test,
		 * unsigned. */
		unsigned int ubits = (unsigned int)bits;
		short ev = (short)((ubits & (1u << i) ? POLLIN : 0) |
				   (ubits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0));

		if (ev)
			p[np++] = (struct pollfd){.fd = socks[i], .events = ev};
	}
	if (tvp) {
		long ms = tvp->tv_sec * 1000 + tvp->tv_usec / 1000 + 1;

		if (ms < sleep_ms)
			sleep_ms = (int)ms;
	}
	if (poll(p, np, sleep_ms) > 0 && (p[0].revents & POLLIN) &&
	    read(w->t->wake, &count, sizeof(count)) == -1)
		count = 0; /* EAGAIN: another wake-up took it */
	for (nfds_t i = 1; i < np; i++) {
		ares_socket_t r =
			p[i].revents & (POLLIN | POLLERR | POLLHUP) ? p[i].fd : ARES_SOCKET_BAD;
		ares_socket_t wr = p[i].revents & POLLOUT ? p[i].fd : ARES_SOCKET_BAD;

		ares_process_fd(w->ch, r, wr);
	}
	/* Timeouts and retries, with no socket ready. */
	ares_process_fd(w->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

static void *run(void *arg)
{
	struct worker w = {.t = arg};

	w.ch = NULL;
	if (ares_init(&w.ch) != ARES_SUCCESS)
		w.ch = NULL;
	pthread_mutex_lock(&w.t->mu);
	while (!w.t->is_stopping && w.ch) {
		int sleep_ms;

		sync_names(&w);
		pthread_mutex_unlock(&w.t->mu);
		sleep_ms = ask_due(&w);
		wait_and_process(&w, sleep_ms);
		pthread_mutex_lock(&w.t->mu);
	}
	pthread_mutex_unlock(&w.t->mu);
	if (w.ch)
		ares_destroy(w.ch); /* pending queries end with ARES_EDESTRUCTION */
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].name);
	free(w.v);
	pthread_mutex_lock(&w.t->mu);
	let_go(w.t);
	return NULL;
}

struct resolve_thread *resolve_thread_start(uint64_t interval_ms)
{
	struct resolve_thread *t = calloc(1, sizeof(*t));
	sigset_t all, old;
	pthread_t tid;
	int err;

	if (!t)
		return NULL;
	t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->efd == -1 || t->wake == -1) {
		err = -errno;
		goto err_close;
	}
	err = -pthread_mutex_init(&t->mu, NULL);
	if (err)
		goto err_close;
	t->refs = 2;
	t->interval_ms = interval_ms;
	t->gen = 1;
	/* The agent takes its signals through a signalfd, which needs them
	 * blocked in every thread: the new thread inherits this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&tid, NULL, run, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_mutex_destroy(&t->mu);
		goto err_close;
	}
	pthread_detach(tid);
	return t;
err_close:
	if (t->efd != -1)
		close(t->efd);
	if (t->wake != -1)
		close(t->wake);
	free(t);
	errno = -err;
	return NULL;
}

int resolve_thread_fd(const struct resolve_thread *t)
{
	return t->efd;
}

int resolve_thread_set(struct resolve_thread *t, const char *const *names, size_t n,
		       const char *const *urgent, size_t n_urgent, uint64_t interval_ms)
{
	char **all = dup_strs(names, n), **now = dup_strs(urgent, n_urgent), **merged;

	if (!all || !now)
		goto err_nomem;
	pthread_mutex_lock(&t->mu);
	merged = realloc(t->urgent, (t->n_urgent + n_urgent + 1) * sizeof(*merged));
	if (!merged) {
		pthread_mutex_unlock(&t->mu);
		goto err_nomem;
	}
	memcpy(merged + t->n_urgent, now, n_urgent * sizeof(*now));
	free(now);
	t->urgent = merged;
	t->n_urgent += n_urgent;
	free_strs(t->names, t->n_names);
	t->names = all;
	t->n_names = n;
	t->interval_ms = interval_ms;
	t->gen++;
	kick(t->wake);
	pthread_mutex_unlock(&t->mu);
	return 0;
err_nomem:
	free_strs(all, all ? n : 0);
	free_strs(now, now ? n_urgent : 0);
	return -ENOMEM;
}

void resolve_thread_take(struct resolve_thread *t, struct resolve_answer **out, size_t *n)
{
	uint64_t count;
	ssize_t r;

	pthread_mutex_lock(&t->mu);
	/* Clears the eventfd; EAGAIN only means nothing was posted since. */
	r = read(t->efd, &count, sizeof(count));
	(void)r;
	*out = t->answers;
	*n = t->n_answers;
	t->answers = NULL;
	t->n_answers = 0;
	pthread_mutex_unlock(&t->mu);
}

void resolve_thread_stop(struct resolve_thread *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->is_stopping = true;
	kick(t->wake);
	let_go(t);
}
