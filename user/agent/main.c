// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c: sockgated's entry point: arguments, configuration, exit codes.
 * Exit codes: 0 ok, 1 runtime failure or rejected configuration, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "args.h"
#include "check.h"
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
	if (a.check_only)
		return check_run(&a);
	rt = runtime_load(&a, NULL, NULL, NULL);
	if (!rt)
		return 1;
	return agent_main(&a, rt);
}
