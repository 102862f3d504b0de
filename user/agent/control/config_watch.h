/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* config_watch.h: reloads, as SIGHUP does, when what the YAML files of a
 * `--config` directory resolve to changes: a file written, moved in, removed,
 * or a symlink swapped under it (a Kubernetes ConfigMap update renames the
 * hidden "..data" symlink). Changes are batched for a short quiet period, so
 * an editor's save or a `cp` of several files makes one reload, not several;
 * a burst that leaves every file's bytes as they were makes none. */
#ifndef SG_CONFIG_WATCH_H
#define SG_CONFIG_WATCH_H

struct agent;
struct config_watch;

/* What a change does: the agent's reload, called with ctx. */
typedef void config_watch_reload_fn(void *ctx);

/* Watches every --config path of ag that is a directory; once a burst of
 * changes has settled, calls reload(ctx) unless ag is stopping. Returns NULL
 * when there is none (nothing to watch) or on failure (logged). */
struct config_watch *config_watch_open(struct agent *ag, config_watch_reload_fn *reload, void *ctx);

/* Stops watching. NULL-tolerant. */
void config_watch_close(struct config_watch *w);

#endif
