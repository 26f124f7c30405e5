/* journal.h — the job's durable record (docs/PIPELINES.md): journal.jsonl gets
 * one line per committed task (plus start/fail lines), written at once and
 * fsync'ed at most a second later (group commit), and events.jsonl the
 * timings, rows and bytes of every attempt. --resume reads the commit
 * lines back. Written by the driver only; the lines' JSON is
 * plan/task_codec.c's. */
#ifndef POND_EXEC_JOURNAL_H
#define POND_EXEC_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/task_codec.h"
#include "util/err.h"

typedef struct {
	int fd;        /* journal.jsonl */
	int events_fd; /* events.jsonl */
	bool unsynced; /* lines written since the last fsync that need one */
	double synced; /* when the last fsync was (monotonic seconds) */
} journal;

#define JOURNAL_INIT             \
	{                        \
		-1, -1, false, 0 \
	}

int journal_open(journal *j, const char *job_dir, pond_err *err);
void journal_close(journal *j);
/* Appends e (its time set now) to journal.jsonl. A `sync` line is
 * fsync'ed now if the last fsync is a second old, else by a later
 * journal_flush: an fsync per commit waited for the data the tasks had
 * just written (ext4 orders it before the journal) and held up the
 * scheduler. A killed driver loses nothing the kernel has; a power loss
 * at most the last second's commit lines, whose tasks --resume runs
 * again. */
int journal_append(journal *j, journal_entry e, bool sync, pond_err *err);
/* fsyncs what needs it; with `force` false only if a second has passed. */
int journal_flush(journal *j, bool force, pond_err *err);
/* Appends attempt r's line to events.jsonl: its result, when it was sent
 * (start, unix seconds) to worker w (described as `where`), and now. */
void journal_attempt(journal *j, const task_result *r, double start, int w, const char *where);

/* A task the journal shows committed, with the hash of its output's
 * manifest ("" from an older journal that recorded none: not checked). */
typedef struct {
	char *id;
	char hash[17];
} commit_rec;

/* The committed tasks, sorted by id, each once (its last commit line). */
typedef struct {
	commit_rec *v;
	size_t n;
} commit_set;

/* Reads the commit lines of DIR/journal.jsonl (none if it is missing),
 * skipping a torn last line. Release *out with commit_set_release. */
void journal_committed(const char *job_dir, commit_set *out);
const commit_rec *commit_set_find(const commit_set *c, const char *id); /* or NULL */
void commit_set_drop(commit_set *c, const char *id);
void commit_set_release(commit_set *c);

#endif
