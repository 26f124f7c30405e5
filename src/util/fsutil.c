/* fsutil.c — file-system helpers (see fsutil.h). Used by the planner (input
 * listing), the task child (commit) and the driver (journal, publishing). */
#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sb.h"

int fs_mkdir_p(const char *path, pond_err *err)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0777) != 0 && errno != EEXIST) {
				rc = pond_fail_errno(err, POND_EIO, errno, "mkdir %s", p);
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	if (rc == 0 && !fs_is_dir(path))
		rc = pond_fail(err, POND_EIO, "%s exists and is not a directory", path);
	free(p);
	return rc;
}

int fs_rm_rf(const char *path, pond_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : pond_fail_errno(err, POND_EIO, errno, "stat %s", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0 && errno != ENOENT)
			return pond_fail_errno(err, POND_EIO, errno, "remove %s", path);
		return 0;
	}
	d = opendir(path);
	if (!d)
		return pond_fail_errno(err, POND_EIO, errno, "open %s", path);
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *child = xasprintf("%s/%s", path, e->d_name);
		rc = fs_rm_rf(child, err);
		free(child);
	}
	closedir(d);
	if (rc == 0 && rmdir(path) != 0 && errno != ENOENT)
		rc = pond_fail_errno(err, POND_EIO, errno, "remove %s", path);
	return rc;
}

bool fs_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

bool fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int64_t fs_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

bool fs_dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return true;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = false;
			break;
		}
	}
	closedir(d);
	return empty;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fs_list(const char *dir, char ***names, size_t *n, pond_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 16;

	*n = 0;
	*names = NULL;
	if (!d)
		return pond_fail_errno(err, errno == ENOENT ? POND_EINPUT : POND_EIO, errno, "%s", dir);
	*names = xmalloc(cap * sizeof(char *));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (*n + 2 > cap)
			*names = xrealloc(*names, (cap *= 2) * sizeof(char *));
		(*names)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	(*names)[*n] = NULL;
	qsort(*names, *n, sizeof(char *), cmp_str);
	return 0;
}

void fs_free_list(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

typedef struct {
	char **v;
	size_t n, cap;
} strvec;

static void push(strvec *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 16;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(char *));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

/* The directories on the way down from the walk's root, to tell a
 * symbolic link that leads back into one of them (a loop that would never
 * end) from one that leads elsewhere. */
typedef struct {
	dev_t dev;
	ino_t ino;
} dir_id;

static int walk(const char *root, const char *rel, strvec *out, dir_id *up, size_t depth, pond_err *err)
{
	char *dir = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	char **names = NULL;
	size_t n;
	struct stat st;
	int rc = 0;

	if (stat(dir, &st) != 0) {
		rc = pond_fail_errno(err, POND_EINPUT, errno, "%s", dir);
		goto out;
	}
	for (size_t k = 0; k < depth; k++)
		if (up[k].dev == st.st_dev && up[k].ino == st.st_ino) {
			rc = pond_fail(err, POND_EINPUT,
				       "%s: a symbolic link loop (it leads back to a directory above it)", dir);
			goto out;
		}
	if (depth >= FS_WALK_MAX_DEPTH) {
		rc = pond_fail(err, POND_EINPUT, "%s: more than %d directories deep", dir, FS_WALK_MAX_DEPTH);
		goto out;
	}
	up[depth] = (dir_id){ st.st_dev, st.st_ino };
	rc = fs_list(dir, &names, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *crel = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		char *full = xasprintf("%s/%s", root, crel);
		if (fs_is_dir(full)) {
			rc = walk(root, crel, out, up, depth + 1, err);
			free(crel);
		} else {
			push(out, crel);
		}
		free(full);
	}
out:
	fs_free_list(names);
	free(dir);
	return rc;
}

int fs_walk(const char *dir, char ***rel, size_t *n, pond_err *err)
{
	strvec sv = { NULL, 0, 0 };
	dir_id *up = xcalloc(FS_WALK_MAX_DEPTH + 1, sizeof(dir_id));
	int rc = walk(dir, "", &sv, up, 0, err);

	free(up);
	if (!sv.v) /* nothing found: still a NULL-terminated list */
		sv.v = xcalloc(1, sizeof(char *));
	*rel = sv.v;
	*n = sv.n;
	return rc;
}

int fs_fsync_path(const char *path, pond_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pond_fail_errno(err, POND_EIO, errno, "open %s", path);
	if (fsync(fd) != 0 && errno != EINVAL) {
		int e = errno;
		close(fd);
		return pond_fail_errno(err, POND_EIO, e, "fsync %s", path);
	}
	close(fd);
	return 0;
}

int fs_fsync_tree(const char *dir, pond_err *err)
{
	char **names;
	size_t n;
	int rc = fs_list(dir, &names, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		rc = fs_is_dir(p) ? fs_fsync_tree(p, err) : fs_fsync_path(p, err);
		free(p);
	}
	fs_free_list(names);
	return rc ? rc : fs_fsync_path(dir, err);
}

void fs_start_writeback(const char *dir)
{
	char **rel;
	size_t n;

	if (fs_walk(dir, &rel, &n, NULL) == 0)
		for (size_t i = 0; i < n; i++) {
			char *p = xasprintf("%s/%s", dir, rel[i]);
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
				close(fd);
			}
			free(p);
		}
	fs_free_list(rel);
}

