// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_proxy_header.c: PROXY protocol headers against bytes written out by hand
 * from haproxy's doc/proxy-protocol.txt (sections 2.1, 2.2, 2.2.1-2.2.3). The
 * expected CRC32C values were computed once by a separate bit-at-a-time
 * implementation (not the table this module uses) and are written here as
 * bytes. Every v2 header is also walked by a strict reader (check_v2) that
 * recomputes the length field and every TLV's bounds. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "proxy_header.h"

/* Expected headers are string literals, one field per literal, so each line can
 * say what its bytes are; the size excludes the literal's NUL. */
#define WANT(s) (const uint8_t *)(s), sizeof(s) - 1

/* The 12-byte signature of section 2.2 (its 5th byte is a NUL). */
#define SIG_S "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"

static const uint8_t alpn_h2_h11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	cr_assert_eq(got_len, want_len, "length %zu, expected %zu", got_len, want_len);
	for (size_t i = 0; i < want_len; i++)
		cr_assert_eq(got[i], want[i], "byte %zu is 0x%02x, expected 0x%02x", i, got[i],
			     want[i]);
}

/* Builds with version 1 or 2 into a buffer of exactly the expected size, and
 * checks that one byte less is refused with -ENOSPC. */
static void expect(int version, const struct proxy_header_in *in, const uint8_t *want,
		   size_t want_len)
{
	uint8_t buf[PROXY_HEADER_MAX + 16];
	size_t len = 0;
	int err;

	err = version == 1 ? proxy_header_v1(in, buf, want_len, &len)
			   : proxy_header_v2(in, buf, want_len, &len);
	cr_assert_eq(err, 0, "v%d: %s", version, strerror(-err));
	assert_bytes(buf, len, want, want_len);
	err = version == 1 ? proxy_header_v1(in, buf, want_len - 1, &len)
			   : proxy_header_v2(in, buf, want_len - 1, &len);
	cr_assert_eq(err, -ENOSPC, "v%d into %zu bytes: %d", version, want_len - 1, err);
}

static void expect_v1(const struct proxy_header_in *in, const char *line)
{
	expect(1, in, (const uint8_t *)line, strlen(line));
}

/* --- version 1 --------------------------------------------------------------- */

