// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_guard.c: the XDP guard (bpf/guard.bpf.c) run with BPF_PROG_TEST_RUN on
 * crafted frames, loaded and fed through the agent's own guard_bpf.c. Every
 * case states its frame, the verdict and the one counter that must move by
 * exactly one while every other stays put. Listeners: 10.0.0.1:443,
 * 10.0.0.1:8443 and [2001:db8::1]:443. Needs root. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "guard_bpf.h"
#include "guard_pkt.h"
#include "sg_guard.h"

#define LSN4  "10.0.0.1"
#define LSN6  "2001:db8::1"
#define OTHER "10.0.0.2"
#define SRC4  "192.0.2.10"
#define SRC6  "2001:db8:1:2::a"

static const char *const reason_names[SG_GUARD_R_MAX] = {
#define NAME(name, verdict, str) [SG_GUARD_R_##name] = str,
	SG_GUARD_REASON_LIST(NAME)
#undef NAME
};

static const int reason_xdp[SG_GUARD_R_MAX] = {
#define XDP(name, verdict, str)                                                                    \
	[SG_GUARD_R_##name] = (verdict) == SG_GUARD_DROP ? XDP_DROP : XDP_PASS,
	SG_GUARD_REASON_LIST(XDP)
#undef XDP
};

static struct guard_bpf g;

static void listen_at(struct guard_listen *l, const char *ip, uint16_t port)
{
	memset(l, 0, sizeof(*l));
	if (strchr(ip, ':')) {
		cr_assert_eq(inet_pton(AF_INET6, ip, l->addr), 1);
	} else {
		l->addr[10] = l->addr[11] = 0xff;
		cr_assert_eq(inet_pton(AF_INET, ip, &l->addr[12]), 1);
	}
	l->port = port;
}

static void set_cfg(uint32_t per_second, uint32_t burst, bool allow_only)
{
	struct sg_guard_cfg c;

	guard_bpf_make_cfg(per_second, burst, allow_only, &c);
	cr_assert_eq(guard_bpf_set_cfg(&g, &c), 0);
}

/* A SYN budget that never refills while a test runs: burst SYNs, then none,
 * whatever the test machine's speed (no timing in the assertions). */
static void set_burst_only(uint32_t burst)
{
	struct sg_guard_cfg c = {.syn_interval_ns = 1ull << 50};

	c.syn_tolerance_ns = (uint64_t)(burst - 1) * c.syn_interval_ns;
	cr_assert_eq(guard_bpf_set_cfg(&g, &c), 0);
}

static void load(void)
{
	struct guard_listen ls[3];

	if (geteuid() != 0)
		cr_skip_test("needs root (CAP_BPF, CAP_NET_ADMIN)");
	/* A private network namespace: the socket lookups of the guard see only
	 * the sockets a test makes, never the machine's. */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(guard_bpf_open(&g), 0);
	listen_at(&ls[0], LSN4, 443);
	listen_at(&ls[1], LSN4, 8443);
	listen_at(&ls[2], LSN6, 443);
	cr_assert_eq(guard_bpf_set_listeners(&g, ls, 3), 0);
	set_cfg(0, 0, false);
}

static void unload(void)
{
	guard_bpf_close(&g);
}

TestSuite(guard, .init = load, .fini = unload);

static void cidr(const char *s, struct cfg_cidr *c)
{
	char ip[64];
	const char *slash = strchr(s, '/');

	memset(c, 0, sizeof(*c));
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
	c->family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	cr_assert_eq(inet_pton(c->family, ip, c->addr), 1, "%s", s);
	c->prefix_len = (uint8_t)atoi(slash + 1);
}

static void rule(enum guard_list l, const char *s, bool is_add)
{
	struct cfg_cidr c;

	cidr(s, &c);
	cr_assert_eq(guard_bpf_rule(&g, l, &c, is_add), 0, "%s %s", guard_list_str(l), s);
}

static int run_frame(const uint8_t *buf, size_t len)
{
	uint8_t out[PKT_MAX + 64];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	cr_assert_eq(bpf_prog_test_run_opts(g.prog_fd, &o), 0, "test run: %s", strerror(errno));
	return (int)o.retval;
}

/* Runs one frame and checks its verdict and that counter want moved by one
 * and no other. what names the case in every message. */
static void expect_frame(const char *what, const uint8_t *buf, size_t len,
			 enum sg_guard_reason want)
{
	uint64_t before[SG_GUARD_R_MAX], after[SG_GUARD_R_MAX];
	int verdict;

	cr_assert_eq(guard_bpf_read_counters(&g, before), 0);
	verdict = run_frame(buf, len);
	cr_assert_eq(guard_bpf_read_counters(&g, after), 0);
	cr_expect_eq(verdict, reason_xdp[want], "%s: verdict %d, want %d (%s)", what, verdict,
		     reason_xdp[want], reason_names[want]);
	for (int r = 0; r < SG_GUARD_R_MAX; r++)
		cr_expect_eq(after[r] - before[r], r == (int)want ? 1u : 0u,
			     "%s: counter %s moved by %llu (want %s)", what, reason_names[r],
			     (unsigned long long)(after[r] - before[r]), reason_names[want]);
}

static void expect(const char *what, const struct pkt_spec *s, enum sg_guard_reason want)
{
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(s, buf);

	cr_assert_gt(len, 0, "%s: frame does not build", what);
	expect_frame(what, buf, len, want);
}

static struct pkt_spec syn(const char *src, const char *dst, uint16_t dport)
{
	return (struct pkt_spec){
		.src = src, .dst = dst, .sport = 40000, .dport = dport, .flags = PKT_SYN};
}

Test(guard, tcp_to_served_ports_passes_as_syn_or_served)
{
	struct pkt_spec s = syn(SRC4, LSN4, 443);

	expect("v4 SYN to :443", &s, SG_GUARD_R_SYN);
	s.dport = 8443;
	expect("v4 SYN to :8443", &s, SG_GUARD_R_SYN);
	s.flags = PKT_ACK;
	expect("v4 ACK to :8443", &s, SG_GUARD_R_SERVED);
	s.flags = PKT_ACK | PKT_PSH;
	s.payload = 100;
	expect("v4 data to :8443", &s, SG_GUARD_R_SERVED);
	s.flags = PKT_RST;
	s.payload = 0;
	expect("v4 RST to :8443", &s, SG_GUARD_R_SERVED);
	s.flags = PKT_SYN | PKT_ACK;
	expect("v4 SYN-ACK to :8443 (not a new connection)", &s, SG_GUARD_R_SERVED);
	s = syn(SRC6, LSN6, 443);
	expect("v6 SYN to :443", &s, SG_GUARD_R_SYN);
	s.flags = PKT_ACK | PKT_FIN;
	expect("v6 FIN to :443", &s, SG_GUARD_R_SERVED);
	s = syn(SRC4, LSN4, 443);
	s.vlan = 42;
	expect("802.1Q-tagged v4 SYN to :443", &s, SG_GUARD_R_SYN);
	s = syn(SRC6, LSN6, 443);
	s.v6_hop = true;
	expect("v6 SYN after a hop-by-hop header", &s, SG_GUARD_R_SYN);
}

Test(guard, other_destinations_and_protocols_pass_unjudged)
{
	struct pkt_spec s = syn(SRC4, OTHER, 443);
	uint8_t buf[PKT_MAX];
	size_t len;

	expect("v4 SYN to a non-listener address", &s, SG_GUARD_R_NOT_LISTENER);
	s.flags = 0;
	expect("v4 flagless TCP to a non-listener address", &s, SG_GUARD_R_NOT_LISTENER);
	s = syn(SRC6, "2001:db8::2", 443);
	expect("v6 SYN to a non-listener address", &s, SG_GUARD_R_NOT_LISTENER);
	s = (struct pkt_spec){.src = SRC4, .dst = LSN4, .proto = IPPROTO_UDP, .dport = 443};
	expect("v4 UDP to a listener address", &s, SG_GUARD_R_NOT_TCP);
	s = (struct pkt_spec){.src = SRC4, .dst = LSN4, .proto = IPPROTO_ICMP};
	expect("v4 ICMP echo to a listener address", &s, SG_GUARD_R_NOT_TCP);
	s = (struct pkt_spec){.src = SRC6, .dst = LSN6, .proto = IPPROTO_ICMPV6};
	expect("v6 ICMPv6 to a listener address", &s, SG_GUARD_R_NOT_TCP);
	s = (struct pkt_spec){.src = SRC4, .dst = LSN4, .proto = IPPROTO_UDP, .v4_frag = 0x2000};
	expect("v4 UDP fragment to a listener address", &s, SG_GUARD_R_NOT_TCP);

	s = syn(SRC4, LSN4, 443);
	len = pkt_build(&s, buf);
	pkt_put16(buf + 12, 0x0806);
	expect_frame("ARP frame", buf, len, SG_GUARD_R_NOT_IP);
	pkt_put16(buf + 12, 0x86DD);
	expect_frame("IPv6 ethertype over an IPv4 header", buf, 14 + 20, SG_GUARD_R_SHORT);
	s.vlan = 7;
	len = pkt_build(&s, buf);
	expect_frame("VLAN tag cut short", buf, 16, SG_GUARD_R_SHORT);
}

Test(guard, unserved_ports_drop_unless_a_host_socket_wants_them)
{
	struct pkt_spec s = syn(SRC4, LSN4, 22);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(2222)};
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	expect("v4 SYN to :22, no socket", &s, SG_GUARD_R_PORT_CLOSED);
	s.flags = PKT_ACK;
	s.dport = 40001;
	expect("v4 ACK to an unused ephemeral port", &s, SG_GUARD_R_PORT_CLOSED);
	s = syn(SRC6, LSN6, 80);
	expect("v6 SYN to :80, no socket", &s, SG_GUARD_R_PORT_CLOSED);

	/* Another service of the host on the same address. */
	cr_assert(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(lfd, 4), 0);
	s = syn(SRC4, LSN4, 2222);
	expect("v4 SYN to :2222 where another service listens", &s, SG_GUARD_R_HOST_SOCKET);
	s.dport = 2223;
	expect("v4 SYN to :2223, no socket", &s, SG_GUARD_R_PORT_CLOSED);
	close(lfd);
}

