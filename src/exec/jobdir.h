/* jobdir.h — the job directory (docs/PIPELINES.md) in one place: its default
 * name, the marker that says pond made it, the lock a run holds on it for
 * its whole life, preparing it for a run and dropping what a finished run
 * no longer needs. Called by the session (src/exec/session.c). */
#ifndef POND_EXEC_JOBDIR_H
#define POND_EXEC_JOBDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "exec/journal.h"
#include "plan/physical.h"
#include "util/err.h"

/* The file that marks a directory pond created as a job directory. Only a
 * marked directory is ever cleaned, and only of pond's own entries. */
#define JOBDIR_MARKER ".pond-job"

typedef struct jobdir jobdir;

/* .pond/<script name without extension>-<8 hex> under the current
 * directory, absolute. The hex digits are FNV-1a of the script's real path
 * and its -D values (the last value of each name, sorted by name): the
 * same script with other parameters gets another directory, and the order
 * of the -D flags does not matter. Caller frees. */
char *jobdir_default(const char *script_path, const char *const *defines, size_t ndefines);

/* pond sql's default: .pond/<name>-<8 hex of FNV-1a over parts>, absolute
 * (parts: the query, its tables, its output). Caller frees. */
char *jobdir_named(const char *name, const char *const *parts, size_t nparts);

/* Refuses (POND_EUSAGE) a directory pond may not use as a job directory:
 * a non-empty one without the marker, or a marked one holding an entry
 * pond does not make; the message names the directory and one entry.
 * Changes nothing. */
int jobdir_check(const char *dir, pond_err *err);

/* Opens `dir` (absolute) for a run. Creates and marks it if it is new or
 * empty; refuses (POND_EUSAGE) a non-empty directory without the marker,
 * or a marked one holding an entry pond does not make, naming one such
 * entry. Then takes an exclusive flock on DIR/lock, or fails at once
 * (POND_EBUSY) naming the pid of the run that holds it, and writes this
 * process's pid there. The lock is held until jobdir_close. */
int jobdir_open(const char *dir, jobdir **out, pond_err *err);
void jobdir_close(jobdir *j); /* releases the lock; accepts NULL */

/* A fresh run (resume false, or no plan.json yet) removes what an earlier
 * run left: pond's own entries, never anything else. --resume instead
 * refuses (POND_EUSAGE) a plan that differs from plan.json, sets
 * *resumed and fills *committed with the tasks the journal shows
 * committed (else it is left empty). Both make tmp/attempts/ and log/ and
 * write plan.json. Release *committed with commit_set_release. */
int jobdir_prepare(const char *dir, const pplan *pp, bool resume, const char *script, commit_set *committed,
		   bool *resumed, pond_err *err);

/* DIR/.trash-<pid>: what this run no longer needs, moved there in one
 * rename (publishing moves its emptied staging there too) and deleted by
 * jobdir_drop_intermediates. Caller frees. */
char *jobdir_trash_dir(const char *dir);

/* After success: shuffle buckets, materialised partitions and tmp/ are
 * moved into the trash at once (unless keep), and the trash is deleted by
 * a detached process that holds none of pond's files open (a reader of
 * pond's stdout sees EOF when pond exits). show()/count() results stay
 * for --resume. */
void jobdir_drop_intermediates(const pplan *pp, bool keep);

#endif
