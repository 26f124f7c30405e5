/* hash.h — FNV-1a, 64 bits: the one hash pond uses to name things after
 * their identity (job directories, sink staging). Stable across runs,
 * hosts and versions: names on disk depend on it. */
#ifndef POND_UTIL_HASH_H
#define POND_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_INIT 14695981039346656037ULL

static inline uint64_t fnv1a64(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* The 64 bits folded into 32, for an 8-hex-digit name. */
static inline uint32_t hash_fold32(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

#endif
