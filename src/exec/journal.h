/* journal.h — the job's durable record (docs/PIPELINES.md): journal.jsonl gets
 * one fsync'ed line per committed task (plus start/fail lines), and
 * events.jsonl the timings, rows and bytes of every attempt. --resume
 * reads the commit lines back. Written by the driver only. */
#ifndef POND_EXEC_JOURNAL_H
#define POND_EXEC_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "util/err.h"

typedef struct {
	int fd;        /* journal.jsonl */
	int events_fd; /* events.jsonl */
} journal;

int journal_open(journal *j, const char *job_dir, pond_err *err);
void journal_close(journal *j);
/* Appends {"event":event, "t":unix seconds, ...fields}; fsyncs when sync. */
int journal_append(journal *j, const char *event, const json_t *fields, bool sync, pond_err *err);
void journal_attempt(journal *j, const json_t *result); /* events.jsonl */

/* The tasks with a commit line, as a JSON object id -> the hash of the
 * committed output's manifest (a string; true in older journals). */
json_t *journal_committed(const char *job_dir);

#endif
