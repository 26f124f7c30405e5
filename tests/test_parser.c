/* test_parser.c — unit tests for the .pond script parser (src/script/
 * parser.c): values, method chains, strings, comments, ${NAME} defines in
 * and outside strings, the input bytes (NUL, UTF-8, BOM), positions, and
 * exact "file:line:col: message" errors. Standalone main(). */
#include "script/ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int npass, nfail;

#define CHECK(cond) check((cond), #cond, __LINE__)

static void check(int ok, const char *what, int line)
{
	if (ok) {
		npass++;
		return;
	}
	nfail++;
	fprintf(stderr, "test_parser.c:%d: FAIL: %s\n", line, what);
}

static script *parse_defs(const char *text, const char *const *defs,
			  size_t ndefs)
{
	char err[512];
	script *s = NULL;
	if (script_parse("t.pond", text, strlen(text), defs, ndefs, &s, err,
			 sizeof err)) {
		nfail++;
		fprintf(stderr, "FAIL: unexpected error for <<%s>>: %s\n", text,
			err);
		return NULL;
	}
	return s;
}

static script *parse(const char *text) { return parse_defs(text, NULL, 0); }

/* Asserts that the len bytes of text fail with exactly "t.pond:<pos>: "
 * then a message containing msg. */
static void expect_err_len(const char *text, size_t len,
			   const char *const *defs, size_t ndefs,
			   const char *pos, const char *msg, int line)
{
	char err[512], prefix[64];
	script *s = (script *)1;
	int r = script_parse("t.pond", text, len, defs, ndefs, &s, err,
			     sizeof err);
	snprintf(prefix, sizeof prefix, "t.pond:%s: ", pos);
	if (r == -1 && s == NULL &&
	    strncmp(err, prefix, strlen(prefix)) == 0 &&
	    strstr(err + strlen(prefix), msg)) {
		npass++;
		return;
	}
	nfail++;
	fprintf(stderr, "test_parser.c:%d: FAIL: <<%s>> want \"%s...%s\", "
		"got r=%d \"%s\"\n", line, text, prefix, msg, r,
		r ? err : "(success)");
	if (r == 0)
		script_free(s);
}

static void expect_err_defs(const char *text, const char *const *defs,
			    size_t ndefs, const char *pos, const char *msg,
			    int line)
{
	expect_err_len(text, strlen(text), defs, ndefs, pos, msg, line);
}

#define EXPECT_ERR(text, pos, msg) \
	expect_err_defs((text), NULL, 0, (pos), (msg), __LINE__)
/* for texts with NUL bytes: the length of the literal */
#define EXPECT_ERR_BYTES(lit, pos, msg) \
	expect_err_len((lit), sizeof(lit) - 1, NULL, 0, (pos), (msg), __LINE__)

static const ast_node *kw(const ast_node *n, const char *name)
{
	for (size_t k = 0; k < n->nkw; k++)
		if (strcmp(n->kw_names[k], name) == 0)
			return n->kw_values[k];
	return NULL;
}

static int is_str(const ast_node *n, const char *v)
{
	return n && n->kind == AST_STRING && strcmp(n->str, v) == 0;
}

static int is_int(const ast_node *n, int64_t v)
{
	return n && n->kind == AST_INT && n->i == v;
}

static int is_name(const ast_node *n, const char *v)
{
	return n && n->kind == AST_NAME && strcmp(n->str, v) == 0;
}

