/* table.c — box-drawn text tables for show() (see table.h). Widths count
 * UTF-8 code points, so non-ASCII values line up; long cells are cut. */
#include "engine/table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/sb.h"

#define MAX_CELL 48

static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* Appends s padded to w code points, cut with "…" when longer. */
static void cell(sb *b, const char *s, size_t w, bool right)
{
	size_t n = width(s);
	if (n > w) {
		size_t cps = 0;
		const char *p = s;
		while (*p && cps + 1 < w) {
			p++;
			while (((unsigned char)*p & 0xC0) == 0x80)
				p++;
			cps++;
		}
		sb_addn(b, s, (size_t)(p - s));
		sb_add(b, "…");
		return;
	}
	if (right)
		for (size_t i = n; i < w; i++)
			sb_add(b, " ");
	sb_add(b, s);
	if (!right)
		for (size_t i = n; i < w; i++)
			sb_add(b, " ");
}

static void rule(sb *b, const size_t *w, idx_t ncol, const char *l, const char *m, const char *r)
{
	sb_add(b, l);
	for (idx_t c = 0; c < ncol; c++) {
		for (size_t i = 0; i < w[c] + 2; i++)
			sb_add(b, "─");
		sb_add(b, c + 1 < ncol ? m : r);
	}
	sb_add(b, "\n");
}

char *table_format(duckdb_result *r, int64_t total)
{
	idx_t ncol = duckdb_column_count(r), nrow = duckdb_row_count(r);
	size_t *w = xcalloc(ncol + 1, sizeof(size_t));
	char **cells = xcalloc((size_t)(ncol * nrow) + 1, sizeof(char *));
	sb b = SB_INIT;

	for (idx_t c = 0; c < ncol; c++)
		w[c] = width(duckdb_column_name(r, c));
	for (idx_t row = 0; row < nrow; row++)
		for (idx_t c = 0; c < ncol; c++) {
			char *v = duckdb_value_is_null(r, c, row) ? NULL : duckdb_value_varchar(r, c, row);
			char *s = xstrdup(v ? v : "NULL");
			size_t n = width(s);
			duckdb_free(v);
			cells[row * ncol + c] = s;
			if (n > w[c])
				w[c] = n;
		}
	for (idx_t c = 0; c < ncol; c++)
		if (w[c] > MAX_CELL)
			w[c] = MAX_CELL;
	if (ncol == 0) {
		sb_add(&b, "(no columns)\n");
	} else {
		rule(&b, w, ncol, "┌", "┬", "┐");
		sb_add(&b, "│");
		for (idx_t c = 0; c < ncol; c++) {
			sb_add(&b, " ");
			cell(&b, duckdb_column_name(r, c), w[c], false);
			sb_add(&b, " │");
		}
		sb_add(&b, "\n");
		rule(&b, w, ncol, "├", "┼", "┤");
		for (idx_t row = 0; row < nrow; row++) {
			sb_add(&b, "│");
			for (idx_t c = 0; c < ncol; c++) {
				sb_add(&b, " ");
				cell(&b, cells[row * ncol + c], w[c], false);
				sb_add(&b, " │");
			}
			sb_add(&b, "\n");
		}
		rule(&b, w, ncol, "└", "┴", "┘");
	}
	if (total >= 0 && (uint64_t)total != (uint64_t)nrow)
		sb_addf(&b, "%lld row%s (%llu shown)\n", (long long)total, total == 1 ? "" : "s",
			(unsigned long long)nrow);
	else
		sb_addf(&b, "%llu row%s\n", (unsigned long long)nrow, nrow == 1 ? "" : "s");
	for (size_t i = 0; i < (size_t)(ncol * nrow); i++)
		free(cells[i]);
	free(cells);
	free(w);
	return sb_detach(&b);
}
