/*
 * The calls that change names: mkdir, rmdir, unlink, rename, link,
 * symlink (and readlink, which reads one).
 *
 * Each resolves its path(s) with VFS_LOOKUP_PARENT, checks what it can
 * without locks (read-only mount, permission on the directory, ".", ".."
 * and "/"), then takes the mount's mnt_ns_lock exclusively, looks the last
 * name up again straight from the filesystem (the name cache and the
 * unlocked lookup may be stale by now), checks types and mount points, and
 * calls the filesystem. Every check happens before the filesystem is
 * called, so a failing call changes nothing. Name-cache entries for the
 * changed names are dropped before the lock is released.
 *
 * rename holds the one namespace lock of the mount for the whole
 * operation, which is what makes the "not into its own descendant" walk up
 * from the target directory race-free.
 */
#include "vfs_impl.h"

#include <string.h>

/* Checks shared by every call that changes directory dvp. */
static int may_change(struct vnode *dvp)
{
	if (vfs_mnt_rdonly(dvp->v_mount))
		return -EROFS;
	return vfs_access(dvp, S_IWUSR | S_IXUSR);
}

/* The filesystem's answer for name in dvp, ns lock held. */
static int lookup_locked(struct vnode *dvp, const char *name, struct vnode **vpp)
{
	return dvp->v_ops->lookup ? dvp->v_ops->lookup(dvp, name, vpp) : -ENOTDIR;
}

/* Whether dvp may change and its filesystem has the operation at all
 * (has_op): the last of the unlocked checks of mkdir, rmdir and unlink. */
static int may_change_with(struct vnode *dvp, bool has_op)
{
	int err = may_change(dvp);
	return err ? err : has_op ? 0 : -EPERM;
}

int vfs_mkdir(const char *path, uint32_t mode)
{
	struct vfs_nameidata nd;
	struct vnode *vp;
	int err = vfs_namei(path, VFS_LOOKUP_PARENT, &nd);

	if (err)
		return err;
	struct vnode *dvp = nd.dvp;
	if (nd.vp)
		err = -EEXIST;
	else
		err = may_change_with(dvp, dvp->v_ops->mkdir != NULL);
	if (!err) {
		struct mount *mp = dvp->v_mount;
		rwlock_wlock(&mp->mnt_ns_lock);
		err = dvp->v_ops->mkdir(dvp, nd.name, S_IFDIR | (mode & VFS_PERM_MASK), &vp);
		if (!err)
			vfs_nc_remove(dvp, nd.name);
		rwlock_wunlock(&mp->mnt_ns_lock);
		if (!err)
			vnode_rele(vp);
	}
	vfs_nd_release(&nd);
	return err;
}

/*
 * rmdir (dir) and unlink after their unlocked checks: under the namespace
 * lock, look the last name of nd up again, check its type and that nothing
 * is mounted on it, remove it and drop its cached name. Returns the
 * result and, in *vpp, the vnode the name held (referenced) or NULL.
 */
static int remove_name(struct vfs_nameidata *nd, bool dir, struct vnode **vpp)
{
	struct vnode *dvp = nd->dvp, *vp = NULL;
	struct mount *mp = dvp->v_mount;
	rwlock_wlock(&mp->mnt_ns_lock);
	int err = lookup_locked(dvp, nd->name, &vp);
	if (!err) {
		if (dir && vp->v_type != VDIR)
			err = -ENOTDIR;
		else if (dir && __atomic_load_n(&vp->v_mountedhere, __ATOMIC_ACQUIRE))
			err = -EBUSY;
		else if (!dir && vp->v_type == VDIR)
			err = -EISDIR;
		else if (!dir && nd->trailing_slash)
			err = -ENOTDIR;
		else if (dir)
			err = dvp->v_ops->rmdir(dvp, nd->name, vp);
		else
			err = dvp->v_ops->remove(dvp, nd->name, vp);
		if (!err)
			vfs_nc_remove(dvp, nd->name);
	} else {
		vp = NULL;
	}
	rwlock_wunlock(&mp->mnt_ns_lock);
	*vpp = vp;
	return err;
}

