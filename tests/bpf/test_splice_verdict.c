// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_splice_verdict.c: the sk_skb verdict program on real TCP sockets over
 * loopback. Checks that the order of docs/SOCKMAP.md, section "Splice order"
 * (peek, insert backend then client, kick) delivers the peeked bytes and later
 * ones exactly once, in
 * order, both ways, and that BPF counts the bytes on the flow. Needs root. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sg_abi.h"
#include "sg_counters.h"
#include "bpf_loader.h"
#include "sockpair.h"

struct pair {
	int client, agent_a; /* client <-> gateway's accepted socket */
	int agent_b, server; /* gateway's backend socket <-> backend */
};

static int listen_lo(uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	cr_assert_eq(listen(fd, 8), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void connect_pair(int *out_connected, int *out_accepted)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	uint16_t port;
	int lfd = listen_lo(&port), fd;

	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	*out_connected = fd;
	*out_accepted = accept(lfd, NULL, NULL);
	cr_assert(*out_accepted >= 0);
	close(lfd);
}

static uint64_t cookie_of(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
	return cookie;
}

/* Reads exactly len bytes or fails the test after 5 s without progress. */
static void read_exact(int fd, uint8_t *buf, size_t len, const char *what)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		cr_assert_eq(poll(&p, 1, 5000), 1, "%s: no data after %zu of %zu bytes", what, got,
			     len);
		n = recv(fd, buf + got, len - got, 0);
		cr_assert(n > 0, "%s: recv returned %zd after %zu of %zu bytes", what, n, got, len);
		got += (size_t)n;
	}
}

static void write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, 0);

		cr_assert(n > 0, "send: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
}

static uint64_t counter_sum(const struct bpf_dataplane *dp, enum sg_counter c)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1], sum = 0;
	uint32_t key = c;

	cr_assert_eq(bpf_map_lookup_elem(dp->counters_fd, &key, vals), 0);
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static void open_dataplane(struct bpf_dataplane *dp)
{
	cr_assert_eq(bpf_dataplane_open(dp, NULL), 0, "load and attach splice.bpf.o");
}

static void require_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_BPF, CAP_NET_ADMIN)");
}

Test(splice_verdict, peeked_bytes_and_later_bytes_arrive_once_in_order_both_ways)
{
	enum { HELLO = 517, LATER = 300000, REPLY = 200000 };
	static uint8_t sent_up[HELLO + LATER], got_up[HELLO + LATER];
	static uint8_t sent_down[REPLY], got_down[REPLY];
	struct bpf_dataplane dp;
	struct sg_flow flow = {.route_id = 7};
	struct sockpair sp;
	uint64_t flow_id = 42;
	struct pair p;
	uint8_t peek[HELLO];

	require_root();
	open_dataplane(&dp);
	connect_pair(&p.client, &p.agent_a);
	connect_pair(&p.agent_b, &p.server);
	fill_pattern(sent_up, sizeof(sent_up), 1);
	fill_pattern(sent_down, sizeof(sent_down), 2);

	/* The "ClientHello" is peeked by the agent, never consumed. */
	write_all(p.client, sent_up, HELLO);
	{
		struct pollfd pf = {.fd = p.agent_a, .events = POLLIN};

		cr_assert_eq(poll(&pf, 1, 5000), 1);
		cr_assert_gt(recv(p.agent_a, peek, sizeof(peek), MSG_PEEK), 0);
	}
	cr_assert_eq(sockpair_splice(&sp, &dp, p.agent_a, p.agent_b, flow_id, &flow, NULL), 0);

	write_all(p.client, sent_up + HELLO, LATER);
	read_exact(p.server, got_up, sizeof(got_up), "backend");
	cr_assert_arr_eq(got_up, sent_up, sizeof(sent_up), "client->backend bytes differ");

	write_all(p.server, sent_down, sizeof(sent_down));
	read_exact(p.client, got_down, sizeof(got_down), "client");
	cr_assert_arr_eq(got_down, sent_down, sizeof(sent_down), "backend->client bytes differ");

	cr_assert_eq(bpf_map_lookup_elem(dp.flows_fd, &flow_id, &flow), 0);
	cr_assert_eq(flow.bytes[SG_DIR_TO_BACKEND], sizeof(sent_up));
	cr_assert_eq(flow.bytes[SG_DIR_TO_CLIENT], sizeof(sent_down));
	cr_assert_eq(flow.route_id, 7);
	cr_assert_eq(counter_sum(&dp, SG_CNT_REDIRECT_BYTES), sizeof(sent_up) + sizeof(sent_down));
	cr_assert_eq(counter_sum(&dp, SG_CNT_PEER_MISSING), 0);

	sockpair_unsplice(&sp, &dp);
	close(p.client);
	close(p.agent_a);
	close(p.agent_b);
	close(p.server);
	bpf_dataplane_close(&dp);
}

