// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * guard_bench: nanoseconds per packet of the XDP guard (bpf/guard.bpf.c) on each verdict path,
 * measured with BPF_PROG_TEST_RUN repeat counts, against a two-instruction XDP_PASS program run
 * the same way (the cost of the test-run loop itself). Every path is checked: its counter must
 * have moved by exactly the number of runs, so a number never belongs to another path. Runs in
 * a private network namespace with a synthetic rule set (--rules N deny prefixes per family).
 * Prints a Markdown table for docs/BENCHMARKS.md. Needs root. `make bench-guard` runs it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "guard.skel.h"
#include "sg_guard.h"
#include "../bpf/guard_pkt.h"

#define ROUNDS 9

static const char usage_text[] =
	"usage: guard_bench [--repeat N] [--rules N]\n"
	"  N runs per round (default 1000000), 9 rounds; N deny prefixes\n"
	"  per family in the tries besides the ones the paths use (default 10000).\n";

static const char *const reason_names[SG_GUARD_R_MAX] = {
#define NAME(name, verdict, str) [SG_GUARD_R_##name] = str,
	SG_GUARD_REASON_LIST(NAME)
#undef NAME
};

struct bench {
	struct sg_guard *skel;
	int prog_fd, pass_fd, cnt_fd, cfg_fd;
	unsigned repeat;
};

enum setup {
	SETUP_OPEN = 0,	    /* no SYN limit, no allow list */
	SETUP_ALLOW_ONLY,   /* allow list in force */
	SETUP_SYN_LIMIT,    /* a SYN limit that always admits (CAS on every SYN) */
	SETUP_SYN_EXHAUSTED /* a SYN limit that never admits */
};

struct path {
	const char *name;
	struct pkt_spec spec;
	int ihl; /* nonzero: overwrite the IPv4 header length (malformed) */
	enum setup setup;
	enum sg_guard_reason want;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t counter(const struct bench *b, enum sg_guard_reason r)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1], sum = 0;
	__u32 key = r;

	if (ncpu <= 0 || bpf_map_lookup_elem(b->cnt_fd, &key, vals) < 0)
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

/* ns per run of prog, the median and the fastest of ROUNDS rounds (the
 * fastest is the steadier figure on a shared machine); -1 on failure. */
static double measure(const struct bench *b, int prog, const uint8_t *pkt, size_t len, int *retval,
		      double *min)
{
	uint64_t ns[ROUNDS];

	for (int r = 0; r < ROUNDS; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
			    .repeat = b->repeat);

		if (bpf_prog_test_run_opts(prog, &o) < 0) {
			fprintf(stderr, "guard_bench: test run: %s\n", strerror(errno));
			return -1;
		}
		ns[r] = o.duration;
		*retval = (int)o.retval;
	}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u64);
	*min = (double)ns[0];
	return (double)ns[ROUNDS / 2];
}

static void set_cfg(const struct bench *b, enum setup s)
{
	struct sg_guard_cfg c = {0};
	__u32 key = 0;

	if (s == SETUP_ALLOW_ONLY)
		c.flags = SG_GUARD_F_ALLOW_ONLY;
	if (s == SETUP_SYN_LIMIT) {
		c.syn_interval_ns = 1;
		c.syn_tolerance_ns = 1ull << 62;
	}
	if (s == SETUP_SYN_EXHAUSTED) {
		c.syn_interval_ns = 1ull << 50; /* one SYN every 13 days */
		c.syn_tolerance_ns = 0;
	}
	bpf_map_update_elem(b->cfg_fd, &key, &c, BPF_ANY);
}

static int add_lpm4(int fd, const char *ip, __u32 bits)
{
	struct sg_guard_lpm4 k = {.prefixlen = bits};
	__u8 one = 1;

	inet_pton(AF_INET, ip, k.addr);
	return bpf_map_update_elem(fd, &k, &one, BPF_ANY);
}

static int add_lpm6(int fd, const char *ip, __u32 bits)
{
	struct sg_guard_lpm6 k = {.prefixlen = bits};
	__u8 one = 1;

	inet_pton(AF_INET6, ip, k.addr);
	return bpf_map_update_elem(fd, &k, &one, BPF_ANY);
}

/* Listeners 10.0.0.1:443 and [2001:db8::1]:443; deny 192.0.2.0/24 and
 * 2001:db8:bad::/48 among n_rules random prefixes per family; allow
 * 198.51.100.0/24; a socket listening on :2222 (the host_socket path). */
