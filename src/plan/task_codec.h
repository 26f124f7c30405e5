/* task_codec.h — the one JSON codec for pond's own records, used only where
 * they cross a boundary: plan.json in the job directory, the frames
 * between the driver, its workers and their task children, and the lines
 * of journal.jsonl and events.jsonl. Everything else works on the structs
 * of plan/task.h and plan/physical.h. Encoders return malloc'ed text
 * (caller frees); decoders fill structs the caller releases, and return 0,
 * or -1 for text that is not such a record. */
#ifndef POND_PLAN_TASK_CODEC_H
#define POND_PLAN_TASK_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/physical.h"
#include "plan/task.h"

/* ---- plan.json ---------------------------------------------------------- */

/* The plan as plan.json records it: keys sorted, one space of indent, so
 * that --resume can compare two plans as text. Keys and structure are
 * documented in docs/ARCHITECTURE.md ("The task JSON"). */
char *codec_plan(const pplan *p);

/* The "inputs" of a plan.json text (*out caller frees with
 * plan_inputs_free); -1 if the text has none. */
int codec_plan_inputs(const char *text, plan_input **out, size_t *n);

/* ---- the transport's frames -------------------------------------------- */

/* Downwards, driver → worker → task child: run an attempt of a task. */
char *codec_task_msg(const ptask *t, const task_attempt *a);

/* The other downward messages, and the worker's heartbeat upwards. */
#define CODEC_MSG_CANCEL "{\"cmd\":\"cancel\"}"
#define CODEC_MSG_EXIT "{\"cmd\":\"exit\"}"
/* "open DuckDB in your task child now" (runtime/worker.c) */
#define CODEC_MSG_WARM "{\"cmd\":\"warm\"}"
#define CODEC_MSG_HEARTBEAT "{\"hb\":true}"

typedef enum {
	CMD_EXIT, /* also a message that is not a command */
	CMD_TASK, /* *t and *a filled */
	CMD_CANCEL,
	CMD_WARM,
	CMD_OTHER, /* a command this side does not know: ignored */
} codec_cmd;

codec_cmd codec_read_cmd(const char *text, ptask *t, task_attempt *a);

/* Upwards, task child → worker → driver: how an attempt ended. */
char *codec_result_msg(const task_result *r);

/* 1 for a heartbeat, 0 with *r filled for a result, -1 for anything else. */
int codec_read_result(const char *text, task_result *r);

/* ---- journal.jsonl and events.jsonl --------------------------------------- */

/* One line of journal.jsonl, without its newline. */
typedef struct {
	const char *event; /* "run", "start", "commit", "fail", "timeout",
			    * "done", "stopped" */
	double t;          /* unix seconds */
	const char *task;  /* the task's id; NULL for "run", "done", "stopped" */
	int attempt;
	const char *worker;     /* start: the worker's description */
	const task_result *res; /* commit: its rows, bytes, files, manifest;
				 * fail: its class and error */
	int workers;            /* run: how many workers it has */
	bool resume;            /* run: --resume */
	const char *error;      /* stopped: why the run stopped */
} journal_entry;

char *codec_journal_line(const journal_entry *e);

/* A journal.jsonl line that records a commit: 1 with *task (caller frees)
 * and hash (17 bytes; "" for an older journal that recorded none); 0 for
 * any other line, a torn one included. */
int codec_journal_commit(const char *line, char **task, char *hash);

/* Any journal.jsonl line, as the run report reads them back: 0 with *r
 * filled (release with journal_rec_release), -1 for a line that is not
 * one (a torn last line). */
typedef struct {
	char *event, *task, *worker, *error; /* NULL when absent */
	double t;
	int attempt;
	int workers;
} journal_rec;

int codec_read_journal(const char *line, journal_rec *r);
void journal_rec_release(journal_rec *r);

/* One line of events.jsonl: an attempt's result, with when it was sent
 * and to which worker, and when its result came back. */
typedef struct {
	const task_result *res;
	double start, t;   /* unix seconds; start 0 = not known */
	int worker;        /* the worker's index */
	const char *where; /* the worker's description ("worker 0 (pid 7)",
			    * "rank 2 on node1") */
} event_entry;

char *codec_event_line(const event_entry *e);

/* An events.jsonl line read back: 0 with *r filled (release with
 * event_rec_release), -1 for a line that is not one. Metrics and times an
 * older line lacks are -1 (start: 0). */
typedef struct {
	task_result res;
	double start, t;
	int worker; /* -1 when not known */
	char *where;
} event_rec;

int codec_read_event(const char *line, event_rec *r);
void event_rec_release(event_rec *r);

/* The stages of a plan.json text, without their tasks' bodies, for the
 * run report: -1 if the text is no plan. Free with plan_stages_free. */
typedef struct {
	int id;
	stage_kind kind;
	char *name; /* "s03-shuffle" */
	char *step;
	int *deps;
	size_t ndeps;
	size_t ntasks;
} plan_stage_info;

int codec_plan_stages(const char *text, plan_stage_info **out, size_t *n);
void plan_stages_free(plan_stage_info *v, size_t n);

#endif
