/* parser.c — lexer and recursive-descent parser for .pond scripts; turns the
 * script text into the ast.h tree. Called by the CLI/interpreter through
 * script_parse(). The bytes are checked first (UTF-8, no NUL, no BOM), so
 * the lexer only ever sees valid text ending at its one NUL. No global
 * state; every error path frees what it built and only the first error is
 * reported, as "file:line:col: message", columns counting characters. */
#include "script/ast.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 200 /* nesting of lists/maps/calls/method chains */

enum {
	T_EOF,
	T_NL,
	T_NAME,
	T_STR,
	T_INT,
	T_FLOAT,
	T_TRUE,
	T_FALSE,
	T_NULL,
	T_LP,
	T_RP,
	T_LB,
	T_RB,
	T_LC,
	T_RC,
	T_COMMA,
	T_COLON,
	T_DOT,
	T_EQ,
};

typedef struct {
	int kind;
	int line, col;
	const char *s; /* source text of the token */
	size_t len;
	char *str; /* T_STR: decoded, substituted value (owned) */
	int64_t i;
	double f;
} tok;

typedef struct {
	const char *fn, *src;
	size_t pos;
	int line, col;
	int nest; /* open brackets: newlines inside them are skipped */
	const char *const *defs;
	size_t ndefs;
	tok la[2]; /* lookahead */
	int nla;
	int depth;
	bool failed;
	char *err;
	size_t errlen;
} parser;

typedef struct {
	char *p;
	size_t n, cap;
} buf;

/* ---- errors ---------------------------------------------------------- */

static void fail(parser *p, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail(parser *p, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->fn, line, col, msg);
}

static void oom(parser *p)
{
	fail(p, p->line, p->col, "out of memory");
}

/* Describes a token for "found X" messages; long text is truncated. */
static const char *desc(const tok *t, char *b, size_t blen)
{
	switch (t->kind) {
	case T_EOF:
		return "end of input";
	case T_NL:
		return "end of line";
	case T_STR:
		return "a string";
	default:
		snprintf(b, blen, "'%.*s'%s", (int)(t->len > 40 ? 40 : t->len), t->s, t->len > 40 ? "..." : "");
		return b;
	}
}

/* ---- string buffer --------------------------------------------------- */

