// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* guard_cmds.c: see guard_cmds.h. Rule changes go straight into the BPF
 * tries (guard_change_rule()), never through a reload: they take effect for
 * the next packet and survive reloads until deleted or the agent stops. */
#include <arpa/inet.h>
#include <string.h>

#include "agent_state.h"
#include "control_exit.h"
#include "guard.h"
#include "guard_cmds.h"
#include "json.h"
#include "table.h"

static const char *const reason_names[SG_GUARD_R_MAX] = {
#define NAME(name, verdict, str) [SG_GUARD_R_##name] = str,
	SG_GUARD_REASON_LIST(NAME)
#undef NAME
};

static const char *const reason_verdicts[SG_GUARD_R_MAX] = {
#define VERDICT(name, verdict, str)                                                                \
	[SG_GUARD_R_##name] = (verdict) == SG_GUARD_DROP ? "drop" : "pass",
	SG_GUARD_REASON_LIST(VERDICT)
#undef VERDICT
};

static int usage(FILE *out)
{
	fprintf(out, "usage: guard deny|allow add|del CIDR, or guard show [--json]\n");
	return CONTROL_EXIT_USAGE;
}

static const char *listen_str(const struct guard_listen *l, char *buf, size_t len)
{
	static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char ip[INET6_ADDRSTRLEN] = "?";
	bool is_v4 = !memcmp(l->addr, v4_mapped, sizeof(v4_mapped));

	inet_ntop(is_v4 ? AF_INET : AF_INET6, is_v4 ? &l->addr[12] : l->addr, ip, sizeof(ip));
	snprintf(buf, len, is_v4 ? "%s:%u" : "[%s]:%u", ip, l->port);
	return buf;
}

static int change(struct guard *g, enum guard_list list, bool is_add, const char *text, FILE *out)
{
	bool was_allow_only = g->rules.n[GUARD_ALLOW] > 0, is_allow_only;
	enum guard_rules_result r;
	struct cfg_cidr c;
	char cidr[64];
	int err;

	switch (guard_parse_cidr(text, &c)) {
	case GUARD_CIDR_OK:
		break;
	case GUARD_CIDR_HOST_BITS:
		fprintf(out, "%s has host bits set: did you mean %s?\n", text,
			guard_cidr_str(&c, cidr, sizeof(cidr)));
		return CONTROL_EXIT_USAGE;
	case GUARD_CIDR_V4_MAPPED:
		fprintf(out, "%s is IPv4-mapped: give the IPv4 form\n", text);
		return CONTROL_EXIT_USAGE;
	default:
		fprintf(out, "%s is not an IP address or CIDR (203.0.113.0/24, 2001:db8::/32)\n",
			text);
		return CONTROL_EXIT_USAGE;
	}
	guard_cidr_str(&c, cidr, sizeof(cidr));
	r = guard_change_rule(g, list, &c, is_add, &err);
	if (err) {
		fprintf(out, "%s %s: %s: nothing changed\n", guard_list_str(list), cidr,
			strerror(-err));
		return CONTROL_EXIT_FAILED;
	}
	if (r != GUARD_RULES_OK) {
		fprintf(out, "%s %s: %s\n", guard_list_str(list), cidr, guard_rules_result_str(r));
		/* Asking for what already is, is no failure. */
		return r == GUARD_RULES_ALREADY ? CONTROL_EXIT_OK : CONTROL_EXIT_FAILED;
	}
	fprintf(out, "%s %s %s\n", guard_list_str(list), cidr, is_add ? "added" : "deleted");
	is_allow_only = g->rules.n[GUARD_ALLOW] > 0;
	if (!was_allow_only && is_allow_only)
		fprintf(out,
			"the allow list was empty: from now on only its sources may connect\n");
	else if (was_allow_only && !is_allow_only)
		fprintf(out, "the allow list is empty: every source not denied may connect\n");
	if (!g->n_ifs)
		fprintf(out, "note: the guard is attached to no interface (guard.interfaces in the "
			     "configuration); the entry applies once it is\n");
	return CONTROL_EXIT_OK;
}

static void rules_table(const struct guard *g, FILE *out)
{
	static const char *const cols[] = {"LIST", "CIDR", "ORIGIN"};
	char buf[80];
	struct table t;

	if (!g->rules.n[GUARD_DENY] && !g->rules.n[GUARD_ALLOW]) {
		fprintf(out, "no deny or allow entries\n");
		return;
	}
	table_init(&t, cols, 3);
	for (int l = 0; l < GUARD_LIST_MAX; l++) {
		for (size_t i = 0; i < g->rules.n[l]; i++) {
			const struct guard_rule *r = &g->rules.v[l][i];
			bool is_both = r->origins == (GUARD_ORIGIN_CONFIG | GUARD_ORIGIN_RUNTIME);

			table_cell(&t, "%s", guard_list_str((enum guard_list)l));
			table_cell(&t, "%s", guard_cidr_str(&r->cidr, buf, sizeof(buf)));
			table_cell(&t, "%s%s%s%s",
				   r->origins & GUARD_ORIGIN_CONFIG ? "config " : "",
				   r->origins & GUARD_ORIGIN_CONFIG ? r->where : "",
				   is_both ? ", " : "",
				   r->origins & GUARD_ORIGIN_RUNTIME ? "runtime" : "");
		}
	}
	table_print(&t, out);
	table_free(&t);
}

static void show_text(const struct guard *g, const uint64_t *cnt, FILE *out)
{
	static const char *const cnt_cols[] = {"VERDICT", "REASON", "PACKETS"};
	char buf[80];
	struct table t;

	fprintf(out, "interfaces:");
	for (size_t i = 0; i < g->n_ifs; i++)
		fprintf(out, " %s (%s)", g->ifs[i].name,
			g->ifs[i].is_generic ? "generic" : "native");
	fprintf(out, "%s\nlisteners: ", g->n_ifs ? "" : " none (no guard: in the configuration)");
	for (size_t i = 0; i < g->n_lsn; i++)
		fprintf(out, "%s%s", i ? " " : "", listen_str(&g->lsn[i], buf, sizeof(buf)));
	if (g->syn_per_second)
		fprintf(out, "%s\nsyn_rate: %u/s, burst %u, per source address (IPv6: per /64)\n",
			g->n_lsn ? "" : "none", g->syn_per_second, g->syn_burst);
	else
		fprintf(out, "%s\nsyn_rate: no limit\n", g->n_lsn ? "" : "none");
	fprintf(out, "allow list: %s\n\n",
		g->rules.n[GUARD_ALLOW] ? "in force: only its sources may connect"
					: "empty: every source not denied may connect");
	rules_table(g, out);
	fputc('\n', out);
	table_init(&t, cnt_cols, 3);
	for (int r = 0; r < SG_GUARD_R_MAX; r++) {
		table_cell(&t, "%s", reason_verdicts[r]);
		table_cell(&t, "%s", reason_names[r]);
		table_cell(&t, "%llu", (unsigned long long)cnt[r]);
	}
	table_print(&t, out);
	table_free(&t);
}

static void show_json(const struct guard *g, const uint64_t *cnt, FILE *out)
{
	char buf[80];
	int first = 1;

	fprintf(out, "{\"loaded\":%s,\"interfaces\":[", g->bpf.skel ? "true" : "false");
	for (size_t i = 0; i < g->n_ifs; i++) {
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, g->ifs[i].name);
		fprintf(out, ",\"ifindex\":%d,\"mode\":\"%s\"}", g->ifs[i].ifindex,
			g->ifs[i].is_generic ? "generic" : "native");
	}
	fprintf(out, "],\"listeners\":[");
	for (size_t i = 0; i < g->n_lsn; i++)
		fprintf(out, "%s\"%s\"", i ? "," : "", listen_str(&g->lsn[i], buf, sizeof(buf)));
	if (g->syn_per_second)
		fprintf(out, "],\"syn_rate\":{\"per_second\":%u,\"burst\":%u}", g->syn_per_second,
			g->syn_burst);
	else
		fprintf(out, "],\"syn_rate\":null");
	fprintf(out, ",\"allow_only\":%s,\"rules\":[", g->rules.n[GUARD_ALLOW] ? "true" : "false");
	for (int l = 0; l < GUARD_LIST_MAX; l++) {
		for (size_t i = 0; i < g->rules.n[l]; i++) {
			const struct guard_rule *r = &g->rules.v[l][i];

			fprintf(out,
				"%s{\"list\":\"%s\",\"cidr\":\"%s\",\"config\":", first ? "" : ",",
				guard_list_str((enum guard_list)l),
				guard_cidr_str(&r->cidr, buf, sizeof(buf)));
			first = 0;
			json_str(out, r->origins & GUARD_ORIGIN_CONFIG ? r->where : NULL);
			fprintf(out, ",\"runtime\":%s}",
				r->origins & GUARD_ORIGIN_RUNTIME ? "true" : "false");
		}
	}
	fprintf(out, "],\"packets\":{");
	for (int v = 0; v < 2; v++) {
		const char *verdict = v ? "drop" : "pass";

		fprintf(out, "%s\"%s\":{", v ? "," : "", verdict);
		first = 1;
		for (int r = 0; r < SG_GUARD_R_MAX; r++) {
			if (strcmp(reason_verdicts[r], verdict))
				continue;
			fprintf(out, "%s\"%s\":%llu", first ? "" : ",", reason_names[r],
				(unsigned long long)cnt[r]);
			first = 0;
		}
		fputc('}', out);
	}
	fprintf(out, "}}\n");
}

