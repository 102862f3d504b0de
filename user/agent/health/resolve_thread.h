/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* resolve_thread.h: one thread that looks host names up with c-ares so the
 * agent's event loop never waits on DNS. The owner gives it the names and an
 * interval; it asks every name due at once (A and AAAA, /etc/hosts first as
 * the system says), names the owner calls new at once, and asks each name
 * again when the smallest TTL of its answer ends, kept between 1 s and the
 * interval (a failed name: the interval). Answers wait for the owner, whose
 * loop watches an eventfd that turns readable when there are some. Stopping
 * never waits for a lookup in progress: the thread drops it and frees what it
 * shares with the owner. */
#ifndef SG_RESOLVE_THREAD_H
#define SG_RESOLVE_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "dns_cache.h"

struct resolve_answer {
	char *name;
	int err;		/* 0, -ENOENT (the name has no address: why) or -ENOMEM */
	struct dns_addr *addrs; /* err 0: normalised, n_addrs >= 1 */
	size_t n_addrs;
	char why[DNS_WHY_MAX];
};

struct resolve_thread;

/* Starts the thread with no names.
 * NULL with errno set on failure. */
struct resolve_thread *resolve_thread_start(uint64_t interval_ms);

/* The eventfd the owner's loop watches (readable: answers are waiting; read
 * its 8-byte counter to clear it). */
int resolve_thread_fd(const struct resolve_thread *t);

/* Replaces the names followed with names[0..n) (copied) and the interval (a
 * shorter interval counts from now; new names are asked within a second, to
 * learn their TTL);
 * urgent[0..n_urgent), among names, are looked up at once. 0 or -ENOMEM (nothing changed). */
int resolve_thread_set(struct resolve_thread *t, const char *const *names, size_t n,
		       const char *const *urgent, size_t n_urgent, uint64_t interval_ms);

/* Hands over the answers posted so far: *out (free with
 * resolve_answers_free()) holds *n of them, in the order they were made. */
void resolve_thread_take(struct resolve_thread *t, struct resolve_answer **out, size_t *n);

void resolve_answers_free(struct resolve_answer *v, size_t n);

/* Tells the thread to stop and lets go of it; t is not used afterwards.
 * Answers not taken are dropped. NULL-tolerant. */
void resolve_thread_stop(struct resolve_thread *t);

#endif
