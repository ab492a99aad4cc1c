/*
 * fd_io - whole-buffer I/O on file descriptors: retry EINTR and short
 * transfers, so callers see all-or-error.
 */
#ifndef LOFT_FD_IO_H
#define LOFT_FD_IO_H

#include <stddef.h>
#include <stdint.h>

/* fd_write_full - write all of data; 0, or -1 with errno (a write that
   returns 0 counts as ENOSPC) */
int fd_write_full(int fd, const void *data, size_t size);

#endif
