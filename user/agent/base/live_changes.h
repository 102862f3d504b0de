/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* live_changes.h: what `sockgate load` and `unload` changed on top of --config,
 * in order. Every rebuild (a load, an unload, SIGHUP, a --config directory
 * change) loads --config afresh and replays these, so live changes survive
 * reloads; they last until the agent stops. A rebuild that fails is undone
 * with live_changes_pop(), so a rejected change leaves nothing behind. */
#ifndef SG_LIVE_CHANGES_H
#define SG_LIVE_CHANGES_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define LIVE_CHANGES_MAX 1024

struct live_op {
	char *file; /* a load: the file name as the operator gave it... */
	char *buf;  /* ...and its contents */
	size_t len;
	char **routes; /* an unload: route names */
	size_t n_routes;
	size_t superseded_by; /* a later load of the same file replaced this one; 0: none */
};

struct live_changes {
	struct live_op *ops;
	size_t n;
};

/* Appends a load of file (buf is copied). A load of a file loaded before
 * replaces it: the file's new contents are applied last. 0, -ENOMEM or -ENOSPC
 * (LIVE_CHANGES_MAX reached). */
int live_changes_push_load(struct live_changes *lc, const char *file, const char *buf, size_t len);

/* Appends an unload of names[0..n). Same errors. */
int live_changes_push_unload(struct live_changes *lc, const char *const *names, size_t n);

/* Removes the change pushed last (its rebuild failed). */
void live_changes_pop(struct live_changes *lc);

/* Forgets the loads that later ones replaced, once a rebuild succeeded. */
void live_changes_commit(struct live_changes *lc);

/* The inputs of config_load_inputs(): paths[0..n_paths) then one layer per
 * load in force; and the unloads, each before the layers loaded after it.
 * Arrays are malloc()ed and point into lc and paths. 0 or -ENOMEM. */
int live_changes_inputs(const struct live_changes *lc, const char *const *paths, size_t n_paths,
			struct cfg_input **in, size_t *n_in, struct cfg_unload **unload,
			size_t *n_unload);

/* Number of loads in force (not replaced). */
size_t live_changes_n_loads(const struct live_changes *lc);

void live_changes_free(struct live_changes *lc);

#endif
