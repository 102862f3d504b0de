// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* runtime.c: see runtime.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "runtime.h"

/* Diagnostics go through the logger, one line each, so a reload's errors
 * land where the operator reads the agent's output. */
static void log_diags(const struct cfg_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	cfg_diags_print(d, f);
	fclose(f);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		log_msg(strstr(line, ": warning: ") ? LOG_LEVEL_WARN : LOG_LEVEL_ERR, "%s", line);
	free(text);
}

/* The one closing line of a rejected load. */
static void report(FILE *out, const char *msg)
{
	if (out)
		fprintf(out, "sockgated: %s\n", msg);
	else
		log_err("%s", msg);
}

struct runtime *runtime_from_config(struct config *cfg, FILE *out)
{
	struct runtime *rt = calloc(1, sizeof(*rt));
	struct timespec now;
	uint64_t seed;
	char why[512];

	if (!rt) {
		config_free(cfg);
		return NULL;
	}
	/* random2's draws need only differ between runs, not be secret. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	seed = ((uint64_t)now.tv_sec << 32) ^ (uint64_t)now.tv_nsec;
	rt->refs = 1;
	rt->cfg = cfg;
	rt->router = router_new(cfg, why, sizeof(why));
	rt->pools = calloc(cfg->n_routes ? cfg->n_routes : 1, sizeof(*rt->pools));
	if (!rt->router) {
		char msg[600];

		snprintf(msg, sizeof(msg), "configuration rejected: %s", why);
		report(out, msg);
		runtime_put(rt);
		return NULL;
	}
	for (size_t i = 0; rt->pools && i < cfg->n_routes; i++) {
		rt->pools[i] = pool_new(&cfg->routes[i], seed + i);
		if (!rt->pools[i])
			break;
	}
	if (!rt->pools || (cfg->n_routes && !rt->pools[cfg->n_routes - 1])) {
		report(out, "configuration rejected: out of memory");
		runtime_put(rt);
		return NULL;
	}
	return rt;
}

struct runtime *runtime_load(const struct args *a, const struct live_changes *lc,
			     const struct cfg_lookup *lk, FILE *out)
{
	static const struct live_changes none;
	struct cfg_options opts = {
		.labels = a->labels, .n_labels = a->n_labels, .gateway_class = a->gateway_class};
	struct cfg_diags diags = {0};
	struct config *cfg = NULL;
	struct cfg_input *in = NULL;
	struct cfg_unload *unload = NULL;
	size_t n_in = 0, n_unload = 0;
	int err;

	err = live_changes_inputs(lc ? lc : &none, a->configs, a->n_configs, &in, &n_in, &unload,
				  &n_unload);
	if (err) {
		report(out, "configuration rejected: out of memory");
		return NULL;
	}
	err = config_load_inputs(in, n_in, unload, n_unload, &opts, &cfg, &diags);
	free(in);
	free(unload);
	if (!err)
		err = lk ? config_resolve_with(cfg, lk, &diags) : config_resolve(cfg, &diags);
	if (out)
		cfg_diags_print(&diags, out);
	else
		log_diags(&diags);
	if (err) {
		char msg[64];

		snprintf(msg, sizeof(msg), "configuration rejected (%zu error%s)", diags.n_errors,
			 diags.n_errors == 1 ? "" : "s");
		report(out, msg);
		cfg_diags_free(&diags);
		config_free(cfg);
		return NULL;
	}
	cfg_diags_free(&diags);
	return runtime_from_config(cfg, out);
}

/* Workers take and drop references from their own threads. */
struct runtime *runtime_get(struct runtime *rt)
{
	__atomic_fetch_add(&rt->refs, 1, __ATOMIC_RELAXED);
	return rt;
}

void runtime_put(struct runtime *rt)
{
	if (!rt || __atomic_sub_fetch(&rt->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; rt->pools && i < rt->cfg->n_routes; i++)
		pool_free(rt->pools[i]);
	free(rt->pools);
	router_free(rt->router);
	config_free(rt->cfg);
	free(rt);
}