int vfs_rmdir(const char *path)
{
	struct vfs_nameidata nd;
	struct vnode *vp = NULL;
	int err = vfs_namei(path, VFS_LOOKUP_PARENT, &nd);

	if (err)
		return err;
	struct vnode *dvp = nd.dvp;
	if (!dvp)
		err = -EBUSY; /* "/" */
	else if (!strcmp(nd.name, "."))
		err = -EINVAL;
	else if (!strcmp(nd.name, ".."))
		err = -ENOTEMPTY;
	else if (!nd.vp)
		err = -ENOENT;
	else
		err = may_change_with(dvp, dvp->v_ops->rmdir != NULL);
	if (!err) {
		err = remove_name(&nd, true, &vp);
		if (vp) {
			if (!err)
				vfs_nc_purge_dir(vp);
			vnode_rele(vp);
		}
	}
	vfs_nd_release(&nd);
	return err;
}

int vfs_unlink(const char *path)
{
	struct vfs_nameidata nd;
	struct vnode *vp = NULL;
	int err = vfs_namei(path, VFS_LOOKUP_PARENT, &nd);

	if (err)
		return err;
	struct vnode *dvp = nd.dvp;
	if (!dvp || nd.dotdot_last)
		err = -EISDIR;
	else if (!nd.vp)
		err = -ENOENT;
	else
		err = may_change_with(dvp, dvp->v_ops->remove != NULL);
	if (!err) {
		err = remove_name(&nd, false, &vp);
		if (vp)
			vnode_rele(vp);
	}
	vfs_nd_release(&nd);
	return err;
}

/* Is dir an ancestor of (or the same as) vp? ns lock held exclusively.
 * Walks ".." up to the root of the mount. */
static int is_ancestor(struct vnode *dir, struct vnode *vp)
{
	struct vnode *cur = vp, *up;
	int r = 0;

	vnode_ref(cur);
	for (;;) {
		if (cur == dir) {
			r = 1;
			break;
		}
		if (cur->v_flags & VV_ROOT)
			break;
		int err = lookup_locked(cur, "..", &up);
		if (err) {
			r = err;
			break;
		}
		if (up == cur) {
			vnode_rele(up);
			break;
		}
		vnode_rele(cur);
		cur = up;
	}
	vnode_rele(cur);
	return r;
}

static int rename_checks(struct vfs_nameidata *f, struct vnode *fvp, struct vfs_nameidata *t,
			 struct vnode *tvp)
{
	/* In Linux's order: types, then mount points, then ancestry. */
	if (fvp->v_type == VDIR) {
		if (tvp && tvp->v_type != VDIR)
			return -ENOTDIR;
	} else {
		if (tvp && tvp->v_type == VDIR)
			return -EISDIR;
		if (f->trailing_slash || t->trailing_slash)
			return -ENOTDIR;
	}
	if (__atomic_load_n(&fvp->v_mountedhere, __ATOMIC_ACQUIRE) ||
	    (tvp && __atomic_load_n(&tvp->v_mountedhere, __ATOMIC_ACQUIRE)))
		return -EBUSY;
	if (fvp->v_type == VDIR) {
		int a = is_ancestor(fvp, t->dvp);
		if (a)
			return a > 0 ? -EINVAL : a;
	}
	return 0;
}