static int fill_maps(struct bench *b, unsigned n_rules)
{
	struct sg_guard_addr a4 = {.addr = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1}}, a6 = {0};
	struct sg_guard_ports ports = {0};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(2222)};
	int deny4 = bpf_map__fd(b->skel->maps.sg_guard_deny4);
	int deny6 = bpf_map__fd(b->skel->maps.sg_guard_deny6);
	int lsn = bpf_map__fd(b->skel->maps.sg_guard_lsn), fd, err = 0;
	uint64_t seed = 88172645463325252ull;

	ports.bits[443 >> 6] |= 1ull << (443 & 63);
	inet_pton(AF_INET6, "2001:db8::1", a6.addr);
	err |= bpf_map_update_elem(lsn, &a4, &ports, BPF_ANY);
	err |= bpf_map_update_elem(lsn, &a6, &ports, BPF_ANY);
	for (unsigned i = 0; i < n_rules && !err; i++) {
		struct sg_guard_lpm4 k4 = {.prefixlen = 16 + (unsigned)(seed % 17)};
		struct sg_guard_lpm6 k6 = {.prefixlen = 32 + (unsigned)(seed % 97)};
		__u8 one = 1;

		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		memcpy(k4.addr, &seed, 4);
		k4.addr[0] = 100 + (k4.addr[0] & 63); /* clear of the addresses the paths use */
		memcpy(k6.addr, &seed, 8);
		k6.addr[0] = 0x3f;
		err |= bpf_map_update_elem(deny4, &k4, &one, BPF_ANY);
		err |= bpf_map_update_elem(deny6, &k6, &one, BPF_ANY);
	}
	err |= add_lpm4(deny4, "192.0.2.0", 24) | add_lpm6(deny6, "2001:db8:bad::", 48);
	err |= add_lpm4(bpf_map__fd(b->skel->maps.sg_guard_allow4), "198.51.100.0", 24);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (err || fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1)) {
		fprintf(stderr, "guard_bench: setting up maps and sockets failed\n");
		return -1;
	}
	return 0; /* fd stays open: the host socket of the host_socket path */
}

/* XDP_PASS in two instructions: what BPF_PROG_TEST_RUN costs by itself. */
static int load_pass(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "sg_bench_pass", "GPL", insns, 2, NULL);
}

static const struct path paths[] = {
	{"ARP frame", {.src = "192.0.2.10", .dst = "10.0.0.1"}, 0, SETUP_OPEN, SG_GUARD_R_NOT_IP},
	{"TCP to another address",
	 {.src = "203.0.113.9", .dst = "10.0.0.9", .dport = 443, .flags = PKT_ACK},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_NOT_LISTENER},
	{"UDP to a listener address",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .proto = IPPROTO_UDP, .dport = 53},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_NOT_TCP},
	{"v4 ACK to a served port",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 443, .flags = PKT_ACK, .payload = 64},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_SERVED},
	{"v6 ACK to a served port",
	 {.src = "2001:db8:2::9",
	  .dst = "2001:db8::1",
	  .dport = 443,
	  .flags = PKT_ACK,
	  .payload = 64},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_SERVED},
	{"v4 SYN, no SYN limit",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 443, .flags = PKT_SYN},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_SYN},
	{"v4 SYN within its rate",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 443, .flags = PKT_SYN},
	 0,
	 SETUP_SYN_LIMIT,
	 SG_GUARD_R_SYN},
	{"v6 SYN within its rate",
	 {.src = "2001:db8:2::9", .dst = "2001:db8::1", .dport = 443, .flags = PKT_SYN},
	 0,
	 SETUP_SYN_LIMIT,
	 SG_GUARD_R_SYN},
	{"v4 SYN over its rate",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 443, .flags = PKT_SYN},
	 0,
	 SETUP_SYN_EXHAUSTED,
	 SG_GUARD_R_SYN_RATE},
	{"v4 SYN, allowed source",
	 {.src = "198.51.100.7", .dst = "10.0.0.1", .dport = 443, .flags = PKT_SYN},
	 0,
	 SETUP_ALLOW_ONLY,
	 SG_GUARD_R_SYN},
	{"v4 SYN, source not allowed",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 443, .flags = PKT_SYN},
	 0,
	 SETUP_ALLOW_ONLY,
	 SG_GUARD_R_NOT_ALLOWED},
	{"v4 SYN, denied source",
	 {.src = "192.0.2.10", .dst = "10.0.0.1", .dport = 443, .flags = PKT_SYN},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_DENY},
	{"v6 SYN, denied source",
	 {.src = "2001:db8:bad::9", .dst = "2001:db8::1", .dport = 443, .flags = PKT_SYN},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_DENY},
	{"v4 SYN to an unserved port",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 8080, .flags = PKT_SYN},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_PORT_CLOSED},
	{"v4 SYN to a host service",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 2222, .flags = PKT_SYN},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_HOST_SOCKET},
	{"v4 TCP fragment",
	 {.src = "203.0.113.9",
	  .dst = "10.0.0.1",
	  .dport = 443,
	  .flags = PKT_ACK,
	  .v4_frag = 0x2000},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_FRAGMENT},
	{"v4 header length 16",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 443, .flags = PKT_ACK},
	 4,
	 SETUP_OPEN,
	 SG_GUARD_R_MALFORMED},
	{"v4 SYN+FIN",
	 {.src = "203.0.113.9", .dst = "10.0.0.1", .dport = 443, .flags = PKT_SYN | PKT_FIN},
	 0,
	 SETUP_OPEN,
	 SG_GUARD_R_TCP_FLAGS},
};

