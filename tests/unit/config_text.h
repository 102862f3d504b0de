/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* config_text.h: unit-test helpers that capture what the config module
 * prints (diagnostics, model dumps) as malloc()ed strings to compare. */
#ifndef SG_TEST_CONFIG_TEXT_H
#define SG_TEST_CONFIG_TEXT_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "config.h"

/* What cfg_diags_print() writes for d. free() it. */
static inline char *config_text_diags(const struct cfg_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cfg_diags_print(d, f);
	fclose(f);
	return text;
}

/* What config_dump() writes for c. free() it. */
static inline char *config_text_dump(const struct config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	config_dump(c, f);
	fclose(f);
	return text;
}

#endif
