// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* guard.c: see guard.h. Map writes are ordered so that a packet never meets
 * a stricter state than the old or the new one: rules leave before they
 * enter, and the allow-only flag goes on after the allow entries are in and
 * off before they leave. */
#include <errno.h>
#include <stdarg.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "container_of.h"
#include "addr.h"
#include "agent_state.h"
#include "guard.h"
#include "inherited.h"
#include "listeners.h"
#include "log.h"

#define ADDR_EVENT_BATCH 64 /* netlink messages read per wakeup */

static struct guard *guard_get(struct agent *ag)
{
	if (!ag->guard) {
		ag->guard = calloc(1, sizeof(*ag->guard));
		if (ag->guard) {
			ag->guard->ag = ag;
			ag->guard->addr_events.fd = -1;
		}
	}
	return ag->guard;
}

static const struct guard_iface *find_iface(const struct guard_iface *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].name, name))
			return &v[i];
	}
	return NULL;
}

static void on_addr_event(struct loop_watch *w, uint32_t events)
{
	struct guard *g = container_of(w, struct guard, addr_events);
	char buf[8192];
	(void)events;

	/* The content does not matter: any address change re-reads them all.
	 * Bounded, so a flood of events cannot hold the loop. */
	for (int i = 0; i < ADDR_EVENT_BATCH; i++) {
		if (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno != ENOBUFS &&
		    errno != EINTR)
			break;
	}
	guard_sync_listeners(g);
}

/* A wildcard listener serves every address of the host: the guard needs to
 * hear when the guarded interfaces gain or lose one. */
static int watch_addrs(struct guard *g)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE), err;

	if (fd == -1)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		err = -errno;
		close(fd);
		return err;
	}
	g->addr_events = (struct loop_watch){.fd = fd, .on_event = on_addr_event};
	err = loop_add(g->ag->loop, &g->addr_events, EPOLLIN);
	if (err) {
		close(fd);
		g->addr_events.fd = -1;
	}
	return err;
}

/* The guard limits SYNs per source; a flood from many sources is the kernel's
 * SYN cookies' to absorb (docs/BENCHMARKS.md, "SYN flood"). Say so if they
 * are off in this network namespace. */
static void check_syncookies(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_syncookies", "re");
	int v = -1;

	if (!f)
		return;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	if (v == 0)
		log_warn("guard: net.ipv4.tcp_syncookies is 0: a SYN flood from many sources can "
			 "fill the listeners' queues; set it to 1");
}

static int load(struct guard *g)
{
	int err = guard_bpf_open(&g->bpf);

	if (err)
		return err;
	check_syncookies();
	g->has_all_rules = false;
	err = watch_addrs(g);
	if (err)
		log_warn("guard: cannot watch interface addresses (%s): a wildcard listener's new "
			 "addresses are guarded from the next reload",
			 strerror(-err));
	return 0;
}

static void detach_new(struct guard *g)
{
	for (size_t i = 0; i < g->n_next; i++) {
		if (!find_iface(g->ifs, g->n_ifs, g->next[i].name) ||
		    find_iface(g->ifs, g->n_ifs, g->next[i].name)->link_fd != g->next[i].link_fd)
			close(g->next[i].link_fd);
	}
	free(g->next);
	g->next = NULL;
	g->n_next = 0;
	g->has_next = false;
}

/* Keeps the link of an interface still there under the same index; else
 * attaches, native first. */
/* Logs an error of guard_prepare(), and writes it to out too (a reload asked
 * for on the control socket answers with it). */
__attribute__((format(printf, 2, 3))) static void prepare_error(FILE *out, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s", msg);
	if (out)
		fprintf(out, "%s\n", msg);
}

