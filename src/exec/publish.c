/* publish.c — sink staging and publishing (docs/ARCHITECTURE.md "Commit", see
 * publish.h). Task outputs wait in S = <parent>/.<name>.pond-staging-<id>/
 * tNNNNN/ (on the output's file system, so renames are atomic; <id> names
 * the job directory that owns S, written in S/.owner). Publishing:
 *   1. link every task file into S/.publish (F), add F/_SUCCESS, fsync;
 *   2. record F's inode in S/.published-as (M): the output will be "ours"
 *      when it is that inode;
 *   3. mode='overwrite': move a non-empty output O aside to S/.previous (P);
 *   4. rename F to O (over nothing, or an empty directory), fsync parent;
 *   5. remove P; rename S to S.trash (T); move T into the job directory's
 *      trash, which a detached process empties (jobdir.h), or remove T
 *      when the job directory is on another file system.
 * Every state a kill can leave is told apart by publish_recover: O is ours
 * (steps 4-5 done: finish 5), or P is there (undo 3: put P back), or
 * neither (only leftovers in S). Links, not moves, leave the task outputs
 * whole until S goes, so an undone publish can simply be done again. */
#include "exec/publish.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/jobdir.h"
#include "util/fsutil.h"
#include "util/manifest.h"
#include "util/sb.h"
#include "util/testpoint.h"

#define SWAP_TRIES 10 /* overwrite: another job swapped its output in meanwhile */

typedef struct {
	const action *a;
	char *out;     /* O */
	char *parent;  /* O's parent: S and T live here */
	char *staging; /* S */
	char *fresh;   /* F = S/.publish */
	char *prev;    /* P = S/.previous */
	char *mark;    /* M = S/.published-as */
	char *owner;   /* S/.owner */
	char *trash;   /* T = S.trash */
	char *job;     /* the job dir's real path, as written in S/.owner */
} paths;

static void paths_init(paths *p, const stage *s, const char *job_dir)
{
	p->a = s->act;
	p->out = xstrdup(s->act->dir);
	p->parent = fs_dirname(p->out);
	p->staging = pplan_staging_dir(job_dir, p->out);
	p->fresh = xasprintf("%s/.publish", p->staging);
	p->prev = xasprintf("%s/.previous", p->staging);
	p->mark = xasprintf("%s/.published-as", p->staging);
	p->owner = xasprintf("%s/.owner", p->staging);
	p->trash = xasprintf("%s.trash", p->staging);
	p->job = fs_realpath(job_dir);
}

static void paths_release(paths *p)
{
	free(p->out);
	free(p->parent);
	free(p->staging);
	free(p->fresh);
	free(p->prev);
	free(p->mark);
	free(p->owner);
	free(p->trash);
	free(p->job);
}

/* Removes a tree with a test point after its first entry is gone, so
 * tests can leave it half removed. */
static int rm_tree(const char *path, const char *point, pond_err *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (!fs_exists(path))
		return 0;
	if (fs_is_dir(path) && fs_list(path, &names, &n, NULL) == 0 && n > 0) {
		char *first = xasprintf("%s/%s", path, names[0]);
		rc = fs_rm_rf(first, err);
		free(first);
	}
	fs_free_list(names);
	if (!rc)
		test_point(point);
	return rc ? rc : fs_rm_rf(path, err);
}

static char *inode_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return NULL;
	return xasprintf("%" PRIu64 " %" PRIu64 "\n", (uint64_t)st.st_dev, (uint64_t)st.st_ino);
}

/* Whether O is the tree this job's publish renamed there (M records it). */
static bool output_is_ours(const paths *p)
{
	char *want = NULL, *have = inode_of(p->out);
	bool ours = have && fs_read(p->mark, &want, NULL, NULL) == 0 && !strcmp(want, have);
	free(want);
	free(have);
	return ours;
}

/* Step 5, last part: T (garbage from here on) goes into the job
 * directory's trash, which is emptied in the background: removing a
 * staging tree file by file cost 4 ms per file or directory on this ext4
 * (a third of a small query's end). Another file system, or no room for
 * it there: T is removed now. */
