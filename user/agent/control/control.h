/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control.h: the agent's control socket (docs/ARCHITECTURE.md, section
 * "Control plane"), a Unix stream
 * socket of mode 0600 served by the event loop. One request per connection:
 *
 *   request:  COMMAND [\t ARG]... \n PAYLOAD, ended by the client's SHUT_WR
 *   response: EXIT_CODE \n TEXT, then the agent closes
 *
 * EXIT_CODE is what `sockgate` exits with (control_cmds.h); TEXT is what it
 * prints. Except "takeover\t<ms>\n", complete at its newline: that connection
 * then carries the hand-over of the listening sockets (takeover.h). Requests are bounded in size and time, so a stuck client costs one
 * small buffer until its timeout and never blocks the loop. */
#ifndef SG_CONTROL_H
#define SG_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control_cmds.h"

struct agent;
struct control;

/* What the agent does for the control socket's commands: rebuild(ctx, out)
 * for load, unload and reload; hold and handed_over for a takeover
 * (takeover.h). */
struct control_hooks {
	control_rebuild_fn *rebuild;
	void (*hold)(void *ctx, bool hold);
	void (*handed_over)(void *ctx, uint64_t drain_ms);
	void *ctx;
};

/* Listens on path, creating its directory (0755) if needed and replacing a
 * stale socket no agent answers on. With may_take_over (--takeover), an
 * agent answering there is no error: the socket is bound next to it
 * (path.PID) until control_take_path(). NULL after logging why: path in use
 * by a running agent, not a socket, too long, or a system error. */
struct control *control_open(struct agent *ag, const char *path, const struct control_hooks *hooks,
			     bool may_take_over);

/* True while bound next to a running agent's path (control_open()). */
bool control_is_taking_over(const struct control *c);

/* Renames the socket over the running agent's path, atomically. 0 or -errno
 * after logging. */
int control_take_path(struct control *c);

/* Another agent took the path over: it is never removed from now on. */
void control_release(struct control *c);

/* Makes the socket uid's and gid's, and its directory too when the agent
 * made it or it is the default one (SG_DEFAULT_CONTROL's), so that the agent
 * can remove the socket at stop after changing to that user. 0, or -errno
 * after logging. */
int control_give(const struct control *c, uid_t uid, gid_t gid);

/* Stops listening, ends open requests and removes the socket. NULL-tolerant. */
void control_close(struct control *c);

#endif
