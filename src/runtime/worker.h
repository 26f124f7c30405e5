/* worker.h — the loop of a worker process or MPI rank: receive a task,
 * run it isolated (task.c), send back the result, until told to exit. */
#ifndef POND_RUNTIME_WORKER_H
#define POND_RUNTIME_WORKER_H

#include <stddef.h>

typedef struct {
	/* 1 with *msg (caller frees), 0 when the driver is gone, -1 error */
	int (*recv)(void *ctx, char **msg);
	int (*send)(void *ctx, const char *msg, size_t len);
	/* 1 if a message from the driver is waiting (never blocks) */
	int (*poll)(void *ctx);
	void *ctx;
} worker_io;

/* Returns 0 when told to exit, -1 when the driver went away. */
int worker_loop(const worker_io *io);

/* How many workers share this host's cores and memory: a task whose
 * "threads" or "memory_limit" is 0 gets cores/n threads and 80% of RAM/n. */
void worker_set_host_share(int n);

/* This worker's task child opens DuckDB when the driver says "warm" (or
 * with the first task), not as soon as the worker starts (local.c). */
void worker_defer_prewarm(void);

/* Name of this worker's log file in the job's log/ directory. */
void worker_set_name(const char *name);

#endif