static int bput(buf *b, const char *s, size_t len)
{
	if (len >= SIZE_MAX - b->n)
		return -1;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		while (cap < b->n + len + 1)
			cap = cap > SIZE_MAX / 2 ? b->n + len + 1 : cap * 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
	return 0;
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* ---- lexer ----------------------------------------------------------- */

static int cur(const parser *p)
{
	return (unsigned char)p->src[p->pos];
}

static int nxt(const parser *p)
{
	return p->src[p->pos] ? (unsigned char)p->src[p->pos + 1] : 0;
}

/* A UTF-8 continuation byte: 10xxxxxx. */
static bool iscont(int c)
{
	return (c & 0xc0) == 0x80;
}

/* Moves past one byte; a column is a character, so the continuation bytes
 * of a multi-byte character do not count. */
static void adv(parser *p)
{
	int c = cur(p);
	if (!c)
		return;
	if (c == '\n') {
		if (p->line < INT_MAX)
			p->line++;
		p->col = 1;
	} else if (p->col < INT_MAX && !iscont(c)) {
		p->col++;
	}
	p->pos++;
}

static bool isdig(int c)
{
	return c >= '0' && c <= '9';
}
static bool isalph(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool isalnm(int c)
{
	return isalph(c) || isdig(c);
}

/* ---- input check ----------------------------------------------------- */

/* Length of the UTF-8 character at s (n >= 1 bytes left), or 0 when the
 * bytes are not one. Table 3-7 of the Unicode standard: no overlong
 * forms, no UTF-16 surrogates, nothing above U+10FFFF. */
static size_t utf8len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
	unsigned lo = s[0] == 0xe0 ? 0xa0 : s[0] == 0xf0 ? 0x90 : 0x80;
	unsigned hi = s[0] == 0xed ? 0x9f : s[0] == 0xf4 ? 0x8f : 0xbf;

	if (len < 2)
		return len;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (!iscont(s[k]))
			return 0;
	return len;
}

/* Why utf8len rejected the bytes at s, naming them: people fix what they
 * can see, and "0xe9 0x20" says Latin-1 to whoever knows encodings. */
static void why_not_utf8(const unsigned char *s, size_t n, char *b, size_t blen)
{
	size_t want = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4, k = 1, m;
	const char *what;

	if (iscont(s[0]) || s[0] >= 0xf5) {
		snprintf(b, blen, "byte 0x%02x%s", s[0], iscont(s[0]) ? ", which continues no character" : "");
		return;
	}
	while (k < want && k < n && iscont(s[k]))
		k++;
	if (k < want) {
		what = k < n ? "an incomplete character" : "an incomplete character at the end of the script";
		k += k < n; /* show the byte that cut it short */
	} else if (s[0] < 0xc2 || (s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xf0 && s[1] < 0x90)) {
		what = "an overlong encoding";
	} else if (s[0] == 0xed) {
		what = "a UTF-16 surrogate";
	} else {
		what = "a code point above U+10FFFF";
	}
	m = (size_t)snprintf(b, blen, "bytes");
	for (size_t j = 0; j < k && m < blen; j++)
		m += (size_t)snprintf(b + m, blen - m, " 0x%02x", s[j]);
	if (m < blen)
		snprintf(b + m, blen - m, ": %s", what);
}

/* Rejects what the lexer must never see: a byte order mark, a NUL byte
 * (a binary file; in a C string it would also end the script there
 * silently) and bytes that are not UTF-8. */
static int check_input(parser *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p->src;
	int line = 1, col = 1;
	char why[96];

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		fail(p, 1, 1, "the script starts with a UTF-8 byte order mark; save it as UTF-8 without BOM");
		return -1;
	}
	if (len >= 2 && (memcmp(s, "\xff\xfe", 2) == 0 || memcmp(s, "\xfe\xff", 2) == 0)) {
		fail(p, 1, 1, "the script starts with a UTF-16 byte order mark; save it as UTF-8");
		return -1;
	}
	for (size_t i = 0, k; i < len; i += k) {
		if (s[i] == 0) {
			fail(p, line, col, "NUL byte in the script (is this a binary file?)");
			return -1;
		}
		if (!(k = utf8len(s + i, len - i))) {
			why_not_utf8(s + i, len - i, why, sizeof why);
			fail(p, line, col, "invalid UTF-8 (%s); save the script as UTF-8", why);
			return -1;
		}
		if (s[i] == '\n') {
			line = line < INT_MAX ? line + 1 : line;
			col = 1;
		} else if (col < INT_MAX) {
			col++;
		}
	}
	return 0;
}

static void skipspace(parser *p)
{
	for (;;) {
		int c = cur(p);
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || (c == '\n' && p->nest > 0)) {
			adv(p);
		} else if (c == '#') {
			while (cur(p) && cur(p) != '\n')
				adv(p);
		} else {
			return;
		}
	}
}

/* The value of -D NAME=VALUE; the last definition wins. */
static const char *lookup(const parser *p, const char *name, size_t len)
{
	for (size_t k = p->ndefs; k-- > 0;) {
		const char *d = p->defs[k], *eq;
		if (!d || !(eq = strchr(d, '=')))
			continue;
		if ((size_t)(eq - d) == len && memcmp(d, name, len) == 0)
			return eq + 1;
	}
	return NULL;
}

/* At "${": moves past ${NAME} and returns the value of -D NAME=..., or
 * NULL after an error at the '$'. *name and *nlen (capped for messages)
 * give the name. */
