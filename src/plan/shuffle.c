/* shuffle.c — a repartition's producer stage (docs/ARCHITECTURE.md):
 * each producer reads a share of the input (files, or row slices of one
 * file) and writes one file per bucket, the bucket chosen by a hash of the
 * keys, by range (split points from a sample stage before it), by the
 * row's place, or at random from a seed. physical.c compiles what the
 * producers read and what reads their buckets. */
#include <stdlib.h>
#include <string.h>

#include "plan/physical_int.h"
#include "plan/skew.h"
#include "util/sb.h"

/* A producer reads at most this many input bytes, and there are at least
 * MIN_PRODUCERS of them when the input has that many files. Each producer
 * costs a fixed share (one file per bucket; with the combiner, one partial
 * row per group it saw), so small inputs get few: 4 instead of 8 took the
 * hash_agg benchmark from 1.66x to 1.45x DuckDB (docs/BENCHMARKS.md). */
#define PRODUCER_BYTES (128LL << 20)
#define MIN_PRODUCERS 4
#define MAX_PRODUCERS 4096
#define SAMPLES_PER_PARTITION 1000
/* Up to this many partitions a range bucket is a binary search written
 * out as nested CASEs; beyond, a linear list_filter keeps the SQL small. */
#define MAX_BSEARCH_PARTITIONS 4096
/* A Parquet file is cut into row slices no smaller than this. */
#define MIN_SLICE_BYTES (16LL << 20)

/* The one-partition source under a chain of row-wise steps, if any: such a
 * chain may be split across producers by files. */
static const lnode *splittable_source(const planner *pl, const lnode *n)
{
	while (n->kind == L_PARTIAL && n->rowwise && n->ninputs == 1 && !pl->cut[n->id])
		n = n->inputs[0];
	if (n->kind != L_SOURCE || (n->nfiles < 2 && n->format != FMT_PARQUET))
		return NULL;
	/* CSV/JSON types and dialect would be sniffed from the files read,
	 * and subsets could disagree: split only when they are fixed (the
	 * binder fixes them as DuckDB sniffs them, unless it could not) */
	if (n->format != FMT_PARQUET && !n->columns.n && !n->types.n)
		return NULL;
	if (lnode_opt_bool(n, "union_by_name"))
		return NULL; /* subsets could disagree on the schema */
	return n;
}

/* One producer's share of a source: files [lo, hi), or slice k of K of
 * file lo. */
typedef struct {
	size_t lo, hi;
	int slice, nslices;
} share;

static int64_t total_bytes(const lnode *src)
{
	int64_t total = 0;
	for (size_t i = 0; i < src->nfiles; i++)
		total += src->sizes[i] > 0 ? src->sizes[i] : 0;
	return total;
}

/* How a source is split among producers: by groups of files when there
 * are enough files, else by row slices of big Parquet files. Depends only
 * on the input (file sizes), never on the number of workers, so the
 * output is the same whatever runs it. Caller frees. */
static share *producer_shares(const lnode *src, size_t *np)
{
	int64_t total = total_bytes(src);
	size_t want = (size_t)((total + PRODUCER_BYTES - 1) / PRODUCER_BYTES), n = 0;
	share *v;

	if (want < MIN_PRODUCERS)
		want = MIN_PRODUCERS;
	if (want > MAX_PRODUCERS)
		want = MAX_PRODUCERS;
	if (src->nfiles >= want || src->format != FMT_PARQUET) {
		size_t p = want < src->nfiles ? want : src->nfiles;
		v = xcalloc(p, sizeof(share));
		for (size_t i = 0; i < p; i++)
			v[i] = (share){ src->nfiles * i / p, src->nfiles * (i + 1) / p, 0, 1 };
		*np = p;
		return v;
	}
	v = xcalloc(want + src->nfiles, sizeof(share));
	for (size_t f = 0; f < src->nfiles; f++) {
		int64_t size = src->sizes[f] > 0 ? src->sizes[f] : 0;
		int64_t k = total ? (int64_t)((double)want * (double)size / (double)total + 0.5) : 1;
		int64_t cap = (size + MIN_SLICE_BYTES - 1) / MIN_SLICE_BYTES;
		if (k > cap)
			k = cap;
		if (k < 1)
			k = 1;
		for (int64_t s = 0; s < k; s++)
			v[n++] = (share){ f, f + 1, (int)s, (int)k };
	}
	*np = n;
	return v;
}

