/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* args.h: sockgated's command line (docs/OPERATING.md, section "Flags") into a plain struct.
 * Pure: no I/O besides the usage text; the caller owns argv's lifetime. */
#ifndef SG_ARGS_H
#define SG_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "access_fmt.h"
#include "log.h"

#define ARGS_MAX_CONFIGS	 16
#define ARGS_MAX_LABELS		 16
#define ARGS_DEFAULT_PAIR_BUDGET (4u << 20)
#define ARGS_MIN_PAIR_BUDGET	 (64u << 10)  /* --pair-budget 64K ... */
#define ARGS_MAX_PAIR_BUDGET	 (1ull << 30) /* ... 1G */

#define ARGS_DEFAULT_PROMOTE_BYTES (256u << 10)
#define ARGS_DEFAULT_PROMOTE_MS	   1000u
#define ARGS_MAX_WORKERS	   64
#define ARGS_DEFAULT_DRAIN_MS	   10000u

enum args_dataplane {
	/* Every pair starts in the user-space copy and is promoted once past
	 * --promote-bytes or --promote-after: to express where both legs allow
	 * it (docs/EXPRESS.md; not with --no-express), else to sockmap, else
	 * splice(2), with a warning. */
	ARGS_DATAPLANE_AUTO = 0,
	ARGS_DATAPLANE_SOCKMAP, /* every pair spliced at once */
	ARGS_DATAPLANE_SPLICE,	/* every pair in the splice(2) relay */
	ARGS_DATAPLANE_COPY,	/* every pair in the user-space copy, never promoted */
	ARGS_DATAPLANE_EXPRESS	/* auto, whatever --no-express says */
};

struct args {
	const char *configs[ARGS_MAX_CONFIGS]; /* files or directories */
	size_t n_configs;
	const char *labels[ARGS_MAX_LABELS]; /* "key=value" for Gateway selectors */
	size_t n_labels;
	const char *gateway_class; /* Gateway API class served; NULL: the default */
	const char *control_path;
	const char *bpffs_dir;
	const char *metrics_addr;    /* NULL: no metrics listener */
	const char *access_log_path; /* "-": stdout (the default); NULL: off */
	enum access_fmt access_log_fmt;
	enum args_dataplane dataplane;
	/* Bytes one direction of a spliced pair may hold in kernel queues before
	 * that direction is paused (sockmap has no backpressure of its own). */
	uint64_t pair_budget_bytes;
	/* A copied pair is promoted once one direction moved this many bytes,
	 * or once it is this old (docs/ARCHITECTURE.md, section "Promotion"). */
	uint64_t promote_bytes;
	uint64_t promote_after_ms;
	/* Event loops that carry connections (docs/ARCHITECTURE.md, section
	 * "Workers"); 0: one per CPU the agent may run on. 1: the one loop
	 * does everything, as before there were workers. */
	uint32_t workers;
	/* Client connections open at once; 0: derived from the fd limit
	 * (admission_default_max()). */
	uint32_t max_connections;
	uint32_t max_connections_per_source; /* per client IP; 0: no limit */
	const char *user; /* --user: run as this user after startup; NULL: stay */
	/* --keep-privileges: skip the drop to the capabilities the agent uses
	 * (privileges.h); an opt-out, off by default. */
	bool keep_privileges;
	/* --drain-timeout: how long connections may finish once the agent stops
	 * accepting (SIGTERM, or handed over by --takeover) before the rest are
	 * reset. */
	uint64_t drain_ms;
	/* --takeover: take the listening sockets, the guard's XDP links and the
	 * metrics socket of the agent answering on control_path, which then
	 * drains and exits (docs/OPERATING.md, "Upgrade without dropping
	 * connections"). Without an agent there, start afresh. */
	bool takeover;
	/* The command line and the binary this agent runs, for `sockgate upgrade`
	 * (control/upgrade.h): set by main(), not by args_parse(). */
	char *const *argv;
	int argc;
	const char *exe_path; /* NULL: unknown (/proc/self/exe unreadable) */
	bool no_express;      /* auto promotes to sockmap, never to express */
	enum log_level log_level;
	bool check_only; /* --check: validate, print the route tables, exit */
	bool strict;	 /* --strict (with --check): a warning fails the check */
	bool show_help;
	bool show_version;
};

/* Parses argv into *a (defaults first). Returns 0, or -EINVAL after printing
 * one line naming the bad argument to stderr (the caller exits 2). */
int args_parse(struct args *a, int argc, char **argv);

/* Writes the usage text to f. */
void args_usage(FILE *f);

#endif
