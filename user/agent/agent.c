// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* agent.c: startup (dataplane, listeners, guard, checks, control socket,
 * signals), reloads and shutdown: stop accepting, let spliced connections
 * finish within a drain deadline, then reset what is left and detach the BPF
 * program. The accept path is listeners.c's, a connection's life conn.c's. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "container_of.h"
#include "access_log.h"
#include "addr.h"
#include "agent.h"
#include "cgroup.h"
#include "config_watch.h"
#include "control.h"
#include "endpoint_load.h"
#include "conn.h"
#include "express.h"
#include "conn_lifetime.h"
#include "conn_admit.h"
#include "conn_stats.h"
#include "backend_health.h"
#include "guard.h"
#include "health_check.h"
#include "inherited.h"
#include "listeners.h"
#include "metrics.h"
#include "log.h"
#include "privileges.h"
#include "resolver.h"
#include "sd_notify.h"
#include "takeover.h"
#include "workers.h"

static int agent_reload(struct agent *ag);

static void on_stop_deadline(struct loop_timer *t)
{
	struct agent *ag = container_of(t, struct agent, stop_timer);

	conn_express_hand_off(ag); /* after a takeover: they go on, without us */
	if (ag->n_conns)
		log_warn("shutdown: resetting %zu connections still open", ag->n_conns);
	conn_abort_all(ag);
	loop_stop(ag->loop);
}

/* Stops accepting and lets the connections finish within ag->drain_ms; the
 * loop ends once they have. tell_systemd: STOPPING=1 (not after a takeover:
 * the service goes on, in the new process). */
static void begin_drain(struct agent *ag, const char *why, bool tell_systemd)
{
	ag->is_stopping = true;
	if (tell_systemd)
		sd_notify_stopping();
	log_info("%s: no longer accepting; %llu connections draining (at most %llu ms)", why,
		 (unsigned long long)(ag->has_workers ? agent_conns(ag) : ag->n_conns),
		 (unsigned long long)ag->drain_ms);
	listeners_close(ag);
	if (ag->has_workers) {
		/* Each worker drains its own connections; the loop ends when
		 * the last worker has (workers.c). */
		workers_stop(ag, false);
		return;
	}
	/* Express flows go on in the kernel without their sockets (docs/EXPRESS.md,
	 * "Agent stop, crash and restart"); the workers do the same with theirs.
	 * Not when taken over: the sockets keep their four-tuples reserved until
	 * the flows end (the next agent's connections to the same backend would
	 * pick those ports), and are handed off only at the deadline. */
	if (!agent_is_held(ag))
		conn_express_hand_off(ag);
	if (ag->n_conns == 0) {
		loop_stop(ag->loop);
		return;
	}
	ag->stop_timer.on_expire = on_stop_deadline;
	loop_timer_arm(ag->loop, &ag->stop_timer, ag->drain_ms);
}

static void begin_stop(struct agent *ag, int signo)
{
	if (!ag->is_stopping) {
		begin_drain(ag, strsignal(signo), true);
		return;
	}
	log_warn("second signal: resetting %llu connections now",
		 (unsigned long long)(ag->has_workers ? agent_conns(ag) : ag->n_conns));
	if (ag->has_workers) {
		workers_stop(ag, true);
		return;
	}
	conn_abort_all(ag);
	loop_stop(ag->loop);
}

/* A takeover (control/takeover.h) holds the listeners while the new agent
 * starts, and releases them if it goes away before it confirms; the new
 * agent may have put its programs into the guard's and express's links. */
static void on_takeover_hold(void *ctx, bool hold)
{
	struct agent *ag = ctx;

	listeners_hold(ag, hold);
	if (hold)
		conn_express_unpend(ag); /* the root's, with --workers 1; apply() the workers' */
	if (!hold) {
		guard_relink(ag);
		express_relink(ag->express);
	}
	workers_apply(ag); /* the workers drop or take their watches, and return */
}

