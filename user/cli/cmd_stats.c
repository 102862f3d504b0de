// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_stats.c: see cmd_stats.h. Names come from include/sg_counters.h, the
 * list the BPF side indexes by, so the two cannot drift apart. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_maps.h"
#include "cmd_stats.h"
#include "sg_counters.h"

static const char *const counter_names[SG_CNT_MAX] = {
#define SG_COUNTER_NAME(name, str) [SG_CNT_##name] = str,
	SG_COUNTER_LIST(SG_COUNTER_NAME)
#undef SG_COUNTER_NAME
};

/* Sums counter key over the n_cpus slots of a per-CPU lookup into *sum. */
static int read_counter(int fd, __u32 key, __u64 *percpu, int n_cpus, __u64 *sum)
{
	if (bpf_map_lookup_elem(fd, &key, percpu) < 0)
		return -errno;
	*sum = 0;
	for (int cpu = 0; cpu < n_cpus; cpu++)
		*sum += percpu[cpu];
	return 0;
}

int cmd_stats(const char *bpffs_dir, bool is_json, FILE *out)
{
	__u64 values[SG_CNT_MAX] = {0}, *percpu = NULL;
	__u32 n_entries, n;
	int fd, n_cpus, err = 0;

	fd = bpf_maps_open_counters(bpffs_dir, &n_entries);
	if (fd < 0)
		return fd;
	n_cpus = libbpf_num_possible_cpus();
	if (n_cpus <= 0) {
		err = n_cpus < 0 ? n_cpus : -EINVAL;
		fprintf(stderr, "sockgate: cannot count possible CPUs: %s\n", strerror(-err));
		goto out;
	}
	/* Per-CPU lookups fill one 8-byte-aligned slot per possible CPU. */
	percpu = calloc((size_t)n_cpus, sizeof(*percpu));
	if (!percpu) {
		err = -ENOMEM;
		fprintf(stderr, "sockgate: %s\n", strerror(-err));
		goto out;
	}
	/* An agent with a different counter list: show what both know. */
	n = n_entries < SG_CNT_MAX ? n_entries : SG_CNT_MAX;
	for (__u32 i = 0; i < n; i++) {
		err = read_counter(fd, i, percpu, n_cpus, &values[i]);
		if (err) {
			fprintf(stderr, "sockgate: reading %s/sg_counters[%s]: %s\n", bpffs_dir,
				counter_names[i], strerror(-err));
			goto out;
		}
	}
	if (is_json) {
		fputs("{", out);
		for (__u32 i = 0; i < n; i++)
			fprintf(out, "%s\n  \"%s\": %" PRIu64, i ? "," : "", counter_names[i],
				(uint64_t)values[i]);
		fputs(n ? "\n}\n" : "}\n", out);
	} else {
		for (__u32 i = 0; i < n; i++)
			fprintf(out, "%s %" PRIu64 "\n", counter_names[i], (uint64_t)values[i]);
	}
out:
	free(percpu);
	close(fd);
	return err;
}
