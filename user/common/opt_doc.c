// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* opt_doc.c: see opt_doc.h. */
#include <errno.h>
#include <string.h>

#include "opt_doc.h"

void opt_doc_usage(FILE *f, const struct opt_doc *docs, size_t n, int width)
{
	for (size_t i = 0; i < n; i++) {
		char left[56], dash[5] = "    ";

		if (OPT_DOC_HAS_SHORT(&docs[i]))
			snprintf(dash, sizeof(dash), "-%c, ", docs[i].opt.val);
		snprintf(left, sizeof(left), "%s--%s%s%s", dash, docs[i].opt.name,
			 docs[i].arg ? " " : "", docs[i].arg ? docs[i].arg : "");
		fprintf(f, "  %-*s %s\n", width + 4, left, docs[i].help);
	}
}

int opt_doc_shortopts(const struct opt_doc *docs, size_t n, const char *prefix, char *out,
		      size_t len)
{
	size_t k = strlen(prefix);

	if (k >= len)
		return -ENOSPC;
	memcpy(out, prefix, k);
	for (size_t i = 0; i < n; i++) {
		if (!OPT_DOC_HAS_SHORT(&docs[i]))
			continue;
		if (k + 3 > len)
			return -ENOSPC;
		out[k++] = (char)docs[i].opt.val;
		if (docs[i].opt.has_arg == required_argument)
			out[k++] = ':';
	}
	out[k] = '\0';
	return 0;
}

void opt_doc_longopts(const struct opt_doc *docs, size_t n, struct option *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = docs[i].opt;
	memset(&out[n], 0, sizeof(out[n]));
}
