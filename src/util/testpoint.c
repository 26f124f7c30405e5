/* testpoint.c — test hooks (see testpoint.h): the N-th arrival at a named
 * point kills or stops the process. Counters are per process; a forked
 * child inherits the parent's. Never set in production. */
#include "util/testpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether spec ("NAME" or "NAME:N") names this point and this arrival. */
static int hit(const char *spec, const char *name, int *count)
{
	size_t n = strlen(name);
	long want = 1;

	if (!spec || strncmp(spec, name, n) || (spec[n] && spec[n] != ':'))
		return 0;
	if (spec[n] == ':')
		want = strtol(spec + n + 1, NULL, 10);
	return ++*count == want;
}

static void write_pid(const char *path)
{
	char tmp[4096], line[32];
	int fd, len;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	len = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)len) == len)
		rename(tmp, path); /* the file appears whole */
	close(fd);
}

/* One line per arrival, so a test can list every point a run passes. */
static void trace(const char *path, const char *name)
{
	char line[256];
	int fd, len;

	if (!path)
		return;
	len = snprintf(line, sizeof(line), "%s\n", name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)len) != len) {
		/* a test reading the trace notices a missing line */
	}
	close(fd);
}

static void kill_or_stop(const char *name)
{
	static int kills, stops;

	if (hit(getenv("POND_TEST_KILL_AT"), name, &kills)) {
		fprintf(stderr, "pond test: killed at %s\n", name);
		raise(SIGKILL);
	}
	if (hit(getenv("POND_TEST_STOP_AT"), name, &stops)) {
		fflush(NULL);
		write_pid(getenv("POND_TEST_STOP_FILE"));
		raise(SIGSTOP);
	}
}

void test_point(const char *name)
{
	trace(getenv("POND_TEST_TRACE"), name);
	kill_or_stop(name);
}

void test_point_untraced(const char *name)
{
	kill_or_stop(name);
}

void test_pointf(const char *fmt, ...)
{
	char name[256];
	va_list ap;

	if (!getenv("POND_TEST_TRACE") && !getenv("POND_TEST_KILL_AT") && !getenv("POND_TEST_STOP_AT"))
		return;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	test_point(name);
}
