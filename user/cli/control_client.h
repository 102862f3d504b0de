/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* control_client.h: one request to sockgated's control socket (the protocol
 * is in user/agent/control.h). */
#ifndef SG_CONTROL_CLIENT_H
#define SG_CONTROL_CLIENT_H

#include <stddef.h>
#include <stdio.h>

/* Exit codes beyond 0 ok, 1 failed, 2 usage; the agent sends the same ones. */
#define CLI_EXIT_NO_AGENT 3
#define CLI_EXIT_DENIED	  4

/* Sends words[0..n) (no tab or newline in any) and payload[0..len), then
 * writes the reply's text to out on success or to err otherwise. Returns the
 * exit code: the agent's, or CLI_EXIT_NO_AGENT / CLI_EXIT_DENIED / 1 with one
 * line on err when the agent cannot be asked. */
int control_request(const char *path, const char *const *words, size_t n, const char *payload,
		    size_t len, FILE *out, FILE *err);

/* control_request() that waits at most timeout_ms (> 0) for each send and
 * receive instead of a minute: `top` must not freeze on a stuck agent. */
int control_request_timed(const char *path, const char *const *words, size_t n, const char *payload,
			  size_t len, FILE *out, FILE *err, int timeout_ms);

#endif
