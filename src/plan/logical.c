/* logical.c — construction and destruction of the logical plan (see
 * logical.h). The interpreter fills the fields; nothing here knows SQL. */
#include "plan/logical.h"

#include <stdlib.h>

#include "util/sb.h"

lplan *lplan_new(void)
{
	return xcalloc(1, sizeof(lplan));
}

static void lnode_free(lnode *n)
{
	free(n->func);
	free(n->where);
	free(n->name);
	for (size_t i = 0; i < n->nfiles; i++)
		free(n->files[i]);
	free(n->files);
	free(n->sizes);
	free(n->read_args);
	free(n->projection);
	free(n->query);
	free(n->inputs);
	free(n->key);
	free(n->key_desc);
	for (size_t i = 0; i < n->nkeys; i++)
		free(n->key_names[i]);
	free(n->key_names);
	free(n->combine);
	free(n);
}

void lplan_free(lplan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nnodes; i++)
		lnode_free(p->nodes[i]);
	free(p->nodes);
	for (size_t i = 0; i < p->nactions; i++) {
		action *a = &p->actions[i];
		free(a->where);
		free(a->dir);
		free(a->partition_by);
		free(a->copy_options);
	}
	free(p->actions);
	free(p->script_path);
	free(p);
}

lnode *lplan_add(lplan *p, lnode_kind kind, const char *func, const char *where)
{
	lnode *n = xcalloc(1, sizeof(lnode));

	n->id = (int)p->nnodes;
	n->kind = kind;
	n->nparts = 1;
	n->func = xstrdup(func);
	n->where = xstrdup(where);
	p->nodes = xgrow(p->nodes, p->nnodes, sizeof(lnode *));
	p->nodes[p->nnodes++] = n;
	return n;
}

action *lplan_add_action(lplan *p, action_kind kind, lnode *input, const char *where)
{
	action *a;

	p->actions = xrealloc(p->actions, (p->nactions + 1) * sizeof(action));
	a = &p->actions[p->nactions++];
	*a = (action){ 0 };
	a->kind = kind;
	a->input = input;
	a->where = xstrdup(where);
	return a;
}

const char *lnode_kind_name(lnode_kind k)
{
	static const char *names[] = { "source", "query", "partial", "repartition", "sql", "limit" };
	return names[k];
}

const char *rp_mode_name(rp_mode m)
{
	static const char *names[] = { "files", "rows", "hash", "expr", "range", "random" };
	return names[m];
}
