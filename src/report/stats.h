/* stats.h — order statistics of task times for the run report: DuckDB's
 * two quantile definitions (quantile_cont interpolates, quantile_disc
 * picks a value) and the summary of one stage. Plain C over doubles; the
 * unit test compares every function with DuckDB's own aggregates. */
#ifndef POND_REPORT_STATS_H
#define POND_REPORT_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Skew: the slowest task took more than SKEW_FACTOR times the 75th
 * percentile, and more than SKEW_MIN_MS (shorter tasks are noise). */
#define SKEW_FACTOR 1.5
#define SKEW_MIN_MS 1000.0

/* The q-quantile (0 <= q <= 1) of n > 0 sorted values, as DuckDB's
 * quantile_cont: linear interpolation between the two closest ranks. */
double stats_quantile_cont(const double *sorted, size_t n, double q);

/* As DuckDB's quantile_disc: the value at rank ceil(n·q) (1-based, at
 * least 1). */
double stats_quantile_disc(const double *sorted, size_t n, double q);

bool stats_skewed(double max, double p75);

typedef struct {
	size_t n;
	double min, median, p75, p90, max; /* quantile_cont; 0 when n is 0 */
	bool skew;                         /* stats_skewed(max, p75) */
} stats_summary;

/* Summarises n values (milliseconds), sorting v in place. */
void stats_summarize(double *v, size_t n, stats_summary *out);

#endif
