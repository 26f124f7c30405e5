/* banned.h — functions pond does not call, made compile errors (git's
 * banned.h idea). The build includes this first in every pond source
 * (-include), after the C library headers that declare them, so a use
 * anywhere later fails to compile. Use instead: snprintf / sb_addf
 * (sprintf, strcpy, strcat: unbounded), fgets or fs_read (gets), strtol
 * with its end pointer checked (atoi: no error at all). */
#ifndef POND_UTIL_BANNED_H
#define POND_UTIL_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(...) BANNED(strcpy)
#undef strcat
#define strcat(...) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(...) BANNED(gets)
#undef atoi
#define atoi(...) BANNED(atoi)

#endif
