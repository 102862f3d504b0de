// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flow_rates.c: see flow_rates.h. Both samples are sorted by id, so one merge
 * pass matches them: O(n) for the 131072 flows a full map holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow_rates.h"

#define NS_PER_S 1000000000ull

void flow_rates_init(struct flow_rates *r)
{
	memset(r, 0, sizeof(*r));
}

void flow_rates_fini(struct flow_rates *r)
{
	free(r->prev);
	memset(r, 0, sizeof(*r));
}

uint64_t flow_rates_per_s(uint64_t bytes, uint64_t elapsed_ns)
{
	unsigned __int128 v;

	if (!elapsed_ns)
		return 0;
	v = (unsigned __int128)bytes * NS_PER_S / elapsed_ns;
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static void rate_of(const struct flow_sample *was, const struct flow_sample *is,
		    uint64_t elapsed_ns, struct flow_rate *out)
{
	out->is_known = true;
	for (int d = 0; d < FLOW_RATES_DIRS; d++) {
		uint64_t before = was ? was->bytes[d] : 0;

		/* Counts only grow; a smaller one is another flow's, not a negative rate. */
		out->delta[d] = is->bytes[d] > before ? is->bytes[d] - before : 0;
		out->per_s[d] = flow_rates_per_s(out->delta[d], elapsed_ns);
	}
}

static void fill(const struct flow_rates *r, const struct flow_sample *cur, size_t n,
		 uint64_t elapsed_ns, struct flow_rate *out)
{
	size_t j = 0;

	memset(out, 0, n * sizeof(*out));
	if (!elapsed_ns)
		return;
	for (size_t i = 0; i < n; i++) {
		while (j < r->n_prev && r->prev[j].id < cur[i].id)
			j++;
		if (j < r->n_prev && r->prev[j].id == cur[i].id)
			rate_of(&r->prev[j], &cur[i], elapsed_ns, &out[i]);
		else if (cur[i].start_ns >= r->prev_ns)
			rate_of(NULL, &cur[i], elapsed_ns, &out[i]);
		/* else: the previous walk missed it; its delta is unknown */
	}
}

int flow_rates_update(struct flow_rates *r, const struct flow_sample *cur, size_t n,
		      uint64_t now_ns, struct flow_rate *out)
{
	r->elapsed_ns = r->has_prev && now_ns > r->prev_ns ? now_ns - r->prev_ns : 0;
	fill(r, cur, n, r->elapsed_ns, out);
	if (n > r->cap) {
		struct flow_sample *p = realloc(r->prev, n * sizeof(*p));

		if (!p) {
			r->n_prev = 0;
			r->has_prev = false;
			return -ENOMEM;
		}
		r->prev = p;
		r->cap = n;
	}
	if (n)
		memcpy(r->prev, cur, n * sizeof(*cur));
	r->n_prev = n;
	r->prev_ns = now_ns;
	r->has_prev = true;
	return 0;
}
