/*
 * Path lookup: from a path string to a vnode.
 *
 * vfs_namei() walks the path one component at a time from the root (paths
 * starting with '/') or the cwd. Each step (vfs_lookup_one) answers "."
 * itself, climbs ".." across mount points (from the root of a mount to the
 * vnode it covers, never above the global root), asks the name cache, then
 * the filesystem under its mnt_ns_lock held shared (entering the answer,
 * positive or negative, in the cache), and finally descends through any
 * mount on the vnode found. Only one reference is held at a time besides
 * the one being taken, and no lock is held between steps.
 *
 * Symbolic links in the middle of a path are always followed, the last
 * component's only with VFS_LOOKUP_FOLLOW, or with a trailing slash when
 * the caller wants the object itself (rmdir("link/") removes nothing); the link's
 * target is spliced in front of the rest of the path in a second buffer
 * (ENAMETOOLONG if the result reaches KARST_PATH_MAX) and more than
 * VFS_SYMLINK_MAX links in one lookup is ELOOP. A trailing slash demands a
 * directory (ENOTDIR otherwise).
 *
 * With VFS_LOOKUP_PARENT the walk stops at the last component and returns
 * the directory holding it, its name and, if it exists, its vnode: the
 * creating and removing calls then redo the last step under the exclusive
 * namespace lock.
 */
#include "vfs_impl.h"

#include <string.h>

