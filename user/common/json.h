/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* json.h: writing JSON text to a stdio stream. Strings are escaped so that
 * user-written names (routes, files) can never end the string they are in. */
#ifndef SG_JSON_H
#define SG_JSON_H

#include <stdio.h>

/* Writes s as a JSON string, quotes included; NULL as null. */
void json_str(FILE *f, const char *s);

/* Writes ",\"key\":" (no comma when *first; then clears it). */
void json_key(FILE *f, const char *key, int *first);

#endif