static void lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
}

/* The agent's own connection to a backend leaves from an ephemeral port of
 * an address a listener may share: the backend's answers must pass. */
Test(guard, replies_to_the_hosts_outbound_connections_pass)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct guard_listen ls;
	socklen_t len = sizeof(sa);
	int lfd, cfd, afd;
	char local[16], peer[16];
	struct pkt_spec s;

	lo_up();
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(lfd, 4), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	afd = accept(lfd, NULL, NULL);
	cr_assert(afd >= 0);
	close(lfd); /* the backend's port is not listened on any more: only the pair is left */
	listen_at(&ls, "127.0.0.1", 443); /* 127.0.0.1 is now a listener address */
	cr_assert_eq(guard_bpf_set_listeners(&g, &ls, 1), 0);
	len = sizeof(sa);
	cr_assert_eq(getsockname(cfd, (struct sockaddr *)&sa, &len), 0);
	inet_ntop(AF_INET, &sa.sin_addr, local, sizeof(local));
	s = (struct pkt_spec){.src = "127.0.0.1",
			      .dst = "127.0.0.1",
			      .flags = PKT_ACK | PKT_PSH,
			      .dport = ntohs(sa.sin_port),
			      .payload = 10};
	len = sizeof(sa);
	cr_assert_eq(getpeername(cfd, (struct sockaddr *)&sa, &len), 0);
	inet_ntop(AF_INET, &sa.sin_addr, peer, sizeof(peer));
	s.sport = ntohs(sa.sin_port);
	expect("data from the backend to the connection's ephemeral port", &s,
	       SG_GUARD_R_HOST_SOCKET);
	s.sport++;
	expect("the same port from another peer port", &s, SG_GUARD_R_PORT_CLOSED);
	close(cfd);
	close(afd);
}

