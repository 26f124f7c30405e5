/* stats.c — quantiles and the skew test of the run report (see stats.h).
 * Called by report/load.c for each stage's task times. */
#include "report/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double stats_quantile_cont(const double *sorted, size_t n, double q)
{
	double rn = (double)(n - 1) * q;
	size_t lo = (size_t)floor(rn), hi = (size_t)ceil(rn);

	if (hi >= n)
		hi = n - 1;
	if (lo >= hi)
		return sorted[hi];
	return sorted[lo] + (rn - (double)lo) * (sorted[hi] - sorted[lo]);
}

double stats_quantile_disc(const double *sorted, size_t n, double q)
{
	double rank = ceil((double)n * q);
	size_t i = rank >= 1 ? (size_t)rank - 1 : 0;

	return sorted[i < n ? i : n - 1];
}

bool stats_skewed(double max, double p75)
{
	return max > SKEW_FACTOR * p75 && max > SKEW_MIN_MS;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void stats_summarize(double *v, size_t n, stats_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n == 0)
		return;
	qsort(v, n, sizeof(double), cmp_double);
	out->min = v[0];
	out->max = v[n - 1];
	out->median = stats_quantile_cont(v, n, 0.5);
	out->p75 = stats_quantile_cont(v, n, 0.75);
	out->p90 = stats_quantile_cont(v, n, 0.9);
	out->skew = stats_skewed(out->max, out->p75);
}
