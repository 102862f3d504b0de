// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* metrics.c: see metrics.h. Scrapes are tiny HTTP/1.0 exchanges: read the
 * request head, write one response, close. Each is bounded in size and time. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "access_log.h"
#include "agent_state.h"
#include "conn_stats.h"
#include "guard_cmds.h"
#include "exchange.h"
#include "log.h"
#include "backend_health.h"
#include "inherited.h"
#include "metrics.h"
#include "metrics_agent.h"
#include "metrics_express.h"
#include "metrics_flows.h"
#include "metrics_health.h"
#include "metrics_probe.h"
#include "metrics_process.h"
#include "prom.h"
#include "resolver.h"
#include "sg_counters.h"

#define REQUEST_MAX	  4096
#define SCRAPE_TIMEOUT_MS 5000
#define METRICS_BACKLOG	  64
/* Scrapes served at once: Prometheus sends one per target at a time, so a
 * few cover several scrapers; past them a connection is closed at once. */
#define METRICS_MAX_SCRAPES 16

struct metrics {
	struct exchange_server *srv;
};

static const char *const bpf_counter_names[SG_CNT_MAX] = {
#define NAME(name, str) [SG_CNT_##name] = str,
	SG_COUNTER_LIST(NAME)
#undef NAME
};

static const char *const refuse_names[AGENT_REFUSE_MAX] = {
#define NAME(name, str) [AGENT_REFUSE_##name] = str,
	AGENT_REFUSE_LIST(NAME)
#undef NAME
};

static void write_admission(const struct agent *ag, FILE *f)
{
	fprintf(f, "# HELP sockgate_connections_refused_total Connections closed by admission "
		   "control, by limit: new ones reset right after accept, or the oldest pending "
		   "hello evicted for them; accept_error: accept() failed for lack of "
		   "descriptors or memory and the listener paused.\n"
		   "# TYPE sockgate_connections_refused_total counter\n");
	for (int i = 0; i < AGENT_REFUSE_MAX; i++)
		fprintf(f, "sockgate_connections_refused_total{reason=\"%s\"} %llu\n",
			refuse_names[i], (unsigned long long)agent_read(&ag->refused[i]));
	fprintf(f,
		"# HELP sockgate_connections_max Client connections the agent admits at once "
		"(--max-connections, or derived from the fd limit).\n"
		"# TYPE sockgate_connections_max gauge\n"
		"sockgate_connections_max %u\n"
		"# HELP sockgate_fd_limit The agent's soft RLIMIT_NOFILE, raised to the hard one "
		"at "
		"start.\n"
		"# TYPE sockgate_fd_limit gauge\n"
		"sockgate_fd_limit %llu\n",
		ag->max_conns, (unsigned long long)ag->fd_limit);
}

static void write_bpf_counters(const struct agent *ag, FILE *f)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sums[SG_CNT_MAX] = {0};
	bool has[SG_CNT_MAX] = {false};

	if (!ag->use_sockmap || ncpu <= 0)
		return;
	for (uint32_t key = 0; key < SG_CNT_MAX; key++) {
		uint64_t vals[ncpu];

		if (bpf_map_lookup_elem(ag->dp.counters_fd, &key, vals) < 0)
			continue;
		has[key] = true;
		for (int i = 0; i < ncpu; i++)
			sums[key] += vals[i];
	}
	/* event="redirect_bytes" is a byte count among event counts: it stays
	 * one release for the dashboards that use it (deprecated, docs/METRICS.md). */
	fprintf(f, "# HELP sockgate_bpf_events_total Events counted by the splice BPF programs.\n"
		   "# TYPE sockgate_bpf_events_total counter\n");
	for (uint32_t key = 0; key < SG_CNT_MAX; key++) {
		if (has[key])
			fprintf(f, "sockgate_bpf_events_total{event=\"%s\"} %llu\n",
				bpf_counter_names[key], (unsigned long long)sums[key]);
	}
	if (has[SG_CNT_REDIRECT_BYTES])
		fprintf(f,
			"# HELP sockgate_redirected_bytes_total Bytes the verdict program "
			"redirected between the sockets of spliced connections, both ways.\n"
			"# TYPE sockgate_redirected_bytes_total counter\n"
			"sockgate_redirected_bytes_total %llu\n",
			(unsigned long long)sums[SG_CNT_REDIRECT_BYTES]);
}

