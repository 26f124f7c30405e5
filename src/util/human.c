/* human.c — sizes, counts and durations for people (see human.h). */
#include "util/human.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static const struct {
	const char *unit;
	double bytes;
} units[] = {
	{ "", 1 },      { "B", 1 },        { "KB", 1e3 },        { "MB", 1e6 },           { "GB", 1e9 },
	{ "TB", 1e12 }, { "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 }, { "TiB", 1099511627776.0 },
	{ "K", 1e3 },   { "M", 1e6 },      { "G", 1e9 },         { "T", 1e12 },
};

int human_parse_bytes(const char *s, int64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -1;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].unit)) {
			*out = (int64_t)(v * units[i].bytes);
			return *out > 0 ? 0 : -1;
		}
	return -1;
}

/* v in steps of 1000 with the unit names u[0..nu-1]: "%.0f" unscaled,
 * "%.1f" once scaled; `sep` between the number and the unit. */
static void scaled(char *buf, size_t n, double v, const char *const *u, int nu, const char *sep)
{
	int i = 0;
	while (v >= 1000 && i < nu - 1)
		v /= 1000, i++;
	snprintf(buf, n, i ? "%.1f%s%s" : "%.0f%s%s", v, sep, u[i]);
}

void human_bytes(char *buf, size_t n, int64_t b)
{
	static const char *const u[] = { "B", "KB", "MB", "GB", "TB", "PB" };
	scaled(buf, n, (double)b, u, 6, " ");
}

void human_count(char *buf, size_t n, int64_t c)
{
	static const char *const u[] = { "", "K", "M", "G", "T" };
	scaled(buf, n, (double)c, u, 5, "");
}

void human_time(char *buf, size_t n, double s)
{
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}