static int attach_one(struct guard *g, const char *name, struct guard_iface *iface, FILE *out)
{
	const struct guard_iface *cur = find_iface(g->ifs, g->n_ifs, name);
	int ifindex = (int)if_nametoindex(name), generic_err, fd;

	if (ifindex == 0) {
		int err = -errno;

		prepare_error(out, "guard: interface %s: %s", name, strerror(-err));
		return err;
	}
	memset(iface, 0, sizeof(*iface));
	snprintf(iface->name, sizeof(iface->name), "%s", name);
	iface->ifindex = ifindex;
	if (cur && cur->ifindex == ifindex) {
		iface->link_fd = cur->link_fd;
		iface->is_generic = cur->is_generic;
		return 0;
	}
	/* Taken over: the previous agent's link gets this program, atomically. */
	fd = inherited_take_link(g->ag->inherited, ifindex, &iface->is_generic);
	if (fd >= 0) {
		int err = guard_bpf_relink(&g->bpf, fd);

		if (!err) {
			log_info("guard: took over the XDP link on %s", name);
			iface->link_fd = fd;
			return 0;
		}
		log_warn("guard: take over the XDP link on %s: %s", name, strerror(-err));
		close(fd);
	}
	fd = guard_bpf_attach(&g->bpf, ifindex, &iface->is_generic, &generic_err);
	if (fd < 0) {
		prepare_error(out, "guard: cannot attach XDP to %s: native: %s; generic: %s", name,
			      strerror(-fd), strerror(-generic_err));
		return fd;
	}
	if (iface->is_generic)
		log_warn("guard: %s: native XDP unavailable; attached in generic mode, which costs "
			 "more per packet",
			 name);
	iface->link_fd = fd;
	return 0;
}

int guard_prepare(struct agent *ag, const struct config *cfg, FILE *out)
{
	const struct cfg_guard *cg = &cfg->guard;
	struct guard *g = guard_get(ag);
	int err = 0;

	if (!g)
		return -ENOMEM;
	detach_new(g);
	if (cg->is_set && !g->bpf.skel) {
		err = load(g);
		if (err) {
			if (out)
				fprintf(out, "guard: cannot load its BPF program: %s\n",
					strerror(-err));
			return err;
		}
	}
	g->next = calloc(cg->n_interfaces + 1, sizeof(*g->next));
	if (!g->next)
		return -ENOMEM;
	g->has_next = true;
	for (size_t i = 0; cg->is_set && i < cg->n_interfaces && !err; i++) {
		err = attach_one(g, cg->interfaces[i], &g->next[i], out);
		if (!err)
			g->n_next++;
	}
	return err;
}

void guard_abort(struct agent *ag)
{
	if (!ag->guard)
		return;
	detach_new(ag->guard);
	/* Drop what guard_expect_listeners() added for the rejected configuration. */
	guard_sync_listeners(ag->guard);
}

/* Swaps in the prepared interfaces, detaching the ones left out. */
static void commit_ifaces(struct guard *g)
{
	for (size_t i = 0; i < g->n_ifs; i++) {
		const struct guard_iface *keep = find_iface(g->next, g->n_next, g->ifs[i].name);

		if (keep && keep->link_fd == g->ifs[i].link_fd)
			continue;
		close(g->ifs[i].link_fd);
		log_info("guard: detached from %s", g->ifs[i].name);
	}
	for (size_t i = 0; i < g->n_next; i++) {
		const struct guard_iface *was = find_iface(g->ifs, g->n_ifs, g->next[i].name);

		if (!was || was->link_fd != g->next[i].link_fd)
			log_info("guard: attached to %s (%s XDP)", g->next[i].name,
				 g->next[i].is_generic ? "generic" : "native");
	}
	free(g->ifs);
	g->ifs = g->next;
	g->n_ifs = g->n_next;
	g->next = NULL;
	g->n_next = 0;
	g->has_next = false;
}

static void write_cfg(struct guard *g, bool is_allow_only)
{
	struct sg_guard_cfg c;
	int err;

	guard_bpf_make_cfg(g->syn_per_second, g->syn_burst, is_allow_only, &c);
	err = guard_bpf_set_cfg(&g->bpf, &c);
	if (err)
		log_err("guard: writing its settings: %s", strerror(-err));
}