static const char *param(parser *p, const char **name, int *nlen)
{
	int line = p->line, col = p->col;
	adv(p);
	adv(p);
	size_t start = p->pos;
	if (!isalph(cur(p))) {
		fail(p, line, col, "expected a parameter name after '${' (like ${DATA})");
		return NULL;
	}
	while (isalnm(cur(p)))
		adv(p);
	*name = p->src + start;
	*nlen = (int)(p->pos - start > 64 ? 64 : p->pos - start);
	if (cur(p) != '}') {
		fail(p, line, col, "expected '}' to close '${%.*s'", *nlen, *name);
		return NULL;
	}
	adv(p);
	const char *v = lookup(p, *name, p->pos - 1 - start);
	if (!v)
		fail(p, line, col, "undefined parameter ${%.*s} (pass -D %.*s=...)", *nlen, *name, *nlen, *name);
	return v;
}

/* At "${" inside a string: appends the parameter's value to b. */
static int subst(parser *p, buf *b)
{
	const char *name;
	int nlen;
	const char *v = param(p, &name, &nlen);
	if (!v)
		return -1;
	if (bput(b, v, strlen(v)) < 0) {
		oom(p);
		return -1;
	}
	return 0;
}

/* 'text' or "text": a doubled quote is a literal quote, backslashes are
 * literal, newlines are kept, ${NAME} is substituted. */
static int lexstr(parser *p, tok *t)
{
	int q = cur(p);
	buf b = { 0 };

	adv(p);
	if (bput(&b, "", 0) < 0)
		goto nomem;
	for (;;) {
		int c = cur(p);
		if (c == 0) {
			fail(p, t->line, t->col, "unterminated string (started here)");
			goto err;
		}
		if (c == q && nxt(p) != q) {
			adv(p);
			break;
		}
		if (c == '$' && nxt(p) == '{') {
			if (subst(p, &b) < 0)
				goto err;
			continue;
		}
		char ch = (char)c;
		if (bput(&b, &ch, 1) < 0)
			goto nomem;
		adv(p);
		if (c == q)
			adv(p); /* the second quote of a doubled pair */
	}
	t->kind = T_STR;
	t->str = b.p;
	return 0;
nomem:
	oom(p);
err:
	free(b.p);
	return -1;
}

static int badnum(parser *p, tok *t)
{
	while (isalnm(cur(p)) || cur(p) == '.')
		adv(p);
	t->len = (size_t)(p->src + p->pos - t->s);
	fail(p, t->line, t->col, "malformed number '%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
	return -1;
}

static int convnum(parser *p, tok *t)
{
	char *s = dupn(t->s, t->len), *end;
	if (!s) {
		oom(p);
		return -1;
	}
	errno = 0;
	if (t->kind == T_INT) {
		long long v = strtoll(s, &end, 10);
		t->i = v;
		if (errno == ERANGE || *end)
			fail(p, t->line, t->col, "integer literal out of range");
	} else {
		t->f = strtod(s, &end);
		if (isinf(t->f) || *end)
			fail(p, t->line, t->col, "float literal out of range");
	}
	free(s);
	return p->failed ? -1 : 0;
}

/* -?digits(.digits)?([eE][+-]?digits)? ; a '.' followed by a letter ends
 * the number (a method call). */
static int lexnum(parser *p, tok *t)
{
	t->kind = T_INT;
	if (cur(p) == '-') {
		adv(p);
		if (!isdig(cur(p))) {
			fail(p, t->line, t->col, "expected a digit after '-'");
			return -1;
		}
	}
	while (isdig(cur(p)))
		adv(p);
	if (cur(p) == '.' && isdig(nxt(p))) {
		t->kind = T_FLOAT;
		adv(p);
		while (isdig(cur(p)))
			adv(p);
	} else if (cur(p) == '.' && !isalph(nxt(p))) {
		return badnum(p, t);
	}
	if (cur(p) == 'e' || cur(p) == 'E') {
		t->kind = T_FLOAT;
		adv(p);
		if (cur(p) == '+' || cur(p) == '-')
			adv(p);
		if (!isdig(cur(p)))
			return badnum(p, t);
		while (isdig(cur(p)))
			adv(p);
	}
	if (isalnm(cur(p)) || (cur(p) == '.' && !isalph(nxt(p))))
		return badnum(p, t);
	t->len = (size_t)(p->src + p->pos - t->s);
	return convnum(p, t);
}

/* ${NAME} outside a string: the value lexed as a number literal, or
 * true/false, so that repartition(${N}) works. Anything else is an error
 * at the '$': pasting text into the script would let -D inject code, and
 * a string wants quotes anyway. */
static int lexparam(parser *p, tok *t)
{
	const char *name;
	int nlen;
	const char *v = param(p, &name, &nlen);
	char why[128] = "", *msg = NULL;

	if (!v)
		return -1;
	t->len = (size_t)(p->src + p->pos - t->s);
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		t->kind = *v == 't' ? T_TRUE : T_FALSE;
		return 0;
	}
	if (*v == '-' || isdig((unsigned char)*v)) {
		/* the number lexer, run over the value alone */
		parser q = { .fn = "-D", .src = v, .line = 1, .col = 1, .err = why, .errlen = sizeof why };
		tok u = { .s = v, .line = 1, .col = 1 };
		if (lexnum(&q, &u) == 0 && q.pos == strlen(v)) {
			t->kind = u.kind;
			t->i = u.i;
			t->f = u.f;
			return 0;
		}
		msg = strchr(why, ' '); /* after q's "-D:line:col:" */
	}
	fail(p, t->line, t->col,
	     "${%.*s} is '%.64s'%s%s%s, but outside a "
	     "string it must be a number (or true/false); write '${%.*s}' "
	     "for a string",
	     nlen, name, v, msg ? " (" : "", msg ? msg + 1 : "", msg ? ")" : "", nlen, name);
	return -1;
}