static void warm_up(const struct bench *b, const uint8_t *pkt, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len, .repeat = 1);

	bpf_prog_test_run_opts(b->prog_fd, &o);
}

static int run_path(const struct bench *b, const struct path *p, double base)
{
	uint8_t pkt[PKT_MAX];
	size_t len = pkt_build(&p->spec, pkt);
	uint64_t before, after;
	int retval = -1;
	double ns, min;

	if (!len)
		return -1;
	if (p->ihl)
		pkt[pkt_ip_off(&p->spec)] = (uint8_t)(0x40 | p->ihl);
	if (p->want == SG_GUARD_R_NOT_IP)
		pkt_put16(pkt + 12, 0x0806);
	set_cfg(b, p->setup);
	warm_up(b, pkt, len); /* also spends the one SYN an exhausted bucket still admits */
	before = counter(b, p->want);
	ns = measure(b, b->prog_fd, pkt, len, &retval, &min);
	after = counter(b, p->want);
	if (ns < 0)
		return -1;
	if (after - before != (uint64_t)b->repeat * ROUNDS) {
		fprintf(stderr, "guard_bench: %s: %s moved by %llu, not %llu: wrong path\n",
			p->name, reason_names[p->want], (unsigned long long)(after - before),
			(unsigned long long)b->repeat * ROUNDS);
		return -1;
	}
	printf("| %-28s | %-4s %-12s | %6.0f | %6.0f | %6.0f |\n", p->name,
	       retval == XDP_DROP ? "drop" : "pass", reason_names[p->want], min, ns, min - base);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = {.repeat = 1000000};
	unsigned n_rules = 10000;
	uint8_t pkt[PKT_MAX];
	int retval, rc = 0;
	double base, base_median;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--repeat"))
			b.repeat = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--rules"))
			n_rules = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			b.repeat = 0;
	}
	if (b.repeat == 0 || n_rules > SG_GUARD_MAX_RULES - 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "guard_bench: unshare(CLONE_NEWNET): %s (needs root)\n",
			strerror(errno));
		return 1;
	}
	b.skel = sg_guard__open_and_load();
	b.pass_fd = load_pass();
	if (!b.skel || b.pass_fd < 0) {
		fprintf(stderr, "guard_bench: loading the programs failed (needs root)\n");
		return 1;
	}
	b.prog_fd = bpf_program__fd(b.skel->progs.sg_xdp_guard);
	b.cnt_fd = bpf_map__fd(b.skel->maps.sg_guard_cnt);
	b.cfg_fd = bpf_map__fd(b.skel->maps.sg_guard_cfg);
	if (fill_maps(&b, n_rules))
		return 1;
	base_median = measure(&b, b.pass_fd, pkt, pkt_build(&paths[3].spec, pkt), &retval, &base);
	printf("BPF_PROG_TEST_RUN, %d rounds of %u runs, %u deny prefixes per family.\n"
	       "ns per packet: the fastest round, the median round, and the fastest minus the\n"
	       "baseline (the test-run loop alone).\n\n",
	       ROUNDS, b.repeat, n_rules + 1);
	printf("| %-28s | %-17s | %6s | %6s | %6s |\n", "path", "verdict", "min", "median",
	       "- base");
	printf("|------------------------------|-------------------|--------|--------|--------|\n");
	printf("| %-28s | %-17s | %6.0f | %6.0f | %6.0f |\n", "XDP_PASS, 2 instructions",
	       "(baseline)", base, base_median, 0.0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		rc |= run_path(&b, &paths[i], base);
	close(b.pass_fd);
	sg_guard__destroy(b.skel);
	return rc ? 1 : 0;
}
