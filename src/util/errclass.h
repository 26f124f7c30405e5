/* errclass.h — why a task attempt failed, as a value: the engine and the
 * task runtime classify, the scheduler retries by class. Classes are
 * decided by value (DuckDB's error type, an errno), never by reading a
 * message; the one exception is documented in engine.c (disk_full). */
#ifndef POND_UTIL_ERRCLASS_H
#define POND_UTIL_ERRCLASS_H

/* Values are fixed: they cross process boundaries and are written to
 * events.jsonl. New classes are only appended. */
typedef enum {
	EC_NONE = 0,
	EC_INPUT = 1,    /* bad SQL or data, a missing intermediate: the same
			  * at every attempt, never retried */
	EC_RESOURCE = 2, /* out of memory (or SIGKILLed, often by the OOM
			  * killer): retried with fewer threads, more memory */
	EC_INTERNAL = 3, /* anything else */
	EC_TIMEOUT = 4,  /* ran past --task-timeout and was cancelled */
	EC_LOST = 5,     /* its worker died or stopped answering */
	EC_IO = 6,       /* a file could not be read or written: retried once */
	EC_NOSPACE = 7,  /* a disk is full (ENOSPC, EDQUOT): retried as it is */
} error_class;

/* "input", "resource", "I/O", …: the word messages and journal.jsonl use.
 * A full disk is a "resource" error to users, like running out of
 * memory; it has its own class so that a retry does not ask for more
 * memory. */
const char *error_class_name(error_class c);

/* EC_NOSPACE for ENOSPC and EDQUOT, else `otherwise`. */
error_class error_class_of_errno(int errnum, error_class otherwise);

#endif
