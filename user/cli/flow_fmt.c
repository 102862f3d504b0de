// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flow_fmt.c: see flow_fmt.h. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "flow_fmt.h"
#include "flow_list.h"

char *flow_fmt_endpoint(const __u8 addr[16], __u16 port, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct in6_addr a6;

	memset(&ss, 0, sizeof(ss));
	memcpy(&a6, addr, sizeof(a6));
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, &a6.s6_addr[12], 4);
		sin->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a6;
		sin6->sin6_port = htons(port);
	}
	return addr_format(&ss, buf, len);
}

__u64 flow_age_ns(const struct sg_flow *f, __u64 now_ns)
{
	return now_ns > f->start_ns ? now_ns - f->start_ns : 0;
}

char *flow_fmt_age(__u64 ns, char *buf, size_t len)
{
	__u64 s = ns / NS_PER_S;

	if (s < 60)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", (uint64_t)s,
			 (uint64_t)(ns % NS_PER_S / (NS_PER_S / 10)));
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", (uint64_t)s / 60,
			 (uint64_t)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", (uint64_t)s / 3600,
			 (uint64_t)s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", (uint64_t)s / 86400,
			 (uint64_t)s % 86400 / 3600);
	return buf;
}

const char *flow_end_name(__u8 end)
{
	static const char *const names[] = {
#define SG_FLOW_END_NAME(name, str) [name] = str,
		SG_FLOW_END_LIST(SG_FLOW_END_NAME)
#undef SG_FLOW_END_NAME
	};

	return end < SG_FLOW_END_MAX ? names[end] : "other";
}

const char *flow_fmt_state(const struct sg_flow *f, char *buf, size_t len)
{
	static const struct {
		__u8 flag;
		const char *name;
	} flags[] = {
		{SG_FLOW_F_PAUSED_UP, "paused_up"},
		{SG_FLOW_F_PAUSED_DOWN, "paused_down"},
		{SG_FLOW_F_COPYING_UP, "copying_up"},
		{SG_FLOW_F_COPYING_DOWN, "copying_down"},
		{SG_FLOW_F_HALF_CLOSED_UP, "half_closed_up"},
		{SG_FLOW_F_HALF_CLOSED_DOWN, "half_closed_down"},
	};
	size_t pos = 0;

	if (f->state == SG_FLOW_CLOSED)
		return "closed";
	if (f->state != SG_FLOW_OPEN)
		return "unknown"; /* written by a newer agent */
	if (!f->flags)
		return "spliced";
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]) && pos < len; i++) {
		if (f->flags & flags[i].flag)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos ? "+" : "",
						flags[i].name);
	}
	return pos ? buf : "unknown";
}

char *flow_fmt_name(const char *field, size_t field_len, char *buf, size_t len)
{
	size_t n = 0;

	for (; n < field_len && n + 1 < len && field[n]; n++)
		buf[n] = field[n] > ' ' && field[n] <= '~' ? field[n] : '?';
	if (n == 0 && len > 1)
		buf[n++] = '-';
	buf[n] = '\0';
	return buf;
}
