/*
 * The calls that read or change a file's attributes by path: stat, lstat,
 * truncate, chmod. (The descriptor versions live in vfs_file.c.)
 *
 * getattr runs under the vnode's v_lock shared, setattr exclusively; the
 * mount id becomes st_dev, so two files are the same file when st_dev and
 * st_ino agree.
 */
#include "vfs_impl.h"

static int stat_path(const char *path, int lflags, struct vfs_stat *st)
{
	struct vfs_nameidata nd;
	int err;

	if (!st)
		return -EFAULT;
	err = vfs_namei(path, lflags, &nd);
	if (err)
		return err;
	err = vfs_getattr_locked(nd.vp, st);
	vfs_nd_release(&nd);
	return err;
}

int vfs_stat(const char *path, struct vfs_stat *st)
{
	return stat_path(path, VFS_LOOKUP_FOLLOW, st);
}

int vfs_lstat(const char *path, struct vfs_stat *st)
{
	return stat_path(path, 0, st);
}

static int setattr_path(const char *path, struct vfs_setattr *sa)
{
	struct vfs_nameidata nd;
	int err = vfs_namei(path, VFS_LOOKUP_FOLLOW, &nd);

	if (err)
		return err;
	struct vnode *vp = nd.vp;
	if ((sa->mask & VFS_SETATTR_SIZE) && vp->v_type == VDIR)
		err = -EISDIR;
	else if ((sa->mask & VFS_SETATTR_SIZE) && vp->v_type != VREG)
		err = -EINVAL;
	else if (vfs_mnt_rdonly(vp->v_mount))
		err = -EROFS;
	else if ((sa->mask & VFS_SETATTR_SIZE) && (err = vfs_access(vp, S_IWUSR)))
		;
	else if (!vp->v_ops->setattr)
		err = -EPERM;
	if (!err) {
		vfs_vlock_excl(vp);
		err = vp->v_ops->setattr(vp, sa);
		vfs_vunlock_excl(vp);
	}
	vfs_nd_release(&nd);
	return err;
}

int vfs_truncate(const char *path, int64_t len)
{
	struct vfs_setattr sa = {.mask = VFS_SETATTR_SIZE, .size = (uint64_t)len};
	if (len < 0)
		return -EINVAL;
	return setattr_path(path, &sa);
}

int vfs_chmod(const char *path, uint32_t mode)
{
	struct vfs_setattr sa = {.mask = VFS_SETATTR_MODE, .mode = mode & VFS_PERM_MASK};
	return setattr_path(path, &sa);
}
