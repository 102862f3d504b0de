// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* privileges.c: see privileges.h. capget/capset go through the raw system call:
 * glibc has no wrapper, the agent changes its sets once, from its only thread,
 * and libcap's cap_set_proc() is just as per-thread, so it would add a build
 * dependency and nothing the agent uses. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privileges.h"

/* Why each one stays is in docs/OPERATING.md, "Privileges". */
static const struct {
	int cap;
	const char *name;
} kept[] = {
	{CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE"}, /* a reload's listener on a port < 1024 */
	{CAP_NET_ADMIN, "CAP_NET_ADMIN"},		/* XDP attach, SO_SNDBUFFORCE */
	{CAP_PERFMON, "CAP_PERFMON"},			/* the guard's program, loaded on demand */
	{CAP_BPF, "CAP_BPF"},				/* the same, and its maps */
};

#define N_KEPT (sizeof(kept) / sizeof(kept[0]))

uint64_t privileges_keep_mask(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < N_KEPT; i++)
		m |= 1ull << kept[i].cap;
	return m;
}

int privileges_find_user(const char *name, struct priv_user *u)
{
	struct passwd *pw;

	if (strlen(name) >= sizeof(u->name)) {
		log_err("privileges: user %s: name too long", name);
		return -ENAMETOOLONG;
	}
	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		int err = errno ? -errno : -ENOENT;

		log_err("privileges: user %s: %s", name,
			err == -ENOENT ? "no such user" : strerror(-err));
		return err;
	}
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

/* Entries of /proc/self/task: the threads of this process; -errno. */
static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int cap_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};

	return syscall(SYS_capget, &hdr, data) == -1 ? -errno : 0;
}

static uint64_t word64(__u32 lo, __u32 hi)
{
	return (uint64_t)hi << 32 | lo;
}

/* Drops from the bounding set what is not kept. Dropping needs CAP_SETPCAP; a
 * process without it (started unprivileged, or by systemd with a bounding set
 * of its own) cannot gain capabilities back anyway under no_new_privs, so
 * that is logged, not fatal. */
static int drop_bounding(uint64_t keep)
{
	int left = 0;

	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r == -1)
			break; /* EINVAL: past the kernel's last capability */
		if (r == 0 || (keep & (1ull << cap)))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno != EPERM) {
			log_err("privileges: drop capability %d from the bounding set: %s", cap,
				strerror(errno));
			return -errno;
		}
		left++;
	}
	if (left)
		log_info("privileges: %d capabilities stay in the bounding set (no CAP_SETPCAP); "
			 "none is held, and no_new_privs keeps them out of reach",
			 left);
	return 0;
}

/* setresuid() to a non-zero uid clears the permitted set unless keepcaps is
 * on; glibc applies the id calls to every thread, but there is only one. */
static int become(const struct priv_user *u)
{
	if (getuid() == u->uid && geteuid() == u->uid && getgid() == u->gid && getegid() == u->gid)
		return 0; /* already that user: systemd's User= did it */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 || initgroups(u->name, u->gid) == -1 ||
	    setresgid(u->gid, u->gid, u->gid) == -1 || setresuid(u->uid, u->uid, u->uid) == -1) {
		int err = -errno;

		log_err("privileges: change to user %s (uid %u, gid %u): %s", u->name,
			(unsigned)u->uid, (unsigned)u->gid, strerror(-err));
		return err;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}

/* Permitted and effective become keep & permitted: asking for more than the
 * process holds would fail, and the caller only loses what it does not use.
 * Inheritable and ambient go: the agent runs no programs. */
static int reduce_sets(uint64_t keep, uint64_t *held)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	uint64_t p;
	int err = cap_get(data);

	if (err)
		return err;
	p = word64(data[0].permitted, data[1].permitted) & keep;
	for (int i = 0; i < 2; i++) {
		data[i].permitted = (__u32)(p >> (32 * i));
		data[i].effective = data[i].permitted;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) == -1)
		return -errno;
	/* EINVAL: a kernel before 4.3 has no ambient set to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 && errno != EINVAL)
		return -errno;
	*held = p;
	return 0;
}

static void log_result(uint64_t keep, uint64_t held, const struct priv_user *u)
{
	char names[128] = "", missing[128] = "";

	for (size_t i = 0; i < N_KEPT; i++) {
		char *to = (held & (1ull << kept[i].cap)) ? names : missing;

		snprintf(to + strlen(to), sizeof(names) - strlen(to), "%s%s", to[0] ? " " : "",
			 kept[i].name);
	}
	log_info("privileges: kept %s (CapEff %016llx), no_new_privs set, uid %u gid %u%s%s%s",
		 names[0] ? names : "no capability", (unsigned long long)held, (unsigned)getuid(),
		 (unsigned)getgid(), u ? " (" : "", u ? u->name : "", u ? ")" : "");
	if (held != keep)
		log_warn("privileges: started without %s: what needs it will fail (see "
			 "docs/OPERATING.md, \"Privileges\")",
			 missing);
}

int privileges_drop(const struct priv_user *u)
{
	uint64_t keep = privileges_keep_mask(), held = 0;
	int n = count_threads(), err;

	if (n < 0) {
		log_err("privileges: count threads in /proc/self/task: %s", strerror(-n));
		return n;
	}
	if (n != 1) {
		log_err("privileges: %d threads run; capabilities are per thread, so they must be "
			"dropped before the first thread starts",
			n);
		return -EBUSY;
	}
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * goes next. */
	err = drop_bounding(keep);
	if (!err && u)
		err = become(u);
	if (!err) {
		err = reduce_sets(keep, &held);
		if (err)
			log_err("privileges: reduce capabilities: %s", strerror(-err));
	}
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		err = -errno;
		log_err("privileges: no_new_privs: %s", strerror(-err));
	}
	if (!err)
		log_result(keep, held, u);
	return err;
}

void privileges_pass_on(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	uint64_t p;

	if (cap_get(data))
		return;
	p = word64(data[0].permitted, data[1].permitted) & privileges_keep_mask();
	for (int i = 0; i < 2; i++)
		data[i].inheritable = (__u32)(p >> (32 * i));
	if (syscall(SYS_capset, &hdr, data) == -1)
		return;
	for (size_t i = 0; i < N_KEPT; i++) {
		if (p & (1ull << kept[i].cap))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, kept[i].cap, 0, 0);
	}
}
