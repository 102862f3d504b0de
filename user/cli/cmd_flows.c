// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_flows.c: see cmd_flows.h. The map is an LRU the agent and the kernel
 * change while we walk it, so the walk is bounded, tolerates entries that
 * vanish between next_key and lookup, and drops the duplicates a restarted
 * walk can produce. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "addr.h"
#include "bpf_maps.h"
#include "cmd_flows.h"
#include "sg_abi.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

struct flow_row {
	__u64 id;
	struct sg_flow f;
};

struct flow_list {
	struct flow_row *rows;
	size_t n;
	size_t cap;
};

static int list_push(struct flow_list *l, __u64 id, const struct sg_flow *f)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct flow_row *rows = realloc(l->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		l->rows = rows;
		l->cap = cap;
	}
	l->rows[l->n].id = id;
	l->rows[l->n].f = *f;
	l->n++;
	return 0;
}

/* Appends every entry of the map to l. A walk whose current key was evicted
 * restarts from the first key, so the number of steps is capped. */
static int read_flows(int fd, __u32 max_entries, struct flow_list *l)
{
	size_t steps = 0, max_steps = 2 * (size_t)max_entries + 16;
	__u64 key = 0, next;
	struct sg_flow f;
	bool has_key = false;
	int err;

	for (;;) {
		if (bpf_map_get_next_key(fd, has_key ? &key : NULL, &next) < 0) {
			err = -errno;
			return err == -ENOENT ? 0 : err; /* ENOENT: past the last key */
		}
		if (++steps > max_steps || l->n >= max_entries)
			return 0;
		key = next;
		has_key = true;
		if (bpf_map_lookup_elem(fd, &key, &f) < 0) {
			err = -errno;
			if (err == -ENOENT)
				continue; /* evicted or closed since next_key */
			return err;
		}
		err = list_push(l, key, &f);
		if (err)
			return err;
	}
}

static __u64 row_total(const struct flow_row *r)
{
	return r->f.bytes[SG_DIR_TO_BACKEND] + r->f.bytes[SG_DIR_TO_CLIENT];
}

static int by_id(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Most bytes first; the flow id breaks ties so the order is stable. */
static int by_bytes_desc(const void *a, const void *b)
{
	const struct flow_row *x = a, *y = b;
	__u64 tx = row_total(x), ty = row_total(y);

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return by_id(a, b);
}

static void sort_unique(struct flow_list *l)
{
	size_t i, n = 0;

	if (l->n == 0)
		return;
	qsort(l->rows, l->n, sizeof(*l->rows), by_id);
	for (i = 1; i < l->n; i++) {
		if (l->rows[i].id != l->rows[n].id)
			l->rows[++n] = l->rows[i];
	}
	l->n = n + 1;
	qsort(l->rows, l->n, sizeof(*l->rows), by_bytes_desc);
}

/* IPv4 travels v4-mapped in the map; print it as IPv4. */
static char *format_endpoint(const __u8 addr[16], __u16 port, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct in6_addr a6;

	memset(&ss, 0, sizeof(ss));
	memcpy(&a6, addr, sizeof(a6));
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, &a6.s6_addr[12], 4);
		sin->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a6;
		sin6->sin6_port = htons(port);
	}
	return addr_format(&ss, buf, len);
}

static __u64 age_ns(const struct sg_flow *f, __u64 now_ns)
{
	return now_ns > f->start_ns ? now_ns - f->start_ns : 0;
}

/* "3.2s", "5m03s", "2h07m", "3d04h": short, and exact enough to read. */
static char *format_age(__u64 ns, char *buf, size_t len)
{
	__u64 s = ns / NS_PER_S;

	if (s < 60)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", (uint64_t)s,
			 (uint64_t)(ns % NS_PER_S / (NS_PER_S / 10)));
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", (uint64_t)s / 60,
			 (uint64_t)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", (uint64_t)s / 3600,
			 (uint64_t)s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", (uint64_t)s / 86400,
			 (uint64_t)s % 86400 / 3600);
	return buf;
}

static const char *end_name(__u8 end)
{
	static const char *const names[] = {
#define SG_FLOW_END_NAME(name, str) [name] = str,
		SG_FLOW_END_LIST(SG_FLOW_END_NAME)
#undef SG_FLOW_END_NAME
	};

	return end < SG_FLOW_END_MAX ? names[end] : "other";
}

/* "spliced" while both directions forward in BPF, "closed" once done, and
 * otherwise what each direction does, joined by '+': "copying_up+half_closed_down". */
static const char *format_state(const struct sg_flow *f, char *buf, size_t len)
{
	static const struct {
		__u8 flag;
		const char *name;
	} flags[] = {
		{SG_FLOW_F_PAUSED_UP, "paused_up"},
		{SG_FLOW_F_PAUSED_DOWN, "paused_down"},
		{SG_FLOW_F_COPYING_UP, "copying_up"},
		{SG_FLOW_F_COPYING_DOWN, "copying_down"},
		{SG_FLOW_F_HALF_CLOSED_UP, "half_closed_up"},
		{SG_FLOW_F_HALF_CLOSED_DOWN, "half_closed_down"},
	};
	size_t pos = 0;

	if (f->state == SG_FLOW_CLOSED)
		return "closed";
	if (f->state != SG_FLOW_OPEN)
		return "unknown"; /* written by a newer agent */
	if (!f->flags)
		return "spliced";
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]) && pos < len; i++) {
		if (f->flags & flags[i].flag)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos ? "+" : "",
						flags[i].name);
	}
	return pos ? buf : "unknown";
}

/* A name field of the map as one table cell: it may lack its NUL, and
 * anything but printable ASCII without spaces would break the columns. */