/* Key expression of a range shuffle: one column, or a row of them. */
static char *range_key(const lnode *rp)
{
	return strchr(rp->key, ',') ? xasprintf("row(%s)", rp->key) : xstrdup(rp->key);
}

/* The sorted split points of a range shuffle: a session variable that the
 * producer task sets before its COPY (the output's "prelude"). DuckDB folds
 * getvariable('…')[k] into a constant, so each row compares against
 * constants; reading the list from a joined one-row table instead cost
 * ~7% more per row. */
#define SPLITS_VAR "getvariable('__pond_splits')"

/* Number of split points below `key` when the answer lies in [lo, hi]:
 * a binary search over the sorted split points as nested CASEs, so a row
 * costs log2(n) comparisons. A missing split (NULL: fewer samples than
 * partitions) compares as +infinity. */
static void bsearch_sql(sb *b, const char *key, int lo, int hi)
{
	int mid;

	if (lo == hi) {
		sb_addf(b, "%d", lo);
		return;
	}
	mid = lo + (hi - lo) / 2;
	sb_addf(b, "CASE WHEN " SPLITS_VAR "[%d] < %s THEN ", mid + 1, key);
	bsearch_sql(b, key, mid + 1, hi);
	sb_add(b, " ELSE ");
	bsearch_sql(b, key, lo, mid);
	sb_add(b, " END");
}

/* The keys of a hash shuffle, each cast to the type it is hashed in when
 * the binder chose one (co-partitioned inputs of a join, bind.c). */
static void hash_keys(sb *b, const lnode *rp)
{
	for (size_t k = 0; k < rp->nkeys; k++) {
		sb_add(b, k ? ", " : "");
		if (rp->key_casts && rp->key_casts[k]) {
			sb_add(b, "CAST(");
			sb_sql_ident(b, rp->key_names[k]);
			sb_addf(b, " AS %s)", rp->key_casts[k]);
		} else {
			sb_sql_ident(b, rp->key_names[k]);
		}
	}
}

/* repartition(n, by='expr'): the expression is the partition index. NULL,
 * a fraction or a value outside [0, n) stops the task with an error that
 * names the value (a row must never be dropped or land in the wrong
 * partition). The fraction test only where the type allows fractions. */
static void expr_bucket(sb *b, const lnode *rp, const char *src)
{
	int n = rp->nparts;
	char *head =
		xasprintf("%s:%d: repartition(%d, by='%s') gave partition index ", rp->where, rp->col, n, rp->key_desc);
	/* the binder allows only numeric types: those of integers say INT */
	bool integral = rp->expr_type && strstr(rp->expr_type, "INT");

	sb_add(b, "SELECT * EXCLUDE (__pond_b), CASE WHEN __pond_b IS NULL THEN error(");
	sb_sql_str(b, head);
	sb_addf(b, " || 'NULL; it must be an integer in [0, %d)')", n);
	if (!integral) {
		sb_add(b, " WHEN __pond_b <> trunc(__pond_b) THEN error(");
		sb_sql_str(b, head);
		sb_add(b, " || __pond_b::VARCHAR || ', which is not an integer')");
	}
	sb_addf(b, " WHEN __pond_b >= 0 AND __pond_b < %d THEN __pond_b::BIGINT ELSE error(", n);
	sb_sql_str(b, head);
	sb_addf(b,
		" || __pond_b::VARCHAR || ', outside [0, %d)') END AS __pond_bucket "
		"FROM (SELECT *, %s AS __pond_b FROM %s)",
		n, rp->key, src);
	free(head);
}