/* The new agent serves: its socket has the control path, its metrics and
 * guard are the ones taken over; this one only drains. */
static void on_handed_over(void *ctx, uint64_t drain_ms)
{
	struct agent *ag = ctx;

	control_release(ag->control);
	metrics_close(ag->metrics);
	ag->metrics = NULL;
	guard_let_go(ag);
	if (ag->is_stopping)
		return;
	ag->drain_ms = drain_ms;
	begin_drain(ag, "taken over", false);
}

static void on_signal(struct loop_watch *w, uint32_t events)
{
	struct agent *ag = container_of(w, struct agent, signals);
	struct signalfd_siginfo si;
	(void)events;

	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			begin_stop(ag, (int)si.ssi_signo);
			continue;
		}
		if (si.ssi_signo != SIGHUP)
			continue;
		/* logrotate sends SIGHUP after renaming the file; reopen even
		 * while draining, so the last lines land in the new file. */
		if (ag->access_log)
			access_log_reopen(ag->access_log);
		if (!ag->is_stopping)
			agent_reload(ag);
	}
}

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

void agent_block_signals(void)
{
	sigset_t set;

	signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Raises the soft RLIMIT_NOFILE to the hard one (systemd's soft default is
 * 1024, far below what a gateway needs) and returns the soft limit now in
 * force; 0 if it could not be read. */
static rlim_t raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			rl.rlim_cur = was;
	}
	return rl.rlim_cur;
}

static int open_signals(struct agent *ag)
{
	sigset_t set;
	int fd;

	/* Blocked since main() already; blocking again keeps a caller that
	 * skipped agent_block_signals() (the BPF tests) correct. */
	agent_block_signals();
	signal_set(&set);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -errno;
	ag->signals = (struct loop_watch){.fd = fd, .on_event = on_signal};
	return loop_add(ag->loop, &ag->signals, EPOLLIN);
}

static int on_bpf_event(void *ctx, void *data, size_t len)
{
	struct agent *ag = ctx;

	if (len < sizeof(struct sg_event))
		return 0;
	if (ag->has_workers)
		workers_post_event(ag, data);
	else
		conn_on_bpf_event(ag, data);
	return 0;
}

static void on_events(struct loop_watch *w, uint32_t events)
{
	struct agent *ag = container_of(w, struct agent, events_w);
	(void)events;

	ring_buffer__consume(ag->events);
}

/* The pause half of the sockmap dataplane: the agent's own cgroup with the
 * sock_ops program on it, and the verdict's crossing events on the loop. */
static int open_pacing(struct agent *ag)
{
	char path[1200];
	int err;

	ag->cgroup_fd = cgroup_join_own(path, sizeof(path));
	if (ag->cgroup_fd < 0) {
		err = ag->cgroup_fd;
		log_err("cgroup: %s", strerror(-err));
		return err;
	}
	err = bpf_dataplane_attach_pause(&ag->dp, ag->cgroup_fd);
	if (err)
		return err;
	ag->events = ring_buffer__new(ag->dp.events_fd, on_bpf_event, ag, NULL);
	if (!ag->events)
		return -errno;
	ag->events_w =
		(struct loop_watch){.fd = ring_buffer__epoll_fd(ag->events), .on_event = on_events};
	err = loop_add(ag->loop, &ag->events_w, EPOLLIN);
	if (!err)
		log_info("pair budget %llu bytes per direction (cgroup %s)",
			 (unsigned long long)ag->args->pair_budget_bytes, path);
	return err;
}

/* Express needs TC (tcx, Linux 6.6) and TCP_REPAIR (CAP_NET_ADMIN); without
 * them pairs are promoted to sockmap, as in auto. */
static void open_express(struct agent *ag)
{
	int err = express_open(&ag->express, ag->args->bpffs_dir);

	if (err) {
		ag->express = NULL;
		log_warn("dataplane: express unavailable (%s); promoting to sockmap",
			 strerror(-err));
		return;
	}
}

