// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* main.c: sockgate, the CLI: options, the command table, exit codes only.
 * One table drives dispatch and `help`, so they cannot disagree. Exit codes:
 * 0 ok, 1 runtime error or a change the agent rejected (the reason on
 * stderr), 2 usage, 3 no agent answers on the control socket (or, for flows
 * and stats, no pinned map: no agent ever ran), 4 permission denied. flows and stats read the pinned maps and need no agent; top asks
 * the agent and reads the flow map. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_maps.h"
#include "sg_defaults.h"
#include "cmd_flows.h"
#include "cmd_stats.h"
#include "cmd_top.h"
#include "cmd_upgrade.h"
#include "control_client.h"
#include "guard_rules.h"
#include "json_pretty.h"
#include "opt_doc.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

#define FILE_MAX (16u << 20) /* what the agent's loader accepts */

struct cli_opts {
	const char *bpffs_dir;
	const char *control_path;
	bool is_json;
	bool is_pretty;		  /* -p: JSON, indented */
	FILE *out;		  /* stdout, or a buffer for -p */
	bool has_top_opts;	  /* --interval, --iterations or --once given */
	double interval_s;	  /* top */
	unsigned long iterations; /* top; 0: until quit */
	char **args;		  /* after the command name */
	int n_args;
};

enum cmd_flags {
	CMD_TAKES_JSON = 1u << 0,
	CMD_TAKES_TOP_OPTS = 1u << 1,
};

struct command {
	const char *name;
	const char *args; /* after the name in `help` */
	const char *help;
	unsigned int flags;	/* enum cmd_flags */
	int min_args, max_args; /* positional arguments; max -1: any number */
	/* Returns the exit code, after printing why to stderr when not 0. */
	int (*run)(const struct cli_opts *o);
};

enum opt_id {
	OPT_HELP = 'h',
	OPT_JSON = 'j',
	OPT_PRETTY = 'p',
	OPT_VERSION = 'V',
	OPT_BPFFS = 256,
	OPT_CONTROL,
	OPT_INTERVAL,
	OPT_ITERATIONS,
	OPT_ONCE,
};

static const struct opt_doc opt_docs[] = {
	{{"bpffs", required_argument, NULL, OPT_BPFFS},
	 "DIR",
	 "where sockgated pins its maps (default " BPF_MAPS_DEFAULT_DIR ")"},
	{{"control", required_argument, NULL, OPT_CONTROL},
	 "PATH",
	 "sockgated's control socket (default $" SG_CONTROL_ENV ", else " SG_DEFAULT_CONTROL ")"},
	{{"json", no_argument, NULL, OPT_JSON}, NULL, "JSON output (commands marked [--json])"},
	{{"pretty", no_argument, NULL, OPT_PRETTY}, NULL, "JSON output, indented (implies --json)"},
	{{"interval", required_argument, NULL, OPT_INTERVAL},
	 "SECONDS",
	 "top: refresh every SECONDS (default 1, at least 0.1)"},
	{{"iterations", required_argument, NULL, OPT_ITERATIONS},
	 "N",
	 "top: print N plain frames, one per interval, then exit"},
	{{"once", no_argument, NULL, OPT_ONCE}, NULL, "top: the same as --iterations 1"},
	{{"version", no_argument, NULL, OPT_VERSION}, NULL, "print the version and exit"},
	{{"help", no_argument, NULL, OPT_HELP},
	 NULL,
	 "print this help, or with a command its help (`sockgate help CMD`)"},
};

#define N_OPTS (sizeof(opt_docs) / sizeof(opt_docs[0]))

static void usage(FILE *f);
static void command_usage(FILE *f, const struct command *c);
static const struct command *find_command(const char *name);

/* The exit code for a pinned map that could not be read: no map is no agent. */
static int map_exit_code(int err)
{
	if (err == -ENOENT)
		return CLI_EXIT_NO_AGENT;
	if (err == -EPERM || err == -EACCES)
		return CLI_EXIT_DENIED;
	return err < 0 ? EXIT_RUNTIME : 0;
}

static int run_flows(const struct cli_opts *o)
{
	return map_exit_code(cmd_flows(o->bpffs_dir, o->is_json, o->out));
}

static int run_top(const struct cli_opts *o)
{
	struct top_opts t = {
		.bpffs_dir = o->bpffs_dir,
		.control_path = o->control_path,
		.interval_s = o->interval_s,
		.iterations = o->iterations,
	};

	return cmd_top(&t);
}

