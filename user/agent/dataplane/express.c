// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* express.c: see express.h. The hand-over's order and why each field is
 * what it is: docs/EXPRESS.md. */
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "bpf_loader.h"
#include "express.h"
#include "express.skel.h"
#include "express_reset.h"
#include "log.h"
#include "route_lookup.h"

#define MAX_ATTACHED	64 /* interfaces carrying express flows */
#define ADOPTED_IDLE_NS (3600ull * 1000000000ull)

/* Debian 12's libbpf (1.1) predates tcx; the kernel has it (6.6+). */
#define TCX_INGRESS_ATTACH 46 /* enum bpf_attach_type BPF_TCX_INGRESS */
#define TCX_EGRESS_ATTACH  47

struct attachment {
	int ifindex;
	int link_fd[2]; /* ingress: translation; egress: the sockets' silence */
};

struct express {
	struct sg_express *skel;
	int keys_fd, flows_fd, counters_fd;
	char pin_dir[256]; /* "" when nothing is pinned */
	pthread_mutex_t lock;
	/* Free slots, first in first out: a slot just released is the last
	 * one reused, so a packet still reading it on another CPU is long gone. */
	uint32_t *ring;
	size_t head, n_free;
	struct attachment att[MAX_ATTACHED];
	size_t n_att;
	/* Slots a previous agent left active: freed here once they end. Each
	 * holds a socket bound to the gateway's backend-side address and port
	 * of the flow, so no new connection of this host picks that port while
	 * the flow lives (its own socket died with the previous agent). */
	uint32_t *adopted;
	int *adopted_fd;
	size_t n_adopted;
	/* Flows that ended, kept translated a while for late retransmissions,
	 * their sockets still holding the tuples: freed by the root's sweep. */
	struct lingering *lingering;
	size_t n_lingering, cap_lingering;
	uint64_t refused[EXPRESS_REFUSED_MAX];
	uint64_t handed_over, active, resets_sent;
	struct express_raw raw; /* opened at start: the agent drops CAP_NET_RAW */
};

struct lingering {
	struct express_pair pair;
	int fd[2];
	uint64_t until_ns;
};

static void end_lingering(struct express *x, struct lingering *l);

/* One side of the pair as the hand-over sees it. */
struct leg {
	uint8_t local[16], peer[16]; /* v4-mapped for IPv4 */
	uint16_t lport, pport;	     /* network order */
	bool is_ipv6;		     /* on the wire */
	struct tcp_info ti;
	int oif; /* where packets to the peer leave, and its packets arrive */
	uint32_t snd_nxt, rcv_nxt, tsval;
};

static const char *const refusal_names[] = {
#define EXPRESS_REFUSAL_NAME(name, str) str,
	EXPRESS_REFUSAL_LIST(EXPRESS_REFUSAL_NAME)
#undef EXPRESS_REFUSAL_NAME
};

const char *express_refusal_name(enum express_refusal r)
{
	return r < EXPRESS_REFUSED_MAX ? refusal_names[r] : "other";
}

static int read_leg(int fd, struct leg *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -errno;
	addr_to16(&ss, l->local, &l->lport);
	l->is_ipv6 = !addr16_is_v4(l->local); /* a v4-mapped address is IPv4 on the wire */
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return -errno;
	addr_to16(&ss, l->peer, &l->pport);
	len = sizeof(l->ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &l->ti, &len) == -1)
		return -errno;
	return 0;
}

#ifndef TCPI_OPT_USEC_TS
#define TCPI_OPT_USEC_TS 64
#endif
#define OPTS_THAT_MUST_MATCH                                                                       \
	(TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE | TCPI_OPT_ECN | TCPI_OPT_USEC_TS)

/* Whether the two legs can be joined exactly: what the program cannot
 * translate must be the same on both (docs/EXPRESS.md, "What falls back"). */
static int judge(const struct leg *c, const struct leg *b, enum express_refusal *why)
{
	if (c->ti.tcpi_state != TCP_ESTABLISHED || b->ti.tcpi_state != TCP_ESTABLISHED)
		*why = EXPRESS_REFUSED_STATE;
	else if (c->is_ipv6 != b->is_ipv6)
		*why = EXPRESS_REFUSED_FAMILY;
	else if ((c->ti.tcpi_options & OPTS_THAT_MUST_MATCH) !=
		 (b->ti.tcpi_options & OPTS_THAT_MUST_MATCH))
		*why = EXPRESS_REFUSED_OPTIONS;
	else if (c->ti.tcpi_pmtu != b->ti.tcpi_pmtu || c->ti.tcpi_advmss != b->ti.tcpi_advmss)
		*why = EXPRESS_REFUSED_MTU;
	else
		return 0;
	return -1;
}

