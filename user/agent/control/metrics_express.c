// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics_express.c: see metrics_express.h. */
#include "metrics_express.h"

#include "agent_state.h"
#include "express.h"

static const char *const bpf_names[] = {
#define XNAME(name, str) str,
	SG_XCOUNTER_LIST(XNAME)
#undef XNAME
};

void metrics_write_express(const struct agent *ag, FILE *f)
{
	uint64_t refused[EXPRESS_REFUSED_MAX], active, handed, resets, bpf[SG_XCNT_MAX];

	if (!ag->express)
		return;
	express_counts(ag->express, refused, &active, &handed, &resets);
	fprintf(f,
		"# HELP sockgate_express_handovers_total Pairs handed to the express dataplane.\n"
		"# TYPE sockgate_express_handovers_total counter\n"
		"sockgate_express_handovers_total %llu\n"
		"# HELP sockgate_express_resets_total Express flows the agent ended itself (idle "
		"timeout, duration limit), each peer sent a reset.\n"
		"# TYPE sockgate_express_resets_total counter\n"
		"sockgate_express_resets_total %llu\n"
		"# HELP sockgate_express_flows Express flows the kernel translates now, those a "
		"previous agent left included.\n"
		"# TYPE sockgate_express_flows gauge\n"
		"sockgate_express_flows %llu\n"
		"# HELP sockgate_express_refused_total Pairs promoted to the fallback instead of "
		"express, by reason.\n"
		"# TYPE sockgate_express_refused_total counter\n",
		(unsigned long long)handed, (unsigned long long)resets, (unsigned long long)active);
	for (int r = 0; r < EXPRESS_REFUSED_MAX; r++)
		fprintf(f, "sockgate_express_refused_total{reason=\"%s\"} %llu\n",
			express_refusal_name((enum express_refusal)r),
			(unsigned long long)refused[r]);
	if (express_bpf_counters(ag->express, bpf))
		return;
	fprintf(f, "# HELP sockgate_express_bpf_events_total Events counted by the express TC "
		   "programs.\n"
		   "# TYPE sockgate_express_bpf_events_total counter\n");
	for (int k = 0; k < SG_XCNT_MAX; k++)
		fprintf(f, "sockgate_express_bpf_events_total{event=\"%s\"} %llu\n", bpf_names[k],
			(unsigned long long)bpf[k]);
}
