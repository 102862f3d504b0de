// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_hello_build.c: the ClientHello builder against our own parser (whole and
 * bytewise), its fixed TLS 1.3 offer, its determinism, and every error path:
 * a buffer one byte short, bad names, bad ALPN lists. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "clienthello.h"
#include "hello_build.h"

#define BUF_MAX (HELLO_BUILD_RECORD_MAX + 64)

struct combo {
	const char *sni;     /* as given to the builder */
	const char *want;    /* as the parser must report it; NULL: no SNI */
	const char *alpn[4]; /* NULL-terminated */
};

static const struct combo combos[] = {
	{"sample.aliyun.com", "sample.aliyun.com", {"h2", "http/1.1", NULL}},
	{"bench.sockgate.test", "bench.sockgate.test", {NULL}},
	{"Mixed.Case.Example.", "mixed.case.example", {"http/1.1", NULL}},
	{NULL, NULL, {"h2", NULL}},
	{NULL, NULL, {NULL}},
	{"a", "a", {"x", "acme-tls/1", "h3", NULL}},
	{"_svc.under_score.example", "_svc.under_score.example", {"imap", NULL}},
};

static size_t alpn_count(const struct combo *c)
{
	size_t n = 0;

	while (c->alpn[n])
		n++;
	return n;
}

static void spec_fill(struct hello_spec *s, const char *sni, const char *const *alpn, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->sni = sni;
	s->alpn = alpn;
	s->n_alpn = n;
	for (size_t i = 0; i < 32; i++) {
		s->random[i] = (uint8_t)(0x10 + i);
		s->session_id[i] = (uint8_t)(0x80 + i);
		s->key_share[i] = (uint8_t)(0xc0 ^ i);
	}
}

static struct chello_parser *parser_new(void)
{
	struct chello_parser *p = malloc(sizeof(*p));

	cr_assert(p);
	chello_init(p);
	return p;
}

/* Checks that a complete parse reports the combo's SNI and exactly its ALPN list. */
static void check_info(const struct combo *c, const struct chello_info *info, size_t len,
		       const char *how)
{
	const uint8_t *name;
	size_t name_len, off, i = 0;

	cr_assert_eq(info->hello_end, len, "%s: hello_end %zu, record %zu", how, info->hello_end,
		     len);
	cr_assert_eq(info->n_records, 1, "%s: one record", how);
	cr_assert_eq(info->legacy_version, 0x0303, "%s", how);
	cr_assert_eq(info->has_sni, c->want != NULL, "%s: has_sni", how);
	if (c->want)
		cr_assert_str_eq(info->sni, c->want, "%s", how);
	cr_assert_eq(info->has_alpn, alpn_count(c) > 0, "%s: has_alpn", how);
	for_each_alpn (name, name_len, info->alpn, info->alpn_len, off) {
		cr_assert(c->alpn[i], "%s: extra ALPN name", how);
		cr_assert_eq(name_len, strlen(c->alpn[i]), "%s: ALPN %zu", how, i);
		cr_assert(!memcmp(name, c->alpn[i], name_len), "%s: ALPN %zu", how, i);
		i++;
	}
	cr_assert_eq(i, alpn_count(c), "%s: %zu ALPN names parsed", how, i);
	cr_assert_eq(info->n_versions, 2, "%s", how);
	cr_assert_eq(info->versions[0], 0x0304, "%s: TLS 1.3 first", how);
	cr_assert_eq(info->versions[1], 0x0303, "%s", how);
}

Test(hello_build, output_parses_whole_with_same_sni_and_alpn)
{
	struct chello_parser *p = parser_new();
	uint8_t buf[BUF_MAX];
	struct hello_spec s;

	for (size_t k = 0; k < sizeof(combos) / sizeof(combos[0]); k++) {
		const struct combo *c = &combos[k];
		ssize_t n;

		spec_fill(&s, c->sni, c->alpn, alpn_count(c));
		n = hello_build(buf, sizeof(buf), &s);
		cr_assert_gt(n, 0, "combo %zu: %zd", k, n);
		cr_assert_eq(buf[0], 0x16);
		cr_assert_eq((size_t)((buf[3] << 8) | buf[4]), (size_t)n - 5, "record length");
		chello_init(p);
		cr_assert_eq(chello_feed(p, buf, (size_t)n), CHELLO_OK, "combo %zu: %s", k,
			     chello_reason_str(p->reason));
		check_info(c, &p->info, (size_t)n, c->sni ? c->sni : "(no sni)");
	}
	free(p);
}

