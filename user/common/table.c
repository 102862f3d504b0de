// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* table.c: see table.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_init(struct table *t, const char *const *cols, size_t n_cols)
{
	memset(t, 0, sizeof(*t));
	t->n_cols = n_cols < TABLE_MAX_COLS ? n_cols : TABLE_MAX_COLS;
	for (size_t i = 0; i < t->n_cols; i++)
		table_cell(t, "%s", cols[i]);
}

void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (t->err)
		return;
	if (t->n_cells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **cells = realloc(t->cells, cap * sizeof(*cells));

		if (!cells) {
			t->err = -ENOMEM;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		t->err = -ENOMEM;
		s = NULL;
	}
	va_end(ap);
	if (s)
		t->cells[t->n_cells++] = s;
}

int table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_MAX_COLS] = {0};

	if (t->err) {
		fprintf(out, "out of memory building the table\n");
		return t->err;
	}
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t len = strlen(t->cells[i]);

		if (len > width[i % t->n_cols])
			width[i % t->n_cols] = len;
	}
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t col = i % t->n_cols;
		bool is_last = col + 1 == t->n_cols || i + 1 == t->n_cells;

		if (is_last)
			fprintf(out, "%s\n", t->cells[i]);
		else
			fprintf(out, "%-*s  ", (int)width[col], t->cells[i]);
	}
	return 0;
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n_cells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
