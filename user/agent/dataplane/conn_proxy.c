// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_proxy.c: see conn_proxy.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_proxy.h"

int conn_proxy_write(int fd, enum cfg_proxy_protocol v, const struct proxy_header_in *in,
		     size_t *sent, size_t *len)
{
	uint8_t buf[PROXY_HEADER_MAX];
	ssize_t n;
	int err;

	*sent = *len = 0;
	err = v == CFG_PROXY_V1 ? proxy_header_v1(in, buf, sizeof(buf), len)
				: proxy_header_v2(in, buf, sizeof(buf), len);
	if (err)
		return err;
	n = send(fd, buf, *len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1)
		return -errno;
	*sent = (size_t)n;
	return *sent == *len ? 0 : -EAGAIN;
}

int conn_proxy_check_header(int fd, enum cfg_proxy_protocol v, uint8_t *buf, size_t cap,
			    size_t *len)
{
	struct sockaddr_storage local, peer;
	socklen_t n = sizeof(local);

	if (v == CFG_PROXY_V2)
		return proxy_header_v2(&(struct proxy_header_in){.src = NULL, .dst = NULL}, buf,
				       cap, len);
	if (getsockname(fd, (struct sockaddr *)&local, &n) == -1)
		return -errno;
	n = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &n) == -1)
		return -errno;
	return proxy_header_v1(&(struct proxy_header_in){.src = &local, .dst = &peer}, buf, cap,
			       len);
}
