/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpf_loader.h: the splice BPF object's lifecycle. Maps are pinned under a
 * bpffs directory so the CLI can read flows and a restarted agent reuses them;
 * the verdict program is attached to sg_socks while the agent runs. */
#ifndef SG_BPF_LOADER_H
#define SG_BPF_LOADER_H

#include <stdbool.h>
#include <stdint.h>

struct sg_splice;

struct bpf_link;

struct bpf_dataplane {
	struct sg_splice *skel;
	int socks_fd, targets_fd, peers_fd, flows_fd, counters_fd, pausereq_fd, events_fd;
	int flow_state_fd; /* sg_flow_set_state, run with BPF_PROG_TEST_RUN */
	int peer_arm_fd;   /* sg_peer_arm, run with BPF_PROG_TEST_RUN */
	bool is_attached;
	struct bpf_link *pause_link; /* sock_ops on the agent's cgroup; NULL: no pausing */
};

/* Opens and loads splice.bpf.o, pins (or reuses) its maps under pin_dir
 * (created if missing; NULL: no pinning, for tests), and attaches the verdict
 * program to sg_socks. A pinned map whose layout differs from this build's
 * (left by another version) is replaced, with one warning. 0 or -errno; logs
 * the reason once. */
int bpf_dataplane_open(struct bpf_dataplane *dp, const char *pin_dir);

/* For tests: the same, unpinned, with a verdict that spins peer_delay_loops
 * bpf_loop() steps between its sg_peers lookup and the copy of the element,
 * to make element-reuse races reproducible. */
int bpf_dataplane_open_slow_verdict(struct bpf_dataplane *dp, uint32_t peer_delay_loops);

/* Attaches the pause program (sock_ops) to the cgroup open at cgroup_fd, which
 * must hold every socket the agent will splice. 0 or -errno. */
int bpf_dataplane_attach_pause(struct bpf_dataplane *dp, int cgroup_fd);

/* Detaches the program and destroys the skeleton; pinned maps stay for the
 * CLI and the next agent. Safe on a zeroed or half-opened struct. */
void bpf_dataplane_close(struct bpf_dataplane *dp);

struct bpf_map;

/* Helpers for every pinned BPF object of the agent. Mounts bpffs on
 * /sys/fs/bpf when `ip netns exec` left a plain directory; 0 or -errno. */
int bpf_ensure_bpffs(const char *dir);
int bpf_mkdir_p(const char *dir);
/* Unlinks the map pinned at path when its layout differs from m's (another
 * version left it), with one warning, so libbpf can pin a new one. */
int bpf_drop_incompatible_pin(const struct bpf_map *m, const char *path);

/* Routes libbpf's messages through our logger, one level quieter. */
void bpf_dataplane_set_print(void);

#endif