static int run_stats(const struct cli_opts *o)
{
	return map_exit_code(cmd_stats(o->bpffs_dir, o->is_json, o->out));
}

/* Asks the agent: the command's name, its arguments, then --json if given. */
static int run_agent(const struct cli_opts *o, const char *name)
{
	const char *words[o->n_args + 2];
	size_t n = 0;

	words[n++] = name;
	for (int i = 0; i < o->n_args; i++) {
		if (strpbrk(o->args[i], "\t\n")) {
			fprintf(stderr, "sockgate: %s: no tab or newline allowed in '%s'\n", name,
				o->args[i]);
			return EXIT_USAGE;
		}
		words[n++] = o->args[i];
	}
	if (o->is_json)
		words[n++] = "--json";
	return control_request(o->control_path, words, n, NULL, 0, o->out, stderr);
}

static int run_unload(const struct cli_opts *o)
{
	return run_agent(o, "unload");
}

static int run_reload(const struct cli_opts *o)
{
	return run_agent(o, "reload");
}

static int run_routes(const struct cli_opts *o)
{
	return run_agent(o, "routes");
}

static int run_backends(const struct cli_opts *o)
{
	return run_agent(o, "backends");
}

static int run_drain(const struct cli_opts *o)
{
	return run_agent(o, "drain");
}

static int run_undrain(const struct cli_opts *o)
{
	return run_agent(o, "undrain");
}

static int run_upgrade(const struct cli_opts *o)
{
	return cmd_upgrade(o->control_path, o->n_args ? o->args[0] : NULL, o->out);
}

static int run_status(const struct cli_opts *o)
{
	return run_agent(o, "status");
}

/* The agent checks the CIDR too; here it is a usage error (2) with no agent. */
static int check_cidr(const char *text)
{
	struct cfg_cidr c;
	char cidr[64];

	switch (guard_parse_cidr(text, &c)) {
	case GUARD_CIDR_OK:
		return 0;
	case GUARD_CIDR_HOST_BITS:
		fprintf(stderr, "sockgate: guard: %s has host bits set: did you mean %s?\n", text,
			guard_cidr_str(&c, cidr, sizeof(cidr)));
		break;
	case GUARD_CIDR_V4_MAPPED:
		fprintf(stderr, "sockgate: guard: %s is IPv4-mapped: give the IPv4 form\n", text);
		break;
	default:
		fprintf(stderr,
			"sockgate: guard: %s is not an IP address or CIDR (203.0.113.0/24, "
			"2001:db8::/32)\n",
			text);
	}
	return -EINVAL;
}

/* The subcommand is checked here too, so a typo is a usage error (2) even
 * with no agent to ask. */
static int run_guard(const struct cli_opts *o)
{
	bool is_show = o->n_args == 0 || (o->n_args == 1 && !strcmp(o->args[0], "show"));
	bool is_change = o->n_args == 3 &&
			 (!strcmp(o->args[0], "deny") || !strcmp(o->args[0], "allow")) &&
			 (!strcmp(o->args[1], "add") || !strcmp(o->args[1], "del"));

	if (!is_show && !is_change) {
		fprintf(stderr,
			"sockgate: usage: guard [show] [--json], or guard deny|allow add|del "
			"CIDR (see 'sockgate help')\n");
		return EXIT_USAGE;
	}
	if (is_change && o->is_json) {
		fprintf(stderr, "sockgate: guard %s %s does not take --json\n", o->args[0],
			o->args[1]);
		return EXIT_USAGE;
	}
	if (is_change && check_cidr(o->args[2]))
		return EXIT_USAGE;
	return run_agent(o, "guard");
}

