/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* log.h: leveled logging to stderr, one line per event.
 * The level lives in a struct the owner passes around or in the process-wide
 * default that log_set_level() changes; tests reset it with log_set_level(). */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_MAX
};

/* Sets the most verbose level that is printed. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "err", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
