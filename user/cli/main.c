// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c: sockgate, the CLI: options, the command table, exit codes only.
 * One table drives dispatch and `help`, so they cannot disagree. Exit codes:
 * 0 ok, 1 runtime error (one line on stderr, printed where the context is),
 * 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bpf_maps.h"
#include "sg_defaults.h"
#include "cmd_flows.h"
#include "cmd_stats.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

struct cli_opts {
	const char *bpffs_dir;
	bool is_json;
};

enum cmd_flags {
	CMD_TAKES_JSON = 1u << 0,
};

struct command {
	const char *name;
	const char *args; /* after the name in `help` */
	const char *help;
	unsigned int flags; /* enum cmd_flags */
	/* Returns 0, or a negative errno after printing one line to stderr. */
	int (*run)(const struct cli_opts *o);
};

enum opt_id {
	OPT_HELP = 'h',
	OPT_BPFFS = 256,
	OPT_JSON,
};

struct opt_doc {
	struct option opt;
	const char *arg;
	const char *help;
};

static const struct opt_doc opt_docs[] = {
	{{"bpffs", required_argument, NULL, OPT_BPFFS},
	 "DIR",
	 "where sockgated pins its maps (default " BPF_MAPS_DEFAULT_DIR ")"},
	{{"json", no_argument, NULL, OPT_JSON}, NULL, "JSON output (commands marked [--json])"},
	{{"help", no_argument, NULL, OPT_HELP}, NULL, "print this help (same as `sockgate help`)"},
};

#define N_OPTS (sizeof(opt_docs) / sizeof(opt_docs[0]))

static void usage(FILE *f);

static int run_flows(const struct cli_opts *o)
{
	return cmd_flows(o->bpffs_dir, o->is_json, stdout);
}

static int run_stats(const struct cli_opts *o)
{
	return cmd_stats(o->bpffs_dir, o->is_json, stdout);
}

static int run_version(const struct cli_opts *o)
{
	(void)o;
	printf("sockgate %s\n", SG_VERSION);
	return 0;
}

static int run_help(const struct cli_opts *o)
{
	(void)o;
	usage(stdout);
	return 0;
}

static const struct command commands[] = {
	{"flows", "[--json]", "spliced flows from the pinned flow map, most bytes first",
	 CMD_TAKES_JSON, run_flows},
	{"stats", "[--json]", "dataplane counters, summed over CPUs", CMD_TAKES_JSON, run_stats},
	{"version", "", "print the version", 0, run_version},
	{"help", "", "print this help", 0, run_help},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	char left[48];

	fprintf(f, "usage: sockgate [--bpffs DIR] COMMAND [--json]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		snprintf(left, sizeof(left), "%s%s%s", commands[i].name,
			 commands[i].args[0] ? " " : "", commands[i].args);
		fprintf(f, "  %-18s %s\n", left, commands[i].help);
	}
	fprintf(f, "\noptions (before or after the command):\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		snprintf(left, sizeof(left), "--%s%s%s", opt_docs[i].opt.name,
			 opt_docs[i].arg ? " " : "", opt_docs[i].arg ? opt_docs[i].arg : "");
		fprintf(f, "  %-18s %s\n", left, opt_docs[i].help);
	}
	fprintf(f, "\nThe maps stay pinned after sockgated exits, so flows and stats work\n"
		   "with the agent stopped. Exit status: 0 ok, 1 error, 2 usage.\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sockgate: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see 'sockgate help')\n", stderr);
	return -EINVAL;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

/* Options may come before or after the command (getopt permutes). Returns 0
 * with *cmd set, or -EINVAL after printing one line (the caller exits 2). */
static int parse_args(int argc, char **argv, struct cli_opts *o, const struct command **cmd)
{
	struct option longopts[N_OPTS + 1];
	bool wants_help = false;
	int c;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < N_OPTS; i++)
		longopts[i] = opt_docs[i].opt;
	o->bpffs_dir = BPF_MAPS_DEFAULT_DIR;
	o->is_json = false;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BPFFS:
			if (!optarg[0])
				return usage_error("--bpffs needs a directory");
			o->bpffs_dir = optarg;
			break;
		case OPT_JSON:
			o->is_json = true;
			break;
		case OPT_HELP:
			wants_help = true;
			break;
		case ':':
			return usage_error("%s needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (wants_help) {
		*cmd = find_command("help");
		return 0;
	}
	if (optind >= argc) {
		usage(stderr);
		return -EINVAL;
	}
	*cmd = find_command(argv[optind]);
	if (!*cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	if (optind + 1 < argc)
		return usage_error("%s: unexpected argument '%s'", (*cmd)->name, argv[optind + 1]);
	if (o->is_json && !((*cmd)->flags & CMD_TAKES_JSON))
		return usage_error("%s does not take --json", (*cmd)->name);
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct cli_opts o;
	int err;

	if (parse_args(argc, argv, &o, &cmd) < 0 || !cmd)
		return EXIT_USAGE;
	err = cmd->run(&o);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "sockgate: writing output: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	return err < 0 ? EXIT_RUNTIME : 0;
}
