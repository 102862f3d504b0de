// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_loop.c: the event loop's timer heap, watches and deferred queue. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

struct probe {
	struct loop_timer timer;
	uint64_t deadline_seen;
	int fired;
	int *order;
	int *n_order;
	int id;
};

static void on_probe(struct loop_timer *t)
{
	struct probe *p = (struct probe *)t;

	p->fired++;
	p->deadline_seen = t->deadline_ms;
	p->order[(*p->n_order)++] = p->id;
}

Test(loop, timers_fire_once_in_deadline_order_and_cancelled_ones_never)
{
	enum { N = 500 };
	struct loop *l = loop_new();
	static struct probe probes[N];
	int order[N], n_order = 0, expected = 0;

	cr_assert_not_null(l);
	srand(7);
	for (int i = 0; i < N; i++) {
		probes[i] = (struct probe){
			.timer.on_expire = on_probe, .order = order, .n_order = &n_order, .id = i};
		cr_assert_eq(loop_timer_arm(l, &probes[i].timer, (uint64_t)(rand() % 20)), 0);
	}
	/* Re-arming moves a timer; cancelling removes it, from any heap position. */
	for (int i = 0; i < N; i += 3)
		cr_assert_eq(loop_timer_arm(l, &probes[i].timer, (uint64_t)(rand() % 20)), 0);
	for (int i = 1; i < N; i += 7)
		loop_timer_cancel(l, &probes[i].timer);
	for (int i = 0; i < N; i++)
		expected += (i % 7 != 1);

	for (int iter = 0; iter < 1000 && n_order < expected; iter++)
		cr_assert_eq(loop_run_once(l, 50), 0);

	cr_assert_eq(n_order, expected, "fired %d of %d timers", n_order, expected);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(probes[i].fired, i % 7 == 1 ? 0 : 1, "timer %d fired %d times", i,
			     probes[i].fired);
		cr_assert(!loop_timer_is_armed(&probes[i].timer));
	}
	for (int k = 1; k < n_order; k++)
		cr_assert_leq(probes[order[k - 1]].deadline_seen, probes[order[k]].deadline_seen,
			      "timer %d fired before an earlier deadline", order[k]);
	loop_free(l);
}

struct pipe_watch {
	struct loop_watch w;
	struct loop_deferred freeer;
	int events_seen;
	bool is_freed;
};

static void on_pipe(struct loop_watch *w, uint32_t events)
{
	struct pipe_watch *p = (struct pipe_watch *)w;

	cr_assert(!p->is_freed, "event delivered after the deferred free ran");
	if (events & EPOLLIN)
		p->events_seen++;
}

static void free_later(struct loop_deferred *d)
{
	struct pipe_watch *p =
		(struct pipe_watch *)((char *)d - offsetof(struct pipe_watch, freeer));

	p->is_freed = true;
}

Test(loop, watch_reports_readable_fd_and_deferred_work_runs_after_the_batch)
{
	struct loop *l = loop_new();
	struct pipe_watch p = {.freeer.run = free_later};
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	p.w.fd = fds[0];
	p.w.on_event = on_pipe;
	cr_assert_eq(loop_add(l, &p.w, EPOLLIN), 0);
	cr_assert_eq(write(fds[1], "x", 1), 1);
	loop_defer(l, &p.freeer);
	loop_defer(l, &p.freeer); /* queued twice, runs once */
	cr_assert_eq(loop_run_once(l, 1000), 0);
	cr_assert_eq(p.events_seen, 1);
	cr_assert(p.is_freed);
	cr_assert_eq(loop_del(l, &p.w), 0);
	close(fds[0]);
	close(fds[1]);
	loop_free(l);
}
