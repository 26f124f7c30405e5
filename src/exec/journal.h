/* journal.h — the job's durable record (docs/PIPELINES.md): journal.jsonl gets
 * one line per committed task (plus start/fail lines), written at once and
 * fsync'ed at most a second later (group commit), and events.jsonl the
 * timings, rows and bytes of every attempt. --resume reads the commit
 * lines back. Written by the driver only. */
#ifndef POND_EXEC_JOURNAL_H
#define POND_EXEC_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

typedef struct {
	int fd;        /* journal.jsonl */
	int events_fd; /* events.jsonl */
	bool unsynced; /* lines written since the last fsync that need one */
	double synced; /* when the last fsync was (monotonic seconds) */
} journal;

#define JOURNAL_INIT { -1, -1, false, 0 }

int journal_open(journal *j, const char *job_dir, pond_err *err);
void journal_close(journal *j);
/* Appends {"event":event, "t":unix seconds, ...fields}. A `sync` line is
 * fsync'ed now if the last fsync is a second old, else by a later
 * journal_flush: an fsync per commit waited for the data the tasks had
 * just written (ext4 orders it before the journal) and held up the
 * scheduler. A killed driver loses nothing the kernel has; a power loss
 * at most the last second's commit lines, whose tasks --resume runs
 * again. */
int journal_append(journal *j, const char *event, const json_t *fields, bool sync, pond_err *err);
/* fsyncs what needs it; with `force` false only if a second has passed. */
int journal_flush(journal *j, bool force, pond_err *err);
void journal_attempt(journal *j, const json_t *result); /* events.jsonl */

/* The tasks with a commit line, as a JSON object id -> the hash of the
 * committed output's manifest (a string; true in older journals). */
json_t *journal_committed(const char *job_dir);

#endif
