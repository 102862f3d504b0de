/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* copy_relay.h: the dataplane every pair starts in: recv() into a scratch
 * buffer the caller shares between pairs, send() on at once. A pair that
 * stays short (most TLS connections) costs a few syscalls and no BPF map
 * write at all; one that proves long-lived or bulky is promoted to the kernel
 * (conn_data.c) at a point copy_relay_settle() makes exact. Memory: a
 * direction whose destination takes only part of a read keeps the rest in a
 * buffer of its own, at most one scratch buffer, and reads no more until it
 * has left. No epoll of its own: the caller registers both sockets once,
 * edge-triggered, and reports each edge with copy_relay_note(). */
#ifndef SG_COPY_RELAY_H
#define SG_COPY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum copy_leg { COPY_CLIENT = 0, COPY_BACKEND = 1, COPY_LEGS };

/* One direction: bytes read from fd[from] go to fd[to]. */
struct copy_dir {
	uint8_t *held; /* read but not yet taken by the destination; NULL: none */
	size_t held_off, held_len;
	uint64_t bytes_in;  /* read from the source */
	uint64_t bytes_out; /* taken by the destination */
	bool may_read;	    /* the source may have bytes (or its end, or an error) queued */
	bool peer_done;	    /* the source reported its peer's FIN: read on to the end */
	bool is_eof;	    /* the source's stream ended */
	/* The last read from the source returned less than asked (or EAGAIN):
	 * it took every skb queued whole, and any queued since is whole too.
	 * True before the first read (the hello was only peeked). */
	bool at_boundary;
	bool is_shut; /* ...and the FIN was forwarded */
};

enum copy_status {
	COPY_RUNNING = 0,
	COPY_DONE, /* both directions ended cleanly: the caller closes both sockets,
		    * which sends the last FIN */
	COPY_ERROR /* a socket failed; err says how */
};

struct copy_relay {
	int fd[COPY_LEGS];
	struct copy_dir dir[COPY_LEGS]; /* dir[i] carries bytes read from fd[i] */
	int err;			/* -errno, with COPY_ERROR */
	int err_leg;			/* ...of this leg's socket */
	uint64_t syscalls;		/* recv, send and shutdown calls made */
	bool is_settling;		/* the last call was a settle: it reads no further */
};

void copy_relay_init(struct copy_relay *r, int client_fd, int backend_fd);

/* Records the EPOLL* events of an edge on fd[leg]. */
void copy_relay_note(struct copy_relay *r, enum copy_leg leg, uint32_t events);

/* Moves what can move now without blocking, in both directions, and forwards
 * each end of stream once its direction is empty. scratch (cap bytes) is only
 * used during the call. */
enum copy_status copy_relay_step(struct copy_relay *r, uint8_t *scratch, size_t cap);

/* Sends what is held, then reads each source that is not at a boundary
 * until a read returns less than asked (or EAGAIN), forwarding what it
 * reads, a bounded number of times; a source at a boundary is not read. Returns true when both
 * sources are then at such a boundary, nothing is held, and neither stream
 * ended: every byte read has been sent on, and no skb is left partly read, so
 * what the kernel queues from here on is whole skbs, which is what the sockmap
 * insert needs (docs/SOCKMAP.md, section "Never read the hello before the
 * insert"). On false the caller tries later; *status reports an error or the
 * end met meanwhile. */
bool copy_relay_settle(struct copy_relay *r, uint8_t *scratch, size_t cap,
		       enum copy_status *status);

/* True when a source may still hold bytes the last step left for later (it
 * read READ_ROUNDS times): no new edge will report them, so the caller steps
 * again soon. */
bool copy_relay_has_more(const struct copy_relay *r);

/* True when nothing is held and neither source has a byte left to read as
 * far as the edges reported: everything read has been sent on. Unlike a
 * settle, it does not care where the reads stopped (the express hand-over
 * reads queues dry: nothing new can arrive, docs/EXPRESS.md). */
bool copy_relay_is_idle(const struct copy_relay *r);

/* Frees held bytes (not the sockets). Safe twice. */
void copy_relay_fini(struct copy_relay *r);

#endif
