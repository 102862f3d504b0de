// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c: sockgated's entry point: arguments, configuration, exit codes.
 * Exit codes: 0 ok, 1 runtime failure or rejected configuration, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "args.h"
#include "config.h"
#include "log.h"
#include "router.h"
#include "runtime.h"
#include "sg_defaults.h"

int main(int argc, char **argv)
{
	struct runtime *rt;
	struct args a;

	/* First: a signal that arrives while the configuration loads must wait
	 * for the loop's signalfd, not take the default action (exit). */
	agent_block_signals();
	if (args_parse(&a, argc, argv) < 0) {
		args_usage(stderr);
		return 2;
	}
	if (a.show_help) {
		args_usage(stdout);
		return 0;
	}
	if (a.show_version) {
		printf("sockgated %s\n", SG_VERSION);
		return 0;
	}
	log_set_level(a.log_level);
	rt = runtime_load(&a, NULL, NULL, a.check_only ? stderr : NULL);
	if (!rt)
		return 1;
	if (a.check_only) {
		router_dump(rt->router, stdout);
		if (rt->cfg->guard.is_set)
			cfg_guard_dump(&rt->cfg->guard, stdout);
		printf("configuration ok: %zu listener%s, %zu route%s\n", rt->cfg->n_listeners,
		       rt->cfg->n_listeners == 1 ? "" : "s", rt->cfg->n_routes,
		       rt->cfg->n_routes == 1 ? "" : "s");
		runtime_put(rt);
		return 0;
	}
	return agent_main(&a, rt);
}
