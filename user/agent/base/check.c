// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* check.c: see check.h. */
#include <stdio.h>

#include "check.h"
#include "config.h"
#include "router.h"
#include "runtime.h"

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

int check_run(const struct args *a)
{
	struct cfg_options opts = {
		.labels = a->labels, .n_labels = a->n_labels, .gateway_class = a->gateway_class};
	struct cfg_diags d = {0};
	struct config *cfg = NULL;
	struct runtime *rt;
	size_t n_loaded, n_warnings = 0, n_ls, n_rs;
	int err, rc = 0;

	err = config_load_paths(a->configs, a->n_configs, &opts, &cfg, &d);
	n_loaded = d.n;
	if (!err)
		err = config_resolve(cfg, &d);
	for (size_t i = 0; i < n_loaded; i++)
		n_warnings += d.items[i].is_warning;
	/* Counted for --strict, unlike a name that does not resolve now: a
	 * ClusterIP behind a Service name is a mistake in the files. */
	if (!err)
		n_warnings += config_services_warn(cfg, &d);
	cfg_diags_print(&d, stderr);
	if (err) {
		fprintf(stderr, "sockgated: configuration rejected (%zu error%s)\n", d.n_errors,
			plural(d.n_errors));
		cfg_diags_free(&d);
		config_free(cfg);
		return 1;
	}
	/* Where Gateway API routes attached: the status an API server would show. */
	for (size_t i = 0; i < d.n_notes; i++)
		printf("%s\n", d.notes[i]);
	cfg_diags_free(&d);
	rt = runtime_from_config(cfg, stderr);
	if (!rt)
		return 1;
	router_dump(rt->router, stdout);
	if (rt->cfg->guard.is_set)
		cfg_guard_dump(&rt->cfg->guard, stdout);
	n_ls = rt->cfg->n_listeners;
	n_rs = rt->cfg->n_routes;
	/* A load that parses but serves nothing is almost always the wrong files
	 * or a selector that matches no gateway: an agent started on it would
	 * run and refuse every connection. */
	if (!n_ls || !n_rs) {
		fprintf(stderr,
			"sockgated: configuration rejected: nothing would be served "
			"(%zu listener%s, %zu route%s)\n",
			n_ls, plural(n_ls), n_rs, plural(n_rs));
		rc = 1;
	}
	if (a->strict && n_warnings) {
		fprintf(stderr, "sockgated: configuration rejected: %zu warning%s with --strict\n",
			n_warnings, plural(n_warnings));
		rc = 1;
	}
	if (!rc)
		printf("configuration ok: %zu listener%s, %zu route%s\n", n_ls, plural(n_ls), n_rs,
		       plural(n_rs));
	runtime_put(rt);
	return rc;
}
