// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* access_log.c: see access_log.h. The lock guards the ring and the fd
 * handover only; the writer copies nothing out and writes a peeked span
 * without the lock, because a push only touches bytes outside that span
 * (line_ring.h). Reopening happens on the loop thread, so an error is logged
 * where the signal was handled; the writer switches fds between writes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "line_ring.h"
#include "log.h"
#include "write_all.h"

#define LINE_STACK_BYTES   2048
#define CLOSE_WAIT_SECONDS 5
/* Once woken, the writer gathers lines this long, or until this much is
 * queued, before it writes: a wakeup per line would cost the loops a futex
 * call per connection, and the writer a write() per line. */
#define GATHER_MS    10
#define GATHER_BYTES (64u << 10)

struct access_log {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* the writer's: bytes queued, a new fd, or stop */
	struct line_ring ring;
	int pending_fd; /* a reopened file the writer switches to, or -1 */
	bool is_stopping;
	/* writer thread only */
	int fd;
	pthread_t writer;
	bool has_writer; /* access_log_start() ran */
	bool is_idle;	 /* the writer waits for a first line (under lock) */
	/* loop threads only */
	char *path; /* NULL for stdout */
	enum access_fmt fmt;
	atomic_uint_fast64_t n_dropped;
	atomic_uint_fast64_t n_write_errors;
};

/* O_NOFOLLOW: the agent runs as root, and a symbolic link planted where the
 * log goes would make it append to any file the link names. */
static int open_file(const char *path)
{
	int fd =
		open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);

	return fd == -1 ? -errno : fd;
}

/* What went wrong opening path, in words an operator can act on. */
static const char *open_error(int err)
{
	return err == -ELOOP ? "is a symbolic link: not followed (give the file's own path)"
			     : strerror(-err);
}

/* Waits up to GATHER_MS for more lines (lock held), cut short by a full
 * batch, a stop or a reopen. */
static void gather(struct access_log *l)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += GATHER_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!l->is_stopping && l->pending_fd < 0 && l->ring.len < GATHER_BYTES &&
	       pthread_cond_timedwait(&l->wake, &l->lock, &until) == 0)
		;
}

