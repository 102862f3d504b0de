/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* relay.h: the fallback dataplane: two sockets relayed in user space with
 * splice(2) through one pipe per direction. The pipe's capacity is the
 * backpressure: a direction stops reading while its pipe cannot drain.
 * No I/O of its own beyond the two sockets and pipes; the caller owns epoll and
 * asks relay_interest() what to watch after every relay_step(). */
#ifndef SG_RELAY_H
#define SG_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum relay_leg { RELAY_CLIENT = 0, RELAY_BACKEND = 1, RELAY_LEGS };

/* One direction: bytes read from fd[from] wait in the pipe for fd[to]. */
struct relay_dir {
	int pipe_rd, pipe_wr;
	size_t in_pipe; /* bytes in the pipe */
	uint64_t bytes; /* bytes delivered to the destination */
	bool is_eof;	/* the source ended its stream */
	bool is_shut;	/* the FIN was forwarded (shutdown of the destination) */
};

enum relay_status {
	RELAY_RUNNING = 0,
	RELAY_DONE, /* both directions ended cleanly */
	RELAY_ERROR /* a socket failed; the caller resets the other leg */
};

struct relay {
	int fd[RELAY_LEGS];
	struct relay_dir dir[RELAY_LEGS]; /* dir[i] carries bytes read from fd[i] */
	int err;			  /* -errno of the failure, with RELAY_ERROR */
};

/* Sets up the pipes for client_fd and backend_fd (non-blocking sockets).
 * 0 or -errno. */
int relay_init(struct relay *r, int client_fd, int backend_fd, size_t pipe_bytes);

/* Moves whatever can move now without blocking, in both directions, and
 * forwards end of stream once a direction's pipe is empty. */
enum relay_status relay_step(struct relay *r);

/* The EPOLL* events to watch on fd[leg] now (0: nothing). */
uint32_t relay_interest(const struct relay *r, enum relay_leg leg);

/* Closes the pipes (not the sockets). Safe twice. */
void relay_fini(struct relay *r);

#endif
