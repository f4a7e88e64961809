/*
 * Open files and the descriptor table, and the calls that take a
 * descriptor: open, close, dup, read/write (plain, positional, vectored),
 * lseek, getdents, fstat, ftruncate, fsync, fstatfs, ioctl, mmap.
 *
 * An open file (struct vfs_file) holds a vnode reference, the open flags,
 * the offset and the filesystem's per-open data; it is shared by the
 * descriptors dup'ed from it. f_refs counts descriptors plus calls in
 * progress, so a close that races with a read frees the file only when the
 * read is done. The descriptor table (VFS_MAX_FDS slots, lowest free number
 * first, none reserved) sits under vfs_fd_lock, a leaf spinlock.
 *
 * Offsets: read/write/lseek/getdents take the file's f_lock (a mutex)
 * around the whole operation, so two threads sharing a descriptor see
 * disjoint data; pread/pwrite never touch it. Devices are called without
 * f_lock or v_lock (a console read may block for a long time).
 */
#include "vfs_impl.h"

#include <limits.h>
#include <string.h>

static struct spinlock vfs_fd_lock;
static struct vfs_file *vfs_fds[VFS_MAX_FDS];

void vfs_fd_init(void)
{
	spin_lock_init(&vfs_fd_lock, "vfs_fd");
	memset(vfs_fds, 0, sizeof(vfs_fds));
}

static bool is_device(const struct vnode *vp)
{
	return vp->v_type == VCHR || vp->v_type == VBLK;
}

static struct vfs_file *fd_get(int fd)
{
	struct vfs_file *fp = NULL;

	if (fd < 0 || fd >= VFS_MAX_FDS)
		return NULL;
	spin_lock(&vfs_fd_lock);
	fp = vfs_fds[fd];
	if (fp)
		atomic_fetch_add(&fp->f_refs, 1);
	spin_unlock(&vfs_fd_lock);
	return fp;
}

static void file_rele(struct vfs_file *fp)
{
	if (atomic_fetch_sub(&fp->f_refs, 1) != 1)
		return;
	struct vnode *vp = fp->f_vp;
	if ((fp->f_flags & O_ACCMODE) != O_RDONLY)
		atomic_fetch_sub(&vp->v_mount->mnt_writers, 1);
	if (vp->v_ops->close)
		vp->v_ops->close(vp, fp->f_priv);
	vnode_rele(vp);
	mutex_destroy(&fp->f_lock);
	kfree(fp);
}

/* Install fp (holding one reference for the descriptor) at the lowest free
 * slot >= 0, or at exactly `want` when want >= 0 (replacing what is there). */
static int fd_install(struct vfs_file *fp, int want)
{
	struct vfs_file *old = NULL;
	int fd = -EMFILE;

	spin_lock(&vfs_fd_lock);
	if (want >= 0) {
		old = vfs_fds[want];
		vfs_fds[want] = fp;
		fd = want;
	} else {
		for (int i = 0; i < VFS_MAX_FDS; i++) {
			if (!vfs_fds[i]) {
				vfs_fds[i] = fp;
				fd = i;
				break;
			}
		}
	}
	spin_unlock(&vfs_fd_lock);
	if (old)
		file_rele(old);
	return fd;
}

int vfs_fd_close_all(void)
{
	int n = 0;
	for (int fd = 0; fd < VFS_MAX_FDS; fd++)
		if (vfs_close(fd) == 0)
			n++;
	return n;
}

/* Open vp (its reference is taken over) as a new file and descriptor. */
static int open_vnode(struct vnode *vp, int flags)
{
	struct vfs_file *fp = kzalloc(sizeof(*fp));
	int err = 0;

	if (!fp) {
		vnode_rele(vp);
		return -ENOMEM;
	}
	atomic_init(&fp->f_refs, 1);
	fp->f_vp = vp;
	fp->f_flags = flags;
	mutex_init(&fp->f_lock, "vfs_file");
	if (vp->v_ops->open)
		err = vp->v_ops->open(vp, flags, &fp->f_priv);
	if (err) {
		vnode_rele(vp);
		mutex_destroy(&fp->f_lock);
		kfree(fp);
		return err;
	}
	if ((flags & O_ACCMODE) != O_RDONLY) {
		/* Count the writer, then check again: a racing remount read-only
		 * either sees the writer (EBUSY) or is seen here (EROFS). */
		atomic_fetch_add(&vp->v_mount->mnt_writers, 1);
		if (vfs_mnt_rdonly(vp->v_mount) && !is_device(vp)) {
			file_rele(fp);
			return -EROFS;
		}
	}
	int fd = fd_install(fp, -1);
	if (fd < 0)
		file_rele(fp);
	return fd;
}

