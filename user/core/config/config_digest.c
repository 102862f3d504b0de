// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_digest.c: see config_digest.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_digest.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static void fnv(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= FNV_PRIME;
	}
}

/* Lengths go in first, so "ab"+"c" and "a"+"bc" differ. */
static void fnv_field(uint64_t *h, const void *p, size_t n)
{
	uint64_t len = n;

	fnv(h, &len, sizeof(len));
	fnv(h, p, n);
}

static void fnv_errno(uint64_t *h, int err)
{
	fnv_field(h, "!", 1);
	fnv(h, &err, sizeof(err));
}

bool config_is_yaml_name(const char *n)
{
	size_t len = strlen(n);

	if (n[0] == '.')
		return false;
	return (len > 5 && !strcmp(n + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(n + len - 4, ".yml"));
}

static void hash_file(uint64_t *h, const char *path)
{
	char buf[65536];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	fnv_field(h, path, strlen(path));
	if (fd == -1) {
		fnv_errno(h, errno);
		return;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fnv_errno(h, errno);
			break;
		}
		fnv(h, buf, (size_t)r);
	}
	close(fd);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int hash_dir(uint64_t *h, const char *dir)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int err = 0;
	DIR *d = opendir(dir);

	fnv_field(h, dir, strlen(dir));
	if (!d) {
		fnv_errno(h, errno);
		return 0;
	}
	while ((e = readdir(d))) {
		struct stat st;
		char *p;

		if (!config_is_yaml_name(e->d_name))
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) {
			err = -ENOMEM;
			break;
		}
		/* What the loader skips (not a regular file once followed) is not
		 * read, so it does not count. */
		if (stat(p, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			char **grown = realloc(names, (cap ? cap * 2 : 16) * sizeof(*names));

			if (!grown) {
				free(p);
				err = -ENOMEM;
				break;
			}
			names = grown;
			cap = cap ? cap * 2 : 16;
		}
		names[n++] = p;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!err)
			hash_file(h, names[i]);
		free(names[i]);
	}
	free(names);
	return err;
}

int config_digest_paths(const char *const *paths, size_t n, uint64_t *out)
{
	uint64_t h = FNV_OFFSET;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		struct stat st;

		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			err = hash_dir(&h, paths[i]);
		else
			hash_file(&h, paths[i]);
	}
	*out = h;
	return err;
}
