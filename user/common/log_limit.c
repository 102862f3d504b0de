// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* log_limit.c: see log_limit.h. */
#include "log.h"
#include "log_limit.h"

#define WINDOW_MS 1000

bool log_limit_allow(struct log_limit *l, uint64_t now_ms)
{
	if (now_ms - l->window_ms >= WINDOW_MS) {
		if (l->suppressed)
			log_warn("suppressed %u connection messages", l->suppressed);
		l->window_ms = now_ms;
		l->in_window = 0;
		l->suppressed = 0;
	}
	if (l->in_window < l->per_second) {
		l->in_window++;
		return true;
	}
	l->suppressed++;
	return false;
}
