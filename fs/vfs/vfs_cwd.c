/*
 * The root and the current directory, chdir and getcwd.
 *
 * karst has no processes, so there is one root and one cwd for the whole
 * kernel, each a referenced vnode kept under vfs_cwd_lock (a leaf spinlock;
 * references are dropped after releasing it). The cwd defaults to the root.
 *
 * getcwd (and the canonical paths of mount points) climbs from a directory
 * to the root: ".." through the filesystem, from a mount's root to the vnode
 * it covers, and at each level finds the directory's name by reading its
 * parent and matching the inode number. A removed directory has no way up:
 * ENOENT.
 */
#include "vfs_impl.h"

#include <string.h>

static struct spinlock vfs_cwd_lock;
static struct vnode *vfs_rootvp;
static struct vnode *vfs_cwdvp;

void vfs_cwd_init(void)
{
	spin_lock_init(&vfs_cwd_lock, "vfs_cwd");
}

struct vnode *vfs_root_vnode(void)
{
	spin_lock(&vfs_cwd_lock);
	struct vnode *vp = vfs_rootvp;
	if (vp)
		vnode_ref(vp);
	spin_unlock(&vfs_cwd_lock);
	return vp;
}

struct vnode *vfs_cwd_vnode(void)
{
	spin_lock(&vfs_cwd_lock);
	struct vnode *vp = vfs_cwdvp ? vfs_cwdvp : vfs_rootvp;
	if (vp)
		vnode_ref(vp);
	spin_unlock(&vfs_cwd_lock);
	return vp;
}

void vfs_cwd_set(struct vnode *vp)
{
	spin_lock(&vfs_cwd_lock);
	struct vnode *old = vfs_cwdvp;
	vfs_cwdvp = vp;
	spin_unlock(&vfs_cwd_lock);
	if (old)
		vnode_rele(old);
}

/* Called by vfs_mount/vfs_umount of the root mount (mount lock held). */
void vfs_root_set(struct vnode *vp)
{
	if (vp)
		vnode_ref(vp);
	spin_lock(&vfs_cwd_lock);
	struct vnode *old = vfs_rootvp;
	vfs_rootvp = vp;
	spin_unlock(&vfs_cwd_lock);
	if (old)
		vnode_rele(old);
}

int vfs_chdir(const char *path)
{
	struct vfs_nameidata nd;
	int err = vfs_namei(path, VFS_LOOKUP_FOLLOW, &nd);

	if (err)
		return err;
	if (nd.vp->v_type != VDIR)
		err = -ENOTDIR;
	else
		err = vfs_access(nd.vp, S_IXUSR);
	if (err) {
		vfs_nd_release(&nd);
		return err;
	}
	vfs_cwd_set(nd.vp);
	nd.vp = NULL;
	return 0;
}

struct find_name {
	uint64_t ino;
	char *out; /* KARST_NAME_MAX + 1 */
	bool found;
};

static bool find_name_fill(void *ctx, const char *name, size_t namelen, uint64_t ino,
			   uint8_t d_type, uint64_t next_cookie)
{
	struct find_name *fn = ctx;

	if (ino != fn->ino || (namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && name[0] == '.' && name[1] == '.'))
		return true;
	memcpy(fn->out, name, namelen);
	fn->out[namelen] = '\0';
	fn->found = true;
	return false;
}

/* The name of child in directory dvp. */
static int name_in_parent(struct vnode *dvp, struct vnode *child, char *name)
{
	struct find_name fn = {.ino = child->v_ino, .out = name, .found = false};
	uint64_t cookie = 0;
	int err;

	if (!dvp->v_ops->readdir)
		return -ENOTDIR;
	rwlock_rlock(&dvp->v_mount->mnt_ns_lock);
	err = dvp->v_ops->readdir(dvp, &cookie, find_name_fill, &fn);
	rwlock_runlock(&dvp->v_mount->mnt_ns_lock);
	if (err)
		return err;
	return fn.found ? 0 : -ENOENT;
}

int vfs_vnode_path(struct vnode *vp, char *buf, size_t len)
{
	struct vnode *root = vfs_root_vnode();
	struct vnode *cur, *parent;
	char *name = kmalloc(KARST_NAME_MAX + 1);
	size_t pos = len;
	int err = 0;

	if (!name || !root || len == 0) {
		err = !name ? -ENOMEM : len == 0 ? -ERANGE : -ENOENT;
		goto out_noc;
	}
	buf[--pos] = '\0';
	vnode_ref(vp);
	cur = vp;
	while (cur != root) {
		if (cur->v_flags & VV_ROOT) {
			struct vnode *cov = vfs_covered_of_root(cur);
			if (!cov) {
				err = -ENOENT; /* a mount no longer attached */
				break;
			}
			vnode_rele(cur);
			cur = cov;
			continue;
		}
		if (!cur->v_ops->lookup) {
			err = -ENOTDIR;
			break;
		}
		rwlock_rlock(&cur->v_mount->mnt_ns_lock);
		err = cur->v_ops->lookup(cur, "..", &parent);
		rwlock_runlock(&cur->v_mount->mnt_ns_lock);
		if (err)
			break;
		err = name_in_parent(parent, cur, name);
		if (err) {
			vnode_rele(parent);
			break;
		}
		size_t n = strlen(name);
		if (n + 1 > pos) {
			vnode_rele(parent);
			err = -ERANGE;
			break;
		}
		pos -= n;
		memcpy(buf + pos, name, n);
		buf[--pos] = '/';
		vnode_rele(cur);
		cur = parent;
	}
	vnode_rele(cur);
	if (!err && pos == len - 1) {
		if (pos == 0)
			err = -ERANGE;
		else
			buf[--pos] = '/';
	}
	if (!err) {
		memmove(buf, buf + pos, len - pos);
		err = (int)(len - pos - 1);
	}
out_noc:
	if (root)
		vnode_rele(root);
	kfree(name);
	return err;
}

long vfs_getcwd(char *buf, size_t len)
{
	struct vnode *cwd = vfs_cwd_vnode();
	if (!cwd)
		return -ENOENT;
	if (!buf) {
		vnode_rele(cwd);
		return -EINVAL;
	}
	int r = vfs_vnode_path(cwd, buf, len);
	vnode_rele(cwd);
	return r;
}