static void value_kinds(void)
{
	script *s = parse("x = f('s', \"d\", 42, -3, 1.5, -2e3, true, false, "
			  "null, [1, 'a',], {'k': 1, 'l': [y],}, y, 0.25e-1, "
			  "9223372036854775807, -9223372036854775808, [], {})");
	if (!s)
		return;
	CHECK(s->nstmts == 1);
	CHECK(strcmp(s->stmts[0].target, "x") == 0);
	const ast_node *c = s->stmts[0].expr;
	CHECK(c->kind == AST_CALL && strcmp(c->str, "f") == 0 && c->n == 17);
	CHECK(is_str(c->items[0], "s") && is_str(c->items[1], "d"));
	CHECK(is_int(c->items[2], 42) && is_int(c->items[3], -3));
	CHECK(c->items[3]->col == 21);
	CHECK(c->items[4]->kind == AST_FLOAT && c->items[4]->f == 1.5);
	CHECK(c->items[5]->kind == AST_FLOAT && c->items[5]->f == -2000.0);
	CHECK(c->items[6]->kind == AST_BOOL && c->items[6]->b);
	CHECK(c->items[7]->kind == AST_BOOL && !c->items[7]->b);
	CHECK(c->items[8]->kind == AST_NULL);
	const ast_node *l = c->items[9];
	CHECK(l->kind == AST_LIST && l->n == 2 && is_int(l->items[0], 1) &&
	      is_str(l->items[1], "a"));
	const ast_node *m = c->items[10];
	CHECK(m->kind == AST_MAP && m->n == 2 && strcmp(m->keys[0], "k") == 0 &&
	      strcmp(m->keys[1], "l") == 0 && is_int(m->items[0], 1) &&
	      m->items[1]->kind == AST_LIST && is_name(m->items[1]->items[0],
						       "y"));
	CHECK(is_name(c->items[11], "y"));
	CHECK(c->items[12]->kind == AST_FLOAT && c->items[12]->f == 0.025);
	CHECK(is_int(c->items[13], INT64_MAX));
	CHECK(is_int(c->items[14], INT64_MIN));
	CHECK(c->items[15]->kind == AST_LIST && c->items[15]->n == 0);
	CHECK(c->items[16]->kind == AST_MAP && c->items[16]->n == 0);
	script_free(s);
}

static void method_chain(void)
{
	script *s = parse("a.b(1).c(k='v')");
	if (!s)
		return;
	CHECK(s->nstmts == 1 && s->stmts[0].target == NULL);
	const ast_node *c = s->stmts[0].expr;
	CHECK(c->kind == AST_CALL && strcmp(c->str, "c") == 0);
	CHECK(c->line == 1 && c->col == 8);
	CHECK(c->n == 1 && c->nkw == 1 && is_str(kw(c, "k"), "v"));
	CHECK(c->kw_lines[0] == 1 && c->kw_cols[0] == 10);
	const ast_node *b = c->items[0];
	CHECK(b->kind == AST_CALL && strcmp(b->str, "b") == 0 && b->col == 3);
	CHECK(b->n == 2 && is_name(b->items[0], "a") && is_int(b->items[1], 1));
	CHECK(b->items[0]->col == 1 && b->nkw == 0);
	script_free(s);

	s = parse("read_parquet('p').repartition(8, hash_by=['a', 'b'])"
		  ".show()");
	if (!s)
		return;
	c = s->stmts[0].expr;
	CHECK(strcmp(c->str, "show") == 0 && c->n == 1);
	c = c->items[0];
	CHECK(strcmp(c->str, "repartition") == 0 && c->n == 2 &&
	      is_int(c->items[1], 8) && kw(c, "hash_by")->n == 2);
	c = c->items[0];
	CHECK(strcmp(c->str, "read_parquet") == 0 && c->n == 1 &&
	      is_str(c->items[0], "p") && c->col == 1);
	script_free(s);
}

static void multiline(void)
{
	const char *text =
		"# prices.pond — min/max price per ticker\n"
		"prices = read_parquet('data/prices/*.parquet')\n"
		"prices = prices.repartition(8, hash_by='ticker')\n"
		"stats  = partial_sql('SELECT ticker, min(price) AS lo, "
		"max(price) AS hi\n"
		"                      FROM {0} GROUP BY ticker', prices)\n"
		"stats.write_parquet('out/stats')\n"
		"\n"
		"   # indented comment\n"
		"stats.show(10)\n";
	script *s = parse(text);
	if (!s)
		return;
	CHECK(s->nstmts == 5);
	CHECK(s->stmts[0].line == 2 && s->stmts[0].col == 1);
	CHECK(s->stmts[2].line == 4 && strcmp(s->stmts[2].target, "stats") == 0);
	const ast_node *q = s->stmts[2].expr->items[0];
	CHECK(q->kind == AST_STRING && strstr(q->str, "AS hi\n      ") &&
	      q->line == 4 && q->col == 22);
	CHECK(is_name(s->stmts[2].expr->items[1], "prices") &&
	      s->stmts[2].expr->items[1]->line == 5);
	CHECK(s->stmts[4].line == 9 && s->stmts[4].target == NULL &&
	      is_int(s->stmts[4].expr->items[1], 10));
	script_free(s);

	s = parse("x = f(\n  1,   # first\n\n  k = [\n 2,\n ],\n)\ny = g()");
	if (!s)
		return;
	CHECK(s->nstmts == 2);
	const ast_node *c = s->stmts[0].expr;
	CHECK(c->n == 1 && c->nkw == 1 && c->kw_lines[0] == 4 &&
	      c->kw_cols[0] == 3 && kw(c, "k")->n == 1);
	CHECK(s->stmts[1].line == 8);
	script_free(s);

	s = parse("x = f(1)\r\ny = g(2)\r\n"); /* CRLF */
	CHECK(s && s->nstmts == 2);
	script_free(s);
}