static int show(const struct guard *g, bool is_json, FILE *out)
{
	uint64_t cnt[SG_GUARD_R_MAX];
	int err = guard_bpf_read_counters(&g->bpf, cnt);

	if (err) {
		fprintf(out, "reading the guard's counters: %s\n", strerror(-err));
		return CONTROL_EXIT_FAILED;
	}
	if (is_json)
		show_json(g, cnt, out);
	else
		show_text(g, cnt, out);
	return CONTROL_EXIT_OK;
}

int guard_cmd(struct agent *ag, size_t argc, char **argv, FILE *out)
{
	size_t n = argc > 1 && !strcmp(argv[1], "show") ? argc - 1 : argc; /* "show" is optional */
	char **args = argv + (argc - n);
	enum guard_list list;

	if (!ag->guard) {
		fprintf(out, "the guard is not set up\n");
		return CONTROL_EXIT_FAILED;
	}
	if (n == 1 || (n == 2 && !strcmp(args[1], "--json")))
		return show(ag->guard, n == 2, out);
	if (argc != 4)
		return usage(out);
	if (!strcmp(argv[1], "deny"))
		list = GUARD_DENY;
	else if (!strcmp(argv[1], "allow"))
		list = GUARD_ALLOW;
	else
		return usage(out);
	if (strcmp(argv[2], "add") && strcmp(argv[2], "del"))
		return usage(out);
	return change(ag->guard, list, !strcmp(argv[2], "add"), argv[3], out);
}

