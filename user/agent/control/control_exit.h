/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control_exit.h: the exit codes of the control socket's commands, what
 * `sockgate` exits with (control.h). Every command module returns one. */
#ifndef SG_CONTROL_EXIT_H
#define SG_CONTROL_EXIT_H

enum control_exit {
	CONTROL_EXIT_OK = 0,
	CONTROL_EXIT_FAILED = 1, /* rejected file, unknown route: nothing changed */
	CONTROL_EXIT_USAGE = 2,
	CONTROL_EXIT_NO_AGENT = 3, /* the CLI's own: no agent answers on the socket */
	CONTROL_EXIT_DENIED = 4,
};

#endif
