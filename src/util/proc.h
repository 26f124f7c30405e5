/* proc.h — child processes: fork with a socketpair to talk over, and
 * reaping that survives signals. */
#ifndef POND_UTIL_PROC_H
#define POND_UTIL_PROC_H

#include <sys/types.h>

#include "util/err.h"

/* Forks a child connected to its parent by a stream socketpair (both ends
 * close-on-exec; stdio flushed first). Returns the child's pid in the
 * parent, with *fd its end; 0 in the child, with *fd the child's end (the
 * parent's end closed); -1 on failure (nothing to clean up). */
pid_t proc_fork_socket(int *fd, pond_err *err);

/* Waits for pid to end, retrying when a signal interrupts; *status (may
 * be NULL) as waitpid sets it. 0, or -1 if there is no such child. */
int proc_reap(pid_t pid, int *status);

#endif