Test(hello_build, output_parses_bytewise_and_completes_on_the_last_byte)
{
	struct chello_parser *p = parser_new();
	uint8_t buf[BUF_MAX];
	struct hello_spec s;

	for (size_t k = 0; k < sizeof(combos) / sizeof(combos[0]); k++) {
		const struct combo *c = &combos[k];
		ssize_t n;

		spec_fill(&s, c->sni, c->alpn, alpn_count(c));
		n = hello_build(buf, sizeof(buf), &s);
		cr_assert_gt(n, 0);
		chello_init(p);
		for (ssize_t i = 0; i < n - 1; i++)
			cr_assert_eq(chello_feed(p, buf + i, 1), CHELLO_NEED_MORE,
				     "combo %zu: byte %zd of %zd", k, i, n);
		cr_assert_eq(chello_feed(p, buf + n - 1, 1), CHELLO_OK, "combo %zu", k);
		check_info(c, &p->info, (size_t)n, "bytewise");
	}
	free(p);
}

/* Finds the 2-byte type `type` in the extensions block; returns its body or NULL. */
static const uint8_t *find_ext(const uint8_t *rec, size_t n, unsigned type, size_t *len)
{
	/* record 5 + handshake 4 + version 2 + random 32 + session id 33 */
	size_t off = 5 + 4 + 2 + 32 + 33, end;

	off += 2 + (size_t)((rec[off] << 8) | rec[off + 1]);
	off += 1 + rec[off];
	end = off + 2 + (size_t)((rec[off] << 8) | rec[off + 1]);
	cr_assert_eq(end, n, "extensions end the record");
	for (off += 2; off + 4 <= end;) {
		unsigned t = (unsigned)((rec[off] << 8) | rec[off + 1]);
		size_t l = (size_t)((rec[off + 2] << 8) | rec[off + 3]);

		if (t == type) {
			*len = l;
			return rec + off + 4;
		}
		off += 4 + l;
	}
	return NULL;
}

Test(hello_build, caller_bytes_land_in_random_session_id_and_key_share)
{
	static const uint8_t tls13_suites[] = {0x13, 0x01, 0x13, 0x02, 0x13, 0x03};
	uint8_t buf[BUF_MAX];
	const uint8_t *ks;
	struct hello_spec s;
	size_t len;
	ssize_t n;

	spec_fill(&s, "x.example", NULL, 0);
	n = hello_build(buf, sizeof(buf), &s);
	cr_assert_gt(n, 0);
	cr_assert(!memcmp(buf + 11, s.random, 32), "random follows legacy_version");
	cr_assert_eq(buf[43], 32, "32-byte legacy_session_id");
	cr_assert(!memcmp(buf + 44, s.session_id, 32));
	cr_assert(!memcmp(buf + 78, tls13_suites, sizeof(tls13_suites)), "TLS 1.3 suites first");
	ks = find_ext(buf, (size_t)n, 0x0033, &len);
	cr_assert(ks, "key_share present");
	cr_assert_eq(len, 2 + 2 + 2 + 32);
	cr_assert_eq((ks[2] << 8) | ks[3], 0x001d, "x25519");
	cr_assert(!memcmp(ks + 6, s.key_share, 32));
	cr_assert(find_ext(buf, (size_t)n, 0x000a, &len), "supported_groups");
	cr_assert(find_ext(buf, (size_t)n, 0x000d, &len), "signature_algorithms");
	cr_assert(find_ext(buf, (size_t)n, 0x002d, &len), "psk_key_exchange_modes");
	cr_assert(find_ext(buf, (size_t)n, 0x000b, &len), "ec_point_formats");
	cr_assert_null(find_ext(buf, (size_t)n, 0x0010, &len), "no ALPN when none given");
}

Test(hello_build, same_spec_gives_same_bytes)
{
	static const char *const alpn[] = {"h2"};
	uint8_t a[BUF_MAX], b[BUF_MAX];
	struct hello_spec s;
	ssize_t na, nb;

	spec_fill(&s, "same.example", alpn, 1);
	na = hello_build(a, sizeof(a), &s);
	nb = hello_build(b, sizeof(b), &s);
	cr_assert_gt(na, 0);
	cr_assert_eq(na, nb);
	cr_assert(!memcmp(a, b, (size_t)na));
}

