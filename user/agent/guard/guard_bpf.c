// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* guard_bpf.c: see guard_bpf.h. */
#include <errno.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "guard.skel.h"
#include "guard_bpf.h"
#include "log.h"

int guard_bpf_open(struct guard_bpf *b)
{
	int err;

	memset(b, 0, sizeof(*b));
	b->skel = sg_guard__open_and_load();
	if (!b->skel) {
		err = -errno;
		log_err("guard: load guard.bpf.o: %s", strerror(-err));
		return err;
	}
	b->prog_fd = bpf_program__fd(b->skel->progs.sg_xdp_guard);
	b->lsn_fd = bpf_map__fd(b->skel->maps.sg_guard_lsn);
	b->cfg_fd = bpf_map__fd(b->skel->maps.sg_guard_cfg);
	b->syn_fd = bpf_map__fd(b->skel->maps.sg_guard_syn);
	b->cnt_fd = bpf_map__fd(b->skel->maps.sg_guard_cnt);
	b->rules_fd[GUARD_DENY][0] = bpf_map__fd(b->skel->maps.sg_guard_deny4);
	b->rules_fd[GUARD_DENY][1] = bpf_map__fd(b->skel->maps.sg_guard_deny6);
	b->rules_fd[GUARD_ALLOW][0] = bpf_map__fd(b->skel->maps.sg_guard_allow4);
	b->rules_fd[GUARD_ALLOW][1] = bpf_map__fd(b->skel->maps.sg_guard_allow6);
	return 0;
}

void guard_bpf_close(struct guard_bpf *b)
{
	if (b->skel)
		sg_guard__destroy(b->skel);
	memset(b, 0, sizeof(*b));
}

static int attach_mode(const struct guard_bpf *b, int ifindex, __u32 mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = mode);
	int fd = bpf_link_create(b->prog_fd, ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

int guard_bpf_attach(const struct guard_bpf *b, int ifindex, bool *is_generic, int *generic_err)
{
	int fd = attach_mode(b, ifindex, XDP_FLAGS_DRV_MODE), native_err;

	*is_generic = false;
	*generic_err = 0;
	if (fd >= 0)
		return fd;
	native_err = fd;
	fd = attach_mode(b, ifindex, XDP_FLAGS_SKB_MODE);
	if (fd >= 0) {
		*is_generic = true;
		return fd;
	}
	*generic_err = fd;
	return native_err;
}

int guard_bpf_relink(const struct guard_bpf *b, int link_fd)
{
	return bpf_link_update(link_fd, b->prog_fd, NULL) < 0 ? -errno : 0;
}

int guard_bpf_rule(const struct guard_bpf *b, enum guard_list list, const struct cfg_cidr *c,
		   bool is_add)
{
	struct sg_guard_lpm4 k4 = {.prefixlen = c->prefix_len};
	struct sg_guard_lpm6 k6 = {.prefixlen = c->prefix_len};
	bool is_v6 = c->family == AF_INET6;
	void *key = is_v6 ? (void *)&k6 : (void *)&k4;
	int fd = b->rules_fd[list][is_v6], rc;
	__u8 one = 1;

	memcpy(k4.addr, c->addr, sizeof(k4.addr));
	memcpy(k6.addr, c->addr, sizeof(k6.addr));
	rc = is_add ? bpf_map_update_elem(fd, key, &one, BPF_ANY) : bpf_map_delete_elem(fd, key);
	if (rc < 0 && !(errno == ENOENT && !is_add))
		return -errno;
	return 0;
}

void guard_bpf_make_cfg(uint32_t per_second, uint32_t burst, bool is_allow_only,
			struct sg_guard_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (per_second) {
		cfg->syn_interval_ns = 1000000000ull / per_second;
		cfg->syn_tolerance_ns = (uint64_t)(burst ? burst - 1 : 0) * cfg->syn_interval_ns;
	}
	cfg->flags = is_allow_only ? SG_GUARD_F_ALLOW_ONLY : 0;
}

int guard_bpf_set_cfg(const struct guard_bpf *b, const struct sg_guard_cfg *cfg)
{
	__u32 key = 0;

	return bpf_map_update_elem(b->cfg_fd, &key, cfg, BPF_ANY) < 0 ? -errno : 0;
}

void guard_listen_from(const struct sockaddr_storage *ss, struct guard_listen *l)
{
	memset(l, 0, sizeof(*l));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		l->addr[10] = 0xff;
		l->addr[11] = 0xff;
		memcpy(&l->addr[12], &sin->sin_addr, 4);
		l->port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		memcpy(l->addr, &sin6->sin6_addr, 16);
		l->port = ntohs(sin6->sin6_port);
	}
}