static void write_rule(struct guard *g, enum guard_list l, const struct cfg_cidr *c, bool is_add)
{
	char text[64];
	int err = guard_bpf_rule(&g->bpf, l, c, is_add);

	if (err)
		log_err("guard: %s %s %s: %s", is_add ? "adding" : "removing", guard_list_str(l),
			guard_cidr_str(c, text, sizeof(text)), strerror(-err));
}

static void commit_rules(struct guard *g, const struct cfg_guard *cg)
{
	bool was_allow_only = g->rules.n[GUARD_ALLOW] > 0, is_new_rate;
	struct guard_change *ch = NULL;
	size_t n = 0;
	int err = guard_rules_set_config(&g->rules, cg, &ch, &n);

	if (err) {
		log_err("guard: rules unchanged: %s", strerror(-err));
		return;
	}
	is_new_rate = g->syn_per_second != (cg->is_set ? cg->syn_per_second : 0) ||
		      g->syn_burst != (cg->is_set ? cg->syn_burst : 0);
	g->syn_per_second = cg->is_set ? cg->syn_per_second : 0;
	g->syn_burst = cg->is_set ? cg->syn_burst : 0;
	if (!g->bpf.skel)
		goto out;
	/* A source's state is a time in the old rate's units: a new rate starts
	 * every source afresh, with a full burst. */
	if (is_new_rate && (err = guard_bpf_clear_syn(&g->bpf)))
		log_warn("guard: clearing the SYN table for the new rate: %s", strerror(-err));
	write_cfg(g, was_allow_only && g->rules.n[GUARD_ALLOW] > 0);
	if (!g->has_all_rules) {
		/* A fresh object: everything the lists hold, runtime entries too. */
		for (int l = 0; l < GUARD_LIST_MAX; l++) {
			for (size_t i = 0; i < g->rules.n[l]; i++)
				write_rule(g, (enum guard_list)l, &g->rules.v[l][i].cidr, true);
		}
		g->has_all_rules = true;
	} else {
		for (size_t i = 0; i < n; i++)
			write_rule(g, ch[i].list, &ch[i].cidr, ch[i].is_add);
	}
	write_cfg(g, g->rules.n[GUARD_ALLOW] > 0);
out:
	free(ch);
}

