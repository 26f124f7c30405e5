/* mpi.c — the MPI transport (docs/CLUSTER.md) and the worker ranks' loop.
 * The only file that includes mpi.h. Rank 0 is the driver; ranks 1..n-1
 * are workers that run each task in a forked child which makes no MPI
 * calls. Errors come back as return codes (MPI_ERRORS_RETURN). Waiting
 * is Iprobe + a short sleep, so an idle rank does not spin a core that a
 * task child on the same host could use. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plan/task_codec.h"
#include "pond.h"
#include "runtime/transport.h"
#include "runtime/worker.h"
#include "util/sb.h"

#define TAG_MSG 7
/* Between probes a waiting rank sleeps 5 us at first, doubling up to
 * 250 us: a reply to a short task is seen within microseconds, and an idle
 * rank wakes 4,000 times a second at most (a few % of a core). */
#define IDLE_SLEEP_MIN_NS 5000L
#define IDLE_SLEEP_MAX_NS 250000L

static int inited, exit_sent;
static int world_rank, world_size;
static int host_workers = 1; /* worker ranks on this host */
static char **hosts;         /* rank 0: host name of every rank */

/* Set by a launcher that wires the ranks together (mpirun, Hydra, srun --mpi=pmix/pmi2). */
static bool launcher_env(void)
{
	static const char *vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
				      "MPI_LOCALNRANKS",      "PMI_RANK", NULL };
	for (int i = 0; vars[i]; i++)
		if (getenv(vars[i]))
			return true;
	return false;
}

/* SLURM_NTASKS, or 0. */
static long slurm_ntasks(void)
{
	const char *n = getenv("SLURM_NTASKS");
	return n ? strtol(n, NULL, 10) : 0;
}

/* A step of several srun tasks. */
static bool srun_tasks(void)
{
	return getenv("SLURM_STEP_ID") && slurm_ntasks() > 1;
}

bool mpi_launched(void)
{
	return launcher_env() || srun_tasks();
}

static void mpi_msg(int rc, char *buf, size_t n, const char *what)
{
	char s[MPI_MAX_ERROR_STRING];
	int len = 0;
	MPI_Error_string(rc, s, &len);
	snprintf(buf, n, "%s: %.*s", what, len, s);
}

pond_status mpi_init(int *rank, int *size, char *err, size_t errlen)
{
	char name[MPI_MAX_PROCESSOR_NAME + 1] = { 0 };
	int len = 0, rc, shared_workers = 0, is_worker;
	MPI_Comm local;

	/* srun without --mpi=pmix (Slurm's MpiDefault=none): no PMI server, so
	 * Open MPI's MPI_Init sees a direct launch it cannot join and aborts the
	 * process itself; say why before it gets the chance. */
	if (srun_tasks() && !launcher_env()) {
		snprintf(err, errlen,
			 "started by srun with %s tasks, but without an MPI launch (no PMIx): "
			 "run `srun --mpi=pmix pond run ...` so the tasks form one MPI job",
			 getenv("SLURM_NTASKS"));
		return POND_EUSAGE;
	}
	/* pond sends only small control messages between ranks (data goes
	 * through the shared filesystem): Open MPI's ob1 layer is enough, and
	 * skipping the probe of high-speed layers this host may not have saves
	 * ~0.2 s per job. A user's own choice (OMPI_MCA_pml) wins. */
	setenv("OMPI_MCA_pml", "ob1", 0);
	if ((rc = MPI_Init(NULL, NULL)) != MPI_SUCCESS) {
		mpi_msg(rc, err, errlen, "MPI_Init");
		return POND_EINTERNAL;
	}
	inited = 1;
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &world_size);
	*rank = world_rank;
	*size = world_size;
	if (world_size == 1 && slurm_ntasks() > 1) {
		snprintf(err, errlen,
			 "started by srun with %s tasks, but MPI sees a single rank: "
			 "run `srun --mpi=pmix pond run ...` so the tasks form one MPI job",
			 getenv("SLURM_NTASKS"));
		return POND_EUSAGE;
	}
	/* ranks sharing this host split its cores and memory */
	is_worker = world_rank != 0;
	if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &local) ==
	    MPI_SUCCESS) {
		MPI_Allreduce(&is_worker, &shared_workers, 1, MPI_INT, MPI_SUM, local);
		MPI_Comm_free(&local);
	}
	host_workers = shared_workers > 0 ? shared_workers : 1;
	MPI_Get_processor_name(name, &len);
	if (world_rank == 0) {
		char *all = xcalloc((size_t)world_size, sizeof(name));
		MPI_Gather(name, (int)sizeof(name), MPI_CHAR, all, (int)sizeof(name), MPI_CHAR, 0, MPI_COMM_WORLD);
		hosts = xcalloc((size_t)world_size, sizeof(char *));
		for (int r = 0; r < world_size; r++)
			hosts[r] = xstrdup(all + (size_t)r * sizeof(name));
		free(all);
	} else {
		MPI_Gather(name, (int)sizeof(name), MPI_CHAR, NULL, 0, MPI_CHAR, 0, MPI_COMM_WORLD);
	}
	return POND_OK;
}

static void idle(long *ns)
{
	struct timespec ts = { 0, *ns };
	nanosleep(&ts, NULL);
	if (*ns < IDLE_SLEEP_MAX_NS)
		*ns *= 2;
}

/* Receives one message from `source` (MPI_ANY_SOURCE allowed), waiting at
 * most timeout_ms (-1: forever). 1 got it, 0 timeout, -1 MPI error. */
