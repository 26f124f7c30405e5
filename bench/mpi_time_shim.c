/* bench/mpi_time_shim.c — a diagnostic, not part of the benchmarks: an
 * LD_PRELOAD interposer that times every MPI_Send, MPI_Recv and MPI_Iprobe
 * of a process and prints the totals per rank at MPI_Finalize (stderr).
 * It showed where pond's per-task cost in MPI mode goes (docs/BENCHMARKS.md,
 * "MPI mode").
 *
 *   mpicc -O2 -shared -fPIC bench/mpi_time_shim.c -o /tmp/mpi_time_shim.so -ldl
 *   mpirun -n 3 --oversubscribe --mca btl self,vader,tcp \
 *          -x LD_PRELOAD=/tmp/mpi_time_shim.so build/pond run job.pond --threads 1
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <time.h>

static double t_send, t_recv, t_probe, max_send;
static long n_send, n_recv, n_probe, bytes_send;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
	double t = now_ms();
	int rc = PMPI_Send(buf, count, type, dest, tag, comm);
	t = now_ms() - t;
	t_send += t;
	if (t > max_send)
		max_send = t;
	n_send++;
	bytes_send += count;
	return rc;
}

int MPI_Recv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm, MPI_Status *st)
{
	double t = now_ms();
	int rc = PMPI_Recv(buf, count, type, source, tag, comm, st);
	t_recv += now_ms() - t;
	n_recv++;
	return rc;
}

int MPI_Iprobe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *st)
{
	double t = now_ms();
	int rc = PMPI_Iprobe(source, tag, comm, flag, st);
	t_probe += now_ms() - t;
	n_probe++;
	return rc;
}

int MPI_Finalize(void)
{
	int rank = -1;
	PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
	fprintf(stderr,
		"rank %d: MPI_Send %ld calls, %.1f ms in all (mean %.3f, max %.2f ms, mean %ld bytes); "
		"MPI_Recv %ld calls, %.1f ms; MPI_Iprobe %ld calls, %.1f ms (mean %.3f ms)\n",
		rank, n_send, t_send, n_send ? t_send / n_send : 0, max_send, n_send ? bytes_send / n_send : 0,
		n_recv, t_recv, n_probe, t_probe, n_probe ? t_probe / n_probe : 0);
	return PMPI_Finalize();
}
