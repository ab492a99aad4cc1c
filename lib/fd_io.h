/*
 * fd_io - whole-buffer I/O on file descriptors: retry EINTR and short
 * transfers, so callers see all-or-error.
 */
#ifndef LOFT_FD_IO_H
#define LOFT_FD_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* fd_write_full - write all of data; 0, or -1 with errno (a write that
   returns 0 counts as ENOSPC) */
int fd_write_full(int fd, const void *data, size_t size);
/* fd_read_to_eof - read until end of file or size bytes: the count, or
   -1 with errno */
ssize_t fd_read_to_eof(int fd, void *buf, size_t size);

#endif
