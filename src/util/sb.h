/* sb.h — a growable string buffer (git's strbuf idea): every string pond
 * builds, SQL above all, goes through one of these instead of char[] math.
 * sb_sql_path (paths read by DuckDB), sb_sql_str and sb_sql_ident are the
 * only way paths, strings and names enter SQL. */
#ifndef POND_UTIL_SB_H
#define POND_UTIL_SB_H

#include <stddef.h>

typedef struct {
	char *buf; /* always NUL-terminated once anything is added */
	size_t len, cap;
} sb;

#define SB_INIT            \
	{                  \
		NULL, 0, 0 \
	}

void sb_init(sb *b);
void sb_release(sb *b);          /* frees, back to empty */
char *sb_detach(sb *b);          /* caller frees; never NULL */
const char *sb_str(const sb *b); /* "" when empty */
void sb_add(sb *b, const char *s);
void sb_addn(sb *b, const char *s, size_t n);
void sb_addf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_reset(sb *b);

/* Appends s as a SQL string literal: 'it''s'. */
void sb_sql_str(sb *b, const char *s);
/* Appends a file path that DuckDB's file readers must open as it is: a
 * string literal in which DuckDB's glob characters (* ? [) are escaped as
 * one-character classes ([*] [?] [[]), so that a file named a[1].parquet
 * is read, not a1.parquet. Every path read by DuckDB goes through here. */
void sb_sql_path(sb *b, const char *path);
/* Appends s as a SQL identifier: "my ""col""". */
void sb_sql_ident(sb *b, const char *s);

/* Appends s as HTML text or an attribute value (also inside inline SVG):
 * & < > " ' escaped, control characters replaced. Every string from a job
 * (paths, task ids, errors, SQL) enters the run report through here. */
void sb_html(sb *b, const char *s);

/* Out-of-memory is fatal (abort) inside sb: the alternative is unchecked
 * NULLs everywhere. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
/* Array p of n elements of size m, with room for element n: the capacity
 * doubles at each power of two, so n appends copy O(n) bytes, not O(n^2)
 * as growing by one does (ASan's realloc always moves). The array must
 * only ever grow through xgrow. */
void *xgrow(void *p, size_t n, size_t m);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