Test(guard, fragments_to_listeners_drop)
{
	struct pkt_spec s = syn(SRC4, LSN4, 443);

	s.v4_frag = 0x2000;
	expect("v4 TCP first fragment (MF)", &s, SG_GUARD_R_FRAGMENT);
	s.v4_frag = 0x0010;
	expect("v4 TCP later fragment (offset 128)", &s, SG_GUARD_R_FRAGMENT);
	s.v4_frag = 0x4000; /* DF only: not a fragment */
	expect("v4 TCP with DF", &s, SG_GUARD_R_SYN);
	s = syn(SRC6, LSN6, 443);
	s.v6_frag = true;
	expect("v6 TCP in a fragment header", &s, SG_GUARD_R_FRAGMENT);
	s = syn(SRC4, OTHER, 443);
	s.v4_frag = 0x2000;
	expect("v4 TCP fragment to a non-listener", &s, SG_GUARD_R_NOT_LISTENER);
}

Test(guard, malformed_and_truncated_headers_to_listeners_drop)
{
	struct pkt_spec s = syn(SRC4, LSN4, 443);
	uint8_t buf[PKT_MAX];
	size_t len = pkt_build(&s, buf);

	expect_frame("v4 header cut after 10 bytes", buf, 14 + 10, SG_GUARD_R_SHORT);
	buf[14] = 0x44; /* ihl 4 */
	expect_frame("v4 ihl 4", buf, len, SG_GUARD_R_MALFORMED);
	buf[14] = 0x55; /* version 5 */
	expect_frame("v4 version 5", buf, len, SG_GUARD_R_MALFORMED);
	len = pkt_build(&s, buf);
	expect_frame("v4 total length past the frame", buf, len - 4, SG_GUARD_R_MALFORMED);
	pkt_put16(buf + 16, 20 + 10);
	expect_frame("TCP header cut at 10 bytes", buf, 14 + 30, SG_GUARD_R_MALFORMED);
	pkt_put16(buf + 16, 10);
	expect_frame("v4 total length below the header", buf, len, SG_GUARD_R_MALFORMED);
	s.doff = 4;
	len = pkt_build(&s, buf);
	expect_frame("TCP data offset 4", buf, len, SG_GUARD_R_MALFORMED);
	s.doff = 15;
	len = pkt_build(&s, buf);
	pkt_put16(buf + 16, 20 + 20); /* the IP length says 20 TCP bytes; doff says 60 */
	expect_frame("TCP data offset past the IP length", buf, 14 + 40, SG_GUARD_R_MALFORMED);

	s = syn(SRC6, LSN6, 443);
	len = pkt_build(&s, buf);
	expect_frame("v6 header cut after 30 bytes", buf, 14 + 30, SG_GUARD_R_SHORT);
	expect_frame("v6 payload length past the frame", buf, len - 1, SG_GUARD_R_MALFORMED);
	s.v6_hop = true;
	s.v6_hop_len = 20; /* 168 bytes of options in a 28-byte payload */
	len = pkt_build(&s, buf);
	pkt_put16(buf + 18, 8 + 20);
	expect_frame("v6 hop-by-hop header longer than the payload", buf, 14 + 40 + 28,
		     SG_GUARD_R_MALFORMED);

	s = syn(SRC4, OTHER, 443);
	len = pkt_build(&s, buf);
	buf[14] = 0x44;
	expect_frame("v4 ihl 4 to a non-listener: not ours to judge", buf, len,
		     SG_GUARD_R_NOT_LISTENER);
}

