/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* top_render.h: one `sockgate top` frame as text: three summary lines, then
 * the routes, endpoints and live flows tables, each line cut to the terminal
 * width and the whole frame fit to its height. No escape codes: the caller
 * decides where the text goes. */
#ifndef SG_CLI_TOP_RENDER_H
#define SG_CLI_TOP_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "top_agent.h"
#include "top_model.h"

struct top_frame {
	const struct top_model *m;
	const struct top_agent *agent;
	const char *flows_error; /* why the flow map could not be read, or NULL */
	enum top_sort sort;
	unsigned long refresh; /* frames sampled so far */
	double interval_s;
	time_t wall;	     /* shown as the local time of the sample */
	uint64_t now_ns;     /* CLOCK_MONOTONIC of the sample, for ages */
	int rows, cols;	     /* the terminal's size; 0: no limit (plain output) */
	bool is_interactive; /* keys work: say which */
};

/* Writes the frame to out, one '\n'-terminated line at a time: at most
 * fr->rows lines of at most fr->cols characters when they are not 0. A table
 * that does not fit shows its first rows (the busiest) and a "... N more"
 * line. Returns 0 or -ENOMEM. */
int top_render(const struct top_frame *fr, FILE *out);

#endif