Test(splice_verdict, socket_without_peer_keeps_its_bytes_queued)
{
	struct bpf_dataplane dp;
	struct pair p;
	uint64_t ca, fd_a;
	uint8_t buf[64] = "not forwarded", got[64];

	require_root();
	open_dataplane(&dp);
	connect_pair(&p.client, &p.agent_a);
	ca = cookie_of(p.agent_a);
	fd_a = (uint64_t)p.agent_a;
	cr_assert_eq(bpf_map_update_elem(dp.socks_fd, &ca, &fd_a, BPF_NOEXIST), 0);
	write_all(p.client, buf, sizeof(buf));
	/* SK_PASS without a peer: the bytes stay readable on the source socket. */
	read_exact(p.agent_a, got, sizeof(got), "source socket");
	cr_assert_arr_eq(got, buf, sizeof(buf));
	cr_assert_geq(counter_sum(&dp, SG_CNT_PEER_MISSING), 1);
	bpf_map_delete_elem(dp.socks_fd, &ca);
	close(p.client);
	close(p.agent_a);
	bpf_dataplane_close(&dp);
}

struct pump {
	int fd;
	uint8_t *buf;
	size_t len;
	bool is_sender;
	int err; /* 0, or errno of the failing call; EPIPE for an early EOF */
	atomic_bool is_done;
	atomic_bool *go; /* when set, waits for it before the first byte */
};

/* Sends or receives p->len bytes; criterion asserts only in the main thread. */
static void *pump_run(void *arg)
{
	struct pump *p = arg;
	size_t done = 0;

	while (p->go && !atomic_load(p->go))
		sched_yield();
	while (done < p->len && !p->err) {
		ssize_t n = p->is_sender ? send(p->fd, p->buf + done, p->len - done, 0)
					 : recv(p->fd, p->buf + done, p->len - done, 0);

		if (n > 0)
			done += (size_t)n;
		else
			p->err = n == 0 ? EPIPE : errno;
	}
	atomic_store(&p->is_done, true);
	return NULL;
}