Test(guard, impossible_tcp_flags_drop)
{
	static const struct {
		uint8_t flags;
		const char *what;
	} bad[] = {{PKT_SYN | PKT_FIN, "SYN+FIN"},
		   {PKT_SYN | PKT_RST, "SYN+RST"},
		   {0, "no flags (null scan)"},
		   {PKT_FIN | PKT_PSH, "FIN+PSH without ACK (xmas)"}};
	struct pkt_spec s = syn(SRC4, LSN4, 443);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.flags = bad[i].flags;
		expect(bad[i].what, &s, SG_GUARD_R_TCP_FLAGS);
	}
}

Test(guard, deny_list_drops_its_sources_until_removed)
{
	struct pkt_spec s = syn("192.0.2.77", LSN4, 443);

	rule(GUARD_DENY, "192.0.2.0/24", true);
	rule(GUARD_DENY, "2001:db8:bad::/48", true);
	expect("v4 SYN from a denied /24", &s, SG_GUARD_R_DENY);
	s.flags = PKT_ACK;
	expect("v4 ACK from a denied /24", &s, SG_GUARD_R_DENY);
	s = syn("192.0.3.1", LSN4, 443);
	expect("v4 SYN from the next /24", &s, SG_GUARD_R_SYN);
	s = syn("192.0.2.77", LSN4, 22);
	expect("denied source to an unserved port: the port decides", &s, SG_GUARD_R_PORT_CLOSED);
	s = syn("192.0.2.77", OTHER, 443);
	expect("denied source to a non-listener", &s, SG_GUARD_R_NOT_LISTENER);
	s = syn("2001:db8:bad:1::5", LSN6, 443);
	expect("v6 SYN from a denied /48", &s, SG_GUARD_R_DENY);
	s = syn("2001:db8:bae::5", LSN6, 443);
	expect("v6 SYN from outside the /48", &s, SG_GUARD_R_SYN);

	rule(GUARD_DENY, "192.0.2.0/24", false);
	s = syn("192.0.2.77", LSN4, 443);
	expect("v4 SYN once the /24 is removed", &s, SG_GUARD_R_SYN);
	rule(GUARD_DENY, "192.0.2.77/32", true);
	expect("v4 SYN from a denied /32", &s, SG_GUARD_R_DENY);
}

