/* frame.c — a 4-byte big-endian length, then the bytes (see frame.h). */
#include "runtime/frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/sb.h"

#define MAX_FRAME (256u << 20)

/* send(MSG_NOSIGNAL): a peer that died is an error (EPIPE) to report,
 * not a SIGPIPE that kills the sender, e.g. pond planning when its
 * plan-time DuckDB process is gone. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 1 read all, 0 EOF before anything, -1 error or EOF midway */
static int read_all(int fd, char *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EPIPE;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

int frame_send(int fd, const char *msg, size_t len)
{
	unsigned char h[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
			       (unsigned char)len };
	if (len > MAX_FRAME) {
		errno = EMSGSIZE;
		return -1;
	}
	if (write_all(fd, (const char *)h, 4))
		return -1;
	return write_all(fd, msg, len);
}

int frame_recv(int fd, char **msg, size_t *len)
{
	unsigned char h[4];
	uint32_t n;
	int r = read_all(fd, (char *)h, 4);

	*msg = NULL;
	if (r <= 0)
		return r;
	n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	if (n > MAX_FRAME) {
		errno = EMSGSIZE;
		return -1;
	}
	*msg = xmalloc((size_t)n + 1);
	if (read_all(fd, *msg, n) != 1 && n) {
		free(*msg);
		*msg = NULL;
		if (!errno)
			errno = EPIPE;
		return -1;
	}
	(*msg)[n] = '\0';
	if (len)
		*len = n;
	return 1;
}
