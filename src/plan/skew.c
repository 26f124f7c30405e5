/* skew.c — hot keys of a co-partitioned join (see skew.h, docs/SQL.md
 * "Skew").
 *
 * A hash shuffle sends every row of a key to one partition, so a key
 * holding 40 % of a table's rows leaves one task with 40 % of the join.
 * When one side of the join may be split (a side whose rows the join
 * does not keep unmatched on the other side: either side of an inner
 * join, the left of a LEFT or SEMI join), its hot keys are found at plan
 * time from the key columns of a few of its files, and then:
 * - that side's rows of a hot key, and its rows whose key has a NULL
 *   (they match nothing), go to a partition by a hash of the whole row
 *   and the producer's index: spread over every partition, the same way
 *   on every run;
 * - the other side's rows of a hot key go to every partition.
 * Each pair of matching rows then meets in exactly one partition (where
 * the spread row went), and no row of the other side is kept unmatched,
 * so the join's rows are DuckDB's. Other keys are hashed as before. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/skew.h"
#include "plan/source.h"
#include "plan/sqlplan_int.h"

/* A key is hot when it holds more than 1/(HOT_DIVISOR × P) of the sampled
 * rows, P the partitions: a key below it adds at most half a fair share
 * to its partition. */
#define HOT_DIVISOR 2
/* At most this many hot keys (the heaviest): each is a literal in the
 * shuffles' SQL, and its rows of the other side are copied P times. */
#define MAX_HOT 64

/* Key types whose values survive CAST(CAST(v AS VARCHAR) AS type) on any
 * host: a hot key is written into the shuffles' SQL that way. */
static bool literal_type(const char *t)
{
	static const char *const ok[] = { "TINYINT",   "SMALLINT", "INTEGER", "BIGINT",   "HUGEINT", "UTINYINT",
					  "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "VARCHAR", "DATE",
					  "TIMESTAMP", "BOOLEAN",  "UUID",    "TIME" };

	if (!strncmp(t, "DECIMAL(", 8))
		return true;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(t, ok[i]))
			return true;
	return false;
}

static const char *column_type(const schema *s, const char *name)
{
	const column *c = schema_find(s, name);
	return c ? c->type : NULL;
}

/* The most frequent keys of `src`'s sampled files above the threshold,
 * each with whether it has a NULL, its count and the rows sampled. */
static char *sample_sql(sqlp *p, const lnode *src, char *const *keys, size_t nk, int nparts, size_t *files,
			bool *seeded)
{
	sb b = SB_INIT, cols = SB_INIT, nulls = SB_INIT, text = SB_INIT;

	for (size_t k = 0; k < nk; k++) {
		sb_add(&cols, k ? ", " : "");
		sb_sql_ident(&cols, keys[k]);
		sb_add(&nulls, k ? " OR " : "");
		sb_sql_ident(&nulls, keys[k]);
		sb_add(&nulls, " IS NULL");
		sb_add(&text, "CAST(");
		sb_sql_ident(&text, keys[k]);
		sb_add(&text, " AS VARCHAR), ");
	}
	sb_add(&b, "WITH __pond_r AS (");
	*files = sql_sample(p, &b, src, sb_str(&cols), SAMPLE_SPREAD, NULL, seeded);
	sb_addf(&b,
		"), __pond_g AS (SELECT %s, count(*) AS __pond_n FROM __pond_r GROUP BY ALL) "
		"SELECT %s(%s) AS __pond_null, __pond_n, (SELECT count(*) FROM __pond_r) AS __pond_total "
		"FROM __pond_g WHERE __pond_n * %lld > (SELECT count(*) FROM __pond_r) ORDER BY __pond_n DESC",
		sb_str(&cols), sb_str(&text), sb_str(&nulls), (long long)HOT_DIVISOR * nparts);
	for (size_t k = 0; k < nk; k++)
		sb_addf(&b, ", %zu NULLS LAST", k + 1);
	sb_addf(&b, " LIMIT %d", MAX_HOT + 1);
	sb_release(&cols);
	sb_release(&nulls);
	sb_release(&text);
	return sb_detach(&b);
}

