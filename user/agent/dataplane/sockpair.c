// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockpair.c: see sockpair.h. The kernel gives no psock queue length, so the
 * drain test compares what the source received with what the destination got
 * acknowledged, both relative to baselines taken at splice time. */
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* glibc's tcp_info lacks the byte counters */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "sockpair.h"

/* include/net/tcp_states.h; linux/tcp.h, used for its tcp_info, lacks it. */
#define SOCKPAIR_TCP_ESTABLISHED 1

static int cookie_of(int fd, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) == -1 ? -errno : 0;
}

static int tcp_counters(int fd, uint64_t *received, uint64_t *acked)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	*received = *acked = 0;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -errno;
	*received = ti.tcpi_bytes_received;
	*acked = ti.tcpi_bytes_acked;
	return 0;
}

static uint64_t unsent_bytes(int fd)
{
	int outq = 0;

	if (ioctl(fd, SIOCOUTQ, &outq) == -1 || outq < 0)
		return 0;
	return (uint64_t)outq;
}

/* The drain position of a leg: bytes acked plus bytes still queued. An active
 * socket's bytes_acked counts its SYN and a passive one's does not, which is
 * why only differences from the baseline are ever compared. */
static int tx_position(int fd, uint64_t *pos)
{
	uint64_t received = 0, acked = 0;
	int err = tcp_counters(fd, &received, &acked);

	if (err)
		return err;
	*pos = acked + unsent_bytes(fd);
	return 0;
}

/* tx_position() at splice time, exact. A PROXY protocol header written just
 * before may still be in flight: an ack landing between tx_position()'s two
 * reads would make the baseline short by the header's length, and
 * sockpair_is_drained() would then forward a FIN that many bytes early. So
 * the sum is taken only while bytes_acked holds still around the queue read. */
static int tx_baseline(int fd, uint64_t *pos)
{
	for (int tries = 0; tries < 8; tries++) {
		uint64_t received, before, after, unsent;
		int err = tcp_counters(fd, &received, &before);

		if (err)
			return err;
		unsent = unsent_bytes(fd);
		err = tcp_counters(fd, &received, &after);
		if (err)
			return err;
		if (before == after) {
			*pos = before + unsent;
			return 0;
		}
	}
	return -EAGAIN;
}

static void kick(int fd)
{
	char c;

	/* A peek runs tcp_data_ready() when the receive queue is not empty, so
	 * bytes queued before the insert are handed to the verdict now rather
	 * than at the next segment (docs/SOCKMAP.md, section
	 * "Bytes queued before the insert need a kick"). */
	recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
}

/* sg_socks and sg_targets take the fd as an 8-byte value. */
static int map_insert(int map_fd, uint64_t cookie, int fd)
{
	uint64_t value = (uint64_t)fd;

	return bpf_map_update_elem(map_fd, &cookie, &value, BPF_NOEXIST) < 0 ? -errno : 0;
}

static int insert(const struct bpf_dataplane *dp, struct sockpair *p, enum sockpair_leg leg)
{
	int err = map_insert(dp->targets_fd, p->cookie[leg], p->fd[leg]);

	if (!err)
		p->is_inserted[leg] = true;
	return err;
}

static bool is_established(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	       ti.tcpi_state == SOCKPAIR_TCP_ESTABLISHED;
}

bool sockpair_leg_is_established(const struct sockpair *p, enum sockpair_leg leg)
{
	return is_established(p->fd[leg]);
}

static int forward(const struct bpf_dataplane *dp, struct sockpair *p, enum sockpair_leg leg)
{
	int err;

	/* sock_map_sk_state_allowed() should refuse a socket whose peer already
	 * ended its stream, but on 6.18 the insert succeeds and the kick then
	 * hands none of its queued bytes to the verdict: refuse it here, as the
	 * kernel documents. */
	if (!is_established(p->fd[leg]))
		return -EOPNOTSUPP;
	err = map_insert(dp->socks_fd, p->cookie[leg], p->fd[leg]);

	if (!err)
		p->is_forwarding[leg] = true;
	return err;
}

