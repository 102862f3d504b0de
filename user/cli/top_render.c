// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* top_render.c: see top_render.h. Names are capped only on a terminal;
 * plain output, read by scripts, keeps them whole. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "flow_fmt.h"
#include "table.h"
#include "top_render.h"

#define N_SUMMARY_LINES 3
#define N_SECTIONS	3  /* routes, endpoints, flows: each a blank line and a header */
#define NAME_CAP	28 /* route and backend names on a terminal */
#define SNI_CAP		32

enum section { SEC_ROUTES = 0, SEC_EPS, SEC_FLOWS };

/* Where lines go: cut to cols, at most rows of them (0: no limit). */
struct screen {
	FILE *out;
	int rows, cols;
	int used;
};

static void emit(struct screen *s, const char *line, size_t len)
{
	if (s->rows && s->used >= s->rows)
		return;
	if (s->cols && len > (size_t)s->cols)
		len = (size_t)s->cols;
	fprintf(s->out, "%.*s\n", (int)len, line);
	s->used++;
}

__attribute__((format(printf, 2, 3))) static void emitf(struct screen *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= 0)
		emit(s, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Prints t through the screen, line by line. */
static int emit_table(struct screen *s, const struct table *t)
{
	char *text = NULL, *line, *nl;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int err;

	if (!f)
		return -ENOMEM;
	err = table_print(t, f);
	if (fclose(f) || !text) {
		free(text);
		return -ENOMEM;
	}
	for (line = text; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		emit(s, line, (size_t)(nl - line));
	}
	free(text);
	return err;
}

/* "0", "512", "80.0K", "1.5M": bytes with binary prefixes. */
static char *fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	uint64_t scale = 1024;
	size_t u = 0;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	while (u + 1 < sizeof(units) - 1 && v / scale >= 1024) {
		scale *= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%c", (double)v / (double)scale, units[u]);
	return buf;
}

/* A row's rate cell: "-" while no interval has been measured. */
static char *fmt_rate(const struct top_model *m, uint64_t delta, char *buf, size_t len)
{
	if (!m->elapsed_ns) {
		snprintf(buf, len, "-");
		return buf;
	}
	return fmt_bytes(flow_rates_per_s(delta, m->elapsed_ns), buf, len);
}

static void cell_count(struct table *t, long v)
{
	if (v < 0)
		table_cell(t, "-");
	else
		table_cell(t, "%ld", v);
}

/* Shows n rows in at most lines lines: a cut list ends in "... N more",
 * except in a single line, where the busiest row says more than the count
 * (the summary lines give the totals). */
static size_t shown_rows(size_t n, size_t lines)
{
	return n <= lines ? n : lines > 1 ? lines - 1 : 1;
}

static void emit_more(struct screen *s, size_t n, size_t lines, const char *what)
{
	if (n > lines && lines > 1)
		emitf(s, "... %zu more %s", n - (lines - 1), what);
}

static void set_caps(struct table *t, const struct top_frame *fr, const size_t *cols, size_t cap)
{
	if (!fr->cols)
		return;
	for (; *cols != (size_t)-1; cols++)
		table_max_width(t, *cols, cap);
}

static int emit_routes(struct screen *s, const struct top_frame *fr, size_t lines)
{
	static const char *const cols[] = {"ROUTE", "CONNS", "FLOWS", "UP/s", "DOWN/s", "SNI"};
	static const size_t name_cols[] = {0, (size_t)-1};
	const struct top_model *m = fr->m;
	size_t n = shown_rows(m->n_routes, lines);
	char up[16], down[16];
	struct table t;
	int err;

	if (!m->n_routes) {
		emitf(s, "no routes");
		return 0;
	}
	table_init(&t, cols, 6);
	for (size_t c = 1; c <= 4; c++)
		table_align_right(&t, c);
	set_caps(&t, fr, name_cols, NAME_CAP);
	for (size_t i = 0; i < n; i++) {
		const struct top_agg *r = &m->routes[i];

		table_cell(&t, "%s", r->route);
		cell_count(&t, r->conns);
		table_cell(&t, "%zu", r->n_flows);
		table_cell(&t, "%s", fmt_rate(m, r->delta[0], up, sizeof(up)));
		table_cell(&t, "%s", fmt_rate(m, r->delta[1], down, sizeof(down)));
		table_cell(&t, "%s", r->snis);
	}
	err = emit_table(s, &t);
	table_free(&t);
	emit_more(s, m->n_routes, lines, "routes");
	return err;
}

static int emit_endpoints(struct screen *s, const struct top_frame *fr, size_t lines)
{
	static const char *const cols[] = {"ROUTE", "BACKEND", "ENDPOINT", "WEIGHT",
					   "CONNS", "FLOWS",   "UP/s",	   "DOWN/s"};
	static const size_t name_cols[] = {0, 1, (size_t)-1};
	const struct top_model *m = fr->m;
	size_t n = shown_rows(m->n_eps, lines);
	char up[16], down[16];
	struct table t;
	int err;

	if (!m->n_eps) {
		emitf(s, "no backends");
		return 0;
	}
	table_init(&t, cols, 8);
	for (size_t c = 3; c <= 7; c++)
		table_align_right(&t, c);
	set_caps(&t, fr, name_cols, NAME_CAP);
	for (size_t i = 0; i < n; i++) {
		const struct top_agg *r = &m->eps[i];

		table_cell(&t, "%s", r->route);
		table_cell(&t, "%s", r->backend);
		table_cell(&t, "%s", r->endpoint);
		cell_count(&t, r->weight);
		cell_count(&t, r->conns);
		table_cell(&t, "%zu", r->n_flows);
		table_cell(&t, "%s", fmt_rate(m, r->delta[0], up, sizeof(up)));
		table_cell(&t, "%s", fmt_rate(m, r->delta[1], down, sizeof(down)));
	}
	err = emit_table(s, &t);
	table_free(&t);
	emit_more(s, m->n_eps, lines, "backends");
	return err;
}

static void flow_cells(struct table *t, const struct top_flow *tf, uint64_t now_ns)
{
	const struct sg_flow *f = &tf->row->f;
	char buf[SG_FLOW_SNI_LEN], age[32], state[128], n1[16], n2[16];

	table_cell(t, "%s", flow_fmt_endpoint(f->client_addr, f->client_port, buf, sizeof(buf)));
	table_cell(t, "%s", flow_fmt_name(f->sni, sizeof(f->sni), buf, sizeof(buf)));
	table_cell(t, "%s", flow_fmt_name(f->route, sizeof(f->route), buf, sizeof(buf)));
	table_cell(t, "%s", flow_fmt_endpoint(f->backend_addr, f->backend_port, buf, sizeof(buf)));
	table_cell(t, "%s", flow_fmt_age(flow_age_ns(f, now_ns), age, sizeof(age)));
	if (tf->rate->is_known) {
		table_cell(t, "%s", fmt_bytes(tf->rate->per_s[0], n1, sizeof(n1)));
		table_cell(t, "%s", fmt_bytes(tf->rate->per_s[1], n2, sizeof(n2)));
	} else {
		table_cell(t, "-");
		table_cell(t, "-");
	}
	table_cell(t, "%s", fmt_bytes(f->bytes[SG_DIR_TO_BACKEND], n1, sizeof(n1)));
	table_cell(t, "%s", fmt_bytes(f->bytes[SG_DIR_TO_CLIENT], n2, sizeof(n2)));
	table_cell(t, "%s", flow_fmt_state(f, state, sizeof(state)));
}

static int emit_flows(struct screen *s, const struct top_frame *fr, size_t lines)
{
	static const char *const cols[] = {"CLIENT", "SNI",    "ROUTE",	   "BACKEND",	 "AGE",
					   "UP/s",   "DOWN/s", "BYTES_UP", "BYTES_DOWN", "STATE"};
	static const size_t sni_cols[] = {1, (size_t)-1}, name_cols[] = {2, (size_t)-1};
	const struct top_model *m = fr->m;
	size_t n = shown_rows(m->n_flows, lines);
	struct table t;
	int err;

	if (fr->flows_error)
		return 0; /* said on the summary line */
	if (!m->n_flows) {
		emitf(s, "no live flows");
		return 0;
	}
	table_init(&t, cols, 10);
	for (size_t c = 4; c <= 8; c++)
		table_align_right(&t, c);
	set_caps(&t, fr, sni_cols, SNI_CAP);
	set_caps(&t, fr, name_cols, NAME_CAP);
	for (size_t i = 0; i < n; i++)
		flow_cells(&t, &m->flows[i], fr->now_ns);
	err = emit_table(s, &t);
	table_free(&t);
	emit_more(s, m->n_flows, lines, "flows");
	return err;
}

static void emit_summary(struct screen *s, const struct top_frame *fr)
{
	const struct top_model *m = fr->m;
	const struct top_agent *a = fr->agent;
	char clock[16] = "", up[16], down[16];
	struct tm tm;

	if (localtime_r(&fr->wall, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	emitf(s, "sockgate top - %s - refresh #%lu every %gs - sort: %s%s", clock, fr->refresh,
	      fr->interval_s, top_sort_str(fr->sort),
	      fr->is_interactive ? " - keys: s sort, q quit" : "");
	if (a->is_up)
		emitf(s,
		      "agent: sockgated %s pid %ld, up %s, listeners %lu, routes %lu, "
		      "connections %lu, dataplane %s",
		      a->version, a->pid, flow_fmt_age(a->uptime_s * NS_PER_S, up, sizeof(up)),
		      a->n_listeners, a->n_routes, a->n_conns, a->dataplane);
	else
		emitf(s, "agent not answering: %s; routes and backends below are from live flows",
		      a->why);
	if (fr->flows_error)
		emitf(s, "flows: %s", fr->flows_error);
	else if (!m->elapsed_ns)
		emitf(s, "flows: %zu live, %zu closed in the map; rates from the next refresh",
		      m->n_flows, m->n_closed);
	else
		emitf(s, "flows: %zu live, %zu closed in the map; up %s/s, down %s/s", m->n_flows,
		      m->n_closed, fmt_rate(m, m->delta_total[0], up, sizeof(up)),
		      fmt_rate(m, m->delta_total[1], down, sizeof(down)));
}

/* Whether a blank line goes before each section: not on a terminal too
 * short for three rows a section with them. */
static bool has_blank_lines(const struct top_frame *fr)
{
	return !fr->rows || fr->rows >= N_SUMMARY_LINES + 2 * N_SECTIONS + 3 * N_SECTIONS;
}

/* Lines for each section's rows: on a terminal, routes and endpoints get up
 * to a quarter of the room each, flows the rest, and what one section does
 * not need goes to the others. */
static void budget(const struct top_frame *fr, const size_t need[N_SECTIONS],
		   size_t got[N_SECTIONS])
{
	int fixed = N_SUMMARY_LINES + (has_blank_lines(fr) ? 2 : 1) * N_SECTIONS;
	size_t room, quarter, spare;

	if (!fr->rows) {
		memcpy(got, need, N_SECTIONS * sizeof(*got));
		return;
	}
	room = fr->rows > fixed + N_SECTIONS ? (size_t)(fr->rows - fixed) : N_SECTIONS;
	quarter = room / 4 ? room / 4 : 1;
	got[SEC_ROUTES] = need[SEC_ROUTES] < quarter ? need[SEC_ROUTES] : quarter;
	got[SEC_EPS] = need[SEC_EPS] < quarter ? need[SEC_EPS] : quarter;
	got[SEC_FLOWS] = room - got[SEC_ROUTES] - got[SEC_EPS];
	if (got[SEC_FLOWS] <= need[SEC_FLOWS])
		return;
	spare = got[SEC_FLOWS] - need[SEC_FLOWS];
	got[SEC_FLOWS] = need[SEC_FLOWS];
	for (int i = SEC_ROUTES; i <= SEC_EPS; i++) {
		size_t take = need[i] - got[i] < spare ? need[i] - got[i] : spare;

		got[i] += take;
		spare -= take;
	}
}

int top_render(const struct top_frame *fr, FILE *out)
{
	const struct top_model *m = fr->m;
	struct screen s = {.out = out, .rows = fr->rows, .cols = fr->cols};
	size_t need[N_SECTIONS], got[N_SECTIONS];
	bool is_spaced = has_blank_lines(fr);
	int err;

	/* A table's header line is counted in the fixed lines; an empty
	 * section still takes one line to say so. */
	need[SEC_ROUTES] = m->n_routes ? m->n_routes : 1;
	need[SEC_EPS] = m->n_eps ? m->n_eps : 1;
	need[SEC_FLOWS] = m->n_flows ? m->n_flows : 1;
	budget(fr, need, got);
	emit_summary(&s, fr);
	if (is_spaced)
		emit(&s, "", 0);
	err = emit_routes(&s, fr, got[SEC_ROUTES]);
	if (is_spaced)
		emit(&s, "", 0);
	if (!err)
		err = emit_endpoints(&s, fr, got[SEC_EPS]);
	if (is_spaced)
		emit(&s, "", 0);
	if (!err)
		err = emit_flows(&s, fr, got[SEC_FLOWS]);
	return err;
}
