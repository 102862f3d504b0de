/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* addr.h: socket address formatting, one spelling everywhere ("1.2.3.4:443",
 * "[2001:db8::1]:443"). */
#ifndef SG_ADDR_H
#define SG_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Enough for "[" + INET6_ADDRSTRLEN + "]:65535". */
#define ADDR_STR_MAX 64

/* Writes ss as host:port into buf (NUL-terminated); "-" for other families.
 * Returns buf, so it can stand in a printf argument list. */
char *addr_format(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
