/* build.c — node constructors shared by the interpreter and the
 * plan-building API (see build.h). */
#include "plan/build.h"

#include <stdlib.h>
#include <string.h>

#include "util/sb.h"

lnode *build_node(lplan *lp, lnode_kind k, const char *func, const char *where, int line, int col)
{
	lnode *n = lplan_add(lp, k, func, where);

	n->line = line;
	n->col = col;
	return n;
}

void build_inputs(lnode *n, lnode *const *inputs, size_t ninputs)
{
	n->ninputs = ninputs;
	n->inputs = xcalloc(ninputs ? ninputs : 1, sizeof(lnode *));
	for (size_t i = 0; i < ninputs; i++)
		n->inputs[i] = inputs[i];
}

int build_partial_parts(lnode *n, size_t *bad, int *have)
{
	int parts = 1;

	for (size_t i = 0; i < n->ninputs; i++) {
		int p = n->inputs[i]->nparts;
		if (p == 1 || p == parts)
			continue;
		if (parts != 1) {
			*bad = i;
			*have = parts;
			return -1;
		}
		parts = p;
	}
	n->nparts = parts;
	return 0;
}

void build_shorthand(lnode *n, shorthand_kind k, const char *arg)
{
	static const char *const templates[] = {
		[SH_FILTER] = "SELECT * FROM {0} WHERE (%s)",
		[SH_MAP] = "SELECT %s FROM {0}",
		[SH_SORT] = "SELECT * FROM {0} ORDER BY %s",
	};

	n->query = xasprintf(templates[k], arg);
	n->rowwise = k != SH_SORT;
	n->keeps_schema = k != SH_MAP;
	n->nparts = n->inputs[0]->nparts;
}

void build_keys(lnode *n, rp_mode mode, const char *const *names, size_t nnames)
{
	sb b = SB_INIT;

	n->mode = mode;
	n->nkeys = nnames;
	n->key_names = xcalloc(nnames, sizeof(char *));
	for (size_t i = 0; i < nnames; i++) {
		if (i)
			sb_add(&b, ", ");
		sb_sql_ident(&b, names[i]);
		n->key_names[i] = xstrdup(names[i]);
	}
	n->key = sb_detach(&b);
	n->key_desc = xstrdup(nnames == 1 ? names[0] : n->key);
}

void build_expr(lnode *n, const char *expr)
{
	n->mode = RP_EXPR;
	n->key = xasprintf("(%s)", expr);
	n->key_desc = xstrdup(expr);
}
