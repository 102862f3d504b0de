/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpf_maps.h: the CLI's read-only view of the maps sockgated pins under its
 * --bpffs directory (docs/ARCHITECTURE.md, section "BPF programs and maps").
 * The maps outlive the agent, so nothing
 * here needs it running. Opening checks the map's layout against
 * include/sg_abi.h, so a CLI and an agent of different versions fail loudly
 * instead of printing garbage. */
#ifndef SG_CLI_BPF_MAPS_H
#define SG_CLI_BPF_MAPS_H

#include <linux/types.h>
#include <stdio.h>

/* The agent's default --bpffs (user/agent/args.c). */
#include "sg_defaults.h"

#define BPF_MAPS_DEFAULT_DIR SG_DEFAULT_BPFFS_DIR

/* Opens DIR/sg_flows read-only and checks it is an LRU hash of u64 flow id ->
 * struct sg_flow. Returns the fd and its capacity in *max_entries, or a
 * negative errno after printing one line to stderr that says what to do
 * (missing map, not root, not a bpf filesystem, wrong layout). */
int bpf_maps_open_flows(const char *dir, __u32 *max_entries);

/* bpf_maps_open_flows() with the line written to err instead of stderr. */
int bpf_maps_open_flows_to(const char *dir, __u32 *max_entries, FILE *err);

/* Opens DIR/sg_counters read-only and checks it is a per-CPU array of u64
 * keyed by u32. *n_entries gets its length, which is SG_CNT_MAX unless the
 * agent was built with another counter list. Returns the fd, or a negative
 * errno after printing one line to stderr. */
int bpf_maps_open_counters(const char *dir, __u32 *n_entries);

#endif