/* SQL adding __pond_bucket to the rows of `src` (a CTE/view name). */
static char *bucket_select(planner *pl, const lnode *rp, const char *src, size_t producer)
{
	unsigned long long seed = (unsigned long long)pl->o->seed;
	int n = rp->nparts;
	sb b = SB_INIT;

	if (n == 1) {
		sb_addf(&b, "SELECT *, 0 AS __pond_bucket FROM %s", src);
		return sb_detach(&b);
	}
	switch (rp->mode) {
	case RP_HASH:
		if (rp->skew) {
			skew_bucket_select(&b, rp, src, producer, seed);
			break;
		}
		sb_add(&b, "SELECT *, (hash(");
		hash_keys(&b, rp);
		sb_addf(&b, ", %llu::UBIGINT) %% %d) AS __pond_bucket FROM %s", seed, n, src);
		break;
	case RP_RANDOM:
		sb_addf(&b, "SELECT *, (hash(__pond_t, %llu::UBIGINT) %% %d) AS __pond_bucket FROM %s AS __pond_t",
			seed, n, src);
		break;
	case RP_FILES:
	case RP_ROWS:
	case RP_ALIGNED: /* never shuffled: read where it lies (physical.c) */
		/* round robin, each producer starting one further along */
		sb_addf(&b, "SELECT *, ((row_number() OVER () - 1 + %zu) %% %d) AS __pond_bucket FROM %s", producer, n,
			src);
		break;
	case RP_EXPR:
		expr_bucket(&b, rp, src);
		break;
	case RP_RANGE: {
		/* descending: the partitions in reverse, so partition 0 holds
		 * the largest keys */
		char *key = range_key(rp);
		sb_addf(&b, "SELECT %s.*, CASE WHEN %s IS NULL THEN %d ELSE ", src, key,
			rp->range_nulls_first ? 0 : n - 1);
		if (rp->range_desc)
			sb_addf(&b, "%d - (", n - 1);
		if (n <= MAX_BSEARCH_PARTITIONS)
			bsearch_sql(&b, key, 0, n - 1);
		else
			sb_addf(&b, "coalesce(len(list_filter(" SPLITS_VAR ", __pond_x -> __pond_x < %s)), 0)", key);
		sb_addf(&b, "%s END AS __pond_bucket FROM %s", rp->range_desc ? ")" : "", src);
		free(key);
		break;
	}
	}
	return sb_detach(&b);
}

/* Producer tasks: compile the input (a share of its files, or one partition)
 * once per producer and call make(task context, root name, producer index). */
typedef void (*producer_fn)(planner *pl, stage *s, const lnode *rp, tctx *c, const char *root, size_t p, void *arg);

static void for_each_producer(planner *pl, stage *s, const lnode *rp, producer_fn make, void *arg, bool rownum)
{
	const lnode *in = rp->inputs[0];
	const lnode *src = splittable_source(pl, in);
	size_t np = (size_t)in->nparts;
	share *shares = src ? producer_shares(src, &np) : NULL;

	for (size_t p = 0; p < np; p++) {
		tctx c;
		tctx_init(&c, pl);
		/* row numbers only when the input is the Parquet scan itself */
		c.rownum = rownum && in->kind == L_SOURCE && in->format == FMT_PARQUET;
		if (src) {
			c.split_node = src;
			c.split_lo = shares[p].lo;
			c.split_hi = shares[p].hi;
			c.slice = shares[p].slice;
			c.nslices = shares[p].nslices;
		}
		make(pl, s, rp, &c, compile(&c, in, src ? 0 : (int)p), p, arg);
		tctx_release(&c);
	}
	free(shares);
}

static size_t producer_count(const planner *pl, const lnode *rp)
{
	const lnode *src = splittable_source(pl, rp->inputs[0]);
	size_t np = (size_t)rp->inputs[0]->nparts;
	free(src ? producer_shares(src, &np) : NULL);
	return np;
}

