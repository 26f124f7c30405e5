/* publish.c — sink publishing (DESIGN.md §4 "Commit"). Task outputs wait in
 * <parent>/.<name>.pond-staging/tNNNNN/ (same file system as the output, so
 * renames are atomic). Publishing gathers them into one fresh directory,
 * fsyncs it, swaps it in with rename (keeping the old output until the swap
 * for mode='overwrite'), and writes _SUCCESS last. Files are hard-linked,
 * not moved, out of the task directories, so a publish cut short (a crash,
 * a kill) can simply be done again by --resume. */
#include "exec/publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/sb.h"
#include "util/testpoint.h"

/* Links every file of task dir `from` into `to`, keeping relative paths
 * (hive k=v/ directories of several tasks merge). */
static int merge(const char *from, const char *to, pond_err *err)
{
	char **rel;
	size_t n;
	int rc = fs_walk(from, &rel, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *src = xasprintf("%s/%s", from, rel[i]);
		char *dst = xasprintf("%s/%s", to, rel[i]);
		char *parent = fs_dirname(dst);
		rc = fs_mkdir_p(parent, err);
		if (!rc && fs_exists(dst))
			rc = pond_fail(err, POND_EINTERNAL, "publish: two tasks wrote %s", dst);
		if (!rc && link(src, dst) != 0)
			rc = pond_fail(err, POND_EIO, "publish: link %s: %s", src, strerror(errno));
		if (!rc)
			test_point("publish-link");
		free(src);
		free(dst);
		free(parent);
	}
	fs_free_list(rel);
	return rc;
}

int publish_sink(const stage *s, bool resuming, pond_err *err)
{
	const action *a = s->act;
	char *staging = pplan_staging_dir(a->dir);
	char *fresh = xasprintf("%s/.publish", staging);
	char *old = xasprintf("%s/.previous", staging);
	char *success = xasprintf("%s/_SUCCESS", a->dir);
	char *parent = fs_dirname(a->dir);
	int rc;

	test_point("publish-start");
	fs_rm_rf(fresh, NULL);
	rc = fs_mkdir_p(fresh, err);
	for (size_t i = 0; rc == 0 && i < s->ntasks; i++)
		rc = merge(json_string_value(json_object_get(s->tasks[i], "dir")), fresh, err);
	if (!rc)
		rc = fs_fsync_tree(fresh, err);
	if (!rc && fs_exists(a->dir)) {
		/* a resumed job may find its own half-published output (no
		 * _SUCCESS yet, staging still there): that one it may replace */
		bool ours = resuming && !fs_exists(success);
		if (!a->overwrite && !ours && !fs_dir_is_empty(a->dir))
			rc = pond_fail(err, POND_EEXISTS, "%s: output directory %s is no longer empty (mode='error'); nothing was published",
				       a->where, a->dir);
		else if (rename(a->dir, old) != 0)
			rc = pond_fail(err, POND_EIO, "publish: move old %s aside: %s", a->dir, strerror(errno));
		else
			test_point("publish-aside");
	}
	if (!rc && rename(fresh, a->dir) != 0) {
		rc = pond_fail(err, POND_EIO, "publish: rename to %s: %s", a->dir, strerror(errno));
		rename(old, a->dir); /* put the old output back */
	}
	if (!rc)
		test_point("publish-rename");
	if (!rc)
		rc = fs_fsync_path(parent, err);
	if (!rc)
		rc = fs_write_atomic(success, "", 0, err);
	if (!rc)
		test_point("publish-success");
	if (!rc) {
		test_point("publish-trash");
		fs_rm_rf(staging, NULL);
	}
	free(staging);
	free(fresh);
	free(old);
	free(success);
	free(parent);
	return rc;
}
