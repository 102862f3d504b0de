// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bpf_loader.c: open -> set pin paths -> load -> attach, one cleanup path. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_loader.h"
#include "log.h"
#include "splice.skel.h"

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	enum log_level ours = level == LIBBPF_WARN   ? LOG_LEVEL_INFO
			      : level == LIBBPF_INFO ? LOG_LEVEL_DEBUG
						     : LOG_LEVEL_MAX;
	size_t n;

	if (ours == LOG_LEVEL_MAX || ours > log_get_level())
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_msg(ours, "libbpf: %s", line);
	return 0;
}

void bpf_dataplane_set_print(void)
{
	libbpf_set_print(print_libbpf);
}

int bpf_mkdir_p(const char *dir)
{
	char path[256];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Pins need a bpf filesystem. `ip netns exec` remounts /sys, leaving
 * /sys/fs/bpf a plain directory, so mount bpffs there as bpftool does. */
int bpf_ensure_bpffs(const char *dir)
{
	static const char root[] = "/sys/fs/bpf";
	struct statfs st;

	if (strncmp(dir, root, sizeof(root) - 1) != 0)
		return 0; /* elsewhere, the operator mounted what they chose */
	if (statfs(root, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", root, "bpf", 0, "mode=0700") == -1)
		return -errno;
	return 0;
}

/* libbpf refuses to load when a pinned map differs from the object's, so an
 * agent upgraded to a new sg_flow would not start until someone removed the
 * pin by hand. The old map only holds the previous runs' flows: unlink it
 * and let libbpf create and pin the new one. A CLI or agent still holding the
 * old map keeps its fd. Checks what libbpf's map_is_reuse_compat() checks. */
int bpf_drop_incompatible_pin(const struct bpf_map *m, const char *path)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd, err = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0; /* nothing pinned, or not readable: libbpf explains */
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		goto out;
	if (info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
	    info.value_size == bpf_map__value_size(m) &&
	    info.max_entries == bpf_map__max_entries(m) && info.map_flags == bpf_map__map_flags(m))
		goto out;
	log_warn("bpf: pinned %s has another layout (key %u, value %u bytes, %u entries; this "
		 "build: %u, %u, %u): another sockgated version left it; replacing it, its entries "
		 "are lost",
		 path, info.key_size, info.value_size, info.max_entries, bpf_map__key_size(m),
		 bpf_map__value_size(m), bpf_map__max_entries(m));
	if (unlink(path) == -1)
		err = -errno; /* the caller names the directory */
out:
	close(fd);
	return err;
}

/* Only what outlives a socket is pinned: flows and counters, for the CLI and
 * the next agent. Sockets and peers die with the agent's fds, so pinning them
 * would only hand stale entries to the next run. */
static int set_pin_paths(struct sg_splice *skel, const char *dir)
{
	struct bpf_map *maps[] = {skel->maps.sg_flows, skel->maps.sg_counters};
	char path[512];

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int err;

		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(maps[i]));
		err = bpf_drop_incompatible_pin(maps[i], path);
		if (!err)
			err = bpf_map__set_pin_path(maps[i], path);
		if (err)
			return err;
	}
	return 0;
}

static int open_dataplane(struct bpf_dataplane *dp, const char *pin_dir, uint32_t peer_delay_loops)
{
	int err;

	memset(dp, 0, sizeof(*dp));
	dp->skel = sg_splice__open();
	if (!dp->skel) {
		err = -errno;
		log_err("bpf: open splice object: %s", strerror(-err));
		return err;
	}
	if (pin_dir) {
		err = bpf_ensure_bpffs(pin_dir);
		if (!err)
			err = bpf_mkdir_p(pin_dir);
		if (!err)
			err = set_pin_paths(dp->skel, pin_dir);
		if (err) {
			log_err("bpf: pin directory %s: %s", pin_dir, strerror(-err));
			goto err_destroy;
		}
	}
	dp->skel->rodata->sg_test_peer_delay_loops = peer_delay_loops;
	err = sg_splice__load(dp->skel);
	if (err) {
		log_err("bpf: load splice object: %s", strerror(-err));
		goto err_destroy;
	}
	dp->socks_fd = bpf_map__fd(dp->skel->maps.sg_socks);
	dp->targets_fd = bpf_map__fd(dp->skel->maps.sg_targets);
	dp->pausereq_fd = bpf_map__fd(dp->skel->maps.sg_pausereq);
	dp->events_fd = bpf_map__fd(dp->skel->maps.sg_events);
	dp->peers_fd = bpf_map__fd(dp->skel->maps.sg_peers);
	dp->flows_fd = bpf_map__fd(dp->skel->maps.sg_flows);
	dp->counters_fd = bpf_map__fd(dp->skel->maps.sg_counters);
	dp->flow_state_fd = bpf_program__fd(dp->skel->progs.sg_flow_set_state);
	dp->peer_arm_fd = bpf_program__fd(dp->skel->progs.sg_peer_arm);
	if (bpf_prog_attach(bpf_program__fd(dp->skel->progs.sg_splice_verdict), dp->socks_fd,
			    BPF_SK_SKB_STREAM_VERDICT, 0) < 0) {
		err = -errno;
		log_err("bpf: attach verdict to sg_socks: %s", strerror(-err));
		goto err_destroy;
	}
	dp->is_attached = true;
	return 0;
err_destroy:
	sg_splice__destroy(dp->skel);
	dp->skel = NULL;
	return err;
}

int bpf_dataplane_open(struct bpf_dataplane *dp, const char *pin_dir)
{
	return open_dataplane(dp, pin_dir, 0);
}

int bpf_dataplane_open_slow_verdict(struct bpf_dataplane *dp, uint32_t peer_delay_loops)
{
	return open_dataplane(dp, NULL, peer_delay_loops);
}

int bpf_dataplane_attach_pause(struct bpf_dataplane *dp, int cgroup_fd)
{
	struct bpf_link *link = bpf_program__attach_cgroup(dp->skel->progs.sg_pause_ops, cgroup_fd);
	int err = libbpf_get_error(link);

	if (err) {
		log_err("bpf: attach sock_ops to the agent's cgroup: %s", strerror(-err));
		return err;
	}
	dp->pause_link = link;
	return 0;
}

void bpf_dataplane_close(struct bpf_dataplane *dp)
{
	if (!dp->skel)
		return;
	bpf_link__destroy(dp->pause_link);
	if (dp->is_attached)
		bpf_prog_detach2(bpf_program__fd(dp->skel->progs.sg_splice_verdict), dp->socks_fd,
				 BPF_SK_SKB_STREAM_VERDICT);
	sg_splice__destroy(dp->skel);
	memset(dp, 0, sizeof(*dp));
}
