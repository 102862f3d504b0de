// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* resolve_thread.c: see resolve_thread.h. A plain thread calling the blocking
 * getaddrinfo() rather than glibc's getaddrinfo_a(): that one starts threads
 * of its own anyway, reports through signals or callbacks on yet other
 * threads, and cannot be stopped either. One thread and one lookup at a time
 * keep the load on the resolver bounded; a slow name delays the others of
 * its round, never the loop. Everything the two sides share is in struct
 * resolve_thread, under mu, and freed by whichever side lets go last. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dns_lookup.h"
#include "resolve_thread.h"

struct resolve_thread {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	unsigned refs; /* the owner and the thread */
	bool is_stopping;
	int efd;
	char **names; /* looked up every round */
	size_t n_names;
	char **urgent; /* looked up as soon as the thread is free */
	size_t n_urgent;
	uint64_t interval_ms;
	uint64_t next_round_ms;		/* CLOCK_MONOTONIC */
	struct resolve_answer *answers; /* posted, not yet taken */
	size_t n_answers;
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
	pthread_cond_destroy(&t->wake);
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

/* What the next round looks up, taken with mu held: the urgent names, else
 * (when due) every name. NULL with *n 0 when nothing is due or on ENOMEM. */
static char **next_batch(struct resolve_thread *t, size_t *n)
{
	char **batch;

	*n = 0;
	if (t->n_urgent) {
		batch = t->urgent;
		*n = t->n_urgent;
		t->urgent = NULL;
		t->n_urgent = 0;
		return batch;
	}
	if (now_ms() < t->next_round_ms)
		return NULL;
	t->next_round_ms = now_ms() + t->interval_ms;
	batch = dup_strs((const char *const *)t->names, t->n_names);
	*n = batch ? t->n_names : 0;
	return batch;
}

/* Looks batch[0..n) up without the lock; the names move into the answers. */
static struct resolve_answer *look_up(char **batch, size_t n)
{
	struct resolve_answer *v = calloc(n, sizeof(*v));

	if (!v) {
		free_strs(batch, n);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].name = batch[i];
		v[i].err = dns_lookup(batch[i], &v[i].addrs, &v[i].n_addrs, v[i].why);
	}
	free(batch);
	return v;
}

/* Appends a round's answers for the owner and wakes its loop; with mu held. */
static void post(struct resolve_thread *t, struct resolve_answer *v, size_t n)
{
	struct resolve_answer *grown = realloc(t->answers, (t->n_answers + n) * sizeof(*grown));
	uint64_t one = 1;

	if (!grown) {
		resolve_answers_free(v, n); /* asked again next round */
		return;
	}
	memcpy(grown + t->n_answers, v, n * sizeof(*v));
	free(v);
	t->answers = grown;
	t->n_answers += n;
	/* The counter only saturates after 2^64-2 posts: a failed write means nothing. */
	if (write(t->efd, &one, sizeof(one)) == -1)
		return;
}

static void wait_until(struct resolve_thread *t, uint64_t deadline_ms)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
			      .tv_nsec = (long)(deadline_ms % 1000) * 1000000};

	pthread_cond_timedwait(&t->wake, &t->mu, &ts);
}

static void *run(void *arg)
{
	struct resolve_thread *t = arg;

	pthread_mutex_lock(&t->mu);
	while (!t->is_stopping) {
		struct resolve_answer *v;
		size_t n;
		char **batch = next_batch(t, &n);

		if (!batch) {
			wait_until(t, t->next_round_ms);
			continue;
		}
		pthread_mutex_unlock(&t->mu);
		v = look_up(batch, n);
		pthread_mutex_lock(&t->mu);
		if (v && !t->is_stopping)
			post(t, v, n);
		else if (v)
			resolve_answers_free(v, n);
	}
	let_go(t);
	return NULL;
}

static int init_sync(struct resolve_thread *t)
{
	pthread_condattr_t ca;
	int err = pthread_condattr_init(&ca);

	if (err)
		return -err;
	err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (err)
		return -err;
	err = pthread_mutex_init(&t->mu, NULL);
	if (err) {
		pthread_cond_destroy(&t->wake);
		return -err;
	}
	return 0;
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
	if (t->efd == -1) {
		err = -errno;
		goto err_free;
	}
	err = init_sync(t);
	if (err)
		goto err_close;
	t->refs = 2;
	t->interval_ms = interval_ms;
	t->next_round_ms = now_ms() + interval_ms;
	/* The agent takes its signals through a signalfd, which needs them
	 * blocked in every thread: the new thread inherits this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&tid, NULL, run, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->mu);
		goto err_close;
	}
	pthread_detach(tid);
	return t;
err_close:
	close(t->efd);
err_free:
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
	if (interval_ms != t->interval_ms) {
		t->interval_ms = interval_ms;
		t->next_round_ms = now_ms() + interval_ms;
	}
	pthread_cond_signal(&t->wake);
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
	pthread_cond_signal(&t->wake);
	let_go(t);
}
