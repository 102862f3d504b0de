// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_top.c: see cmd_top.h. One loop waits on the keyboard and a signalfd
 * until the next refresh, so that every way out (q, Ctrl-C, SIGTERM, an
 * error) passes through the one place that gives the terminal back. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bpf_maps.h"
#include "cmd_top.h"
#include "flow_list.h"
#include "flow_rates.h"
#include "term.h"
#include "top_agent.h"
#include "top_model.h"
#include "top_render.h"

#define AGENT_TIMEOUT_MS 1000 /* a stuck agent costs a refresh this much, no more */
#define EXIT_RUNTIME	 1
#define KEY_CTRL_L	 0x0c

/* What each sample is converted to and measured into, grown as flows come. */
struct sample_buf {
	struct flow_sample *samples;
	struct flow_rate *rates;
	size_t cap;
};

struct top {
	const struct top_opts *o;
	bool is_tty;
	struct term term;
	int sig_fd;
	struct top_agent agent;
	struct flow_list flows;
	struct flow_rates rates;
	struct sample_buf *buf; /* [flows.n] of each */
	struct top_model model;
	char flows_error[512]; /* "" when the map was read */
	enum top_sort sort;
	unsigned long refresh; /* samples taken; the first, #0, has no rates */
	unsigned long n_shown;
	time_t wall;
	uint64_t now_ns;
};

static uint64_t now_ms(void)
{
	return flow_now_ns() / NS_PER_MS;
}

/* The first line of a memstream's text, without "sockgate: ". */
static void keep_error(char *dst, size_t len, const char *text)
{
	static const char prefix[] = "sockgate: ";

	if (!text || !text[0])
		text = "cannot open the flows map";
	if (!strncmp(text, prefix, sizeof(prefix) - 1))
		text += sizeof(prefix) - 1;
	snprintf(dst, len, "%.*s", (int)strcspn(text, "\n"), text);
}

/* Reads the flow map into t->flows; a failure empties it and says why. */
static void read_flows(struct top *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);
	__u32 max_entries;
	int fd, rc;

	t->flows.n = 0;
	t->flows_error[0] = '\0';
	/* Opened afresh each time: a restarted agent may have pinned a new map. */
	fd = bpf_maps_open_flows_to(t->o->bpffs_dir, &max_entries, err ? err : stderr);
	if (err)
		fclose(err);
	if (fd < 0) {
		keep_error(t->flows_error, sizeof(t->flows_error), text);
		free(text);
		return;
	}
	free(text);
	rc = flow_list_read(fd, max_entries, &t->flows);
	close(fd);
	if (rc) {
		snprintf(t->flows_error, sizeof(t->flows_error), "reading %s/sg_flows: %s",
			 t->o->bpffs_dir, strerror(-rc));
		t->flows.n = 0;
	}
}

