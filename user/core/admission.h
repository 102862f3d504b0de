/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* admission.h: the arithmetic and bookkeeping of admission control, kept
 * pure (no I/O, no globals) so it is unit-tested: the default connection
 * limit derived from the fd limit, and the count of open connections per
 * client address behind --max-connections-per-source. The agent decides
 * what to do with them (conn/conn_admit.c). */
#ifndef SG_ADMISSION_H
#define SG_ADMISSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Descriptors kept for everything that is not a client connection:
 * listeners, BPF maps and programs, epoll, signalfd, the control and metrics
 * sockets and their exchanges, health checks, logs. An eighth of the limit,
 * within these bounds. */
#define ADMISSION_RESERVE_MIN 64u
#define ADMISSION_RESERVE_MAX 4096u

/* Descriptors one connection holds: client and backend sockets, plus two
 * pipes when the relay (splice(2)) moves its bytes. */
#define ADMISSION_FDS_SOCKMAP 2u
#define ADMISSION_FDS_RELAY   6u

/* The descriptors of fd_limit kept out of the connections' share. */
uint64_t admission_reserve(uint64_t fd_limit);

/* The default global connection limit: (fd_limit - reserve) / fds_per_conn,
 * at least 1, at most UINT32_MAX. */
uint32_t admission_default_max(uint64_t fd_limit, unsigned fds_per_conn);

/* Open connections per client IP address (the port is ignored; an IPv4
 * address mapped into IPv6 counts as the IPv4 one). */
struct src_table;

#define SRC_TABLE_BUCKETS 4096 /* power of two */

struct src_table *src_table_new(void);
void src_table_free(struct src_table *t); /* NULL-tolerant */

/* Open connections from addr's IP now. */
uint32_t src_table_get(const struct src_table *t, const struct sockaddr_storage *addr);

/* One more connection from addr's IP; its new count in *count. 0, or -ENOMEM
 * (nothing counted), or -EAFNOSUPPORT for a family other than IPv4/IPv6. */
int src_table_inc(struct src_table *t, const struct sockaddr_storage *addr, uint32_t *count);

/* One connection fewer; the address is forgotten at 0. Unknown: no-op. */
void src_table_dec(struct src_table *t, const struct sockaddr_storage *addr);

/* Addresses with at least one open connection. */
size_t src_table_size(const struct src_table *t);

#endif
