/* proc.c — forking and reaping (see proc.h). */
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t proc_fork(void)
{
	fflush(NULL);
	return fork();
}

pid_t proc_fork_socket(int *fd, pond_err *err)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return pond_fail_errno(err, POND_EIO, errno, "socketpair");
	pid = proc_fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return pond_fail_errno(err, POND_EIO, e, "fork");
	}
	if (pid == 0) {
		close(sv[0]);
		*fd = sv[1];
		return 0;
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

int proc_reap(pid_t pid, int *status)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (status)
		*status = st;
	return 0;
}

int proc_kill(pid_t pid, int *status)
{
	if (pid <= 0) /* kill(0 or -1) would reach the caller's group, or all */
		return -1;
	kill(pid, SIGKILL);
	return proc_reap(pid, status);
}

void proc_reap_all(pid_t *pids, size_t n, int grace_ms)
{
	/* 1 ms steps: a worker exits a few ms after "exit", and every job
	 * waits here once before publishing (10 ms steps cost ~5 ms a job) */
	for (int waited = 0, left = 1; left; waited += 1) {
		left = 0;
		for (size_t i = 0; i < n; i++) {
			pid_t r;
			if (pids[i] <= 0)
				continue;
			r = waitpid(pids[i], NULL, WNOHANG);
			if (r == pids[i] || (r < 0 && errno != EINTR)) {
				pids[i] = -1;
			} else if (waited >= grace_ms) {
				proc_kill(pids[i], NULL);
				pids[i] = -1;
			} else {
				left = 1;
			}
		}
		if (left)
			usleep(1000);
	}
}

/* One read of /proc/self/io: "rchar: N\nwchar: N\n…". */
static void io_counters(int64_t *rchar, int64_t *wchar)
{
	char buf[512], *p;
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	*rchar = *wchar = -1;
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((p = strstr(buf, "rchar:")))
		*rchar = strtoll(p + 6, NULL, 10);
	if ((p = strstr(buf, "wchar:")))
		*wchar = strtoll(p + 6, NULL, 10);
}

void proc_usage_now(proc_usage *u)
{
	struct rusage ru;

	u->cpu_ms = -1;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		u->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
			    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	io_counters(&u->read_bytes, &u->write_bytes);
}
