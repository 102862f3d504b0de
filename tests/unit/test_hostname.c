// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_hostname.c: the SNI name rules (README of the ClientHello corpus) and
 * route pattern rules, one table row per rule so a failure names the input. */
#include <criterion/criterion.h>
#include <string.h>

#include "hostname.h"

struct name_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	enum hostname_result want;
	const char *out; /* expected normalised form when want is HOSTNAME_OK */
};

static const struct name_case name_cases[] = {
	{"example.com", 0, HOSTNAME_OK, "example.com"},
	{"WWW.Example.COM", 0, HOSTNAME_OK, "www.example.com"},
	{"www.example.com.", 0, HOSTNAME_OK, "www.example.com"},
	{"_acme.Sample.aliyun.com", 0, HOSTNAME_OK, "_acme.sample.aliyun.com"},
	{"xn--bcher-kva.example", 0, HOSTNAME_OK, "xn--bcher-kva.example"},
	{"127.0.0.1", 0, HOSTNAME_OK, "127.0.0.1"},
	{"a", 0, HOSTNAME_OK, "a"},
	{"-a-.b", 0, HOSTNAME_OK, "-a-.b"},
	{"", 0, HOSTNAME_EMPTY, NULL},
	{".", 0, HOSTNAME_EMPTY_LABEL, NULL},
	{"..", 0, HOSTNAME_EMPTY_LABEL, NULL},
	{"a..b", 0, HOSTNAME_EMPTY_LABEL, NULL},
	{".example.com", 0, HOSTNAME_EMPTY_LABEL, NULL},
	{"example.com..", 0, HOSTNAME_EMPTY_LABEL, NULL},
	{"a\0b", 3, HOSTNAME_BAD_CHAR, NULL},
	{"www.example.com\0.evil.com", 25, HOSTNAME_BAD_CHAR, NULL},
	{"a/b", 0, HOSTNAME_BAD_CHAR, NULL},
	{"a b", 0, HOSTNAME_BAD_CHAR, NULL},
	{"a\r\nb", 0, HOSTNAME_BAD_CHAR, NULL},
	{"b\xc3\xbc"
	 "cher.de",
	 0, HOSTNAME_BAD_CHAR, NULL},
	{"*.example.com", 0, HOSTNAME_BAD_CHAR, NULL},
	{"a:443", 0, HOSTNAME_BAD_CHAR, NULL},
};

Test(hostname, normalize_follows_the_sni_rules)
{
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		size_t len = c->len ? c->len : strlen(c->in), out_len = 12345;
		char out[HOSTNAME_MAX + 1];
		enum hostname_result r = hostname_normalize(c->in, len, out, &out_len);

		cr_expect_eq(r, c->want, "\"%s\": got \"%s\", want \"%s\"", c->in,
			     hostname_result_str(r), hostname_result_str(c->want));
		if (r == HOSTNAME_OK && c->out) {
			cr_expect_str_eq(out, c->out, "\"%s\"", c->in);
			cr_expect_eq(out_len, strlen(c->out), "\"%s\": out_len %zu", c->in,
				     out_len);
		}
	}
}

Test(hostname, input_need_not_be_nul_terminated)
{
	char out[HOSTNAME_MAX + 1];
	size_t out_len;

	cr_assert_eq(hostname_normalize("Example.COM/path", 11, out, &out_len), HOSTNAME_OK);
	cr_assert_str_eq(out, "example.com");
	cr_assert_eq(out_len, 11);
}

/* Fills buf with n bytes of 63-byte labels: "aaa...a.aaa...a.a". */
static void long_name(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (i % 64 == 63) ? '.' : 'a';
	if (buf[n - 1] == '.')
		buf[n - 1] = 'b';
}

Test(hostname, names_up_to_255_bytes_are_accepted)
{
	char in[300], out[HOSTNAME_MAX + 1];
	size_t out_len;

	long_name(in, 255);
	cr_assert_eq(hostname_normalize(in, 255, out, &out_len), HOSTNAME_OK);
	cr_assert_eq(out_len, 255);
	cr_assert_eq(memcmp(out, in, 255), 0);
	cr_assert_eq(out[255], '\0');
}

Test(hostname, names_of_256_bytes_are_rejected_even_with_a_trailing_dot)
{
	char in[300], out[HOSTNAME_MAX + 1];
	size_t out_len;

	long_name(in, 256);
	cr_assert_eq(hostname_normalize(in, 256, out, &out_len), HOSTNAME_TOO_LONG);
	/* 255 characters plus the root dot: the wire limit counts what was sent */
	long_name(in, 255);
	in[255] = '.';
	cr_assert_eq(hostname_normalize(in, 256, out, &out_len), HOSTNAME_TOO_LONG);
}

struct pattern_case {
	const char *in;
	enum hostname_result want;
	const char *out;
	bool is_wildcard;
};

static const struct pattern_case pattern_cases[] = {
	{"*", HOSTNAME_OK, "*", true},
	{"*.Example.COM.", HOSTNAME_OK, "*.example.com", true},
	{"*.example.com", HOSTNAME_OK, "*.example.com", true},
	{"API.example.com", HOSTNAME_OK, "api.example.com", false},
	{"a.*.com", HOSTNAME_BAD_WILDCARD, NULL, false},
	{"*a.com", HOSTNAME_BAD_WILDCARD, NULL, true},
	{"**.com", HOSTNAME_BAD_WILDCARD, NULL, true},
	{"*.*.com", HOSTNAME_BAD_WILDCARD, NULL, true},
	{"example.*", HOSTNAME_BAD_WILDCARD, NULL, false},
	{"*.", HOSTNAME_EMPTY, NULL, true},
	{"*..com", HOSTNAME_EMPTY_LABEL, NULL, true},
	{"*.a/b", HOSTNAME_BAD_CHAR, NULL, true},
	{"", HOSTNAME_EMPTY, NULL, false},
};

Test(hostname, pattern_normalize_allows_only_a_leading_star_label)
{
	for (size_t i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]); i++) {
		const struct pattern_case *c = &pattern_cases[i];
		char out[HOSTNAME_MAX + 1];
		size_t out_len = 0;
		bool is_wildcard = !c->is_wildcard;
		enum hostname_result r = hostname_pattern_normalize(c->in, strlen(c->in), out,
								    &out_len, &is_wildcard);

		cr_expect_eq(r, c->want, "\"%s\": got \"%s\", want \"%s\"", c->in,
			     hostname_result_str(r), hostname_result_str(c->want));
		cr_expect_eq(is_wildcard, c->is_wildcard, "\"%s\": is_wildcard %d", c->in,
			     is_wildcard);
		if (r == HOSTNAME_OK && c->out) {
			cr_expect_str_eq(out, c->out, "\"%s\"", c->in);
			cr_expect_eq(out_len, strlen(c->out), "\"%s\": out_len %zu", c->in,
				     out_len);
		}
	}
}

Test(hostname, every_result_has_a_description)
{
	for (int r = HOSTNAME_OK; r <= HOSTNAME_BAD_WILDCARD; r++)
		cr_expect_str_neq(hostname_result_str((enum hostname_result)r), "unknown",
				  "result %d", r);
}