static int open_dataplane(struct agent *ag)
{
	const struct args *a = ag->args;
	int err;

	ag->starts_in_copy = a->dataplane == ARGS_DATAPLANE_AUTO ||
			     a->dataplane == ARGS_DATAPLANE_COPY ||
			     a->dataplane == ARGS_DATAPLANE_EXPRESS;
	ag->promotes =
		a->dataplane == ARGS_DATAPLANE_AUTO || a->dataplane == ARGS_DATAPLANE_EXPRESS;
	ag->copy_buf = malloc(AGENT_COPY_BUF);
	if (!ag->copy_buf)
		return -ENOMEM;
	if (a->dataplane == ARGS_DATAPLANE_SPLICE || a->dataplane == ARGS_DATAPLANE_COPY) {
		log_info("dataplane: %s (as requested)",
			 a->dataplane == ARGS_DATAPLANE_COPY ? "copy" : "splice");
		return 0;
	}
	bpf_dataplane_set_print();
	if (a->dataplane == ARGS_DATAPLANE_EXPRESS ||
	    (a->dataplane == ARGS_DATAPLANE_AUTO && !a->no_express))
		open_express(ag);
	err = bpf_dataplane_open(&ag->dp, a->bpffs_dir);
	if (!err)
		err = open_pacing(ag);
	if (!err && ag->express &&
	    ring_buffer__add(ag->events, express_events_fd(ag->express), on_bpf_event, ag))
		log_warn("express: events: %s (ended flows are found within a second)",
			 strerror(errno));
	if (!err) {
		ag->use_sockmap = true;
		log_info("dataplane: %s (maps pinned under %s)",
			 ag->promotes ? (ag->express ? "copy, promoted to express where both legs "
						       "allow it, else promoted to sockmap"
						     : "copy, promoted to sockmap")
				      : "sockmap",
			 a->bpffs_dir);
		return 0;
	}
	bpf_dataplane_close(&ag->dp);
	if (a->dataplane == ARGS_DATAPLANE_SOCKMAP)
		return err;
	/* Sockmap without pausing would let a stalled reader take the host's
	 * memory: the relay is bounded, so it is the safe fallback. */
	log_warn("dataplane: sockmap unavailable (%s); falling back to splice", strerror(-err));
	return 0;
}

/* Makes rt (the caller's reference) the runtime new connections get and
 * drops the previous one: connections in flight keep theirs. Every new
 * runtime goes through here: a reload and new endpoint addresses alike. */
static void agent_install(struct agent *ag, struct runtime *rt)
{
	struct runtime *old = ag->rt;

	ag->rt = rt;
	health_checker_free(ag->health);
	ag->health = health_checker_new(ag->loop, ag->backend_health, rt);
	runtime_put(old);
	resolver_follow(ag->resolver, rt->cfg);
	workers_apply(ag); /* and the listeners listeners_apply() just made */
}

/* Re-reads --config with ag->changes as they are now; on success new
 * connections use it at once, connections in flight keep theirs. A rejected
 * configuration changes nothing. Diagnostics and the one closing line go to
 * out (NULL: the log). 0 or -EINVAL. */
