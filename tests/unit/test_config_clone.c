// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_config_clone.c: config_clone() of every good configuration file is the
 * same model (config_dump() text) and shares no memory with the original:
 * the original is freed before the copy is read and freed, so under ASan a
 * member copied shallowly is a use-after-free or a double free here. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_text.h"
#include "dns_cache.h"

#define GOOD SG_TEST_DATA "/configs/good"

/* Every endpoint name answered, so that resolved endpoints are copied too. */
static void resolve(struct config *c)
{
	struct dns_cache *cache = dns_cache_new();
	struct dns_addr a = {.len = sizeof(struct sockaddr_in)};
	struct cfg_lookup lk;
	const char **names;
	size_t n;

	a.sa.ss_family = AF_INET;
	cr_assert_eq(config_hostnames(c, &names, &n), 0);
	for (size_t i = 0; i < n; i++) {
		enum dns_update u;

		cr_assert_eq(dns_cache_update(cache, names[i], &a, 1, NULL, &u), 0);
	}
	free(names);
	dns_cache_lookup(cache, &lk);
	cr_assert_eq(config_resolve_with(c, &lk, NULL), 0);
	dns_cache_free(cache);
}

static void check_clone(const char *path, bool is_resolved)
{
	struct config *c = NULL, *copy;
	char *before, *after;

	cr_assert_eq(config_load_path(path, NULL, &c, NULL), 0, "%s", path);
	if (is_resolved)
		resolve(c);
	copy = config_clone(c);
	cr_assert_not_null(copy);
	before = config_text_dump(c);
	config_free(c);
	after = config_text_dump(copy);
	cr_assert_str_eq(after, before, "%s", path);
	for (size_t i = 0; i < copy->n_routes; i++)
		cr_assert_str_eq(copy->routes[i].src.file,
				 copy->files[copy->routes[i].src.file_index],
				 "cfg_src.file points into the copy's files");
	config_free(copy);
	free(before);
	free(after);
}

Test(config_clone, every_good_file_is_copied_whole)
{
	DIR *d = opendir(GOOD);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char path[512];

		if (!strstr(e->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", GOOD, e->d_name);
		check_clone(path, false);
		check_clone(path, true);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 5);
}