typedef struct {
	char **lits; /* nhot × nk: CAST('v' AS type) */
	size_t nhot;
	bool null_hot;    /* the NULL keys are hot too */
	int64_t hot_rows; /* sampled rows of the hot keys */
	int64_t sampled;  /* rows sampled */
	size_t files;     /* files sampled */
} hot_keys;

/* Runs the sample in the plan-time DuckDB. False (nothing found) when a
 * key's type cannot be written as a literal or the sample fails. */
static bool find_hot(sqlp *p, const lnode *src, char *const *keys, size_t nk, int nparts, hot_keys *h)
{
	pond_err quiet = { 0 };
	pdb_result r;
	char *sql;
	const char *t;
	bool seeded;

	for (size_t k = 0; k < nk; k++)
		if (!(t = column_type(&src->schema, keys[k])) || !literal_type(t))
			return false;
	sql = sample_sql(p, src, keys, nk, nparts, &h->files, &seeded);
	if (plandb_query_wide(p->db, sql, !seeded, &r, &quiet) != PDB_OK) {
		free(sql);
		return false;
	}
	free(sql);
	for (size_t i = 0; i < r.nrows && h->nhot < MAX_HOT; i++) {
		int64_t n = strtoll(pdb_cell(&r, i, nk + 1), NULL, 10);
		h->sampled = strtoll(pdb_cell(&r, i, nk + 2), NULL, 10);
		h->hot_rows += n;
		if (!strcmp(pdb_cell(&r, i, nk), "true")) {
			h->null_hot = true;
			continue;
		}
		h->lits = xrealloc(h->lits, (h->nhot + 1) * nk * sizeof(char *));
		for (size_t k = 0; k < nk; k++) {
			sb lit = SB_INIT;
			sb_add(&lit, "CAST(");
			sb_sql_str(&lit, pdb_cell(&r, i, k));
			sb_addf(&lit, " AS %s)", column_type(&src->schema, keys[k]));
			h->lits[h->nhot * nk + k] = sb_detach(&lit);
		}
		h->nhot++;
	}
	pdb_result_release(&r);
	return h->nhot > 0 || h->null_hot;
}

static char **copy_literals(const hot_keys *h, size_t nk)
{
	char **v = xcalloc(h->nhot * nk + 1, sizeof(char *));

	for (size_t i = 0; i < h->nhot * nk; i++)
		v[i] = xstrdup(h->lits[i]);
	return v;
}

void sql_skew(shape *s, int la, int lb, bool left_ok, bool right_ok)
{
	int big, other;
	sql_leaf *l;
	lnode *rp, *orp;
	hot_keys h = { 0 };

	if (!left_ok && !right_ok)
		return;
	big = left_ok && right_ok ? (s->leaves[la].bytes >= s->leaves[lb].bytes ? la : lb) : left_ok ? la : lb;
	other = big == la ? lb : la;
	l = &s->leaves[big];
	rp = l->in;
	orp = s->leaves[other].in;
	if (!l->src || l->src->format != FMT_PARQUET || rp->nparts < 2 || rp->nkeys != orp->nkeys ||
	    !find_hot(s->p, l->src, rp->key_names, rp->nkeys, rp->nparts, &h))
		return;
	rp->skew = SKEW_SPREAD;
	rp->hot = h.lits;
	rp->nhot = h.nhot;
	orp->skew = SKEW_COPY;
	orp->hot = copy_literals(&h, rp->nkeys);
	orp->nhot = h.nhot;
	sql_note(s->p,
		 "skew: %s has %zu hot key%s%s (each more than 1/%d of the %lld rows sampled from %zu of its "
		 "files; together %.1f%%): their rows spread over all %d partitions, %s's rows of them copied "
		 "to each",
		 l->alias, h.nhot, h.nhot == 1 ? "" : "s", h.null_hot ? " and NULL keys" : "", HOT_DIVISOR * rp->nparts,
		 (long long)h.sampled, h.files, h.sampled ? 100.0 * (double)h.hot_rows / (double)h.sampled : 0.0,
		 rp->nparts, s->leaves[other].alias);
}