Test(splice_verdict, flow_state_changes_while_bytes_flow_lose_no_count)
{
	enum { UP = 8 << 20, DOWN = 8 << 20 };
	static uint8_t sent_up[UP], got_up[UP], sent_down[DOWN], got_down[DOWN];
	struct bpf_dataplane dp;
	struct sg_flow flow = {0};
	struct sockpair sp;
	uint64_t flow_id = 43, final[SG_DIR_MAX] = {UP + 5, DOWN + 7};
	struct pump pumps[4];
	pthread_t threads[4];
	unsigned n_changes = 0;
	uint8_t flags = 0;
	struct pair p;

	require_root();
	open_dataplane(&dp);
	connect_pair(&p.client, &p.agent_a);
	connect_pair(&p.agent_b, &p.server);
	fill_pattern(sent_up, sizeof(sent_up), 3);
	fill_pattern(sent_down, sizeof(sent_down), 4);
	sockpair_flow_names(&flow, "sample.aliyun.com", "only");
	cr_assert_eq(sockpair_splice(&sp, &dp, p.agent_a, p.agent_b, flow_id, &flow, NULL), 0);

	pumps[0] = (struct pump){.fd = p.client, .buf = sent_up, .len = UP, .is_sender = true};
	pumps[1] = (struct pump){.fd = p.server, .buf = got_up, .len = UP};
	pumps[2] = (struct pump){.fd = p.server, .buf = sent_down, .len = DOWN, .is_sender = true};
	pumps[3] = (struct pump){.fd = p.client, .buf = got_down, .len = DOWN};
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&threads[i], NULL, pump_run, &pumps[i]), 0);
	/* The verdict counts on the senders' CPUs while this changes the state. */
	while (!atomic_load(&pumps[1].is_done) || !atomic_load(&pumps[3].is_done)) {
		flags = flags == SG_FLOW_F_PAUSED_UP ? SG_FLOW_F_HALF_CLOSED_DOWN
						     : SG_FLOW_F_PAUSED_UP;
		cr_assert_eq(sockpair_flow_set_flags(&sp, &dp, flags), 0);
		n_changes++;
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		cr_assert_eq(pumps[i].err, 0, "pump %d: %s", i, strerror(pumps[i].err));
	}
	cr_assert_arr_eq(got_up, sent_up, sizeof(sent_up), "client->backend bytes differ");
	cr_assert_arr_eq(got_down, sent_down, sizeof(sent_down), "backend->client bytes differ");

	cr_assert_gt(n_changes, 0);
	cr_assert_eq(bpf_map_lookup_elem(dp.flows_fd, &flow_id, &flow), 0);
	cr_assert_eq(flow.bytes[SG_DIR_TO_BACKEND], UP, "%u state changes", n_changes);
	cr_assert_eq(flow.bytes[SG_DIR_TO_CLIENT], DOWN, "%u state changes", n_changes);
	cr_assert_eq(flow.state, SG_FLOW_OPEN);
	cr_assert_eq(flow.flags, flags);
	cr_assert_str_eq(flow.sni, "sample.aliyun.com");
	cr_assert_str_eq(flow.route, "only");

	sockpair_unsplice(&sp, &dp);
	sockpair_flow_finalise(&sp, &dp, final, "client_reset");
	cr_assert_eq(bpf_map_lookup_elem(dp.flows_fd, &flow_id, &flow), 0);
	cr_assert_eq(flow.state, SG_FLOW_CLOSED);
	cr_assert_eq(flow.end, SG_FLOW_END_CLIENT_RESET);
	cr_assert_eq(flow.bytes[SG_DIR_TO_BACKEND], final[SG_DIR_TO_BACKEND]);
	cr_assert_eq(flow.bytes[SG_DIR_TO_CLIENT], final[SG_DIR_TO_CLIENT]);
	sockpair_flow_finalise(&sp, &dp, final, "not_a_listed_reason");
	cr_assert_eq(bpf_map_lookup_elem(dp.flows_fd, &flow_id, &flow), 0);
	cr_assert_eq(flow.end, SG_FLOW_END_OTHER);
	cr_assert_eq(sockpair_flow_set_flags(&sp, &dp, 0), 0);
	sockpair_flow_discard(&sp, &dp);
	cr_assert_eq(sockpair_flow_set_flags(&sp, &dp, SG_FLOW_F_PAUSED_UP), -ENOENT);

	close(p.client);
	close(p.agent_a);
	close(p.agent_b);
	close(p.server);
	bpf_dataplane_close(&dp);
}

Test(splice_verdict, long_route_names_keep_their_start_and_end)
{
	char name[301];
	struct sg_flow flow;

	for (size_t i = 0; i < sizeof(name) - 1; i++)
		name[i] = (char)('a' + i % 26);
	name[sizeof(name) - 1] = '\0';
	sockpair_flow_names(&flow, NULL, name);
	cr_assert_str_eq(flow.sni, "");
	cr_assert_eq(strlen(flow.route), sizeof(flow.route) - 1);
	cr_assert_eq(memcmp(flow.route, name, 62), 0);
	cr_assert_eq(memcmp(flow.route + 62, "...", 3), 0);
	cr_assert_str_eq(flow.route + 65, name + sizeof(name) - 1 - 62);

	name[sizeof(flow.route) - 1] = '\0'; /* the longest name that fits */
	sockpair_flow_names(&flow, "a.example.com", name);
	cr_assert_str_eq(flow.route, name);
	cr_assert_str_eq(flow.sni, "a.example.com");
}

/* The verdict spins this many bpf_loop() steps between its sg_peers lookup and
 * reading the element, which makes a race of a few nanoseconds (one a busy
 * host's interrupt or vCPU preemption can stretch) happen on every skb. */
#define SLOW_VERDICT_LOOPS 200000

static void pin_to_cpu(pthread_t t, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(t, sizeof(set), &set);
}

static void require_two_cpus(void)
{
	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs: the verdict and the agent must run side by side");
}

enum peer_writer { WRITE_IN_PLACE, WRITE_BY_REPLACING };

/* Streams UP bytes client -> backend through a slow verdict while this thread
 * re-arms both legs' sg_peers entries back to back, as the agent does right
 * after a splice (conn_pace_start). Returns the number of arms. */
