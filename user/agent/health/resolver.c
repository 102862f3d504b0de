// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* resolver.c: see resolver.h. Runs on the loop; only resolve_thread.c runs
 * on the other thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "agent_state.h"
#include "dns_cache.h"
#include "log.h"
#include "prom.h"
#include "resolve_thread.h"
#include "resolver.h"
#include "series.h"

/* Host names with their own failure and change counters; more share one
 * series (series.h), so a churning configuration cannot grow memory. */
#define RESOLVE_MAX_HOSTS 4096
#define ADDRS_TEXT_MAX	  512

struct host_counts {
	uint64_t failures, changes, truncated;
	bool is_truncated; /* its latest answer was cut: logged once, when it starts */
};

struct resolver {
	struct loop_watch w; /* first: on_answers() casts back */
	struct agent *ag;
	resolver_install_fn *install; /* the agent's, with install_ctx */
	void *install_ctx;
	struct resolve_thread *thread;
	struct dns_cache *cache;
	struct series_table *hosts; /* (host): struct host_counts, outlive the cache */
	uint64_t n_updates;	    /* runtimes built for new addresses */
	uint32_t interval_ms;
	bool is_watched;
	bool is_stale; /* the cache has answers the running runtime lacks */
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Records one answer and logs what it changed; true when the name's
 * addresses changed. Failures are logged when they start, not every round. */
static bool record(struct resolver *r, const struct resolve_answer *a)
{
	const struct dns_entry *e = dns_cache_find(r->cache, a->name);
	struct host_counts *hc = series_table_get(r->hosts, (const char *const[]){a->name});
	bool had_answer = e && e->has_answer, was_failing = e && e->is_failing;
	char before[ADDRS_TEXT_MAX], after[ADDRS_TEXT_MAX];
	size_t n = a->n_addrs, max = r->ag->rt->cfg->max_addresses_per_name;
	enum dns_update u;

	/* The answer is sorted (dns_lookup()), so the same answer keeps the
	 * same addresses and a long one does not look changed every round. */
	if (!a->err && max && n > max) {
		if (hc && !hc->is_truncated)
			log_warn("resolve: %s has %zu addresses: using the first %zu "
				 "(max_addresses_per_name)",
				 a->name, n, max);
		if (hc) {
			hc->truncated++;
			hc->is_truncated = true;
		}
		n = max;
	} else if (!a->err && hc) {
		hc->is_truncated = false;
	}
	dns_addrs_format(e ? e->addrs : NULL, e ? e->n_addrs : 0, before, sizeof(before));
	if (a->err == -ENOMEM ||
	    dns_cache_update(r->cache, a->name, a->addrs, n, a->err ? a->why : NULL, &u))
		return false;
	e = dns_cache_find(r->cache, a->name);
	dns_addrs_format(e->addrs, e->n_addrs, after, sizeof(after));
	if (u == DNS_UPDATE_CHANGED && had_answer) {
		log_info("resolve: %s now %s (was %s)", a->name, after, before);
		if (hc)
			hc->changes++;
	} else if (u == DNS_UPDATE_CHANGED) {
		log_info("resolve: %s is %s", a->name, after);
	} else if (u == DNS_UPDATE_FAILED) {
		if (hc)
			hc->failures++;
		if (was_failing)
			log_debug("resolve: %s: %s (still)", a->name, a->why);
		else if (had_answer)
			log_warn("resolve: %s: %s; keeping its last addresses %s", a->name, a->why,
				 before);
		else
			log_warn("resolve: %s: %s; its endpoints stay unresolved, retried every "
				 "%ums",
				 a->name, a->why, r->interval_ms);
	} else if (u == DNS_UPDATE_RECOVERED) {
		log_info("resolve: %s resolves again: %s, unchanged", a->name, after);
	}
	return u == DNS_UPDATE_CHANGED;
}

/* A copy of the running configuration with the cache's addresses, swapped
 * in. Nothing is read from disk: whatever the files say now is a reload's
 * business. */
static void update(struct resolver *r)
{
	struct config *cfg = config_clone(r->ag->rt->cfg);
	struct cfg_diags d = {0};
	struct cfg_lookup lk;
	struct runtime *rt;

	dns_cache_lookup(r->cache, &lk);
	/* Its warnings are dropped: record() logged each name's trouble once. */
	if (!cfg || config_resolve_with(cfg, &lk, &d)) {
		config_free(cfg);
		cfg_diags_free(&d);
		log_err("resolve: out of memory: new addresses not applied yet");
		return;
	}
	cfg_diags_free(&d);
	rt = runtime_from_config(cfg, NULL);
	if (!rt)
		return;
	r->install(r->install_ctx, rt);
	r->is_stale = false;
	r->n_updates++;
	log_info("resolve: endpoints updated with the new addresses; configuration files not "
		 "read");
}

static void on_answers(struct loop_watch *w, uint32_t events)
{
	struct resolver *r = (struct resolver *)w;
	struct resolve_answer *v;
	const char **names;
	size_t n, n_names;
	(void)events;

	resolve_thread_take(r->thread, &v, &n);
	if (config_hostnames(r->ag->rt->cfg, &names, &n_names)) {
		resolve_answers_free(v, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *key = v[i].name;

		/* An answer for a name a reload dropped meanwhile is not kept. */
		if (bsearch(&key, names, n_names, sizeof(*names), str_cmp))
			r->is_stale |= record(r, &v[i]);
	}
	free(names);
	resolve_answers_free(v, n);
	if (r->is_stale && !r->ag->is_stopping)
		update(r);
}

void resolver_follow(struct resolver *r, const struct config *cfg)
{
	const char **names = NULL, **fresh = NULL;
	size_t n = 0, n_fresh = 0;

	if (!r)
		return;
	if (config_hostnames(cfg, &names, &n) || !(fresh = calloc(n ? n : 1, sizeof(*fresh)))) {
		free(names);
		log_err("resolve: out of memory: endpoint names not followed");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!dns_cache_find(r->cache, names[i]))
			fresh[n_fresh++] = names[i];
	}
	dns_cache_retain(r->cache, names, n);
	if (resolve_thread_set(r->thread, names, n, fresh, n_fresh, cfg->resolve_interval_ms))
		log_err("resolve: out of memory: endpoint names not followed");
	else if (n_fresh)
		log_info("resolve: %zu new name%s (%s%s) looked up in the background", n_fresh,
			 n_fresh == 1 ? "" : "s", fresh[0], n_fresh > 1 ? ", ..." : "");
	r->interval_ms = cfg->resolve_interval_ms;
	free(fresh);
	free(names);
}

struct resolver *resolver_open(struct agent *ag, resolver_install_fn *install, void *ctx)
{
	struct resolver *r = calloc(1, sizeof(*r));
	const struct config *cfg = ag->rt->cfg;