static int drop_trash(const paths *p, pond_err *err)
{
	char *bin;
	int rc = -1;

	if (!fs_exists(p->trash))
		return 0;
	bin = p->job ? jobdir_trash_dir(p->job) : NULL;
	if (bin && fs_mkdir_p(bin, NULL) == 0) {
		for (int n = 0; rc != 0 && n < 1000; n++) {
			char *to = xasprintf("%s/publish-%d", bin, n);
			rc = rename(p->trash, to);
			free(to);
			if (rc != 0 && errno != EEXIST && errno != ENOTEMPTY)
				break; /* EXDEV: another file system */
		}
	}
	free(bin);
	if (rc == 0) {
		test_point("publish-binned");
		return 0;
	}
	return rm_tree(p->trash, "publish-trash", err);
}

/* Step 5: the output is in place; drop what is left of staging. S is
 * renamed away first, so a kill leaves either S whole or T (garbage). The
 * rename needs no fsync: if a crash undoes it, S is found again with the
 * output ours, and recovery retires it again. */
static int retire(const paths *p, pond_err *err)
{
	int rc = rm_tree(p->prev, "publish-previous", err);

	if (!rc && fs_exists(p->staging)) {
		if (rename(p->staging, p->trash) != 0)
			return pond_fail_errno(err, POND_EIO, errno, "publish: rename %s", p->staging);
		test_point("publish-retire");
	}
	return rc ? rc : drop_trash(p, err);
}

/* Refuses a staging dir that another job dir owns (its <id> collides). */
static int check_owner(const paths *p, pond_err *err)
{
	char *who = NULL, *want = xasprintf("%s\n", p->job);
	int rc = 0;

	if (fs_read(p->owner, &who, NULL, NULL) == 0 && strcmp(who, want))
		rc = pond_fail(err, POND_EUSAGE, "%s: staging directory %s belongs to the job directory %.*s, not %s",
			       p->a->where, p->staging, (int)strcspn(who, "\n"), who, p->job);
	free(who);
	free(want);
	return rc;
}

int publish_recover(const stage *s, const char *job_dir, pond_err *err)
{
	paths p;
	int rc;

	paths_init(&p, s, job_dir);
	rc = rm_tree(p.trash, "recover-trash", err);
	if (rc || !fs_exists(p.staging) || (rc = check_owner(&p, err)))
		goto out;
	if (output_is_ours(&p)) {
		rc = retire(&p, err); /* killed after the swap: finish */
		goto out;
	}
	if (fs_exists(p.prev)) {
		/* killed between moving the old output aside and the swap: put
		 * it back, unless another job has published there since */
		if (!fs_exists(p.out)) {
			if (rename(p.prev, p.out) != 0)
				rc = pond_fail_errno(err, POND_EIO, errno, "publish: put %s back to %s", p.prev, p.out);
			else
				test_point("recover-restore");
		} else {
			rc = rm_tree(p.prev, "recover-previous", err);
		}
	}
	if (!rc)
		rc = fs_rm_rf(p.mark, err);
	if (!rc)
		rc = fs_rm_rf(p.fresh, err);
out:
	paths_release(&p);
	return rc;
}

bool publish_staging_gone(const stage *s, const char *job_dir)
{
	char *staging = pplan_staging_dir(job_dir, s->act->dir);
	bool gone = !fs_exists(staging);
	free(staging);
	return gone;
}

int publish_prepare(const stage *s, const char *job_dir, bool fresh, pond_err *err)
{
	paths p;
	char *line;
	int rc = 0;

	paths_init(&p, s, job_dir);
	if (fs_exists(p.staging) && (rc = check_owner(&p, err)))
		goto out;
	if (fresh)
		rc = fs_rm_rf(p.staging, err);
	if (!rc)
		rc = fs_mkdir_p(p.staging, err);
	if (!rc && !fs_exists(p.owner)) {
		line = xasprintf("%s\n", p.job);
		rc = fs_write_atomic(p.owner, line, strlen(line), err);
		free(line);
	}
out:
	paths_release(&p);
	return rc;
}

/* Links every file of task dir `from` into `to`, keeping relative paths
 * (hive k=v/ directories of several tasks merge). */
