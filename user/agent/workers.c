// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* workers.c: see workers.h. A worker is a copy of the root's struct agent:
 * conn/ and dataplane/ code runs unchanged on it, with the worker's loop,
 * connections and buffers, and the root's shared tables behind shared_lock. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "conn_internal.h"
#include "conn_lifetime.h"
#include "container_of.h"
#include "listeners.h"
#include "log.h"
#include "workers.h"

/* How the root learns that every worker took a reload: a reload is in force
 * for new connections when `sockgate reload` answers, whichever worker
 * accepts them. */
struct worker_sync {
	pthread_mutex_t lock;
	pthread_cond_t applied;
};

#define APPLY_WAIT_MS 2000

struct worker_inbox {
	pthread_mutex_t lock; /* a leaf: taken with or without the others */
	int efd;	      /* the eventfd the worker watches (agent.inbox_w) */
	bool apply, stop, stop_now;
	uint64_t apply_gen;
	struct sg_event *events;
	size_t n_events, cap_events;
};

size_t workers_default(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) == -1)
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? (size_t)n : 1;
}

static void wake(struct worker_inbox *in)
{
	uint64_t one = 1;

	if (write(in->efd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("worker inbox: %s", strerror(errno));
}

static void wake_root(struct agent *root)
{
	uint64_t one = 1;

	if (write(root->workers_done_w.fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("workers: %s", strerror(errno));
}

/* ---- in the worker's thread ---- */

static void on_drain_deadline(struct loop_timer *t)
{
	struct agent *w = container_of(t, struct agent, stop_timer);

	conn_express_hand_off(w); /* after a takeover: they go on, without us */
	if (w->n_conns)
		log_warn("worker %zu: resetting %zu connections still open", w->worker_index,
			 w->n_conns);
	conn_abort_all(w);
	loop_stop(w->loop);
}

static void begin_stop(struct agent *w, bool now)
{
	if (!w->is_stopping) {
		w->is_stopping = true;
		listeners_unwatch(w);
		/* Taken over: kept until they end or the deadline (agent.c). */
		if (!agent_is_held(w))
			conn_express_hand_off(w);
		w->stop_timer.on_expire = on_drain_deadline;
		/* The root's deadline: set before it told us to stop (the inbox's
		 * lock orders the two). */
		loop_timer_arm(w->loop, &w->stop_timer, w->root->drain_ms);
	}
	if (now)
		conn_abort_all(w);
	if (w->n_conns == 0)
		loop_stop(w->loop);
}

/* The root's configuration and listeners as they are now. A connection
 * keeps the configuration it was accepted under (conn.rt). */
static void apply(struct agent *w, uint64_t gen)
{
	struct runtime *old = w->rt;

	agent_shared_lock(w);
	w->rt = runtime_get(w->root->rt);
	agent_shared_unlock(w);
	runtime_put(old);
	if (!w->is_stopping)
		listeners_sync(w);
	if (agent_is_held(w))
		conn_express_unpend(w); /* before the root sends the sockets */
	pthread_mutex_lock(&w->sync->lock);
	w->applied_gen = gen;
	pthread_cond_broadcast(&w->sync->applied);
	pthread_mutex_unlock(&w->sync->lock);
}

static void on_inbox(struct loop_watch *lw, uint32_t events)
{
	struct agent *w = container_of(lw, struct agent, inbox_w);
	struct worker_inbox *in = w->inbox;
	struct sg_event *evs;
	size_t n;
	bool do_apply, do_stop, do_stop_now;
	uint64_t count, gen;
	(void)events;

	if (read(lw->fd, &count, sizeof(count)) == -1 && errno != EAGAIN)
		log_warn("worker %zu: inbox: %s", w->worker_index, strerror(errno));
	pthread_mutex_lock(&in->lock);
	do_apply = in->apply;
	gen = in->apply_gen;
	do_stop = in->stop;
	do_stop_now = in->stop_now;
	in->apply = in->stop = in->stop_now = false;
	evs = in->events;
	n = in->n_events;
	in->events = NULL;
	in->n_events = in->cap_events = 0;
	pthread_mutex_unlock(&in->lock);

	if (do_apply)
		apply(w, gen);
	for (size_t i = 0; i < n; i++)
		conn_on_bpf_event(w, &evs[i]);
	free(evs);
	if (do_stop || do_stop_now)
		begin_stop(w, do_stop_now);
}

static void *worker_main(void *arg)
{
	struct agent *w = arg;
	int err;

	pthread_mutex_lock(&w->own_lock);
	err = loop_run(w->loop);
	if (err)
		log_err("worker %zu: event loop: %s", w->worker_index, strerror(-err));
	conn_abort_all(w);
	conn_lifetime_close(w);
	listeners_unwatch(w);
	loop_run_once(w->loop, 0); /* the deferred frees */
	pthread_mutex_unlock(&w->own_lock);
	wake_root(w->root);
	return NULL;
}

/* ---- in the root's thread ---- */

static void free_worker(struct agent *w)
{
	if (!w)
		return;
	if (w->inbox) {
		if (w->inbox->efd >= 0)
			close(w->inbox->efd);
		pthread_mutex_destroy(&w->inbox->lock);
		free(w->inbox->events);
		free(w->inbox);
	}
	if (w->loop)
		loop_free(w->loop);
	pthread_mutex_destroy(&w->own_lock);
	free(w->index);
	free(w->peek_buf);
	free(w->copy_buf);
	runtime_put(w->rt);
	free(w);
}

/* A copy of root that shares its tables and owns the rest. */
static struct agent *new_worker(struct agent *root, size_t i)
{
	struct agent *w = malloc(sizeof(*w));

	if (!w)
		return NULL;
	*w = *root;
	w->root = root;
	w->workers = NULL;
	w->n_workers = 0;
	w->worker_index = i;
	w->has_workers = false;
	w->listeners = NULL;
	w->n_listeners = 0;
	w->watches = NULL;
	w->n_watches = 0;
	w->resting = w->next_resting = NULL;
	w->n_resting = w->n_next_resting = 0;
	w->conns = NULL;
	w->n_conns = 0;
	w->hello_oldest = w->hello_newest = NULL;
	w->peek_buf = NULL;
	w->peek_buf_cap = 0;
	w->log_limit = (struct log_limit)LOG_LIMIT_INIT(AGENT_LOG_PER_SECOND);
	w->stop_timer = (struct loop_timer){0};
	w->lifetime_timer = (struct loop_timer){0};
	w->is_stopping = false;
	/* The root's alone: a worker must never touch them. */
	w->metrics = NULL;
	w->control = NULL;
	w->config_watch = NULL;
	w->guard = NULL;
	w->inherited = NULL;
	w->handover = NULL;
	w->resolver = NULL;
	w->health = NULL;
	w->events = NULL;
	w->signals = (struct loop_watch){.fd = -1};
	w->rt = runtime_get(root->rt);
	pthread_mutex_init(&w->own_lock, NULL);
	w->loop = loop_new();
	w->index = calloc(AGENT_INDEX_SIZE, sizeof(*w->index));
	w->copy_buf = malloc(AGENT_COPY_BUF);
	w->inbox = calloc(1, sizeof(*w->inbox));
	if (w->inbox)
		w->inbox->efd = -1;
	if (!w->loop || !w->index || !w->copy_buf || !w->inbox) {
		free_worker(w);
		return NULL;
	}
	pthread_mutex_init(&w->inbox->lock, NULL);
	w->inbox->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->inbox_w = (struct loop_watch){.fd = w->inbox->efd, .on_event = on_inbox};
	if (w->inbox_w.fd < 0 || loop_add(w->loop, &w->inbox_w, EPOLLIN) != 0 ||
	    conn_lifetime_open(w) != 0) {
		free_worker(w);
		return NULL;
	}
	loop_set_lock(w->loop, &w->own_lock, &w->own_lock_wanted);
	return w;
}

/* A worker's loop ended: once all have, so does the root's. */
static void on_worker_done(struct loop_watch *lw, uint32_t events)
{
	struct agent *root = container_of(lw, struct agent, workers_done_w);
	uint64_t count = 0;
	(void)events;

	if (read(lw->fd, &count, sizeof(count)) == (ssize_t)sizeof(count))
		root->n_workers_done += count;
	if (root->n_workers_done >= root->n_workers)
		loop_stop(root->loop);
}

int workers_start(struct agent *root)
{
	size_t n = root->args->workers ? root->args->workers : workers_default();
	sigset_t all, saved;
	int err = 0;

	root->workers_done_w = (struct loop_watch){.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
						   .on_event = on_worker_done};
	if (root->workers_done_w.fd < 0)
		return -errno;
	err = loop_add(root->loop, &root->workers_done_w, EPOLLIN);
	if (err)
		return err;

	root->workers = calloc(n, sizeof(*root->workers));
	root->sync = calloc(1, sizeof(*root->sync));
	if (!root->workers || !root->sync)
		return -ENOMEM;
	pthread_mutex_init(&root->sync->lock, NULL);
	pthread_cond_init(&root->sync->applied, NULL);
	for (size_t i = 0; i < n; i++) {
		root->workers[i] = new_worker(root, i);
		if (!root->workers[i])
			return -ENOMEM;
		root->n_workers++;
		listeners_sync(root->workers[i]);
	}
	/* A worker never takes a signal: the root reads them from its signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	for (size_t i = 0; i < n && !err; i++) {
		err = -pthread_create(&root->workers[i]->thread, NULL, worker_main,
				      root->workers[i]);
		if (err)
			root->n_workers = i;
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (err)
		log_err("workers: %s", strerror(-err));
	else
		log_info("workers: %zu event loops carry the connections", n);
	return err;
}

static bool all_applied(const struct agent *root, uint64_t gen)
{
	for (size_t i = 0; i < root->n_workers; i++) {
		if (root->workers[i]->applied_gen < gen)
			return false;
	}
	return true;
}

void workers_apply(struct agent *root)
{
	uint64_t gen = ++root->apply_gen;
	struct timespec until;

	if (!root->n_workers)
		return;
	for (size_t i = 0; i < root->n_workers; i++) {
		struct worker_inbox *in = root->workers[i]->inbox;

		pthread_mutex_lock(&in->lock);
		in->apply = true;
		in->apply_gen = gen;
		pthread_mutex_unlock(&in->lock);
		wake(in);
	}
	if (root->is_stopping)
		return;
	/* Workers take shared_lock to apply: let go of it meanwhile. */
	pthread_mutex_unlock(root->shared_lock);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += APPLY_WAIT_MS / 1000;
	pthread_mutex_lock(&root->sync->lock);
	while (!all_applied(root, gen)) {
		if (pthread_cond_timedwait(&root->sync->applied, &root->sync->lock, &until) ==
		    ETIMEDOUT) {
			log_warn("workers: a worker took over %d ms to take the reload",
				 APPLY_WAIT_MS);
			break;
		}
	}
	pthread_mutex_unlock(&root->sync->lock);
	pthread_mutex_lock(root->shared_lock);
}

void workers_post_event(struct agent *root, const struct sg_event *e)
{
	for (size_t i = 0; i < root->n_workers; i++) {
		struct worker_inbox *in = root->workers[i]->inbox;
		bool is_queued = false;

		pthread_mutex_lock(&in->lock);
		if (in->n_events == in->cap_events) {
			size_t cap = in->cap_events ? 2 * in->cap_events : 16;
			struct sg_event *evs = realloc(in->events, cap * sizeof(*evs));

			if (evs) {
				in->events = evs;
				in->cap_events = cap;
			}
		}
		if (in->n_events < in->cap_events) {
			in->events[in->n_events++] = *e;
			is_queued = true;
		}
		pthread_mutex_unlock(&in->lock);
		if (is_queued)
			wake(in);
	}
}

void workers_stop(struct agent *root, bool now)
{
	for (size_t i = 0; i < root->n_workers; i++) {
		struct worker_inbox *in = root->workers[i]->inbox;

		pthread_mutex_lock(&in->lock);
		in->stop = true;
		in->stop_now = in->stop_now || now;
		pthread_mutex_unlock(&in->lock);
		wake(in);
	}
}

void workers_join(struct agent *root)
{
	for (size_t i = 0; i < root->n_workers; i++) {
		pthread_join(root->workers[i]->thread, NULL);
		free_worker(root->workers[i]);
	}
	free(root->workers);
	root->workers = NULL;
	root->n_workers = 0;
	if (root->workers_done_w.fd > 0)
		close(root->workers_done_w.fd);
	root->workers_done_w.fd = -1;
	if (root->sync) {
		pthread_cond_destroy(&root->sync->applied);
		pthread_mutex_destroy(&root->sync->lock);
		free(root->sync);
		root->sync = NULL;
	}
}
