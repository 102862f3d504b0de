/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* workers.h: --workers N: N event loops, one thread each, that carry the
 * connections while the root's loop runs the control plane
 * (docs/ARCHITECTURE.md, section "Workers"). The root talks to a worker only
 * through its inbox (a short mutex and an eventfd): install the running
 * configuration and listeners, hand over a verdict event, stop. */
#ifndef SG_WORKERS_H
#define SG_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_state.h"
#include "sg_abi.h"

/* The CPUs this process may run on (at least 1). */
size_t workers_default(void);

/* Starts root->args->workers workers (root->has_workers set, the root fully
 * started: listeners open, configuration in force, privileges dropped),
 * each on a copy of root with its own loop and thread. 0 or -errno. */
int workers_start(struct agent *root);

/* Tells every worker to take the root's configuration and listeners now. */
void workers_apply(struct agent *root);

/* Hands a verdict event to every worker: the one that has its connection
 * acts on it. */
void workers_post_event(struct agent *root, const struct sg_event *e);

/* Stops every worker: no more accepts, connections drain until the drain
 * deadline (now: reset at once). The root's loop stops once all are done. */
void workers_stop(struct agent *root, bool now);

/* Joins and frees the workers (their connections already ended). */
void workers_join(struct agent *root);

#endif
