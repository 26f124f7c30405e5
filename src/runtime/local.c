/* local.c — the local transport: the driver forks N worker processes, each
 * connected by a socketpair, and poll()s them all (see transport.h). A
 * worker whose socket closes has died; respawn() forks a replacement. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plan/task_codec.h"
#include "runtime/frame.h"
#include "runtime/transport.h"
#include "runtime/worker.h"
#include "util/fsutil.h"
#include "util/proc.h"
#include "util/sb.h"

#define SHUTDOWN_GRACE_MS 5000 /* for workers to exit at the end */

typedef struct {
	transport base;
	int n;
	int *fd; /* driver's end; -1 when dead */
	pid_t *pid;
	char desc[64];
} local_t;

static int sock_recv(void *ctx, char **msg)
{
	return frame_recv(*(int *)ctx, msg, NULL);
}

static int sock_send(void *ctx, const char *msg, size_t len)
{
	return frame_send(*(int *)ctx, msg, len);
}

static int sock_poll(void *ctx)
{
	struct pollfd p = { *(int *)ctx, POLLIN, 0 };
	return poll(&p, 1, 0) > 0;
}

/* defer: the worker's task child opens DuckDB when told "warm" (see
 * local_transport_start) */
static int spawn(local_t *l, int w, bool defer, pond_err *err)
{
	int fd;
	pid_t pid = proc_fork_socket(&fd, err);

	if (pid < 0)
		return -1;
	if (pid == 0) {
		worker_io io = { sock_recv, sock_send, sock_poll, &fd };
		/* die with the driver, even if it is killed with SIGKILL */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* its role in ps and pgrep (the driver's other child plans) */
		prctl(PR_SET_NAME, "pond-worker");
		/* nothing of the driver's stays open here: not the other
		 * workers' sockets, and not the job directory's lock, which
		 * must end with the driver */
		fs_close_fds(fd);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		worker_set_host_share(l->n);
		if (defer)
			worker_defer_prewarm();
		{
			char name[32];
			snprintf(name, sizeof(name), "worker-%d", w);
			worker_set_name(name);
		}
		_exit(worker_loop(&io) == 0 ? 0 : 1);
	}
	l->fd[w] = fd;
	l->pid[w] = pid;
	return 0;
}

static int l_nworkers(transport *t)
{
	return ((local_t *)t)->n;
}

static int l_send(transport *t, int w, const char *msg, size_t len, pond_err *err)
{
	local_t *l = (local_t *)t;
	if (l->fd[w] < 0 || frame_send(l->fd[w], msg, len) != 0)
		return pond_fail(err, POND_EIO, "worker %d is gone", w);
	return 0;
}

static void reap(local_t *l, int w)
{
	if (l->fd[w] >= 0)
		close(l->fd[w]);
	l->fd[w] = -1;
	if (l->pid[w] > 0)
		proc_kill(l->pid[w], NULL);
	l->pid[w] = -1;
}

static int l_recv(transport *t, int timeout_ms, int *w, char **msg, pond_err *err)
{
	local_t *l = (local_t *)t;
	struct pollfd *p = xcalloc((size_t)l->n, sizeof(struct pollfd));
	int r;

	*msg = NULL;
	for (int i = 0; i < l->n; i++) {
		p[i].fd = l->fd[i];
		p[i].events = POLLIN;
	}
	r = poll(p, (nfds_t)l->n, timeout_ms);
	if (r < 0) {
		free(p);
		if (errno == EINTR)
			return 0;
		return pond_fail_errno(err, POND_EIO, errno, "poll");
	}
	for (int i = 0; r > 0 && i < l->n; i++) {
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		*w = i;
		if (frame_recv(l->fd[i], msg, NULL) != 1) {
			/* gone: the pid stays for describe() until respawn()
			 * reaps it, so the message names the dead worker */
			*msg = NULL;
			close(l->fd[i]);
			l->fd[i] = -1;
		}
		free(p);
		return 1;
	}
	free(p);
	return 0;
}

static int l_respawn(transport *t, int w, pond_err *err)
{
	local_t *l = (local_t *)t;
	reap(l, w);
	return spawn(l, w, false, err);
}

static const char *l_describe(transport *t, int w)
{
	local_t *l = (local_t *)t;
	snprintf(l->desc, sizeof(l->desc), "worker %d (pid %d)", w, (int)l->pid[w]);
	return l->desc;
}

static void l_release(transport *t)
{
	local_t *l = (local_t *)t;
	const char *bye = CODEC_MSG_EXIT;

	for (int i = 0; i < l->n; i++)
		if (l->fd[i] >= 0)
			frame_send(l->fd[i], bye, strlen(bye));
	for (int i = 0; i < l->n; i++)
		if (l->fd[i] >= 0)
			close(l->fd[i]);
	for (int i = 0; i < l->n; i++)
		l->fd[i] = -1;
}

static void l_shutdown(transport *t)
{
	local_t *l = (local_t *)t;

	l_release(t);
	/* A worker exits on "exit", or within a heartbeat tick at EOF if it
	 * is still busy (a cancelled twin). One that does not — stopped or
	 * hung, e.g. the loser of a speculative race — is killed after a
	 * grace period instead of being waited for forever. */
	proc_reap_all(l->pid, (size_t)l->n, SHUTDOWN_GRACE_MS);
	free(l->fd);
	free(l->pid);
	free(l);
}

static const transport_ops local_ops = {
	"local", l_nworkers, l_send, l_recv, l_respawn, l_describe, l_release, l_shutdown,
};

transport *local_transport_start(int n, pond_err *err)
{
	local_t *l = xcalloc(1, sizeof(local_t));

	l->base.ops = &local_ops;
	l->n = n;
	l->fd = xmalloc((size_t)n * sizeof(int));
	l->pid = xmalloc((size_t)n * sizeof(pid_t));
	for (int i = 0; i < n; i++)
		l->fd[i] = -1, l->pid[i] = -1;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++) {
		/* on 2 cores, three DuckDBs opening at once (the plan's and
		 * two task children's) made the plan's first answer 7 ms
		 * later (TPC-H Q22); the driver says "warm" when it has it */
		if (spawn(l, i, i > 0, err)) {
			l_shutdown(&l->base);
			return NULL;
		}
	}
	return &l->base;
}
