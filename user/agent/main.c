// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c: sockgated's entry point: arguments, configuration, exit codes.
 * Exit codes: 0 ok, 1 runtime failure or rejected configuration, 2 usage. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	static char exe[PATH_MAX];
	struct runtime *rt;
	struct args a;
	ssize_t n;

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
	a.argv = argv;
	a.argc = argc;
	/* Now, while the path still names this binary: an upgrade replaces the
	 * file, and `sockgate upgrade` runs whatever is there then. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0 && (size_t)n < sizeof(exe) - 1) {
		exe[n] = '\0';
		a.exe_path = exe;
	}
	if (a.check_only)
		return check_run(&a);
	rt = runtime_load(&a, NULL, NULL, NULL);
	if (!rt)
		return 1;
	return agent_main(&a, rt);
}