static void strings(void)
{
	script *s = parse("x = f('it''s', \"say \"\"hi\"\"\", 'a\\nb', "
			  "\"it's\", '#no comment', '', \"\", '''', "
			  "'$5 $ {A} $$')");
	if (!s)
		return;
	const ast_node *c = s->stmts[0].expr;
	CHECK(c->n == 9);
	CHECK(is_str(c->items[0], "it's"));
	CHECK(is_str(c->items[1], "say \"hi\""));
	CHECK(is_str(c->items[2], "a\\nb"));
	CHECK(is_str(c->items[3], "it's"));
	CHECK(is_str(c->items[4], "#no comment"));
	CHECK(is_str(c->items[5], "") && is_str(c->items[6], ""));
	CHECK(is_str(c->items[7], "'"));
	CHECK(is_str(c->items[8], "$5 $ {A} $$"));
	script_free(s);

	s = parse("   \n# only comments\n\n  # more  \n");
	CHECK(s && s->nstmts == 0);
	script_free(s);
	s = parse("");
	CHECK(s && s->nstmts == 0);
	script_free(s);
}

static void defines(void)
{
	const char *defs[] = {"DATA=/d/1", "N=8", "DATA=/d/2", "E=",
			      "NOEQ", "X=a=b"};
	script *s = parse_defs("x = read_parquet('${DATA}/*.parquet', "
			       "\"${N}${N}\", '${E}', '${X}', "
			       "'${N}''${DATA}')", defs, 6);
	if (!s)
		return;
	const ast_node *c = s->stmts[0].expr;
	CHECK(is_str(c->items[0], "/d/2/*.parquet")); /* last wins */
	CHECK(is_str(c->items[1], "88"));
	CHECK(is_str(c->items[2], ""));
	CHECK(is_str(c->items[3], "a=b"));
	CHECK(is_str(c->items[4], "8'/d/2"));
	script_free(s);

	/* a value containing quotes or ${...} is inserted literally */
	const char *d2[] = {"Q=it's ${Q}"};
	s = parse_defs("x = '${Q}'", d2, 1);
	CHECK(s && is_str(s->stmts[0].expr, "it's ${Q}"));
	script_free(s);

	expect_err_defs("x = f(\n  'a ${DATA} b')", NULL, 0, "2:6",
			"undefined parameter ${DATA} (pass -D DATA=...)",
			__LINE__);
	expect_err_defs("x = '${NOEQ}'", defs, 6, "1:6",
			"undefined parameter ${NOEQ}", __LINE__);
	expect_err_defs("x = '${1}'", defs, 6, "1:6",
			"expected a parameter name", __LINE__);
	expect_err_defs("x = '${DATA'", defs, 6, "1:6",
			"expected '}' to close '${DATA'", __LINE__);
}