Test(proxy_v1, tcp4_is_the_example_line_of_section_2_1)
{
	struct sockaddr_storage s = v4("192.168.0.1", 56324), d = v4("192.168.0.11", 443);

	expect_v1(&(struct proxy_header_in){.src = &s, .dst = &d},
		  "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
}

Test(proxy_v1, tcp6_uses_compressed_hex_groups)
{
	struct sockaddr_storage s = v6("2001:db8::1", 40000), d = v6("2001:db8:0:0:0:0:2:1", 443);

	expect_v1(&(struct proxy_header_in){.src = &s, .dst = &d},
		  "PROXY TCP6 2001:db8::1 2001:db8::2:1 40000 443\r\n");
}

Test(proxy_v1, v6_zero_runs_take_the_longest_then_the_first)
{
	struct sockaddr_storage s = v6("1:0:0:2:0:0:0:3", 1), d = v6("1:0:0:2:0:0:3:4", 2);
	struct sockaddr_storage z = v6("::", 0), one = v6("::1", 65535);

	expect_v1(&(struct proxy_header_in){.src = &s, .dst = &d},
		  "PROXY TCP6 1:0:0:2::3 1::2:0:0:3:4 1 2\r\n");
	expect_v1(&(struct proxy_header_in){.src = &z, .dst = &one},
		  "PROXY TCP6 :: ::1 0 65535\r\n");
}

Test(proxy_v1, v4_mapped_addresses_of_a_dual_stack_listener_are_tcp4)
{
	struct sockaddr_storage s = v6("::ffff:10.199.1.2", 5000), d = v6("::ffff:10.199.1.1", 443);

	expect_v1(&(struct proxy_header_in){.src = &s, .dst = &d},
		  "PROXY TCP4 10.199.1.2 10.199.1.1 5000 443\r\n");
}

Test(proxy_v1, mixed_families_map_the_ipv4_side_in_hex_groups)
{
	struct sockaddr_storage s = v4("10.0.0.1", 1234), d = v6("2001:db8::2:1", 443);

	expect_v1(&(struct proxy_header_in){.src = &s, .dst = &d},
		  "PROXY TCP6 ::ffff:a00:1 2001:db8::2:1 1234 443\r\n");
	expect_v1(&(struct proxy_header_in){.src = &d, .dst = &s},
		  "PROXY TCP6 2001:db8::2:1 ::ffff:a00:1 443 1234\r\n");
}

Test(proxy_v1, a_non_ip_address_is_unknown)
{
	struct sockaddr_storage s = v4("10.0.0.1", 1234), un = {.ss_family = AF_UNIX}, none = {0};

	expect_v1(&(struct proxy_header_in){.src = &s, .dst = &un}, "PROXY UNKNOWN\r\n");
	expect_v1(&(struct proxy_header_in){.src = &none, .dst = &s}, "PROXY UNKNOWN\r\n");
	expect_v1(&(struct proxy_header_in){.src = NULL, .dst = &s}, "PROXY UNKNOWN\r\n");
}

Test(proxy_v1, the_longest_line_fits_the_spec_maximum)
{
	struct sockaddr_storage s = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535),
				d = v6("fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	uint8_t buf[PROXY_V1_MAX];
	size_t len;

	cr_assert_eq(proxy_header_v1(&(struct proxy_header_in){.src = &s, .dst = &d}, buf,
				     sizeof(buf), &len),
		     0);
	cr_assert_eq(len, 104, "TCP6 with two full addresses is 104 bytes (section 2.1)");
}

/* --- a strict v2 reader --------------------------------------------------------- */

struct tlv_seen {
	uint8_t type;
	size_t off, len; /* of the value, in the header */
};

/* Checks buf[0..len) is exactly one v2 header: signature, version 2, a known
 * command and family, the length field equal to what follows the fixed part,
 * an address block of the family's size, then TLVs that each fit and end
 * exactly at the header's end. Returns the number of TLVs put in seen[]. */
static size_t check_v2(const uint8_t *buf, size_t len, struct tlv_seen *seen, size_t max_seen)
{
	static const char sig[] = SIG_S;
	size_t body, addr, off, n = 0;

	cr_assert_geq(len, (size_t)PROXY_V2_FIXED);
	cr_assert_eq(memcmp(buf, sig, sizeof(sig) - 1), 0, "signature");
	cr_assert(buf[12] == 0x21 || buf[12] == 0x20, "version 2, PROXY or LOCAL: 0x%02x", buf[12]);
	body = (size_t)buf[14] << 8 | buf[15];
	cr_assert_eq(PROXY_V2_FIXED + body, len, "length field %zu for %zu bytes", body, len);
	switch (buf[13]) {
	case 0x11:
		addr = 12;
		break;
	case 0x21:
		addr = 36;
		break;
	case 0x00:
		addr = 0;
		cr_assert_eq(buf[12], 0x20, "UNSPEC only with LOCAL");
		break;
	default:
		cr_assert_fail("family/protocol 0x%02x", buf[13]);
	}
	cr_assert_leq(addr, body, "address block fits");
	for (off = PROXY_V2_FIXED + addr; off < len; n++) {
		size_t vlen;

		cr_assert_leq(off + 3, len, "TLV %zu header overruns the header", n);
		vlen = (size_t)buf[off + 1] << 8 | buf[off + 2];
		cr_assert_leq(off + 3 + vlen, len, "TLV %zu value overruns the header", n);
		cr_assert_lt(n, max_seen);
		seen[n] = (struct tlv_seen){buf[off], off + 3, vlen};
		off += 3 + vlen;
	}
	cr_assert_eq(off, len, "TLVs end exactly at the header's end");
	return n;
}

static void expect_v2(const struct proxy_header_in *in, const uint8_t *want, size_t want_len)
{
	struct tlv_seen seen[4];

	expect(2, in, want, want_len);
	check_v2(want, want_len, seen, 4);
}

/* --- version 2 --------------------------------------------------------------- */

/* 192.168.0.1:56324 -> 192.168.0.11:443, the example of section 2.1. */
#define V4_EXAMPLE                                                                                 \
	"\xC0\xA8\x00\x01" /* source address */                                                    \
	"\xC0\xA8\x00\x0B" /* destination address */                                               \
	"\xDC\x04"	   /* source port 56324 */                                                 \
	"\x01\xBB"	   /* destination port 443 */
#define TLV_AUTHORITY_SAMPLE                                                                       \
	"\x02\x00\x11" /* PP2_TYPE_AUTHORITY, 17 bytes */                                          \
	"sample.aliyun.com"

static struct proxy_header_in example_v4(struct sockaddr_storage *s, struct sockaddr_storage *d)
{
	*s = v4("192.168.0.1", 56324);
	*d = v4("192.168.0.11", 443);
	return (struct proxy_header_in){.src = s, .dst = d};
}

Test(proxy_v2, tcp4_without_tlvs)
{
	struct sockaddr_storage s, d;
	struct proxy_header_in in = example_v4(&s, &d);

	expect_v2(&in, WANT(SIG_S "\x21"     /* version 2, command PROXY */
				  "\x11"     /* AF_INET, STREAM */
				  "\x00\x0C" /* 12 bytes follow */
			    V4_EXAMPLE));
}

Test(proxy_v2, tcp6_without_tlvs)
{
	struct sockaddr_storage s = v6("2001:db8::1", 40000), d = v6("2001:db8::2:1", 443);

	expect_v2(&(struct proxy_header_in){.src = &s, .dst = &d},
		  WANT(SIG_S "\x21"
			     "\x21"	/* AF_INET6, STREAM */
			     "\x00\x24" /* 36 bytes follow */
			     "\x20\x01\x0D\xB8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
			     "\x20\x01\x0D\xB8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01"
			     "\x9C\x40" /* 40000 */
			     "\x01\xBB"));
}

Test(proxy_v2, mixed_families_map_the_ipv4_address_into_ipv6)
{
	struct sockaddr_storage s = v4("10.0.0.1", 1234), d = v6("2001:db8::2:1", 443);

	expect_v2(&(struct proxy_header_in){.src = &s, .dst = &d},
		  WANT(SIG_S "\x21\x21\x00\x24"
			     "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xFF\xFF\x0A\x00\x00\x01"
			     "\x20\x01\x0D\xB8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01"
			     "\x04\xD2" /* 1234 */
			     "\x01\xBB"));
}

Test(proxy_v2, v4_mapped_addresses_are_tcp4)
{
	struct sockaddr_storage s = v6("::ffff:10.199.1.2", 5000), d = v6("::ffff:10.199.1.1", 443);

	expect_v2(&(struct proxy_header_in){.src = &s, .dst = &d},
		  WANT(SIG_S "\x21\x11\x00\x0C"
			     "\x0A\xC7\x01\x02" /* 10.199.1.2 */
			     "\x0A\xC7\x01\x01" /* 10.199.1.1 */
			     "\x13\x88"		/* 5000 */
			     "\x01\xBB"));
}

Test(proxy_v2, a_non_ip_address_is_local_unspec_without_addresses)
{
	struct sockaddr_storage s = v4("10.0.0.1", 1234), un = {.ss_family = AF_UNIX};

	expect_v2(&(struct proxy_header_in){.src = &s, .dst = &un},
		  WANT(SIG_S "\x20" /* version 2, command LOCAL */
			     "\x00" /* AF_UNSPEC, UNSPEC */
			     "\x00\x00" /* no address block */));
}

Test(proxy_v2, alpn_tlv_carries_the_first_offered_name_only)
{
	struct sockaddr_storage s, d;
	struct proxy_header_in in = example_v4(&s, &d);

	in.alpn = alpn_h2_h11;
	in.alpn_len = sizeof(alpn_h2_h11);
	expect_v2(&in, WANT(SIG_S "\x21\x11"
				  "\x00\x11"	      /* 12 + 5 */
			    V4_EXAMPLE "\x01\x00\x02" /* PP2_TYPE_ALPN, 2 bytes */
				  "h2" /* not "http/1.1" */));
}

Test(proxy_v2, authority_tlv_carries_the_sni)
{
	struct sockaddr_storage s, d;
	struct proxy_header_in in = example_v4(&s, &d);

	in.authority = "sample.aliyun.com";
	expect_v2(&in, WANT(SIG_S "\x21\x11"
				  "\x00\x20" /* 12 + 3 + 17 */
			    V4_EXAMPLE TLV_AUTHORITY_SAMPLE));
}

Test(proxy_v2, an_empty_sni_is_no_authority_tlv)
{
	struct sockaddr_storage s, d;
	struct proxy_header_in in = example_v4(&s, &d);

	in.authority = "";
	expect_v2(&in, WANT(SIG_S "\x21\x11\x00\x0C" V4_EXAMPLE));
}

Test(proxy_v2, crc32c_tlv_alone)
{
	struct sockaddr_storage s, d;
	struct proxy_header_in in = example_v4(&s, &d);

	in.has_crc32c = true;
	expect_v2(&in, WANT(SIG_S "\x21\x11"
				  "\x00\x13"	      /* 12 + 7 */
			    V4_EXAMPLE "\x03\x00\x04" /* PP2_TYPE_CRC32C, 4 bytes */
				  "\x1C\x1A\xE9\xC6" /* big-endian */));
}

Test(proxy_v2, every_tlv_together_in_order_alpn_authority_crc32c)
{
	static const char want[] = SIG_S "\x21\x11"
					 "\x00\x2C" /* 12 + 5 + 20 + 7 = 44 */
		V4_EXAMPLE "\x01\x00\x02"
					 "h2" TLV_AUTHORITY_SAMPLE "\x03\x00\x04"
					 "\x32\x3B\x4E\x46";
	struct sockaddr_storage s, d;
	struct proxy_header_in in = example_v4(&s, &d);
	struct tlv_seen seen[4];
	uint8_t copy[sizeof(want) - 1];

	in.authority = "sample.aliyun.com";
	in.alpn = alpn_h2_h11;
	in.alpn_len = sizeof(alpn_h2_h11);
	in.has_crc32c = true;
	expect_v2(&in, WANT(want));
	memcpy(copy, want, sizeof(copy));
	cr_assert_eq(check_v2(copy, sizeof(copy), seen, 4), 3);
	cr_assert_eq(seen[0].type, PP2_TYPE_ALPN);
	cr_assert_eq(seen[1].type, PP2_TYPE_AUTHORITY);
	cr_assert_eq(seen[2].type, PP2_TYPE_CRC32C);
	/* The receiver's check of section 2.2.3: zero the field, recompute, compare. */
	memset(copy + seen[2].off, 0, 4);
	cr_assert_eq(proxy_crc32c(copy, sizeof(copy)), 0x323B4E46u);
}

Test(proxy_v2, the_largest_header_is_proxy_header_max)
{
	struct sockaddr_storage s = v6("2001:db8::1", 1), d = v6("2001:db8::2", 2);
	uint8_t alpn[256], buf[PROXY_HEADER_MAX];
	char sni[256];
	struct tlv_seen seen[4];
	size_t len;

	alpn[0] = 255;
	memset(alpn + 1, 'a', 255);
	memset(sni, 'b', 255);
	sni[255] = '\0';
	struct proxy_header_in in = {.src = &s,
				     .dst = &d,
				     .authority = sni,
				     .alpn = alpn,
				     .alpn_len = sizeof(alpn),
				     .has_crc32c = true};

	cr_assert_eq(proxy_header_v2(&in, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, PROXY_HEADER_MAX);
	cr_assert_eq(check_v2(buf, len, seen, 4), 3);
	cr_assert_eq(seen[0].len, 255);
	cr_assert_eq(seen[1].len, 255);
	cr_assert_eq(proxy_header_v2(&in, buf, sizeof(buf) - 1, &len), -ENOSPC);
}

Test(proxy_v2, bad_alpn_lists_and_long_authorities_are_refused)
{
	struct sockaddr_storage s = v4("10.0.0.1", 1), d = v4("10.0.0.2", 2);
	static const uint8_t overrun[] = {5, 'h', '2'}, empty_name[] = {0, 2, 'h', '2'};
	uint8_t buf[PROXY_HEADER_MAX];
	char long_sni[257];
	size_t len;

	memset(long_sni, 'c', 256);
	long_sni[256] = '\0';
	cr_assert_eq(proxy_header_v2(&(struct proxy_header_in){.src = &s,
							       .dst = &d,
							       .alpn = overrun,
							       .alpn_len = sizeof(overrun)},
				     buf, sizeof(buf), &len),
		     -EINVAL);
	cr_assert_eq(proxy_header_v2(&(struct proxy_header_in){.src = &s,
							       .dst = &d,
							       .alpn = empty_name,
							       .alpn_len = sizeof(empty_name)},
				     buf, sizeof(buf), &len),
		     -EINVAL);
	cr_assert_eq(proxy_header_v2(
			     &(struct proxy_header_in){.src = &s, .dst = &d, .authority = long_sni},
			     buf, sizeof(buf), &len),
		     -EINVAL);
}

Test(proxy_v2, a_zero_sized_buffer_is_too_small)
{
	struct sockaddr_storage s = v4("10.0.0.1", 1), d = v4("10.0.0.2", 2);
	size_t len = 99;

	cr_assert_eq(
		proxy_header_v2(&(struct proxy_header_in){.src = &s, .dst = &d}, NULL, 0, &len),
		-ENOSPC);
	cr_assert_eq(
		proxy_header_v1(&(struct proxy_header_in){.src = &s, .dst = &d}, NULL, 0, &len),
		-ENOSPC);
	cr_assert_eq(len, 99, "nothing reported on failure");
}

/* --- CRC32C ---------------------------------------------------------------------- */

Test(proxy_crc32c, check_value_of_123456789)
{
	cr_assert_eq(proxy_crc32c("123456789", 9), 0xE3069283u);
}

Test(proxy_crc32c, empty_input_and_rfc3720_vectors)
{
	uint8_t zeros[32] = {0}, ones[32], inc[32];

	memset(ones, 0xFF, sizeof(ones));
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	cr_assert_eq(proxy_crc32c("", 0), 0u);
	/* RFC 3720 (iSCSI) B.4 test vectors, given there as little-endian bytes. */
	cr_assert_eq(proxy_crc32c(zeros, 32), 0x8A9136AAu);
	cr_assert_eq(proxy_crc32c(ones, 32), 0x62A8AB43u);
	cr_assert_eq(proxy_crc32c(inc, 32), 0x46DD794Eu);
}
