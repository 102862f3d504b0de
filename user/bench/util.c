// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* util.c: see util.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cfg_value.h"
#include "util.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bench_parse_addr(const char *opt, const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct cfg_hostport hp;
	enum cfg_addr_result r = cfg_parse_hostport(s, &hp);

	if (r != CFG_ADDR_OK || !hp.is_ip) {
		fprintf(stderr, "sockgate-bench: %s %s: %s\n", opt, s,
			r != CFG_ADDR_OK ? cfg_addr_result_str(r)
					 : "expected an IP address and port, not a name");
		return -EINVAL;
	}
	*ss = hp.addr;
	*len = hp.addr_len;
	return 0;
}

static int range_check(const char *opt, const char *s, int err, const uint64_t *v, uint64_t min,
		       uint64_t max, const char *what)
{
	if (err || *v < min || *v > max) {
		fprintf(stderr, "sockgate-bench: %s %s: expected %s from %llu to %llu\n", opt, s,
			what, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

int bench_parse_count(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	int err = cfg_parse_u64(s, out);

	return range_check(opt, s, err, out, min, max, "a whole number");
}

int bench_parse_size(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	int err = cfg_parse_size(s, out);

	return range_check(opt, s, err, out, min, max, "a size in bytes (K, M, G suffixes)");
}

int bench_parse_duration(const char *opt, const char *s, uint64_t *out_ms)
{
	if (cfg_parse_duration_ms(s, out_ms) != 0 || *out_ms == 0) {
		fprintf(stderr, "sockgate-bench: %s %s: expected a duration such as 5s or 250ms\n",
			opt, s);
		return -EINVAL;
	}
	return 0;
}

unsigned bench_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > BENCH_MAX_THREADS ? BENCH_MAX_THREADS : (unsigned)n;
}

int bench_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, fd, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)ss, len) == -1 && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int bench_sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return errno;
	return err;
}

void bench_watch_out(int epfd, int fd, void *ptr, bool *is_on, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0),
				 .data.ptr = ptr};

	if (*is_on == on)
		return;
	*is_on = on;
	epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

void bench_abort_fd(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

void bench_json_latency(FILE *f, const char *name, const struct latency_hist *h)
{
	static const struct {
		const char *key;
		double q;
	} qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};

	fprintf(f, "\"%s\":{", name);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		fprintf(f, "\"%s\":%.3f,", qs[i].key,
			(double)latency_hist_quantile(h, qs[i].q) / 1000.0);
	fprintf(f, "\"max\":%.3f,\"mean\":%.3f}", (double)h->max_ns / 1000.0,
		h->count ? (double)h->sum_ns / (double)h->count / 1000.0 : 0.0);
}

void bench_cpu_self(double *user_s, double *sys_s)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
