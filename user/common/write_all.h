/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* write_all.h: writing a whole buffer to an fd, however many calls it takes. */
#ifndef SG_WRITE_ALL_H
#define SG_WRITE_ALL_H

#include <stddef.h>

/* EAGAIN (a non-blocking fd whose buffer is full) waits for room with poll()
 * instead of failing. Without it EAGAIN is an error, as a blocking socket's
 * SO_SNDTIMEO expiring must be. */
#define WRITE_ALL_POLL 1u
/* fd is a socket: send() with MSG_NOSIGNAL, so a closed peer is -EPIPE and
 * not SIGPIPE. */
#define WRITE_ALL_NOSIGNAL 2u

/* Writes buf[0..len) to fd, retrying after EINTR and short writes. flags:
 * WRITE_ALL_* or 0. Returns 0, or -errno of the call that failed (what was
 * written before it stays written). */
int write_all(int fd, const void *buf, size_t len, unsigned flags);

#endif