static int truncate_vnode(struct vnode *vp, uint64_t len)
{
	struct vfs_setattr sa = {.mask = VFS_SETATTR_SIZE, .size = len};
	int err;

	if (!vp->v_ops->setattr)
		return -EINVAL;
	vfs_vlock_excl(vp);
	err = vp->v_ops->setattr(vp, &sa);
	vfs_vunlock_excl(vp);
	return err;
}

/* Create the last name of nd (which does not exist) as a regular file. */
static int create_file(struct vfs_nameidata *nd, uint32_t mode, struct vnode **vpp)
{
	struct vnode *dvp = nd->dvp;
	struct mount *mp = dvp->v_mount;
	int err;

	if (nd->trailing_slash)
		return -EISDIR;
	if (vfs_mnt_rdonly(mp))
		return -EROFS;
	err = vfs_access(dvp, S_IWUSR | S_IXUSR);
	if (err)
		return err;
	if (!dvp->v_ops->create)
		return -EPERM;
	rwlock_wlock(&mp->mnt_ns_lock);
	err = dvp->v_ops->create(dvp, nd->name, S_IFREG | (mode & VFS_PERM_MASK), vpp);
	if (err == 0)
		vfs_nc_remove(dvp, nd->name); /* a negative entry */
	rwlock_wunlock(&mp->mnt_ns_lock);
	return err;
}

int vfs_open(const char *path, int flags, uint32_t mode)
{
	struct vfs_nameidata nd;
	struct vnode *vp = NULL;
	int acc = flags & O_ACCMODE;
	bool created = false;
	int err;

	if ((flags & ~VFS_O_VALID) || acc == O_ACCMODE)
		return -EINVAL;
	bool want_write = acc != O_RDONLY;

	for (int tries = 0;; tries++) {
		if (!(flags & O_CREAT)) {
			err = vfs_namei(path, (flags & O_NOFOLLOW) ? 0 : VFS_LOOKUP_FOLLOW, &nd);
			if (err)
				return err;
			vp = nd.vp;
			nd.vp = NULL;
			break;
		}
		int lflags = VFS_LOOKUP_PARENT;
		if (!(flags & (O_EXCL | O_NOFOLLOW)))
			lflags |= VFS_LOOKUP_FOLLOW;
		err = vfs_namei(path, lflags, &nd);
		if (err)
			return err;
		if (nd.vp) {
			vp = nd.vp;
			nd.vp = NULL;
			vfs_nd_release(&nd);
			if (flags & O_EXCL) {
				vnode_rele(vp);
				return -EEXIST;
			}
			break;
		}
		err = create_file(&nd, mode, &vp);
		vfs_nd_release(&nd);
		if (err == -EEXIST && !(flags & O_EXCL) && tries < 8)
			continue; /* created by someone else meanwhile: open theirs */
		if (err)
			return err;
		created = true;
		break;
	}
	vfs_nd_release(&nd);

	if (vp->v_type == VLNK)
		err = -ELOOP; /* O_NOFOLLOW */
	else if ((flags & O_DIRECTORY) && vp->v_type != VDIR)
		err = -ENOTDIR;
	else if (vp->v_type == VDIR && (want_write || (flags & (O_CREAT | O_TRUNC))))
		err = -EISDIR;
	else if (!created && want_write && vfs_mnt_rdonly(vp->v_mount) && !is_device(vp))
		err = -EROFS;
	else if (!created)
		err = vfs_access(vp, (acc != O_WRONLY ? S_IRUSR : 0) | (want_write ? S_IWUSR : 0));
	if (!err && (flags & O_TRUNC) && want_write && vp->v_type == VREG && !created)
		err = truncate_vnode(vp, 0);
	if (err) {
		vnode_rele(vp);
		return err;
	}
	return open_vnode(vp, flags);
}

