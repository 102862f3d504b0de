/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* client_internal.h: the load generator's run, thread and connection state,
 * shared by client.c (threads, timing, output) and client_conn.c (one
 * connection's protocol). Not for other modules. */
#ifndef SG_BENCH_CLIENT_INTERNAL_H
#define SG_BENCH_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "latency_hist.h"
#include "pattern.h"
#include "proto.h"

#define CLIENT_READ_BUF	 (256 * 1024)
#define CLIENT_HELLO_MAX 4096

enum conn_state { CONN_FREE = 0, CONN_CONNECTING, CONN_OPEN };

struct cli_conn {
	int fd;
	enum conn_state state;
	bool want_out;
	bool end_queued;
	bool in_trans;	  /* a request's response is awaited */
	bool idle_ready;  /* idle: the first exchange completed */
	uint16_t pre_off; /* bytes of the thread's ClientHello sent */
	uint8_t hdr_len, hdr_off, res_have;
	uint8_t hdr[64]; /* preamble and message headers not yet sent */
	uint8_t res[PROTO_RESULT_LEN];
	uint64_t payload_left; /* DATA payload owed after the last header in hdr */
	uint64_t down_left;    /* GET bytes asked for and not yet received */
	uint64_t up_total;     /* DATA payload bytes announced */
	uint64_t t0_ns;	       /* start of the pending transaction or connection */
	struct pattern_stream up, down;
};

struct client;

struct cli_thread {
	struct client *cl;
	pthread_t tid;
	unsigned id;
	int epfd;
	struct cli_conn *conns;
	unsigned n_conns;
	unsigned n_open;    /* slots holding a socket */
	unsigned n_started; /* idle: connections opened so far */
	unsigned n_unready; /* idle: open but not yet through the first exchange */
	bool stop_sent;	    /* END was queued everywhere */
	uint8_t *buf;
	uint8_t hello[CLIENT_HELLO_MAX];
	size_t hello_len;
	uint64_t seed_next;
	struct latency_hist hist;
	uint64_t bytes_up, bytes_down, n_done, n_trans;
};

struct client {
	const struct client_opts *o;
	struct pattern *pat;
	uint64_t t_start_ns;
	uint64_t t_stop_ns;	/* bulk, rr, crr: no new work after this */
	uint64_t t_deadline_ns; /* the run fails as hung after this */
	atomic_uint idle_ready;
	atomic_bool idle_release; /* idle: the hold is over */
	atomic_bool failed;
	pthread_mutex_t fail_lock;
	char fail_msg[512];
};

/* Records the run's first failure (later ones are printed only) and stops every
 * thread. conn is the slot index, or -1. */
void client_fail(struct cli_thread *t, long conn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Opens slot c: connect, and queue the ClientHello and preamble. false: failed. */
bool conn_open(struct cli_thread *t, struct cli_conn *c);

/* Handles epoll events for c. */
void conn_event(struct cli_thread *t, struct cli_conn *c, uint32_t events);

/* Queues what the mode wants next (END once the run is stopping) and writes. */
void conn_pump(struct cli_thread *t, struct cli_conn *c);

/* True when the run has stopped generating work (time, or idle release). */
bool client_stopping(const struct cli_thread *t);

#endif
