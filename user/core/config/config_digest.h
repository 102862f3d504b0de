/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* config_digest.h: a fingerprint of what a load of some --config paths would
 * read, so a directory watch can tell a change of content from noise. Names
 * alone cannot tell: a Kubernetes ConfigMap volume changes every file at once
 * by renaming one hidden symlink ("..data") and leaves the visible names as
 * they were, while editors and tools create and remove hidden files that
 * change nothing. */
#ifndef SG_CONFIG_DIGEST_H
#define SG_CONFIG_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hashes, for each path in order, the files config_load_paths() would read
 * (a directory's *.yaml and *.yml entries not starting with '.', symlinks
 * followed, in strcmp() order; a file as it is): their names and bytes. A
 * file or directory that cannot be read is hashed as its name and errno, so
 * it appearing or vanishing changes the digest too. Not for security: a
 * 64-bit FNV-1a. Returns 0 or -ENOMEM. */
int config_digest_paths(const char *const *paths, size_t n, uint64_t *out);

/* True for a name the loader reads from a directory (config.c uses it). */
bool config_is_yaml_name(const char *name);

#endif
