/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flow_rates.h: byte rates of flows between two samples of the flow table,
 * for `sockgate top`. A flow's rate is its bytes since the previous sample
 * over the time between the samples, matched by flow id. Pure: the caller
 * reads the clock and the map. */
#ifndef SG_FLOW_RATES_H
#define SG_FLOW_RATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_RATES_DIRS 2 /* up (client -> backend), down */

/* One flow as sampled. */
struct flow_sample {
	uint64_t id;
	uint64_t start_ns; /* the clock of the samples' now_ns */
	uint64_t bytes[FLOW_RATES_DIRS];
};

struct flow_rate {
	bool is_known;			 /* false: nothing earlier to compare with */
	uint64_t delta[FLOW_RATES_DIRS]; /* bytes since the previous sample */
	uint64_t per_s[FLOW_RATES_DIRS]; /* delta over the time between samples */
};

/* The previous sample, kept sorted by id. */
struct flow_rates {
	struct flow_sample *prev;
	size_t n_prev, cap;
	uint64_t prev_ns;
	bool has_prev;
	uint64_t elapsed_ns; /* of the last update; 0 when its rates are unknown */
};

void flow_rates_init(struct flow_rates *r);

/* Frees the previous sample. */
void flow_rates_fini(struct flow_rates *r);

/* Compares cur[0..n) (sorted by id, ids unique) taken at now_ns with the
 * previous sample and fills out[i] for cur[i], then keeps cur as the previous
 * sample. A flow in both counts what it grew by (a count that went down
 * counts 0); a flow that started after the previous sample counts all its
 * bytes; any other flow, every flow on the first update, and every flow when
 * the clock did not advance, is not known. Returns 0, or -ENOMEM with out
 * filled but the previous sample dropped (the next update knows nothing). */
int flow_rates_update(struct flow_rates *r, const struct flow_sample *cur, size_t n,
		      uint64_t now_ns, struct flow_rate *out);

/* bytes over elapsed_ns as bytes a second, without overflow; 0 if elapsed_ns is 0. */
uint64_t flow_rates_per_s(uint64_t bytes, uint64_t elapsed_ns);

#endif
