// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* control.c: see control.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_state.h"
#include "container_of.h"
#include "control.h"
#include "control_cmds.h"
#include "exchange.h"
#include "log.h"
#include "sg_defaults.h"
#include "takeover.h"

#define REQUEST_MAX	   ((16u << 20) + 65536u) /* a 16 MiB file plus its header line */
#define REQUEST_TIMEOUT_MS 10000
#define ARGS_MAX	   256
#define CONTROL_BACKLOG	   64 /* one request per connection, served at once */

struct control {
	struct control_agent agent; /* the exchange's ctx */
	struct takeover_hooks takeover;
	struct exchange_server *srv;
	/* Where the socket is bound; "" once another agent took the path over
	 * (then it is never removed). */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	/* Taking over: the running agent's path, renamed over at the end. */
	char final_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool is_own_dir; /* the agent made the socket's directory, or it is the default one */
};

/* Splits the header line into words at tabs, in place. */
static size_t split_args(char *line, char **argv)
{
	size_t n = 0;

	for (char *p = line; p && n < ARGS_MAX;) {
		char *tab = strchr(p, '\t');

		if (tab)
			*tab = '\0';
		argv[n++] = p;
		p = tab ? tab + 1 : NULL;
	}
	return n;
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* The client ends its request by shutting down its write side; a takeover
 * by its line alone, as the connection then carries the hand-over. */
static bool is_complete(const char *req, size_t len, bool eof)
{
	static const char cmd[] = "takeover";

	if (len > sizeof(cmd) - 1 && !strncmp(req, cmd, sizeof(cmd) - 1) &&
	    (req[sizeof(cmd) - 1] == '\t' || req[sizeof(cmd) - 1] == '\n'))
		return memchr(req, '\n', len) != NULL;
	return eof;
}

static char *respond(void *ctx, int fd, char *req, size_t len, size_t *resp_len)
{
	char *text = NULL, *argv[ARGS_MAX], *resp;
	size_t text_len = 0, argc;
	FILE *out = open_memstream(&text, &text_len);
	char *nl = memchr(req, '\n', len);
	int code;

	if (!out)
		return NULL;
	if (!peer_allowed(fd)) {
		fprintf(out, "permission denied: only root or the agent's user may control it\n");
		code = CONTROL_EXIT_DENIED;
	} else if (!nl) {
		fprintf(out, "malformed request: no command line\n");
		code = CONTROL_EXIT_USAGE;
	} else {
		*nl = '\0';
		argc = split_args(req, argv);
		if (!strcmp(argv[0], "takeover")) {
			struct control *c = container_of(ctx, struct control, agent);
			bool is_taken;

			code = takeover_give(c->agent.ag, fd, argc, argv, &c->takeover, out,
					     &is_taken);
			if (is_taken) {
				fclose(out);
				free(text);
				return NULL; /* the connection is the takeover's now */
			}
		} else
			code = control_dispatch(ctx, argc, argv, nl + 1,
						len - (size_t)(nl + 1 - req), out);
	}
	fclose(out);
	if (asprintf(&resp, "%d\n%.*s", code, (int)text_len, text ? text : "") < 0)
		resp = NULL;
	free(text);
	if (resp)
		*resp_len = strlen(resp);
	return resp;
}

static char *too_large(void *ctx, size_t *resp_len)
{
	char *resp;
	(void)ctx;

	if (asprintf(&resp, "%d\nrequest larger than %u bytes\n", CONTROL_EXIT_FAILED,
		     REQUEST_MAX) < 0)
		return NULL;
	*resp_len = strlen(resp);
	return resp;
}

/* The uid is checked before a byte is read: a request may be 16 MiB, and a
 * peer that may not send one must not make the agent hold it. */
static char *refuse(void *ctx, int fd, size_t *resp_len)
{
	char *resp;
	(void)ctx;

	if (peer_allowed(fd))
		return NULL;
	if (asprintf(&resp, "%d\npermission denied: only root or the agent's user may control it\n",
		     CONTROL_EXIT_DENIED) < 0)
		return NULL;
	*resp_len = strlen(resp);
	return resp;
}

/* The operator's way in must work when clients have taken every descriptor. */
static const struct exchange_ops control_ops = {
	.keeps_spare_fd = true,
	.max_request = REQUEST_MAX,
	.timeout_ms = REQUEST_TIMEOUT_MS,
	.is_complete = is_complete,
	.respond = respond,
	.too_large = too_large,
	.refuse = refuse,
};

/* 0 when path is free to bind (nothing there, or a socket no one answers on,
 * now removed); else -EADDRINUSE or another -errno. */
static int claim_path(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err = 0;

	if (lstat(sa->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		err = -EADDRINUSE;
	else if (errno != ECONNREFUSED)
		err = -errno;
	close(fd);
	if (!err && unlink(sa->sun_path) == -1 && errno != ENOENT)
		err = -errno;
	return err;
}

/* Writes path's directory to dir ("" for none or "/"). */
static void parent_of(const char *path, char *dir, size_t len)
{
	char *slash;

	snprintf(dir, len, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		dir[0] = '\0';
	else
		*slash = '\0';
}

/* 1 when it made the directory, 0 when there was one, or -errno. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	parent_of(path, dir, sizeof(dir));
	if (!dir[0])
		return 0;
	if (mkdir(dir, 0755) == 0)
		return 1;
	return errno == EEXIST ? 0 : -errno;
}

static int listen_at(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	mode_t old;

	if (fd == -1)
		return -errno;
	/* The mode is right from the first moment: a chmod after bind() would
	 * leave a window in which anyone could connect. */
	old = umask(0177);
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == -1)
		err = -errno;
	umask(old);
	if (!err && listen(fd, CONTROL_BACKLOG) == -1)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* The path a taking-over agent binds first: the running agent's stays
 * reachable until the hand-over is confirmed. */
static int side_path(struct sockaddr_un *sa, const char *path)
{
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s.%d", path, (int)getpid());

	return n < 0 || (size_t)n >= sizeof(sa->sun_path) ? -ENAMETOOLONG : 0;
}

struct control *control_open(struct agent *ag, const char *path, const struct control_hooks *hooks,
			     bool may_take_over)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct control *c;
	bool is_own_dir, is_taking_over = false;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket %s: path longer than %zu bytes", path,
			sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	err = make_parent(path);
	is_own_dir = err == 1 || !strcmp(path, SG_DEFAULT_CONTROL);
	if (err >= 0)
		err = claim_path(&sa);
	if (err == -EADDRINUSE && may_take_over) {
		is_taking_over = true;
		err = side_path(&sa, path);
		if (!err)
			err = claim_path(&sa);
	}
	if (err == -EADDRINUSE) {
		log_err("control socket %s: another sockgated is running there (use --control "
			"to choose another path)",
			path);
		return NULL;
	}
	fd = err ? err : listen_at(&sa);
	if (fd < 0) {
		log_err("control socket %s: %s", sa.sun_path, strerror(-fd));
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		unlink(sa.sun_path);
		return NULL;
	}
	c->agent = (struct control_agent){
		.ag = ag, .rebuild = hooks->rebuild, .rebuild_ctx = hooks->ctx};
	c->takeover = (struct takeover_hooks){
		.hold = hooks->hold, .handed_over = hooks->handed_over, .ctx = hooks->ctx};
	c->srv = exchange_serve(ag->loop, fd, &control_ops, &c->agent); /* closes fd on failure */
	if (!c->srv) {
		unlink(sa.sun_path);
		free(c);
		return NULL;
	}
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	if (is_taking_over)
		snprintf(c->final_path, sizeof(c->final_path), "%s", path);
	c->is_own_dir = is_own_dir;
	if (is_taking_over)
		log_info("control socket %s: an agent runs there; taking it over (bound at %s "
			 "meanwhile)",
			 path, c->path);
	else
		log_info("control socket %s", path);
	return c;
}

bool control_is_taking_over(const struct control *c)
{
	return c && c->final_path[0];
}

int control_take_path(struct control *c)
{
	/* rename() swaps the name atomically: a client always finds one agent. */
	if (rename(c->path, c->final_path) == -1) {
		int err = -errno;

		log_err("control socket %s: rename from %s: %s", c->final_path, c->path,
			strerror(-err));
		return err;
	}
	memcpy(c->path, c->final_path, sizeof(c->path));
	c->final_path[0] = '\0';
	return 0;
}

void control_release(struct control *c)
{
	if (c)
		c->path[0] = '\0';
}

int control_give(const struct control *c, uid_t uid, gid_t gid)
{
	char dir[sizeof(c->path)];
	int err = 0;

	parent_of(c->path, dir, sizeof(dir));
	if (chown(c->path, uid, gid) == -1 ||
	    (c->is_own_dir && dir[0] && chown(dir, uid, gid) == -1))
		err = -errno;
	if (err)
		log_err("control socket %s: give it to uid %u gid %u: %s", c->path, (unsigned)uid,
			(unsigned)gid, strerror(-err));
	else if (!c->is_own_dir)
		log_info("control socket %s: its directory is not the agent's; the socket is "
			 "removed at stop only if uid %u may write there",
			 c->path, (unsigned)uid);
	return err;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	exchange_close(c->srv);
	if (c->path[0])
		unlink(c->path);
	free(c);
}
