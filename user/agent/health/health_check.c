// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* health_check.c: see health_check.h. One probe per (route, endpoint), each
 * with one timer that is either the next check or the check's timeout. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "container_of.h"
#include "addr.h"
#include "loop.h"
#include "runtime.h"
#include "backend_health.h"
#include "conn_proxy.h"
#include "health_check.h"
#include "hello_build.h"
#include "log.h"

/* A TLS record header and the handshake type that follows it. */
#define TLS_RECORD_HANDSHAKE  0x16
#define TLS_RECORD_ALERT      0x15
#define TLS_HS_SERVER_HELLO   0x02
#define TLS_ANSWER_BYTES      6
#define HELLO_MAX	      (HELLO_BUILD_BASE_MAX + 2048)
#define FIRST_CHECK_SPREAD_MS 1000 /* first checks within a second, not all at once */

struct probe {
	struct health_checker *owner;
	const struct cfg_route *route; /* in owner->rt */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char addr_str[ADDR_STR_MAX];
	struct endpoint_health *state; /* in hc->health */
	struct loop_watch w;	       /* fd -1 between checks */
	struct loop_timer timer;       /* next check, or this check's timeout */
	bool is_hello_sent;
	uint8_t answer[TLS_ANSWER_BYTES];
	size_t answer_len;
};

struct sweep {
	struct health_checker *owner;
	const struct cfg_route *route;
	struct loop_timer timer;
};

struct health_checker {
	struct loop *loop;
	struct backend_health *health; /* the agent's: outlives the checker */
	struct runtime *rt;
	struct probe *probes;
	size_t n_probes;
	struct sweep *sweeps;
	size_t n_sweeps;
	uint64_t rng; /* xorshift64*, never 0 */
};

static uint64_t next_random(struct health_checker *hc)
{
	hc->rng ^= hc->rng >> 12;
	hc->rng ^= hc->rng << 25;
	hc->rng ^= hc->rng >> 27;
	return hc->rng * 0x2545f4914f6cdd1dull;
}

static void fill_random(struct health_checker *hc, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t r = next_random(hc);

		memcpy(buf + i, &r, len - i < 8 ? len - i : 8);
	}
}

static uint64_t jittered(struct health_checker *hc, uint64_t base, uint32_t jitter_ms)
{
	return base + (jitter_ms ? next_random(hc) % ((uint64_t)jitter_ms + 1) : 0);
}