/* ${NAME} outside a string is a number (or true/false) from -D. */
static void defines_outside_strings(void)
{
	const char *defs[] = {"N=8", "NEG=-3", "F=2.5e1", "B=false", "T=true",
			      "S=abc", "E=", "BIG=99999999999999999999",
			      "SP= 8", "X=8abc", "INF=1e999", "N=16"};
	size_t nd = sizeof defs / sizeof *defs;
	script *s = parse_defs("x = df.repartition(${N}, hash_by='k')\n"
			       "y = limit(df, ${NEG})\n"
			       "f(${F}, ${B}, ${T}, [${N}], {'a': ${N}}, "
			       "k=${N}, s='${N}')", defs, nd);
	if (!s)
		return;
	const ast_node *c = s->stmts[0].expr;
	CHECK(is_int(c->items[1], 16) && c->items[1]->line == 1 &&
	      c->items[1]->col == 20); /* last -D wins, at the '$' */
	CHECK(is_str(kw(c, "hash_by"), "k"));
	CHECK(is_int(s->stmts[1].expr->items[1], -3));
	c = s->stmts[2].expr;
	CHECK(c->n == 5 && c->items[0]->kind == AST_FLOAT &&
	      c->items[0]->f == 25.0);
	CHECK(c->items[1]->kind == AST_BOOL && !c->items[1]->b);
	CHECK(c->items[2]->kind == AST_BOOL && c->items[2]->b);
	CHECK(c->items[3]->kind == AST_LIST && is_int(c->items[3]->items[0], 16));
	CHECK(c->items[4]->kind == AST_MAP && is_int(c->items[4]->items[0], 16));
	CHECK(is_int(kw(c, "k"), 16) && is_str(kw(c, "s"), "16"));
	script_free(s);

	const char *tail = ", but outside a string it must be a number (or "
			   "true/false); write '${S}' for a string";
	char want[256];
	snprintf(want, sizeof want, "${S} is 'abc'%s", tail);
	expect_err_defs("x = f(1)\ny = f(a, ${S})", defs, nd, "2:10", want,
			__LINE__);
	expect_err_defs("f(${E})", defs, nd, "1:3", "${E} is '', but outside",
			__LINE__);
	expect_err_defs("f(${SP})", defs, nd, "1:3", "${SP} is ' 8', but",
			__LINE__);
	expect_err_defs("f(${BIG})", defs, nd, "1:3", "${BIG} is "
			"'99999999999999999999' (integer literal out of "
			"range), but outside", __LINE__);
	expect_err_defs("f(${X})", defs, nd, "1:3", "${X} is '8abc' (malformed "
			"number '8abc'), but", __LINE__);
	expect_err_defs("f(${INF})", defs, nd, "1:3", "(float literal out of "
			"range)", __LINE__);
	expect_err_defs("f(1, ${U})", defs, nd, "1:6", "undefined parameter "
			"${U} (pass -D U=...)", __LINE__);
	expect_err_defs("f(${N)", defs, nd, "1:3", "expected '}' to close "
			"'${N'", __LINE__);
	expect_err_defs("f(${1})", defs, nd, "1:3", "expected a parameter "
			"name", __LINE__);
	expect_err_defs("${N} = f()", defs, nd, "1:1", "cannot assign to "
			"'${N}'", __LINE__);
	expect_err_defs("f(${N}x)", defs, nd, "1:7", "expected ',' or ')'",
			__LINE__);
}

/* The bytes of the script: no NUL, no BOM, UTF-8 only; columns count
 * characters. */
static void input_bytes(void)
{
	EXPECT_ERR_BYTES("x = f(1)\ny = g(\0)", "2:7",
			 "NUL byte in the script (is this a binary file?)");
	EXPECT_ERR_BYTES("x = f(1)\0", "1:9", "NUL byte in the script");
	EXPECT_ERR_BYTES("x = f(1)\n\0\x01\x02", "2:1", "NUL byte");
	EXPECT_ERR_BYTES("x = '\0'", "1:6", "NUL byte"); /* in a string too */
	EXPECT_ERR("\xef\xbb\xbfx = f(1)", "1:1", "the script starts with a "
		   "UTF-8 byte order mark; save it as UTF-8 without BOM");
	EXPECT_ERR_BYTES("\xff\xfex\0", "1:1", "UTF-16 byte order mark");
	EXPECT_ERR("x = f(1)\ny = g('ab\xff')", "2:10",
		   "invalid UTF-8 (byte 0xff); save the script as UTF-8");
	EXPECT_ERR("# caf\xe9\nx = f(1)", "1:6", "invalid UTF-8 (bytes 0xe9 "
		   "0x0a: an incomplete character)");
	EXPECT_ERR("x = '\x80'", "1:6", "invalid UTF-8 (byte 0x80, which "
		   "continues no character)");
	EXPECT_ERR("x = '\xc0\xaf'", "1:6", "(bytes 0xc0 0xaf: an overlong "
		   "encoding)");
	EXPECT_ERR("x = '\xc1\xbf'", "1:6", "an overlong encoding");
	EXPECT_ERR("x = '\xe0\x80\xaf'", "1:6", "(bytes 0xe0 0x80 0xaf: an "
		   "overlong encoding)");
	EXPECT_ERR("x = '\xf0\x8f\xbf\xbf'", "1:6", "an overlong encoding");
	EXPECT_ERR("x = '\xed\xa0\x80'", "1:6", "(bytes 0xed 0xa0 0x80: a "
		   "UTF-16 surrogate)");
	EXPECT_ERR("x = '\xed\xbf\xbf'", "1:6", "a UTF-16 surrogate");
	EXPECT_ERR("x = '\xf4\x90\x80\x80'", "1:6", "a code point above "
		   "U+10FFFF");
	EXPECT_ERR("x = '\xf5\x80\x80\x80'", "1:6", "(byte 0xf5)");
	EXPECT_ERR("x = '\xe2\x82(", "1:6", "(bytes 0xe2 0x82 0x28: an "
		   "incomplete character)");
	EXPECT_ERR("x = '\xe2\x82", "1:6", "(bytes 0xe2 0x82: an incomplete "
		   "character at the end of the script)");
	EXPECT_ERR("x = '\xf0\x9f\x98", "1:6", "at the end of the script");
	/* the column counts characters, also before a bad byte */
	EXPECT_ERR("x = '\xe6\x97\xa5\xe6\x9c\xac' @", "1:10",
		   "unexpected character '@'");
	EXPECT_ERR("x = '\xe6\x97\xa5\xff'", "1:7", "(byte 0xff)");
	EXPECT_ERR("x = f(\xe2\x80\x98" "a\xe2\x80\x99)", "1:7",
		   "unexpected character '\xe2\x80\x98' (U+2018)");
	EXPECT_ERR("x = f(1)\x01", "1:9", "unexpected control character 0x01");
	EXPECT_ERR("x = \xf0\x9f\x98\x80", "1:5",
		   "unexpected character '\xf0\x9f\x98\x80' (U+1F600)");

	/* the edges of valid UTF-8, and a BOM that is not at the start */
	const char *ok = "\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf "
			 "\xee\x80\x80 \xef\xbb\xbf \xf0\x90\x80\x80 "
			 "\xf4\x8f\xbf\xbf";
	char text[128];
	snprintf(text, sizeof text, "# \xc3\xa9\nx = f('%s')", ok);
	script *s = parse(text);
	CHECK(s && is_str(s->stmts[0].expr->items[0], ok) &&
	      s->stmts[0].line == 2);
	script_free(s);
}