static int lexname(parser *p, tok *t)
{
	while (isalnm(cur(p)))
		adv(p);
	t->len = (size_t)(p->src + p->pos - t->s);
	t->kind = T_NAME;
	if (t->len == 4 && memcmp(t->s, "true", 4) == 0)
		t->kind = T_TRUE;
	else if (t->len == 5 && memcmp(t->s, "false", 5) == 0)
		t->kind = T_FALSE;
	else if (t->len == 4 && memcmp(t->s, "null", 4) == 0)
		t->kind = T_NULL;
	return 0;
}

static int punct(int c)
{
	switch (c) {
	case '(':
		return T_LP;
	case ')':
		return T_RP;
	case '[':
		return T_LB;
	case ']':
		return T_RB;
	case '{':
		return T_LC;
	case '}':
		return T_RC;
	case ',':
		return T_COMMA;
	case ':':
		return T_COLON;
	case '.':
		return T_DOT;
	case '=':
		return T_EQ;
	case '\n':
		return T_NL;
	default:
		return -1;
	}
}

/* A character that starts no token. The text is valid UTF-8 by now, so
 * a non-ASCII character is shown whole: a pasted curly quote is easier to
 * spot as '‘' (U+2018) than as byte 0xe2. */
static int unexpected(parser *p, tok *t)
{
	const unsigned char *s = (const unsigned char *)t->s;
	size_t n = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	unsigned cp = n == 1 ? s[0] : s[0] & (0x7f >> n);

	for (size_t k = 1; k < n; k++)
		cp = cp << 6 | (s[k] & 0x3f);
	if (s[0] == '$')
		fail(p, t->line, t->col, "unexpected character '$' (a parameter is written ${NAME})");
	else if (s[0] >= 0x20 && s[0] < 0x7f)
		fail(p, t->line, t->col, "unexpected character '%c'", s[0]);
	else if (s[0] < 0x80)
		fail(p, t->line, t->col, "unexpected control character 0x%02x", s[0]);
	else
		fail(p, t->line, t->col, "unexpected character '%.*s' (U+%04X)", (int)n, t->s, cp);
	return -1;
}

