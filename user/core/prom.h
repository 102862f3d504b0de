/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* prom.h: the small pieces of the Prometheus text format that need care:
 * label values come from user configuration and client input, so they are
 * escaped as the format requires. Pure. */
#ifndef SG_PROM_H
#define SG_PROM_H

#include <stddef.h>
#include <stdio.h>

/* Writes `a="x",b="y"` (no braces) with each value escaped: backslash,
 * double quote and newline become \\, \" and \n. n may be 0. */
void prom_write_labels(FILE *f, const char *const *names, const char *const *values, size_t n);

/* Writes a sample value: integers exactly, fractions with 15 significant
 * digits, as the format spells them ("+Inf", "NaN"). */
void prom_write_value(FILE *f, double v);

#endif