Test(guard, a_non_empty_allow_list_admits_only_its_sources)
{
	struct pkt_spec s = syn("198.51.100.7", LSN4, 443);

	rule(GUARD_ALLOW, "198.51.100.0/24", true);
	rule(GUARD_ALLOW, "2001:db8:1::/48", true);
	expect("allowed source, flag off: allow list not in force", &s, SG_GUARD_R_SYN);
	set_cfg(0, 0, true);
	expect("v4 SYN from the allowed /24", &s, SG_GUARD_R_SYN);
	s = syn(SRC4, LSN4, 443);
	expect("v4 SYN from elsewhere", &s, SG_GUARD_R_NOT_ALLOWED);
	s.flags = PKT_ACK;
	expect("v4 ACK from elsewhere", &s, SG_GUARD_R_NOT_ALLOWED);
	s = syn(SRC6, LSN6, 443);
	expect("v6 SYN from the allowed /48", &s, SG_GUARD_R_SYN);
	s = syn("2001:db8:2::1", LSN6, 443);
	expect("v6 SYN from elsewhere", &s, SG_GUARD_R_NOT_ALLOWED);
	s = syn(SRC4, LSN4, 22);
	expect("not allowed, to an unserved port: the port decides", &s, SG_GUARD_R_PORT_CLOSED);
	rule(GUARD_DENY, "198.51.100.7/32", true);
	s = syn("198.51.100.7", LSN4, 443);
	expect("allowed and denied: deny wins", &s, SG_GUARD_R_DENY);
}

Test(guard, syn_rate_cuts_one_source_at_its_burst)
{
	struct pkt_spec s = syn(SRC4, LSN4, 443);
	struct pkt_spec other = syn("192.0.2.11", LSN4, 443);
	char what[64];

	set_burst_only(3);
	for (int i = 0; i < 3; i++) {
		snprintf(what, sizeof(what), "SYN %d of a burst of 3", i + 1);
		expect(what, &s, SG_GUARD_R_SYN);
	}
	expect("SYN 4: over the burst", &s, SG_GUARD_R_SYN_RATE);
	expect("SYN 5: over the burst", &s, SG_GUARD_R_SYN_RATE);
	s.flags = PKT_ACK;
	expect("an ACK of the same source is not limited", &s, SG_GUARD_R_SERVED);
	expect("another source has its own bucket", &other, SG_GUARD_R_SYN);
	s.flags = PKT_SYN;
	cr_assert_eq(guard_bpf_clear_syn(&g), 0);
	expect("after the table is cleared (a new rate): a full burst again", &s, SG_GUARD_R_SYN);
	expect("... and again", &s, SG_GUARD_R_SYN);
	set_cfg(0, 0, false);
	expect("limit removed at run time: the source passes again", &s, SG_GUARD_R_SYN);
}

