/*
 * cowfs vnode operations: the VFS's calls mapped onto the core (cowfs.h).
 * A vnode's inode number is its object number; the vnode holds its object
 * (cowfs_obj_hold) from creation to reclaim, so an unlinked open file lives
 * until its last vnode goes. Data moves through a bounce buffer of at most
 * COWFS_VN_CHUNK bytes, since the core takes its pool mutex while it copies.
 * Regular files are the exception: their vnode's v_data is a struct
 * cowfs_pcfile and read, write, mmap, truncate and fsync go through the
 * page cache (cowfs_pc.c), which lends ARC buffers instead of copying.
 *
 * Locking: the VFS's locks as vfs.h says; the core takes the pool's mutex
 * inside each call (lock order: mnt_ns_lock -> v_lock -> cowfs_pool).
 */
#include "cowfs_vfs.h"
#include <errno.h>
#include <string.h>

#define COWFS_VN_CHUNK (256u << 10)

static struct cowfs_pool *vpool(struct vnode *vp)
{
	return ((struct cowfs_mount *)vp->v_mount->mnt_data)->pool;
}

int cowfs_vget(struct mount *mp, uint64_t obj, struct vnode **vpp)
{
	struct cowfs_mount *cm = mp->mnt_data;
	struct cowfs_attr a;
	int err = cowfs_getattr(cm->pool, obj, &a);
	if (err)
		return err;
	bool created = false;
	err = vfs_vnode_get(mp, obj, a.mode, &cowfs_vnops, cm, vpp, &created);
	if (!err && created) {
		err = cowfs_obj_hold(cm->pool, obj);
		struct cowfs_pcfile *f = NULL;
		if (!err && a.type == COWFS_OT_FILE) {
			err = cowfs_pc_open(cm->pool, obj, &cm->pcs, &f);
			if (err)
				cowfs_obj_release(cm->pool, obj);
		}
		if (err) {
			(*vpp)->v_data = NULL;
			vnode_rele(*vpp);
		} else if (f) {
			(*vpp)->v_data = f;
		}
	}
	return err;
}

/* The page-cache file of a regular file's vnode, NULL for other types. */
static struct cowfs_pcfile *vpcfile(struct vnode *vp)
{
	struct cowfs_mount *cm = vp->v_mount->mnt_data;
	return vp->v_data && vp->v_data != cm ? vp->v_data : NULL;
}

static int cowfs_vop_lookup(struct vnode *dvp, const char *name, struct vnode **vpp)
{
	uint64_t obj;
	int err = cowfs_lookup(vpool(dvp), dvp->v_ino, name, &obj);
	return err ? err : cowfs_vget(dvp->v_mount, obj, vpp);
}

static int cowfs_vop_create(struct vnode *dvp, const char *name, uint32_t mode, struct vnode **vpp)
{
	if ((mode & S_IFMT) && !S_ISREG(mode))
		return -EPERM; /* no device nodes on cowfs */
	uint64_t obj;
	int err =
	    cowfs_create(vpool(dvp), dvp->v_ino, name, S_IFREG | (mode & VFS_PERM_MASK), &obj);
	return err ? err : cowfs_vget(dvp->v_mount, obj, vpp);
}

static int cowfs_vop_mkdir(struct vnode *dvp, const char *name, uint32_t mode, struct vnode **vpp)
{
	uint64_t obj;
	int err =
	    cowfs_create(vpool(dvp), dvp->v_ino, name, S_IFDIR | (mode & VFS_PERM_MASK), &obj);
	return err ? err : cowfs_vget(dvp->v_mount, obj, vpp);
}

static int cowfs_vop_symlink(struct vnode *dvp, const char *name, const char *target)
{
	uint64_t obj;
	return cowfs_symlink(vpool(dvp), dvp->v_ino, name, target, &obj);
}

static int cowfs_vop_link(struct vnode *dvp, const char *name, struct vnode *vp)
{
	return cowfs_link(vpool(dvp), dvp->v_ino, name, vp->v_ino);
}

static int cowfs_vop_remove(struct vnode *dvp, const char *name, struct vnode *vp)
{
	return cowfs_unlink(vpool(dvp), dvp->v_ino, name);
}

