/* ast.h — the syntax tree of a .pond script, produced by script_parse()
 * (parser.c) and consumed by the interpreter (interp.c). Plain data: every
 * node and string is owned by the script and freed by script_free(). */
#ifndef POND_SCRIPT_AST_H
#define POND_SCRIPT_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	AST_STRING, /* 'text' or "text", ${NAME} already substituted: str */
	AST_INT,    /* i */
	AST_FLOAT,  /* f */
	AST_BOOL,   /* b */
	AST_NULL,
	AST_LIST, /* items[0..n) */
	AST_MAP,  /* keys[0..n) (strings) -> items[0..n) */
	AST_NAME, /* a bare identifier (a dataset name): str */
	AST_CALL, /* str = function name; items[0..n) positional args;
		   * kwargs: kw_names[0..nkw) -> kw_values[0..nkw).
		   * x.f(a) is parsed as f(x, a): x becomes items[0]. */
} ast_kind;

typedef struct ast_node {
	ast_kind kind;
	int line, col; /* 1-based position of the node's first char */
	char *str;
	int64_t i;
	double f;
	bool b;
	struct ast_node **items;
	char **keys; /* AST_MAP only */
	size_t n;
	char **kw_names; /* AST_CALL only */
	struct ast_node **kw_values;
	int *kw_lines, *kw_cols; /* position of each keyword name */
	size_t nkw;
} ast_node;

typedef struct {
	char *target;  /* NULL for a bare action statement */
	int line, col; /* position of the statement's first token */
	ast_node *expr;
} ast_stmt;

typedef struct {
	char *filename; /* as given to script_parse, for messages */
	ast_stmt *stmts;
	size_t nstmts;
} script;

/* Parses the len bytes of `text` (the contents of `filename`; need not be
 * NUL-terminated). The text must be UTF-8 without a byte order mark and
 * without NUL bytes; anything else is an error at the offending byte.
 * `defines` is a list of ndefines "NAME=VALUE" strings from -D: ${NAME}
 * inside a string literal is replaced by VALUE, and outside a string it
 * stands for VALUE read as a number (or true/false). An undefined NAME is
 * an error at the '$'. On success returns 0 and sets *out (free with
 * script_free). On error returns -1, sets *out to NULL and writes
 * "filename:line:col: message" into err[errlen]. Columns count characters
 * (code points), not bytes. */
int script_parse(const char *filename, const char *text, size_t len, const char *const *defines, size_t ndefines,
		 script **out, char *err, size_t errlen);

void script_free(script *s); /* accepts NULL */

#endif