int vfs_close(int fd)
{
	struct vfs_file *fp;

	if (fd < 0 || fd >= VFS_MAX_FDS)
		return -EBADF;
	spin_lock(&vfs_fd_lock);
	fp = vfs_fds[fd];
	vfs_fds[fd] = NULL;
	spin_unlock(&vfs_fd_lock);
	if (!fp)
		return -EBADF;
	file_rele(fp);
	return 0;
}

int vfs_dup(int fd)
{
	struct vfs_file *fp = fd_get(fd);
	if (!fp)
		return -EBADF;
	int nfd = fd_install(fp, -1);
	if (nfd < 0)
		file_rele(fp);
	return nfd;
}

int vfs_dup2(int fd, int newfd)
{
	if (newfd < 0 || newfd >= VFS_MAX_FDS)
		return -EBADF;
	struct vfs_file *fp = fd_get(fd);
	if (!fp)
		return -EBADF;
	if (fd == newfd) {
		file_rele(fp);
		return newfd;
	}
	return fd_install(fp, newfd);
}

/* The common path of every read and write. pos < 0: use and advance the
 * file offset; otherwise a positional transfer at pos. */
static long do_rw(int fd, struct uio *uio, int64_t pos, bool positional)
{
	struct vfs_file *fp = fd_get(fd);
	struct vnode *vp;
	bool write = uio->uio_rw == UIO_WRITE;
	int err = 0;

	if (!fp)
		return -EBADF;
	vp = fp->f_vp;
	int acc = fp->f_flags & O_ACCMODE;
	if ((write && acc == O_RDONLY) || (!write && acc == O_WRONLY)) {
		err = -EBADF;
		goto out;
	}
	if (vp->v_type == VDIR) {
		err = -EISDIR;
		goto out;
	}
	if ((write && !vp->v_ops->write) || (!write && !vp->v_ops->read)) {
		err = -EINVAL;
		goto out;
	}
	if (positional && pos < 0) {
		err = -EINVAL;
		goto out;
	}
	size_t start = uio->uio_resid;
	bool dev = is_device(vp);
	uio->uio_fpriv = fp->f_priv;
	if (!positional && !dev)
		mutex_lock(&fp->f_lock);
	uio->uio_offset = positional ? pos : READ_ONCE(fp->f_offset);
	if (write && (uint64_t)uio->uio_offset + uio->uio_resid > (uint64_t)INT64_MAX) {
		err = -EFBIG;
	} else if (dev) {
		err = write ? vp->v_ops->write(vp, uio, 0) : vp->v_ops->read(vp, uio, 0);
	} else if (write) {
		int ioflag = (!positional && (fp->f_flags & O_APPEND)) ? VFS_IO_APPEND : 0;
		vfs_vlock_excl(vp);
		err = vp->v_ops->write(vp, uio, ioflag);
		vfs_vunlock_excl(vp);
	} else {
		vfs_vlock_shared(vp);
		err = vp->v_ops->read(vp, uio, 0);
		vfs_vunlock_shared(vp);
	}
	size_t done = start - uio->uio_resid;
	if (!positional) {
		if (done > 0 || !err)
			WRITE_ONCE(fp->f_offset, uio->uio_offset);
		if (!dev)
			mutex_unlock(&fp->f_lock);
	}
	if (done > 0)
		err = 0;
	file_rele(fp);
	return err ? err : (long)done;
out:
	file_rele(fp);
	return err;
}

static long rw_buf(int fd, void *buf, size_t len, int64_t pos, bool positional, enum uio_rw rw)
{
	struct vfs_iovec iov;
	struct uio uio;

	if (!buf && len)
		return -EFAULT;
	if (len > (size_t)LONG_MAX)
		len = (size_t)LONG_MAX;
	uio_init_buf(&uio, &iov, buf, len, 0, rw);
	return do_rw(fd, &uio, pos, positional);
}

long vfs_read(int fd, void *buf, size_t len)
{
	return rw_buf(fd, buf, len, -1, false, UIO_READ);
}

long vfs_write(int fd, const void *buf, size_t len)
{
	return rw_buf(fd, (void *)buf, len, -1, false, UIO_WRITE);
}