static int cowfs_vop_rmdir(struct vnode *dvp, const char *name, struct vnode *vp)
{
	return cowfs_rmdir(vpool(dvp), dvp->v_ino, name);
}

static int cowfs_vop_rename(struct vnode *fdvp, const char *fname, struct vnode *fvp,
			    struct vnode *tdvp, const char *tname, struct vnode *tvp)
{
	return cowfs_rename(vpool(fdvp), fdvp->v_ino, fname, tdvp->v_ino, tname);
}

static uint8_t otype_dtype(uint8_t t)
{
	switch (t) {
	case COWFS_OT_DIR:
		return DT_DIR;
	case COWFS_OT_SYMLINK:
		return DT_LNK;
	case COWFS_OT_FILE:
		return DT_REG;
	default:
		return DT_UNKNOWN;
	}
}

struct fill_ctx {
	vfs_filldir_t fill;
	void *ctx;
};

static bool fill_one(void *arg, const char *name, size_t len, uint64_t obj, uint8_t type,
		     uint64_t next)
{
	struct fill_ctx *fc = arg;
	return fc->fill(fc->ctx, name, len, obj, otype_dtype(type), next);
}

static int cowfs_vop_readdir(struct vnode *dvp, uint64_t *cookie, vfs_filldir_t fill, void *ctx)
{
	struct fill_ctx fc = {fill, ctx};
	return cowfs_readdir(vpool(dvp), dvp->v_ino, cookie, fill_one, &fc);
}

static int cowfs_vop_readlink(struct vnode *vp, struct uio *uio)
{
	char *buf = kmalloc(4096);
	if (!buf)
		return -ENOMEM;
	int n = cowfs_readlink(vpool(vp), vp->v_ino, buf, 4096);
	if (n > 0)
		uiomove(buf, (size_t)n, uio);
	kfree(buf);
	return n < 0 ? n : 0;
}

static int cowfs_vop_read(struct vnode *vp, struct uio *uio, int ioflag)
{
	if (uio->uio_offset < 0)
		return -EINVAL;
	struct cowfs_pcfile *f = vpcfile(vp);
	if (f)
		return cowfs_pc_read(f, uio);
	size_t cap = MIN(uio->uio_resid, (size_t)COWFS_VN_CHUNK);
	if (cap == 0)
		return 0;
	uint8_t *buf = kmalloc(cap);
	if (!buf)
		return -ENOMEM;
	int err = 0;
	while (uio->uio_resid) {
		size_t want = MIN(uio->uio_resid, cap);
		int64_t n = cowfs_read(vpool(vp), vp->v_ino, (uint64_t)uio->uio_offset, buf, want);
		if (n < 0) {
			err = (int)n;
			break;
		}
		if (n == 0)
			break;
		uiomove(buf, (size_t)n, uio);
		if ((size_t)n < want)
			break;
	}
	kfree(buf);
	return err;
}

static int cowfs_vop_write(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct cowfs_pool *p = vpool(vp);
	struct cowfs_pcfile *f = vpcfile(vp);
	if (f)
		return cowfs_pc_write(f, uio, (ioflag & VFS_IO_APPEND) != 0);
	if (ioflag & VFS_IO_APPEND) {
		struct cowfs_attr a;
		int err = cowfs_getattr(p, vp->v_ino, &a);
		if (err)
			return err;
		uio->uio_offset = (int64_t)a.size;
	}
	if (uio->uio_offset < 0)
		return -EINVAL;
	size_t cap = MIN(uio->uio_resid, (size_t)COWFS_VN_CHUNK);
	if (cap == 0)
		return 0;
	uint8_t *buf = kmalloc(cap);
	if (!buf)
		return -ENOMEM;
	/* Bytes are copied from a scratch copy of the uio and the real one
	 * advances only by what the pool took, so a short write is counted
	 * right by the VFS. */
	struct vfs_iovec *iov = kmalloc(sizeof(*iov) * (size_t)uio->uio_iovcnt);
	if (!iov) {
		kfree(buf);
		return -ENOMEM;
	}
	int err = 0;
	while (uio->uio_resid) {
		struct uio tmp = *uio;
		memcpy(iov, uio->uio_iov, sizeof(*iov) * (size_t)uio->uio_iovcnt);
		tmp.uio_iov = iov;
		size_t n = uiomove(buf, MIN(uio->uio_resid, cap), &tmp);
		int64_t w = cowfs_write(p, vp->v_ino, (uint64_t)uio->uio_offset, buf, n);
		if (w > 0)
			uiomove(NULL, (size_t)w, uio);
		if (w < (int64_t)n) {
			err = w < 0 ? (int)w : -ENOSPC;
			break;
		}
	}
	kfree(iov);
	kfree(buf);
	return err;
}

