/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* util.h: small helpers every sockgate-bench role uses: the clock, argument
 * values, socket setup and the JSON form of a latency histogram. */
#ifndef SG_BENCH_UTIL_H
#define SG_BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "latency_hist.h"

#define BENCH_MAX_THREADS 64

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* An IP literal with a port ("10.0.0.1:443", "[fd00::1]:443") into *ss.
 * Prints why to stderr and returns -EINVAL otherwise. */
int bench_parse_addr(const char *opt, const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* Positive counts, sizes ("64K") and durations ("5s", "250ms") for option opt;
 * print why and return -EINVAL on a bad value. */
int bench_parse_count(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int bench_parse_size(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int bench_parse_duration(const char *opt, const char *s, uint64_t *out_ms);

/* Online CPUs, at least 1 and at most BENCH_MAX_THREADS: the default thread count. */
unsigned bench_default_threads(void);

/* A non-blocking, close-on-exec TCP socket of ss's family with TCP_NODELAY,
 * connecting to ss. Returns the fd (the connect may be in progress) or -errno. */
int bench_connect(const struct sockaddr_storage *ss, socklen_t len);

/* Reads SO_ERROR; 0 when the socket is fine, else the positive errno. */
int bench_sock_error(int fd);

/* Watches fd (epoll data ptr) for input, and for output too when on; skips the
 * epoll_ctl when *is_on already says so. */
void bench_watch_out(int epfd, int fd, void *ptr, bool *is_on, bool on);

/* Closes fd with a reset (SO_LINGER 0): the peer sees the failure at once. */
void bench_abort_fd(int fd);

/* Writes "\"name\":{\"p50\":..,\"p90\":..,\"p99\":..,\"p999\":..,\"max\":..,\"mean\":..}"
 * in microseconds (three decimals). */
void bench_json_latency(FILE *f, const char *name, const struct latency_hist *h);

/* Process CPU time (user, system) in seconds, from getrusage(RUSAGE_SELF). */
void bench_cpu_self(double *user_s, double *sys_s);

#endif