static void *writer_main(void *arg)
{
	struct access_log *l = arg;
	bool has_reported = false;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		const char *span;
		size_t n;
		int err;

		if (l->pending_fd >= 0) {
			int old = l->fd;

			l->fd = l->pending_fd;
			l->pending_fd = -1;
			pthread_mutex_unlock(&l->lock);
			if (l->path)
				close(old);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		n = line_ring_peek(&l->ring, &span);
		if (n == 0) {
			if (l->is_stopping)
				break;
			l->is_idle = true;
			pthread_cond_wait(&l->wake, &l->lock);
			l->is_idle = false;
			if (!l->is_stopping && l->ring.len < GATHER_BYTES)
				gather(l);
			continue;
		}
		pthread_mutex_unlock(&l->lock);
		err = write_all(l->fd, span, n, WRITE_ALL_POLL);
		if (err) {
			atomic_fetch_add(&l->n_write_errors, 1);
			/* Once per run of errors: a full disk fails every write. */
			if (!has_reported)
				log_err("access log: write: %s; lines are lost until it works",
					strerror(-err));
		}
		has_reported = err != 0;
		pthread_mutex_lock(&l->lock);
		line_ring_consume(&l->ring, n);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

int access_log_open(struct access_log **out, const char *path, enum access_fmt fmt,
		    size_t queue_bytes)
{
	struct access_log *l = calloc(1, sizeof(*l));
	int err;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->fmt = fmt;
	l->pending_fd = -1;
	l->fd = STDOUT_FILENO;
	if (strcmp(path, "-") != 0) {
		l->path = strdup(path);
		l->fd = l->path ? open_file(path) : -ENOMEM;
		if (l->fd < 0) {
			err = l->fd;
			log_err("access log %s: %s", path, open_error(err));
			goto err_free;
		}
	}
	err = line_ring_init(&l->ring, queue_bytes);
	if (err)
		goto err_close;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->wake, NULL);
	*out = l;
	return 0;
err_close:
	if (l->path)
		close(l->fd);
err_free:
	free(l->path);
	free(l);
	return err;
}

int access_log_give(struct access_log *l, uid_t uid, gid_t gid)
{
	int err;

	if (!l->path || fchown(l->fd, uid, gid) == 0)
		return 0;
	err = -errno;
	log_err("access log %s: give it to uid %u gid %u: %s", l->path, (unsigned)uid,
		(unsigned)gid, strerror(-err));
	return err;
}

int access_log_start(struct access_log *l)
{
	sigset_t all, saved;
	int err;

	/* The writer must never take a signal: SIGHUP and SIGTERM are read from
	 * the loop's signalfd, and a thread with them unblocked would get their
	 * default action (exit). It inherits this mask at creation. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	err = -pthread_create(&l->writer, NULL, writer_main, l);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (err) {
		log_err("access log: writer thread: %s", strerror(-err));
		return err;
	}
	l->has_writer = true;
	return 0;
}

void access_log_write(struct access_log *l, const struct access_record *r)
{
	char stack[LINE_STACK_BYTES], *line = stack;
	size_t n = access_fmt_line(r, l->fmt, stack, sizeof(stack));
	bool is_queued;

	if (n >= sizeof(stack)) {
		/* Long ALPN lists or names: rare, so only they pay for malloc. */
		line = malloc(n + 1);
		if (!line) {
			atomic_fetch_add(&l->n_dropped, 1);
			return;
		}
		access_fmt_line(r, l->fmt, line, n + 1);
	}
	pthread_mutex_lock(&l->lock);
	is_queued = line_ring_push(&l->ring, line, n);
	/* No waiter, no syscall: the writer is only signalled when it waits
	 * for a first line, or gathers and a batch is full. */
	if (is_queued && (l->is_idle || l->ring.len >= GATHER_BYTES))
		pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	if (!is_queued)
		atomic_fetch_add(&l->n_dropped, 1);
	if (line != stack)
		free(line);
}

int access_log_reopen(struct access_log *l)
{
	int fd;

	if (!l->path)
		return 0;
	fd = open_file(l->path);
	if (fd < 0) {
		log_err("access log %s: reopen: %s; still writing to the old file", l->path,
			open_error(fd));
		return fd;
	}
	pthread_mutex_lock(&l->lock);
	if (l->pending_fd >= 0)
		close(l->pending_fd); /* two signals before the writer looked */
	l->pending_fd = fd;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	log_info("access log %s reopened", l->path);
	return 0;
}

uint64_t access_log_dropped(const struct access_log *l)
{
	return atomic_load(&((struct access_log *)l)->n_dropped);
}

uint64_t access_log_write_errors(const struct access_log *l)
{
	return atomic_load(&((struct access_log *)l)->n_write_errors);
}

void access_log_close(struct access_log *l)
{
	struct timespec deadline;
	int err;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->is_stopping = true;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += CLOSE_WAIT_SECONDS;
	err = l->has_writer ? pthread_timedjoin_np(l->writer, NULL, &deadline) : 0;
	if (err) {
		/* A reader that never reads (stdout to a stuck pipe) must not hold
		 * up the exit: the writer and its queue are left to the exit. */
		size_t left;

		pthread_mutex_lock(&l->lock);
		left = l->ring.len;
		pthread_mutex_unlock(&l->lock);
		log_warn("access log: writer still blocked after %d s; %zu bytes not written",
			 CLOSE_WAIT_SECONDS, left);
		return;
	}
	if (l->pending_fd >= 0)
		close(l->pending_fd);
	if (l->path)
		close(l->fd);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	line_ring_fini(&l->ring);
	free(l->path);
	free(l);
}
