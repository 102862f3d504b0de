// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cmd_flows.c: see cmd_flows.h. Reading the map is flow_list.c's, the text
 * of each field flow_fmt.c's; this file lays them out. */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "bpf_maps.h"
#include "cmd_flows.h"
#include "flow_fmt.h"
#include "flow_list.h"
#include "json.h"
#include "sg_abi.h"

static void print_json(const struct flow_list *l, __u64 now_ns, FILE *out)
{
	char client[ADDR_STR_MAX], backend[ADDR_STR_MAX], state[128];

	fputs("[", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct flow_row *r = &l->rows[i];

		/* Addresses are digits, dots, colons and brackets: nothing to escape. */
		fprintf(out, "%s\n  {\"flow_id\": %" PRIu64 ", \"client\": \"%s\", \"sni\": ",
			i ? "," : "", (uint64_t)r->id,
			flow_fmt_endpoint(r->f.client_addr, r->f.client_port, client,
					  sizeof(client)));
		json_field(out, r->f.sni, sizeof(r->f.sni));
		fputs(", \"route\": ", out);
		json_field(out, r->f.route, sizeof(r->f.route));
		fprintf(out,
			", \"route_id\": %" PRIu32 ", \"backend\": \"%s\", \"age_ms\": %" PRIu64
			", \"bytes_up\": %" PRIu64 ", \"bytes_down\": %" PRIu64
			", \"state\": \"%s\", \"end\": ",
			(uint32_t)r->f.route_id,
			flow_fmt_endpoint(r->f.backend_addr, r->f.backend_port, backend,
					  sizeof(backend)),
			(uint64_t)(flow_age_ns(&r->f, now_ns) / NS_PER_MS),
			(uint64_t)r->f.bytes[SG_DIR_TO_BACKEND],
			(uint64_t)r->f.bytes[SG_DIR_TO_CLIENT],
			flow_fmt_state(&r->f, state, sizeof(state)));
		if (r->f.state == SG_FLOW_CLOSED)
			fprintf(out, "\"%s\"}", flow_end_name(r->f.end));
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
	flow_fmt_endpoint(r->f.client_addr, r->f.client_port, t->client, sizeof(t->client));
	flow_fmt_name(r->f.sni, sizeof(r->f.sni), t->sni, sizeof(t->sni));
	flow_fmt_name(r->f.route, sizeof(r->f.route), t->route, sizeof(t->route));
	flow_fmt_endpoint(r->f.backend_addr, r->f.backend_port, t->backend, sizeof(t->backend));
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
			flow_fmt_age(flow_age_ns(&r->f, now_ns), age, sizeof(age)),
			(uint64_t)r->f.bytes[SG_DIR_TO_BACKEND],
			(uint64_t)r->f.bytes[SG_DIR_TO_CLIENT],
			flow_fmt_state(&r->f, state, sizeof(state)));
	}
}

int cmd_flows(const char *bpffs_dir, bool is_json, FILE *out)
{
	struct flow_list l = {0};
	__u32 max_entries;
	__u64 now_ns;
	int fd, err;

	fd = bpf_maps_open_flows(bpffs_dir, &max_entries);
	if (fd < 0)
		return fd;
	err = flow_list_read(fd, max_entries, &l);
	if (err) {
		fprintf(stderr, "sockgate: reading %s/sg_flows: %s\n", bpffs_dir, strerror(-err));
		goto out;
	}
	/* After the walk, so no flow can look younger than zero. */
	now_ns = flow_now_ns();
	flow_list_sort_by_bytes(&l);
	if (is_json)
		print_json(&l, now_ns, out);
	else
		print_table(&l, now_ns, out);
out:
	flow_list_free(&l);
	close(fd);
	return err;
}