static void make_sample(planner *pl, stage *s, const lnode *rp, tctx *c, const char *root, size_t p, void *arg)
{
	size_t np = *(size_t *)arg;
	size_t rows = (size_t)rp->nparts * SAMPLES_PER_PARTITION / (np ? np : 1) + 100;
	char *key = range_key(rp);
	char *q;

	if (c->rownum) {
		/* A Parquet source: (key, row number in its file) tells rows
		 * apart, so the rows of smallest seeded hash are a uniform
		 * sample found in one pass with a top-N, whatever the order in
		 * which DuckDB's threads deliver them. */
		q = xasprintf(
			"SELECT %s AS __pond_k FROM %s ORDER BY hash(%s, __pond_rn, %llu::UBIGINT), __pond_k LIMIT %zu",
			key, root, key, (unsigned long long)(pl->o->seed + p), rows);
		add_task(pl, s, c, add_cte(c, NULL, q), output_of(OUT_PARQUET));
		free(q);
		free(key);
		return;
	}
	/* Not USING SAMPLE: a reservoir depends on the order rows arrive in,
	 * which varies with DuckDB's threads (e.g. after a GROUP BY). Pairing
	 * each key with its rank among equal keys and keeping the pairs of
	 * smallest seeded hash samples uniformly from the multiset of keys.
	 * The rank comes from a PARTITION BY window (a hash partitioning):
	 * an ORDER BY window would sort every key, ~15x slower. */
	q = xasprintf(
		"SELECT __pond_k FROM (SELECT %s AS __pond_k, row_number() OVER (PARTITION BY %s) AS __pond_rn "
		"FROM %s) ORDER BY hash(__pond_k, __pond_rn, %llu::UBIGINT), __pond_k, __pond_rn LIMIT %zu",
		key, key, root, (unsigned long long)(pl->o->seed + p), rows);
	add_task(pl, s, c, add_cte(c, NULL, q), output_of(OUT_PARQUET));
	free(q);
	free(key);
}

typedef struct {
	stage *splits;    /* range shuffles: the split points */
	const lnode *pre; /* combined shuffles: aggregate before bucketing */
} producer_args;

static void make_producer(planner *pl, stage *s, const lnode *rp, tctx *c, const char *root, size_t p, void *arg)
{
	producer_args *a = arg;
	task_output out = output_of(OUT_BUCKETS);

	if (a->splits)
		out.prelude =
			xasprintf("SET VARIABLE __pond_splits = (SELECT list(__pond_k ORDER BY __pond_k) FROM %s)",
				  parts_view(c, a->splits));
	if (a->pre) {
		char *in = xstrdup(root);
		char *q = query_substitute(a->pre->query, &in, 1, (int)p);
		root = add_cte(c, a->pre, q);
		free(q);
		free(in);
	}
	out.select = bucket_select(pl, rp, root, p);
	add_task(pl, s, c, root, out);
}

stage *ensure_shuffle(planner *pl, const lnode *rp, const lnode *pre)
{
	stage **memo = pre ? &pl->combined_of[pre->id] : &pl->shuffle_of[rp->id];
	stage *s = *memo, *splits = NULL;
	producer_args args = { NULL, pre };
	char *step;

	if (s)
		return s;
	if (rp->key_desc)
		step = xasprintf("%s %s(%d, %s=%s)", rp->where, rp->func, rp->nparts,
				 rp->mode == RP_HASH    ? "hash_by"
				 : rp->mode == RP_RANGE ? "range_by"
							: "by",
				 rp->key_desc);
	else
		step = xasprintf("%s %s(%d%s)", rp->where, rp->func, rp->nparts,
				 rp->mode == RP_ROWS ? ", by_rows=true" : "");
	if (pre) {
		char *longer = xasprintf("%s, combined with %s %s", step, pre->where, pre->func);
		free(step);
		step = longer;
	}
	if (rp->mode == RP_RANGE && rp->nparts > 1) {
		stage *sample = new_stage(pl, ST_SAMPLE, step);
		size_t np = producer_count(pl, rp);
		tctx c;
		char *q;
		for_each_producer(pl, sample, rp, make_sample, &np, true);
		/* n-1 split points: the sampled keys where floor(rank*n/count)
		 * steps up, i.e. the boundaries of n equal-count groups */
		splits = new_stage(pl, ST_SPLITS, step);
		tctx_init(&c, pl);
		q = xasprintf(
			"SELECT __pond_k FROM (SELECT __pond_k, row_number() OVER (ORDER BY __pond_k) AS rn, "
			"count(*) OVER () AS c FROM %s) WHERE rn < c AND (rn * %d) // c > ((rn - 1) * %d) // c",
			parts_view(&c, sample), rp->nparts, rp->nparts);
		add_task(pl, splits, &c, add_cte(&c, NULL, q), output_of(OUT_PARQUET));
		free(q);
		tctx_release(&c);
	}
	s = new_stage(pl, ST_SHUFFLE, step);
	args.splits = splits;
	for_each_producer(pl, s, rp, make_producer, &args, false);
	*memo = s;
	free(step);
	return s;
}