static void write_process(FILE *f)
{
	struct rusage ru;
	long pages = 0;
	FILE *statm = fopen("/proc/self/statm", "re");

	if (statm) {
		if (fscanf(statm, "%*s %ld", &pages) != 1)
			pages = 0;
		fclose(statm);
	}
	getrusage(RUSAGE_SELF, &ru);
	fprintf(f,
		"# HELP sockgate_agent_cpu_seconds_total CPU time of the agent process "
		"(deprecated: use process_cpu_seconds_total).\n"
		"# TYPE sockgate_agent_cpu_seconds_total counter\n"
		"sockgate_agent_cpu_seconds_total{mode=\"user\"} %ld.%06ld\n"
		"sockgate_agent_cpu_seconds_total{mode=\"system\"} %ld.%06ld\n"
		"# HELP sockgate_agent_resident_bytes Resident memory of the agent process "
		"(deprecated: use process_resident_memory_bytes).\n"
		"# TYPE sockgate_agent_resident_bytes gauge\n"
		"sockgate_agent_resident_bytes %ld\n",
		(long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec,
		(long)ru.ru_stime.tv_usec, pages * sysconf(_SC_PAGESIZE));
}

/* Whether a backend's name resolved; each endpoint's health is in
 * metrics_health.c. */
static void write_backends(const struct agent *ag, FILE *f)
{
	static const char *const names[] = {"route", "backend"};
	const struct config *cfg = ag->rt->cfg;

	fprintf(f, "# HELP sockgate_backend_endpoints_resolved Endpoints of a backend with an "
		   "address to connect to (0: the backend cannot take connections).\n"
		   "# TYPE sockgate_backend_endpoints_resolved gauge\n");
	for (size_t r = 0; r < cfg->n_routes; r++) {
		for (size_t b = 0; b < cfg->routes[r].n_backends; b++) {
			const struct cfg_backend *be = &cfg->routes[r].backends[b];
			char backend[BACKEND_NAME_MAX];
			const char *values[] = {cfg->routes[r].name, backend};
			size_t n = 0;

			backend_name(be, backend, sizeof(backend));
			for (size_t e = 0; e < be->n_endpoints; e++)
				n += be->endpoints[e].is_resolved;
			fputs("sockgate_backend_endpoints_resolved{", f);
			prom_write_labels(f, names, values, 2);
			fprintf(f, "} %zu\n", n);
		}
	}
}

static void write_access_log(const struct agent *ag, FILE *f)
{
	fprintf(f,
		"# HELP sockgate_access_log_dropped_total Access-log lines dropped because the "
		"writer's queue was full.\n"
		"# TYPE sockgate_access_log_dropped_total counter\n"
		"sockgate_access_log_dropped_total %llu\n"
		"# HELP sockgate_access_log_write_errors_total Failed writes of the access log "
		"(their lines are lost).\n"
		"# TYPE sockgate_access_log_write_errors_total counter\n"
		"sockgate_access_log_write_errors_total %llu\n",
		(unsigned long long)(ag->access_log ? access_log_dropped(ag->access_log) : 0),
		(unsigned long long)(ag->access_log ? access_log_write_errors(ag->access_log) : 0));
}

/* How the kernel spread connections over the workers (none with --workers 1). */
static void write_workers(const struct agent *ag, FILE *f)
{
	if (!ag->n_workers)
		return;
	fprintf(f, "# HELP sockgate_worker_accepted_total Client connections each worker "
		   "accepted.\n"
		   "# TYPE sockgate_worker_accepted_total counter\n");
	for (size_t i = 0; i < ag->n_workers; i++)
		fprintf(f, "sockgate_worker_accepted_total{worker=\"%zu\"} %llu\n", i,
			(unsigned long long)agent_read(&ag->workers[i]->accepted_here));
}

void metrics_write(const struct agent *ag, FILE *f)
{
	metrics_agent_write(ag, f);
	write_workers(ag, f);
	fprintf(f,
		"# HELP sockgate_connections_active Client connections open now.\n"
		"# TYPE sockgate_connections_active gauge\n"
		"sockgate_connections_active %zu\n",
		(size_t)agent_conns(ag));
	fprintf(f, "# HELP sockgate_hello_errors_total Malformed ClientHellos by reason.\n"
		   "# TYPE sockgate_hello_errors_total counter\n");
	for (int r = 1; r < CHELLO_REASON_MAX; r++)
		fprintf(f, "sockgate_hello_errors_total{reason=\"%s\"} %llu\n",
			chello_reason_str((enum chello_reason)r),
			(unsigned long long)agent_read(&ag->hello_errors[r]));
	fprintf(f,
		"# HELP sockgate_hello_peeks_total ClientHello peeks (recv with MSG_PEEK) that "
		"returned bytes.\n"
		"# TYPE sockgate_hello_peeks_total counter\n"
		"sockgate_hello_peeks_total %llu\n"
		"# HELP sockgate_hello_peek_bytes_total Bytes those peeks returned: each peek "
		"starts at the hello's first byte, so this stays within a small multiple of the "
		"hello bytes received however they are segmented.\n"
		"# TYPE sockgate_hello_peek_bytes_total counter\n"
		"sockgate_hello_peek_bytes_total %llu\n",
		(unsigned long long)agent_read(&ag->hello_peeks),
		(unsigned long long)agent_read(&ag->hello_peek_bytes));
	fprintf(f,
		"# HELP sockgate_bytes_total Bytes moved by finished connections (open ones: "
		"sockgate_route_open_bytes).\n"
		"# TYPE sockgate_bytes_total counter\n"
		"sockgate_bytes_total{direction=\"up\"} %llu\n"
		"sockgate_bytes_total{direction=\"down\"} %llu\n"
		"# HELP sockgate_user_copied_bytes_total Bytes of finished connections moved "
		"through the agent's own buffers: the copy before (or without) a promotion, and "
		"sockmap tails after a pause or half-close.\n"
		"# TYPE sockgate_user_copied_bytes_total counter\n"
		"sockgate_user_copied_bytes_total %llu\n"
		"# HELP sockgate_reloads_total Configuration reloads by result.\n"
		"# TYPE sockgate_reloads_total counter\n"
		"sockgate_reloads_total{result=\"ok\"} %llu\n"
		"sockgate_reloads_total{result=\"rejected\"} %llu\n",
		(unsigned long long)agent_read(&ag->bytes_total[0]),
		(unsigned long long)agent_read(&ag->bytes_total[1]),
		(unsigned long long)agent_read(&ag->copied_total),
		(unsigned long long)ag->n_reloads, (unsigned long long)ag->n_reloads_rejected);
	write_admission(ag, f);
	if (ag->stats)
		conn_stats_write(ag->stats, f);
	metrics_flows_write(ag, f);
	write_backends(ag, f);
	metrics_write_health(ag, f);
	resolver_metrics_write(ag->resolver, f);
	write_access_log(ag, f);
	write_bpf_counters(ag, f);
	metrics_write_express(ag, f);
	guard_metrics_write(ag, f);
	fprintf(f,
		"# HELP sockgate_metrics_shed_total Connections to /metrics closed unanswered "
		"because %d scrapes were already open.\n"
		"# TYPE sockgate_metrics_shed_total counter\n"
		"sockgate_metrics_shed_total %llu\n",
		METRICS_MAX_SCRAPES, ag->metrics ? exchange_shed(ag->metrics->srv) : 0);
	write_process(f);
	metrics_process_write(f);
}

/* A scrape is one HTTP/1.0 request head. */
static bool is_complete(const char *req, size_t len, bool eof)
{
	(void)len;
	(void)eof;
	return strstr(req, "\r\n\r\n") || strstr(req, "\n\n");
}

/* Whether the request line is "GET <path>" with or without a query. */
static bool is_get(const char *req, const char *path)
{
	size_t n = strlen(path);

	return strncmp(req, "GET ", 4) == 0 && strncmp(req + 4, path, n) == 0 &&
	       (req[4 + n] == ' ' || req[4 + n] == '?');
}

/* The body of the answer to req into f; returns its status line. */
static const char *route(const struct agent *ag, const char *req, FILE *f, bool *is_metrics)
{
	char why[128];

	*is_metrics = is_get(req, "/metrics");
	if (*is_metrics) {
		metrics_write(ag, f);
		return "200 OK";
	}
	/* It is the loop that answers: an agent that answers is alive. */
	if (is_get(req, "/healthz")) {
		fputs("ok\n", f);
		return "200 OK";
	}
	if (is_get(req, "/ready")) {
		bool ok = metrics_ready(ag, why, sizeof(why));

		fprintf(f, "%s\n", why);
		return ok ? "200 OK" : "503 Service Unavailable";
	}
	fprintf(f, "not found: try /metrics, /healthz or /ready\n");
	return "404 Not Found";
}

static char *respond(void *ctx, int fd, char *req, size_t len, size_t *resp_len)
{
	char *body = NULL, *head = NULL, *resp;
	size_t body_len = 0;
	FILE *f = open_memstream(&body, &body_len);
	const char *status;
	bool is_metrics;
	(void)fd;
	(void)len;

	if (!f)
		return NULL;
	status = route(ctx, req, f, &is_metrics);
	fclose(f);
	if (asprintf(&head,
		     "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n",
		     status, is_metrics ? "text/plain; version=0.0.4" : "text/plain",
		     body_len) < 0) {
		free(body);
		return NULL;
	}
	*resp_len = strlen(head) + body_len;
	resp = malloc(*resp_len);
	if (resp) {
		memcpy(resp, head, strlen(head));
		memcpy(resp + strlen(head), body, body_len);
	}
	free(head);
	free(body);
	return resp;
}

/* A head this large is not a scrape: close without answering. */
static const struct exchange_ops scrape_ops = {
	.max_request = REQUEST_MAX,
	.timeout_ms = SCRAPE_TIMEOUT_MS,
	.is_complete = is_complete,
	.respond = respond,
	.max_open = METRICS_MAX_SCRAPES,
};

/* "host:port", "[v6]:port" or ":port" into a bound, listening socket.
 * ":port" is 127.0.0.1: /metrics names routes, SNIs and backend addresses,
 * so serving every address takes an explicit 0.0.0.0 or [::]. */
static int listen_on(struct agent *ag, const char *addr)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
	char host[256] = "", *colon;
	const char *port;
	int fd, one = 1, err;

	if (strlen(addr) >= sizeof(host))
		return -EINVAL;
	strcpy(host, addr);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	port = colon + 1;
	if (host[0] == '[' && colon > host && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &res) != 0)
		return -EINVAL;
	/* Taken over from the previous agent: scrapes never meet a closed port. */
	fd = inherited_take_sock(ag->inherited, INHERITED_METRICS, res->ai_addr, res->ai_addrlen);
	if (fd >= 0) {
		freeaddrinfo(res);
		return fd;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		freeaddrinfo(res);
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 || listen(fd, METRICS_BACKLOG) == -1) {
		err = -errno;
		close(fd);
		freeaddrinfo(res);
		return err;
	}
	freeaddrinfo(res);
	return fd;
}

struct metrics *metrics_open(struct agent *ag, const char *addr)
{
	struct metrics *m;
	int fd = listen_on(ag, addr);

	if (fd < 0) {
		log_err("metrics on %s: %s", addr, strerror(-fd));
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return NULL;
	}
	m->srv = exchange_serve(ag->loop, fd, &scrape_ops, ag); /* closes fd on failure */
	if (!m->srv) {
		free(m);
		return NULL;
	}
	log_info("metrics on http://%s%s/metrics", addr[0] == ':' ? "127.0.0.1" : "", addr);
	return m;
}

int metrics_fd(const struct metrics *m)
{
	return m ? exchange_fd(m->srv) : -1;
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	exchange_close(m->srv);
	free(m);
}
