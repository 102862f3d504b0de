// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* takeover_take.c: the new agent's half of a takeover (takeover.h). Runs
 * during startup, before the loop: plain blocking calls with timeouts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_state.h"
#include "inherited.h"
#include "log.h"
#include "takeover.h"
#include "takeover_wire.h"

/* Each step of the old agent is a few system calls on its loop; a loop
 * busy with a reload takes longer, never this long. */
#define STEP_TIMEOUT_S 10

static int dial(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = STEP_TIMEOUT_S};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Reads one chunk whole, its descriptors into fds[0..*n_fds). Returns the bytes read (short: the peer
 * closed) or -errno. */
static ssize_t recv_chunk(int fd, struct takeover_chunk *ch, int *fds, size_t *n_fds)
{
	size_t off = 0;

	while (off < sizeof(*ch)) {
		char cbuf[CMSG_SPACE(TAKEOVER_CHUNK * sizeof(int))];
		struct iovec iov = {.iov_base = (char *)ch + off, .iov_len = sizeof(*ch) - off};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int got;

				memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (*n_fds < TAKEOVER_CHUNK)
					fds[(*n_fds)++] = got;
				else
					close(got);
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			return -EMSGSIZE;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (ssize_t)off;
}

/* The old agent said no: its answer is a control response, "CODE\nTEXT". */
static void log_refusal(int fd, const struct takeover_chunk *ch, size_t len)
{
	char text[512], *msg;
	size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;

	memcpy(text, ch, n);
	if (n < sizeof(text) - 1) {
		ssize_t more = recv(fd, text + n, sizeof(text) - 1 - n, 0);

		n += more > 0 ? (size_t)more : 0;
	}
	text[n] = '\0';
	msg = strchr(text, '\n');
	msg = msg ? msg + 1 : text;
	msg[strcspn(msg, "\n")] = '\0';
	log_err("takeover: refused: %s", msg);
}

static int receive(struct agent *ag, int fd, struct inherited *inh)
{
	struct takeover_chunk *ch = malloc(sizeof(*ch));
	int err = ch ? 0 : -ENOMEM;
	bool is_last = false;
	uint32_t pid = 0;

	while (!err && !is_last) {
		int fds[TAKEOVER_CHUNK];
		size_t n_fds = 0;
		ssize_t n = recv_chunk(fd, ch, fds, &n_fds);

		if (n >= 0 && (size_t)n == sizeof(*ch) && ch->magic == TAKEOVER_MAGIC &&
		    ch->n <= TAKEOVER_CHUNK && n_fds == ch->n) {
			for (size_t i = 0; i < n_fds; i++) {
				if (!err)
					err = inherited_add(inh, &ch->items[i], fds[i]);
				else
					close(fds[i]);
			}
			is_last = ch->is_last;
			pid = ch->pid;
			/* Flow ids are unique per agent only if the bases differ:
			 * both agents' flows share the pinned map. */
			if (ag->flow_id_base <= ch->flow_id_base)
				ag->flow_id_base = ch->flow_id_base + (1ull << 32);
			continue;
		}
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		if (n < 0) {
			err = (int)n;
			log_err("takeover: receiving the sockets: %s", strerror(-err));
		} else if (n > 0 && ch->magic != TAKEOVER_MAGIC) {
			log_refusal(fd, ch, (size_t)n);
			err = -EPERM;
		} else {
			log_err("takeover: the running agent sent something this build does not "
				"read (another version?)");
			err = -EPROTO;
		}
	}
	if (!err)
		log_info("takeover: received %zu sockets and links from pid %u", inh->n,
			 (unsigned)pid);
	free(ch);
	return err;
}

int takeover_take(struct agent *ag)
{
	const char *path = ag->args->control_path;
	struct inherited *inh = calloc(1, sizeof(*inh));
	char req[64];
	int fd, err, len;

	if (!inh)
		return -ENOMEM;
	inh->from_fd = -1;
	fd = dial(path);
	if (fd < 0) {
		log_err("takeover: %s: %s", path, strerror(-fd));
		free(inh);
		return fd;
	}
	len = snprintf(req, sizeof(req), "takeover\t%llu\n", (unsigned long long)ag->drain_ms);
	err = send(fd, req, (size_t)len, MSG_NOSIGNAL) == len ? 0 : -errno;
	if (err)
		log_err("takeover: %s: %s", path, strerror(-err));
	if (!err)
		err = receive(ag, fd, inh);
	inh->from_fd = fd;
	if (err) {
		inherited_free(inh);
		return err;
	}
	ag->inherited = inh;
	return 0;
}

int takeover_confirm(struct agent *ag)
{
	struct inherited *inh = ag->inherited;
	char c = TAKEOVER_READY;
	int err = 0;

	if (!inh)
		return 0;
	ag->inherited = NULL;
	errno = 0;
	if (send(inh->from_fd, &c, 1, MSG_NOSIGNAL) != 1 || recv(inh->from_fd, &c, 1, 0) != 1 ||
	    c != TAKEOVER_ACK) {
		err = errno ? -errno : -EPROTO;
		log_err("takeover: the previous agent did not confirm (%s): it accepts again; "
			"this one stops",
			strerror(-err));
	}
	inherited_free(inh);
	return err;
}
