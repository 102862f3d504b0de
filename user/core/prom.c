// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* prom.c: see prom.h. */
#include <math.h>

#include "prom.h"

static void write_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			fputs("\\\\", f);
			break;
		case '"':
			fputs("\\\"", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

void prom_write_labels(FILE *f, const char *const *names, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", names[i]);
		write_escaped(f, values[i]);
		fputc('"', f);
	}
}

void prom_write_value(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else
		fprintf(f, "%.15g", v);
}