void guard_metrics_write(const struct agent *ag, FILE *f)
{
	const struct guard *g = ag->guard;
	uint64_t cnt[SG_GUARD_R_MAX] = {0};
	size_t rules[GUARD_LIST_MAX][2] = {{0}}, generic = 0;

	if (!g)
		return;
	guard_bpf_read_counters(&g->bpf, cnt);
	fprintf(f, "# HELP sockgate_guard_packets_total Packets the XDP guard judged, by verdict "
		   "and reason.\n"
		   "# TYPE sockgate_guard_packets_total counter\n");
	for (int r = 0; r < SG_GUARD_R_MAX; r++)
		fprintf(f, "sockgate_guard_packets_total{verdict=\"%s\",reason=\"%s\"} %llu\n",
			reason_verdicts[r], reason_names[r], (unsigned long long)cnt[r]);
	for (int l = 0; l < GUARD_LIST_MAX; l++) {
		for (size_t i = 0; i < g->rules.n[l]; i++) {
			rules[l][0] += !!(g->rules.v[l][i].origins & GUARD_ORIGIN_CONFIG);
			rules[l][1] += !!(g->rules.v[l][i].origins & GUARD_ORIGIN_RUNTIME);
		}
	}
	fprintf(f, "# HELP sockgate_guard_rules Entries of the guard's deny and allow lists, by "
		   "origin.\n"
		   "# TYPE sockgate_guard_rules gauge\n");
	for (int l = 0; l < GUARD_LIST_MAX; l++) {
		for (int o = 0; o < 2; o++)
			fprintf(f, "sockgate_guard_rules{list=\"%s\",origin=\"%s\"} %zu\n",
				guard_list_str((enum guard_list)l), o ? "runtime" : "config",
				rules[l][o]);
	}
	for (size_t i = 0; i < g->n_ifs; i++)
		generic += g->ifs[i].is_generic;
	fprintf(f,
		"# HELP sockgate_guard_interfaces Interfaces the XDP guard is attached to, by "
		"mode.\n"
		"# TYPE sockgate_guard_interfaces gauge\n"
		"sockgate_guard_interfaces{mode=\"native\"} %zu\n"
		"sockgate_guard_interfaces{mode=\"generic\"} %zu\n",
		g->n_ifs - generic, generic);
}
