/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* addr.h: socket address formatting, one spelling everywhere ("1.2.3.4:443",
 * "[2001:db8::1]:443"). */
#ifndef SG_ADDR_H
#define SG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Enough for "[" + INET6_ADDRSTRLEN + "]:65535". */
#define ADDR_STR_MAX 64

/* Writes ss as host:port into buf (NUL-terminated); "-" for other families.
 * Returns buf, so it can stand in a printf argument list. */
char *addr_format(const struct sockaddr_storage *ss, char *buf, size_t len);

/* The 16-byte form the BPF maps use: IPv6, or IPv4 v4-mapped (::ffff:a.b.c.d).
 * addr_to16 stores ss's address and its port (network order); *port may be
 * NULL. addr_from16 is the reverse, IPv4 for a v4-mapped address; it returns
 * the sockaddr's length. */
void addr_to16(const struct sockaddr_storage *ss, uint8_t out[16], uint16_t *port);
socklen_t addr_from16(const uint8_t a[16], uint16_t port, struct sockaddr_storage *ss);
bool addr16_is_v4(const uint8_t a[16]);

#endif
