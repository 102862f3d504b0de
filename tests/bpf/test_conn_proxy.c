// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_conn_proxy.c: the agent's PROXY header write on real TCP sockets over
 * IPv6 loopback. With the sockmap dataplane the header must reach the backend
 * before the peeked ClientHello and everything after it, and the pair must
 * still drain to its end; a reset backend and a full send buffer must be
 * reported as failures, never waited on. The sockmap case needs root. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpf_loader.h"
#include "conn_proxy.h"
#include "sockpair.h"

/* A connected pair over [::1]: *near is the connecting side. Both blocking. */
static void v6_pair(int *near, int *far)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET6, SOCK_STREAM, 0);

	cr_assert(lfd >= 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, len), 0, "bind [::1]: %s", strerror(errno));
	cr_assert_eq(listen(lfd, 1), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	*near = socket(AF_INET6, SOCK_STREAM, 0);
	cr_assert_eq(connect(*near, (struct sockaddr *)&sa, len), 0, "%s", strerror(errno));
	*far = accept(lfd, NULL, NULL);
	cr_assert(*far >= 0);
	close(lfd);
}

/* Receives until want bytes arrived; each wait is bounded by 5 s. */
static void recv_all(int fd, uint8_t *buf, size_t want)
{
	for (size_t got = 0; got < want;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		cr_assert_eq(poll(&p, 1, 5000), 1, "stalled at %zu of %zu bytes", got, want);
		n = recv(fd, buf + got, want - got, 0);
		cr_assert_gt(n, 0, "recv: %zd at %zu of %zu bytes", n, got, want);
		got += (size_t)n;
	}
}

/* The header conn_send_proxy_header() would build for the accepted socket fd. */
static struct proxy_header_in header_for(int fd, struct sockaddr_storage addrs[2])
{
	socklen_t len = sizeof(addrs[0]);

	cr_assert_eq(getpeername(fd, (struct sockaddr *)&addrs[0], &len), 0);
	len = sizeof(addrs[1]);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&addrs[1], &len), 0);
	return (struct proxy_header_in){.src = &addrs[0],
					.dst = &addrs[1],
					.authority = "sample.aliyun.com",
					.has_crc32c = true};
}

Test(conn_proxy, sockmap_delivers_the_header_then_the_peeked_hello_then_the_rest)
{
	enum { HELLO = 517, LATER = 100000 };
	static uint8_t up[HELLO + LATER], got[PROXY_HEADER_MAX + HELLO + LATER];
	struct sockaddr_storage addrs[2];
	struct proxy_header_in in;
	struct bpf_dataplane dp;
	struct sg_flow flow = {.route_id = 1};
	struct sockpair sp;
	uint8_t header[PROXY_HEADER_MAX];
	size_t sent, len, header_len;
	int client, agent_a, agent_b, server, drained = 0;

	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_BPF, CAP_NET_ADMIN)");
	cr_assert_eq(bpf_dataplane_open(&dp, NULL), 0, "load and attach splice.bpf.o");
	v6_pair(&client, &agent_a);
	v6_pair(&agent_b, &server);
	for (size_t i = 0; i < sizeof(up); i++)
		up[i] = (uint8_t)(i * 7 + 3);
	in = header_for(agent_a, addrs);
	cr_assert_eq(proxy_header_v2(&in, header, sizeof(header), &header_len), 0);

	/* The agent's order: the hello is peeked, the backend connected, the
	 * header written, then the pair spliced. */
	cr_assert_eq(send(client, up, HELLO, 0), HELLO);
	{
		struct pollfd p = {.fd = agent_a, .events = POLLIN};

		cr_assert_eq(poll(&p, 1, 5000), 1);
		cr_assert_gt(recv(agent_a, got, HELLO, MSG_PEEK), 0);
	}
	cr_assert_eq(conn_proxy_write(agent_b, CFG_PROXY_V2, &in, &sent, &len), 0);
	cr_assert_eq(len, header_len);
	cr_assert_eq(sent, len);
	cr_assert_eq(sockpair_splice(&sp, &dp, agent_a, agent_b, 77, &flow, NULL), 0);
	cr_assert_eq(send(client, up + HELLO, LATER, 0), LATER);
	shutdown(client, SHUT_WR);

	recv_all(server, got, header_len + sizeof(up));
	cr_assert_arr_eq(got, header, header_len, "the PROXY header comes first, whole");
	cr_assert_arr_eq(got + header_len, up, sizeof(up), "then the hello and the rest, in order");
	/* The drain baseline took the header into account: the client's end of
	 * stream becomes forwardable once its bytes are out, not never. */
	for (int i = 0; i < 5000 && !drained; i++) {
		drained = sockpair_is_drained(&sp, SOCKPAIR_CLIENT);
		if (!drained)
			poll(NULL, 0, 1);
	}
	cr_assert(drained, "client->backend never counted as drained");

	sockpair_unsplice(&sp, &dp);
	close(client);
	close(agent_a);
	close(agent_b);
	close(server);
	bpf_dataplane_close(&dp);
}

