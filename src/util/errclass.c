/* errclass.c — names of the error classes, and the errno ones (see
 * errclass.h). */
#include "util/errclass.h"

#include <errno.h>

const char *error_class_name(error_class c)
{
	static const char *const names[] = { "none",    "input", "resource", "internal",
					     "timeout", "lost",  "I/O",      "resource" };
	return c >= EC_NONE && c <= EC_NOSPACE ? names[c] : "internal";
}

error_class error_class_of_errno(int errnum, error_class otherwise)
{
	return errnum == ENOSPC || errnum == EDQUOT ? EC_NOSPACE : otherwise;
}