int vfs_path_check(const char *path)
{
	if (!path)
		return -EINVAL;
	size_t n = strnlen(path, KARST_PATH_MAX);
	if (n == 0)
		return -ENOENT;
	if (n >= KARST_PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int vfs_access(struct vnode *vp, uint32_t want)
{
	return (vnode_mode(vp) & want) == want ? 0 : -EACCES;
}

/* Ask the filesystem, under the namespace lock held shared. */
static int lookup_fs(struct vnode *dvp, const char *name, struct vnode **vpp, bool cache)
{
	struct mount *mp = dvp->v_mount;
	int err;

	if (!dvp->v_ops->lookup)
		return -ENOTDIR;
	rwlock_rlock(&mp->mnt_ns_lock);
	err = dvp->v_ops->lookup(dvp, name, vpp);
	if (cache && err == 0)
		vfs_nc_enter(dvp, name, *vpp);
	else if (cache && err == -ENOENT)
		vfs_nc_enter(dvp, name, NULL);
	rwlock_runlock(&mp->mnt_ns_lock);
	return err;
}

static int lookup_dotdot(struct vnode *dvp, struct vnode **vpp)
{
	struct vnode *root = vfs_root_vnode();
	struct vnode *cur;
	int err;

	vnode_ref(dvp);
	cur = dvp;
	for (;;) {
		if (cur == root) {
			vnode_rele(cur);
			*vpp = root;
			return 0;
		}
		if (!(cur->v_flags & VV_ROOT))
			break;
		struct vnode *cov = vfs_covered_of_root(cur);
		if (!cov)
			break;
		vnode_rele(cur);
		cur = cov;
	}
	if (root)
		vnode_rele(root);
	err = lookup_fs(cur, "..", vpp, false);
	vnode_rele(cur);
	return err;
}

int vfs_lookup_one(struct vnode *dvp, const char *name, struct vnode **vpp)
{
	struct vnode *vp;
	int err;

	if (name[0] == '.' && name[1] == '\0') {
		vnode_ref(dvp);
		*vpp = dvp;
		return 0;
	}
	if (name[0] == '.' && name[1] == '.' && name[2] == '\0') {
		err = lookup_dotdot(dvp, &vp);
	} else {
		int hit = vfs_nc_lookup(dvp, name, &vp);
		if (hit == 0)
			return -ENOENT;
		err = hit > 0 ? 0 : lookup_fs(dvp, name, &vp, true);
	}
	if (err)
		return err;
	*vpp = vfs_cross_mounts(vp);
	return 0;
}

/* Read a symlink's target into buf (KARST_PATH_MAX bytes); returns its length. */
static int read_link_target(struct vnode *vp, char *buf)
{
	struct vfs_iovec iov;
	struct uio uio;
	int err;

	if (!vp->v_ops->readlink)
		return -EINVAL;
	uio_init_buf(&uio, &iov, buf, KARST_PATH_MAX - 1, 0, UIO_READ);
	vfs_vlock_shared(vp);
	err = vp->v_ops->readlink(vp, &uio);
	vfs_vunlock_shared(vp);
	if (err)
		return err;
	size_t n = KARST_PATH_MAX - 1 - uio.uio_resid;
	buf[n] = '\0';
	return n == 0 ? -ENOENT : (int)n;
}

void vfs_nd_release(struct vfs_nameidata *nd)
{
	if (nd->dvp)
		vnode_rele(nd->dvp);
	if (nd->vp)
		vnode_rele(nd->vp);
	nd->dvp = nd->vp = NULL;
}

int vfs_namei(const char *path, int flags, struct vfs_nameidata *nd)
{
	struct vnode *cur = NULL, *next = NULL;
	char *buf, *tmp, *p;
	int links = 0;
	int err;

	memset(nd, 0, sizeof(*nd));
	err = vfs_path_check(path);
	if (err)
		return err;
	buf = kmalloc(2 * KARST_PATH_MAX);
	if (!buf)
		return -ENOMEM;
	tmp = buf + KARST_PATH_MAX;
	strcpy(buf, path);
	p = buf;
	cur = path[0] == '/' ? vfs_root_vnode() : vfs_cwd_vnode();
	if (!cur) {
		err = -ENOENT; /* nothing mounted yet */
		goto out;
	}

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			/* The path names cur itself ("/", or a link to "/"). */
			if (cur->v_type != VDIR && p > buf && p[-1] == '/') {
				err = -ENOTDIR;
				goto out;
			}
			nd->vp = cur;
			cur = NULL;
			nd->dotdot_last = true;
			nd->trailing_slash = p > buf && p[-1] == '/';
			break;
		}
		size_t len = strcspn(p, "/");
		if (len > KARST_NAME_MAX) {
			err = -ENAMETOOLONG;
			goto out;
		}
		char *rest = p + len;
		char *q = rest;
		while (*q == '/')
			q++;
		bool last = *q == '\0';
		bool slash = *rest == '/';

		if (cur->v_type != VDIR) {
			err = -ENOTDIR;
			goto out;
		}
		err = vfs_access(cur, S_IXUSR);
		if (err)
			goto out;
		memcpy(nd->name, p, len);
		nd->name[len] = '\0';
		err = vfs_lookup_one(cur, nd->name, &next);
		if (err && !(err == -ENOENT && last && (flags & VFS_LOOKUP_PARENT)))
			goto out;
		if (err == 0 && next->v_type == VLNK &&
		    (!last || (flags & VFS_LOOKUP_FOLLOW) ||
		     (slash && !(flags & VFS_LOOKUP_PARENT)))) {
			if (++links > VFS_SYMLINK_MAX) {
				err = -ELOOP;
				goto out;
			}
			int n = read_link_target(next, tmp);
			if (n < 0) {
				err = n;
				goto out;
			}
			size_t restlen = strlen(rest);
			if ((size_t)n + restlen >= KARST_PATH_MAX) {
				err = -ENAMETOOLONG;
				goto out;
			}
			memcpy(tmp + n, rest, restlen + 1);
			vnode_rele(next);
			next = NULL;
			char *t = buf;
			buf = tmp;
			tmp = t;
			p = buf;
			if (buf[0] == '/') {
				vnode_rele(cur);
				cur = vfs_root_vnode();
			}
			continue;
		}
		if (last && (flags & VFS_LOOKUP_PARENT)) {
			nd->dvp = cur;
			nd->vp = err ? NULL : next;
			cur = next = NULL;
			nd->trailing_slash = slash;
			nd->dotdot_last = vfs_name_is_dot(nd->name);
			err = 0;
			break;
		}
		vnode_rele(cur);
		cur = next;
		next = NULL;
		p = rest;
		if (last) {
			if (slash && cur->v_type != VDIR) {
				err = -ENOTDIR;
				goto out;
			}
			nd->trailing_slash = slash;
			nd->vp = cur;
			cur = NULL;
			break;
		}
	}
	err = 0;
out:
	if (cur)
		vnode_rele(cur);
	if (next)
		vnode_rele(next);
	if (err)
		vfs_nd_release(nd);
	/* buf and tmp may have been swapped: free the lower of the two. */
	kfree(buf < tmp ? buf : tmp);
	return err;
}