static int lex(parser *p, tok *t)
{
	memset(t, 0, sizeof *t);
	skipspace(p);
	t->line = p->line;
	t->col = p->col;
	t->s = p->src + p->pos;
	int c = cur(p), k = punct(c);
	if (c == 0)
		return 0; /* T_EOF */
	if (c == '\'' || c == '"')
		return lexstr(p, t);
	if (c == '-' || isdig(c))
		return lexnum(p, t);
	if (isalph(c))
		return lexname(p, t);
	if (c == ';') {
		fail(p, t->line, t->col, "unexpected ';' (statements are separated by newlines, not ';')");
		return -1;
	}
	if (c == '$' && nxt(p) == '{')
		return lexparam(p, t);
	if (k < 0)
		return unexpected(p, t);
	if (k == T_LP || k == T_LB || k == T_LC)
		p->nest = p->nest < INT_MAX ? p->nest + 1 : p->nest;
	else if ((k == T_RP || k == T_RB || k == T_RC) && p->nest > 0)
		p->nest--;
	t->kind = k;
	t->len = 1;
	adv(p);
	return 0;
}

/* ---- token stream ---------------------------------------------------- */

/* The k-th (0 or 1) lookahead token. After an error every token is T_EOF,
 * so the parser unwinds quickly; the first message stays. */
static tok *peek(parser *p, int k)
{
	while (p->nla <= k) {
		tok *t = &p->la[p->nla++];
		if (p->failed || lex(p, t) < 0) {
			free(t->str);
			memset(t, 0, sizeof *t);
			t->line = p->line;
			t->col = p->col;
			t->s = "";
		}
	}
	return &p->la[k];
}

static void drop(parser *p)
{
	peek(p, 0);
	free(p->la[0].str);
	p->la[0] = p->la[1];
	memset(&p->la[1], 0, sizeof p->la[1]); /* la[0] owns its string now */
	p->nla--;
}

/* ---- AST helpers ----------------------------------------------------- */

static ast_node *mknode(parser *p, ast_kind kind, const tok *t)
{
	ast_node *n = calloc(1, sizeof *n);
	if (!n) {
		oom(p);
		return NULL;
	}
	n->kind = kind;
	n->line = t->line;
	n->col = t->col;
	return n;
}

static void freenode(ast_node *n)
{
	if (!n)
		return;
	free(n->str);
	for (size_t k = 0; k < n->n; k++) {
		freenode(n->items[k]);
		if (n->keys)
			free(n->keys[k]);
	}
	for (size_t k = 0; k < n->nkw; k++) {
		free(n->kw_names[k]);
		freenode(n->kw_values[k]);
	}
	free(n->items);
	free(n->keys);
	free(n->kw_names);
	free(n->kw_values);
	free(n->kw_lines);
	free(n->kw_cols);
	free(n);
}

/* Arrays carry no capacity: it is implicitly 4 for n in 1..4, otherwise
 * the next power of two, so growth is due when n is 0 or a power of 2
 * >= 4. Returns the (possibly moved) array, or NULL when out of memory
 * (the old array is then unchanged). */
static void *grow(void *arr, size_t n, size_t elsize)
{
	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return arr;
	if (n > SIZE_MAX / 2 / elsize)
		return NULL;
	return realloc(arr, (n ? n * 2 : 4) * elsize);
}

/* Appends item v (owned; freed on failure). */
static int additem(parser *p, ast_node *n, ast_node *v)
{
	ast_node **a = grow(n->items, n->n, sizeof *a);
	if (!a) {
		freenode(v);
		oom(p);
		return -1;
	}
	n->items = a;
	n->items[n->n++] = v;
	return 0;
}

static int addkey(parser *p, ast_node *n, char *key, ast_node *v)
{
	char **a = grow(n->keys, n->n, sizeof *a);
	if (!a) {
		free(key);
		freenode(v);
		oom(p);
		return -1;
	}
	n->keys = a;
	n->keys[n->n] = key; /* additem increments n */
	if (additem(p, n, v) < 0) {
		free(key);
		return -1;
	}
	return 0;
}

static int addkw(parser *p, ast_node *n, const tok *name, ast_node *v)
{
	size_t k = n->nkw;
	char *s = dupn(name->s, name->len), **a;
	ast_node **b;
	int *c, *d;

	if (!s || !(a = grow(n->kw_names, k, sizeof *a)))
		goto nomem;
	n->kw_names = a;
	if (!(b = grow(n->kw_values, k, sizeof *b)))
		goto nomem;
	n->kw_values = b;
	if (!(c = grow(n->kw_lines, k, sizeof *c)))
		goto nomem;
	n->kw_lines = c;
	if (!(d = grow(n->kw_cols, k, sizeof *d)))
		goto nomem;
	n->kw_cols = d;
	n->kw_names[k] = s;
	n->kw_values[k] = v;
	n->kw_lines[k] = name->line;
	n->kw_cols[k] = name->col;
	n->nkw++;
	return 0;
nomem:
	free(s);
	freenode(v);
	oom(p);
	return -1;
}

