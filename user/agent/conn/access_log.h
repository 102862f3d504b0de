/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* access_log.h: the access log's sink. An event loop (any worker's) formats
 * a line and queues it (a short lock, never I/O); a writer thread drains the
 * queue to stdout or a file. The writer is woken by the first line after it
 * emptied the queue and gathers lines for 10 ms before it writes, so a line
 * is written within about 10 ms of its close, in one write() per batch. A full queue drops the line and counts it, so a slow disk
 * or a stalled stdout reader can never stall connection handling. */
#ifndef SG_ACCESS_LOG_H
#define SG_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "access_fmt.h"

#define ACCESS_LOG_QUEUE_BYTES (4u << 20)

struct access_log;

/* Opens path ("-" for stdout; a file is created 0640 if missing and appended
 * to) with a queue of queue_bytes; lines wait in the queue until
 * access_log_start(). Returns 0, or a negative errno after logging one line
 * naming path. */
int access_log_open(struct access_log **out, const char *path, enum access_fmt fmt,
		    size_t queue_bytes);

/* Makes the open file uid's and gid's, so that the agent can still reopen it
 * (access_log_reopen()) after changing to that user. A no-op for stdout.
 * 0, or -errno after logging. */
int access_log_give(struct access_log *l, uid_t uid, gid_t gid);

/* Starts the writer thread. Apart from open, because the agent drops its
 * privileges while it has only one thread: capabilities are per thread.
 * 0, or -errno after logging. */
int access_log_start(struct access_log *l);

/* Formats r and queues the line, or drops and counts it when the queue is
 * full. Any thread. */
void access_log_write(struct access_log *l, const struct access_record *r);

/* Reopens the file (after logrotate renamed it): lines queued from now on go
 * to the new file. A no-op for stdout. On failure the old file stays in use;
 * the error is logged and returned. Event-loop thread only. */
int access_log_reopen(struct access_log *l);

/* Lines dropped because the queue was full. Any thread. */
uint64_t access_log_dropped(const struct access_log *l);

/* Lines (or parts of them) lost to write errors. Any thread. */
uint64_t access_log_write_errors(const struct access_log *l);

/* Writes out everything queued, stops the writer and closes the file.
 * NULL-tolerant. */
void access_log_close(struct access_log *l);

#endif
