/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flow_fmt.h: the fields of a flow map entry as text, one spelling for
 * `sockgate flows` and `sockgate top`. Each writes into the caller's buffer
 * and returns it (or a constant), so it can stand in a printf argument list. */
#ifndef SG_CLI_FLOW_FMT_H
#define SG_CLI_FLOW_FMT_H

#include <linux/types.h>
#include <stddef.h>

#include "sg_abi.h"

/* "1.2.3.4:443" or "[2001:db8::1]:443"; the map keeps IPv4 v4-mapped. */
char *flow_fmt_endpoint(const __u8 addr[16], __u16 port, char *buf, size_t len);

/* now_ns - f->start_ns, or 0 for a start in the future. */
__u64 flow_age_ns(const struct sg_flow *f, __u64 now_ns);

/* "3.2s", "5m03s", "2h07m", "3d04h": short, and exact enough to read. */
char *flow_fmt_age(__u64 ns, char *buf, size_t len);

/* "spliced" while both directions forward in BPF, "closed" once done, and
 * otherwise what each direction does, joined by '+': "copying_up+half_closed_down". */
const char *flow_fmt_state(const struct sg_flow *f, char *buf, size_t len);

/* The access log's name of a closed flow's end reason; "other" if unknown. */
const char *flow_end_name(__u8 end);

/* A name field of the entry (sni, route) as one table cell: it may lack its
 * NUL, and anything but printable ASCII without spaces becomes '?'. "-" when
 * empty. */
char *flow_fmt_name(const char *field, size_t field_len, char *buf, size_t len);

#endif
