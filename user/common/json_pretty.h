/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* json_pretty.h: re-indents compact JSON for `sockgate -p`. */
#ifndef SG_JSON_PRETTY_H
#define SG_JSON_PRETTY_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..len) to out with two-space indentation, one member or element
 * a line. Strings are copied byte for byte; whitespace outside them is
 * dropped. It does not validate: the agent's and the CLI's JSON is. */
void json_pretty(const char *s, size_t len, FILE *out);

#endif
