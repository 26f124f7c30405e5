/* err.h — pond's error value: a status code plus a message, filled by
 * pond_fail() so that failing is one line: return pond_fail(err, ...). */
#ifndef POND_UTIL_ERR_H
#define POND_UTIL_ERR_H

#include "pond.h"

typedef struct {
	pond_status code;
	int errnum; /* the errno of a failed system call, or 0 */
	char msg[8192];
} pond_err;

/* Sets err (if not NULL) and returns -1. */
int pond_fail(pond_err *err, pond_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same for a failed system call: the message gets ": strerror(errnum)"
 * appended and err->errnum keeps the value, so that callers classify by
 * errno (a full disk: util/errclass.h), never by the text. */
int pond_fail_errno(pond_err *err, pond_status code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefixes the existing message with "prefix: ". Returns -1. */
int pond_wrap(pond_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