static int agent_rebuild(struct agent *ag, FILE *out)
{
	struct cfg_lookup cached;
	struct runtime *rt;
	int err;

	/* Draining (stopped, or taken over): the listeners are closed or another
	 * agent's, and a directory watch must not open them again. */
	if (ag->is_stopping || ag->handover) {
		/* Held for a takeover too: the new agent has the sockets as they
		 * were sent; one this reload opened would be left out. */
		const char *why = ag->is_stopping ? "stopping" : "being taken over";

		if (out)
			fprintf(out, "the agent is %s: nothing reloaded\n", why);
		log_warn("reload: the agent is %s; ignored", why);
		return -EINVAL;
	}
	/* Names the agent knows take the resolver's answers; new ones are looked
	 * up off the loop and applied when they arrive. */
	sd_notify_reloading();
	if (ag->resolver)
		resolver_lookup(ag->resolver, &cached);
	rt = runtime_load(ag->args, &ag->changes, ag->resolver ? &cached : NULL, out);

	err = rt ? guard_prepare(ag, rt->cfg, out) : -EINVAL;
	if (!err) {
		/* A new listener is judged before its first SYN (docs/GUARD.md). */
		guard_expect_listeners(ag, rt->cfg);
		err = listeners_apply(ag, rt->cfg);
	}
	if (err) {
		guard_abort(ag);
		ag->n_reloads_rejected++;
		ag->is_last_reload_ok = false;
		runtime_put(rt);
		log_err("reload rejected: still serving the previous configuration");
		sd_notify_ready("reload rejected: serving the previous configuration");
		return -EINVAL;
	}
	guard_commit(ag, rt->cfg);
	agent_install(ag, rt);
	ag->n_reloads++;
	ag->is_last_reload_ok = true;
	ag->last_reload_ok_s = (uint64_t)time(NULL);
	log_info("reloaded: %zu listeners, %zu routes", rt->cfg->n_listeners, rt->cfg->n_routes);
	sd_notify_ready("serving");
	return 0;
}

static int agent_reload(struct agent *ag)
{
	return agent_rebuild(ag, NULL);
}

/* The same, as the callbacks the parts below are opened with. */
static void on_reload(void *ctx)
{
	agent_reload(ctx);
}

static int on_rebuild(void *ctx, FILE *out)
{
	return agent_rebuild(ctx, out);
}

static void on_install(void *ctx, struct runtime *rt)
{
	agent_install(ctx, rt);
}

static struct control_hooks control_hooks_of(struct agent *ag)
{
	return (struct control_hooks){.rebuild = on_rebuild,
				      .hold = on_takeover_hold,
				      .handed_over = on_handed_over,
				      .ctx = ag};
}

/* What the agent made as root and still writes after changing to u: the
 * access log (reopened after logrotate) and the control socket (removed at
 * stop). Pinned maps are used through their fds only. */
static int give_files(struct agent *ag, const struct priv_user *u)
{
	int err = ag->access_log ? access_log_give(ag->access_log, u->uid, u->gid) : 0;

	return err ? err : control_give(ag->control, u->uid, u->gid);
}

/* After the mounts, the BPF load and the cgroup attach; before the first
 * thread (the access log's writer, the resolver), as capabilities are per
 * thread. The rest of startup and every reload run with what is kept. */
static int drop_privileges(struct agent *ag, const struct priv_user *u)
{
	int err;

	if (ag->args->keep_privileges) {
		log_warn("privileges: --keep-privileges: every capability the agent started with "
			 "is kept");
		return 0;
	}
	err = u ? give_files(ag, u) : 0;
	if (!err)
		err = privileges_drop(u);
	for (size_t i = 0; !err && u && i < ag->args->n_configs; i++) {
		if (access(ag->args->configs[i], R_OK) == -1)
			log_warn("privileges: %s: %s for user %s: reloads will fail",
				 ag->args->configs[i], strerror(errno), u->name);
	}
	return err;
}