static enum sockpair_leg other_leg(enum sockpair_leg leg)
{
	return leg == SOCKPAIR_CLIENT ? SOCKPAIR_BACKEND : SOCKPAIR_CLIENT;
}

/* Copies a NUL-terminated name into a field of len bytes. A name that does
 * not fit keeps its start and its end: Istio route names differ at the end
 * (".tls[1]#2") and a namespace at the start. The "..." marker is not
 * escaped; a name of exactly len - 1 bytes with "..." at the same place reads
 * the same, which route names in practice never are. */
static void copy_name(char *field, size_t len, const char *name)
{
	static const char marker[] = "...";
	size_t n = strlen(name), head, tail;

	if (n < len) {
		memcpy(field, name, n + 1);
		return;
	}
	tail = (len - sizeof(marker)) / 2;
	head = len - sizeof(marker) - tail;
	memcpy(field, name, head);
	memcpy(field + head, marker, sizeof(marker) - 1);
	memcpy(field + head + sizeof(marker) - 1, name + n - tail, tail);
	field[len - 1] = '\0';
}

void sockpair_flow_names(struct sg_flow *f, const char *sni, const char *route)
{
	copy_name(f->sni, sizeof(f->sni), sni ? sni : "");
	copy_name(f->route, sizeof(f->route), route ? route : "");
}

int sockpair_splice(struct sockpair *p, const struct bpf_dataplane *dp, int client_fd,
		    int backend_fd, uint64_t flow_id, const struct sg_flow *flow,
		    const uint64_t consumed[SOCKPAIR_LEGS])
{
	struct sg_peer to_backend = {.flow_id = flow_id, .dir = SG_DIR_TO_BACKEND};
	struct sg_peer to_client = {.flow_id = flow_id, .dir = SG_DIR_TO_CLIENT};
	struct sg_flow entry = *flow;
	int err;

	memset(p, 0, sizeof(*p));
	p->fd[SOCKPAIR_CLIENT] = client_fd;
	p->fd[SOCKPAIR_BACKEND] = backend_fd;
	p->flow_id = flow_id;
	err = cookie_of(client_fd, &p->cookie[SOCKPAIR_CLIENT]);
	if (!err)
		err = cookie_of(backend_fd, &p->cookie[SOCKPAIR_BACKEND]);
	if (err)
		return err;
	to_backend.self_cookie = p->cookie[SOCKPAIR_CLIENT];
	to_backend.peer_cookie = p->cookie[SOCKPAIR_BACKEND];
	to_client.self_cookie = p->cookie[SOCKPAIR_BACKEND];
	to_client.peer_cookie = p->cookie[SOCKPAIR_CLIENT];
	p->peer[SOCKPAIR_CLIENT] = to_backend;
	p->peer[SOCKPAIR_BACKEND] = to_client;
	for (int leg = 0; consumed && leg < SOCKPAIR_LEGS; leg++) {
		p->base_rx[leg] = consumed[leg];
		p->base_redirected[leg] = consumed[leg];
		entry.bytes[p->peer[leg].dir & 1] = consumed[leg];
	}

	/* Written whole here, before either socket is in sg_socks: no verdict
	 * can be counting on it yet, so nothing is lost by replacing the value. */
	entry.state = SG_FLOW_OPEN;
	entry.flags = 0;
	entry.end = SG_FLOW_END_NONE;
	if (bpf_map_update_elem(dp->flows_fd, &flow_id, &entry, BPF_ANY) < 0 ||
	    bpf_map_update_elem(dp->peers_fd, &p->cookie[SOCKPAIR_CLIENT], &to_backend, BPF_ANY) <
		    0 ||
	    bpf_map_update_elem(dp->peers_fd, &p->cookie[SOCKPAIR_BACKEND], &to_client, BPF_ANY) <
		    0) {
		err = -errno;
		goto err_unsplice;
	}
	/* Baselines before the insert: nothing can move until the client leg is
	 * in the map and kicked, so no byte is counted on the wrong side. The
	 * receive baseline is what user space consumed: every byte a leg
	 * received beyond it, peeked ones included, is still to be forwarded. */
	for (int leg = 0; leg < SOCKPAIR_LEGS; leg++) {
		err = tx_baseline(p->fd[leg], &p->base_tx[leg]);
		if (err)
			goto err_unsplice;
	}
	/* Both legs become redirect targets first; then they start forwarding,
	 * backend first: the client's bytes cannot move before the client leg
	 * forwards, and a TLS server says nothing before the ClientHello. */
	err = insert(dp, p, SOCKPAIR_BACKEND);
	if (!err)
		err = insert(dp, p, SOCKPAIR_CLIENT);
	if (!err)
		err = forward(dp, p, SOCKPAIR_BACKEND);
	if (!err)
		err = forward(dp, p, SOCKPAIR_CLIENT);
	if (err)
		goto err_unsplice;
	kick(client_fd);
	kick(backend_fd);
	return 0;
err_unsplice:
	sockpair_unsplice(p, dp);
	sockpair_flow_discard(p, dp);
	return err;
}