static int grow(struct sample_buf *b, size_t n)
{
	struct flow_sample *s;
	struct flow_rate *r;

	if (n <= b->cap)
		return 0;
	s = realloc(b->samples, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	b->samples = s;
	r = realloc(b->rates, n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	b->rates = r;
	b->cap = n;
	return 0;
}

/* Asks the agent, reads the flows and rebuilds the model. 0 or -ENOMEM. */
static int sample(struct top *t)
{
	struct sample_buf *b = t->buf;
	int err;

	top_agent_query(&t->agent, t->o->control_path, AGENT_TIMEOUT_MS);
	read_flows(t);
	/* After the walk, so no flow can look younger than zero. */
	t->now_ns = flow_now_ns();
	t->wall = time(NULL);
	err = grow(b, t->flows.n);
	if (err)
		return err;
	for (size_t i = 0; i < t->flows.n; i++) {
		const struct flow_row *r = &t->flows.rows[i];

		b->samples[i].id = r->id;
		b->samples[i].start_ns = r->f.start_ns;
		b->samples[i].bytes[0] = r->f.bytes[SG_DIR_TO_BACKEND];
		b->samples[i].bytes[1] = r->f.bytes[SG_DIR_TO_CLIENT];
	}
	err = flow_rates_update(&t->rates, b->samples, t->flows.n, t->now_ns, b->rates);
	if (err)
		return err;
	top_model_fini(&t->model);
	err = top_model_build(&t->model, &t->agent, &t->flows, b->rates, t->rates.elapsed_ns);
	if (err)
		return err;
	top_model_sort(&t->model, t->sort);
	t->refresh++;
	return 0;
}

/* Draws the model on the terminal, or prints it as a plain frame. */
static int show(struct top *t)
{
	struct top_frame fr = {
		.m = &t->model,
		.agent = &t->agent,
		.flows_error = t->flows_error[0] ? t->flows_error : NULL,
		.sort = t->sort,
		.refresh = t->refresh - 1,
		.interval_s = t->o->interval_s,
		.wall = t->wall,
		.now_ns = t->now_ns,
		.is_interactive = t->is_tty,
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (t->is_tty && term_size(STDOUT_FILENO, &fr.rows, &fr.cols)) {
		fr.rows = 24; /* the classic size, when the terminal will not say */
		fr.cols = 80;
	}
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	err = top_render(&fr, f);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err && t->is_tty)
		err = term_draw(&t->term, text, len);
	else if (!err)
		printf("%s%.*s", t->n_shown ? "\n" : "", (int)len, text);
	t->n_shown += !err;
	if (!err && !t->is_tty && fflush(stdout) == EOF)
		err = -errno;
	free(text);
	return err;
}

/* Ctrl-Z: give the terminal back while stopped, take it again after. */
static int suspend(struct top *t)
{
	term_stop(&t->term);
	kill(getpid(), SIGSTOP);
	return term_start(&t->term, STDIN_FILENO, STDOUT_FILENO);
}

enum step { STEP_GO_ON = 0, STEP_REDRAW, STEP_QUIT };

/* Handles the signals waiting on the signalfd; *code gets the exit code. */
static enum step on_signal(struct top *t, int *code)
{
	struct signalfd_siginfo si;
	enum step step = STEP_GO_ON;

	while (read(t->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
			*code = 0; /* Ctrl-C is how many quit a full-screen view */
			return STEP_QUIT;
		case SIGWINCH:
			step = STEP_REDRAW;
			break;
		case SIGTSTP:
			if (suspend(t)) {
				*code = EXIT_RUNTIME;
				return STEP_QUIT;
			}
			step = STEP_REDRAW;
			break;
		default:
			*code = 128 + (int)si.ssi_signo;
			return STEP_QUIT;
		}
	}
	return step;
}

static enum step on_keys(struct top *t, int *code)
{
	enum step step = STEP_GO_ON;
	int key;

	while ((key = term_key(&t->term)) >= 0) {
		if (key == 'q' || key == 'Q') {
			*code = 0;
			return STEP_QUIT;
		}
		if (key == 's' || key == 'S') {
			t->sort = (t->sort + 1) % TOP_SORT_MAX;
			top_model_sort(&t->model, t->sort);
			step = STEP_REDRAW;
		} else if (key == KEY_CTRL_L) {
			step = STEP_REDRAW;
		}
	}
	return step;
}

/* Waits until deadline_ms for keys and signals. */
static enum step wait_until(struct top *t, uint64_t deadline_ms, int *code)
{
	struct pollfd p[2] = {{.fd = t->sig_fd, .events = POLLIN},
			      {.fd = t->is_tty ? STDIN_FILENO : -1, .events = POLLIN}};
	uint64_t now = now_ms();
	enum step step;
	int n;

	n = poll(p, 2, now >= deadline_ms ? 0 : (int)(deadline_ms - now));
	if (n <= 0)
		return STEP_GO_ON; /* the deadline, or EINTR: both mean look again */
	if (p[0].revents & POLLIN) {
		step = on_signal(t, code);
		if (step != STEP_GO_ON)
			return step;
	}
	if (p[1].revents & (POLLHUP | POLLERR)) {
		*code = EXIT_RUNTIME; /* the terminal is gone */
		return STEP_QUIT;
	}
	return p[1].revents & POLLIN ? on_keys(t, code) : STEP_GO_ON;
}

static int run(struct top *t)
{
	uint64_t interval_ms = (uint64_t)(t->o->interval_s * 1000), next;
	unsigned long frames = 0;
	int code = -1, err;

	err = sample(t);
	if (!err && t->is_tty)
		err = show(t);
	next = now_ms() + interval_ms;
	while (!err && code < 0) {
		enum step step = wait_until(t, next, &code);

		if (step == STEP_QUIT)
			break;
		if (step == STEP_REDRAW && t->is_tty)
			err = show(t);
		if (err || now_ms() < next)
			continue;
		/* Late (a slow agent): the next refresh is an interval from now. */
		next = next + interval_ms > now_ms() ? next + interval_ms : now_ms() + interval_ms;
		err = sample(t);
		if (!err)
			err = show(t);
		if (!err && !t->is_tty && t->o->iterations && ++frames == t->o->iterations)
			code = 0;
	}
	if (err) {
		term_stop(&t->term);
		fprintf(stderr, "sockgate: top: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	return code;
}

/* Signals arrive on a signalfd; Ctrl-Z and Ctrl-\ only need handling while
 * the terminal is ours. */
static int open_signals(bool is_tty, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (is_tty) {
		sigaddset(&set, SIGWINCH);
		sigaddset(&set, SIGTSTP);
		sigaddset(&set, SIGQUIT);
	}
	if (sigprocmask(SIG_BLOCK, &set, old) == -1)
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int cmd_top(const struct top_opts *o)
{
	struct sample_buf buf = {0};
	struct top t = {.o = o, .sig_fd = -1, .buf = &buf};
	sigset_t old;
	int code, err;

	t.is_tty = !o->iterations && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	flow_rates_init(&t.rates);
	t.sig_fd = open_signals(t.is_tty, &old);
	if (t.sig_fd < 0) {
		fprintf(stderr, "sockgate: top: signals: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	err = t.is_tty ? term_start(&t.term, STDIN_FILENO, STDOUT_FILENO) : 0;
	if (err) {
		fprintf(stderr, "sockgate: top: terminal: %s\n", strerror(-err));
		code = EXIT_RUNTIME;
	} else {
		code = run(&t);
		term_stop(&t.term);
	}
	close(t.sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	top_model_fini(&t.model);
	top_agent_fini(&t.agent);
	flow_list_free(&t.flows);
	flow_rates_fini(&t.rates);
	free(buf.samples);
	free(buf.rates);
	return code;
}