int fs_write(const char *path, const char *data, size_t len, pond_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666), rc = 0;

	if (fd < 0)
		return pond_fail_errno(err, POND_EIO, errno, "create %s", path);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = pond_fail_errno(err, POND_EIO, errno, "write %s", path);
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 && !rc)
		rc = pond_fail_errno(err, POND_EIO, errno, "close %s", path);
	return rc;
}

static int write_then_rename(const char *path, const char *data, size_t len, bool durable, pond_err *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	char *dir = fs_dirname(path);
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		rc = pond_fail_errno(err, POND_EIO, errno, "create %s", tmp);
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = pond_fail_errno(err, POND_EIO, errno, "write %s", tmp);
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && durable && fsync(fd) != 0)
		rc = pond_fail_errno(err, POND_EIO, errno, "fsync %s", tmp);
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = pond_fail_errno(err, POND_EIO, errno, "rename %s", tmp);
	if (rc == 0 && durable)
		rc = fs_fsync_path(dir, err);
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	free(dir);
	return rc;
}

int fs_write_atomic(const char *path, const char *data, size_t len, pond_err *err)
{
	return write_then_rename(path, data, len, true, err);
}

int fs_write_replace(const char *path, const char *data, size_t len, pond_err *err)
{
	return write_then_rename(path, data, len, false, err);
}

int fs_read(const char *path, char **out, size_t *len, pond_err *err)
{
	FILE *f = fopen(path, "rb");
	sb b = SB_INIT;
	char buf[65536];
	size_t n;

	*out = NULL;
	if (!f)
		return pond_fail_errno(err, errno == ENOENT ? POND_EINPUT : POND_EIO, errno, "%s", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_addn(&b, buf, n);
	if (ferror(f)) {
		fclose(f);
		sb_release(&b);
		return pond_fail_errno(err, POND_EIO, errno, "read %s", path);
	}
	fclose(f);
	if (len)
		*len = b.len;
	*out = sb_detach(&b);
	return 0;
}

/* path made absolute and normalised; with escape_cwd, the working
 * directory's glob characters are escaped (the result is a pattern). */
static char *absolute(const char *path, bool escape_cwd)
{
	sb b = SB_INIT;
	char **parts;
	size_t np = 0, cap = 16;
	const char *s;

	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		for (const char *c = cwd ? cwd : "/"; *c; c++) {
			if (escape_cwd && strchr("*?[\\", *c))
				sb_addn(&b, "\\", 1);
			sb_addn(&b, c, 1);
		}
		free(cwd);
		sb_add(&b, "/");
	}
	sb_add(&b, path);
	/* normalise: drop "." and empty parts, resolve ".." lexically */
	parts = xmalloc(cap * sizeof(char *));
	s = sb_str(&b);
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* skip */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (np)
				free(parts[--np]);
		} else {
			if (np == cap)
				parts = xrealloc(parts, (cap *= 2) * sizeof(char *));
			parts[np] = xmalloc(n + 1);
			memcpy(parts[np], s, n);
			parts[np++][n] = '\0';
		}
		s += n;
		if (*s == '/')
			s++;
	}
	sb_reset(&b);
	for (size_t i = 0; i < np; i++) {
		sb_add(&b, "/");
		sb_add(&b, parts[i]);
		free(parts[i]);
	}
	free(parts);
	if (!b.len)
		sb_add(&b, "/");
	return sb_detach(&b);
}

char *fs_abspath(const char *path)
{
	return absolute(path, false);
}

char *fs_abspath_glob(const char *pattern)
{
	return absolute(pattern, true);
}

char *fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	sb b = SB_INIT;

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	sb_addn(&b, path, (size_t)(slash - path));
	return sb_detach(&b);
}

const char *fs_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

char *fs_realpath(const char *path)
{
	char *abs = fs_abspath(path), *real = realpath(abs, NULL), *parent, *rp;

	if (real || !strcmp(abs, "/")) {
		if (real)
			free(abs);
		return real ? real : abs;
	}
	parent = fs_dirname(abs);
	rp = fs_realpath(parent);
	real = xasprintf("%s%s%s", rp, strcmp(rp, "/") ? "/" : "", fs_basename(abs));
	free(rp);
	free(parent);
	free(abs);
	return real;
}

bool fs_path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (!strcmp(outer, "/"))
		return inner[0] == '/';
	return !strncmp(inner, outer, n) && (inner[n] == '\0' || inner[n] == '/');
}

void fs_close_fds(int keep)
{
	long max;

	if (keep < 3) {
		if (close_range(3, ~0U, 0) == 0)
			return;
	} else if ((keep == 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
		   close_range((unsigned)keep + 1, ~0U, 0) == 0) {
		return;
	}
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		if (fd != keep)
			close(fd);
}