static void refuse(struct express *x, enum express_refusal why)
{
	pthread_mutex_lock(&x->lock);
	x->refused[why]++;
	pthread_mutex_unlock(&x->lock);
}

/* ---- attachments ---- */

static void link_path(const struct express *x, int ifindex, bool egress, char *path, size_t size)
{
	snprintf(path, size, "%s/express_tcx_%s_%d", x->pin_dir, egress ? "egress" : "ingress",
		 ifindex);
}

/* A pinned attachment from a previous agent now runs this agent's program;
 * one whose interface is gone is replaced. -1 when there is none. */
static int reuse_pinned(const char *path, int prog_fd)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return -1;
	if (bpf_link_update(fd, prog_fd, NULL) == 0)
		return fd;
	close(fd);
	unlink(path);
	return -1;
}

/* tcx, not a clsact filter: it runs beside other programs on the
 * interface (Cilium's, an operator's), each passing on what is not its. */
static int attach_one(struct express *x, int ifindex, bool egress)
{
	struct bpf_program *prog =
		egress ? x->skel->progs.sg_express_egress : x->skel->progs.sg_express;
	char path[320];
	int fd = -1;

	if (x->pin_dir[0]) {
		link_path(x, ifindex, egress, path, sizeof(path));
		fd = reuse_pinned(path, bpf_program__fd(prog));
		if (fd >= 0)
			return fd;
	}
	fd = bpf_link_create(
		bpf_program__fd(prog), ifindex,
		(enum bpf_attach_type)(egress ? TCX_EGRESS_ATTACH : TCX_INGRESS_ATTACH), NULL);
	if (fd < 0)
		return -errno;
	if (x->pin_dir[0] && bpf_obj_pin(fd, path))
		log_warn("express: pin %s: %s (flows on it end with the agent)", path,
			 strerror(errno));
	return fd;
}

/* Under x->lock. */
static int attach(struct express *x, int ifindex)
{
	struct attachment a = {.ifindex = ifindex};

	for (size_t i = 0; i < x->n_att; i++)
		if (x->att[i].ifindex == ifindex)
			return 0;
	if (x->n_att == MAX_ATTACHED)
		return -ENOSPC;
	a.link_fd[0] = attach_one(x, ifindex, false);
	if (a.link_fd[0] < 0)
		return a.link_fd[0];
	a.link_fd[1] = attach_one(x, ifindex, true);
	if (a.link_fd[1] < 0) {
		close(a.link_fd[0]);
		return a.link_fd[1];
	}
	x->att[x->n_att++] = a;
	log_info("express: attached at TC ingress and egress of interface %d", ifindex);
	return 0;
}

/* ---- slots ---- */

static bool claim(struct express *x, uint32_t slot)
{
	struct sg_xslot_claim_req req = {.slot = slot};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &req, .ctx_size_in = sizeof(req));

	return bpf_prog_test_run_opts(bpf_program__fd(x->skel->progs.sg_xslot_claim), &opts) == 0 &&
	       opts.retval == 0;
}

/* Under x->lock. A slot the kernel says another agent holds (the old one,
 * during a hot restart) goes to the back of the ring; a few tries, then
 * none. */
static bool take_slot(struct express *x, uint32_t *slot)
{
	for (int tries = 0; tries < 8 && x->n_free; tries++) {
		uint32_t s = x->ring[x->head];

		x->head = (x->head + 1) % SG_MAX_XFLOWS;
		if (claim(x, s)) {
			x->n_free--;
			*slot = s;
			return true;
		}
		x->ring[(x->head + x->n_free - 1) % SG_MAX_XFLOWS] = s;
	}
	return false;
}

static void give_slot(struct express *x, uint32_t slot)
{
	x->ring[(x->head + x->n_free) % SG_MAX_XFLOWS] = slot;
	x->n_free++;
}

/* The keys that lead to slot: the packets arriving from each peer, which
 * are the reverse of what the other direction sends that peer. */
