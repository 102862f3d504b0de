/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flow_list.h: a snapshot of the pinned flow map (sg_flows), for `sockgate
 * flows` and `sockgate top`. Reads the map only; never writes it. */
#ifndef SG_CLI_FLOW_LIST_H
#define SG_CLI_FLOW_LIST_H

#include <linux/types.h>
#include <stddef.h>

#include "sg_abi.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

struct flow_row {
	__u64 id;
	struct sg_flow f;
};

struct flow_list {
	struct flow_row *rows;
	size_t n;
	size_t cap;
};

/* Replaces l's rows with every entry of the flow map fd (of max_entries
 * capacity), one row per flow id, sorted by id. The agent and the kernel
 * change the map during the walk: entries may come and go, none is listed
 * twice. Returns 0 or a negative errno (l then holds what was read). */
int flow_list_read(int fd, __u32 max_entries, struct flow_list *l);

/* Sorts l by bytes up + down, most first; the flow id breaks ties. */
void flow_list_sort_by_bytes(struct flow_list *l);

/* Bytes up + down of a flow. */
__u64 flow_total_bytes(const struct sg_flow *f);

/* CLOCK_MONOTONIC now, the clock of the flows' start_ns. */
__u64 flow_now_ns(void);

/* Frees the rows; l is then empty and reusable. */
void flow_list_free(struct flow_list *l);

#endif
