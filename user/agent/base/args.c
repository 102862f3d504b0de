// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* args.c: table-driven long options for sockgated, so the usage text and the
 * parser cannot drift apart. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cfg_value.h"
#include "opt_doc.h"
#include "sg_defaults.h"

enum opt_id {
	OPT_CONFIG = 'c',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_CHECK = 't', /* nginx -t */
	OPT_CONTROL = 256,
	OPT_BPFFS,
	OPT_DATAPLANE,
	OPT_METRICS,
	OPT_LOG_LEVEL,
	OPT_LABEL,
	OPT_STRICT,
	OPT_GATEWAY_CLASS,
	OPT_PAIR_BUDGET,
	OPT_PROMOTE_BYTES,
	OPT_WORKERS,
	OPT_PROMOTE_AFTER,
	OPT_ACCESS_LOG,
	OPT_ACCESS_LOG_FORMAT,
	OPT_MAX_CONNECTIONS,
	OPT_MAX_PER_SOURCE,
	OPT_USER,
	OPT_KEEP_PRIVILEGES,
	OPT_TAKEOVER,
	OPT_DRAIN_TIMEOUT,
	OPT_NO_EXPRESS,
};

static const struct opt_doc opt_docs[] = {
	{{"config", required_argument, NULL, OPT_CONFIG},
	 "PATH",
	 "YAML file or directory of *.yaml (native or Istio); repeatable"},
	{{"control", required_argument, NULL, OPT_CONTROL},
	 "PATH",
	 "control socket (default $" SG_CONTROL_ENV ", else " SG_DEFAULT_CONTROL ")"},
	{{"bpffs", required_argument, NULL, OPT_BPFFS},
	 "DIR",
	 "where BPF maps are pinned (default " SG_DEFAULT_BPFFS_DIR ")"},
	{{"dataplane", required_argument, NULL, OPT_DATAPLANE},
	 "auto|express|sockmap|splice|copy",
	 "auto (default): copy, then promote to express (TC packet translation) where both legs "
	 "allow it, else sockmap, else splice; express: the same; or force one"},
	{{"no-express", no_argument, NULL, OPT_NO_EXPRESS},
	 NULL,
	 "with auto: promote to sockmap (else splice), never to express"},
	{{"workers", required_argument, NULL, OPT_WORKERS},
	 "N",
	 "event loops carrying connections, one thread each (default: one per CPU the agent may "
	 "use; 1: a single loop)"},
	{{"promote-bytes", required_argument, NULL, OPT_PROMOTE_BYTES},
	 "SIZE",
	 "auto: promote a pair once one direction moved SIZE bytes (default 256K; 0: never by "
	 "bytes)"},
	{{"promote-after", required_argument, NULL, OPT_PROMOTE_AFTER},
	 "DURATION",
	 "auto: promote a pair once it is DURATION old (default 1s; 0s: never by age)"},
	{{"metrics", required_argument, NULL, OPT_METRICS},
	 "ADDR",
	 "serve Prometheus /metrics on ADDR (host:port, [v6]:port; :port is 127.0.0.1:port, "
	 "0.0.0.0:port or [::]:port every address)"},
	{{"access-log", required_argument, NULL, OPT_ACCESS_LOG},
	 "FILE|-|off",
	 "one line per closed connection to FILE, stdout (-, the default) or nowhere"},
	{{"access-log-format", required_argument, NULL, OPT_ACCESS_LOG_FORMAT},
	 "kv|json",
	 "key=value (default) or one JSON object per line"},
	{{"pair-budget", required_argument, NULL, OPT_PAIR_BUDGET},
	 "SIZE",
	 "bytes one direction of a spliced pair may queue before it is paused (default 4M)"},
	{{"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
	 "N",
	 "client connections open at once (default: from the fd limit, see docs/OPERATING.md)"},
	{{"max-connections-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE},
	 "N",
	 "client connections open at once from one IP address (default 0: no limit)"},
	{{"user", required_argument, NULL, OPT_USER},
	 "NAME",
	 "after startup, run as user NAME (and its groups) with the capabilities it keeps"},
	{{"keep-privileges", no_argument, NULL, OPT_KEEP_PRIVILEGES},
	 NULL,
	 "opt out: keep every capability the agent was started with (not recommended)"},
	{{"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
	 "DURATION",
	 "at stop or after a takeover, how long open connections may finish before they are "
	 "reset (default 10s)"},
	{{"takeover", no_argument, NULL, OPT_TAKEOVER},
	 NULL,
	 "upgrade: take the listening sockets of the agent on --control, which then drains and "
	 "exits (docs/OPERATING.md)"},
	{{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	 "LEVEL",
	 "err, warn, info (default) or debug"},
	{{"label", required_argument, NULL, OPT_LABEL},
	 "KEY=VALUE",
	 "agent label for Istio Gateway selectors (default istio=ingressgateway); repeatable"},
	{{"gateway-class", required_argument, NULL, OPT_GATEWAY_CLASS},
	 "NAME",
	 "Gateway API gatewayClassName to serve (default " CFG_DEFAULT_GATEWAY_CLASS ")"},
	{{"check", no_argument, NULL, OPT_CHECK},
	 NULL,
	 "validate the configuration, print the route tables and exit; exit 1 when it is "
	 "rejected or serves nothing"},
	{{"strict", no_argument, NULL, OPT_STRICT},
	 NULL,
	 "with --check: any configuration warning fails the check (for CI)"},
	{{"version", no_argument, NULL, OPT_VERSION}, NULL, "print the version and exit"},
	{{"help", no_argument, NULL, OPT_HELP}, NULL, "print this help and exit"},
};

#define N_OPTS (sizeof(opt_docs) / sizeof(opt_docs[0]))

void args_usage(FILE *f)
{
	fprintf(f,
		"usage: sockgated -c PATH [options]\n"
		"       sockgated -t -c PATH     (check the configuration and exit)\n\noptions:\n");
	opt_doc_usage(f, opt_docs, N_OPTS, 32);
}

static int push(const char **list, size_t *n, size_t max, const char *v, const char *what)
{
	if (*n == max) {
		fprintf(stderr, "sockgated: too many %s (at most %zu)\n", what, max);
		return -EINVAL;
	}
	list[(*n)++] = v;
	return 0;
}

/* A count 0..UINT32_MAX, decimal, nothing else. */
static int parse_count(const char *opt, const char *v, uint32_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (!v[0] || v[0] == '-' || *end || errno || n > UINT32_MAX) {
		fprintf(stderr, "sockgated: %s %s: expected a number 0..%u\n", opt, v, UINT32_MAX);
		return -EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

static int parse_one(struct args *a, int id, const char *v)
{
	switch (id) {
	case OPT_MAX_CONNECTIONS:
		return parse_count("--max-connections", v, &a->max_connections);
	case OPT_MAX_PER_SOURCE:
		return parse_count("--max-connections-per-source", v,
				   &a->max_connections_per_source);
	case OPT_PAIR_BUDGET:
		if (cfg_parse_size(v, &a->pair_budget_bytes) < 0 ||
		    a->pair_budget_bytes < ARGS_MIN_PAIR_BUDGET ||
		    a->pair_budget_bytes > ARGS_MAX_PAIR_BUDGET) {
			fprintf(stderr,
				"sockgated: --pair-budget %s: expected a size from 64K to 1G\n", v);
			return -EINVAL;
		}
		return 0;
	case OPT_WORKERS:
		if (parse_count("--workers", v, &a->workers) < 0 || a->workers < 1 ||
		    a->workers > ARGS_MAX_WORKERS) {
			fprintf(stderr, "sockgated: --workers %s: expected 1..%d\n", v,
				ARGS_MAX_WORKERS);
			return -EINVAL;
		}
		return 0;
	case OPT_PROMOTE_BYTES:
		if (cfg_parse_size(v, &a->promote_bytes) < 0) {
			fprintf(stderr, "sockgated: --promote-bytes %s: expected a size\n", v);
			return -EINVAL;
		}
		return 0;
	case OPT_PROMOTE_AFTER:
		if (cfg_parse_duration_ms(v, &a->promote_after_ms) < 0) {
			fprintf(stderr, "sockgated: --promote-after %s: expected a duration\n", v);
			return -EINVAL;
		}
		return 0;
	case OPT_DRAIN_TIMEOUT:
		if (cfg_parse_duration_ms(v, &a->drain_ms) < 0) {
			fprintf(stderr, "sockgated: --drain-timeout %s: expected a duration\n", v);
			return -EINVAL;
		}
		return 0;
	case OPT_TAKEOVER:
		a->takeover = true;
		return 0;
	case OPT_CONFIG:
		return push(a->configs, &a->n_configs, ARGS_MAX_CONFIGS, v, "--config");
	case OPT_LABEL:
		if (!strchr(v, '=') || v[0] == '=') {
			fprintf(stderr, "sockgated: --label %s: expected KEY=VALUE\n", v);
			return -EINVAL;
		}
		return push(a->labels, &a->n_labels, ARGS_MAX_LABELS, v, "--label");
	case OPT_CONTROL:
		a->control_path = v;
		return 0;
	case OPT_BPFFS:
		a->bpffs_dir = v;
		return 0;
	case OPT_METRICS:
		a->metrics_addr = v;
		return 0;
	case OPT_ACCESS_LOG:
		if (!v[0]) {
			fprintf(stderr, "sockgated: --access-log: expected FILE, - or off\n");
			return -EINVAL;
		}
		a->access_log_path = strcmp(v, "off") == 0 ? NULL : v;
		return 0;
	case OPT_ACCESS_LOG_FORMAT:
		if (access_fmt_parse(v, &a->access_log_fmt) < 0) {
			fprintf(stderr, "sockgated: --access-log-format %s: expected kv or json\n",
				v);
			return -EINVAL;
		}
		return 0;
	case OPT_DATAPLANE:
		if (strcmp(v, "auto") == 0)
			a->dataplane = ARGS_DATAPLANE_AUTO;
		else if (strcmp(v, "sockmap") == 0)
			a->dataplane = ARGS_DATAPLANE_SOCKMAP;
		else if (strcmp(v, "copy") == 0)
			a->dataplane = ARGS_DATAPLANE_COPY;
		else if (strcmp(v, "splice") == 0)
			a->dataplane = ARGS_DATAPLANE_SPLICE;
		else if (strcmp(v, "express") == 0)
			a->dataplane = ARGS_DATAPLANE_EXPRESS;
		else {
			fprintf(stderr,
				"sockgated: --dataplane %s: expected auto, express, sockmap, "
				"splice or copy\n",
				v);
			return -EINVAL;
		}
		return 0;
	case OPT_LOG_LEVEL:
		if (log_level_parse(v, &a->log_level) < 0) {
			fprintf(stderr,
				"sockgated: --log-level %s: expected err, warn, info or debug\n",
				v);
			return -EINVAL;
		}
		return 0;
	case OPT_USER:
		if (!v[0]) {
			fprintf(stderr, "sockgated: --user: expected a user name\n");
			return -EINVAL;
		}
		a->user = v;
		return 0;
	case OPT_KEEP_PRIVILEGES:
		a->keep_privileges = true;
		return 0;
	case OPT_NO_EXPRESS:
		a->no_express = true;
		return 0;
	case OPT_CHECK:
		a->check_only = true;
		return 0;
	case OPT_GATEWAY_CLASS:
		if (!v[0]) {
			fprintf(stderr, "sockgated: --gateway-class: expected a class name\n");
			return -EINVAL;
		}
		a->gateway_class = v;
		return 0;
	case OPT_STRICT:
		a->strict = true;
		return 0;
	case OPT_HELP:
		a->show_help = true;
		return 0;
	case OPT_VERSION:
		a->show_version = true;
		return 0;
	}
	return -EINVAL; /* getopt already printed what was wrong */
}

int args_parse(struct args *a, int argc, char **argv)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[2 * N_OPTS + 1];
	int id, err;

	memset(a, 0, sizeof(*a));
	a->control_path = getenv(SG_CONTROL_ENV);
	if (!a->control_path || !a->control_path[0])
		a->control_path = SG_DEFAULT_CONTROL;
	a->bpffs_dir = SG_DEFAULT_BPFFS_DIR;
	a->log_level = LOG_LEVEL_INFO;
	a->pair_budget_bytes = ARGS_DEFAULT_PAIR_BUDGET;
	a->promote_bytes = ARGS_DEFAULT_PROMOTE_BYTES;
	a->promote_after_ms = ARGS_DEFAULT_PROMOTE_MS;
	a->drain_ms = ARGS_DEFAULT_DRAIN_MS;
	a->access_log_path = "-";
	opt_doc_longopts(opt_docs, N_OPTS, longopts);
	opt_doc_shortopts(opt_docs, N_OPTS, "", shortopts, sizeof(shortopts));

	optind = 1;
	while ((id = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		err = parse_one(a, id, optarg);
		if (err)
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, "sockgated: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (a->strict && !a->check_only) {
		fprintf(stderr, "sockgated: --strict is a --check option\n");
		return -EINVAL;
	}
	if (a->takeover && a->check_only) {
		fprintf(stderr,
			"sockgated: --takeover starts an agent, --check does not: choose one\n");
		return -EINVAL;
	}
	if (a->user && a->keep_privileges) {
		fprintf(stderr, "sockgated: --user drops privileges, --keep-privileges keeps them: "
				"choose one\n");
		return -EINVAL;
	}
	if (a->n_configs == 0 && !a->show_help && !a->show_version) {
		fprintf(stderr, "sockgated: --config is required\n");
		return -EINVAL;
	}
	return 0;
}
