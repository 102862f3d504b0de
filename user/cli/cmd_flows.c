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

static void print_json(const struct flow_list *l, __u64 now_ns, FILE *out)
{
	char client[ADDR_STR_MAX], backend[ADDR_STR_MAX];

	fputs("[", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct flow_row *r = &l->rows[i];

		/* Addresses are digits, dots, colons and brackets: nothing to escape. */
		fprintf(out,
			"%s\n  {\"flow_id\": %" PRIu64 ", \"client\": \"%s\", \"backend\": \"%s\", "
			"\"route_id\": %" PRIu32 ", \"age_ms\": %" PRIu64 ", \"bytes_up\": %" PRIu64
			", \"bytes_down\": %" PRIu64 "}",
			i ? "," : "", (uint64_t)r->id,
			format_endpoint(r->f.client_addr, r->f.client_port, client, sizeof(client)),
			format_endpoint(r->f.backend_addr, r->f.backend_port, backend,
					sizeof(backend)),
			(uint32_t)r->f.route_id, (uint64_t)(age_ns(&r->f, now_ns) / NS_PER_MS),
			(uint64_t)r->f.bytes[SG_DIR_TO_BACKEND],
			(uint64_t)r->f.bytes[SG_DIR_TO_CLIENT]);
	}
	fputs(l->n ? "\n]\n" : "]\n", out);
}

static void print_table(const struct flow_list *l, __u64 now_ns, FILE *out)
{
	char client[ADDR_STR_MAX], backend[ADDR_STR_MAX], age[32];
	int wc = (int)strlen("CLIENT"), wb = (int)strlen("BACKEND");

	for (size_t i = 0; i < l->n; i++) {
		const struct flow_row *r = &l->rows[i];
		int n;

		n = (int)strlen(format_endpoint(r->f.client_addr, r->f.client_port, client,
						sizeof(client)));
		wc = n > wc ? n : wc;
		n = (int)strlen(format_endpoint(r->f.backend_addr, r->f.backend_port, backend,
						sizeof(backend)));
		wb = n > wb ? n : wb;
	}
	fprintf(out, "%-*s  %-*s  %5s  %7s  %14s  %14s\n", wc, "CLIENT", wb, "BACKEND", "ROUTE",
		"AGE", "BYTES_UP", "BYTES_DOWN");
	for (size_t i = 0; i < l->n; i++) {
		const struct flow_row *r = &l->rows[i];

		fprintf(out, "%-*s  %-*s  %5" PRIu32 "  %7s  %14" PRIu64 "  %14" PRIu64 "\n", wc,
			format_endpoint(r->f.client_addr, r->f.client_port, client, sizeof(client)),
			wb,
			format_endpoint(r->f.backend_addr, r->f.backend_port, backend,
					sizeof(backend)),
			(uint32_t)r->f.route_id,
			format_age(age_ns(&r->f, now_ns), age, sizeof(age)),
			(uint64_t)r->f.bytes[SG_DIR_TO_BACKEND],
			(uint64_t)r->f.bytes[SG_DIR_TO_CLIENT]);
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
