// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_json_pretty.c: `sockgate -p` re-indents compact JSON without touching
 * strings, and the shared option table yields the short options. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "json_pretty.h"
#include "opt_doc.h"

static char *pretty(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	json_pretty(in, strlen(in), f);
	fclose(f);
	return buf;
}

Test(json_pretty, indents_objects_and_arrays)
{
	char *s = pretty("{\"a\":1,\"b\":[1,2],\"c\":{},\"d\":[]}\n");

	cr_assert_str_eq(s, "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": {},\n"
			    "  \"d\": []\n}\n");
	free(s);
}

Test(json_pretty, strings_are_copied_byte_for_byte)
{
	char *s = pretty("[\"a,b:{c}\",\"q\\\"[x]\\\\\",null]");

	cr_assert_str_eq(s, "[\n  \"a,b:{c}\",\n  \"q\\\"[x]\\\\\",\n  null\n]\n");
	free(s);
}

Test(opt_doc, shortopts_from_the_table)
{
	static const struct opt_doc docs[] = {
		{{"config", required_argument, NULL, 'c'}, "PATH", ""},
		{{"control", required_argument, NULL, 256}, "PATH", ""},
		{{"check", no_argument, NULL, 't'}, NULL, ""},
	};
	char buf[8];

	cr_assert_eq(opt_doc_shortopts(docs, 3, ":", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, ":c:t");
	cr_assert_lt(opt_doc_shortopts(docs, 3, ":", buf, 4), 0);
}
