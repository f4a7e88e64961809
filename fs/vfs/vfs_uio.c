/*
 * Scatter-gather transfers (struct uio) and the VFS's small string helpers.
 *
 * A uio is a cursor over an iovec array: uiomove() copies between one
 * contiguous kernel buffer (a filesystem's page, a device's register
 * window) and however many iovecs that spans, advancing iov, offset and
 * resid, so a filesystem writes its read/write loop once, for read, write,
 * readv, writev, pread and pwrite alike. All addresses are kernel addresses
 * (karst has no user mode), so copying cannot fault.
 */
#include "vfs_impl.h"

#include <string.h>

size_t uiomove(void *buf, size_t n, struct uio *uio)
{
	size_t done = 0;
	char *p = buf;

	while (n > 0 && uio->uio_resid > 0 && uio->uio_iovcnt > 0) {
		struct vfs_iovec *iov = uio->uio_iov;
		size_t chunk = MIN(n, iov->iov_len);

		if (chunk == 0) {
			uio->uio_iov++;
			uio->uio_iovcnt--;
			continue;
		}
		if (uio->uio_rw == UIO_READ) {
			if (p)
				memcpy(iov->iov_base, p, chunk);
			else
				memset(iov->iov_base, 0, chunk);
		} else if (p) {
			memcpy(p, iov->iov_base, chunk);
		}
		iov->iov_base = (char *)iov->iov_base + chunk;
		iov->iov_len -= chunk;
		if (p)
			p += chunk;
		n -= chunk;
		done += chunk;
		uio->uio_resid -= chunk;
		uio->uio_offset += (int64_t)chunk;
	}
	return done;
}

void uio_init_buf(struct uio *uio, struct vfs_iovec *iov, void *buf, size_t len, int64_t off,
		  enum uio_rw rw)
{
	iov->iov_base = buf;
	iov->iov_len = len;
	uio->uio_iov = iov;
	uio->uio_iovcnt = 1;
	uio->uio_offset = off;
	uio->uio_resid = len;
	uio->uio_rw = rw;
	uio->uio_fpriv = NULL;
}

char *vfs_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = kmalloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

bool vfs_name_is_dot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}