static void keys_of(const struct sg_xflow *f, struct sg_xkey key[2])
{
	for (int d = 0; d < 2; d++) {
		const struct sg_xdir *o = &f->dir[1 - d];

		memset(&key[d], 0, sizeof(key[d]));
		memcpy(key[d].saddr, o->daddr, 16);
		memcpy(key[d].daddr, o->saddr, 16);
		key[d].sport = o->dport;
		key[d].dport = o->sport;
	}
}

/* ---- open and close ---- */

static int pin_maps(struct express *x)
{
	struct bpf_map *maps[] = {x->skel->maps.sg_xkeys, x->skel->maps.sg_xflows,
				  x->skel->maps.sg_xcounters};
	char path[320];
	int err = bpf_ensure_bpffs(x->pin_dir);

	if (!err)
		err = bpf_mkdir_p(x->pin_dir);
	for (size_t i = 0; !err && i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", x->pin_dir, bpf_map__name(maps[i]));
		err = bpf_drop_incompatible_pin(maps[i], path);
		if (!err)
			err = bpf_map__set_pin_path(maps[i], path);
	}
	return err;
}

/* A socket bound to the address and port the gateway used toward the
 * backend: -1 when that fails (then a new connection could collide). */
static int reserve_port(const struct sg_xflow *f)
{
	const struct sg_xdir *d = &f->dir[SG_DIR_TO_BACKEND];
	struct sockaddr_storage ss;
	socklen_t len = addr_from16(d->saddr, d->sport, &ss);
	int fd;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Slots a previous agent left in the pinned map are not reused until they
 * end; everything else is free. */
static int fill_slots(struct express *x)
{
	struct sg_xflow f;

	x->ring = calloc(SG_MAX_XFLOWS, sizeof(*x->ring));
	x->adopted = calloc(SG_MAX_XFLOWS, sizeof(*x->adopted));
	x->adopted_fd = calloc(SG_MAX_XFLOWS, sizeof(*x->adopted_fd));
	if (!x->ring || !x->adopted || !x->adopted_fd)
		return -ENOMEM;
	for (uint32_t s = 0; s < SG_MAX_XFLOWS; s++) {
		if (x->pin_dir[0] && bpf_map_lookup_elem(x->flows_fd, &s, &f) == 0 &&
		    f.state != SG_X_FREE) {
			x->adopted_fd[x->n_adopted] = reserve_port(&f);
			x->adopted[x->n_adopted++] = s;
			continue;
		}
		give_slot(x, s);
	}
	if (x->n_adopted)
		log_info("express: %zu flows left by a previous agent carry on", x->n_adopted);
	return 0;
}

int express_open(struct express **out, const char *pin_dir)
{
	struct express *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return -ENOMEM;
	pthread_mutex_init(&x->lock, NULL);
	x->raw = (struct express_raw){-1, -1};
	err = express_raw_open(&x->raw);
	if (err)
		log_warn("express: raw sockets: %s (a flow the agent ends itself is not reset; "
			 "its peers learn on their next packet)",
			 strerror(-err));
	if (pin_dir)
		snprintf(x->pin_dir, sizeof(x->pin_dir), "%s", pin_dir);
	x->skel = sg_express__open();
	if (!x->skel) {
		err = -errno;
		goto fail;
	}
	err = x->pin_dir[0] ? pin_maps(x) : 0;
	if (!err)
		err = sg_express__load(x->skel);
	if (err)
		goto fail;
	x->keys_fd = bpf_map__fd(x->skel->maps.sg_xkeys);
	x->flows_fd = bpf_map__fd(x->skel->maps.sg_xflows);
	x->counters_fd = bpf_map__fd(x->skel->maps.sg_xcounters);
	err = fill_slots(x);
	if (err)
		goto fail;
	*out = x;
	return 0;
fail:
	express_close(x);
	return err < 0 ? err : -EINVAL;
}

void express_close(struct express *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_lingering; i++)
		end_lingering(x, &x->lingering[i]);
	free(x->lingering);
	for (size_t i = 0; i < x->n_att; i++)
		close(x->att[i].link_fd[0]), close(x->att[i].link_fd[1]); /* pinned: stay */
	sg_express__destroy(x->skel);
	express_raw_close(&x->raw);
	for (size_t i = 0; x->adopted_fd && i < x->n_adopted; i++)
		if (x->adopted_fd[i] >= 0)
			close(x->adopted_fd[i]);
	free(x->ring);
	free(x->adopted);
	free(x->adopted_fd);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

void express_relink(struct express *x)
{
	int prog[2];

	if (!x)
		return;
	prog[0] = bpf_program__fd(x->skel->progs.sg_express);
	prog[1] = bpf_program__fd(x->skel->progs.sg_express_egress);
	pthread_mutex_lock(&x->lock);
	for (size_t i = 0; i < x->n_att; i++) {
		for (int e = 0; e < 2; e++) {
			if (bpf_link_update(x->att[i].link_fd[e], prog[e], NULL) < 0)
				log_warn("express: take back the TC link of interface %d: %s",
					 x->att[i].ifindex, strerror(errno));
		}
	}
	pthread_mutex_unlock(&x->lock);
}

/* ---- hand-over ---- */

static void fill_dir(struct sg_xdir *d, const struct leg *to)
{
	memcpy(d->saddr, to->local, 16);
	memcpy(d->daddr, to->peer, 16);
	d->sport = to->lport;
	d->dport = to->pport;
	d->ifindex = (uint32_t)to->oif;
}

static int route_peer(struct leg *l, enum express_refusal *why)
{
	struct route_answer r;

	if (route_lookup(l->peer, &r)) {
		*why = EXPRESS_REFUSED_ROUTE;
		return -1;
	}
	if (r.is_local) {
		*why = EXPRESS_REFUSED_LOCAL_PEER;
		return -1;
	}
	l->oif = r.oif;
	return 0;
}

int express_begin(struct express *x, struct express_pair *p, int client_fd, int backend_fd,
		  uint64_t flow_id, enum express_refusal *why)
{
	struct leg c = {0}, b = {0};
	int err;

	memset(p, 0, sizeof(*p));
	p->fd[SG_DIR_TO_BACKEND] = client_fd;
	p->fd[SG_DIR_TO_CLIENT] = backend_fd;
	if (read_leg(client_fd, &c) || read_leg(backend_fd, &b)) {
		*why = EXPRESS_REFUSED_STATE;
		goto refused;
	}
	if (judge(&c, &b, why) || route_peer(&c, why) || route_peer(&b, why))
		goto refused;

	pthread_mutex_lock(&x->lock);
	err = attach(x, c.oif);
	if (!err)
		err = attach(x, b.oif);
	if (err) {
		pthread_mutex_unlock(&x->lock);
		log_warn("express: attach: %s", strerror(-err));
		*why = EXPRESS_REFUSED_ATTACH;
		goto refused;
	}
	p->has_slot = take_slot(x, &p->slot);
	pthread_mutex_unlock(&x->lock);
	if (!p->has_slot) {
		*why = EXPRESS_REFUSED_NO_SLOT;
		goto refused;
	}

	for (int d = 0; d < 2; d++) {
		socklen_t len = sizeof(p->flow.sock_cookie[d]);

		if (getsockopt(p->fd[d], SOL_SOCKET, SO_COOKIE, &p->flow.sock_cookie[d], &len)) {
			*why = EXPRESS_REFUSED_STATE;
			pthread_mutex_lock(&x->lock);
			give_slot(x, p->slot);
			pthread_mutex_unlock(&x->lock);
			p->has_slot = false;
			goto refused;
		}
	}
	p->flow.flow_id = flow_id;
	p->flow.state = SG_X_PENDING;
	p->flow.is_ipv6 = c.is_ipv6;
	fill_dir(&p->flow.dir[SG_DIR_TO_BACKEND], &b);
	fill_dir(&p->flow.dir[SG_DIR_TO_CLIENT], &c);
	keys_of(&p->flow, p->key);
	/* The slot first: a packet that finds a key finds its flow pending. */
	if (bpf_map_update_elem(x->flows_fd, &p->slot, &p->flow, BPF_ANY) ||
	    bpf_map_update_elem(x->keys_fd, &p->key[0],
				&(struct sg_xref){.slot = p->slot, .dir = SG_DIR_TO_BACKEND},
				BPF_NOEXIST)) {
		*why = EXPRESS_REFUSED_MAP;
		express_abort(x, p);
		refuse(x, *why);
		return -1;
	}
	if (bpf_map_update_elem(x->keys_fd, &p->key[1],
				&(struct sg_xref){.slot = p->slot, .dir = SG_DIR_TO_CLIENT},
				BPF_NOEXIST)) {
		bpf_map_delete_elem(x->keys_fd, &p->key[0]);
		*why = EXPRESS_REFUSED_MAP;
		express_abort(x, p);
		refuse(x, *why);
		return -1;
	}
	return 0;
refused:
	refuse(x, *why);
	return -1;
}

/* Nothing waits to be read and no FIN came: the sockets' receive
 * sequence numbers are the streams' exact positions. */
static int leg_is_drained(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int inq = 0;

	if (ioctl(fd, SIOCINQ, &inq) == -1 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -errno;
	if (ti.tcpi_state != TCP_ESTABLISHED)
		return -EPIPE;
	return inq ? -EAGAIN : 0; /* arrived before the flow was pending: the copy reads it */
}

/* Every byte the socket sent has reached its peer: the socket saw the
 * acknowledgment, or the program did (on a segment it dropped). */
static bool leg_is_acked(int fd, uint32_t snd_nxt, uint64_t pending_ack)
{
	int outq = 0;

	if (ioctl(fd, SIOCOUTQ, &outq) == 0 && outq == 0)
		return true;
	return (pending_ack & SG_XDIR_ACK_KNOWN) && (int32_t)((uint32_t)pending_ack - snd_nxt) >= 0;
}

static int set_repair(int fd, int mode)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &mode, sizeof(mode)) == -1 ? -errno : 0;
}

