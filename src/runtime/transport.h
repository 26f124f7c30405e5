/* transport.h — how the driver reaches its workers: a vtable (IOR's
 * backend shape) so the scheduler runs unchanged over local processes
 * (local.c) or MPI ranks (mpi.c). Messages are JSON text frames. */
#ifndef POND_RUNTIME_TRANSPORT_H
#define POND_RUNTIME_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef struct transport transport;

typedef struct {
	const char *name;
	int (*nworkers)(transport *t);
	/* Sends one message to worker w. */
	int (*send)(transport *t, int w, const char *msg, size_t len, pond_err *err);
	/* Waits up to timeout_ms for a message from any worker. Returns 1 with
	 * *w and *msg (caller frees) set; 1 with *msg NULL when worker *w died
	 * (its running task is lost); 0 on timeout; -1 on error. */
	int (*recv)(transport *t, int timeout_ms, int *w, char **msg, pond_err *err);
	/* Replaces a dead worker; -1 if the transport cannot. */
	int (*respawn)(transport *t, int w, pond_err *err);
	/* Short description of worker w for messages ("worker 3 (pid 1234)"). */
	const char *(*describe)(transport *t, int w);
	/* Tells every worker to exit and returns at once: the driver
	 * publishes while they wind down. */
	void (*release)(transport *t);
	/* Tells every worker to exit (unless released), waits for them,
	 * frees t. */
	void (*shutdown)(transport *t);
} transport_ops;

struct transport {
	const transport_ops *ops;
};

/* Local mode: forks n worker processes connected by socketpairs. Worker
 * 0's task child opens DuckDB at once; the others' wait for
 * CODEC_MSG_WARM (or a task), so that they do not race the plan-time
 * DuckDB's own opening for the cores. */
transport *local_transport_start(int n, pond_err *err);

/* MPI mode: ranks 1..n-1 are the workers (after mpi_init). */
transport *mpi_transport_start(pond_err *err);
int mpi_host_workers(void); /* worker ranks sharing this host */

/* The MPI side of pond_mpi_join (pond.h), in runtime/mpi.c, the only file
 * that includes mpi.h. mpi_launched: started by mpirun, mpiexec or srun?
 * mpi_init: MPI_Init and this rank's place (POND_EUSAGE for srun without
 * an MPI launch, POND_EINTERNAL), the message in err. mpi_serve: a worker
 * rank's loop, 0 when released, 1 when the driver vanished.
 * mpi_finalize: releases the worker ranks (rank 0), then MPI_Finalize; a
 * no-op unless mpi_init ran. */
bool mpi_launched(void);
pond_status mpi_init(int *rank, int *size, char *err, size_t errlen);
int mpi_serve(void);
void mpi_finalize(void);

#endif
