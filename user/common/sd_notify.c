// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sd_notify.c: see sd_notify.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sd_notify.h"

int sd_notify_send(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n, len = strlen(state);
	socklen_t sa_len;
	ssize_t sent;
	int fd, err = 0;

	if (!name || !name[0])
		return 0;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, name, n);
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: the length bounds the name, no NUL */
	else
		sa_len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	sent = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sa_len);
	if (sent == -1)
		err = -errno;
	else if ((size_t)sent != len)
		err = -EMSGSIZE;
	close(fd);
	return err ? err : 1;
}

int sd_notify_ready(const char *status)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", status);
	return sd_notify_send(buf);
}

int sd_notify_main_ready(const char *status)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "MAINPID=%d\nREADY=1\nSTATUS=%s", (int)getpid(), status);
	return sd_notify_send(buf);
}

int sd_notify_reloading(void)
{
	struct timespec ts;
	char buf[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
			 (unsigned long long)ts.tv_nsec / 1000);
	return sd_notify_send(buf);
}

int sd_notify_stopping(void)
{
	return sd_notify_send("STOPPING=1");
}
