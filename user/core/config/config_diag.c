// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* config_diag.c: the list of config diagnostics ("file:line:column: path: message").
 * Every user string in a message goes through cfg_quote(), so a hostile file cannot
 * forge extra lines or terminal escapes in what an operator reads. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"

/* --- diagnostics ------------------------------------------------------------- */

static void diag_vadd(struct cfg_diags *d, const char *file, unsigned file_index, unsigned line,
		      unsigned column, const char *path, bool is_warning, int *err, const char *fmt,
		      va_list ap)
{
	struct cfg_diag *item, *items;

	if (!is_warning)
		d->n_errors++;
	if (d->n >= CFG_DIAGS_MAX) {
		d->n_dropped++;
		return;
	}
	items = realloc(d->items, (d->n + 1) * sizeof(*items));
	if (!items)
		goto err_nomem;
	d->items = items;
	item = &items[d->n];
	memset(item, 0, sizeof(*item));
	item->file = strdup(file ? file : "");
	item->path = strdup(path ? path : "");
	if (vasprintf(&item->message, fmt, ap) < 0)
		item->message = NULL;
	if (!item->file || !item->path || !item->message) {
		free(item->file);
		free(item->path);
		free(item->message);
		goto err_nomem;
	}
	item->line = line;
	item->column = column;
	item->is_warning = is_warning;
	item->file_index = file_index;
	d->n++;
	return;
err_nomem:
	if (err)
		*err = -ENOMEM;
}

static void diag_at(struct cfg_loader *l, const yaml_node_t *at, bool is_warning, const char *fmt,
		    va_list ap)
{
	unsigned line = at ? (unsigned)at->start_mark.line + 1 : 0;
	unsigned column = at ? (unsigned)at->start_mark.column + 1 : 0;
	char path[CFG_PATH_MAX];

	/* "Gateway/gw:" prefixes the keys of a document; alone it names the document. */
	snprintf(path, sizeof(path), "%s", l->path);
	if (l->path_len && path[l->path_len - 1] == ':')
		path[l->path_len - 1] = '\0';
	diag_vadd(l->diags, l->file, l->file_index, line, column, path, is_warning, &l->err, fmt,
		  ap);
}

void cfg_error(struct cfg_loader *l, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_at(l, at, false, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct cfg_loader *l, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_at(l, at, true, fmt, ap);
	va_end(ap);
}

void cfg_note(struct cfg_loader *l, const yaml_node_t *at, const char *fmt, ...)
{
	struct cfg_diags *d = l->diags;
	char *msg = NULL, *line = NULL, **notes;
	va_list ap;

	if (d->n_notes >= CFG_DIAGS_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg &&
	    asprintf(&line, "%s:%u:%u: %s%s%s", l->file, at ? (unsigned)at->start_mark.line + 1 : 0,
		     at ? (unsigned)at->start_mark.column + 1 : 0, l->path, l->path_len ? ": " : "",
		     msg) < 0)
		line = NULL;
	free(msg);
	notes = line ? realloc(d->notes, (d->n_notes + 1) * sizeof(*notes)) : NULL;
	if (!notes) {
		free(line);
		l->err = -ENOMEM;
		return;
	}
	d->notes = notes;
	d->notes[d->n_notes++] = line;
}

void cfg_diag_src(struct cfg_diags *d, const struct cfg_src *src, bool is_warning, int *err,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, src->file, src->file_index, src->line, src->column, src->path, is_warning, err,
		  fmt, ap);
	va_end(ap);
}

void cfg_src_set(struct cfg_loader *l, struct cfg_src *src, const yaml_node_t *at)
{
	src->file = l->file;
	src->file_index = l->file_index;
	src->line = at ? (unsigned)at->start_mark.line + 1 : 0;
	src->column = at ? (unsigned)at->start_mark.column + 1 : 0;
	src->path = cfg_strdup(l, l->path);
}

void cfg_src_fini(struct cfg_src *src)
{
	free(src->path);
	src->path = NULL;
}

const char *cfg_quote(struct cfg_loader *l, const char *s)
{
	char *buf = l->quote[l->quote_next++ % 4];
	size_t o = 0, cap = sizeof(l->quote[0]);

	buf[o++] = '"';
	for (; *s && o < cap - 12; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, cap - o, "\\%c", c);
		else if (c < ' ' || c >= 0x7f)
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (*s)
		o += (size_t)snprintf(buf + o, cap - o, "...");
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static int diag_cmp(const struct cfg_diag *a, const struct cfg_diag *b)
{
	if (a->file_index != b->file_index)
		return a->file_index < b->file_index ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->column != b->column)
		return a->column < b->column ? -1 : 1;
	return 0;
}

void cfg_diags_sort(struct cfg_diags *d, size_t from)
{
	/* Insertion sort: stable, and the list is capped at CFG_DIAGS_MAX. */
	for (size_t i = from + 1; i < d->n; i++) {
		struct cfg_diag tmp = d->items[i];
		size_t j = i;

		while (j > from && diag_cmp(&d->items[j - 1], &tmp) > 0) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = tmp;
	}
}

void cfg_diags_free(struct cfg_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].path);
		free(d->items[i].message);
	}
	free(d->items);
	for (size_t i = 0; i < d->n_notes; i++)
		free(d->notes[i]);
	free(d->notes);
	memset(d, 0, sizeof(*d));
}

int cfg_diags_print(const struct cfg_diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct cfg_diag *g = &d->items[i];

		fputs(g->file, f);
		if (g->line)
			fprintf(f, ":%u:%u", g->line, g->column);
		fputs(": ", f);
		if (g->path[0])
			fprintf(f, "%s: ", g->path);
		fprintf(f, "%s%s\n", g->is_warning ? "warning: " : "", g->message);
	}
	if (d->n_dropped)
		fprintf(f, "%zu more diagnostics not shown\n", d->n_dropped);
	return ferror(f) ? -EIO : 0;
}
