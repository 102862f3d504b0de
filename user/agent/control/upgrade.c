// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* upgrade.c: see upgrade.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_state.h"
#include "control_exit.h"
#include "log.h"
#include "privileges.h"
#include "upgrade.h"

/* The new command line: binary, this agent's arguments without --takeover,
 * then --takeover. NULL on ENOMEM. */
static char **next_argv(const struct args *a, const char *binary)
{
	char **v = calloc((size_t)a->argc + 2, sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	v[n++] = (char *)binary;
	for (int i = 1; i < a->argc; i++) {
		if (strcmp(a->argv[i], "--takeover") != 0)
			v[n++] = a->argv[i];
	}
	v[n++] = "--takeover";
	v[n] = NULL;
	return v;
}

/* Only async-signal-safe calls between fork() and execv(): the agent has
 * threads. The intermediate child makes the new agent nobody's child (no
 * zombie if it fails while this one runs on) and reports its pid; the new
 * agent reports an exec failure as its errno, on a pipe closed by a
 * successful exec. */
static pid_t spawn(char **argv, int *exec_err)
{
	int p[2], err = 0;
	pid_t child, agent = -1;

	*exec_err = 0;
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	child = fork();
	if (child == 0) {
		pid_t grandchild;

		close(p[0]);
		setsid(); /* a Ctrl-C meant for the old agent's terminal spares it */
		grandchild = fork();
		if (grandchild != 0) {
			if (write(p[1], &grandchild, sizeof(grandchild)) < 0)
				_exit(1);
			_exit(0);
		}
		privileges_pass_on();
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		err = errno;
		if (write(p[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(p[1]);
	if (child > 0) {
		waitpid(child, NULL, 0);
		if (read(p[0], &agent, sizeof(agent)) != (ssize_t)sizeof(agent))
			agent = -1;
		else if (read(p[0], &err, sizeof(err)) == (ssize_t)sizeof(err))
			*exec_err = err;
	}
	close(p[0]);
	return agent;
}

int control_upgrade(struct agent *ag, size_t argc, char **argv, FILE *out)
{
	const char *binary = argc > 1 ? argv[1] : ag->args->exe_path;
	char **next;
	pid_t pid;
	int err;

	if (argc > 2) {
		fprintf(out, "usage: upgrade [BINARY]\n");
		return CONTROL_EXIT_USAGE;
	}
	if (!binary) {
		fprintf(out, "upgrade: this agent's own path is unknown: name the binary\n");
		return CONTROL_EXIT_USAGE;
	}
	if (binary[0] != '/') {
		fprintf(out,
			"upgrade: %s: give an absolute path (the agent's directory is not "
			"yours)\n",
			binary);
		return CONTROL_EXIT_USAGE;
	}
	if (access(binary, X_OK) == -1) {
		fprintf(out, "upgrade: %s: %s\n", binary, strerror(errno));
		return CONTROL_EXIT_FAILED;
	}
	if (ag->is_stopping || ag->handover) {
		fprintf(out, "upgrade: this agent is %s\n",
			ag->is_stopping ? "stopping" : "already being taken over");
		return CONTROL_EXIT_FAILED;
	}
	next = next_argv(ag->args, binary);
	if (!next) {
		fprintf(out, "upgrade: %s\n", strerror(ENOMEM));
		return CONTROL_EXIT_FAILED;
	}
	pid = spawn(next, &err);
	free(next);
	if (pid < 0 || err) {
		err = err ? err : errno;
		log_warn("upgrade: cannot run %s: %s", binary, strerror(err));
		fprintf(out, "upgrade: cannot run %s: %s\n", binary, strerror(err));
		return CONTROL_EXIT_FAILED;
	}
	log_info("upgrade: started %s as pid %d with --takeover", binary, (int)pid);
	fprintf(out, "upgrading: %s started as pid %d; it takes the sockets over from pid %d\n",
		binary, (int)pid, (int)getpid());
	return CONTROL_EXIT_OK;
}
