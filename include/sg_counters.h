/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sg_counters.h: the per-CPU counters BPF increments and metrics export. One
 * list, so a new counter gets its metric name in the same line. */
#ifndef SG_COUNTERS_H
#define SG_COUNTERS_H

/* X(enum suffix, metric name suffix) */
#define SG_COUNTER_LIST(X)                                                                         \
	X(VERDICT_CALLS, "verdict_calls")                                                          \
	X(REDIRECTS, "redirects")                                                                  \
	X(REDIRECT_BYTES, "redirect_bytes")                                                        \
	X(REDIRECT_FAILED, "redirect_failed")                                                      \
	X(PEER_MISSING, "peer_missing")                                                            \
	X(ZERO_LEN, "zero_len")                                                                    \
	X(OVERLAP_TRIMMED, "overlap_trimmed")                                                      \
	X(TRIM_FAILED, "trim_failed")                                                              \
	X(EVENTS_LOST, "events_lost")                                                              \
	X(PAUSES, "pauses")                                                                        \
	X(PEER_STALE, "peer_stale")                                                                \
	X(BROKEN, "broken")

enum sg_counter {
#define SG_COUNTER_ENUM(name, str) SG_CNT_##name,
	SG_COUNTER_LIST(SG_COUNTER_ENUM)
#undef SG_COUNTER_ENUM
		SG_CNT_MAX
};

#endif
