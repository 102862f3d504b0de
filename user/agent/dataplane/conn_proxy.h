/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conn_proxy.h: the PROXY protocol header a route asks for, written to a
 * backend socket between connect and handover (docs/CONFIG.md, "PROXY
 * protocol"): by a connection (conn.c) and by a health check. Socket work
 * only; what goes in the header is the caller's. */
#ifndef SG_CONN_PROXY_H
#define SG_CONN_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "proxy_header.h"

/* Builds the header of version v (CFG_PROXY_V1 or CFG_PROXY_V2) from in and
 * queues it on fd, a connected TCP socket, with one send() that never blocks
 * and never raises SIGPIPE. *sent is what the socket took. Returns 0 when it
 * took every byte; -EAGAIN when it took only part (the connection is then
 * unusable: a receiver rejects a partial header); send()'s -errno; or the
 * builder's error (proxy_header.h). */
int conn_proxy_write(int fd, enum cfg_proxy_protocol v, const struct proxy_header_in *in,
		     size_t *sent, size_t *len);

/* The header a health check of a route with PROXY protocol v (not off) sends
 * on fd before its ClientHello, as the specification asks of a proxy's own
 * checks: v1 a valid line with fd's own addresses (local as source, peer as
 * destination), v2 the LOCAL command without addresses. Into buf[0..cap), its
 * length in *len. Returns 0, -errno of getsockname()/getpeername(), or the
 * builder's error. */
int conn_proxy_check_header(int fd, enum cfg_proxy_protocol v, uint8_t *buf, size_t cap,
			    size_t *len);

#endif
