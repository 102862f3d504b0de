/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* config_watch.h: reloads when a `--config` directory changes (a *.yaml or
 * *.yml file written, moved in or removed), as SIGHUP does. Changes are
 * batched for a short quiet period, so an editor's save or a `cp` of several
 * files makes one reload, not several. */
#ifndef SG_CONFIG_WATCH_H
#define SG_CONFIG_WATCH_H

struct agent;
struct config_watch;

/* Watches every --config path of ag that is a directory. Returns NULL when
 * there is none (nothing to watch) or on failure (logged). */
struct config_watch *config_watch_open(struct agent *ag);

/* Stops watching. NULL-tolerant. */
void config_watch_close(struct config_watch *w);

#endif
