// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_access_fmt.c: access-log lines, key=value as before and JSON that
 * parses whatever the configuration or the client put in the strings. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "access_fmt.h"

static const uint8_t alpn_h2_h11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

static struct access_record spliced(void)
{
	return (struct access_record){
		.ts = "2026-11-26T12:02:50Z",
		.conn = 1,
		.client = "10.199.1.2:56612",
		.listener = "istio-mynginx-customingressgateway:443",
		.sni = "sample.aliyun.com",
		.alpn = alpn_h2_h11,
		.alpn_len = sizeof(alpn_h2_h11),
		.route = "istio-mynginx-customvirtualservice.tls[0]",
		.backend = "10.199.2.2:443",
		.dataplane = "sockmap",
		.bytes_up = 751,
		.bytes_down = 1488,
		.duration_ms = 4,
		.end = "eof",
	};
}

Test(access_fmt, key_value_lines_are_spelt_as_before)
{
	struct access_record r = spliced();
	char buf[1024];
	size_t n = access_fmt_line(&r, ACCESS_FMT_KV, buf, sizeof(buf));

	cr_assert_str_eq(buf, "access ts=2026-11-26T12:02:50Z conn=1 client=10.199.1.2:56612 "
			      "listener=istio-mynginx-customingressgateway:443 "
			      "sni=sample.aliyun.com alpn=h2,http/1.1 "
			      "route=istio-mynginx-customvirtualservice.tls[0] "
			      "backend=10.199.2.2:443 dataplane=sockmap bytes_up=751 "
			      "bytes_down=1488 copied=0 duration_ms=4 pauses=0 peak_queued=0 "
			      "end=eof\n");
	cr_assert_eq(n, strlen(buf));
}

Test(access_fmt, key_value_absent_values_are_dashes_and_hello_error_is_appended)
{
	struct access_record r = {.ts = "T",
				  .conn = 7,
				  .client = "c",
				  .listener = "tls",
				  .sni = "",
				  .end = "hello_malformed",
				  .hello_error = "session_id"};
	char buf[1024];

	access_fmt_line(&r, ACCESS_FMT_KV, buf, sizeof(buf));
	cr_assert_str_eq(buf, "access ts=T conn=7 client=c listener=tls sni=- alpn=- route=- "
			      "backend=- dataplane=- bytes_up=0 bytes_down=0 copied=0 "
			      "duration_ms=0 pauses=0 peak_queued=0 end=hello_malformed "
			      "hello_error=session_id\n");
}

Test(access_fmt, key_value_escapes_what_would_split_a_field_or_a_line)
{
	static const uint8_t alpn[] = {5, 'a', ' ', 'b', '\n', '\\'};
	struct access_record r = spliced();
	char buf[1024];

	r.alpn = alpn;
	r.alpn_len = sizeof(alpn);
	access_fmt_line(&r, ACCESS_FMT_KV, buf, sizeof(buf));
	cr_assert(strstr(buf, " alpn=a\\x20b\\x0a\\x5c route="), "%s", buf);
	cr_assert_eq(strchr(buf, '\n'), buf + strlen(buf) - 1, "one line: %s", buf);
}

Test(access_fmt, json_carries_the_same_fields_with_numbers_and_nulls)
{
	struct access_record r = spliced();
	char buf[1024];

	r.copied = 12;
	r.pauses = 3;
	r.peak_queued = 4194304;
	access_fmt_line(&r, ACCESS_FMT_JSON, buf, sizeof(buf));
	cr_assert_str_eq(buf, "{\"ts\":\"2026-11-26T12:02:50Z\",\"conn\":1,"
			      "\"client\":\"10.199.1.2:56612\","
			      "\"listener\":\"istio-mynginx-customingressgateway:443\","
			      "\"sni\":\"sample.aliyun.com\",\"alpn\":[\"h2\",\"http/1.1\"],"
			      "\"route\":\"istio-mynginx-customvirtualservice.tls[0]\","
			      "\"backend\":\"10.199.2.2:443\",\"dataplane\":\"sockmap\","
			      "\"bytes_up\":751,\"bytes_down\":1488,\"copied\":12,"
			      "\"duration_ms\":4,\"pauses\":3,\"peak_queued\":4194304,"
			      "\"end\":\"eof\",\"hello_error\":null}\n");

	r = (struct access_record){.ts = "T", .listener = "tls", .end = "reject_no_sni"};
	access_fmt_line(&r, ACCESS_FMT_JSON, buf, sizeof(buf));
	cr_assert_str_eq(buf, "{\"ts\":\"T\",\"conn\":0,\"client\":null,\"listener\":\"tls\","
			      "\"sni\":null,\"alpn\":[],\"route\":null,\"backend\":null,"
			      "\"dataplane\":null,\"bytes_up\":0,\"bytes_down\":0,\"copied\":0,"
			      "\"duration_ms\":0,\"pauses\":0,\"peak_queued\":0,"
			      "\"end\":\"reject_no_sni\",\"hello_error\":null}\n");
}

