// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bpf_maps.c: see bpf_maps.h. The one place in the CLI that knows the pin
 * paths, so it is the one that explains a failure to open them. */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_maps.h"
#include "sg_abi.h"

/* What a pinned map must look like to be read as the agent wrote it. */
struct map_spec {
	const char *name; /* file under the pin directory; the map's name in bpf/ */
	const char *what; /* for messages: "no <what> map at ..." */
	enum bpf_map_type type;
	__u32 key_size;
	__u32 value_size;
};

static const struct map_spec flows_spec = {
	.name = "sg_flows",
	.what = "flows",
	.type = BPF_MAP_TYPE_LRU_HASH,
	.key_size = sizeof(__u64),
	.value_size = sizeof(struct sg_flow),
};

static const struct map_spec counters_spec = {
	.name = "sg_counters",
	.what = "counters",
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
};

static void explain_open_error(const char *dir, const char *path, const struct map_spec *s, int err,
			       FILE *out)
{
	struct statfs st;

	switch (err) {
	case -ENOENT:
		fprintf(out, "sockgate: no %s map at %s: is sockgated running with --bpffs %s?\n",
			s->what, path, dir);
		break;
	case -EACCES:
	case -EPERM:
		/* The kernel also answers EACCES for a path outside any bpffs,
		 * where running as root would not help. */
		if (statfs(path, &st) == 0 && st.f_type != BPF_FS_MAGIC)
			fprintf(out, "sockgate: %s is not on a bpf filesystem: wrong --bpffs?\n",
				path);
		else
			fprintf(out, "sockgate: %s: permission denied (run as root)\n", path);
		break;
	default:
		fprintf(out, "sockgate: %s: %s\n", path, strerror(-err));
		break;
	}
}

static int open_pinned(const char *dir, const struct map_spec *s, __u32 *max_entries, FILE *out)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	struct bpf_map_info info;
	__u32 info_len = sizeof(info);
	const char *type_name;
	char path[4096];
	int fd, err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, s->name) >= sizeof(path)) {
		fprintf(out, "sockgate: --bpffs %s: path too long\n", dir);
		return -ENAMETOOLONG;
	}
	/* libbpf 1.x low-level calls return -errno (not -1) and set errno. */
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0) {
		err = -errno;
		explain_open_error(dir, path, s, err, out);
		return err;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len) < 0) {
		err = -errno;
		fprintf(out, "sockgate: %s: %s\n", path, strerror(-err));
		goto err_close;
	}
	if (info.type != (__u32)s->type || info.key_size != s->key_size ||
	    info.value_size != s->value_size) {
		type_name = libbpf_bpf_map_type_str((enum bpf_map_type)info.type);
		fprintf(out,
			"sockgate: %s is not sockgate's %s map (%s, key %u bytes, value %u bytes; "
			"expected %s, %u, %u): sockgate and sockgated versions differ?\n",
			path, s->what, type_name ? type_name : "unknown type", info.key_size,
			info.value_size, libbpf_bpf_map_type_str(s->type), s->key_size,
			s->value_size);
		err = -EPROTO;
		goto err_close;
	}
	*max_entries = info.max_entries;
	return fd;
err_close:
	close(fd);
	return err;
}

int bpf_maps_open_flows(const char *dir, __u32 *max_entries)
{
	return open_pinned(dir, &flows_spec, max_entries, stderr);
}

int bpf_maps_open_flows_to(const char *dir, __u32 *max_entries, FILE *err)
{
	return open_pinned(dir, &flows_spec, max_entries, err);
}

int bpf_maps_open_counters(const char *dir, __u32 *n_entries)
{
	return open_pinned(dir, &counters_spec, n_entries, stderr);
}
