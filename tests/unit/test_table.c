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