void guard_commit(struct agent *ag, const struct config *cfg)
{
	struct guard *g = ag->guard;

	if (!g)
		return;
	if (g->has_next)
		commit_ifaces(g);
	commit_rules(g, &cfg->guard);
	guard_sync_listeners(g);
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return ss->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int push_listen(struct guard_listen **v, size_t *n, const struct sockaddr_storage *ss)
{
	struct guard_listen *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	guard_listen_from(ss, &nv[(*n)++]);
	return 0;
}

/* Every address of a guarded interface in the wildcard's family, with its port. */
static int push_iface_addrs(const struct guard *g, const struct ifaddrs *ifa,
			    const struct sockaddr_storage *wild, struct guard_listen **v, size_t *n)
{
	int err = 0;

	for (const struct ifaddrs *p = ifa; p && !err; p = p->ifa_next) {
		struct sockaddr_storage ss = *wild;

		if (!p->ifa_addr || p->ifa_addr->sa_family != wild->ss_family ||
		    !find_iface(g->ifs, g->n_ifs, p->ifa_name))
			continue;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_addr =
				((const struct sockaddr_in *)p->ifa_addr)->sin_addr;
		else
			((struct sockaddr_in6 *)&ss)->sin6_addr =
				((const struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
		err = push_listen(v, n, &ss);
	}
	return err;
}

/* The addresses the guard judges: every listening socket's and, with cfg,
 * every listener cfg asks for. */
static void sync_listeners(struct guard *g, const struct config *cfg)
{
	const struct agent *ag = g->ag;
	size_t n_cfg = cfg ? cfg->n_listeners : 0, n_want = ag->n_listeners + 2 * n_cfg, n = 0;
	struct sockaddr_storage *want = calloc(n_want ? n_want : 1, sizeof(*want));
	struct ifaddrs *ifa = NULL;
	struct guard_listen *v = NULL;
	size_t k = 0;
	int err = want ? 0 : -ENOMEM;

	if (!g->bpf.skel) {
		free(want);
		return;
	}
	for (size_t i = 0; want && i < ag->n_listeners; i++)
		want[k++] = ag->listeners[i]->acc.addr;
	for (size_t i = 0; want && i < n_cfg; i++) {
		want[k++] = cfg->listeners[i].addr;
		if (cfg_listener_v6_twin(&cfg->listeners[i], &want[k], NULL))
			k++;
	}
	for (size_t i = 0; i < k && !ifa; i++) {
		if (is_wildcard(&want[i]) && getifaddrs(&ifa) == -1)
			log_warn("guard: reading interface addresses: %s", strerror(errno));
	}
	for (size_t i = 0; i < k && !err; i++)
		err = is_wildcard(&want[i]) ? push_iface_addrs(g, ifa, &want[i], &v, &n)
					    : push_listen(&v, &n, &want[i]);
	freeifaddrs(ifa);
	free(want);
	if (!err)
		err = guard_bpf_set_listeners(&g->bpf, v, n);
	if (err) {
		log_err("guard: updating the listener addresses: %s", strerror(-err));
		free(v);
		return;
	}
	free(g->lsn);
	g->lsn = v;
	g->n_lsn = n;
}

void guard_sync_listeners(struct guard *g)
{
	sync_listeners(g, NULL);
}

void guard_expect_listeners(struct agent *ag, const struct config *cfg)
{
	if (ag->guard)
		sync_listeners(ag->guard, cfg);
}

enum guard_rules_result guard_change_rule(struct guard *g, enum guard_list list,
					  const struct cfg_cidr *c, bool is_add, int *err)
{
	bool was_allow_only = g->rules.n[GUARD_ALLOW] > 0, moved, is_allow_only;
	enum guard_rules_result r = is_add ? guard_rules_add(&g->rules, list, c, &moved)
					   : guard_rules_del(&g->rules, list, c, &moved);

	*err = 0;
	if (r != GUARD_RULES_OK || !moved || !g->bpf.skel)
		return r;
	is_allow_only = g->rules.n[GUARD_ALLOW] > 0;
	if (was_allow_only && !is_allow_only)
		write_cfg(g, false); /* loosen before the last allow entry leaves */
	*err = guard_bpf_rule(&g->bpf, list, c, is_add);
	if (*err) {
		/* Put the lists back as they were: the map did not change. */
		if (is_add)
			guard_rules_del(&g->rules, list, c, &moved);
		else
			guard_rules_add(&g->rules, list, c, &moved);
		write_cfg(g, was_allow_only);
		return r;
	}
	if (!was_allow_only && is_allow_only)
		write_cfg(g, true); /* tighten once the first allow entry is in */
	return r;
}

void guard_relink(struct agent *ag)
{
	struct guard *g = ag->guard;

	for (size_t i = 0; g && i < g->n_ifs; i++) {
		int err = guard_bpf_relink(&g->bpf, g->ifs[i].link_fd);

		if (err)
			log_err("guard: take back the XDP link on %s: %s", g->ifs[i].name,
				strerror(-err));
	}
}

void guard_let_go(struct agent *ag)
{
	struct guard *g = ag->guard;

	for (size_t i = 0; g && i < g->n_ifs; i++) {
		close(g->ifs[i].link_fd);
		log_info("guard: the XDP link on %s is the new agent's now", g->ifs[i].name);
	}
	if (g)
		g->n_ifs = 0;
}

void guard_close(struct agent *ag)
{
	struct guard *g = ag->guard;

	if (!g)
		return;
	detach_new(g);
	for (size_t i = 0; i < g->n_ifs; i++) {
		close(g->ifs[i].link_fd);
		log_info("guard: detached from %s", g->ifs[i].name);
	}
	if (g->addr_events.fd >= 0) {
		loop_del(ag->loop, &g->addr_events);
		close(g->addr_events.fd);
	}
	guard_bpf_close(&g->bpf);
	guard_rules_fini(&g->rules);
	free(g->ifs);
	free(g->lsn);
	free(g);
	ag->guard = NULL;
}
