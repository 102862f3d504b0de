// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_digest.c: config_digest_paths(), what the directory watch
 * compares: a ConfigMap update (the kubelet's "..data" symlink swap, where no
 * visible name changes) changes the digest; hidden files, non-YAML names and
 * touching a file without changing its bytes do not. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_digest.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/sg-digest.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

static void sh(const char *fmt, const char *arg)
{
	char cmd[1024], script[900];

	snprintf(script, sizeof(script), fmt, arg);
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s", dir, script);
	cr_assert_eq(system(cmd), 0, "%s", script);
}

static uint64_t digest(void)
{
	const char *p = dir;
	uint64_t d;

	cr_assert_eq(config_digest_paths(&p, 1, &d), 0);
	return d;
}

/* The kubelet's atomic writer: a timestamped directory with the files, "..data"
 * pointing at it, and each visible name a symlink through "..data". */
static void configmap(const char *ts, const char *content)
{
	char script[512];

	snprintf(script, sizeof(script),
		 "mkdir ..%s && printf '%%s' '%s' >..%s/gateway.yaml && "
		 "ln -s ..%s ..data_tmp && mv -T ..data_tmp ..data",
		 ts, content, ts, ts);
	sh("%s", script);
}

TestSuite(config_digest, .init = setup, .fini = teardown);

Test(config_digest, configmap_symlink_swap_changes_it)
{
	uint64_t before, after;

	configmap("2026_12_07_18_00_00.123", "routes: []\n");
	sh("%s", "ln -s ..data/gateway.yaml gateway.yaml");
	before = digest();
	cr_expect_eq(digest(), before, "the digest is stable");
	configmap("2026_12_07_18_05_00.456", "routes: [x]\n");
	sh("%s", "rm -rf ..2026_12_07_18_00_00.123");
	after = digest();
	cr_expect_neq(after, before, "the ..data swap changes what gateway.yaml reads");
}

Test(config_digest, noise_does_not_change_it)
{
	uint64_t before;

	sh("%s", "printf 'routes: []\\n' >a.yaml");
	before = digest();
	sh("%s", "touch a.yaml && printf x >.a.yaml.swp && printf x >notes.txt && mkdir sub.yaml");
	cr_expect_eq(digest(), before, "hidden, non-YAML and directory entries are not read");
	sh("%s", "ln -s nowhere dangling.yaml");
	cr_expect_eq(digest(), before, "a dangling symlink is skipped, as the loader skips it");
	sh("%s", "printf 'routes: [] \\n' >a.yaml");
	cr_expect_neq(digest(), before, "one more byte changes it");
}

Test(config_digest, names_and_presence_count)
{
	uint64_t one, renamed;

	sh("%s", "printf 'x: 1\\n' >a.yaml");
	one = digest();
	sh("%s", "mv a.yaml b.yml");
	renamed = digest();
	cr_expect_neq(renamed, one, "a rename changes the file name diagnostics carry");
	sh("%s", "rm b.yml");
	cr_expect_neq(digest(), renamed, "an emptied directory differs");
}
