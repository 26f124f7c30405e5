/* logical.c — construction and destruction of the logical plan (see
 * logical.h). The interpreter fills the fields; nothing here knows SQL. */
#include "plan/logical.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/sb.h"

lplan *lplan_new(void)
{
	return xcalloc(1, sizeof(lplan));
}

void schema_release(schema *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->cols[i].name);
		free(s->cols[i].type);
	}
	free(s->cols);
	s->cols = NULL;
	s->n = 0;
}

/* Same column names and types, in the same order. */
bool schema_equal(const schema *a, const schema *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->cols[i].name, b->cols[i].name) || strcmp(a->cols[i].type, b->cols[i].type))
			return false;
	return true;
}

void schema_add(schema *s, const char *name, const char *type)
{
	s->cols = xrealloc(s->cols, (s->n + 1) * sizeof(column));
	s->cols[s->n++] = (column){ xstrdup(name), xstrdup(type) };
}

const column *schema_find(const schema *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->cols[i].name, name))
			return &s->cols[i];
	return NULL;
}

const read_opt *lnode_opt(const lnode *n, const char *name)
{
	for (size_t i = 0; i < n->nopts; i++)
		if (!strcmp(n->opts[i].name, name))
			return &n->opts[i];
	return NULL;
}

bool lnode_opt_bool(const lnode *n, const char *name)
{
	const read_opt *o = lnode_opt(n, name);
	return o && o->type == OPT_BOOL && o->b;
}

void opts_set(read_opt **opts, size_t *nopts, const char *name, opt_type type, bool b, int64_t i, const char *s)
{
	read_opt *o = NULL;

	for (size_t k = 0; k < *nopts; k++)
		if (!strcmp((*opts)[k].name, name))
			o = &(*opts)[k];
	if (!o) {
		*opts = xrealloc(*opts, (*nopts + 1) * sizeof(read_opt));
		o = &(*opts)[(*nopts)++];
		o->name = xstrdup(name);
		o->s = NULL;
	}
	free(o->s);
	o->type = type;
	o->b = b;
	o->i = i;
	o->s = s ? xstrdup(s) : NULL;
}

void opts_release(read_opt *opts, size_t nopts)
{
	for (size_t i = 0; i < nopts; i++) {
		free(opts[i].name);
		free(opts[i].s);
	}
	free(opts);
}

void lnode_set_opt(lnode *n, const char *name, opt_type type, bool b, int64_t i, const char *s)
{
	opts_set(&n->opts, &n->nopts, name, type, b, i, s);
}

const char *query_placeholder(const char *s, size_t *len)
{
	for (; (s = strchr(s, '{')); s++) {
		size_t d = strspn(s + 1, "0123456789");
		if (d && s[1 + d] == '}') {
			*len = d + 2;
			return s;
		}
		if (!strncmp(s, "{partition}", 11)) {
			*len = 11;
			return s;
		}
	}
	return NULL;
}

char *query_substitute(const char *q, char *const *names, size_t nnames, int partition)
{
	sb b = SB_INIT;

	for (const char *p = q; *p;) {
		if (*p == '{') {
			char *end;
			if (isdigit((unsigned char)p[1])) {
				long k = strtol(p + 1, &end, 10);
				if (*end == '}' && (size_t)k < nnames) {
					sb_add(&b, names[k]);
					p = end + 1;
					continue;
				}
			} else if (!strncmp(p, "{partition}", 11)) {
				sb_addf(&b, "%d", partition);
				p += 11;
				continue;
			}
		}
		sb_addn(&b, p, 1);
		p++;
	}
	/* a trailing ';' would end the CTE early */
	while (b.len && (isspace((unsigned char)b.buf[b.len - 1]) || b.buf[b.len - 1] == ';'))
		b.buf[--b.len] = '\0';
	return sb_detach(&b);
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
	opts_release(n->opts, n->nopts);
	for (size_t i = 0; i < n->ndialects; i++)
		opts_release(n->dialects[i].opts, n->dialects[i].nopts);
	free(n->dialects);
	free(n->file_dialect);
	schema_release(&n->columns);
	schema_release(&n->types);
	for (size_t i = 0; i < n->nselect; i++)
		free(n->select[i]);
	free(n->select);
	schema_release(&n->schema);
	free(n->query);
	free(n->py_runner);
	free(n->py_pickle);
	free(n->inputs);
	free(n->key);
	free(n->key_desc);
	for (size_t i = 0; i < n->nkeys; i++)
		free(n->key_names[i]);
	free(n->key_names);
	for (size_t i = 0; n->key_types && i < n->nkeys; i++)
		free(n->key_types[i]);
	free(n->key_types);
	for (size_t i = 0; n->key_casts && i < n->nkeys; i++)
		free(n->key_casts[i]);
	free(n->key_casts);
	for (size_t i = 0; i < n->nhot * n->nkeys; i++)
		free(n->hot[i]);
	free(n->hot);
	free(n->aligned_lo);
	free(n->aligned_hi);
	free(n->expr_type);
	free(n->combine);
	for (size_t i = 0; i < n->nscope; i++)
		free(n->scope_names[i]);
	free(n->scope_names);
	free(n->scope_nodes);
	free(n);
}

