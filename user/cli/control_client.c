// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* control_client.c: see control_client.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_client.h"
#include "write_all.h"

#define REPLY_MAX  (64u << 20)
#define TIMEOUT_MS 60000 /* a load resolves hostnames; the agent bounds that itself */

/* A Unix stream socket with timeout_ms for each send and receive, and in sa
 * the address of path. Returns it, or -errno after one line on err. */
static int open_socket(const char *path, int timeout_ms, struct sockaddr_un *sa, FILE *err)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	int fd, err_no;

	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fprintf(err, "sockgate: control socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		err_no = errno;
		fprintf(err, "sockgate: socket: %s\n", strerror(err_no));
		return -err_no;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Connects fd to the agent at sa (path). Returns 0, or -errno after one line
 * on err; connect_exit_code() turns that into the exit code. */
static int connect_to(int fd, const struct sockaddr_un *sa, const char *path, FILE *err)
{
	int err_no;

	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	err_no = errno;
	if (err_no == ENOENT || err_no == ECONNREFUSED) {
		fprintf(err,
			"sockgate: sockgated is not running: nothing answers on %s "
			"(--control PATH or $SOCKGATE_CONTROL)\n",
			path);
		return -err_no;
	}
	if (err_no == EACCES || err_no == EPERM) {
		fprintf(err,
			"sockgate: permission denied on %s: the control socket is for root "
			"and the agent's user only\n",
			path);
		return -err_no;
	}
	fprintf(err, "sockgate: cannot connect to %s: %s\n", path, strerror(err_no));
	return -err_no;
}

/* The exit code of connect_to()'s error: no agent answers, not allowed, or
 * anything else. */
static int connect_exit_code(int err)
{
	if (err == -ENOENT || err == -ECONNREFUSED)
		return CLI_EXIT_NO_AGENT;
	if (err == -EACCES || err == -EPERM)
		return CLI_EXIT_DENIED;
	return 1;
}

static char *read_reply(int fd, size_t *len, FILE *err)
{
	size_t cap = 4096;
	char *buf = malloc(cap);

	*len = 0;
	while (buf) {
		ssize_t n;

		if (*len + 1 >= cap) {
			char *b = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (!b) {
				fprintf(err, "sockgate: reply too large\n");
				break;
			}
			buf = b;
			cap *= 2;
		}
		n = recv(fd, buf + *len, cap - 1 - *len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(err, "sockgate: reading the reply: %s\n",
				errno == EAGAIN ? "timed out" : strerror(errno));
			break;
		}
		if (n == 0) {
			buf[*len] = '\0';
			return buf;
		}
		*len += (size_t)n;
	}
	free(buf);
	return NULL;
}

int control_request(const char *path, const char *const *words, size_t n, const char *payload,
		    size_t len, FILE *out, FILE *err)
{
	return control_request_timed(path, words, n, payload, len, out, err, TIMEOUT_MS);
}

int control_request_timed(const char *path, const char *const *words, size_t n, const char *payload,
			  size_t len, FILE *out, FILE *err, int timeout_ms)
{
	size_t reply_len;
	char *reply, *text, *end;
	long code;
	struct sockaddr_un sa;
	int fd = open_socket(path, timeout_ms, &sa, err), rc;

	if (fd < 0)
		return 1;
	rc = connect_to(fd, &sa, path, err);
	if (rc) {
		close(fd);
		return connect_exit_code(rc);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		rc = write_all(fd, i ? "\t" : "", i ? 1 : 0, WRITE_ALL_NOSIGNAL);
		if (!rc)
			rc = write_all(fd, words[i], strlen(words[i]), WRITE_ALL_NOSIGNAL);
	}
	if (!rc)
		rc = write_all(fd, "\n", 1, WRITE_ALL_NOSIGNAL);
	if (!rc && len)
		rc = write_all(fd, payload, len, WRITE_ALL_NOSIGNAL);
	if (rc) {
		fprintf(err, "sockgate: sending the request: %s\n", strerror(-rc));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	reply = read_reply(fd, &reply_len, err);
	close(fd);
	if (!reply)
		return 1;
	code = strtol(reply, &end, 10);
	if (end == reply || *end != '\n' || code < 0 || code > 125) {
		fprintf(err, "sockgate: malformed reply from the agent\n");
		free(reply);
		return 1;
	}
	text = end + 1;
	fwrite(text, 1, reply_len - (size_t)(text - reply), code ? err : out);
	free(reply);
	return (int)code;
}
