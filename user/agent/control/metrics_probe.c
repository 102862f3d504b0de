// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics_probe.c: see metrics_probe.h. */
#include <stdio.h>

#include "agent_state.h"
#include "metrics_probe.h"

bool metrics_ready(const struct agent *ag, char *why, size_t size)
{
	const struct config *cfg = ag->rt ? ag->rt->cfg : NULL;

	/* Draining after SIGTERM: the listeners are closed, so a load balancer
	 * in front must stop sending here before the process goes. */
	if (ag->is_stopping) {
		snprintf(why, size, "stopping: draining %zu connections", (size_t)agent_conns(ag));
		return false;
	}
	if (!cfg) {
		snprintf(why, size, "no configuration loaded");
		return false;
	}
	if (ag->n_listeners < cfg->n_listeners) {
		snprintf(why, size, "%zu of %zu listeners bound", ag->n_listeners,
			 cfg->n_listeners);
		return false;
	}
	/* --dataplane auto may fall back to splice: that is a choice, not a
	 * failure. Only an explicit sockmap needs the BPF programs attached. */
	if (ag->args->dataplane == ARGS_DATAPLANE_SOCKMAP && !ag->use_sockmap) {
		snprintf(why, size, "BPF dataplane not attached");
		return false;
	}
	snprintf(why, size, "ready: %zu listeners, %s dataplane", ag->n_listeners,
		 ag->use_sockmap ? "sockmap" : "splice");
	return true;
}
