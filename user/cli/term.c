// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* term.c: see term.h. xterm's sequences, which every terminal emulator in
 * use (and tmux, screen, the Linux console) understands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "term.h"
#include "write_all.h"

#define ALT_SCREEN_ON  "\033[?1049h"
#define ALT_SCREEN_OFF "\033[?1049l"
#define CURSOR_HIDE    "\033[?25l"
#define CURSOR_SHOW    "\033[?25h"
#define HOME	       "\033[H"
#define CLEAR_EOL      "\033[K"
#define CLEAR_BELOW    "\033[J"

int term_start(struct term *t, int in_fd, int out_fd)
{
	struct termios raw;
	int err;

	t->in_fd = in_fd;
	t->out_fd = out_fd;
	t->is_active = false;
	if (tcgetattr(in_fd, &t->saved) == -1)
		return -errno;
	raw = t->saved;
	/* Keys arrive one at a time and unechoed; ISIG stays on, so Ctrl-C and
	 * Ctrl-Z still raise the signals the caller handles. */
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(in_fd, TCSANOW, &raw) == -1)
		return -errno;
	t->is_active = true;
	err = write_all(out_fd, ALT_SCREEN_ON CURSOR_HIDE, strlen(ALT_SCREEN_ON CURSOR_HIDE), 0);
	if (err)
		term_stop(t);
	return err;
}

void term_stop(struct term *t)
{
	static const char restore[] = CURSOR_SHOW ALT_SCREEN_OFF;

	if (!t->is_active)
		return;
	t->is_active = false;
	/* Best effort: on a hung-up terminal there is nothing left to restore. */
	(void)write_all(t->out_fd, restore, sizeof(restore) - 1, 0);
	(void)tcsetattr(t->in_fd, TCSANOW, &t->saved);
}

int term_size(int fd, int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == -1)
		return -errno;
	if (!ws.ws_row || !ws.ws_col)
		return -EINVAL;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return 0;
}

int term_draw(struct term *t, const char *text, size_t len)
{
	/* Each line gets a clear-to-end, and "\r\n" between lines; no newline
	 * after the last, which would scroll a full screen by one. */
	size_t n_lines = 0, n;
	char *buf;
	int err;

	for (size_t i = 0; i < len; i++)
		n_lines += text[i] == '\n';
	buf = malloc(strlen(HOME) + len + n_lines * (strlen(CLEAR_EOL) + 1) + strlen(CLEAR_BELOW));
	if (!buf)
		return -ENOMEM;
	memcpy(buf, HOME, strlen(HOME));
	n = strlen(HOME);
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n') {
			buf[n++] = text[i];
			continue;
		}
		memcpy(buf + n, CLEAR_EOL, strlen(CLEAR_EOL));
		n += strlen(CLEAR_EOL);
		if (i + 1 < len) {
			buf[n++] = '\r';
			buf[n++] = '\n';
		}
	}
	memcpy(buf + n, CLEAR_BELOW, strlen(CLEAR_BELOW));
	n += strlen(CLEAR_BELOW);
	err = write_all(t->out_fd, buf, n, 0);
	free(buf);
	return err;
}

int term_key(struct term *t)
{
	unsigned char c;
	ssize_t n = read(t->in_fd, &c, 1);

	return n == 1 ? c : -1;
}
