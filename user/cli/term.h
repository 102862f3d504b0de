/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* term.h: a full-screen terminal view with plain ANSI escapes (no curses):
 * the alternate screen, a hidden cursor, keys without echo or line
 * buffering, and frames drawn in place. What term_start() changes,
 * term_stop() restores, so the shell gets its screen back on every exit. */
#ifndef SG_CLI_TERM_H
#define SG_CLI_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

struct term {
	int in_fd, out_fd;
	bool is_active; /* our settings are in force */
	struct termios saved;
};

/* Takes over the terminal: in_fd for keys, out_fd for frames (both ttys).
 * Signal keys (Ctrl-C, Ctrl-Z) still raise their signals. Returns 0 or a
 * negative errno with nothing changed. */
int term_start(struct term *t, int in_fd, int out_fd);

/* Restores the screen, cursor and terminal settings. Idempotent. */
void term_stop(struct term *t);

/* The window size of fd's terminal. 0, or a negative errno. */
int term_size(int fd, int *rows, int *cols);

/* Draws text ('\n'-separated lines, each fitting the width, at most the
 * height) from the top-left corner over the previous frame, clearing what
 * that left beyond it, in one write so no half frame shows. 0 or -errno. */
int term_draw(struct term *t, const char *text, size_t len);

/* Reads one key without blocking: the byte, or -1 when none is waiting. */
int term_key(struct term *t);

#endif
