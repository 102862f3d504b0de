// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* write_all.c: see write_all.h. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "write_all.h"

int write_all(int fd, const void *buf, size_t len, unsigned flags)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = flags & WRITE_ALL_NOSIGNAL ? send(fd, p, len, MSG_NOSIGNAL)
						       : write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN && (flags & WRITE_ALL_POLL)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			poll(&pfd, 1, -1);
			continue;
		}
		if (n == -1)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
