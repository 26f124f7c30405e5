/* test_report.c — unit tests of the run report's arithmetic: the task-time
 * quantiles and the skew flag (src/report/stats.c) compared with DuckDB's
 * own quantile_cont / quantile_disc / min / max over the same numbers in
 * an in-memory DuckDB, never with typed-in answers; the progress line's
 * estimate (src/exec/progress.c); HTML escaping (sb_html). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duckdb.h"
#include "exec/progress.h"
#include "report/stats.h"
#include "util/sb.h"

static int failures;

#define CHECK(cond, ...)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			failures++;                                                      \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                    \
			fprintf(stderr, "\n");                                           \
		}                                                                        \
	} while (0)

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static double next_unit(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / (double)(1ULL << 53);
}

/* n task times in ms: a mix of short, long and repeated values, and now
 * and then one straggler, so that skew is sometimes there. */
static void sample(double *v, size_t n)
{
	double base = 5 + next_unit() * 3000;

	for (size_t i = 0; i < n; i++) {
		double u = next_unit();
		v[i] = u < 0.2 ? base : round(base * (0.5 + u) * 1000) / 1000;
	}
	if (n > 3 && next_unit() < 0.4)
		v[(size_t)(next_unit() * (double)n)] = base * (1 + next_unit() * 6);
}

static duckdb_connection con;

/* DuckDB's answer to `agg` over the values, as a double. */
static double oracle(const double *v, size_t n, const char *agg)
{
	sb q = SB_INIT;
	duckdb_result r;
	double x = NAN;

	sb_addf(&q, "SELECT (%s)::DOUBLE FROM (SELECT unnest([", agg);
	for (size_t i = 0; i < n; i++)
		sb_addf(&q, "%s%.17g", i ? "," : "", v[i]);
	sb_add(&q, "]::DOUBLE[]) AS x)");
	if (duckdb_query(con, sb_str(&q), &r) == DuckDBSuccess)
		x = duckdb_value_double(&r, 0, 0);
	else
		fprintf(stderr, "oracle: %s\n", duckdb_result_error(&r));
	duckdb_destroy_result(&r);
	sb_release(&q);
	return x;
}

static bool close_to(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void quantiles_match_duckdb(void)
{
	static const double qs[] = { 0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1 };
	double v[300];

	for (int round_ = 0; round_ < 60; round_++) {
		size_t n = 1 + (size_t)(next_unit() * 299);
		sample(v, n);
		qsort(v, n, sizeof(double), cmp);
		for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
			char agg[64];
			double mine = stats_quantile_cont(v, n, qs[k]), duck;
			snprintf(agg, sizeof(agg), "quantile_cont(x, %g)", qs[k]);
			duck = oracle(v, n, agg);
			CHECK(close_to(mine, duck), "n=%zu q=%g: cont %.17g, DuckDB %.17g", n, qs[k], mine, duck);
			mine = stats_quantile_disc(v, n, qs[k]);
			snprintf(agg, sizeof(agg), "quantile_disc(x, %g)", qs[k]);
			duck = oracle(v, n, agg);
			CHECK(mine == duck, "n=%zu q=%g: disc %.17g, DuckDB %.17g", n, qs[k], mine, duck);
		}
	}
}

static void summary_and_skew_match_duckdb(void)
{
	double v[300];
	int skewed = 0, even = 0;

	for (int round_ = 0; round_ < 80; round_++) {
		size_t n = 1 + (size_t)(next_unit() * 299);
		stats_summary s;
		char skew[160];
		double want;
		sample(v, n);
		want = oracle(v, n, "median(x)"); /* before summarize sorts v */
		stats_summarize(v, n, &s);
		CHECK(s.n == n, "n");
		CHECK(close_to(s.median, want), "median %.17g vs DuckDB %.17g", s.median, want);
		CHECK(s.min == oracle(v, n, "min(x)"), "min");
		CHECK(s.max == oracle(v, n, "max(x)"), "max");
		CHECK(close_to(s.p75, oracle(v, n, "quantile_cont(x, 0.75)")), "p75");
		CHECK(close_to(s.p90, oracle(v, n, "quantile_cont(x, 0.9)")), "p90");
		snprintf(skew, sizeof(skew), "(max(x) > %g * quantile_cont(x, 0.75) AND max(x) > %g)::INT", SKEW_FACTOR,
			 SKEW_MIN_MS);
		want = oracle(v, n, skew);
		CHECK((double)s.skew == want, "skew %d vs DuckDB %g (max %g, p75 %g)", s.skew, want, s.max, s.p75);
		skewed += s.skew;
		even += !s.skew;
	}
	/* the samples must exercise both answers, or the test proves little */
	CHECK(skewed > 3 && even > 3, "skewed %d, even %d", skewed, even);
}

static void empty_summary(void)
{
	stats_summary s;
	stats_summarize(NULL, 0, &s);
	CHECK(s.n == 0 && !s.skew && s.max == 0, "empty");
}

static void eta_waits_then_estimates(void)
{
	eta_stage st[2] = { { .left = 10, .done = ETA_MIN_DONE - 1, .done_ms = 2000 }, { .left = 5 } };
	double a, b;

	CHECK(progress_eta(st, 2, 4) < 0, "no estimate before %d tasks of a stage", ETA_MIN_DONE);
	st[0].done = ETA_MIN_DONE;
	st[0].done_ms = 1000.0 * ETA_MIN_DONE; /* 1 s a task */
	a = progress_eta(st, 2, 4);
	/* stage 0: 10 s of work on 4 workers; stage 1 (none done): the mean, 1 s, 5 tasks on 4 */
	CHECK(close_to(a, 10.0 / 4 + 5.0 / 4), "eta %g", a);
	st[0].running_ms = 2000;
	b = progress_eta(st, 2, 4);
	CHECK(b < a, "running attempts' time counts (%g then %g)", a, b);
	st[0].left = 1;
	st[0].running_ms = 0;
	st[1].left = 0;
	CHECK(close_to(progress_eta(st, 2, 4), 1.0), "one task left is one task's time, however many workers");
}

static void html_escaped(void)
{
	sb b = SB_INIT;

	sb_html(&b, "<script>alert('x & \"y\"')</script>\x01");
	CHECK(!strcmp(sb_str(&b), "&lt;script&gt;alert(&#39;x &amp; &quot;y&quot;&#39;)&lt;/script&gt;\xef\xbf\xbd"),
	      "got %s", sb_str(&b));
	sb_release(&b);
}

int main(void)
{
	duckdb_database db;

	if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
		fprintf(stderr, "cannot open DuckDB\n");
		return 1;
	}
	quantiles_match_duckdb();
	summary_and_skew_match_duckdb();
	empty_summary();
	eta_waits_then_estimates();
	html_escaped();
	duckdb_disconnect(&con);
	duckdb_close(&db);
	if (failures)
		fprintf(stderr, "test_report: %d checks failed\n", failures);
	else
		printf("test_report: all checks passed\n");
	return failures ? 1 : 0;
}
