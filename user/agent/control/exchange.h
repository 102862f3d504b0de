/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* exchange.h: the small servers on the agent's loop (metrics scrapes, the
 * control socket) share one shape: accept, read one request, write one
 * response, close. Each exchange is bounded in request size and in time, so
 * a slow or stuck peer costs one buffer until its timeout and never blocks
 * the loop. */
#ifndef SG_EXCHANGE_H
#define SG_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct exchange_server;

struct exchange_ops {
	size_t max_request;  /* a larger request gets too_large()'s answer */
	unsigned timeout_ms; /* from accept to the last byte written */
	/* True when req[0..len) is a whole request; eof: the peer shut down
	 * its write side (nothing more will come). */
	bool (*is_complete)(const char *req, size_t len, bool eof);
	/* The response to req[0..len) (req may be modified; it is
	 * NUL-terminated), from the peer on fd: a malloc()ed buffer of
	 * *resp_len bytes, or NULL to close without answering. */
	char *(*respond)(void *ctx, int fd, char *req, size_t len, size_t *resp_len);
	/* The response to a request over max_request; NULL: just close. */
	char *(*too_large)(void *ctx, size_t *resp_len);
	/* Exchanges open at once; a connection past them is closed as soon as
	 * it is accepted (shed), so idle peers cannot pin descriptors. 0: no cap. */
	size_t max_open;
	/* Checked before a byte of the request is read: NULL when the peer on fd
	 * may send one, else the response that refuses it (malloc()ed, *resp_len
	 * bytes), written at once; the request is never read. NULL op: anyone. */
	char *(*refuse)(void *ctx, int fd, size_t *resp_len);
	/* Hold one spare descriptor, given up to accept a peer when the process
	 * has none left (EMFILE), so this server answers even then. */
	bool keeps_spare_fd;
};

/* How long a server rests after accept() failed for lack of descriptors or
 * memory: its listening socket is level-triggered and would spin. */
#define EXCHANGE_PAUSE_MS 100

/* Serves listen_fd (non-blocking, listening; owned from now on) on loop.
 * NULL on ENOMEM or when the loop refuses it (listen_fd is then closed). */
struct exchange_server *exchange_serve(struct loop *loop, int listen_fd,
				       const struct exchange_ops *ops, void *ctx);

/* The listening socket. */
int exchange_fd(const struct exchange_server *s);

/* Connections shed for max_open since s started. */
unsigned long long exchange_shed(const struct exchange_server *s);

/* Stops listening and ends every open exchange. NULL-tolerant. */
void exchange_close(struct exchange_server *s);

#endif
