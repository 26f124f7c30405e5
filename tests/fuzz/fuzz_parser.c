/* fuzz_parser.c — libFuzzer target for the .pond script parser
 * (src/script/parser.c): parses any input with a few -D defines, walks the
 * tree, then frees it. Build: clang -g -O1 -fsanitize=fuzzer,address,undefined
 * -Isrc src/script/parser.c tests/fuzz/fuzz_parser.c; seeds in corpus/. */
#include "script/ast.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Touches every node so ASan sees any bad pointer in the tree. */
static size_t walk(const ast_node *n)
{
	size_t sum = 1 + (n->str ? strlen(n->str) : 0);
	for (size_t k = 0; k < n->n; k++) {
		sum += walk(n->items[k]);
		if (n->kind == AST_MAP)
			sum += strlen(n->keys[k]);
	}
	for (size_t k = 0; k < n->nkw; k++)
		sum += strlen(n->kw_names[k]) + walk(n->kw_values[k]) +
		       (size_t)n->kw_lines[k] + (size_t)n->kw_cols[k];
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const defs[] = {
		"DATA=/data/in", "N=8", "EMPTY=", "DATA=/data/last", "Q=it's ${N}",
		"F=-2.5e3", "B=true",
	};
	char err[256];
	script *s = NULL;
	/* an exact-size copy, not NUL-terminated: ASan catches any read
	 * past the length */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (script_parse("fuzz.pond", text, size, defs, 7, &s, err,
			 sizeof err) == 0) {
		volatile size_t sum = 0;
		for (size_t k = 0; k < s->nstmts; k++)
			sum += walk(s->stmts[k].expr);
		(void)sum;
	} else if (s != NULL || strncmp(err, "fuzz.pond:", 10) != 0) {
		abort(); /* failure must leave *out NULL and name the file */
	}
	script_free(s);
	free(text);
	return 0;
}
