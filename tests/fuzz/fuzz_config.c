// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* fuzz_config.c: libFuzzer over config_load_buf(), the entry point for files an
 * operator (or a control-socket client) hands the agent. Loads, dumps and prints the
 * diagnostics of every input, then frees all: ASan/UBSan and the leak checker see the
 * whole loader. No config_resolve(): fuzzing must not do DNS. Seeds:
 * tests/data/configs/ (good and bad). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_diags diags = {0};
	struct config *c = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	rc = config_load_buf((const char *)data, size, "fuzz.yaml", NULL, &c, &diags);
	/* The contract the agent relies on: a model exactly when there is no error. */
	if ((rc == 0) != (c != NULL) || (rc == 0 && diags.n_errors))
		abort();
	f = open_memstream(&text, &len);
	if (f) {
		cfg_diags_print(&diags, f);
		if (c)
			config_dump(c, f);
		fclose(f);
	}
	free(text);
	config_free(c);
	cfg_diags_free(&diags);
	return 0;
}
