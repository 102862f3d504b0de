// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_walk.c: see conn_walk.h. */
#include "conn_internal.h"
#include "conn_walk.h"

void conn_walk(struct agent *root, void (*fn)(const struct conn *c, void *arg), void *arg)
{
	if (!root->has_workers) {
		for (const struct conn *c = root->conns; c; c = c->next)
			fn(c, arg);
		return;
	}
	pthread_mutex_unlock(root->shared_lock);
	for (size_t i = 0; i < root->n_workers; i++) {
		struct agent *w = root->workers[i];

		__atomic_store_n(&w->own_lock_wanted, 1, __ATOMIC_RELEASE);
		pthread_mutex_lock(&w->own_lock);
		__atomic_store_n(&w->own_lock_wanted, 0, __ATOMIC_RELEASE);
		for (const struct conn *c = w->conns; c; c = c->next)
			fn(c, arg);
		pthread_mutex_unlock(&w->own_lock);
	}
	pthread_mutex_lock(root->shared_lock);
}