/* ---- parser ---------------------------------------------------------- */

static ast_node *expr(parser *p);

/* After an item of a list/map/call: consumes ',' (returns 1) or the closer
 * (returns 0); anything else is an error (returns -1). */
static int sep(parser *p, int closer, const char *what, int line)
{
	char b[64];
	tok *t = peek(p, 0);
	if (t->kind == T_COMMA) {
		drop(p);
		return 1;
	}
	if (t->kind == closer) {
		drop(p);
		return 0;
	}
	char c = (char)(closer == T_RP ? ')' : closer == T_RB ? ']' : '}');
	if (t->kind == T_EOF)
		fail(p, t->line, t->col, "expected '%c' to close %s opened at line %d, found end of input", c, what,
		     line);
	else
		fail(p, t->line, t->col, "expected ',' or '%c' to close %s opened at line %d, found %s", c, what, line,
		     desc(t, b, sizeof b));
	return -1;
}

static bool haskw(const ast_node *n, const tok *t)
{
	for (size_t k = 0; k < n->nkw; k++)
		if (strlen(n->kw_names[k]) == t->len && memcmp(n->kw_names[k], t->s, t->len) == 0)
			return true;
	return false;
}

/* At '(' after the function name: fills the call's arguments. */
static int args(parser *p, ast_node *call)
{
	char what[128];
	bool seenkw = false;
	int r;

	snprintf(what, sizeof what, "the call of '%.64s'", call->str);
	int line = peek(p, 0)->line;
	drop(p);
	if (peek(p, 0)->kind == T_RP) {
		drop(p);
		return 0;
	}
	do {
		tok *t = peek(p, 0);
		if (t->kind == T_RP) { /* after a trailing comma */
			drop(p);
			return 0;
		}
		if (t->kind == T_NAME && peek(p, 1)->kind == T_EQ) {
			tok name = *t;
			if (haskw(call, &name)) {
				fail(p, name.line, name.col, "duplicate keyword argument '%.*s'",
				     (int)(name.len > 64 ? 64 : name.len), name.s);
				return -1;
			}
			drop(p);
			drop(p);
			ast_node *v = expr(p);
			if (!v || addkw(p, call, &name, v) < 0)
				return -1;
			seenkw = true;
		} else {
			if (seenkw) {
				fail(p, t->line, t->col, "positional argument after keyword argument");
				return -1;
			}
			ast_node *v = expr(p);
			if (!v || additem(p, call, v) < 0)
				return -1;
		}
	} while ((r = sep(p, T_RP, what, line)) > 0);
	return r;
}

static ast_node *list(parser *p)
{
	tok *t = peek(p, 0);
	ast_node *n = mknode(p, AST_LIST, t);
	int line = t->line, r;
	if (!n)
		return NULL;
	drop(p);
	do {
		if (peek(p, 0)->kind == T_RB) {
			drop(p);
			return n;
		}
		ast_node *v = expr(p);
		if (!v || additem(p, n, v) < 0)
			goto err;
	} while ((r = sep(p, T_RB, "the list", line)) > 0);
	if (r == 0)
		return n;
err:
	freenode(n);
	return NULL;
}

static bool haskey(const ast_node *n, const char *k)
{
	for (size_t j = 0; j < n->n; j++)
		if (strcmp(n->keys[j], k) == 0)
			return true;
	return false;
}

