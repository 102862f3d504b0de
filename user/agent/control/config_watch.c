// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_watch.c: see config_watch.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container_of.h"
#include "agent_state.h"
#include "config_digest.h"
#include "config_watch.h"
#include "log.h"

#define QUIET_MS 200

struct config_watch {
	struct loop_watch w;
	struct loop_timer settle;
	struct agent *ag;
	config_watch_reload_fn *reload;
	void *reload_ctx;
	uint64_t digest; /* of what the last load (or the last reload we made) read */
	bool has_digest;
};

/* Events on any name count, hidden ones included: a ConfigMap update renames
 * "..data_tmp" over "..data" and no visible name sees an event. The digest
 * then says whether what the YAML files resolve to changed, so hidden noise
 * (an editor's swap file, a tool's temporary) costs a read, not a reload. */
static void on_settled(struct loop_timer *t)
{
	struct config_watch *cw = container_of(t, struct config_watch, settle);
	const struct args *a = cw->ag->args;
	uint64_t digest;

	if (config_digest_paths(a->configs, a->n_configs, &digest) == 0 && cw->has_digest &&
	    digest == cw->digest) {
		log_debug("configuration directory changed, its YAML files did not");
		return;
	}
	/* A rejected reload is not retried until the files change again. */
	cw->digest = digest;
	cw->has_digest = true;
	log_info("configuration directory changed: reloading");
	cw->reload(cw->reload_ctx);
}

static void on_inotify(struct loop_watch *w, uint32_t events)
{
	struct config_watch *cw = (struct config_watch *)w;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	(void)events;

	/* Which names changed does not matter (see on_settled): drain them all. */
	while (read(w->fd, buf, sizeof(buf)) > 0)
		any = true;
	/* Re-arming restarts the quiet period: one reload per burst. */
	if (any && !cw->ag->is_stopping)
		loop_timer_arm(cw->ag->loop, &cw->settle, QUIET_MS);
}

struct config_watch *config_watch_open(struct agent *ag, config_watch_reload_fn *reload, void *ctx)
{
	struct config_watch *cw;
	size_t n_dirs = 0;
	int fd;

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd == -1) {
		log_warn("config watch: %s", strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i < ag->args->n_configs; i++) {
		const char *path = ag->args->configs[i];
		struct stat st;

		if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;
		if (inotify_add_watch(fd, path,
				      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
					      IN_CREATE) == -1) {
			log_warn("config watch on %s: %s", path, strerror(errno));
			continue;
		}
		log_info("watching %s for configuration changes", path);
		n_dirs++;
	}
	cw = n_dirs ? calloc(1, sizeof(*cw)) : NULL;
	if (!cw) {
		close(fd);
		return NULL;
	}
	cw->ag = ag;
	cw->reload = reload;
	cw->reload_ctx = ctx;
	cw->w = (struct loop_watch){.fd = fd, .on_event = on_inotify};
	cw->settle.on_expire = on_settled;
	/* The running configuration was loaded just before: what it read is the
	 * baseline. A failure here only costs one reload at the first change. */
	cw->has_digest =
		config_digest_paths(ag->args->configs, ag->args->n_configs, &cw->digest) == 0;
	if (loop_add(ag->loop, &cw->w, EPOLLIN)) {
		close(fd);
		free(cw);
		return NULL;
	}
	return cw;
}

void config_watch_close(struct config_watch *cw)
{
	if (!cw)
		return;
	loop_timer_cancel(cw->ag->loop, &cw->settle);
	loop_del(cw->ag->loop, &cw->w);
	close(cw->w.fd);
	free(cw);
}
