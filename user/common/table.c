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

void table_align_right(struct table *t, size_t col)
{
	if (col < t->n_cols)
		t->right |= 1u << col;
}

void table_max_width(struct table *t, size_t col, size_t width)
{
	if (col < t->n_cols)
		t->max_width[col] = width < 4 ? 4 : width;
}

/* The cell as printed: cut in the middle when over its column's cap. */
static const char *shown(const struct table *t, size_t i, char *buf, size_t len)
{
	const char *s = t->cells[i];
	size_t max = t->max_width[i % t->n_cols], n = strlen(s), head, tail;

	if (!max || n <= max || max >= len)
		return s;
	tail = (max - 3) / 2;
	head = max - 3 - tail;
	snprintf(buf, len, "%.*s...%s", (int)head, s, s + n - tail);
	return buf;
}

int table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_MAX_COLS] = {0};
	char buf[1024];

	if (t->err) {
		fprintf(out, "out of memory building the table\n");
		return t->err;
	}
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t len = strlen(shown(t, i, buf, sizeof(buf)));

		if (len > width[i % t->n_cols])
			width[i % t->n_cols] = len;
	}
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t col = i % t->n_cols;
		bool is_last = col + 1 == t->n_cols || i + 1 == t->n_cells;
		const char *s = shown(t, i, buf, sizeof(buf));
		int w = (int)width[col];

		if (t->right & (1u << col))
			fprintf(out, "%*s%s", w, s, is_last ? "\n" : "  ");
		else if (is_last)
			fprintf(out, "%s\n", s);
		else
			fprintf(out, "%-*s  ", w, s);
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