/* One 'key': value entry of a map. */
static int entry(parser *p, ast_node *n)
{
	char b[64];
	tok *t = peek(p, 0);
	if (t->kind != T_STR) {
		fail(p, t->line, t->col, "map keys must be strings, found %s", desc(t, b, sizeof b));
		return -1;
	}
	if (haskey(n, t->str)) {
		fail(p, t->line, t->col, "duplicate map key '%.64s'", t->str);
		return -1;
	}
	char *key = t->str;
	t->str = NULL;
	drop(p);
	t = peek(p, 0);
	if (t->kind != T_COLON) {
		fail(p, t->line, t->col, "expected ':' after map key '%.64s', found %s", key, desc(t, b, sizeof b));
		free(key);
		return -1;
	}
	drop(p);
	ast_node *v = expr(p);
	if (!v) {
		free(key);
		return -1;
	}
	return addkey(p, n, key, v);
}

static ast_node *map(parser *p)
{
	tok *t = peek(p, 0);
	ast_node *n = mknode(p, AST_MAP, t);
	int line = t->line, r;
	if (!n)
		return NULL;
	drop(p);
	do {
		if (peek(p, 0)->kind == T_RC) {
			drop(p);
			return n;
		}
		if (entry(p, n) < 0)
			goto err;
	} while ((r = sep(p, T_RC, "the map", line)) > 0);
	if (r == 0)
		return n;
err:
	freenode(n);
	return NULL;
}

/* name(args), with the name token at peek(0) and '(' at peek(1). */
static ast_node *call(parser *p)
{
	tok *t = peek(p, 0);
	ast_node *n = mknode(p, AST_CALL, t);
	if (!n)
		return NULL;
	if (!(n->str = dupn(t->s, t->len))) {
		oom(p);
		free(n);
		return NULL;
	}
	drop(p);
	if (args(p, n) < 0) {
		freenode(n);
		return NULL;
	}
	return n;
}

/* A node for a literal token; takes the token's string. */
static ast_node *literal(parser *p, tok *t)
{
	static const ast_kind kinds[] = {
		[T_STR] = AST_STRING, [T_INT] = AST_INT,   [T_FLOAT] = AST_FLOAT, [T_TRUE] = AST_BOOL,
		[T_FALSE] = AST_BOOL, [T_NULL] = AST_NULL, [T_NAME] = AST_NAME,
	};
	ast_node *n = mknode(p, kinds[t->kind], t);
	if (!n)
		return NULL;
	n->i = t->i;
	n->f = t->f;
	n->b = t->kind == T_TRUE;
	if (t->kind == T_STR) {
		n->str = t->str;
		t->str = NULL;
	} else if (t->kind == T_NAME && !(n->str = dupn(t->s, t->len))) {
		oom(p);
		free(n);
		return NULL;
	}
	drop(p);
	return n;
}

static ast_node *primary(parser *p)
{
	char b[64];
	tok *t = peek(p, 0);
	switch (t->kind) {
	case T_NAME:
		if (peek(p, 1)->kind == T_LP)
			return call(p);
		/* fall through */
	case T_STR:
	case T_INT:
	case T_FLOAT:
	case T_TRUE:
	case T_FALSE:
	case T_NULL:
		return literal(p, t);
	case T_LB:
		return list(p);
	case T_LC:
		return map(p);
	case T_DOT:
		fail(p, t->line, t->col,
		     "expected a value, found '.' (a method "
		     "call continues its statement only inside parentheses)");
		return NULL;
	default:
		fail(p, t->line, t->col, "expected a value, found %s", desc(t, b, sizeof b));
		return NULL;
	}
}

/* .name(args) applied to n (owned): name(n, args). */
static ast_node *method(parser *p, ast_node *n)
{
	char b[64];
	drop(p); /* '.' */
	tok *t = peek(p, 0);
	if (t->kind != T_NAME) {
		fail(p, t->line, t->col, "expected a method name after '.', found %s", desc(t, b, sizeof b));
		freenode(n);
		return NULL;
	}
	if (peek(p, 1)->kind != T_LP) {
		tok *u = peek(p, 1);
		fail(p, u->line, u->col, "expected '(' after method name '%.*s'", (int)(t->len > 64 ? 64 : t->len),
		     t->s);
		freenode(n);
		return NULL;
	}
	ast_node *c = call(p); /* parses f(args), then n is put first */
	if (!c) {
		freenode(n);
		return NULL;
	}
	if (additem(p, c, n) < 0) {
		freenode(c);
		return NULL;
	}
	memmove(c->items + 1, c->items, (c->n - 1) * sizeof *c->items);
	c->items[0] = n;
	return c;
}