long vfs_pread(int fd, void *buf, size_t len, int64_t off)
{
	return rw_buf(fd, buf, len, off, true, UIO_READ);
}

long vfs_pwrite(int fd, const void *buf, size_t len, int64_t off)
{
	return rw_buf(fd, (void *)buf, len, off, true, UIO_WRITE);
}

static long rw_vec(int fd, const struct vfs_iovec *iov, int iovcnt, enum uio_rw rw)
{
	struct uio uio;
	size_t total = 0;

	if (iovcnt < 0 || iovcnt > VFS_IOV_MAX || (iovcnt && !iov))
		return -EINVAL;
	struct vfs_iovec *copy = kmalloc(sizeof(*copy) * (size_t)(iovcnt ? iovcnt : 1));
	if (!copy)
		return -ENOMEM;
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_base && iov[i].iov_len) {
			kfree(copy);
			return -EFAULT;
		}
		if (iov[i].iov_len > (size_t)LONG_MAX - total) {
			kfree(copy);
			return -EINVAL;
		}
		total += iov[i].iov_len;
		copy[i] = iov[i];
	}
	uio.uio_iov = copy;
	uio.uio_iovcnt = iovcnt;
	uio.uio_offset = 0;
	uio.uio_resid = total;
	uio.uio_rw = rw;
	uio.uio_fpriv = NULL;
	long r = do_rw(fd, &uio, -1, false);
	kfree(copy);
	return r;
}

long vfs_readv(int fd, const struct vfs_iovec *iov, int iovcnt)
{
	return rw_vec(fd, iov, iovcnt, UIO_READ);
}

long vfs_writev(int fd, const struct vfs_iovec *iov, int iovcnt)
{
	return rw_vec(fd, iov, iovcnt, UIO_WRITE);
}

int vfs_getattr_locked(struct vnode *vp, struct vfs_stat *st)
{
	int err;

	memset(st, 0, sizeof(*st));
	if (!vp->v_ops->getattr)
		return -EINVAL;
	vfs_vlock_shared(vp);
	err = vp->v_ops->getattr(vp, st);
	vfs_vunlock_shared(vp);
	st->st_dev = vp->v_mount->mnt_id;
	return err;
}

int64_t vfs_lseek(int fd, int64_t off, int whence)
{
	struct vfs_file *fp = fd_get(fd);
	struct vfs_stat st;
	int64_t base = 0;
	int err = 0;

	if (!fp)
		return -EBADF;
	struct vnode *vp = fp->f_vp;
	mutex_lock(&fp->f_lock);
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = fp->f_offset;
		break;
	case SEEK_END:
		if (vp->v_type == VDIR) {
			err = -EINVAL;
			break;
		}
		err = vfs_getattr_locked(vp, &st);
		base = (int64_t)st.st_size;
		break;
	default:
		err = -EINVAL;
	}
	if (!err && ((off > 0 && base > INT64_MAX - off) || base + off < 0))
		err = -EINVAL;
	if (!err)
		fp->f_offset = base + off;
	int64_t r = err ? err : fp->f_offset;
	mutex_unlock(&fp->f_lock);
	file_rele(fp);
	return r;
}

struct getdents_ctx {
	char *buf;
	size_t len, used;
	uint64_t cookie;
	bool full; /* an entry was refused for want of room */
};

static bool getdents_fill(void *ctx, const char *name, size_t namelen, uint64_t ino, uint8_t d_type,
			  uint64_t next_cookie)
{
	struct getdents_ctx *g = ctx;
	size_t reclen = ALIGN_UP(offsetof(struct vfs_dirent, d_name) + namelen + 1, (size_t)8);

	if (g->used + reclen > g->len) {
		g->full = true;
		return false;
	}
	struct vfs_dirent *d = (struct vfs_dirent *)(g->buf + g->used);
	d->d_ino = ino;
	d->d_off = next_cookie;
	d->d_reclen = (uint16_t)reclen;
	d->d_type = d_type;
	memcpy(d->d_name, name, namelen);
	memset(d->d_name + namelen, 0, reclen - offsetof(struct vfs_dirent, d_name) - namelen);
	g->used += reclen;
	g->cookie = next_cookie;
	return true;
}