static bool is_wanted(const struct guard_listen *ls, size_t n, const struct sg_guard_addr *a)
{
	for (size_t i = 0; i < n; i++) {
		if (!memcmp(ls[i].addr, a->addr, sizeof(a->addr)))
			return true;
	}
	return false;
}

int guard_bpf_set_listeners(const struct guard_bpf *b, const struct guard_listen *ls, size_t n)
{
	struct sg_guard_ports *ports = malloc(sizeof(*ports));
	struct sg_guard_addr key, next, *stale = NULL;
	size_t n_stale = 0;
	int err = 0;

	if (!ports)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		bool is_first = true;

		for (size_t k = 0; k < i && is_first; k++)
			is_first = memcmp(ls[k].addr, ls[i].addr, 16) != 0;
		if (!is_first)
			continue; /* its ports went in with the first one */
		memset(ports, 0, sizeof(*ports));
		for (size_t k = i; k < n; k++) {
			if (!memcmp(ls[k].addr, ls[i].addr, 16))
				ports->bits[ls[k].port >> 6] |= 1ull << (ls[k].port & 63);
		}
		memcpy(key.addr, ls[i].addr, 16);
		if (bpf_map_update_elem(b->lsn_fd, &key, ports, BPF_ANY) < 0)
			err = -errno;
	}
	/* Collect first: deleting while walking would restart the walk. */
	for (void *prev = NULL; !err && bpf_map_get_next_key(b->lsn_fd, prev, &next) == 0;
	     prev = &key) {
		key = next;
		if (is_wanted(ls, n, &key))
			continue;
		struct sg_guard_addr *s = realloc(stale, (n_stale + 1) * sizeof(*s));

		if (!s) {
			err = -ENOMEM;
			break;
		}
		stale = s;
		stale[n_stale++] = key;
	}
	for (size_t i = 0; i < n_stale && !err; i++) {
		if (bpf_map_delete_elem(b->lsn_fd, &stale[i]) < 0 && errno != ENOENT)
			err = -errno;
	}
	free(stale);
	free(ports);
	return err;
}

int guard_bpf_clear_syn(const struct guard_bpf *b)
{
	struct sg_guard_src key;

	/* Always delete the first key: deleting the one a walk stands on makes
	 * get_next_key start over anyway. Bounded by the table's size. */
	for (unsigned i = 0; i <= SG_GUARD_SYN_SOURCES; i++) {
		if (bpf_map_get_next_key(b->syn_fd, NULL, &key) < 0)
			return errno == ENOENT ? 0 : -errno;
		if (bpf_map_delete_elem(b->syn_fd, &key) < 0 && errno != ENOENT)
			return -errno;
	}
	return -EAGAIN; /* refilled as fast as it was emptied */
}

int guard_bpf_read_counters(const struct guard_bpf *b, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();

	memset(out, 0, SG_GUARD_R_MAX * sizeof(*out));
	if (!b->skel)
		return 0;
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	for (__u32 key = 0; key < SG_GUARD_R_MAX; key++) {
		uint64_t vals[ncpu];

		if (bpf_map_lookup_elem(b->cnt_fd, &key, vals) < 0)
			return -errno;
		for (int i = 0; i < ncpu; i++)
			out[key] += vals[i];
	}
	return 0;
}
