// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics_agent.c: see metrics_agent.h. */
#include <stdbool.h>

#include "agent_state.h"
#include "metrics_agent.h"
#include "sg_defaults.h"

static const char *const agent_counter_names[AGENT_CNT_MAX] = {
#define NAME(name, str) [AGENT_CNT_##name] = str,
	AGENT_COUNTER_LIST(NAME)
#undef NAME
};

/* Stages a connection passes through; every other counter is the one way it
 * ended (conn_close() counts exactly one), so the ends sum to the
 * connections finished and sockgate_connections_total's sum means nothing. */
static bool is_stage(int cnt)
{
	return cnt == AGENT_CNT_HELLO_OK || cnt == AGENT_CNT_PROXY_HEADER_SENT ||
	       cnt == AGENT_CNT_SPLICED || cnt == AGENT_CNT_RELAYED || cnt == AGENT_CNT_COPIED ||
	       cnt == AGENT_CNT_PROMOTED;
}

static void write_connections(const struct agent *ag, FILE *f)
{
	fprintf(f, "# HELP sockgate_connections_total Client connections by stage and outcome "
		   "(deprecated: use sockgate_connections_accepted_total, "
		   "sockgate_connections_stage_total and sockgate_connections_closed_total).\n"
		   "# TYPE sockgate_connections_total counter\n");
	for (int i = 0; i < AGENT_CNT_MAX; i++)
		fprintf(f, "sockgate_connections_total{result=\"%s\"} %llu\n",
			agent_counter_names[i], (unsigned long long)agent_read(&ag->counters[i]));
	fprintf(f,
		"# HELP sockgate_connections_accepted_total Client connections accepted.\n"
		"# TYPE sockgate_connections_accepted_total counter\n"
		"sockgate_connections_accepted_total %llu\n"
		"# HELP sockgate_connections_stage_total Client connections that reached a "
		"stage.\n"
		"# TYPE sockgate_connections_stage_total counter\n",
		(unsigned long long)agent_read(&ag->counters[AGENT_CNT_ACCEPTED]));
	for (int i = 0; i < AGENT_CNT_MAX; i++) {
		if (is_stage(i))
			fprintf(f, "sockgate_connections_stage_total{stage=\"%s\"} %llu\n",
				agent_counter_names[i],
				(unsigned long long)agent_read(&ag->counters[i]));
	}
	fprintf(f, "# HELP sockgate_connections_closed_total Client connections ended, by how "
		   "(one end each).\n"
		   "# TYPE sockgate_connections_closed_total counter\n");
	for (int i = 0; i < AGENT_CNT_MAX; i++) {
		if (i != AGENT_CNT_ACCEPTED && !is_stage(i))
			fprintf(f, "sockgate_connections_closed_total{end=\"%s\"} %llu\n",
				agent_counter_names[i],
				(unsigned long long)agent_read(&ag->counters[i]));
	}
}

static void write_build_and_config(const struct agent *ag, FILE *f)
{
	fprintf(f,
		"# HELP sockgate_build_info The version of sockgated running (always 1).\n"
		"# TYPE sockgate_build_info gauge\n"
		"sockgate_build_info{version=\"%s\"} 1\n"
		"# HELP sockgate_config_last_reload_successful Whether the latest load of the "
		"configuration succeeded (0: rejected; the one before still serves).\n"
		"# TYPE sockgate_config_last_reload_successful gauge\n"
		"sockgate_config_last_reload_successful %d\n"
		"# HELP sockgate_config_last_reload_success_timestamp_seconds When the "
		"configuration in force was loaded (start or reload), Unix seconds.\n"
		"# TYPE sockgate_config_last_reload_success_timestamp_seconds gauge\n"
		"sockgate_config_last_reload_success_timestamp_seconds %llu\n",
		SG_VERSION, ag->is_last_reload_ok ? 1 : 0,
		(unsigned long long)ag->last_reload_ok_s);
}

void metrics_agent_write(const struct agent *ag, FILE *f)
{
	write_build_and_config(ag, f);
	write_connections(ag, f);
}
