/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* log_limit.h: a rate limit for messages that one misbehaving peer could
 * repeat without end (per-connection warnings): at most per_second messages
 * a one-second window; when a window ends with messages held back, one
 * warning says how many. No globals: the owner embeds the struct, a test
 * starts from LOG_LIMIT_INIT() and passes the time it wants. */
#ifndef SG_LOG_LIMIT_H
#define SG_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct log_limit {
	unsigned per_second; /* messages allowed a window */
	uint64_t window_ms;  /* start of the current window */
	unsigned in_window;  /* messages allowed in it so far */
	unsigned suppressed; /* ...and held back */
};

#define LOG_LIMIT_INIT(n) ((struct log_limit){.per_second = (n)})

/* True when a message may be logged at now_ms (a monotonic clock in ms, as
 * loop_now_ms()). The first call, or the first one a second or more after the
 * window began, starts a new window, logging the count the last one held back. */
bool log_limit_allow(struct log_limit *l, uint64_t now_ms);

#endif
