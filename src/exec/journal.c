/* journal.c — append-only JSON lines in the job directory (see journal.h). */
#include "exec/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fsutil.h"
#include "util/sb.h"

static int open_append(const char *dir, const char *name, pond_err *err)
{
	char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0)
		pond_fail_errno(err, POND_EIO, errno, "open %s", p);
	free(p);
	return fd;
}

int journal_open(journal *j, const char *job_dir, pond_err *err)
{
	j->fd = open_append(job_dir, "journal.jsonl", err);
	j->events_fd = j->fd < 0 ? -1 : open_append(job_dir, "events.jsonl", err);
	return j->fd < 0 || j->events_fd < 0 ? -1 : 0;
}

void journal_close(journal *j)
{
	journal_flush(j, true, NULL);
	if (j->fd >= 0)
		close(j->fd);
	if (j->events_fd >= 0)
		close(j->events_fd);
	j->fd = j->events_fd = -1;
}

/* Writes text (the codec's, freed here) as one line, in one write. */
static int write_line(int fd, char *text, pond_err *err)
{
	sb line = SB_INIT;
	int rc = 0;

	sb_add(&line, text);
	sb_add(&line, "\n");
	if (write(fd, line.buf, line.len) != (ssize_t)line.len)
		rc = pond_fail_errno(err, POND_EIO, errno, "journal write");
	sb_release(&line);
	free(text);
	return rc;
}

int journal_append(journal *j, journal_entry e, bool sync, pond_err *err)
{
	int rc;

	e.t = clock_unix();
	rc = write_line(j->fd, codec_journal_line(&e), err);
	j->unsynced |= sync;
	if (!rc)
		rc = journal_flush(j, false, err);
	return rc;
}

int journal_flush(journal *j, bool force, pond_err *err)
{
	double now;

	if (!j->unsynced || j->fd < 0)
		return 0;
	now = clock_mono();
	if (!force && now - j->synced < 1.0)
		return 0;
	j->unsynced = false;
	j->synced = now;
	if (fsync(j->fd) != 0)
		return pond_fail_errno(err, POND_EIO, errno, "journal fsync");
	return 0;
}

void journal_attempt(journal *j, const task_result *r, double start, int w, const char *where)
{
	event_entry e = { .res = r, .start = start, .t = clock_unix(), .worker = w, .where = where };
	write_line(j->events_fd, codec_event_line(&e), NULL);
}

/* By id, then by line: the last line of an id is its last commit. */
typedef struct {
	commit_rec rec;
	size_t line;
} numbered;

static int cmp_numbered(const void *a, const void *b)
{
	const numbered *x = a, *y = b;
	int c = strcmp(x->rec.id, y->rec.id);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

void journal_committed(const char *job_dir, commit_set *out)
{
	char *p = xasprintf("%s/journal.jsonl", job_dir);
	char *text = NULL, *line, *save = NULL;
	numbered *v = NULL;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (fs_read(p, &text, NULL, NULL) == 0) {
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			v = xgrow(v, n, sizeof(numbered));
			if (codec_journal_commit(line, &v[n].rec.id, v[n].rec.hash) == 1) {
				v[n].line = n;
				n++;
			}
		}
	}
	if (n)
		qsort(v, n, sizeof(numbered), cmp_numbered);
	out->v = xcalloc(n + 1, sizeof(commit_rec));
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && !strcmp(v[i].rec.id, v[i + 1].rec.id)) {
			free(v[i].rec.id); /* a later commit line of the same task */
			continue;
		}
		out->v[out->n++] = v[i].rec;
	}
	free(v);
	free(text);
	free(p);
}

static int cmp_id(const void *key, const void *rec)
{
	return strcmp(key, ((const commit_rec *)rec)->id);
}

const commit_rec *commit_set_find(const commit_set *c, const char *id)
{
	return c->n ? bsearch(id, c->v, c->n, sizeof(commit_rec), cmp_id) : NULL;
}

void commit_set_drop(commit_set *c, const char *id)
{
	commit_rec *r = (commit_rec *)commit_set_find(c, id);

	if (!r)
		return;
	free(r->id);
	memmove(r, r + 1, (size_t)(c->v + c->n - (r + 1)) * sizeof(commit_rec));
	c->n--;
}

void commit_set_release(commit_set *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].id);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