Test(hello_build, longest_name_without_alpn_fits_the_base_bound)
{
	char name[HOSTNAME_MAX + 1];
	uint8_t buf[BUF_MAX];
	struct hello_spec s;
	ssize_t n;

	/* 63-byte labels keep the name DNS-shaped; the parser allows any label length */
	memset(name, 'a', HOSTNAME_MAX);
	for (size_t i = 63; i < HOSTNAME_MAX; i += 64)
		name[i] = '.';
	name[HOSTNAME_MAX] = '\0';
	spec_fill(&s, name, NULL, 0);
	n = hello_build(buf, sizeof(buf), &s);
	cr_assert_gt(n, 0);
	cr_assert_leq(n, HELLO_BUILD_BASE_MAX);
}

Test(hello_build, every_short_buffer_is_enospc_and_never_written_past)
{
	static const char *const alpn[] = {"h2", "http/1.1"};
	uint8_t want[BUF_MAX], buf[BUF_MAX];
	struct hello_spec s;
	ssize_t n;

	spec_fill(&s, "short.example", alpn, 2);
	n = hello_build(want, sizeof(want), &s);
	cr_assert_gt(n, 0);
	for (size_t cap = 0; cap < (size_t)n; cap++) {
		memset(buf, 0xee, sizeof(buf));
		cr_assert_eq(hello_build(buf, cap, &s), -ENOSPC, "cap %zu", cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], 0xee, "cap %zu: byte %zu written", cap, i);
	}
	cr_assert_eq(hello_build(buf, (size_t)n, &s), n, "exact fit");
	cr_assert(!memcmp(buf, want, (size_t)n));
}

Test(hello_build, bad_sni_is_einval)
{
	static const char *const bad[] = {"", ".", "a..b", ".lead", "sla/sh", "sp ace", "nul\x01"};
	char long_name[HOSTNAME_MAX + 2];
	uint8_t buf[BUF_MAX];
	struct hello_spec s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spec_fill(&s, bad[i], NULL, 0);
		cr_assert_eq(hello_build(buf, sizeof(buf), &s), -EINVAL, "sni \"%s\"", bad[i]);
	}
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	spec_fill(&s, long_name, NULL, 0);
	cr_assert_eq(hello_build(buf, sizeof(buf), &s), -EINVAL, "256-byte name");
}

Test(hello_build, bad_alpn_is_einval)
{
	static const char *const empty_name[] = {"h2", ""};
	static const char *const null_name[] = {"h2", NULL};
	char long_name[257];
	const char *long_list[] = {long_name};
	uint8_t buf[BUF_MAX];
	struct hello_spec s;

	spec_fill(&s, "a.example", empty_name, 2);
	cr_assert_eq(hello_build(buf, sizeof(buf), &s), -EINVAL, "empty name");
	spec_fill(&s, "a.example", null_name, 2);
	cr_assert_eq(hello_build(buf, sizeof(buf), &s), -EINVAL, "NULL name");
	spec_fill(&s, "a.example", NULL, 1);
	cr_assert_eq(hello_build(buf, sizeof(buf), &s), -EINVAL, "NULL list");
	memset(long_name, 'p', 256);
	long_name[256] = '\0';
	spec_fill(&s, "a.example", long_list, 1);
	cr_assert_eq(hello_build(buf, sizeof(buf), &s), -EINVAL, "256-byte name");
	long_name[255] = '\0';
	cr_assert_gt(hello_build(buf, sizeof(buf), &s), 0, "255-byte name is fine");
}

Test(hello_build, alpn_list_beyond_one_record_is_einval)
{
	/* 70 names of 255 bytes: 17920 bytes of ALPN, more than a record holds */
	static char name[256];
	const char *list[70];
	uint8_t buf[BUF_MAX];
	struct hello_spec s;

	memset(name, 'q', 255);
	for (size_t i = 0; i < 70; i++)
		list[i] = name;
	spec_fill(&s, "a.example", list, 70);
	cr_assert_eq(hello_build(buf, sizeof(buf), &s), -EINVAL);
	spec_fill(&s, "a.example", list, 60);
	cr_assert_gt(hello_build(buf, sizeof(buf), &s), 15000, "60 names still fit");
}