Test(guard, an_ipv6_source_is_limited_by_its_64)
{
	struct pkt_spec s = syn("2001:db8:1:2::a", LSN6, 443);

	set_burst_only(2);
	expect("::a, first SYN", &s, SG_GUARD_R_SYN);
	s.src = "2001:db8:1:2::b";
	expect("::b of the same /64, second SYN", &s, SG_GUARD_R_SYN);
	s.src = "2001:db8:1:2:ffff::c";
	expect("a third address of the same /64", &s, SG_GUARD_R_SYN_RATE);
	s.src = "2001:db8:1:3::a";
	expect("the next /64", &s, SG_GUARD_R_SYN);
}

Test(guard, the_syn_table_is_bounded_by_its_lru)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	struct sg_guard_src key, next;
	size_t n = 0;
	uint8_t buf[PKT_MAX];
	char src[32];

	set_burst_only(1);
	cr_assert_eq(bpf_obj_get_info_by_fd(g.syn_fd, &info, &len), 0);
	cr_assert_eq(info.type, BPF_MAP_TYPE_LRU_HASH);
	cr_assert_eq(info.max_entries, SG_GUARD_SYN_SOURCES);
	/* More sources than entries: the table must stay within its size. */
	for (unsigned i = 0; i < SG_GUARD_SYN_SOURCES + 4096; i++) {
		struct pkt_spec s = syn(src, LSN4, 443);

		snprintf(src, sizeof(src), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		cr_assert_gt(pkt_build(&s, buf), 0);
		cr_assert_eq(run_frame(buf, pkt_build(&s, buf)), XDP_PASS, "source %s", src);
	}
	for (void *prev = NULL; bpf_map_get_next_key(g.syn_fd, prev, &next) == 0; prev = &key) {
		key = next;
		n++;
		cr_assert_leq(n, SG_GUARD_SYN_SOURCES);
	}
	cr_expect_gt(n, 0);
}

Test(guard, listener_changes_apply_without_reloading)
{
	struct guard_listen ls[2];
	struct pkt_spec s = syn(SRC4, OTHER, 443);

	expect("before: 10.0.0.2 is no listener", &s, SG_GUARD_R_NOT_LISTENER);
	listen_at(&ls[0], OTHER, 443);
	listen_at(&ls[1], LSN6, 8443);
	cr_assert_eq(guard_bpf_set_listeners(&g, ls, 2), 0);
	expect("after: 10.0.0.2:443 is served", &s, SG_GUARD_R_SYN);
	s.dst = LSN4;
	expect("after: 10.0.0.1 is no listener any more", &s, SG_GUARD_R_NOT_LISTENER);
	s = syn(SRC6, LSN6, 443);
	expect("after: [2001:db8::1]:443 is no longer served", &s, SG_GUARD_R_PORT_CLOSED);
	s.dport = 8443;
	expect("after: [2001:db8::1]:8443 is served", &s, SG_GUARD_R_SYN);
}

Test(guard_cfg, rate_and_burst_become_gcra_parameters)
{
	struct sg_guard_cfg c;

	guard_bpf_make_cfg(200, 400, true, &c);
	cr_expect_eq(c.syn_interval_ns, 5000000);
	cr_expect_eq(c.syn_tolerance_ns, 399ull * 5000000);
	cr_expect_eq(c.flags, SG_GUARD_F_ALLOW_ONLY);
	guard_bpf_make_cfg(0, 400, false, &c);
	cr_expect_eq(c.syn_interval_ns, 0, "no rate: no limit");
	cr_expect_eq(c.flags, 0);
	guard_bpf_make_cfg(3, 1, false, &c);
	cr_expect_eq(c.syn_interval_ns, 333333333);
	cr_expect_eq(c.syn_tolerance_ns, 0, "burst 1: one SYN at a time");
}
