/* err.c — building error messages (see err.h). */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pond_fail(pond_err *err, pond_status code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	err->errnum = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int pond_fail_errno(pond_err *err, pond_status code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!err)
		return -1;
	err->code = code;
	err->errnum = errnum;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
	return -1;
}

int pond_wrap(pond_err *err, const char *fmt, ...)
{
	char prefix[1024], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	size_t n = strlen(prefix);
	memcpy(old, err->msg, sizeof(old));
	/* prefix, then as much of the old message as still fits */
	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg, prefix, n);
		memcpy(err->msg + n, ": ", 2);
		size_t room = sizeof(err->msg) - n - 3;
		size_t m = strnlen(old, room);
		memcpy(err->msg + n + 2, old, m);
		err->msg[n + 2 + m] = '\0';
	}
	return -1;
}