static int cowfs_vop_getattr(struct vnode *vp, struct vfs_stat *st)
{
	struct cowfs_attr a;
	int err = cowfs_getattr(vpool(vp), vp->v_ino, &a);
	if (err)
		return err;
	st->st_ino = a.obj;
	st->st_mode = a.mode;
	st->st_nlink = a.nlink;
	st->st_size = a.size;
	struct cowfs_pcfile *f = vpcfile(vp);
	if (f)
		st->st_size = cowfs_pc_size(f); /* writes not yet written back count */
	st->st_blksize = a.blksz;
	st->st_blocks = a.blocks;
	st->st_atime_ns = a.atime;
	st->st_mtime_ns = a.mtime;
	st->st_ctime_ns = a.ctime;
	return 0;
}

static int cowfs_vop_setattr(struct vnode *vp, const struct vfs_setattr *sa)
{
	struct cowfs_setattr cs = {
	    .mode = sa->mode, .size = sa->size, .mtime = sa->mtime_ns, .atime = sa->atime_ns};
	if (sa->mask & VFS_SETATTR_MODE)
		cs.mask |= COWFS_SET_MODE;
	struct cowfs_pcfile *f = vpcfile(vp);
	if ((sa->mask & VFS_SETATTR_SIZE) && f) {
		/* The cache first (it unmaps and drops pages past the end),
		 * then the pool. */
		int err = cowfs_pc_truncate(f, sa->size);
		if (err)
			return err;
	} else if (sa->mask & VFS_SETATTR_SIZE) {
		cs.mask |= COWFS_SET_SIZE;
	}
	if (sa->mask & VFS_SETATTR_MTIME)
		cs.mask |= COWFS_SET_MTIME;
	if (sa->mask & VFS_SETATTR_ATIME)
		cs.mask |= COWFS_SET_ATIME;
	int err = cs.mask ? cowfs_setattr(vpool(vp), vp->v_ino, &cs) : 0;
	if (!err && (sa->mask & VFS_SETATTR_MODE)) {
		struct cowfs_attr a;
		if (cowfs_getattr(vpool(vp), vp->v_ino, &a) == 0)
			vnode_set_mode(vp, a.mode);
	}
	return err;
}

static int cowfs_vop_fsync(struct vnode *vp)
{
	struct cowfs_pcfile *f = vpcfile(vp);
	return f ? cowfs_pc_fsync(f) : cowfs_sync(vpool(vp));
}

static int cowfs_vop_mmap(struct vnode *vp, struct vfs_mmap_req *req)
{
	struct cowfs_pcfile *f = vpcfile(vp);
	if (!f)
		return -ENODEV;
	return pc_mmap_hook(vp, &f->pc, req);
}

static void cowfs_vop_reclaim(struct vnode *vp)
{
	struct cowfs_pcfile *f = vpcfile(vp);
	if (f)
		(void)cowfs_pc_close(f); /* a failure is logged there */
	if (vp->v_data)
		cowfs_obj_release(vpool(vp), vp->v_ino);
	vp->v_data = NULL;
}

const struct vnode_ops cowfs_vnops = {
    .lookup = cowfs_vop_lookup,
    .create = cowfs_vop_create,
    .mkdir = cowfs_vop_mkdir,
    .symlink = cowfs_vop_symlink,
    .link = cowfs_vop_link,
    .remove = cowfs_vop_remove,
    .rmdir = cowfs_vop_rmdir,
    .rename = cowfs_vop_rename,
    .readdir = cowfs_vop_readdir,
    .readlink = cowfs_vop_readlink,
    .read = cowfs_vop_read,
    .write = cowfs_vop_write,
    .getattr = cowfs_vop_getattr,
    .setattr = cowfs_vop_setattr,
    .fsync = cowfs_vop_fsync,
    .mmap = cowfs_vop_mmap,
    .reclaim = cowfs_vop_reclaim,
};