static int merge(const char *from, const char *to, pond_err *err)
{
	manifest m;
	char *who = xasprintf("task %s", fs_basename(from));
	int rc = manifest_read(from, &m, NULL, err);

	/* exactly the files the task committed, each whole */
	if (!rc)
		rc = manifest_check(from, &m, who, err);
	for (size_t i = 0; rc == 0 && i < m.n; i++) {
		char *src = xasprintf("%s/%s", from, m.files[i].path);
		char *dst = xasprintf("%s/%s", to, m.files[i].path);
		char *parent = fs_dirname(dst);
		rc = fs_mkdir_p(parent, err);
		if (!rc && fs_exists(dst))
			rc = pond_fail(err, POND_EINTERNAL, "publish: two tasks wrote %s", dst);
		if (!rc && link(src, dst) != 0)
			rc = pond_fail_errno(err, POND_EIO, errno, "publish: link %s", src);
		if (!rc)
			test_point("publish-link");
		free(src);
		free(dst);
		free(parent);
	}
	manifest_release(&m);
	free(who);
	return rc;
}

/* Steps 1-2: F complete, fsync'ed, and its inode recorded. */
static int gather(const paths *p, const stage *s, pond_err *err)
{
	char *success = xasprintf("%s/_SUCCESS", p->fresh);
	char *ino;
	int rc;

	test_point("publish-start");
	if (!(rc = fs_rm_rf(p->mark, err)) && !(rc = fs_rm_rf(p->fresh, err)))
		rc = fs_mkdir_p(p->fresh, err);
	for (size_t i = 0; rc == 0 && i < s->ntasks; i++)
		rc = merge(s->tasks[i].dir, p->fresh, err);
	/* _SUCCESS is the last file of the tree: the output appears with it.
	 * F is private until step 4, so no rename: the tree's fsync below
	 * makes it durable with the rest. */
	if (!rc && !(rc = fs_write(success, "", 0, err)))
		test_point("publish-success");
	if (!rc)
		rc = fs_fsync_tree(p->fresh, err);
	if (!rc) {
		ino = inode_of(p->fresh);
		rc = ino ? fs_write_atomic(p->mark, ino, strlen(ino), err)
			 : pond_fail_errno(err, POND_EIO, errno, "publish: stat %s", p->fresh);
		free(ino);
	}
	if (!rc)
		test_point("publish-mark");
	free(success);
	return rc;
}

/* Steps 3-4: F becomes O in one rename. */
static int swap_in(const paths *p, pond_err *err)
{
	const action *a = p->a;

	for (int tries = 0;; tries++) {
		int e;
		if (a->overwrite && fs_exists(p->out) && !fs_dir_is_empty(p->out)) {
			if (fs_rm_rf(p->prev, err))
				return -1;
			if (rename(p->out, p->prev) == 0)
				test_point("publish-aside");
			else if (errno != ENOENT) /* gone: another job moved it */
				return pond_fail_errno(err, POND_EIO, errno, "publish: move old %s aside", p->out);
		}
		if (rename(p->fresh, p->out) == 0)
			break;
		e = errno;
		if ((e == ENOTEMPTY || e == EEXIST) && a->overwrite && tries < SWAP_TRIES)
			continue; /* another job's output landed meanwhile: ours wins */
		if (fs_exists(p->prev) && !fs_exists(p->out))
			rename(p->prev, p->out); /* put the old output back */
		if (e == ENOTEMPTY || e == EEXIST)
			return pond_fail(
				err, POND_EEXISTS,
				"%s: output directory %s is no longer empty (mode='error'); nothing was published",
				a->where, p->out);
		return pond_fail_errno(err, POND_EIO, e, "publish: rename %s to %s", p->fresh, p->out);
	}
	test_point("publish-rename");
	return fs_fsync_path(p->parent, err);
}

int publish_sink(const stage *s, const char *job_dir, pond_err *err)
{
	paths p;
	int rc;

	paths_init(&p, s, job_dir);
	rc = gather(&p, s, err);
	if (!rc)
		rc = swap_in(&p, err);
	if (!rc)
		rc = retire(&p, err);
	paths_release(&p);
	return rc;
}