bool sockpair_is_drained(const struct sockpair *p, enum sockpair_leg src)
{
	enum sockpair_leg dst = src == SOCKPAIR_CLIENT ? SOCKPAIR_BACKEND : SOCKPAIR_CLIENT;
	uint64_t rx = 0, ignored, tx = 0;

	if (tcp_counters(p->fd[src], &rx, &ignored) || tx_position(p->fd[dst], &tx))
		return false;
	/* bytes_received counts the FIN as one byte; the -1 removes it. The
	 * sent side counts bytes queued in TCP as sent: they are past the psock
	 * and a later shutdown() queues the FIN behind them. */
	return tx - p->base_tx[dst] + 1 >= rx - p->base_rx[src];
}

bool sockpair_is_stuck(const struct sockpair *p, const struct bpf_dataplane *dp)
{
	uint64_t bytes[SG_DIR_MAX] = {0}, rx = 0, ignored;

	if (is_established(p->fd[SOCKPAIR_CLIENT]))
		return false;
	if (sockpair_flow_bytes(p, dp, bytes) ||
	    bytes[SG_DIR_TO_BACKEND] != p->base_redirected[SOCKPAIR_CLIENT])
		return false;
	/* More than the FIN arrived and nothing moved: the kick did not run. */
	return tcp_counters(p->fd[SOCKPAIR_CLIENT], &rx, &ignored) == 0 &&
	       rx - p->base_rx[SOCKPAIR_CLIENT] > 1;
}

void sockpair_unsplice(struct sockpair *p, const struct bpf_dataplane *dp)
{
	/* Forwarding stops before the targets go, so no redirect meets a
	 * missing destination. */
	for (int leg = 0; leg < SOCKPAIR_LEGS; leg++) {
		if (p->is_forwarding[leg]) {
			bpf_map_delete_elem(dp->socks_fd, &p->cookie[leg]);
			p->is_forwarding[leg] = false;
		}
	}
	for (int leg = 0; leg < SOCKPAIR_LEGS; leg++) {
		if (p->is_inserted[leg]) {
			bpf_map_delete_elem(dp->targets_fd, &p->cookie[leg]);
			p->is_inserted[leg] = false;
		}
		if (p->cookie[leg])
			bpf_map_delete_elem(dp->peers_fd, &p->cookie[leg]);
	}
}

int sockpair_backlog(const struct sockpair *p, const struct bpf_dataplane *dp,
		     enum sockpair_leg src, uint64_t *backlog, uint64_t *redirected)
{
	uint64_t bytes[SG_DIR_MAX], tx = 0, written;
	int err = sockpair_flow_bytes(p, dp, bytes);

	if (!err)
		err = tx_position(p->fd[other_leg(src)], &tx);
	if (err)
		return err;
	*redirected = bytes[p->peer[src].dir & 1];
	written = tx - p->base_tx[other_leg(src)] + p->base_redirected[src];
	*backlog = *redirected > written ? *redirected - written : 0;
	return 0;
}

