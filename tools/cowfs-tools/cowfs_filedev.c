/*
 * A cowfs device over a host file (mkcowfs, the cowfs inspector): pread,
 * pwrite, fdatasync. Short transfers are errors. An existing image may be a
 * block device (its size from BLKGETSIZE64); a directory is EISDIR, other
 * kinds ENODEV.
 */
#include "cowfs_tools.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct filedev {
	struct cowfs_dev dev;
	int fd;
};

static int fd_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct filedev *f = ctx;
	while (len) {
		ssize_t n = pread(f->fd, buf, len, (off_t)off);
		if (n <= 0)
			return n == 0 ? -EIO : -errno;
		buf = (char *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int fd_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	struct filedev *f = ctx;
	while (len) {
		ssize_t n = pwrite(f->fd, buf, len, (off_t)off);
		if (n <= 0)
			return n == 0 ? -EIO : -errno;
		buf = (const char *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int fd_flush(void *ctx)
{
	struct filedev *f = ctx;
	return fdatasync(f->fd) == 0 ? 0 : -errno;
}

static const struct cowfs_dev_ops filedev_ops = {
    .read = fd_read,
    .write = fd_write,
    .flush = fd_flush,
};

int cowfs_filedev_open(const char *path, bool write, uint64_t create_size, struct cowfs_dev **out)
{
	int flags = write ? O_RDWR : O_RDONLY;
	if (create_size)
		flags |= O_CREAT | O_TRUNC;
	int fd = open(path, flags, 0644);
	if (fd < 0)
		return -errno;
	if (create_size && ftruncate(fd, (off_t)create_size) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (S_ISDIR(st.st_mode) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -ENODEV; /* a pipe, a character device */
	}
	struct filedev *f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->dev.ops = &filedev_ops;
	f->dev.ctx = f;
	f->dev.size = size & ~(uint64_t)511;
	*out = &f->dev;
	return 0;
}

void cowfs_filedev_close(struct cowfs_dev *dev)
{
	struct filedev *f = dev->ctx;
	close(f->fd);
	free(f);
}
