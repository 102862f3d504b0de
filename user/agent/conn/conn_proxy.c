// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_proxy.c: see conn_proxy.h. The header goes out before either dataplane
 * owns the pair, so it precedes the peeked ClientHello on the wire with
 * sockmap and splice(2) alike. A fresh connection's send buffer (tcp_wmem's
 * default, 16 KiB here) holds PROXY_HEADER_MAX bytes many times over, so a
 * short write is not waited out: it means something is wrong with this
 * connection, which is then ended. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_internal.h"
#include "conn_proxy.h"
#include "log.h"

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

int conn_send_proxy_header(struct conn *c)
{
	const struct cfg_route *rt = &c->rt->cfg->routes[c->route];
	struct proxy_header_in in = {.src = &c->client_addr,
				     .dst = &c->local_addr,
				     .authority = c->sni,
				     .alpn = c->alpn,
				     .alpn_len = c->alpn_len,
				     .has_crc32c = rt->has_proxy_crc32c};
	struct linger reset = {.l_onoff = 1, .l_linger = 0};
	size_t sent, len;
	int err;

	if (rt->proxy_protocol == CFG_PROXY_OFF)
		return 0;
	c->proxy = cfg_proxy_protocol_str(rt->proxy_protocol);
	err = conn_proxy_write(c->backend_w.fd, rt->proxy_protocol, &in, &sent, &len);
	if (!err)
		return 0;
	if (agent_log_allowed(c->ag))
		log_warn("conn=%llu backend %s: PROXY %s header: %s (%zu of %zu bytes sent)",
			 (unsigned long long)c->id, c->backend_str, c->proxy, strerror(-err), sent,
			 len);
	/* A receiver could take a truncated header for a whole one: reset, not FIN. */
	setsockopt(c->backend_w.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	return err;
}