static unsigned stream_while_arming(struct bpf_dataplane *dp, enum peer_writer how, uint64_t *stale)
{
	enum { UP = 16 << 20 };
	static uint8_t sent[UP], got[UP];
	struct sg_flow flow = {0};
	struct sockpair sp;
	struct pump pumps[2];
	pthread_t threads[2];
	unsigned n_arms = 0;
	atomic_bool go = false;
	struct pair p;
	uint8_t stray;

	connect_pair(&p.client, &p.agent_a);
	connect_pair(&p.agent_b, &p.server);
	fill_pattern(sent, sizeof(sent), 5);
	memset(got, 0, sizeof(got));
	cr_assert_eq(sockpair_splice(&sp, dp, p.agent_a, p.agent_b, 44, &flow, NULL), 0);
	pumps[0] =
		(struct pump){.fd = p.client, .buf = sent, .len = UP, .is_sender = true, .go = &go};
	pumps[1] = (struct pump){.fd = p.server, .buf = got, .len = UP};
	pin_to_cpu(pthread_self(), 1);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&threads[i], NULL, pump_run, &pumps[i]), 0);
	/* Loopback runs the verdict in the sender's softirq: keep it off this CPU. */
	pin_to_cpu(threads[0], 0);
	for (time_t end = time(NULL) + 30; !atomic_load(&pumps[1].is_done);) {
		if (time(NULL) > end) {
			/* Bytes went astray: unblock the pumps so the failure is reported. */
			shutdown(p.client, SHUT_RDWR);
			shutdown(p.server, SHUT_RDWR);
			break;
		}
		for (int leg = 0; leg < SOCKPAIR_LEGS; leg++) {
			if (how == WRITE_IN_PLACE) {
				cr_assert_eq(sockpair_arm(&sp, dp, leg, 1ull << 40), 0);
			} else {
				sp.peer[leg].notify_at = 1ull << 40;
				cr_assert_eq(bpf_map_update_elem(dp->peers_fd, &sp.cookie[leg],
								 &sp.peer[leg], BPF_EXIST),
					     0);
			}
			n_arms++;
		}
		atomic_store(&go, true); /* the sender starts once arming runs */
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(threads[i], NULL);
		cr_assert_eq(pumps[i].err, 0, "pump %d: %s (after %u arms)", i,
			     strerror(pumps[i].err), n_arms);
	}
	cr_assert_arr_eq(got, sent, sizeof(sent), "client->backend bytes differ");
	/* Nothing was sent to the client: any byte here went the wrong way. */
	cr_assert_eq(recv(p.client, &stray, 1, MSG_DONTWAIT), -1, "a byte reached the client");
	cr_assert_eq(counter_sum(dp, SG_CNT_BROKEN), 0);
	*stale = counter_sum(dp, SG_CNT_PEER_STALE);
	sockpair_unsplice(&sp, dp);
	close(p.client);
	close(p.agent_a);
	close(p.agent_b);
	close(p.server);
	return n_arms;
}

/* The agent arms a live pair in place (sg_peer_arm): no element of a live
 * pair is ever freed, so a verdict holding one always reads its own pair. */
Test(splice_verdict, arming_a_live_pair_never_frees_the_element_its_verdict_reads)
{
	struct bpf_dataplane dp;
	uint64_t stale = 0;
	unsigned n_arms;

	require_root();
	require_two_cpus();
	cr_assert_eq(bpf_dataplane_open_slow_verdict(&dp, SLOW_VERDICT_LOOPS), 0);
	n_arms = stream_while_arming(&dp, WRITE_IN_PLACE, &stale);
	cr_assert_gt(n_arms, 0);
	cr_assert_eq(stale, 0, "%llu stale reads in %u arms", (unsigned long long)stale, n_arms);
	bpf_dataplane_close(&dp);
}

/* A replacing update frees the old element into the CPU's spare slot and the
 * next replacing update reuses it for the other leg: a verdict still holding
 * it would send the client's bytes back to the client. The verdict sees the
 * key change, looks up again and forwards every byte to the right place. */
Test(splice_verdict, a_reused_peer_element_is_detected_and_looked_up_again)
{
	struct bpf_dataplane dp;
	uint64_t stale = 0;
	unsigned n_arms;

	require_root();
	require_two_cpus();
	cr_assert_eq(bpf_dataplane_open_slow_verdict(&dp, SLOW_VERDICT_LOOPS), 0);
	n_arms = stream_while_arming(&dp, WRITE_BY_REPLACING, &stale);
	cr_assert_gt(stale, 0, "no element was reused in %u replacing updates", n_arms);
	bpf_dataplane_close(&dp);
}
