// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* json_pretty.c: see json_pretty.h. */
#include <stdbool.h>

#include "json_pretty.h"

static void newline(FILE *out, int depth)
{
	fputc('\n', out);
	for (int i = 0; i < depth; i++)
		fputs("  ", out);
}

void json_pretty(const char *s, size_t len, FILE *out)
{
	bool in_str = false, esc = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			fputc(c, out);
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			fputc(c, out);
			break;
		case '{':
		case '[': {
			size_t j = i + 1;

			while (j < len &&
			       (s[j] == ' ' || s[j] == '\n' || s[j] == '\t' || s[j] == '\r'))
				j++;
			fputc(c, out);
			if (j < len && (s[j] == '}' || s[j] == ']')) { /* {} and [] stay whole */
				fputc(s[j], out);
				i = j;
				break;
			}
			newline(out, ++depth);
			break;
		}
		case '}':
		case ']':
			newline(out, depth > 0 ? --depth : 0);
			fputc(c, out);
			if (depth == 0)
				fputc('\n', out);
			break;
		case ',':
			fputc(c, out);
			newline(out, depth);
			break;
		case ':':
			fputs(": ", out);
			break;
		case ' ':
		case '\n':
		case '\t':
		case '\r':
			break;
		default:
			fputc(c, out);
		}
	}
}