static ast_node *expr(parser *p)
{
	int saved = p->depth;
	ast_node *n = NULL;
	if (++p->depth > MAX_DEPTH) {
		tok *t = peek(p, 0);
		fail(p, t->line, t->col, "nesting too deep (more than %d levels)", MAX_DEPTH);
		goto out;
	}
	n = primary(p);
	while (n && peek(p, 0)->kind == T_DOT) {
		if (++p->depth > MAX_DEPTH) { /* each call in a chain nests */
			tok *t = peek(p, 1);
			fail(p, t->line, t->col, "nesting too deep (more than %d levels)", MAX_DEPTH);
			freenode(n);
			n = NULL;
			break;
		}
		n = method(p, n);
	}
out:
	p->depth = saved;
	return n;
}

static int addstmt(parser *p, script *s, ast_stmt st)
{
	ast_stmt *a = grow(s->stmts, s->nstmts, sizeof *a);
	if (!a) {
		free(st.target);
		freenode(st.expr);
		oom(p);
		return -1;
	}
	s->stmts = a;
	s->stmts[s->nstmts++] = st;
	return 0;
}

/* One statement: `name = expr` or `expr`, then end of line. */
static int stmt(parser *p, script *s)
{
	char b[64];
	ast_stmt st = { 0 };
	tok *t = peek(p, 0);
	st.line = t->line;
	st.col = t->col;
	if (t->kind == T_NAME && peek(p, 1)->kind == T_EQ) {
		if (!(st.target = dupn(t->s, t->len))) {
			oom(p);
			return -1;
		}
		drop(p);
		drop(p);
	} else if (t->kind >= T_STR && t->kind <= T_NULL && peek(p, 1)->kind == T_EQ) {
		fail(p, t->line, t->col, "cannot assign to %s (the left side of '=' must be a name)",
		     desc(t, b, sizeof b));
		return -1;
	}
	if (!(st.expr = expr(p))) {
		free(st.target);
		return -1;
	}
	t = peek(p, 0);
	if (t->kind != T_NL && t->kind != T_EOF) {
		fail(p, t->line, t->col, "expected end of line after statement, found %s", desc(t, b, sizeof b));
		free(st.target);
		freenode(st.expr);
		return -1;
	}
	return addstmt(p, s, st);
}

int script_parse(const char *filename, const char *text, size_t len, const char *const *defines, size_t ndefines,
		 script **out, char *err, size_t errlen)
{
	parser p = {
		.fn = filename ? filename : "<script>",
		.line = 1,
		.col = 1,
		.defs = defines,
		.ndefs = ndefines,
		.err = err,
		.errlen = errlen,
	};
	script *s = NULL;
	char *src = NULL;

	if (err && errlen)
		err[0] = '\0';
	if (!out || !text) {
		fail(&p, 1, 1, "script_parse: no text or no output pointer");
		return -1;
	}
	*out = NULL;
	/* a private copy: the lexer needs the one NUL at the end */
	if (!(p.src = src = dupn(text, len)) || !(s = calloc(1, sizeof *s)) ||
	    !(s->filename = dupn(p.fn, strlen(p.fn)))) {
		oom(&p);
		goto err;
	}
	if (check_input(&p, len) < 0)
		goto err;
	while (!p.failed) {
		int k = peek(&p, 0)->kind;
		if (k == T_EOF)
			break;
		if (k == T_NL)
			drop(&p);
		else if (stmt(&p, s) < 0)
			break;
	}
err:
	while (p.nla > 0)
		drop(&p);
	free(src);
	if (p.failed) {
		script_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void script_free(script *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->nstmts; k++) {
		free(s->stmts[k].target);
		freenode(s->stmts[k].expr);
	}
	free(s->stmts);
	free(s->filename);
	free(s);
}
