/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* endpoint_load.h: open connections per backend endpoint address, agent-wide.
 * Keyed by address, not by a configuration's indices, so least_conn and
 * random2 see the connections a reload's predecessor configuration still
 * carries, and `sockgate backends` reads its ACTIVE column here. */
#ifndef SG_ENDPOINT_LOAD_H
#define SG_ENDPOINT_LOAD_H

#include <stdint.h>

struct endpoint_load;
struct conn;

#define ENDPOINT_LOAD_MAX 16384 /* addresses tracked; the rest share one count */

struct endpoint_load *endpoint_load_new(void);
void endpoint_load_free(struct endpoint_load *l);

/* The open-connection counter of addr ("10.0.0.5:443", addr_format()). Its
 * address is stable until endpoint_load_free(). NULL on ENOMEM. */
uint64_t *endpoint_load_slot(struct endpoint_load *l, const char *addr);

/* Counter value of addr, 0 when unknown; never adds it. */
uint64_t endpoint_load_get(const struct endpoint_load *l, const char *addr);

/* struct pool_hint's active(): arg is the struct conn being routed. */
uint32_t endpoint_load_active(void *arg, uint32_t backend, uint32_t endpoint);

#endif