static char *format_name(const char *field, size_t field_len, char *buf, size_t len)
{
	size_t n = 0;

	for (; n < field_len && n + 1 < len && field[n]; n++)
		buf[n] = field[n] > ' ' && field[n] <= '~' ? field[n] : '?';
	if (n == 0 && len > 1)
		buf[n++] = '-';
	buf[n] = '\0';
	return buf;
}

/* A name field as a JSON string (null when empty). Route names may hold any
 * printable character, '"' and '\' included. */
static void print_json_name(const char *field, size_t field_len, FILE *out)
{
	size_t n = 0;

	if (field_len == 0 || field[0] == '\0') {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (; n < field_len && field[n]; n++) {
		unsigned char c = (unsigned char)field[n];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void print_json(const struct flow_list *l, __u64 now_ns, FILE *out)
{
	char client[ADDR_STR_MAX], backend[ADDR_STR_MAX], state[128];

	fputs("[", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct flow_row *r = &l->rows[i];

		/* Addresses are digits, dots, colons and brackets: nothing to escape. */
		fprintf(out, "%s\n  {\"flow_id\": %" PRIu64 ", \"client\": \"%s\", \"sni\": ",
			i ? "," : "", (uint64_t)r->id,
			format_endpoint(r->f.client_addr, r->f.client_port, client,
					sizeof(client)));
		print_json_name(r->f.sni, sizeof(r->f.sni), out);
		fputs(", \"route\": ", out);
		print_json_name(r->f.route, sizeof(r->f.route), out);
		fprintf(out,
			", \"route_id\": %" PRIu32 ", \"backend\": \"%s\", \"age_ms\": %" PRIu64
			", \"bytes_up\": %" PRIu64 ", \"bytes_down\": %" PRIu64
			", \"state\": \"%s\", \"end\": ",
			(uint32_t)r->f.route_id,
			format_endpoint(r->f.backend_addr, r->f.backend_port, backend,
					sizeof(backend)),
			(uint64_t)(age_ns(&r->f, now_ns) / NS_PER_MS),
			(uint64_t)r->f.bytes[SG_DIR_TO_BACKEND],
			(uint64_t)r->f.bytes[SG_DIR_TO_CLIENT],
			format_state(&r->f, state, sizeof(state)));
		if (r->f.state == SG_FLOW_CLOSED)
			fprintf(out, "\"%s\"}", end_name(r->f.end));
		else
			fputs("null}", out);
	}
	fputs(l->n ? "\n]\n" : "]\n", out);
}

/* The text of one table row; names are at most their field's length. */
struct row_text {
	char client[ADDR_STR_MAX];
	char sni[SG_FLOW_SNI_LEN];
	char route[SG_FLOW_ROUTE_LEN];
	char backend[ADDR_STR_MAX];
};

static void row_text(const struct flow_row *r, struct row_text *t)
{
	format_endpoint(r->f.client_addr, r->f.client_port, t->client, sizeof(t->client));
	format_name(r->f.sni, sizeof(r->f.sni), t->sni, sizeof(t->sni));
	format_name(r->f.route, sizeof(r->f.route), t->route, sizeof(t->route));
	format_endpoint(r->f.backend_addr, r->f.backend_port, t->backend, sizeof(t->backend));
}

static int max_width(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

static void print_table(const struct flow_list *l, __u64 now_ns, FILE *out)
{
	int wc = (int)strlen("CLIENT"), ws = (int)strlen("SNI"), wr = (int)strlen("ROUTE"),
	    wb = (int)strlen("BACKEND");
	char age[32], state[128];
	struct row_text t;

	for (size_t i = 0; i < l->n; i++) {
		row_text(&l->rows[i], &t);
		wc = max_width(wc, t.client);
		ws = max_width(ws, t.sni);
		wr = max_width(wr, t.route);
		wb = max_width(wb, t.backend);
	}
	fprintf(out, "%-*s  %-*s  %-*s  %-*s  %7s  %14s  %14s  %s\n", wc, "CLIENT", ws, "SNI", wr,
		"ROUTE", wb, "BACKEND", "AGE", "BYTES_UP", "BYTES_DOWN", "STATE");
	for (size_t i = 0; i < l->n; i++) {
		const struct flow_row *r = &l->rows[i];

		row_text(r, &t);
		fprintf(out, "%-*s  %-*s  %-*s  %-*s  %7s  %14" PRIu64 "  %14" PRIu64 "  %s\n", wc,
			t.client, ws, t.sni, wr, t.route, wb, t.backend,
			format_age(age_ns(&r->f, now_ns), age, sizeof(age)),
			(uint64_t)r->f.bytes[SG_DIR_TO_BACKEND],
			(uint64_t)r->f.bytes[SG_DIR_TO_CLIENT],
			format_state(&r->f, state, sizeof(state)));
	}
}

int cmd_flows(const char *bpffs_dir, bool is_json, FILE *out)
{
	struct flow_list l = {0};
	struct timespec ts;
	__u32 max_entries;
	__u64 now_ns;
	int fd, err;

	fd = bpf_maps_open_flows(bpffs_dir, &max_entries);
	if (fd < 0)
		return fd;
	err = read_flows(fd, max_entries, &l);
	if (err) {
		fprintf(stderr, "sockgate: reading %s/sg_flows: %s\n", bpffs_dir, strerror(-err));
		goto out;
	}
	/* After the walk, so no flow can look younger than zero. */
	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns() */
	now_ns = (__u64)ts.tv_sec * NS_PER_S + (__u64)ts.tv_nsec;
	sort_unique(&l);
	if (is_json)
		print_json(&l, now_ns, out);
	else
		print_table(&l, now_ns, out);
out:
	free(l.rows);
	close(fd);
	return err;
}
