/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* opt_doc.h: a long option and its line of help in one table entry, so the
 * usage text and getopt_long()'s table cannot drift apart (sockgated's args.c
 * and the CLI's main.c). */
#ifndef SG_OPT_DOC_H
#define SG_OPT_DOC_H

#include <ctype.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

struct opt_doc {
	struct option opt;
	const char *arg; /* the value's name in the help ("PATH"); NULL without one */
	const char *help;
};

/* An option whose opt.val is a letter or digit also has that short form. */
#define OPT_DOC_HAS_SHORT(d) ((d)->opt.val > 0 && (d)->opt.val < 128 && isalnum((d)->opt.val))

/* Writes one line per option, "  -x, --name ARG" (or "      --name ARG")
 * padded to width, then its help. */
void opt_doc_usage(FILE *f, const struct opt_doc *docs, size_t n, int width);

/* getopt_long()'s short option string ("c:htV") from the table, with prefix
 * (":" or "") first; -ENOSPC when len is too small. */
int opt_doc_shortopts(const struct opt_doc *docs, size_t n, const char *prefix, char *out,
		      size_t len);

/* getopt_long()'s table: out[0..n) the options, out[n] the zero terminator. */
void opt_doc_longopts(const struct opt_doc *docs, size_t n, struct option *out);

#endif