	if (!r)
		return NULL;
	r->ag = ag;
	r->install = install;
	r->install_ctx = ctx;
	r->cache = dns_cache_new();
	r->hosts = series_table_new(1, sizeof(struct host_counts), RESOLVE_MAX_HOSTS);
	if (!r->cache || !r->hosts || dns_cache_seed(r->cache, cfg)) {
		log_err("resolve: out of memory");
		goto err_close;
	}
	r->thread = resolve_thread_start(cfg->resolve_interval_ms);
	if (!r->thread) {
		log_err("resolve: cannot start the resolver thread: %s", strerror(errno));
		goto err_close;
	}
	r->w = (struct loop_watch){.fd = resolve_thread_fd(r->thread), .on_event = on_answers};
	if (loop_add(ag->loop, &r->w, EPOLLIN)) {
		log_err("resolve: cannot watch the resolver thread");
		goto err_close;
	}
	r->is_watched = true;
	resolver_follow(r, cfg);
	return r;
err_close:
	resolver_close(r);
	return NULL;
}

void resolver_close(struct resolver *r)
{
	if (!r)
		return;
	if (r->is_watched)
		loop_del(r->ag->loop, &r->w);
	resolve_thread_stop(r->thread);
	dns_cache_free(r->cache);
	series_table_free(r->hosts);
	free(r);
}

void resolver_lookup(const struct resolver *r, struct cfg_lookup *out)
{
	dns_cache_lookup(r->cache, out);
}

static size_t n_addrs(const struct dns_entry *e)
{
	return e->n_addrs;
}

static size_t is_failing(const struct dns_entry *e)
{
	return e->is_failing;
}

/* A gauge with one sample per name in the cache. */
static void write_gauge(const struct resolver *r, FILE *f, const char *name, const char *help,
			size_t (*value)(const struct dns_entry *))
{
	static const char *const label[] = {"host"};

	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	for (size_t i = 0; i < dns_cache_count(r->cache); i++) {
		const struct dns_entry *e = dns_cache_at(r->cache, i);

		fprintf(f, "%s{", name);
		prom_write_labels(f, label, (const char *const[]){e->name}, 1);
		fprintf(f, "} %zu\n", value(e));
	}
}

void resolver_metrics_write(const struct resolver *r, FILE *f)
{
	static const char *const label[] = {"host"};
	static const char *const what[3] = {"failures", "changes", "truncated"};
	static const char *const help[3] = {
		"Failed lookups of an endpoint host name.",
		"Times the addresses of an endpoint host name changed.",
		"Answers for an endpoint host name cut to max_addresses_per_name.",
	};

	if (!r)
		return;
	write_gauge(r, f, "sockgate_resolve_addresses",
		    "Addresses in use for an endpoint host name: its last successful answer (0: "
		    "it never resolved).",
		    n_addrs);
	write_gauge(r, f, "sockgate_resolve_failing",
		    "1 while the latest lookup of an endpoint host name failed (its last "
		    "addresses stay in use).",
		    is_failing);
	for (int k = 0; k < 3; k++) {
		fprintf(f,
			"# HELP sockgate_resolve_%s_total %s\n# TYPE sockgate_resolve_%s_total "
			"counter\n",
			what[k], help[k], what[k]);
		for (size_t i = 0; i < series_table_count(r->hosts); i++) {
			const char *const *values;
			const struct host_counts *hc = series_table_at(r->hosts, i, &values);

			fprintf(f, "sockgate_resolve_%s_total{", what[k]);
			prom_write_labels(f, label, values, 1);
			fprintf(f, "} %llu\n",
				(unsigned long long)(k == 0   ? hc->failures
						     : k == 1 ? hc->changes
							      : hc->truncated));
		}
	}
	fprintf(f,
		"# HELP sockgate_resolve_updates_total Configurations rebuilt for new endpoint "
		"addresses (no file read).\n"
		"# TYPE sockgate_resolve_updates_total counter\n"
		"sockgate_resolve_updates_total %llu\n",
		(unsigned long long)r->n_updates);
}
