// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* conn_pace.c: see conn_pace.h. A direction that cannot be paused (its source
 * already half-closed, or no pause program) is aborted once it holds four
 * budgets: the last resort the budget leaves. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_internal.h"
#include "conn_pace.h"
#include "log.h"

#define HARD_LIMIT_BUDGETS 4

static void note_queued(struct conn *c, uint64_t backlog)
{
	if (backlog > c->peak_queued)
		c->peak_queued = backlog;
}

/* Next mark: the counter value at which the backlog could first exceed the
 * budget, if the receiver took nothing more meanwhile. */
static void arm(struct conn *c, int src, uint64_t redirected, uint64_t backlog)
{
	uint64_t budget = c->ag->args->pair_budget_bytes;
	uint64_t room = backlog < budget ? budget - backlog : 1;

	sockpair_arm(&c->pair, &c->ag->dp, src, redirected + room);
}

void conn_pace_start(struct conn *c)
{
	for (int src = 0; src < 2; src++)
		arm(c, src, 0, 0);
}

static struct conn_pace_next pause_direction(struct conn *c, int src, uint64_t redirected,
					     uint64_t backlog)
{
	struct agent *ag = c->ag;
	int err = sockpair_pause(&c->pair, &ag->dp, src);

	log_debug("conn=%llu pause src=%d backlog=%llu err=%d", (unsigned long long)c->id, src,
		  (unsigned long long)backlog, err);
	if (!err) {
		c->paused[src] = true;
		c->n_pauses++;
		return (struct conn_pace_next){.schedule = true};
	}
	if (backlog > HARD_LIMIT_BUDGETS * ag->args->pair_budget_bytes) {
		if (agent_log_allowed(ag))
			log_warn("conn=%llu %llu bytes queued and the source cannot pause (%s)",
				 (unsigned long long)c->id, (unsigned long long)backlog,
				 strerror(-err));
		return (struct conn_pace_next){.abort = "over_budget"};
	}
	arm(c, src, redirected, backlog > ag->args->pair_budget_bytes ? backlog : 0);
	return (struct conn_pace_next){0};
}

struct conn_pace_next conn_pace_event(struct conn *c, uint64_t cookie)
{
	uint64_t backlog, redirected;
	int src = cookie == c->pair.cookie[SOCKPAIR_CLIENT] ? SOCKPAIR_CLIENT : SOCKPAIR_BACKEND;

	if (c->state != CONN_SPLICED || c->paused[src])
		return (struct conn_pace_next){0};
	if (sockpair_backlog(&c->pair, &c->ag->dp, src, &backlog, &redirected))
		return (struct conn_pace_next){0};
	note_queued(c, backlog);
	if (backlog > c->ag->args->pair_budget_bytes)
		return pause_direction(c, src, redirected, backlog);
	arm(c, src, redirected, backlog);
	return (struct conn_pace_next){0};
}

/* Moves src's remaining bytes in user space (conn_pace_before_shutdown(), or
 * a FIN that arrived while paused: docs/SOCKMAP.md, section "FIN while paused:
 * the tail copy") and forwards its end of stream once reached. Returns false
 * when the pair must be aborted. */
static bool copy_rest(struct conn *c, int src)
{
	int dst = 1 - src;
	int r = sockpair_copy_tail(&c->pair, &c->ag->dp, src);

	if (r < 0)
		return false;
	if (r == 1) {
		/* Once dst's write side is shut, a zero-byte send can no longer trigger
		 * its pause, so its own direction would go on unpaced. */
		conn_pace_before_shutdown(c, dst);
		shutdown(c->pair.fd[dst], SHUT_WR);
		c->shut[dst] = true;
		c->copying[src] = false;
		c->paused[src] = false;
	}
	return true;
}

void conn_pace_before_shutdown(struct conn *c, int leg)
{
	int err;

	if (c->copying[leg] || c->eof[leg])
		return;
	err = c->paused[leg] ? 0 : sockpair_pause(&c->pair, &c->ag->dp, leg);
	if (err) {
		/* Still forwarding: bytes keep flowing, only unpaced. */
		if (agent_log_allowed(c->ag))
			log_warn("conn=%llu half-close: cannot stop forwarding (%s)",
				 (unsigned long long)c->id, strerror(-err));
		return;
	}
	c->paused[leg] = true;
	c->copying[leg] = true;
}

struct conn_pace_next conn_pace_tick(struct conn *c)
{
	uint64_t budget = c->ag->args->pair_budget_bytes;
	bool any = false;

	for (int src = 0; src < 2 && c->state == CONN_SPLICED; src++) {
		uint64_t backlog, redirected, before = 0, after = 0;
		int err;

		if (!c->paused[src])
			continue;
		if (c->copying[src] || c->eof[src]) {
			c->copying[src] = true;
			if (!copy_rest(c, src))
				return (struct conn_pace_next){.abort = "tail_copy_failed"};
			any = any || c->paused[src] || c->copying[1 - src];
			continue;
		}
		if (sockpair_backlog(&c->pair, &c->ag->dp, src, &backlog, &redirected)) {
			any = true;
			continue;
		}
		note_queued(c, backlog);
		log_debug("conn=%llu tick src=%d backlog=%llu eof=%d", (unsigned long long)c->id,
			  src, (unsigned long long)backlog, c->eof[src]);
		if (backlog > budget / 2) {
			any = true;
			continue;
		}
		sockpair_pending(&c->pair, &c->ag->dp, src, &before);
		err = sockpair_resume(&c->pair, &c->ag->dp, src);
		if (!err && before > 1 && !sockpair_pending(&c->pair, &c->ag->dp, src, &after) &&
		    after == before) {
			/* The FIN raced in between the check and the kick. */
			log_debug("conn=%llu resume src=%d moved nothing of %llu bytes: copying",
				  (unsigned long long)c->id, src, (unsigned long long)before);
			err = sockpair_pause(&c->pair, &c->ag->dp, src);
			if (err)
				return (struct conn_pace_next){.abort = "resume_failed"};
			c->copying[src] = true;
			any = true;
			continue;
		}
		if (err == -EOPNOTSUPP) {
			/* Its FIN arrived while paused: it cannot forward again. */
			c->copying[src] = true;
			any = true;
			continue;
		}
		if (err)
			return (struct conn_pace_next){.abort = "resume_failed"};
		c->paused[src] = false;
		arm(c, src, redirected, backlog);
	}
	return (struct conn_pace_next){.paused = any};
}
