// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_admission.c: the default connection limit follows the fd limit with
 * its reserve, and the per-source table counts by IP (port ignored, IPv4
 * mapped into IPv6 the same as IPv4), forgets an address at zero and frees
 * everything (ASan). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "admission.h"

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

Test(admission, default_limit_leaves_the_reserve_and_counts_fds_per_connection)
{
	cr_assert_eq(admission_reserve(256), 64);
	cr_assert_eq(admission_default_max(256, ADMISSION_FDS_SOCKMAP), 96);
	cr_assert_eq(admission_reserve(1024), 128);
	cr_assert_eq(admission_default_max(1024, ADMISSION_FDS_SOCKMAP), 448);
	cr_assert_eq(admission_default_max(1024, ADMISSION_FDS_RELAY), 149);
	cr_assert_eq(admission_reserve(1048576), ADMISSION_RESERVE_MAX);
	cr_assert_eq(admission_default_max(1048576, ADMISSION_FDS_SOCKMAP),
		     (1048576 - ADMISSION_RESERVE_MAX) / 2);
}

Test(admission, tiny_or_huge_fd_limits_stay_in_range)
{
	cr_assert_eq(admission_default_max(0, 2), 1);
	cr_assert_eq(admission_default_max(10, 2), 1);
	cr_assert_eq(admission_default_max(66, 2), 1);
	cr_assert_eq(admission_default_max(67, 2), 1);
	cr_assert_eq(admission_default_max(68, 2), 2);
	cr_assert_eq(admission_default_max(UINT64_MAX, 1), UINT32_MAX);
	cr_assert_eq(admission_default_max(1000, 0), 1000 - 125, "0 fds per connection: as 1");
}

Test(admission, sources_count_by_ip_not_port)
{
	struct src_table *t = src_table_new();
	struct sockaddr_storage a1 = v4("10.0.0.1", 1000), a2 = v4("10.0.0.1", 2000),
				b = v4("10.0.0.2", 1000);
	uint32_t n = 0;

	cr_assert(t);
	cr_assert_eq(src_table_inc(t, &a1, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(src_table_inc(t, &a2, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(src_table_inc(t, &b, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(src_table_get(t, &a1), 2);
	cr_assert_eq(src_table_size(t), 2);
	src_table_dec(t, &a2);
	cr_assert_eq(src_table_get(t, &a1), 1);
	src_table_dec(t, &a1);
	cr_assert_eq(src_table_get(t, &a1), 0);
	cr_assert_eq(src_table_size(t), 1, "an address is forgotten at zero");
	src_table_dec(t, &a1); /* unknown: no-op, no underflow */
	cr_assert_eq(src_table_get(t, &a1), 0);
	cr_assert_eq(src_table_size(t), 1);
	src_table_free(t); /* b's node is freed here: ASan checks */
}

Test(admission, mapped_ipv4_is_the_ipv4_client_and_ipv6_is_its_own)
{
	struct src_table *t = src_table_new();
	struct sockaddr_storage a = v4("192.0.2.7", 1), mapped = v6("::ffff:192.0.2.7", 2),
				six = v6("2001:db8::7", 3), other;
	uint32_t n = 0;

	cr_assert_eq(src_table_inc(t, &a, &n), 0);
	cr_assert_eq(src_table_inc(t, &mapped, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(src_table_inc(t, &six, &n), 0);
	cr_assert_eq(n, 1);
	memset(&other, 0, sizeof(other));
	other.ss_family = AF_UNIX;
	cr_assert_eq(src_table_inc(t, &other, &n), -EAFNOSUPPORT);
	cr_assert_eq(src_table_get(t, &other), 0);
	src_table_dec(t, &other);
	cr_assert_eq(src_table_size(t), 2);
	src_table_free(t);
	src_table_free(NULL);
}

Test(admission, many_sources_share_buckets_and_all_come_back_out)
{
	struct src_table *t = src_table_new();
	char ip[32];
	uint32_t n;

	for (int i = 0; i < 3 * SRC_TABLE_BUCKETS; i++) {
		struct sockaddr_storage a;

		snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		a = v4(ip, 1);
		cr_assert_eq(src_table_inc(t, &a, &n), 0);
		cr_assert_eq(n, 1);
	}
	cr_assert_eq(src_table_size(t), 3 * SRC_TABLE_BUCKETS);
	for (int i = 0; i < 3 * SRC_TABLE_BUCKETS; i++) {
		struct sockaddr_storage a;

		snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		a = v4(ip, 1);
		cr_assert_eq(src_table_get(t, &a), 1);
		src_table_dec(t, &a);
	}
	cr_assert_eq(src_table_size(t), 0);
	src_table_free(t);
}
