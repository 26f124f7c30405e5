/* fsutil.h — the file-system operations of the commit protocol and the job
 * directory: create, remove, list (sorted, so everything is deterministic),
 * fsync, and durable small-file writes. All return 0 or pond_fail(). */
#ifndef POND_UTIL_FSUTIL_H
#define POND_UTIL_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

int fs_mkdir_p(const char *path, pond_err *err);
int fs_rm_rf(const char *path, pond_err *err); /* missing is fine */
bool fs_exists(const char *path);
bool fs_is_dir(const char *path);
bool fs_dir_is_empty(const char *path); /* true if missing */
int64_t fs_size(const char *path);      /* -1 if missing */

/* Sorted names in dir (no . and ..); *names is a NULL-terminated array,
 * free with fs_free_list. */
int fs_list(const char *dir, char ***names, size_t *n, pond_err *err);
void fs_free_list(char **names);

/* Every regular file below dir, as paths relative to dir, sorted.
 * Symbolic links are followed; one that leads back into a directory above
 * it (a loop) is an error naming it, as is a tree deeper than this. */
#define FS_WALK_MAX_DEPTH 256
int fs_walk(const char *dir, char ***rel, size_t *n, pond_err *err);

int fs_fsync_path(const char *path, pond_err *err); /* file or dir */
int fs_fsync_tree(const char *dir, pond_err *err);  /* files, then dirs */
/* Starts writing every file below dir back to disk and returns at once
 * (Linux sync_file_range): a later fsync then finds little left to do. */
void fs_start_writeback(const char *dir);

/* Writes data to path (created or truncated), without fsync: for files
 * that a later fsync of their tree (or nothing) makes durable. */
int fs_write(const char *path, const char *data, size_t len, pond_err *err);

/* Writes data to path via path.tmp + fsync + rename + fsync(dir). */
int fs_write_atomic(const char *path, const char *data, size_t len, pond_err *err);
/* The same without the fsyncs: a reader sees the old file or the new one,
 * whole, but a power loss may leave neither. For files made again from
 * others (trace.json, from the journal and events.jsonl). */
int fs_write_replace(const char *path, const char *data, size_t len, pond_err *err);

/* Reads a whole file; *out NUL-terminated, caller frees. */
int fs_read(const char *path, char **out, size_t *len, pond_err *err);

/* Absolute, normalised version of path (need not exist); caller frees. */
char *fs_abspath(const char *path);
/* The same for a glob(3) pattern: the working directory's own * ? [ \
 * are escaped, so that they match themselves ('runs [2024]/' as the
 * working directory of '*.parquet'). */
char *fs_abspath_glob(const char *pattern);
char *fs_dirname(const char *path); /* caller frees */

/* path with symlinks resolved; for a path that does not exist (yet), the
 * real path of its longest existing ancestor plus the rest. Absolute,
 * normalised; caller frees. Use it to compare where things really are. */
char *fs_realpath(const char *path);

/* Whether `inner` is `outer` or lies below it (absolute, normalised). */
bool fs_path_within(const char *inner, const char *outer);

/* Closes every descriptor >= 3 except `keep` (-1: none). For a forked
 * process that must not keep its parent's files open: a lock, the pipe
 * a reader waits on for EOF. */
void fs_close_fds(int keep);
const char *fs_basename(const char *path); /* points into path */

#endif
