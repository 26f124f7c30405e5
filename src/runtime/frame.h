/* frame.h — length-prefixed messages over a stream socket or pipe: the
 * wire format between the local driver and its workers, and between a
 * worker and its task child. */
#ifndef POND_RUNTIME_FRAME_H
#define POND_RUNTIME_FRAME_H

#include <stddef.h>

/* 0 on success, -1 on error (errno set). */
int frame_send(int fd, const char *msg, size_t len);
/* 1 with *msg (NUL-terminated, caller frees), 0 on clean EOF, -1 on error. */
int frame_recv(int fd, char **msg, size_t *len);

#endif
