/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* loop.h: one epoll event loop with millisecond timers (a binary min-heap) and
 * deferred callbacks that run after the current batch of events, so a handler
 * may free an object whose later events are still in the batch. No globals:
 * every loop is a struct the owner creates and frees. */
#ifndef SG_LOOP_H
#define SG_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

/* An fd watched by the loop; embed it in the owning object. */
struct loop_watch {
	int fd;
	void (*on_event)(struct loop_watch *w, uint32_t events);
};

/* A one-shot timer; embed it in the owning object. heap_idx is the loop's. */
struct loop_timer {
	uint64_t deadline_ms;
	size_t heap_idx; /* 0: not armed; else 1-based position in the heap */
	void (*on_expire)(struct loop_timer *t);
};

/* Work to run once after the current event batch; embed it in the owner. */
struct loop_deferred {
	struct loop_deferred *next;
	void (*run)(struct loop_deferred *d);
	bool is_queued;
};

/* Creates a loop. Returns NULL with errno set on failure. */
struct loop *loop_new(void);
/* Frees the loop; watches and timers are not touched. Accepts NULL. */
void loop_free(struct loop *l);

/* epoll_ctl ADD/MOD/DEL for w->fd with the given EPOLL* events. 0 or -errno. */
int loop_add(struct loop *l, struct loop_watch *w, uint32_t events);
int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events);
int loop_del(struct loop *l, struct loop_watch *w);

/* Arms (or re-arms) t to fire delay_ms from now. 0 or -ENOMEM. */
int loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t delay_ms);
/* Disarms t if armed; safe on a timer that never was. */
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_is_armed(const struct loop_timer *t)
{
	return t->heap_idx != 0;
}

/* Queues d to run after the current batch (once, however often it is queued). */
void loop_defer(struct loop *l, struct loop_deferred *d);
/* Unqueues d if queued: its owner is about to go away. */
void loop_defer_cancel(struct loop *l, struct loop_deferred *d);

/* CLOCK_MONOTONIC in milliseconds, as the timers see it. */
uint64_t loop_now_ms(void);

/* From now on the caller holds lock whenever it runs the loop, and
 * loop_run_once() releases it only while it waits for events: another
 * thread that takes lock knows no handler of this loop runs meanwhile. Such
 * a thread sets *is_wanted (may be NULL) while it waits, and the loop lets
 * it in before it takes the lock back. */
void loop_set_lock(struct loop *l, pthread_mutex_t *lock, int *is_wanted);

/* Waits up to max_wait_ms (-1: until the next timer) for events, dispatches
 * them, fires due timers, then runs deferred work. 0 or -errno (not EINTR). */
int loop_run_once(struct loop *l, int max_wait_ms);

/* loop_run() returns after the current iteration once this was called. */
void loop_stop(struct loop *l);
/* Runs iterations until loop_stop(). 0 or the first -errno. */
int loop_run(struct loop *l);

#endif
