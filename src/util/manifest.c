/* manifest.c — task output manifests (see manifest.h). The file is one
 * compact JSON document, {"files":[["rel/path", rows, bytes], ...]}, its
 * hash FNV-1a 64 (util/hash.h) of those bytes. */
#include "util/manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"
#include "util/hash.h"
#include "util/sb.h"

void manifest_add(manifest *m, const char *path, int64_t rows, int64_t bytes)
{
	m->files = xrealloc(m->files, (m->n + 1) * sizeof(mfile));
	m->files[m->n++] = (mfile){ xstrdup(path), rows, bytes };
}

void manifest_release(manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->files[i].path);
	free(m->files);
	m->files = NULL;
	m->n = 0;
}

static void hash_of(const char *text, size_t len, char *hash)
{
	snprintf(hash, 17, "%016" PRIx64, fnv1a64(FNV1A64_INIT, text, len));
}

int manifest_write(const char *dir, const manifest *m, char *hash, pond_err *err)
{
	json_t *files = json_array(), *doc;
	char *text, *path = xasprintf("%s/%s", dir, MANIFEST_NAME);
	int rc;

	for (size_t i = 0; i < m->n; i++)
		json_array_append_new(files, json_pack("[s, I, I]", m->files[i].path, (json_int_t)m->files[i].rows,
						       (json_int_t)m->files[i].bytes));
	doc = json_pack("{s:o}", "files", files);
	text = json_dumps(doc, JSON_COMPACT);
	hash_of(text, strlen(text), hash);
	/* in the attempt directory, before the commit: the commit's fsync of
	 * the tree (for outputs that must be durable) covers it */
	rc = fs_write(path, text, strlen(text), err);
	free(text);
	free(path);
	json_decref(doc);
	return rc;
}

int manifest_read(const char *dir, manifest *m, char *hash, pond_err *err)
{
	char *path = xasprintf("%s/%s", dir, MANIFEST_NAME), *text = NULL;
	size_t len = 0, i;
	json_t *doc = NULL, *f;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if (fs_read(path, &text, &len, NULL)) {
		rc = pond_fail_errno(err, POND_EINPUT, errno, "%s", path);
		goto out;
	}
	doc = json_loadb(text, len, 0, NULL);
	if (!json_is_array(json_object_get(doc, "files"))) {
		rc = pond_fail(err, POND_EINPUT, "%s: not a pond manifest", path);
		goto out;
	}
	if (hash)
		hash_of(text, len, hash);
	json_array_foreach (json_object_get(doc, "files"), i, f)
		manifest_add(m, json_string_value(json_array_get(f, 0)) ? json_string_value(json_array_get(f, 0)) : "",
			     json_integer_value(json_array_get(f, 1)), json_integer_value(json_array_get(f, 2)));
out:
	json_decref(doc);
	free(text);
	free(path);
	return rc;
}

int manifest_check(const char *dir, const manifest *m, const char *who, pond_err *err)
{
	for (size_t i = 0; i < m->n; i++) {
		char *p = xasprintf("%s/%s", dir, m->files[i].path);
		int64_t size = fs_size(p);
		int rc = 0;
		if (size < 0)
			rc = pond_fail(err, POND_EINPUT, "%s committed %s (%" PRId64 " rows), which is gone", who, p,
				       m->files[i].rows);
		else if (size != m->files[i].bytes)
			rc = pond_fail(err, POND_EINPUT, "%s committed %s with %" PRId64 " bytes; it now has %" PRId64,
				       who, p, m->files[i].bytes, size);
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

int64_t manifest_rows(const manifest *m)
{
	int64_t total = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->files[i].rows < 0)
			return -1;
		total += m->files[i].rows;
	}
	return total;
}

int64_t manifest_bytes(const manifest *m)
{
	int64_t total = 0;
	for (size_t i = 0; i < m->n; i++)
		total += m->files[i].bytes;
	return total;
}
