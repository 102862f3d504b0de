// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* endpoint_load.c: see endpoint_load.h. */
#include <stdint.h>

#include "addr.h"
#include "agent_state.h"
#include "conn_internal.h"
#include "endpoint_load.h"
#include "series.h"

struct endpoint_load *endpoint_load_new(void)
{
	return (struct endpoint_load *)series_table_new(1, sizeof(uint64_t), ENDPOINT_LOAD_MAX);
}

void endpoint_load_free(struct endpoint_load *l)
{
	series_table_free((struct series_table *)l);
}

uint64_t *endpoint_load_slot(struct endpoint_load *l, const char *addr)
{
	return series_table_get((struct series_table *)l, &addr);
}

uint64_t endpoint_load_get(const struct endpoint_load *l, const char *addr)
{
	const uint64_t *n = series_table_find((const struct series_table *)l, &addr);

	return n ? *n : 0;
}

uint32_t endpoint_load_active(void *arg, uint32_t backend, uint32_t endpoint)
{
	const struct conn *c = arg;
	const struct cfg_endpoint *ep =
		&c->rt->cfg->routes[c->route].backends[backend].endpoints[endpoint];
	char addr[ADDR_STR_MAX];
	uint64_t n;

	addr_format(&ep->addr, addr, sizeof(addr));
	n = endpoint_load_get(c->ag->endpoint_load, addr);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}