static void close_socket(struct probe *p)
{
	struct linger rst = {.l_onoff = 1, .l_linger = 0};

	if (p->w.fd < 0)
		return;
	/* A reset leaves no TIME_WAIT behind a check every few seconds. */
	setsockopt(p->w.fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	loop_del(p->owner->loop, &p->w);
	close(p->w.fd);
	p->w.fd = -1;
}

static void finish(struct probe *p, bool ok, const char *why)
{
	const struct cfg_health_check *cfg = &p->route->health_check;
	struct health_checker *hc = p->owner;

	close_socket(p);
	switch (eh_check_result(p->state, cfg, ok, why)) {
	case EH_WENT_DOWN:
		log_warn("route %s: endpoint %s is down: %u %s checks failed in a row (last: %s)",
			 p->route->name, p->addr_str, cfg->fall, cfg_check_type_str(cfg->type),
			 why);
		break;
	case EH_CAME_UP:
		log_info("route %s: endpoint %s is up: %u %s checks passed in a row",
			 p->route->name, p->addr_str, cfg->rise, cfg_check_type_str(cfg->type));
		break;
	default:
		break;
	}
	loop_timer_arm(hc->loop, &p->timer, jittered(p->owner, cfg->interval_ms, cfg->jitter_ms));
}

static void send_hello(struct probe *p)
{
	const struct cfg_route *r = p->route;
	struct hello_spec spec = {.sni = r->health_check.sni,
				  .alpn = (const char *const *)r->alpn,
				  .n_alpn = r->n_alpn};
	uint8_t buf[PROXY_HEADER_MAX + HELLO_MAX];
	size_t pp_len = 0;
	ssize_t len, sent;

	fill_random(p->owner, spec.random, sizeof(spec.random));
	fill_random(p->owner, spec.session_id, sizeof(spec.session_id));
	fill_random(p->owner, spec.key_share, sizeof(spec.key_share));
	/* A backend that reads PROXY protocol wants the header before any byte. */
	if (r->proxy_protocol != CFG_PROXY_OFF &&
	    conn_proxy_check_header(p->w.fd, r->proxy_protocol, buf, PROXY_HEADER_MAX, &pp_len)) {
		finish(p, false, "proxy_header_failed");
		return;
	}
	len = hello_build(buf + pp_len, HELLO_MAX, &spec);
	if (len < 0) {
		finish(p, false, "hello_build_failed");
		return;
	}
	/* A fresh connection's send buffer takes a few hundred bytes whole. */
	len += (ssize_t)pp_len;
	sent = send(p->w.fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (sent != len) {
		finish(p, false, "send_failed");
		return;
	}
	p->is_hello_sent = true;
	loop_mod(p->owner->loop, &p->w, EPOLLIN | EPOLLRDHUP);
}

static void read_answer(struct probe *p)
{
	ssize_t n = recv(p->w.fd, p->answer + p->answer_len, sizeof(p->answer) - p->answer_len,
			 MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		finish(p, false, errno == ECONNRESET ? "reset" : "recv_failed");
		return;
	}
	if (n == 0) {
		finish(p, false, "closed");
		return;
	}
	p->answer_len += (size_t)n;
	if (p->answer[0] == TLS_RECORD_ALERT) {
		finish(p, false, "tls_alert");
		return;
	}
	if (p->answer[0] != TLS_RECORD_HANDSHAKE) {
		finish(p, false, "not_tls");
		return;
	}
	if (p->answer_len < TLS_ANSWER_BYTES)
		return;
	finish(p, p->answer[5] == TLS_HS_SERVER_HELLO,
	       p->answer[5] == TLS_HS_SERVER_HELLO ? NULL : "no_server_hello");
}

static void on_socket(struct loop_watch *w, uint32_t events)
{
	struct probe *p = container_of(w, struct probe, w);
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (p->is_hello_sent) {
		read_answer(p);
		return;
	}
	if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr || !(events & EPOLLOUT)) {
		finish(p, false, soerr == ECONNREFUSED ? "refused" : "connect_failed");
		return;
	}
	if (p->route->health_check.type == CFG_CHECK_TCP)
		finish(p, true, NULL);
	else
		send_hello(p);
}

static void start_check(struct probe *p)
{
	struct health_checker *hc = p->owner;
	int fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	p->is_hello_sent = false;
	p->answer_len = 0;
	if (fd < 0) {
		finish(p, false, "socket_failed");
		return;
	}
	p->w.fd = fd;
	if (loop_add(hc->loop, &p->w, EPOLLOUT) < 0) {
		close(fd);
		p->w.fd = -1;
		finish(p, false, "socket_failed");
		return;
	}
	if (connect(fd, (const struct sockaddr *)&p->addr, p->addr_len) < 0 &&
	    errno != EINPROGRESS) {
		finish(p, false, errno == ECONNREFUSED ? "refused" : "connect_failed");
		return;
	}
	loop_timer_arm(hc->loop, &p->timer, p->route->health_check.timeout_ms);
}

static void on_timer(struct loop_timer *t)
{
	struct probe *p = container_of(t, struct probe, timer);

	if (p->w.fd >= 0)
		finish(p, false, "timeout");
	else
		start_check(p);
}

static void on_sweep(struct loop_timer *t)
{
	struct sweep *s = container_of(t, struct sweep, timer);
	struct health_checker *hc = s->owner;
	uint64_t now = loop_now_ms();
	char addr[ADDR_STR_MAX];

	for (size_t b = 0; b < s->route->n_backends; b++) {
		const struct cfg_backend *be = &s->route->backends[b];

		for (size_t e = 0; e < be->n_endpoints; e++) {
			struct endpoint_health *h;

			if (!be->endpoints[e].is_resolved)
				continue;
			addr_format(&be->endpoints[e].addr, addr, sizeof(addr));
			h = backend_health_get(hc->health, s->route->name, addr);
			if (h)
				eh_sweep(h, now);
		}
	}
	loop_timer_arm(hc->loop, &s->timer, s->route->outlier.interval_ms);
}

static int add_probes(struct health_checker *hc, const struct cfg_route *r)
{

	for (size_t b = 0; b < r->n_backends; b++) {
		const struct cfg_backend *be = &r->backends[b];

		for (size_t e = 0; e < be->n_endpoints; e++) {
			const struct cfg_endpoint *ep = &be->endpoints[e];
			struct probe *p = &hc->probes[hc->n_probes];
			uint32_t spread;

			if (!ep->is_resolved)
				continue;
			*p = (struct probe){.owner = hc, .route = r, .addr_len = ep->addr_len};
			p->addr = ep->addr;
			p->w.fd = -1;
			p->w.on_event = on_socket;
			p->timer.on_expire = on_timer;
			addr_format(&ep->addr, p->addr_str, sizeof(p->addr_str));
			p->state = backend_health_get(hc->health, r->name, p->addr_str);
			if (!p->state)
				return -ENOMEM;
			hc->n_probes++;
			spread = r->health_check.interval_ms < FIRST_CHECK_SPREAD_MS
					 ? r->health_check.interval_ms
					 : FIRST_CHECK_SPREAD_MS;
			if (loop_timer_arm(hc->loop, &p->timer, jittered(hc, 0, spread)))
				return -ENOMEM;
		}
	}
	return 0;
}

static uint64_t seed(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s))
		s = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	return s ? s : 1;
}