static void errors(void)
{
	EXPECT_ERR("x = f('abc)\n", "1:7", "unterminated string (started here)");
	EXPECT_ERR("a = 1\nx = read_parquet('a',\n  'b'\n", "4:1",
		   "expected ')' to close the call of 'read_parquet' opened "
		   "at line 2");
	EXPECT_ERR("x = f(1) @", "1:10", "unexpected character '@'");
	EXPECT_ERR("f(a=1, 2)", "1:8", "positional argument after keyword "
		   "argument");
	EXPECT_ERR("x = )", "1:5", "expected a value, found ')'");
	EXPECT_ERR("f(,)", "1:3", "expected a value, found ','");
	EXPECT_ERR("f(mode='a', mode='b')", "1:13",
		   "duplicate keyword argument 'mode'");
	EXPECT_ERR("x = 9223372036854775808", "1:5",
		   "integer literal out of range");
	EXPECT_ERR("x = -9223372036854775809", "1:5",
		   "integer literal out of range");
	EXPECT_ERR("x = f(1) x", "1:10",
		   "expected end of line after statement, found 'x'");
	EXPECT_ERR("x = {1: 2}", "1:6", "map keys must be strings");
	EXPECT_ERR("x = {a: 2}", "1:6", "map keys must be strings");
	EXPECT_ERR("x = f(1); y = g()", "1:9", "';'");
	EXPECT_ERR("x.f", "1:4", "expected '(' after method name 'f'");
	EXPECT_ERR("x. 3", "1:4", "expected a method name after '.'");
	EXPECT_ERR("x = [1, 2\n", "2:1",
		   "expected ']' to close the list opened at line 1");
	EXPECT_ERR("x = {'a' 1}", "1:10", "expected ':' after map key 'a'");
	EXPECT_ERR("x = {'a': 1, 'a': 2}", "1:14", "duplicate map key 'a'");
	EXPECT_ERR("1 = x", "1:1", "cannot assign to '1'");
	EXPECT_ERR("x = 1.", "1:5", "malformed number '1.'");
	EXPECT_ERR("x = 12abc", "1:5", "malformed number '12abc'");
	EXPECT_ERR("x = - 3", "1:5", "expected a digit after '-'");
	EXPECT_ERR("x = 1e999", "1:5", "float literal out of range");
	EXPECT_ERR("f(1 2)", "1:5", "expected ',' or ')' to close the call "
		   "of 'f' opened at line 1, found '2'");
	EXPECT_ERR("x = {'a': 1 'b'}", "1:13", "expected ',' or '}'");
	EXPECT_ERR("x = f(1 2)\ny = @", "1:9", "expected ',' or ')'");
	EXPECT_ERR("x = '''\nabc\n\ny = 1 @", "1:5", "unterminated string");
	EXPECT_ERR("x = 'multi\nline' @", "2:7", "unexpected character '@'");
	EXPECT_ERR("x = '\xc3\xa9' @", "1:9", "unexpected character '@'");
	EXPECT_ERR("x = caf\xc3\xa9", "1:8",
		   "unexpected character '\xc3\xa9' (U+00E9)");
	EXPECT_ERR("x = f(1)\n.show()", "2:1", "expected a value, found '.'");
	EXPECT_ERR("x = f(1))", "1:9", "expected end of line after statement, "
		   "found ')'");
	EXPECT_ERR("x = f(true=1)", "1:11", "expected ',' or ')'");
	EXPECT_ERR("x =\ny", "1:4", "expected a value, found end of line");
	EXPECT_ERR("f(${N})", "1:3", "undefined parameter ${N} (pass -D N=...)");
	EXPECT_ERR("x = $a", "1:5", "unexpected character '$' (a parameter is "
		   "written ${NAME})");
	EXPECT_ERR("x = f(", "1:7", "expected a value, found end of input");
}

