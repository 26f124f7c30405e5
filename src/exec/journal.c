/* journal.c — append-only JSON lines in the job directory (see journal.h). */
#include "exec/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/sb.h"

static int open_append(const char *dir, const char *name, pond_err *err)
{
	char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0)
		pond_fail(err, POND_EIO, "open %s: %s", p, strerror(errno));
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

static double unix_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static int write_line(int fd, json_t *o, pond_err *err)
{
	char *text = json_dumps(o, JSON_COMPACT);
	size_t n = strlen(text);
	int rc = 0;

	text[n] = '\n'; /* json_dumps leaves room for its NUL: reuse it */
	if (write(fd, text, n + 1) != (ssize_t)(n + 1))
		rc = pond_fail(err, POND_EIO, "journal write: %s", strerror(errno));
	free(text);
	return rc;
}

int journal_append(journal *j, const char *event, const json_t *fields, bool sync, pond_err *err)
{
	json_t *o = json_object();
	int rc;

	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "t", json_real(unix_now()));
	if (fields)
		json_object_update(o, (json_t *)fields);
	rc = write_line(j->fd, o, err);
	j->unsynced |= sync;
	if (!rc)
		rc = journal_flush(j, false, err);
	json_decref(o);
	return rc;
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int journal_flush(journal *j, bool force, pond_err *err)
{
	double now;

	if (!j->unsynced || j->fd < 0)
		return 0;
	now = mono_now();
	if (!force && now - j->synced < 1.0)
		return 0;
	j->unsynced = false;
	j->synced = now;
	if (fsync(j->fd) != 0)
		return pond_fail(err, POND_EIO, "journal fsync: %s", strerror(errno));
	return 0;
}

void journal_attempt(journal *j, const json_t *result)
{
	json_t *o = json_copy((json_t *)result);
	json_object_set_new(o, "t", json_real(unix_now()));
	write_line(j->events_fd, o, NULL);
	json_decref(o);
}

json_t *journal_committed(const char *job_dir)
{
	char *p = xasprintf("%s/journal.jsonl", job_dir);
	char *text = NULL, *line, *save = NULL;
	json_t *ids = json_object();

	if (fs_read(p, &text, NULL, NULL) == 0) {
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			json_t *o = json_loads(line, 0, NULL); /* a torn last line is skipped */
			const char *ev = json_string_value(json_object_get(o, "event"));
			const char *id = json_string_value(json_object_get(o, "task"));
			/* the manifest's hash, or true from an older journal */
			if (ev && id && !strcmp(ev, "commit"))
				json_object_set_new(ids, id, json_object_get(o, "manifest")
								      ? json_incref(json_object_get(o, "manifest"))
								      : json_true());
			json_decref(o);
		}
	}
	free(text);
	free(p);
	return ids;
}
