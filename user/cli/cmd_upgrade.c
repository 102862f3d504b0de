// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_upgrade.c: see cmd_upgrade.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_upgrade.h"
#include "control_client.h"
#include "control_exit.h"

/* The new agent's whole startup: configuration, name resolution, BPF load.
 * The old agent gives up waiting for it after a minute (takeover_give.c). */
#define WAIT_S	90
#define POLL_MS 100
#define STEP_MS 5000 /* one status request */

/* The pid in the agent's answer: "... pid N ..." (status, and upgrade's
 * "started as pid N"); -1 if none. */
static long pid_in(const char *text, const char *after)
{
	const char *p = text ? strstr(text, after) : NULL;

	return p ? strtol(p + strlen(after), NULL, 10) : -1;
}

static int ask(const char *path, const char *const *words, size_t n, char **text)
{
	size_t len = 0;
	FILE *m = open_memstream(text, &len);
	int rc;

	if (!m)
		return CONTROL_EXIT_FAILED;
	rc = control_request_timed(path, words, n, NULL, 0, m, stderr, STEP_MS);
	fclose(m);
	return rc;
}

int cmd_upgrade(const char *control_path, const char *binary, FILE *out)
{
	const char *words[2] = {"upgrade", binary};
	const char *status[1] = {"status"};
	struct timespec step = {.tv_nsec = POLL_MS * 1000000L};
	char *text = NULL;
	long pid;
	int rc = ask(control_path, words, binary ? 2 : 1, &text);

	if (text)
		fputs(text, rc ? stderr : out);
	pid = pid_in(text, "started as pid ");
	free(text);
	if (rc)
		return rc;
	if (pid <= 0) {
		fprintf(stderr, "sockgate: upgrade: the agent did not say which pid it started\n");
		return CONTROL_EXIT_FAILED;
	}
	for (int i = 0; i < WAIT_S * 1000 / POLL_MS; i++) {
		long serving;

		text = NULL;
		ask(control_path, status, 1, &text);
		serving = pid_in(text, " pid ");
		free(text);
		if (serving == pid) {
			fprintf(out,
				"upgraded: pid %ld serves; the previous agent drains, then "
				"exits\n",
				pid);
			return CONTROL_EXIT_OK;
		}
		/* Gone before it took over (its log says why; the old agent serves
		 * on). From another pid namespace the pid means nothing: wait. */
		if (kill((pid_t)pid, 0) == -1 && errno == ESRCH && serving > 0) {
			fprintf(stderr,
				"sockgate: upgrade: pid %ld exited before it took over; pid %ld "
				"serves on (the new agent's log says why)\n",
				pid, serving);
			return CONTROL_EXIT_FAILED;
		}
		nanosleep(&step, NULL);
	}
	fprintf(stderr, "sockgate: upgrade: pid %ld did not take over within %d s\n", pid, WAIT_S);
	return CONTROL_EXIT_FAILED;
}