Test(access_fmt, json_strings_are_escaped_and_invalid_utf8_replaced)
{
	/* ALPN names are client bytes: quote, backslash, control, a valid
	 * two-byte sequence (é), then a lone continuation and an overlong '/'. */
	static const uint8_t alpn[] = {11,   '"',  '\\', '\n', 0x01, 0xc3,
				       0xa9, 0x80, 0xc0, 0xaf, '\t', 'z'};
	struct access_record r = {
		.ts = "T", .listener = "l\"1\\", .alpn = alpn, .alpn_len = sizeof(alpn)};
	char buf[1024];

	access_fmt_line(&r, ACCESS_FMT_JSON, buf, sizeof(buf));
	cr_assert(strstr(buf, "\"listener\":\"l\\\"1\\\\\""), "%s", buf);
	cr_assert(strstr(buf, "\"alpn\":[\"\\\"\\\\\\n\\u0001\xc3\xa9\\ufffd\\ufffd\\ufffd\\tz\"]"),
		  "%s", buf);
}

Test(access_fmt, a_short_buffer_gets_a_cut_line_and_the_length_needed)
{
	struct access_record r = spliced();
	char full[1024], small[40];
	size_t need = access_fmt_line(&r, ACCESS_FMT_JSON, full, sizeof(full));

	cr_assert_eq(access_fmt_line(&r, ACCESS_FMT_JSON, small, sizeof(small)), need);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	cr_assert_eq(strncmp(small, full, sizeof(small) - 1), 0);
	cr_assert_eq(access_fmt_line(&r, ACCESS_FMT_KV, NULL, 0),
		     access_fmt_line(&r, ACCESS_FMT_KV, full, sizeof(full)));
}

Test(access_fmt, format_names_parse)
{
	enum access_fmt f;

	cr_assert_eq(access_fmt_parse("kv", &f), 0);
	cr_assert_eq(f, ACCESS_FMT_KV);
	cr_assert_eq(access_fmt_parse("json", &f), 0);
	cr_assert_eq(f, ACCESS_FMT_JSON);
	cr_assert_lt(access_fmt_parse("JSON", &f), 0);
	cr_assert_lt(access_fmt_parse("", &f), 0);
}

Test(access_fmt, proxy_field_follows_dataplane_only_when_a_header_was_sent)
{
	struct access_record r = spliced();
	char buf[1024];

	r.proxy = "v2";
	access_fmt_line(&r, ACCESS_FMT_KV, buf, sizeof(buf));
	cr_assert(strstr(buf, " dataplane=sockmap proxy=v2 bytes_up=751 "), "%s", buf);
	access_fmt_line(&r, ACCESS_FMT_JSON, buf, sizeof(buf));
	cr_assert(strstr(buf, "\"dataplane\":\"sockmap\",\"proxy\":\"v2\",\"bytes_up\":751,"), "%s",
		  buf);
	r.proxy = NULL;
	access_fmt_line(&r, ACCESS_FMT_KV, buf, sizeof(buf));
	cr_assert_null(strstr(buf, "proxy"), "%s", buf);
	access_fmt_line(&r, ACCESS_FMT_JSON, buf, sizeof(buf));
	cr_assert_null(strstr(buf, "proxy"), "%s", buf);
}
