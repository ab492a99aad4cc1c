/*
 * fd_io - whole-buffer reads and writes (see fd_io.h).
 */
#include "fd_io.h"

#include <errno.h>
#include <unistd.h>

int fd_write_full(int fd, const void *data, size_t size)
{
	const char *p = data;

	while (size > 0) {
		ssize_t ret = write(fd, p, size);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ret == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += ret;
		size -= (size_t)ret;
	}
	return 0;
}

ssize_t fd_read_to_eof(int fd, void *buf, size_t size)
{
	char *p = buf;
	size_t done = 0;

	while (done < size) {
		ssize_t ret = read(fd, p + done, size - done);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ret == 0)
			break;
		done += (size_t)ret;
	}
	return (ssize_t)done;
}