/* Reads path whole, at most FILE_MAX bytes; NULL after one line on stderr. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f) {
		fprintf(stderr, "sockgate: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (*len == cap) {
			char *b = cap <= FILE_MAX ? realloc(buf, cap + 65536) : NULL;

			if (!b) {
				fprintf(stderr, "sockgate: %s: larger than %u bytes\n", path,
					FILE_MAX);
				break;
			}
			buf = b;
			cap += 65536;
		}
		got = fread(buf + *len, 1, cap - *len, f);
		*len += got;
		if (got == 0) {
			if (ferror(f)) {
				fprintf(stderr, "sockgate: %s: %s\n", path, strerror(errno));
				break;
			}
			fclose(f);
			return buf;
		}
	}
	fclose(f);
	free(buf);
	return NULL;
}

static int run_load(const struct cli_opts *o)
{
	const char *path = o->args[0];
	const char *words[] = {"load", path};
	size_t len;
	char *buf;
	int code;

	if (strpbrk(path, "\t\n")) {
		fprintf(stderr, "sockgate: load: no tab or newline allowed in '%s'\n", path);
		return EXIT_USAGE;
	}
	buf = read_file(path, &len);
	if (!buf)
		return EXIT_RUNTIME;
	code = control_request(o->control_path, words, 2, buf, len, o->out, stderr);
	free(buf);
	return code;
}

static int run_version(const struct cli_opts *o)
{
	(void)o;
	printf("sockgate %s\n", SG_VERSION);
	return 0;
}

static int run_help(const struct cli_opts *o)
{
	const struct command *c;

	if (o->n_args == 0) {
		usage(stdout);
		return 0;
	}
	c = find_command(o->args[0]);
	if (!c) {
		fprintf(stderr, "sockgate: help: unknown command '%s' (see 'sockgate help')\n",
			o->args[0]);
		return EXIT_USAGE;
	}
	command_usage(stdout, c);
	return 0;
}

static const struct command commands[] = {
	{"load", "FILE", "add or replace the routes (and listeners) FILE defines", 0, 1, 1,
	 run_load},
	{"unload", "ROUTE...", "remove routes by name", 0, 1, -1, run_unload},
	{"reload", "", "re-read --config, as SIGHUP does", 0, 0, 0, run_reload},
	{"routes", "[--json]", "the routes in force", CMD_TAKES_JSON, 0, 0, run_routes},
	{"backends", "[--json]",
	 "every route's endpoints: connections, state (up, down, drained...), checks",
	 CMD_TAKES_JSON, 0, 0, run_backends},
	{"drain", "BACKEND...",
	 "no new connections to these backends or endpoints; open ones finish", 0, 1, -1,
	 run_drain},
	{"undrain", "BACKEND...", "let drained backends take new connections again", 0, 1, -1,
	 run_undrain},
	{"status", "[--json]", "the agent's version, uptime and sizes", CMD_TAKES_JSON, 0, 0,
	 run_status},
	{"upgrade", "[BINARY]",
	 "replace the agent by BINARY (default: its own path) without dropping a connection", 0, 0,
	 1, run_upgrade},
	{"flows", "[--json]", "spliced flows from the pinned flow map, most bytes first",
	 CMD_TAKES_JSON, 0, 0, run_flows},
	{"stats", "[--json]", "dataplane counters, summed over CPUs", CMD_TAKES_JSON, 0, 0,
	 run_stats},
	{"guard", "SUBCOMMAND", "the XDP guard: show [--json]; deny|allow add|del CIDR at run time",
	 CMD_TAKES_JSON, 0, 3, run_guard},
	{"top", "[--once]", "live routes, backends and busiest flows with byte rates (q quits)",
	 CMD_TAKES_TOP_OPTS, 0, 0, run_top},
	{"version", "", "print the version", 0, 0, 0, run_version},
	{"help", "[COMMAND]", "print this help, or COMMAND's", 0, 0, 1, run_help},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	char left[48];

	fprintf(f, "usage: sockgate [--control PATH] [--bpffs DIR] COMMAND [ARG...] [-j|-p]\n"
		   "       sockgate help COMMAND, or COMMAND --help\n\n"
		   "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		snprintf(left, sizeof(left), "%s%s%s", commands[i].name,
			 commands[i].args[0] ? " " : "", commands[i].args);
		fprintf(f, "  %-18s %s\n", left, commands[i].help);
	}
	fprintf(f, "\noptions (before or after the command):\n");
	opt_doc_usage(f, opt_docs, N_OPTS, 18);
	fprintf(f, "\n-j and -p work with every show command: routes, backends, status, flows,\n"
		   "stats, guard show.\n");
	fprintf(f, "\nflows and stats read the maps sockgated pins, so they work with the agent\n"
		   "stopped; top reads both, and shows flows while the agent does not answer;\n"
		   "the other commands ask the agent on its control socket.\n"
		   "Exit status: 0 ok, 1 error or change rejected (nothing changed), 2 usage,\n"
		   "3 sockgated not running, 4 permission denied.\n");
}

static void command_usage(FILE *f, const struct command *c)
{
	fprintf(f, "usage: sockgate %s%s%s%s\n\n%s\n", c->name, c->args[0] ? " " : "", c->args,
		c->flags & CMD_TAKES_JSON && !strstr(c->args, "--json") ? " [--json]" : "",
		c->help);
	if (c->flags & CMD_TAKES_JSON)
		fprintf(f,
			"\n  -j, --json    JSON output\n  -p, --pretty  JSON output, indented\n");
	if (c->flags & CMD_TAKES_TOP_OPTS)
		fprintf(f,
			"\n  --interval SECONDS  refresh every SECONDS (default 1, at least 0.1)\n"
			"  --iterations N      print N plain frames, then exit\n"
			"  --once              the same as --iterations 1\n");
	fprintf(f, "\nCommon options: --control PATH, --bpffs DIR (see 'sockgate help').\n");
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

static int parse_interval(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return end == s || *end || errno || !(*v >= 0.1 && *v <= 3600) ? -EINVAL : 0;
}

static int parse_count(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return s[0] < '0' || s[0] > '9' || *end || errno || *v < 1 || *v > 1000000 ? -EINVAL : 0;
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
	char shortopts[2 * N_OPTS + 2];
	bool wants_help = false, wants_version = false;
	int c;

	opt_doc_longopts(opt_docs, N_OPTS, longopts);
	opt_doc_shortopts(opt_docs, N_OPTS, ":", shortopts, sizeof(shortopts));
	o->bpffs_dir = BPF_MAPS_DEFAULT_DIR;
	o->control_path = getenv(SG_CONTROL_ENV);
	if (!o->control_path || !o->control_path[0])
		o->control_path = SG_DEFAULT_CONTROL;
	o->is_json = false;
	o->is_pretty = false;
	o->out = stdout;
	o->has_top_opts = false;
	o->interval_s = 1;
	o->iterations = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BPFFS:
			if (!optarg[0])
				return usage_error("--bpffs needs a directory");
			o->bpffs_dir = optarg;
			break;
		case OPT_CONTROL:
			if (!optarg[0])
				return usage_error("--control needs a path");
			o->control_path = optarg;
			break;
		case OPT_JSON:
			o->is_json = true;
			break;
		case OPT_PRETTY:
			o->is_json = true;
			o->is_pretty = true;
			break;
		case OPT_VERSION:
			wants_version = true;
			break;
		case OPT_INTERVAL:
			if (parse_interval(optarg, &o->interval_s))
				return usage_error("--interval: '%s' is not 0.1..3600 seconds",
						   optarg);
			o->has_top_opts = true;
			break;
		case OPT_ITERATIONS:
			if (parse_count(optarg, &o->iterations))
				return usage_error("--iterations: '%s' is not 1..1000000", optarg);
			o->has_top_opts = true;
			break;
		case OPT_ONCE:
			o->iterations = 1;
			o->has_top_opts = true;
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
		const struct command *about = optind < argc ? find_command(argv[optind]) : NULL;

		if (optind < argc && !about)
			return usage_error("unknown command '%s'", argv[optind]);
		*cmd = find_command("help");
		o->args = about ? argv + optind : NULL;
		o->n_args = about ? 1 : 0;
		return 0;
	}
	if (wants_version) {
		*cmd = find_command("version");
		return 0;
	}
	if (optind >= argc) {
		usage(stderr);
		return -EINVAL;
	}
	*cmd = find_command(argv[optind]);
	if (!*cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	o->args = argv + optind + 1;
	o->n_args = argc - optind - 1;
	if (o->n_args < (*cmd)->min_args)
		return usage_error("%s needs %s", (*cmd)->name, (*cmd)->args);
	if ((*cmd)->max_args >= 0 && o->n_args > (*cmd)->max_args)
		return usage_error("%s: unexpected argument '%s'", (*cmd)->name,
				   o->args[(*cmd)->max_args]);
	if (o->is_json && !((*cmd)->flags & CMD_TAKES_JSON))
		return usage_error("%s does not take --json", (*cmd)->name);
	if (o->has_top_opts && !((*cmd)->flags & CMD_TAKES_TOP_OPTS))
		return usage_error("--interval, --iterations and --once are for top");
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct cli_opts o;
	int code;

	char *pretty = NULL;
	size_t pretty_len = 0;

	if (parse_args(argc, argv, &o, &cmd) < 0 || !cmd)
		return EXIT_USAGE;
	if (o.is_pretty) {
		o.out = open_memstream(&pretty, &pretty_len);
		if (!o.out) {
			fprintf(stderr, "sockgate: %s\n", strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	code = cmd->run(&o);
	if (o.is_pretty) {
		fclose(o.out);
		json_pretty(pretty, pretty_len, stdout);
		free(pretty);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "sockgate: writing output: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	return code;
}
