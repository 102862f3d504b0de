/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* access_log.h: the access log's sink. The event loop formats a line and
 * queues it (a short lock, never I/O); a writer thread drains the queue to
 * stdout or a file, woken by a loop timer every 10 ms while lines wait (or at
 * once past 64 KiB), so a line is written within about 10 ms of its close. A full queue drops the line and counts it, so a slow disk
 * or a stalled stdout reader can never stall connection handling. */
#ifndef SG_ACCESS_LOG_H
#define SG_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "access_fmt.h"
#include "loop.h"

#define ACCESS_LOG_QUEUE_BYTES (4u << 20)

struct access_log;

/* Opens path ("-" for stdout; a file is created 0640 if missing and appended
 * to) and starts the writer with a queue of queue_bytes, woken from loop.
 * Returns 0, or a negative errno after logging one line naming path. */
int access_log_open(struct access_log **out, struct loop *loop, const char *path,
		    enum access_fmt fmt, size_t queue_bytes);

/* Formats r and queues the line, or drops and counts it when the queue is
 * full. Event-loop thread only. */
void access_log_write(struct access_log *l, const struct access_record *r);

/* Reopens the file (after logrotate renamed it): lines queued from now on go
 * to the new file. A no-op for stdout. On failure the old file stays in use;
 * the error is logged and returned. Event-loop thread only. */
int access_log_reopen(struct access_log *l);

/* Lines dropped because the queue was full. Event-loop thread only. */
uint64_t access_log_dropped(const struct access_log *l);

/* Lines (or parts of them) lost to write errors. Any thread. */
uint64_t access_log_write_errors(const struct access_log *l);

/* Writes out everything queued, stops the writer and closes the file.
 * NULL-tolerant. */
void access_log_close(struct access_log *l);

#endif