static int recv_msg(int source, int timeout_ms, int *from, char **msg, char *err, size_t errlen)
{
	struct timespec t0, now;
	MPI_Status st;
	int flag = 0, rc, count;
	long nap = IDLE_SLEEP_MIN_NS;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = MPI_Iprobe(source, TAG_MSG, MPI_COMM_WORLD, &flag, &st);
		if (rc != MPI_SUCCESS) {
			mpi_msg(rc, err, errlen, "MPI_Iprobe");
			return -1;
		}
		if (flag)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout_ms >= 0 &&
		    (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= timeout_ms)
			return 0;
		idle(&nap);
	}
	MPI_Get_count(&st, MPI_CHAR, &count);
	*msg = xmalloc((size_t)count + 1);
	rc = MPI_Recv(*msg, count, MPI_CHAR, st.MPI_SOURCE, TAG_MSG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	if (rc != MPI_SUCCESS) {
		free(*msg);
		*msg = NULL;
		mpi_msg(rc, err, errlen, "MPI_Recv");
		return -1;
	}
	(*msg)[count] = '\0';
	*from = st.MPI_SOURCE;
	return 1;
}

static int send_msg(int dest, const char *msg, size_t len, char *err, size_t errlen)
{
	int rc = MPI_Send(msg, (int)len, MPI_CHAR, dest, TAG_MSG, MPI_COMM_WORLD);
	if (rc != MPI_SUCCESS) {
		mpi_msg(rc, err, errlen, "MPI_Send");
		return -1;
	}
	return 0;
}

/* ---- worker ranks ---------------------------------------------------- */

static int w_recv(void *ctx, char **msg)
{
	char err[256];
	int from;
	(void)ctx;
	int r = recv_msg(0, -1, &from, msg, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "pond: rank %d: %s\n", world_rank, err);
	return r;
}

static int w_send(void *ctx, const char *msg, size_t len)
{
	char err[256];
	(void)ctx;
	if (send_msg(0, msg, len, err, sizeof(err))) {
		fprintf(stderr, "pond: rank %d: %s\n", world_rank, err);
		return -1;
	}
	return 0;
}

static int w_poll(void *ctx)
{
	int flag = 0;
	(void)ctx;
	MPI_Iprobe(0, TAG_MSG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
	return flag;
}

int mpi_serve(void)
{
	worker_io io = { w_recv, w_send, w_poll, NULL };
	char name[32];
	snprintf(name, sizeof(name), "rank-%d", world_rank);
	worker_set_name(name);
	worker_set_host_share(host_workers);
	return worker_loop(&io) == 0 ? 0 : 1;
}

/* ---- the driver's transport -------------------------------------------- */

typedef struct {
	transport base;
	char desc[MPI_MAX_PROCESSOR_NAME + 64];
} mpi_t;

static int m_nworkers(transport *t)
{
	(void)t;
	return world_size - 1;
}

static int m_send(transport *t, int w, const char *msg, size_t len, pond_err *err)
{
	char e[512];
	if (send_msg(w + 1, msg, len, e, sizeof(e)))
		return pond_fail(err, POND_EIO, "%s: %s; rerun with --resume to finish the job", t->ops->describe(t, w),
				 e);
	return 0;
}

static int m_recv(transport *t, int timeout_ms, int *w, char **msg, pond_err *err)
{
	char e[512];
	int from = -1;
	int r = recv_msg(MPI_ANY_SOURCE, timeout_ms, &from, msg, e, sizeof(e));
	(void)t;
	if (r < 0)
		return pond_fail(err, POND_EIO, "%s; a rank may have died: rerun with --resume to finish the job", e);
	if (r == 1)
		*w = from - 1;
	return r;
}

static int m_respawn(transport *t, int w, pond_err *err)
{
	return pond_fail(err, POND_EIO, "%s died: MPI cannot replace a rank; rerun with --resume",
			 t->ops->describe(t, w));
}

static const char *m_describe(transport *t, int w)
{
	mpi_t *m = (mpi_t *)t;
	snprintf(m->desc, sizeof(m->desc), "rank %d on %s", w + 1, hosts ? hosts[w + 1] : "?");
	return m->desc;
}

static void release_workers(void)
{
	const char *bye = CODEC_MSG_EXIT;
	if (exit_sent || world_rank != 0)
		return;
	exit_sent = 1;
	for (int r = 1; r < world_size; r++)
		MPI_Send(bye, (int)strlen(bye), MPI_CHAR, r, TAG_MSG, MPI_COMM_WORLD);
}

static void m_release(transport *t)
{
	(void)t;
	release_workers();
}

static void m_shutdown(transport *t)
{
	release_workers();
	free(t);
}

static const transport_ops mpi_ops = {
	"mpi", m_nworkers, m_send, m_recv, m_respawn, m_describe, m_release, m_shutdown,
};

transport *mpi_transport_start(pond_err *err)
{
	mpi_t *m;
	if (!inited || world_size < 2) {
		pond_fail(err, POND_EUSAGE, "the MPI transport needs at least 2 ranks (1 driver + workers)");
		return NULL;
	}
	m = xcalloc(1, sizeof(mpi_t));
	m->base.ops = &mpi_ops;
	return &m->base;
}

int mpi_host_workers(void)
{
	return host_workers;
}

void mpi_finalize(void)
{
	if (!inited)
		return;
	release_workers();
	if (hosts) {
		for (int r = 0; r < world_size; r++)
			free(hosts[r]);
		free(hosts);
		hosts = NULL;
	}
	MPI_Finalize();
	inited = 0;
}
