// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_write_all.c: a whole buffer arrives, a full non-blocking fd is an error
 * unless asked to wait, and a socket whose peer left is -EPIPE, not SIGPIPE. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "write_all.h"

Test(write_all, writes_every_byte)
{
	char in[3000], out[3000];
	int p[2];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)i;
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write_all(p[1], in, sizeof(in), 0), 0);
	cr_assert_eq(read(p[0], out, sizeof(out)), (ssize_t)sizeof(out));
	cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
	close(p[0]);
	close(p[1]);
}

Test(write_all, a_full_nonblocking_fd_is_eagain_without_poll)
{
	static char big[1 << 20];
	int p[2];

	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	cr_assert_eq(write_all(p[1], big, sizeof(big), 0), -EAGAIN, "1 MiB exceeds a pipe");
	close(p[0]);
	close(p[1]);
}

Test(write_all, a_socket_whose_peer_left_is_epipe_with_nosignal)
{
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	cr_assert_eq(write_all(sv[0], "x", 1, WRITE_ALL_NOSIGNAL), -EPIPE);
	close(sv[0]);
}

Test(write_all, nothing_to_write_is_success)
{
	cr_assert_eq(write_all(-1, "", 0, 0), 0);
}
