// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* loop.c: epoll + timer heap + deferred queue. The heap holds pointers to the
 * embedded timers and keeps each timer's heap_idx current, so cancel is
 * O(log n) with no search. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define MAX_EVENTS  256
#define MAX_WAIT_MS 60000 /* longest epoll_wait() for a far timer */

struct loop {
	int epfd;
	bool is_stopping;
	struct loop_timer **heap; /* heap[0] unused: 1-based for simple parent math */
	size_t n_timers, cap_timers;
	struct loop_deferred *deferred;
	pthread_mutex_t *lock; /* held while handlers run; NULL: none */
	int *is_wanted;	       /* set by another thread waiting for lock */
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd == -1) {
		int err = errno;

		free(l);
		errno = err;
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->heap);
	free(l);
}

static int ctl(struct loop *l, int op, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	return epoll_ctl(l->epfd, op, w->fd, &ev) == -1 ? -errno : 0;
}

int loop_add(struct loop *l, struct loop_watch *w, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, w, events);
}

int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events)
{
	return ctl(l, EPOLL_CTL_MOD, w, events);
}

int loop_del(struct loop *l, struct loop_watch *w)
{
	return ctl(l, EPOLL_CTL_DEL, w, 0);
}

static void heap_set(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	while (i > 1 && l->heap[i / 2]->deadline_ms > t->deadline_ms) {
		heap_set(l, i, l->heap[i / 2]);
		i /= 2;
	}
	heap_set(l, i, t);
}

static void sift_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = i * 2;

		if (c > l->n_timers)
			break;
		if (c + 1 <= l->n_timers && l->heap[c + 1]->deadline_ms < l->heap[c]->deadline_ms)
			c++;
		if (l->heap[c]->deadline_ms >= t->deadline_ms)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	size_t i = t->heap_idx;
	struct loop_timer *last;

	if (i == 0)
		return;
	last = l->heap[l->n_timers--];
	t->heap_idx = 0;
	if (last == t)
		return;
	heap_set(l, i, last);
	sift_up(l, i);
	sift_down(l, last->heap_idx);
}

int loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t delay_ms)
{
	loop_timer_cancel(l, t);
	if (l->n_timers + 1 >= l->cap_timers) {
		size_t cap = l->cap_timers ? l->cap_timers * 2 : 64;
		struct loop_timer **heap = realloc(l->heap, cap * sizeof(*heap));

		if (!heap)
			return -ENOMEM;
		l->heap = heap;
		l->cap_timers = cap;
	}
	t->deadline_ms = loop_now_ms() + delay_ms;
	l->n_timers++;
	heap_set(l, l->n_timers, t);
	sift_up(l, l->n_timers);
	return 0;
}

void loop_defer(struct loop *l, struct loop_deferred *d)
{
	if (d->is_queued)
		return;
	d->is_queued = true;
	d->next = l->deferred;
	l->deferred = d;
}

void loop_defer_cancel(struct loop *l, struct loop_deferred *d)
{
	if (!d->is_queued)
		return;
	for (struct loop_deferred **pp = &l->deferred; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	d->is_queued = false;
}

static void run_deferred(struct loop *l)
{
	while (l->deferred) {
		struct loop_deferred *d = l->deferred;

		l->deferred = d->next;
		d->is_queued = false;
		d->run(d);
	}
}

static void fire_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();

	while (l->n_timers > 0 && l->heap[1]->deadline_ms <= now) {
		struct loop_timer *t = l->heap[1];

		loop_timer_cancel(l, t);
		t->on_expire(t);
	}
}

static int next_wait_ms(const struct loop *l, int max_wait_ms)
{
	uint64_t now, deadline;
	int wait;

	if (l->deferred)
		return 0;
	if (l->n_timers == 0)
		return max_wait_ms;
	now = loop_now_ms();
	deadline = l->heap[1]->deadline_ms;
	wait = deadline <= now ? 0
			       : (int)(deadline - now > MAX_WAIT_MS ? MAX_WAIT_MS : deadline - now);
	return max_wait_ms >= 0 && max_wait_ms < wait ? max_wait_ms : wait;
}

void loop_set_lock(struct loop *l, pthread_mutex_t *lock, int *is_wanted)
{
	l->lock = lock;
	l->is_wanted = is_wanted;
}

/* A busy loop's epoll_wait() returns at once, and a mutex is not fair: the
 * loop would take it back before a waiting thread runs. Let that one in. */
static void let_in(struct loop *l)
{
	for (int i = 0; l->is_wanted && i < 1000 && __atomic_load_n(l->is_wanted, __ATOMIC_ACQUIRE);
	     i++)
		sched_yield();
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
	struct epoll_event evs[MAX_EVENTS];
	int wait = next_wait_ms(l, max_wait_ms), n;

	if (l->lock) {
		pthread_mutex_unlock(l->lock);
		let_in(l);
	}
	n = epoll_wait(l->epfd, evs, MAX_EVENTS, wait);
	if (l->lock)
		pthread_mutex_lock(l->lock);

	if (n == -1)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct loop_watch *w = evs[i].data.ptr;

		w->on_event(w, evs[i].events);
	}
	fire_timers(l);
	run_deferred(l);
	return 0;
}

void loop_stop(struct loop *l)
{
	l->is_stopping = true;
}

int loop_run(struct loop *l)
{
	l->is_stopping = false;
	while (!l->is_stopping) {
		int err = loop_run_once(l, -1);

		if (err)
			return err;
	}
	return 0;
}
