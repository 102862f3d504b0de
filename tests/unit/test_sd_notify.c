// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_sd_notify.c: the datagrams systemd's Type=notify expects, on a path
 * socket and on an abstract one ('@'), and nothing without NOTIFY_SOCKET. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd_notify.h"

/* Binds a datagram socket at name (path or '@abstract') and sets NOTIFY_SOCKET. */
static int listen_at(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, len), 0, "bind %s: %m", name);
	setenv("NOTIFY_SOCKET", name, 1);
	return fd;
}

static void expect(int fd, const char *prefix)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	cr_assert_gt(n, 0, "no datagram for %s", prefix);
	buf[n] = '\0';
	cr_assert_eq(strncmp(buf, prefix, strlen(prefix)), 0, "got \"%s\", want \"%s...\"", buf,
		     prefix);
}

static void exchange(int fd)
{
	char buf[512];
	ssize_t n;

	cr_assert_eq(sd_notify_ready("serving"), 1);
	expect(fd, "READY=1\nSTATUS=serving");
	cr_assert_eq(sd_notify_reloading(), 1);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0, "got \"%s\"", buf);
	cr_assert_gt(strtoull(buf + 27, NULL, 10), 0);
	cr_assert_eq(sd_notify_stopping(), 1);
	expect(fd, "STOPPING=1");
	/* A takeover's new agent names itself the main process, then is ready. */
	cr_assert_eq(sd_notify_main_ready("took over"), 1);
	snprintf(buf, sizeof(buf), "MAINPID=%d\nREADY=1\nSTATUS=took over", (int)getpid());
	expect(fd, buf);
}

Test(sd_notify, path_socket)
{
	char path[] = "/tmp/sg-notify-XXXXXX";
	char sock[64];
	int fd;

	cr_assert_not_null(mkdtemp(path));
	snprintf(sock, sizeof(sock), "%s/notify", path);
	fd = listen_at(sock);
	exchange(fd);
	close(fd);
	unlink(sock);
	rmdir(path);
}

Test(sd_notify, abstract_socket)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@sg-notify-test-%d", (int)getpid());
	fd = listen_at(name);
	exchange(fd);
	close(fd);
}

Test(sd_notify, nothing_without_notify_socket)
{
	unsetenv("NOTIFY_SOCKET");
	cr_assert_eq(sd_notify_ready("x"), 0);
	setenv("NOTIFY_SOCKET", "relative", 1);
	cr_assert_lt(sd_notify_stopping(), 0);
	unsetenv("NOTIFY_SOCKET");
}
