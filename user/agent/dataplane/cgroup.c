// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cgroup.c: see cgroup.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

#define OWN_MOUNT "/run/sockgate/cgroup2"
#define CHILD	  "sockgated"

/* Mount point of the first cgroup2 in /proc/self/mountinfo, or "". */
static void find_cgroup2(char *mnt, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];

	mnt[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char point[512], *sep = strstr(line, " - ");

		/* "id parent major:minor root mountpoint ... - fstype source opts" */
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", point) == 1 && strlen(point) < len) {
			memcpy(mnt, point, strlen(point) + 1);
			break;
		}
	}
	fclose(f);
}

static int mount_own(char *mnt, size_t len)
{
	if (mkdir("/run/sockgate", 0700) == -1 && errno != EEXIST)
		return -errno;
	if (mkdir(OWN_MOUNT, 0700) == -1 && errno != EEXIST)
		return -errno;
	if (mount("cgroup2", OWN_MOUNT, "cgroup2", 0, NULL) == -1 && errno != EBUSY)
		return -errno;
	snprintf(mnt, len, "%s", OWN_MOUNT);
	return 0;
}

/* The "0::/path" line of /proc/self/cgroup. */
static int own_path(char *path, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[1024];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		err = strlen(line + 3) < len ? 0 : -ENAMETOOLONG;
		if (!err)
			memcpy(path, line + 3, strlen(line + 3) + 1);
		break;
	}
	fclose(f);
	return err;
}

/* Creates dir and moves the process into it. */
static int join(const char *dir, char *procs, size_t len)
{
	FILE *f;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -errno;
	snprintf(procs, len, "%s/cgroup.procs", dir);
	f = fopen(procs, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", getpid());
	if (fclose(f) == EOF)
		return -errno;
	return 0;
}

int cgroup_join_own(char *out, size_t out_len)
{
	char mnt[512], self[512], dir[1200], procs[1300];
	const char *base;
	int fd, err;

	find_cgroup2(mnt, sizeof(mnt));
	if (!mnt[0] && (err = mount_own(mnt, sizeof(mnt))))
		return err;
	err = own_path(self, sizeof(self));
	if (err)
		return err;
	base = strrchr(self, '/');
	/* Restarted inside the cgroup a previous run made: stay there. */
	if (base && strcmp(base + 1, CHILD) == 0)
		snprintf(dir, sizeof(dir), "%s%s", mnt, self);
	else
		snprintf(dir, sizeof(dir), "%s%s/%s", mnt, strcmp(self, "/") ? self : "", CHILD);
	err = join(dir, procs, sizeof(procs));
	/* A container's runtime mounts the container's own cgroup read-only (a
	 * Kubernetes pod without privilege): no child can be made, but the
	 * container's cgroup holds only its own processes, so the pause program
	 * goes there. It acts only on sockets the agent asked to pause. */
	if (err == -EROFS) {
		snprintf(dir, sizeof(dir), "%s%s", mnt, strcmp(self, "/") ? self : "");
		err = 0;
	}
	if (err)
		return err;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (out)
		snprintf(out, out_len, "%s", dir);
	return fd;
}
