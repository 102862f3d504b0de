// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* opt_doc.c: see opt_doc.h. */
#include <string.h>

#include "opt_doc.h"

void opt_doc_usage(FILE *f, const struct opt_doc *docs, size_t n, int width)
{
	for (size_t i = 0; i < n; i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", docs[i].opt.name, docs[i].arg ? " " : "",
			 docs[i].arg ? docs[i].arg : "");
		fprintf(f, "  %-*s %s\n", width, left, docs[i].help);
	}
}

void opt_doc_longopts(const struct opt_doc *docs, size_t n, struct option *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = docs[i].opt;
	memset(&out[n], 0, sizeof(out[n]));
}