/* In place, through sg_peer_arm: replacing the element with a map update
 * would free the old one, and the next update would reuse it while this
 * pair's verdict may still be reading it (docs/SOCKMAP.md, section "Data
 * integrity"). */
int sockpair_arm(struct sockpair *p, const struct bpf_dataplane *dp, enum sockpair_leg src,
		 uint64_t redirected_mark)
{
	struct sg_peer_arm_req req = {.cookie = p->cookie[src],
				      .notify_at = redirected_mark ? redirected_mark : 1};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &req, .ctx_size_in = sizeof(req));

	if (bpf_prog_test_run_opts(dp->peer_arm_fd, &opts) < 0)
		return -errno;
	return opts.retval == 0 ? 0 : -ENOENT;
}

int sockpair_pause(struct sockpair *p, const struct bpf_dataplane *dp, enum sockpair_leg src)
{
	uint32_t req = SG_PAUSE_REQUESTED, state = 0;
	int err = -EAGAIN;

	if (!p->is_forwarding[src])
		return 0;
	if (!dp->pause_link)
		return -EOPNOTSUPP;
	if (bpf_map_update_elem(dp->pausereq_fd, &p->cookie[src], &req, BPF_ANY) < 0)
		return -errno;
	/* The kernel skips the callback when no option space is left; rare. */
	for (int tries = 0; tries < 3 && err == -EAGAIN; tries++) {
		if (send(p->fd[src], "", 0, MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
			err = -errno;
			break;
		}
		if (bpf_map_lookup_elem(dp->pausereq_fd, &p->cookie[src], &state) < 0) {
			err = -errno;
			break;
		}
		if (state == SG_PAUSE_DONE)
			err = 0;
		else if (state == SG_PAUSE_FAILED)
			err = -EIO;
	}
	bpf_map_delete_elem(dp->pausereq_fd, &p->cookie[src]);
	if (!err)
		p->is_forwarding[src] = false;
	return err;
}

int sockpair_resume(struct sockpair *p, const struct bpf_dataplane *dp, enum sockpair_leg src)
{
	int err;

	if (p->is_forwarding[src])
		return 0;
	err = forward(dp, p, src);
	if (err)
		return err;
	kick(p->fd[src]);
	return 0;
}

int sockpair_pending(const struct sockpair *p, const struct bpf_dataplane *dp,
		     enum sockpair_leg src, uint64_t *pending)
{
	uint64_t bytes[SG_DIR_MAX], rx = 0, ignored, done;
	int err = sockpair_flow_bytes(p, dp, bytes);

	if (!err)
		err = tcp_counters(p->fd[src], &rx, &ignored);
	if (err)
		return err;
	/* Both sides count from the splice's baselines. */
	done = bytes[p->peer[src].dir & 1] - p->base_redirected[src] + p->copied[src];
	rx -= p->base_rx[src];
	*pending = rx > done ? rx - done : 0;
	return 0;
}

/* One recv/send step of the tail copy; on the heap, the loop's stack stays small. */
#define TAIL_COPY_CHUNK	 (64 * 1024)
#define TAIL_COPY_ROUNDS 64

int sockpair_copy_tail(struct sockpair *p, const struct bpf_dataplane *dp, enum sockpair_leg src)
{
	enum sockpair_leg dst = other_leg(src);
	uint64_t backlog, redirected;
	uint8_t *buf;
	int err = sockpair_backlog(p, dp, src, &backlog, &redirected), r = 0;

	if (err)
		return err;
	if (backlog > 0)
		return 0; /* redirected bytes first, or the order breaks */
	buf = malloc(TAIL_COPY_CHUNK);
	if (!buf)
		return 0; /* try again at the next tick */
	for (int rounds = 0; rounds < TAIL_COPY_ROUNDS; rounds++) {
		ssize_t n = recv(p->fd[src], buf, TAIL_COPY_CHUNK, MSG_PEEK | MSG_DONTWAIT), sent;

		if (n == 0) {
			r = 1;
			break;
		}
		if (n == -1) {
			r = errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
			break;
		}
		sent = send(p->fd[dst], buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent == -1) {
			r = errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
			break;
		}
		/* Consume exactly what the destination took; the rest stays queued. */
		if (recv(p->fd[src], buf, (size_t)sent, MSG_DONTWAIT) != sent) {
			r = -EIO;
			break;
		}
		p->copied[src] += (uint64_t)sent;
		if (sent < n)
			break;
	}
	free(buf);
	return r;
}

/* Changes to state, flags and end go through sg_flow_set_state (splice.bpf.c)
 * while the pair forwards: a lookup-modify-update from here replaces the whole
 * value, and a verdict adding to bytes[] between the lookup and the update, or
 * into the element being replaced, would lose its count for good. That costs
 * one bpf() call, as a map update would, and only when the flags change. */
static int run_set_state(const struct bpf_dataplane *dp, uint64_t flow_id, uint8_t state,
			 uint8_t flags, uint8_t end)
{
	struct sg_flow_state_req req = {
		.flow_id = flow_id, .state = state, .flags = flags, .end = end};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &req, .ctx_size_in = sizeof(req));

	if (bpf_prog_test_run_opts(dp->flow_state_fd, &opts) < 0)
		return -errno;
	return opts.retval == 0 ? 0 : -ENOENT;
}