int vfs_rename(const char *from, const char *to)
{
	struct vfs_nameidata f, t;
	struct vnode *fvp = NULL, *tvp = NULL;
	int err = vfs_namei(from, VFS_LOOKUP_PARENT, &f);

	if (err)
		return err;
	err = vfs_namei(to, VFS_LOOKUP_PARENT, &t);
	if (err) {
		vfs_nd_release(&f);
		return err;
	}
	if (!f.dvp || !t.dvp)
		err = -EBUSY; /* "/" */
	else if (f.dotdot_last || t.dotdot_last)
		err = -EINVAL;
	else if (!f.vp)
		err = -ENOENT;
	else if (f.dvp->v_mount != t.dvp->v_mount)
		err = -EXDEV;
	else if (!(err = may_change(f.dvp)) && !(err = may_change(t.dvp)) && !f.dvp->v_ops->rename)
		err = -EPERM;
	if (err)
		goto out;

	struct mount *mp = f.dvp->v_mount;
	rwlock_wlock(&mp->mnt_ns_lock);
	err = lookup_locked(f.dvp, f.name, &fvp);
	if (err) {
		fvp = NULL;
		goto unlock;
	}
	err = lookup_locked(t.dvp, t.name, &tvp);
	if (err == -ENOENT) {
		tvp = NULL;
	} else if (err) {
		tvp = NULL;
		goto unlock;
	}
	err = rename_checks(&f, fvp, &t, tvp);
	if (err || fvp == tvp)
		goto unlock; /* two names of one file: nothing to do (POSIX) */
	err = f.dvp->v_ops->rename(f.dvp, f.name, fvp, t.dvp, t.name, tvp);
	if (!err) {
		vfs_nc_remove(f.dvp, f.name);
		vfs_nc_remove(t.dvp, t.name);
	}
unlock:
	rwlock_wunlock(&mp->mnt_ns_lock);
	if (tvp) {
		if (!err && tvp->v_type == VDIR)
			vfs_nc_purge_dir(tvp);
		vnode_rele(tvp);
	}
	if (fvp)
		vnode_rele(fvp);
out:
	vfs_nd_release(&f);
	vfs_nd_release(&t);
	return err;
}

int vfs_link(const char *oldpath, const char *newpath)
{
	struct vfs_nameidata o, n;
	int err = vfs_namei(oldpath, 0, &o);

	if (err)
		return err;
	err = vfs_namei(newpath, VFS_LOOKUP_PARENT, &n);
	if (err) {
		vfs_nd_release(&o);
		return err;
	}
	struct vnode *vp = o.vp, *dvp = n.dvp;
	if (vp->v_type == VDIR)
		err = -EPERM;
	else if (n.vp || !dvp)
		err = -EEXIST;
	else if (n.trailing_slash)
		err = -ENOENT;
	else if (dvp->v_mount != vp->v_mount)
		err = -EXDEV;
	else if (!(err = may_change(dvp)) && !dvp->v_ops->link)
		err = -EPERM;
	if (!err) {
		struct mount *mp = dvp->v_mount;
		rwlock_wlock(&mp->mnt_ns_lock);
		err = dvp->v_ops->link(dvp, n.name, vp);
		if (!err)
			vfs_nc_remove(dvp, n.name);
		rwlock_wunlock(&mp->mnt_ns_lock);
	}
	vfs_nd_release(&o);
	vfs_nd_release(&n);
	return err;
}

int vfs_symlink(const char *target, const char *linkpath)
{
	struct vfs_nameidata nd;
	int err = vfs_path_check(target);

	if (err)
		return err;
	err = vfs_namei(linkpath, VFS_LOOKUP_PARENT, &nd);
	if (err)
		return err;
	struct vnode *dvp = nd.dvp;
	if (nd.vp || !dvp)
		err = -EEXIST;
	else if (nd.trailing_slash)
		err = -ENOENT;
	else if (!(err = may_change(dvp)) && !dvp->v_ops->symlink)
		err = -EPERM;
	if (!err) {
		struct mount *mp = dvp->v_mount;
		rwlock_wlock(&mp->mnt_ns_lock);
		err = dvp->v_ops->symlink(dvp, nd.name, target);
		if (!err)
			vfs_nc_remove(dvp, nd.name);
		rwlock_wunlock(&mp->mnt_ns_lock);
	}
	vfs_nd_release(&nd);
	return err;
}

long vfs_readlink(const char *path, char *buf, size_t len)
{
	struct vfs_nameidata nd;
	struct vfs_iovec iov;
	struct uio uio;
	int err;

	if (len == 0)
		return -EINVAL;
	if (!buf)
		return -EFAULT;
	err = vfs_namei(path, 0, &nd);
	if (err)
		return err;
	struct vnode *vp = nd.vp;
	if (vp->v_type != VLNK || !vp->v_ops->readlink) {
		vfs_nd_release(&nd);
		return -EINVAL;
	}
	uio_init_buf(&uio, &iov, buf, len, 0, UIO_READ);
	vfs_vlock_shared(vp);
	err = vp->v_ops->readlink(vp, &uio);
	vfs_vunlock_shared(vp);
	vfs_nd_release(&nd);
	return err ? err : (long)(len - uio.uio_resid);
}