static void limits(void)
{
	char *t = malloc(1000);
	/* nesting: 200 levels are fine, 201 are not */
	for (int depth = 200; depth <= 201; depth++) {
		size_t n = 0;
		n += (size_t)snprintf(t + n, 1000 - n, "x = ");
		for (int k = 0; k < depth; k++)
			t[n++] = '[';
		for (int k = 0; k < depth; k++)
			t[n++] = ']';
		t[n] = '\0';
		if (depth == 200) {
			script *s = parse(t);
			CHECK(s != NULL);
			script_free(s);
		} else {
			EXPECT_ERR(t, "1:205", "nesting too deep");
		}
	}
	/* a method chain nests too */
	size_t cap = 10 + 4 * 300, n = 0;
	char *c = malloc(cap);
	n += (size_t)snprintf(c, cap, "x = a");
	for (int k = 0; k < 300; k++)
		n += (size_t)snprintf(c + n, cap - n, ".f()");
	EXPECT_ERR(c, "1:803", "nesting too deep"); /* the 200th call */
	free(c);
	free(t);

	/* long lists and strings grow without limits */
	size_t items = 100000;
	char *big = malloc(items * 3 + 16);
	n = (size_t)snprintf(big, 16, "x = [");
	for (size_t k = 0; k < items; k++) {
		memcpy(big + n, "7, ", 3);
		n += 3;
	}
	memcpy(big + n, "]", 2);
	script *s = parse(big);
	CHECK(s && s->stmts[0].expr->n == items &&
	      is_int(s->stmts[0].expr->items[items - 1], 7));
	script_free(s);
	n = (size_t)snprintf(big, 16, "x = '");
	memset(big + n, 'z', items);
	memcpy(big + n + items, "'", 2);
	s = parse(big);
	CHECK(s && strlen(s->stmts[0].expr->str) == items);
	script_free(s);
	free(big);
}

static void api(void)
{
	script *s = NULL;
	CHECK(script_parse("t.pond", "x = @", 5, NULL, 0, &s, NULL, 0) == -1);
	CHECK(s == NULL);
	char err[16];
	CHECK(script_parse("t.pond", "x = @", 5, NULL, 0, &s, err,
			   sizeof err) == -1);
	CHECK(strlen(err) == sizeof err - 1); /* truncated, terminated */
	CHECK(script_parse(NULL, "x = f()", 7, NULL, 0, &s, NULL, 0) == 0 && s);
	script_free(s);
	script_free(NULL);
	CHECK(script_parse("t.pond", NULL, 0, NULL, 0, &s, NULL, 0) == -1);
	/* only len bytes are read: no NUL needed at the end */
	CHECK(script_parse("t.pond", "x = f(1)@@@", 8, NULL, 0, &s, NULL, 0) ==
	      0 && s && s->nstmts == 1);
	script_free(s);
	s = parse("x = f(1)");
	CHECK(s && strcmp(s->filename, "t.pond") == 0);
	script_free(s);
}

int main(void)
{
	value_kinds();
	method_chain();
	multiline();
	strings();
	defines();
	defines_outside_strings();
	input_bytes();
	errors();
	limits();
	api();
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