struct health_checker *health_checker_new(struct loop *loop, struct backend_health *health,
					  struct runtime *rt)
{
	const struct config *c = rt->cfg;
	struct health_checker *hc;
	size_t n_probes = 0, n_sweeps = 0;

	for (size_t r = 0; r < c->n_routes; r++) {
		if (c->routes[r].health_check.type != CFG_CHECK_NONE)
			n_probes += cfg_route_n_resolved(&c->routes[r]);
		n_sweeps += c->routes[r].outlier.consecutive_errors > 0;
	}
	if (!n_probes && !n_sweeps)
		return NULL;
	hc = calloc(1, sizeof(*hc));
	if (!hc)
		goto nomem;
	hc->loop = loop;
	hc->health = health;
	hc->rt = runtime_get(rt);
	hc->rng = seed();
	hc->probes = calloc(n_probes ? n_probes : 1, sizeof(*hc->probes));
	hc->sweeps = calloc(n_sweeps ? n_sweeps : 1, sizeof(*hc->sweeps));
	if (!hc->probes || !hc->sweeps)
		goto nomem;
	for (size_t r = 0; r < c->n_routes; r++) {
		const struct cfg_route *route = &c->routes[r];

		if (route->health_check.type != CFG_CHECK_NONE && add_probes(hc, route))
			goto nomem;
		if (route->outlier.consecutive_errors) {
			struct sweep *s = &hc->sweeps[hc->n_sweeps++];

			*s = (struct sweep){.owner = hc, .route = route};
			s->timer.on_expire = on_sweep;
			if (loop_timer_arm(hc->loop, &s->timer, route->outlier.interval_ms))
				goto nomem;
		}
	}
	return hc;
nomem:
	log_err("health checks: out of memory: none run");
	health_checker_free(hc);
	return NULL;
}

void health_checker_free(struct health_checker *hc)
{
	if (!hc)
		return;
	for (size_t i = 0; i < hc->n_probes; i++) {
		close_socket(&hc->probes[i]);
		loop_timer_cancel(hc->loop, &hc->probes[i].timer);
	}
	for (size_t i = 0; i < hc->n_sweeps; i++)
		loop_timer_cancel(hc->loop, &hc->sweeps[i].timer);
	free(hc->probes);
	free(hc->sweeps);
	runtime_put(hc->rt);
	free(hc);
}
