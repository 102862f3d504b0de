// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* live_changes.c: see live_changes.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "live_changes.h"

static struct live_op *push(struct live_changes *lc)
{
	struct live_op *ops;

	if (lc->n >= LIVE_CHANGES_MAX)
		return NULL;
	ops = realloc(lc->ops, (lc->n + 1) * sizeof(*ops));
	if (!ops)
		return NULL;
	lc->ops = ops;
	memset(&ops[lc->n], 0, sizeof(*ops));
	return &ops[lc->n++];
}

static void op_fini(struct live_op *op)
{
	free(op->file);
	free(op->buf);
	for (size_t i = 0; i < op->n_routes; i++)
		free(op->routes[i]);
	free(op->routes);
}

int live_changes_push_load(struct live_changes *lc, const char *file, const char *buf, size_t len)
{
	struct live_op *op;

	if (lc->n >= LIVE_CHANGES_MAX)
		return -ENOSPC;
	op = push(lc);
	if (!op)
		return -ENOMEM;
	op->file = strdup(file);
	op->buf = malloc(len + 1);
	if (!op->file || !op->buf) {
		live_changes_pop(lc);
		return -ENOMEM;
	}
	memcpy(op->buf, buf, len);
	op->buf[len] = '\0';
	op->len = len;
	for (size_t i = 0; i + 1 < lc->n; i++) {
		if (lc->ops[i].file && !lc->ops[i].superseded_by && !strcmp(lc->ops[i].file, file))
			lc->ops[i].superseded_by = lc->n - 1;
	}
	return 0;
}

int live_changes_push_unload(struct live_changes *lc, const char *const *names, size_t n)
{
	struct live_op *op;

	if (lc->n >= LIVE_CHANGES_MAX)
		return -ENOSPC;
	op = push(lc);
	if (!op)
		return -ENOMEM;
	op->routes = calloc(n ? n : 1, sizeof(*op->routes));
	if (!op->routes) {
		live_changes_pop(lc);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		op->routes[i] = strdup(names[i]);
		if (!op->routes[i]) {
			op->n_routes = i;
			live_changes_pop(lc);
			return -ENOMEM;
		}
	}
	op->n_routes = n;
	return 0;
}

void live_changes_pop(struct live_changes *lc)
{
	size_t last;

	if (!lc->n)
		return;
	last = lc->n - 1;
	for (size_t i = 0; i < last; i++) {
		if (lc->ops[i].superseded_by == last)
			lc->ops[i].superseded_by = 0;
	}
	op_fini(&lc->ops[last]);
	lc->n = last;
}

void live_changes_commit(struct live_changes *lc)
{
	size_t k = 0;

	for (size_t i = 0; i < lc->n; i++) {
		if (lc->ops[i].superseded_by) {
			op_fini(&lc->ops[i]);
			continue;
		}
		lc->ops[k++] = lc->ops[i];
	}
	lc->n = k; /* no superseded_by is left to renumber */
}

size_t live_changes_n_loads(const struct live_changes *lc)
{
	size_t n = 0;

	for (size_t i = 0; i < lc->n; i++)
		n += lc->ops[i].file && !lc->ops[i].superseded_by;
	return n;
}

int live_changes_inputs(const struct live_changes *lc, const char *const *paths, size_t n_paths,
			struct cfg_input **in, size_t *n_in, struct cfg_unload **unload,
			size_t *n_unload)
{
	size_t n_names = 0, k = 0, u = 0;
	unsigned layer = 0;

	for (size_t i = 0; i < lc->n; i++)
		n_names += lc->ops[i].n_routes;
	*in = calloc(n_paths + lc->n + 1, sizeof(**in));
	*unload = calloc(n_names + 1, sizeof(**unload));
	if (!*in || !*unload) {
		free(*in);
		free(*unload);
		*in = NULL;
		*unload = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_paths; i++)
		(*in)[k++] = (struct cfg_input){.path = paths[i]};
	for (size_t i = 0; i < lc->n; i++) {
		const struct live_op *op = &lc->ops[i];

		if (op->file && !op->superseded_by) {
			(*in)[k++] = (struct cfg_input){
				.buf = op->buf, .len = op->len, .name = op->file, .is_layer = true};
			layer++;
		}
		for (size_t r = 0; r < op->n_routes; r++)
			(*unload)[u++] = (struct cfg_unload){op->routes[r], layer + 1};
	}
	*n_in = k;
	*n_unload = u;
	return 0;
}

void live_changes_free(struct live_changes *lc)
{
	for (size_t i = 0; i < lc->n; i++)
		op_fini(&lc->ops[i]);
	free(lc->ops);
	lc->ops = NULL;
	lc->n = 0;
}