static int agent_start(struct agent *ag)
{
	struct priv_user user, *u = NULL;
	struct control_hooks hooks;
	bool is_express;
	int err;

	/* Before anything is attached: a wrong name must change nothing. */
	if (ag->args->user) {
		err = privileges_find_user(ag->args->user, &user);
		if (err)
			return err;
		u = &user;
	}
	ag->fd_limit = (uint64_t)raise_fd_limit();
	ag->loop = loop_new();
	if (!ag->loop)
		return -errno;
	/* The root's handlers run holding shared_lock, taken in agent_main(). */
	loop_set_lock(ag->loop, ag->shared_lock, NULL);
	ag->has_workers = (ag->args->workers ? ag->args->workers : workers_default()) > 1;
	ag->flow_id_base = (uint64_t)time(NULL) << 32;
	ag->start_ms = loop_now_ms();
	/* main() loaded the configuration just before. */
	ag->is_last_reload_ok = true;
	ag->last_reload_ok_s = (uint64_t)time(NULL);
	ag->index = calloc(AGENT_INDEX_SIZE, sizeof(*ag->index));
	ag->stats = conn_stats_new();
	ag->endpoint_load = endpoint_load_new();
	ag->route_load = endpoint_load_new();
	ag->route_panic = endpoint_load_new();
	ag->backend_health = backend_health_new();
	if (!ag->endpoint_load || !ag->route_load || !ag->route_panic || !ag->backend_health)
		return -ENOMEM;
	if (!ag->index || !ag->stats)
		return -ENOMEM;
	/* First, so a bad path fails before anything is attached. */
	if (ag->args->access_log_path) {
		err = access_log_open(&ag->access_log, ag->args->access_log_path,
				      ag->args->access_log_fmt, ACCESS_LOG_QUEUE_BYTES);
		if (err)
			return err;
	}
	err = open_signals(ag);
	if (err) {
		log_err("signals: %s", strerror(-err));
		return err;
	}
	/* Before the drop: its directory may need root to create. Before the
	 * dataplane: a takeover may have to happen first (below). */
	hooks = control_hooks_of(ag);
	ag->control = control_open(ag, ag->args->control_path, &hooks, ag->args->takeover);
	if (!ag->control)
		return -EINVAL;
	if (ag->args->takeover && !control_is_taking_over(ag->control))
		log_info("takeover: no agent answers on %s; starting afresh",
			 ag->args->control_path);
	/* Express flows live in pinned maps both agents use: this one must read
	 * which slots are in use (the flows it adopts) only once the old one has
	 * stopped promoting, that is once it holds its listeners. */
	is_express = ag->args->dataplane == ARGS_DATAPLANE_EXPRESS ||
		     (ag->args->dataplane == ARGS_DATAPLANE_AUTO && !ag->args->no_express);
	if (is_express && control_is_taking_over(ag->control)) {
		err = takeover_take(ag);
		if (err)
			return err;
	}
	err = open_dataplane(ag);
	if (err)
		return err;
	err = drop_privileges(ag, u);
	if (!err && ag->access_log)
		err = access_log_start(ag->access_log);
	if (err)
		return err;
	/* After the dataplane: a relayed connection holds more descriptors. */
	err = conn_admit_open(ag);
	if (err)
		return err;
	/* Otherwise as late as it can be: the running agent accepts no more
	 * from here until this one serves (connections wait in the listeners'
	 * queues). */
	if (!is_express && control_is_taking_over(ag->control)) {
		err = takeover_take(ag);
		if (err)
			return err;
	}
	/* The guard's lists apply from the first SYN: attached, filled and
	 * told the listener addresses before any socket listens. */
	err = guard_prepare(ag, ag->rt->cfg, NULL);
	if (err)
		return err;
	guard_commit(ag, ag->rt->cfg);
	guard_expect_listeners(ag, ag->rt->cfg);
	err = listeners_apply(ag, ag->rt->cfg);
	if (err)
		return err;
	ag->health = health_checker_new(ag->loop, ag->backend_health, ag->rt);
	err = conn_lifetime_open(ag);
	if (err)
		return err;
	ag->resolver = resolver_open(ag, on_install, ag);
	if (!ag->resolver)
		return -ENOMEM;
	ag->config_watch = config_watch_open(ag, on_reload, ag);
	if (ag->args->metrics_addr) {
		ag->metrics = metrics_open(ag, ag->args->metrics_addr);
		if (!ag->metrics)
			return -EINVAL;
	}
	/* Last, with privileges dropped: threads keep the capabilities of the
	 * one that creates them. */
	if (ag->has_workers)
		return workers_start(ag);
	return 0;
}

