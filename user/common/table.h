/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* table.h: text tables whose columns fit their widest cell, for the show
 * commands and `sockgate top`. Cells are copied; a table is built, printed
 * once, freed. Columns are left-aligned and as wide as needed unless
 * table_align_right() or table_max_width() say otherwise. */
#ifndef SG_TABLE_H
#define SG_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 12

struct table {
	size_t n_cols;
	char **cells; /* row-major */
	size_t n_cells, cap;
	int err;	    /* -ENOMEM once a cell could not be kept; printing then says so */
	unsigned int right; /* bit i: column i is right-aligned */
	size_t max_width[TABLE_MAX_COLS]; /* 0: no limit */
};

/* A table whose first row is the header cols[0..n_cols). */
void table_init(struct table *t, const char *const *cols, size_t n_cols);

/* Right-aligns column col, header included (for numbers). */
void table_align_right(struct table *t, size_t col);

/* Caps column col at width (>= 4) characters: a longer cell keeps its start
 * and end around "...", as the flow map keeps long route names. */
void table_max_width(struct table *t, size_t col, size_t width);

/* Appends one cell to the current row (rows wrap after n_cols cells). */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints every row, columns separated by two spaces, the last one unpadded.
 * Returns 0 or -ENOMEM. */
int table_print(const struct table *t, FILE *out);

void table_free(struct table *t);

#endif