Test(conn_proxy, a_reset_backend_is_an_error_not_a_wait)
{
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	struct sockaddr_storage addrs[2];
	struct proxy_header_in in;
	struct pollfd p;
	size_t sent = 99, len;
	int near, far, err;

	v6_pair(&near, &far);
	in = header_for(near, addrs);
	cr_assert_eq(setsockopt(far, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)), 0);
	close(far);
	p = (struct pollfd){.fd = near, .events = POLLIN};
	cr_assert_eq(poll(&p, 1, 5000), 1, "the reset did not arrive");
	err = conn_proxy_write(near, CFG_PROXY_V1, &in, &sent, &len);
	cr_assert(err == -ECONNRESET || err == -EPIPE, "got %d (%s)", err, strerror(-err));
	cr_assert_eq(sent, 0);
	cr_assert_gt(len, 0, "the header was built");
	close(near);
}

Test(conn_proxy, a_full_send_buffer_is_a_short_write)
{
	static uint8_t filler[1 << 16];
	struct sockaddr_storage addrs[2];
	struct proxy_header_in in;
	size_t sent = 99, len;
	int near, far, small = 4096, err;

	v6_pair(&near, &far);
	in = header_for(near, addrs);
	setsockopt(near, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(far, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* The peer never reads: fill both buffers until the socket refuses. */
	for (int i = 0; i < 10000; i++) {
		if (send(near, filler, sizeof(filler), MSG_DONTWAIT) == -1) {
			cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "%s", strerror(errno));
			break;
		}
	}
	err = conn_proxy_write(near, CFG_PROXY_V2, &in, &sent, &len);
	cr_assert_eq(err, -EAGAIN, "got %d (%s)", err, strerror(-err));
	cr_assert_lt(sent, len, "part of the header at most");
	close(near);
	close(far);
}

Test(conn_proxy, a_health_check_sends_its_own_addresses_in_v1_and_local_in_v2)
{
	uint8_t buf[PROXY_HEADER_MAX];
	struct sockaddr_in6 local, peer;
	socklen_t n = sizeof(local);
	char want[128];
	size_t len;
	int near, far;

	v6_pair(&near, &far);
	cr_assert_eq(getsockname(near, (struct sockaddr *)&local, &n), 0);
	n = sizeof(peer);
	cr_assert_eq(getpeername(near, (struct sockaddr *)&peer, &n), 0);
	snprintf(want, sizeof(want), "PROXY TCP6 ::1 ::1 %u %u\r\n", ntohs(local.sin6_port),
		 ntohs(peer.sin6_port));
	cr_assert_eq(conn_proxy_check_header(near, CFG_PROXY_V1, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, strlen(want));
	cr_assert_arr_eq(buf, want, len, "v1 check header: %.*s", (int)len, (char *)buf);

	/* Version 2, command LOCAL, AF_UNSPEC, no address block: section 2.2. */
	cr_assert_eq(conn_proxy_check_header(near, CFG_PROXY_V2, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, 16);
	cr_assert_arr_eq(buf, "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x20\x00\x00\x00",
			 16);
	close(near);
	close(far);
}