/* Leaving repair mode resets the socket's SO_REUSEADDR to off; left so, an
 * accepted socket's TIME_WAIT would keep the listener's address from being
 * bound again by the next agent for a minute. reuse: what it was before. */
static void leave_repair(int fd, int reuse)
{
	int on = reuse ? 1 : 0;

	if (set_repair(fd, TCP_REPAIR_OFF_NO_WP) == 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
}

static int reuse_of(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &len);
	return v;
}

static int queue_seq(int fd, int queue, uint32_t *seq)
{
	socklen_t len = sizeof(*seq);

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)) == -1 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &len) == -1)
		return -errno;
	return 0;
}

/* In repair mode: the socket will send nothing more, not even at close. */
static int read_numbers(int fd, struct leg *l)
{
	socklen_t len = sizeof(l->tsval);
	int off = 0;
	int err;

	/* No keepalive probe may leave a socket the program speaks for. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &off, sizeof(off));
	err = set_repair(fd, 1);
	if (!err)
		err = queue_seq(fd, TCP_SEND_QUEUE, &l->snd_nxt);
	if (!err)
		err = queue_seq(fd, TCP_RECV_QUEUE, &l->rcv_nxt);
	if (!err && getsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &l->tsval, &len) == -1)
		err = -errno;
	if (!err)
		len = sizeof(l->ti),
		err = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &l->ti, &len) == -1 ? -errno : 0;
	return err;
}

/* dir: packets from `from`, rewritten into `to`'s connection. */
static void set_numbers(struct sg_xdir *d, const struct leg *from, const struct leg *to)
{
	d->seq_delta = to->snd_nxt - from->rcv_nxt;
	d->ack_delta = to->rcv_nxt - from->snd_nxt;
	d->wscale_in = from->ti.tcpi_snd_wscale;
	d->wscale_out = to->ti.tcpi_rcv_wscale;
	d->ts_base = to->tsval;
	d->next_seq = to->snd_nxt;
}

int express_finish(struct express *x, struct express_pair *p, enum express_refusal *why)
{
	struct leg c = {0}, b = {0};
	struct sg_xflow seen;
	int err;

	for (int d = 0; d < 2; d++) {
		err = leg_is_drained(p->fd[d]);
		if (err == -EAGAIN)
			return -EAGAIN;
		if (err) {
			*why = EXPRESS_REFUSED_NOT_QUIET;
			refuse(x, *why);
			return err;
		}
	}
	for (int d = 0; d < 2; d++)
		p->reuse[d] = reuse_of(p->fd[d]);
	err = read_numbers(p->fd[SG_DIR_TO_BACKEND], &c);
	if (!err)
		err = read_numbers(p->fd[SG_DIR_TO_CLIENT], &b);
	if (!err)
		err = express_read(x, p, &seen);
	if (err) {
		for (int d = 0; d < 2; d++)
			leave_repair(p->fd[d], p->reuse[d]);
		*why = EXPRESS_REFUSED_REPAIR;
		refuse(x, *why);
		return err;
	}
	/* The client's packets (dir 0) acknowledge what the client-side
	 * socket sent; the backend's, the backend-side socket's. */
	if (!leg_is_acked(p->fd[SG_DIR_TO_BACKEND], c.snd_nxt,
			  seen.dir[SG_DIR_TO_BACKEND].pending_ack) ||
	    !leg_is_acked(p->fd[SG_DIR_TO_CLIENT], b.snd_nxt,
			  seen.dir[SG_DIR_TO_CLIENT].pending_ack)) {
		for (int d = 0; d < 2; d++)
			leave_repair(p->fd[d], p->reuse[d]);
		return -EAGAIN;
	}
	set_numbers(&p->flow.dir[SG_DIR_TO_BACKEND], &c, &b);
	set_numbers(&p->flow.dir[SG_DIR_TO_CLIENT], &b, &c);
	/* Every field while still pending, then the state alone: a packet
	 * never sees an active flow with half-written numbers. */
	err = bpf_map_update_elem(x->flows_fd, &p->slot, &p->flow, BPF_ANY);
	p->flow.state = SG_X_ACTIVE;
	if (!err)
		err = bpf_map_update_elem(x->flows_fd, &p->slot, &p->flow, BPF_ANY);
	if (err) {
		err = -errno;
		p->flow.state = SG_X_PENDING;
		for (int d = 0; d < 2; d++)
			leave_repair(p->fd[d], p->reuse[d]);
		*why = EXPRESS_REFUSED_MAP;
		refuse(x, *why);
		return err;
	}
	pthread_mutex_lock(&x->lock);
	x->handed_over++;
	x->active++;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

static void free_slot(struct express *x, uint32_t slot)
{
	struct sg_xflow zero = {0};

	bpf_map_update_elem(x->flows_fd, &slot, &zero, BPF_ANY);
	pthread_mutex_lock(&x->lock);
	give_slot(x, slot);
	pthread_mutex_unlock(&x->lock);
}

/* Deletes p's keys and frees its slot; false when it had none. */
static bool drop_flow(struct express *x, struct express_pair *p)
{
	if (!p->has_slot)
		return false;
	bpf_map_delete_elem(x->keys_fd, &p->key[0]);
	bpf_map_delete_elem(x->keys_fd, &p->key[1]);
	free_slot(x, p->slot);
	p->has_slot = false;
	return true;
}

/* Repair mode is on only between express_finish()'s reads and an
 * activation, never when a hand-over is undone: nothing to leave. */
void express_abort(struct express *x, struct express_pair *p)
{
	drop_flow(x, p);
}

int express_read(struct express *x, const struct express_pair *p, struct sg_xflow *out)
{
	return bpf_map_lookup_elem(x->flows_fd, &p->slot, out) ? -errno : 0;
}

void express_release(struct express *x, struct express_pair *p)
{
	if (!drop_flow(x, p))
		return;
	pthread_mutex_lock(&x->lock);
	x->active--;
	pthread_mutex_unlock(&x->lock);
}

void express_hand_off(struct express *x, struct express_pair *p)
{
	struct sg_xflow f;

	/* Only a live flow is worth its risk (its four-tuples are free until
	 * the next agent reserves them): one that closed is released now. */
	if (p->has_slot && express_read(x, p, &f) == 0 && f.state == SG_X_ACTIVE)
		return;
	express_release(x, p);
}

void express_end(struct express *x, struct express_pair *p)
{
	struct sg_xflow f;
	bool live = p->has_slot && express_read(x, p, &f) == 0 && f.state == SG_X_ACTIVE;

	express_release(x, p);
	if (live && express_send_resets(&x->raw, &f) == 0) {
		pthread_mutex_lock(&x->lock);
		x->resets_sent++;
		pthread_mutex_unlock(&x->lock);
	}
}

int express_events_fd(struct express *x)
{
	return bpf_map__fd(x->skel->maps.sg_xevents);
}

int express_linger(struct express *x, struct express_pair *p, const int fd[2], uint64_t until_ns)
{
	int err = 0;

	pthread_mutex_lock(&x->lock);
	if (x->n_lingering == x->cap_lingering) {
		size_t cap = x->cap_lingering ? 2 * x->cap_lingering : 64;
		struct lingering *l = realloc(x->lingering, cap * sizeof(*l));

		if (l) {
			x->lingering = l;
			x->cap_lingering = cap;
		}
	}
	if (x->n_lingering < x->cap_lingering)
		x->lingering[x->n_lingering++] =
			(struct lingering){.pair = *p, .fd = {fd[0], fd[1]}, .until_ns = until_ns};
	else
		err = -ENOMEM;
	pthread_mutex_unlock(&x->lock);
	return err;
}

static void end_lingering(struct express *x, struct lingering *l)
{
	express_release(x, &l->pair);
	close(l->fd[0]); /* in repair mode: without a packet */
	close(l->fd[1]);
}

size_t express_sweep_lingering(struct express *x, uint64_t now_ns)
{
	size_t n = 0;

	for (;;) {
		struct lingering l;
		bool found = false;

		pthread_mutex_lock(&x->lock);
		for (size_t i = 0; i < x->n_lingering; i++) {
			if (x->lingering[i].until_ns > now_ns)
				continue;
			l = x->lingering[i];
			x->lingering[i] = x->lingering[--x->n_lingering];
			found = true;
			break;
		}
		pthread_mutex_unlock(&x->lock);
		if (!found)
			return n;
		end_lingering(x, &l);
		n++;
	}
}

void express_counts(struct express *x, uint64_t refused[EXPRESS_REFUSED_MAX], uint64_t *active,
		    uint64_t *handed_over, uint64_t *resets_sent)
{
	pthread_mutex_lock(&x->lock);
	*resets_sent = x->resets_sent;
	memcpy(refused, x->refused, sizeof(x->refused));
	*active = x->active + x->n_adopted;
	*handed_over = x->handed_over;
	pthread_mutex_unlock(&x->lock);
}

int express_bpf_counters(struct express *x, uint64_t out[SG_XCNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return -EINVAL;
	uint64_t *v = calloc((size_t)ncpu, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < SG_XCNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(x->counters_fd, &k, v) == 0)
			for (int i = 0; i < ncpu; i++)
				out[k] += v[i];
	}
	free(v);
	return 0;
}

/* A previous agent's flow ends like one of ours: linger_ns after it closed,
 * or after an hour without a packet. The differences are signed: now_ns is
 * the sweep's millisecond clock, so a busy flow's last packet (or its close)
 * is often stamped after it, and an unsigned difference would wrap to
 * "hours ago" and free a flow that is moving. */
static bool adopted_is_over(const struct sg_xflow *f, uint64_t now_ns, uint64_t linger_ns)
{
	uint64_t last =
		f->dir[0].last_ns > f->dir[1].last_ns ? f->dir[0].last_ns : f->dir[1].last_ns;

	if (f->state == SG_X_CLOSED)
		return (int64_t)(now_ns - f->closed_ns) >= (int64_t)linger_ns;
	return f->state != SG_X_ACTIVE || (int64_t)(now_ns - last) >= (int64_t)ADOPTED_IDLE_NS;
}

size_t express_sweep_adopted(struct express *x, uint64_t now_ns, uint64_t linger_ns)
{
	struct sg_xflow f;
	struct sg_xkey key[2];
	size_t freed = 0;

	for (size_t i = 0; i < x->n_adopted;) {
		uint32_t s = x->adopted[i];

		if (bpf_map_lookup_elem(x->flows_fd, &s, &f) == 0 &&
		    !adopted_is_over(&f, now_ns, linger_ns)) {
			i++;
			continue;
		}
		keys_of(&f, key);
		bpf_map_delete_elem(x->keys_fd, &key[0]);
		bpf_map_delete_elem(x->keys_fd, &key[1]);
		free_slot(x, s);
		if (x->adopted_fd[i] >= 0)
			close(x->adopted_fd[i]);
		pthread_mutex_lock(&x->lock);
		x->n_adopted--;
		x->adopted[i] = x->adopted[x->n_adopted];
		x->adopted_fd[i] = x->adopted_fd[x->n_adopted];
		pthread_mutex_unlock(&x->lock);
		freed++;
	}
	return freed;
}