/* ---- the buckets (physical.c) ------------------------------------------------ */

/* The type key k is hashed and compared in (the binder's common type). */
static const char *key_type(const lnode *rp, size_t k)
{
	if (rp->key_casts && rp->key_casts[k])
		return rp->key_casts[k];
	return rp->key_types ? rp->key_types[k] : NULL;
}

static void key_sql(sb *b, const lnode *rp, size_t k)
{
	const char *t = key_type(rp, k);

	if (t)
		sb_add(b, "CAST(");
	sb_sql_ident(b, rp->key_names[k]);
	if (t)
		sb_addf(b, " AS %s)", t);
}

static void literal_sql(sb *b, const lnode *rp, size_t i, size_t k)
{
	const char *t = key_type(rp, k);

	if (t)
		sb_addf(b, "CAST(%s AS %s)", rp->hot[i * rp->nkeys + k], t);
	else
		sb_add(b, rp->hot[i * rp->nkeys + k]);
}

/* Whether the row's key is one of the hot keys (NULL when it has a NULL:
 * never hot). FALSE when there are none. */
static void is_hot(sb *b, const lnode *rp)
{
	if (!rp->nhot) {
		sb_add(b, "false");
		return;
	}
	if (rp->nkeys == 1) {
		key_sql(b, rp, 0);
		sb_add(b, " IN (");
		for (size_t i = 0; i < rp->nhot; i++) {
			sb_add(b, i ? ", " : "");
			literal_sql(b, rp, i, 0);
		}
		sb_add(b, ")");
		return;
	}
	sb_add(b, "(");
	for (size_t i = 0; i < rp->nhot; i++) {
		sb_add(b, i ? " OR (" : "(");
		for (size_t k = 0; k < rp->nkeys; k++) {
			sb_add(b, k ? " AND " : "");
			key_sql(b, rp, k);
			sb_add(b, " = ");
			literal_sql(b, rp, i, k);
		}
		sb_add(b, ")");
	}
	sb_add(b, ")");
}

/* The bucket of a hash shuffle: the same expression for both sides. */
static void key_bucket(sb *b, const lnode *rp, unsigned long long seed)
{
	sb_add(b, "(hash(");
	for (size_t k = 0; k < rp->nkeys; k++) {
		sb_add(b, k ? ", " : "");
		key_sql(b, rp, k);
	}
	sb_addf(b, ", %llu::UBIGINT) %% %d)", seed, rp->nparts);
}

void skew_bucket_select(sb *b, const lnode *rp, const char *src, size_t producer, unsigned long long seed)
{
	int n = rp->nparts;

	if (rp->skew == SKEW_COPY) {
		sb_add(b, "SELECT *, unnest(CASE WHEN ");
		is_hot(b, rp);
		sb_addf(b, " THEN range(%d)::UBIGINT[] ELSE [", n);
		key_bucket(b, rp, seed);
		sb_addf(b, "] END) AS __pond_bucket FROM %s AS __pond_t", src);
		return;
	}
	sb_add(b, "SELECT *, CASE WHEN ");
	for (size_t k = 0; k < rp->nkeys; k++) {
		sb_sql_ident(b, rp->key_names[k]);
		sb_add(b, " IS NULL OR ");
	}
	is_hot(b, rp);
	sb_addf(b, " THEN (hash(__pond_t, %zu::UBIGINT, %llu::UBIGINT) %% %d) ELSE ", producer, seed, n);
	key_bucket(b, rp, seed);
	sb_addf(b, " END AS __pond_bucket FROM %s AS __pond_t", src);
}
