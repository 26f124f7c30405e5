/* manifest.h — what a committed task output holds. Every task writes
 * _manifest.json into its attempt directory before the commit rename:
 * each file (relative path, rows, bytes). Readers of an intermediate read
 * exactly the files listed and check each is there with its size, so a
 * deleted or torn file is an error, never an empty bucket. The driver
 * records the manifest's hash in the journal's commit line; --resume
 * trusts an output only if its manifest has that hash and checks out. */
#ifndef POND_UTIL_MANIFEST_H
#define POND_UTIL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define MANIFEST_NAME "_manifest.json"

typedef struct {
	char *path;   /* relative to the task directory */
	int64_t rows; /* -1 when unknown (a CSV part of a partitioned sink) */
	int64_t bytes;
} mfile;

typedef struct {
	mfile *files;
	size_t n;
} manifest;

void manifest_add(manifest *m, const char *path, int64_t rows, int64_t bytes);
void manifest_release(manifest *m);

/* Writes dir/_manifest.json; hash (17 bytes) gets its content hash. */
int manifest_write(const char *dir, const manifest *m, char *hash, pond_err *err);

/* Reads dir/_manifest.json (POND_EINPUT if missing or unreadable); hash
 * (may be NULL) gets its content hash. */
int manifest_read(const char *dir, manifest *m, char *hash, pond_err *err);

/* Every listed file is there with its size (POND_EINPUT naming the first
 * that is not). `who` names the output in messages ("task s01-t00003"). */
int manifest_check(const char *dir, const manifest *m, const char *who, pond_err *err);

/* Sum of rows (-1 if any is unknown) and of bytes. */
int64_t manifest_rows(const manifest *m);
int64_t manifest_bytes(const manifest *m);

#endif