int sockpair_flow_set_flags(struct sockpair *p, const struct bpf_dataplane *dp, uint8_t flags)
{
	int err;

	if (flags == p->flow_flags)
		return 0;
	err = run_set_state(dp, p->flow_id, SG_FLOW_OPEN, flags, SG_FLOW_END_NONE);
	if (!err)
		p->flow_flags = flags;
	return err;
}

static uint8_t end_of(const char *reason)
{
	static const char *const names[] = {
#define SG_FLOW_END_NAME(name, str) [name] = str,
		SG_FLOW_END_LIST(SG_FLOW_END_NAME)
#undef SG_FLOW_END_NAME
	};

	if (!reason)
		return SG_FLOW_END_NONE;
	for (size_t i = 0; i < SG_FLOW_END_MAX; i++) {
		if (strcmp(reason, names[i]) == 0)
			return (uint8_t)i;
	}
	return SG_FLOW_END_OTHER;
}

/* Here a lookup-modify-update is the way: both sockets left sg_socks and
 * sg_peers, so no verdict starts counting on this entry any more, and the
 * bytes written are the final ones, the agent's copies included. */
void sg_flow_finalise(const struct bpf_dataplane *dp, uint64_t flow_id,
		      const uint64_t bytes[SG_DIR_MAX], const char *end_reason)
{
	struct sg_flow flow;

	if (bpf_map_lookup_elem(dp->flows_fd, &flow_id, &flow) < 0)
		return;
	memcpy(flow.bytes, bytes, sizeof(flow.bytes));
	flow.state = SG_FLOW_CLOSED;
	flow.end = end_of(end_reason);
	bpf_map_update_elem(dp->flows_fd, &flow_id, &flow, BPF_EXIST);
}

void sockpair_flow_finalise(const struct sockpair *p, const struct bpf_dataplane *dp,
			    const uint64_t bytes[SG_DIR_MAX], const char *end_reason)
{
	sg_flow_finalise(dp, p->flow_id, bytes, end_reason);
}

void sockpair_flow_discard(const struct sockpair *p, const struct bpf_dataplane *dp)
{
	bpf_map_delete_elem(dp->flows_fd, &p->flow_id);
}

int sockpair_flow_bytes(const struct sockpair *p, const struct bpf_dataplane *dp,
			uint64_t bytes[SG_DIR_MAX])
{
	struct sg_flow flow;

	if (bpf_map_lookup_elem(dp->flows_fd, &p->flow_id, &flow) < 0)
		return -errno;
	memcpy(bytes, flow.bytes, sizeof(flow.bytes));
	return 0;
}
