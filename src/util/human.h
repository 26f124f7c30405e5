/* human.h — numbers as people write and read them: sizes parsed ("4GB",
 * "512MiB") and formatted ("1.2 GB"), counts ("3.4M") and durations
 * ("1:02:03"). The CLI's --memory-limit (through pond_parse_size) and the
 * progress line and summary use these, so a size reads the same way in
 * and out. */
#ifndef POND_UTIL_HUMAN_H
#define POND_UTIL_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* A positive size: a number with an optional unit, B, K/KB (1000),
 * KiB (1024), and so on up to T/TB/TiB, case-insensitive, spaces allowed
 * before the unit. 0, or -1 for anything else. */
int human_parse_bytes(const char *s, int64_t *out);

/* "512 B", "1.2 GB" (powers of 1000). */
void human_bytes(char *buf, size_t n, int64_t bytes);
/* "999", "3.4M" */
void human_count(char *buf, size_t n, int64_t count);
/* "m:ss", or "h:mm:ss" from an hour on */
void human_time(char *buf, size_t n, double seconds);

#endif
