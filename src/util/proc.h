/* proc.h — child processes, the one place pond forks and reaps: fork
 * (stdio flushed first), fork with a socketpair to talk over, reaping
 * that survives signals, and reaping a group with a deadline. */
#ifndef POND_UTIL_PROC_H
#define POND_UTIL_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/* fork() with stdio flushed first (or the child would write the parent's
 * buffered output again). */
pid_t proc_fork(void);

/* Forks a child connected to its parent by a stream socketpair (both ends
 * close-on-exec; stdio flushed first). Returns the child's pid in the
 * parent, with *fd its end; 0 in the child, with *fd the child's end (the
 * parent's end closed); -1 on failure (nothing to clean up). */
pid_t proc_fork_socket(int *fd, pond_err *err);

/* Waits for pid to end, retrying when a signal interrupts; *status (may
 * be NULL) as waitpid sets it. 0, or -1 if there is no such child. */
int proc_reap(pid_t pid, int *status);

/* SIGKILL, then proc_reap. */
int proc_kill(pid_t pid, int *status);

/* Waits for every pids[i] > 0 to end; those still running after grace_ms
 * are killed (SIGKILL). Each pids[i] becomes -1. */
void proc_reap_all(pid_t *pids, size_t n, int grace_ms);

/* What this process has used so far, for the cost of a task: CPU time of
 * all its threads, and the bytes it read and wrote through system calls
 * (/proc/self/io rchar/wchar: page-cache hits included; -1 where /proc
 * cannot say). */
typedef struct {
	double cpu_ms;
	int64_t read_bytes, write_bytes;
} proc_usage;

void proc_usage_now(proc_usage *u);

#endif