static void agent_stop(struct agent *ag)
{
	takeover_give_close(ag);
	inherited_free(ag->inherited); /* startup failed midway: the old agent takes them back */
	ag->inherited = NULL;
	if (ag->has_workers) {
		/* A worker still running (an error stopped the root) ends now. */
		if (!ag->is_stopping)
			workers_stop(ag, true);
		pthread_mutex_unlock(ag->shared_lock);
		workers_join(ag);
		pthread_mutex_lock(ag->shared_lock);
	}
	conn_lifetime_close(ag);
	conn_abort_all(ag);
	conn_admit_close(ag);
	health_checker_free(ag->health);
	ag->health = NULL;
	listeners_close(ag);
	guard_close(ag);
	/* After the last connection's line: everything queued is written. */
	access_log_close(ag->access_log);
	ag->access_log = NULL;
	metrics_close(ag->metrics);
	config_watch_close(ag->config_watch);
	resolver_close(ag->resolver);
	control_close(ag->control);
	if (ag->signals.fd > 0)
		close(ag->signals.fd);
	if (ag->events) {
		loop_del(ag->loop, &ag->events_w);
		ring_buffer__free(ag->events);
	}
	bpf_dataplane_close(&ag->dp);
	express_close(ag->express);
	ag->express = NULL;
	if (ag->cgroup_fd > 0)
		close(ag->cgroup_fd);
	if (ag->loop) {
		loop_run_once(ag->loop, 0); /* run the deferred frees */
		loop_free(ag->loop);
	}
	free(ag->index);
	free(ag->peek_buf);
	free(ag->copy_buf);
	conn_stats_free(ag->stats);
	endpoint_load_free(ag->endpoint_load);
	endpoint_load_free(ag->route_load);
	endpoint_load_free(ag->route_panic);
	backend_health_free(ag->backend_health);
	runtime_put(ag->rt);
	live_changes_free(&ag->changes);
}

int agent_main(const struct args *a, struct runtime *rt)
{
	struct agent ag = {.args = a,
			   .rt = rt,
			   .cgroup_fd = -1,
			   .workers_done_w = {.fd = -1},
			   .log_limit = LOG_LIMIT_INIT(AGENT_LOG_PER_SECOND)};
	pthread_mutexattr_t attr;
	pthread_mutex_t shared;
	int err;

	/* Recursive: conn/ code takes it around what workers share, and with
	 * --workers 1 the root's loop already holds it. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&shared, &attr);
	pthread_mutexattr_destroy(&attr);
	ag.root = &ag;
	ag.shared_lock = &shared;
	pthread_mutex_lock(&shared);
	ag.drain_ms = a->drain_ms;
	err = agent_start(&ag);
	if (!err && ag.inherited) {
		err = takeover_confirm(&ag);
		/* The old agent drains now: keep serving even if the rename fails
		 * (the socket stays where it is, logged). */
		if (!err && control_take_path(ag.control) == 0)
			log_info("takeover: done; control socket %s", a->control_path);
		if (!err)
			sd_notify_main_ready("serving (took over)");
	} else if (!err)
		sd_notify_ready("serving"); /* listeners, BPF and guard are up */
	if (!err) {
		err = loop_run(ag.loop);
		if (err)
			log_err("event loop: %s", strerror(-err));
	}
	agent_stop(&ag);
	log_info("stopped: %llu accepted, %llu copied, %llu promoted, %llu spliced, %llu relayed, "
		 "%llu closed, %llu aborted",
		 (unsigned long long)ag.counters[AGENT_CNT_ACCEPTED],
		 (unsigned long long)ag.counters[AGENT_CNT_COPIED],
		 (unsigned long long)ag.counters[AGENT_CNT_PROMOTED],
		 (unsigned long long)ag.counters[AGENT_CNT_SPLICED],
		 (unsigned long long)ag.counters[AGENT_CNT_RELAYED],
		 (unsigned long long)ag.counters[AGENT_CNT_CLOSED],
		 (unsigned long long)ag.counters[AGENT_CNT_ABORTED]);
	pthread_mutex_unlock(&shared);
	pthread_mutex_destroy(&shared);
	return err ? 1 : 0;
}