void lplan_truncate(lplan *p, size_t n)
{
	for (size_t i = n; i < p->nnodes; i++)
		lnode_free(p->nodes[i]);
	if (n < p->nnodes)
		p->nnodes = n;
}

static void free_actions(lplan *p)
{
	for (size_t i = 0; i < p->nactions; i++) {
		action *a = &p->actions[i];
		free(a->where);
		free(a->dir);
		free(a->partition_by);
		free(a->copy_options);
	}
	free(p->actions);
	p->actions = NULL;
	p->nactions = 0;
}

void lplan_clear_actions(lplan *p)
{
	free_actions(p);
}

void lplan_free(lplan *p)
{
	if (!p)
		return;
	lplan_truncate(p, 0);
	free_actions(p);
	free(p->nodes);
	free(p->script_path);
	free(p->notes);
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

/* A depth-first walk with its own stack: a script rebinding one name
 * 100,000 times makes a chain that deep. */
static void visit(lnode *root, lnode **order, size_t *k, bool *seen, lnode **stack, size_t *next)
{
	size_t top = 0;

	if (seen[root->id])
		return;
	seen[root->id] = true;
	stack[top] = root;
	next[top++] = 0;
	while (top) {
		lnode *n = stack[top - 1];
		if (next[top - 1] == n->ninputs) {
			order[(*k)++] = n;
			top--;
			continue;
		}
		lnode *in = n->inputs[next[top - 1]++];
		if (!seen[in->id]) {
			seen[in->id] = true;
			stack[top] = in;
			next[top++] = 0;
		}
	}
}

void lplan_renumber(lplan *p)
{
	lnode **order = xcalloc(p->nnodes + 1, sizeof(lnode *));
	lnode **stack = xcalloc(p->nnodes + 1, sizeof(lnode *));
	size_t *next = xcalloc(p->nnodes + 1, sizeof(size_t));
	bool *seen = xcalloc(p->nnodes + 1, sizeof(bool));
	size_t k = 0;

	for (size_t i = 0; i < p->nnodes; i++)
		visit(p->nodes[i], order, &k, seen, stack, next);
	for (size_t i = 0; i < k; i++)
		order[i]->id = (int)i;
	if (k)
		memcpy(p->nodes, order, k * sizeof(lnode *)); /* keeps xgrow's room */
	free(order);
	free(stack);
	free(next);
	free(seen);
}

const char *lnode_kind_name(lnode_kind k)
{
	static const char *names[] = { "source", "query", "partial", "repartition", "sql", "limit", "python" };
	return names[k];
}

void rp_files_part(const lnode *rp, int i, size_t *lo, size_t *hi)
{
	size_t n = rp->inputs[0]->nfiles, parts = (size_t)rp->nparts;

	*lo = n * (size_t)i / parts;
	*hi = n * (size_t)(i + 1) / parts;
}

const char *rp_mode_name(rp_mode m)
{
	static const char *names[] = { "files", "rows", "hash", "expr", "range", "random", "aligned" };
	return names[m];
}
