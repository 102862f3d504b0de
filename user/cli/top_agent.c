// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* top_agent.c: see top_agent.h. The reply is split in place: tabs and
 * newlines become NULs and the rows point into it, so one free releases
 * everything. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_client.h"
#include "control_top.h"
#include "top_agent.h"

#define MAX_FIELDS 9

/* Splits line at tabs into f[0..MAX_FIELDS); returns the number of fields. */
static size_t split(char *line, char **f)
{
	size_t n = 0;

	for (char *p = line; n < MAX_FIELDS; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p)
			return n + 1;
		*p++ = '\0';
	}
	return n;
}

static bool to_ulong(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !*end && !errno;
}

static int grow(void **v, size_t n, size_t size)
{
	void *p;

	/* Powers of two from 16: grow when n is one. */
	if (n < 16 ? n != 0 : (n & (n - 1)) != 0)
		return 0;
	p = realloc(*v, (n < 16 ? 16 : 2 * n) * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	return 0;
}

static int parse_status(struct top_agent *a, char **f, size_t n)
{
	unsigned long long v[6];

	if (n != 8 || !to_ulong(f[2], &v[0]) || !to_ulong(f[3], &v[1]) || !to_ulong(f[4], &v[2]) ||
	    !to_ulong(f[5], &v[3]) || !to_ulong(f[6], &v[4]))
		return -EPROTO;
	a->version = f[1];
	a->pid = (long)v[0];
	a->uptime_s = v[1];
	a->n_listeners = (unsigned long)v[2];
	a->n_routes = (unsigned long)v[3];
	a->n_conns = (unsigned long)v[4];
	a->dataplane = f[7];
	return 0;
}

static int parse_route(struct top_agent *a, char **f, size_t n)
{
	struct top_agent_route *r;
	unsigned long long conns;

	if (n != 5 || !to_ulong(f[3], &conns))
		return -EPROTO;
	if (grow((void **)&a->routes, a->n_route_rows, sizeof(*a->routes)))
		return -ENOMEM;
	r = &a->routes[a->n_route_rows++];
	r->name = f[1];
	r->flow_name = f[2];
	r->conns = (unsigned long)conns;
	r->snis = f[4];
	return 0;
}

static int parse_endpoint(struct top_agent *a, char **f, size_t n)
{
	struct top_agent_ep *e;
	unsigned long long weight, conns;

	if (n != 6 || !to_ulong(f[4], &weight) || !to_ulong(f[5], &conns))
		return -EPROTO;
	if (grow((void **)&a->eps, a->n_eps, sizeof(*a->eps)))
		return -ENOMEM;
	e = &a->eps[a->n_eps++];
	e->route = f[1];
	e->backend = f[2];
	e->endpoint = f[3];
	e->weight = (unsigned long)weight;
	e->conns = (unsigned long)conns;
	return 0;
}

/* Lines of a kind this CLI does not know are skipped: a newer agent may add
 * some without changing the format version. */
static int parse(struct top_agent *a)
{
	char *line = a->text, *next, *f[MAX_FIELDS];
	bool has_status = false;
	int err = 0;

	next = strchr(line, '\n');
	if (!next || (size_t)(next - line) != strlen(CONTROL_TOP_FORMAT) ||
	    strncmp(line, CONTROL_TOP_FORMAT, strlen(CONTROL_TOP_FORMAT)))
		return -EPROTO;
	for (line = next + 1; *line && !err; line = next) {
		size_t n;

		next = strchr(line, '\n');
		if (!next)
			return -EPROTO; /* every line ends in a newline */
		*next++ = '\0';
		n = split(line, f);
		if (!strcmp(f[0], "status")) {
			err = parse_status(a, f, n);
			has_status = !err;
		} else if (!strcmp(f[0], "route")) {
			err = parse_route(a, f, n);
		} else if (!strcmp(f[0], "endpoint")) {
			err = parse_endpoint(a, f, n);
		}
	}
	return err ? err : has_status ? 0 : -EPROTO;
}

/* The first line of text, without "sockgate: " and the newline. */
static void first_line(char *dst, size_t len, const char *text)
{
	static const char prefix[] = "sockgate: ";
	size_t n;

	if (!strncmp(text, prefix, sizeof(prefix) - 1))
		text += sizeof(prefix) - 1;
	n = strcspn(text, "\n");
	snprintf(dst, len, "%.*s", (int)n, text);
}

int top_agent_query(struct top_agent *a, const char *control_path, int timeout_ms)
{
	static const char *const words[] = {"top"};
	char *err_text = NULL;
	size_t out_len = 0, err_len = 0;
	FILE *out, *err;
	int code, rc;

	top_agent_fini(a);
	out = open_memstream(&a->text, &out_len);
	err = open_memstream(&err_text, &err_len);
	if (!out || !err) {
		if (out)
			fclose(out);
		if (err)
			fclose(err);
		free(err_text);
		snprintf(a->why, sizeof(a->why), "out of memory");
		return -ENOMEM;
	}
	code = control_request_timed(control_path, words, 1, NULL, 0, out, err, timeout_ms);
	fclose(out);
	fclose(err);
	if (code) {
		first_line(a->why, sizeof(a->why), err_text && err_text[0] ? err_text : "no reply");
		rc = code == CLI_EXIT_DENIED ? -EACCES : code == CLI_EXIT_NO_AGENT ? -ENOENT : -EIO;
	} else {
		rc = parse(a);
		if (rc == -EPROTO)
			snprintf(a->why, sizeof(a->why),
				 "the agent's reply is not \"%s\": sockgate and sockgated versions "
				 "differ?",
				 CONTROL_TOP_FORMAT);
		else if (rc)
			snprintf(a->why, sizeof(a->why), "%s", strerror(-rc));
	}
	free(err_text);
	a->is_up = rc == 0;
	return rc;
}

void top_agent_fini(struct top_agent *a)
{
	free(a->routes);
	free(a->eps);
	free(a->text);
	memset(a, 0, sizeof(*a));
}