long vfs_getdents(int fd, void *buf, size_t len)
{
	struct vfs_file *fp = fd_get(fd);
	int err = 0;

	if (!fp)
		return -EBADF;
	struct vnode *vp = fp->f_vp;
	if (vp->v_type != VDIR || !vp->v_ops->readdir) {
		file_rele(fp);
		return -ENOTDIR;
	}
	if (!buf || ((uintptr_t)buf & 7)) {
		file_rele(fp);
		return buf ? -EINVAL : -EFAULT;
	}
	mutex_lock(&fp->f_lock);
	struct getdents_ctx g = {.buf = buf, .len = len, .cookie = (uint64_t)fp->f_offset};
	uint64_t cookie = g.cookie;
	rwlock_rlock(&vp->v_mount->mnt_ns_lock);
	err = vp->v_ops->readdir(vp, &cookie, getdents_fill, &g);
	rwlock_runlock(&vp->v_mount->mnt_ns_lock);
	fp->f_offset = (int64_t)g.cookie;
	mutex_unlock(&fp->f_lock);
	file_rele(fp);
	if (g.used > 0)
		return (long)g.used;
	if (err)
		return err;
	/* Nothing placed: a buffer too small for the next record, or the end. */
	return g.full ? -EINVAL : 0;
}

int vfs_fstat(int fd, struct vfs_stat *st)
{
	struct vfs_file *fp = fd_get(fd);
	if (!fp)
		return -EBADF;
	int err = st ? vfs_getattr_locked(fp->f_vp, st) : -EFAULT;
	file_rele(fp);
	return err;
}

int vfs_ftruncate(int fd, int64_t len)
{
	struct vfs_file *fp = fd_get(fd);
	int err;

	if (!fp)
		return -EBADF;
	if (len < 0 || (fp->f_flags & O_ACCMODE) == O_RDONLY || fp->f_vp->v_type != VREG)
		err = -EINVAL;
	else
		err = truncate_vnode(fp->f_vp, (uint64_t)len);
	file_rele(fp);
	return err;
}

int vfs_fsync(int fd)
{
	struct vfs_file *fp = fd_get(fd);
	int err = 0;

	if (!fp)
		return -EBADF;
	struct vnode *vp = fp->f_vp;
	if (vp->v_ops->fsync) {
		vfs_vlock_excl(vp);
		err = vp->v_ops->fsync(vp);
		vfs_vunlock_excl(vp);
	}
	file_rele(fp);
	return err;
}

int vfs_fstatfs(int fd, struct vfs_statfs *sf)
{
	struct vfs_file *fp = fd_get(fd);
	if (!fp)
		return -EBADF;
	int err = vfs_fstatfs_vnode(fp->f_vp, sf);
	file_rele(fp);
	return err;
}

int vfs_ioctl(int fd, unsigned long cmd, void *arg)
{
	struct vfs_file *fp = fd_get(fd);
	if (!fp)
		return -EBADF;
	struct vnode *vp = fp->f_vp;
	int err = vp->v_ops->ioctl ? vp->v_ops->ioctl(vp, cmd, arg, fp->f_priv) : -ENOTTY;
	file_rele(fp);
	return err;
}

int vfs_mmap(int fd, struct vfs_mmap_req *req)
{
	struct vfs_file *fp = fd_get(fd);
	int err = 0;

	if (!fp)
		return -EBADF;
	struct vnode *vp = fp->f_vp;
	int acc = fp->f_flags & O_ACCMODE;
	int mapflags = req ? req->flags & (VFS_MAP_SHARED | VFS_MAP_PRIVATE) : 0;
	if (!req || req->length == 0 || (req->offset & PAGE_MASK) ||
	    (mapflags != VFS_MAP_SHARED && mapflags != VFS_MAP_PRIVATE) ||
	    (req->prot & ~(VFS_PROT_READ | VFS_PROT_WRITE | VFS_PROT_EXEC)))
		err = -EINVAL;
	else if (acc == O_WRONLY ||
		 ((req->prot & VFS_PROT_WRITE) && mapflags == VFS_MAP_SHARED && acc == O_RDONLY))
		err = -EACCES;
	else if (vp->v_type == VDIR || !vp->v_ops->mmap)
		err = -ENODEV;
	else
		err = vp->v_ops->mmap(vp, req);
	file_rele(fp);
	return err;
}
