// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_table.c: columns fit their widest cell; the last column is unpadded. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "table.h"

Test(table, columns_fit_the_widest_cell)
{
	static const char *const cols[] = {"NAME", "N", "LAST"};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct table t;

	table_init(&t, cols, 3);
	table_cell(&t, "%s", "a-long-name");
	table_cell(&t, "%d", 12345);
	table_cell(&t, "%s", "x");
	table_cell(&t, "%s", "b");
	table_cell(&t, "%d", 7);
	table_cell(&t, "%s", "yy");
	cr_assert_eq(table_print(&t, f), 0);
	fclose(f);
	cr_assert_str_eq(text, "NAME         N      LAST\n"
			       "a-long-name  12345  x\n"
			       "b            7      yy\n");
	table_free(&t);
	free(text);
}

Test(table, right_aligned_columns_and_capped_cells_cut_in_the_middle)
{
	static const char *const cols[] = {"NAME", "BYTES", "LAST"};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct table t;

	table_init(&t, cols, 3);
	table_align_right(&t, 1);
	table_max_width(&t, 0, 9);
	table_cell(&t, "%s", "abcdefghijklmnop");
	table_cell(&t, "%d", 7);
	table_cell(&t, "%s", "x");
	table_cell(&t, "%s", "short");
	table_cell(&t, "%d", 123456);
	table_cell(&t, "%s", "y");
	cr_assert_eq(table_print(&t, f), 0);
	fclose(f);
	cr_assert_str_eq(text, "NAME        BYTES  LAST\n"
			       "abc...nop       7  x\n"
			       "short      123456  y\n");
	table_free(&t);
	free(text);
}
