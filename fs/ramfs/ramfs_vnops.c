/*
 * ramfs vnode operations.
 *
 * The VFS calls these with the locks vfs.h lists (mnt_ns_lock for the
 * namespace ops, v_lock for data), so the code here only keeps the node's
 * attr lock around attribute changes. Directory link counts follow Unix:
 * a directory has 2 + its subdirectories.
 *
 * A node is freed by whichever goes last, its last name or its vnode:
 * remove/rmdir/rename only drop nlink, because the VFS always holds the
 * vnode of what it removes; reclaim frees a node whose nlink is 0. A
 * removed directory refuses new entries (ENOENT) and has no "..".
 */
#include "ramfs_impl.h"

#include <string.h>

static uint32_t node_nlink(struct ramfs_node *n)
{
	spin_lock(&n->attr);
	uint32_t v = n->nlink;
	spin_unlock(&n->attr);
	return v;
}

static void nlink_add(struct ramfs_node *n, int delta)
{
	spin_lock(&n->attr);
	n->nlink = (uint32_t)((int)n->nlink + delta);
	n->ctime = time_ns();
	spin_unlock(&n->attr);
}

static bool dir_removed(struct ramfs_node *d)
{
	return node_nlink(d) == 0;
}

static int ramfs_lookup(struct vnode *dvp, const char *name, struct vnode **vpp)
{
	struct ramfs_node *d = ramfs_node(dvp);

	if (!strcmp(name, "..")) {
		if (dir_removed(d))
			return -ENOENT;
		return ramfs_vget(dvp->v_mount, d->dir.parent ? d->dir.parent : d, vpp);
	}
	struct ramfs_dirent *e = ramfs_dir_find(d, name);
	if (!e)
		return -ENOENT;
	return ramfs_vget(dvp->v_mount, e->node, vpp);
}

/* Make a node of `mode` named name in dvp. */
static int make_node(struct vnode *dvp, const char *name, uint32_t mode, struct ramfs_node **np)
{
	struct ramfs_node *d = ramfs_node(dvp);
	struct ramfs_mount *rm = d->rm;

	if (dir_removed(d))
		return -ENOENT;
	if (ramfs_dir_find(d, name))
		return -EEXIST;
	struct ramfs_node *n = ramfs_node_new(rm, mode);
	if (!n)
		return -ENOMEM;
	int err = ramfs_dir_add(d, name, n);
	if (err) {
		ramfs_node_free(n);
		return err;
	}
	if (S_ISDIR(mode)) {
		n->dir.parent = d;
		nlink_add(d, 1);
	}
	ramfs_touch(d, true, true);
	*np = n;
	return 0;
}

static int ramfs_create(struct vnode *dvp, const char *name, uint32_t mode, struct vnode **vpp)
{
	struct ramfs_node *n;

	if (!S_ISREG(mode))
		return -EPERM; /* no device nodes on ramfs: devfs has them */
	int err = make_node(dvp, name, mode, &n);
	return err ? err : ramfs_vget(dvp->v_mount, n, vpp);
}

static int ramfs_mkdir(struct vnode *dvp, const char *name, uint32_t mode, struct vnode **vpp)
{
	struct ramfs_node *n;
	int err = make_node(dvp, name, mode, &n);
	return err ? err : ramfs_vget(dvp->v_mount, n, vpp);
}

static int ramfs_symlink(struct vnode *dvp, const char *name, const char *target)
{
	char *t = kmalloc(strlen(target) + 1);
	struct ramfs_node *n;

	if (!t)
		return -ENOMEM;
	strcpy(t, target);
	int err = make_node(dvp, name, S_IFLNK | 0777, &n);
	if (err) {
		kfree(t);
		return err;
	}
	n->lnk.target = t;
	n->size = strlen(t);
	return 0;
}

static int ramfs_link(struct vnode *dvp, const char *name, struct vnode *vp)
{
	struct ramfs_node *d = ramfs_node(dvp), *n = ramfs_node(vp);

	if (dir_removed(d) || node_nlink(n) == 0)
		return -ENOENT;
	if (ramfs_dir_find(d, name))
		return -EEXIST;
	int err = ramfs_dir_add(d, name, n);
	if (err)
		return err;
	nlink_add(n, 1);
	ramfs_touch(d, true, true);
	return 0;
}

static int ramfs_remove(struct vnode *dvp, const char *name, struct vnode *vp)
{
	struct ramfs_node *d = ramfs_node(dvp);
	struct ramfs_dirent *e = ramfs_dir_find(d, name);

	if (!e || e->node != ramfs_node(vp))
		return -ENOENT;
	ramfs_dir_remove(d, e);
	nlink_add(ramfs_node(vp), -1);
	ramfs_touch(d, true, true);
	return 0;
}

/* Unlink directory n (empty) from its parent's counts. */
static void dir_unlinked(struct ramfs_node *parent, struct ramfs_node *n)
{
	spin_lock(&n->attr);
	n->nlink = 0;
	spin_unlock(&n->attr);
	n->dir.parent = NULL;
	nlink_add(parent, -1);
}

static int ramfs_rmdir(struct vnode *dvp, const char *name, struct vnode *vp)
{
	struct ramfs_node *d = ramfs_node(dvp), *n = ramfs_node(vp);
	struct ramfs_dirent *e = ramfs_dir_find(d, name);

	if (!e || e->node != n)
		return -ENOENT;
	if (n->dir.count > 0)
		return -ENOTEMPTY;
	ramfs_dir_remove(d, e);
	dir_unlinked(d, n);
	ramfs_touch(d, true, true);
	return 0;
}

static int ramfs_rename(struct vnode *fdvp, const char *fname, struct vnode *fvp,
			struct vnode *tdvp, const char *tname, struct vnode *tvp)
{
	struct ramfs_node *fd = ramfs_node(fdvp), *td = ramfs_node(tdvp);
	struct ramfs_node *fn = ramfs_node(fvp), *tn = tvp ? ramfs_node(tvp) : NULL;
	struct ramfs_dirent *fe = ramfs_dir_find(fd, fname);
	struct ramfs_dirent *te = ramfs_dir_find(td, tname);
	bool isdir = S_ISDIR(fn->mode);

	if (!fe || fe->node != fn || (te ? te->node != tn : tn != NULL))
		return -ENOENT;
	if (dir_removed(td))
		return -ENOENT;
	if (tn && S_ISDIR(tn->mode) && tn->dir.count > 0)
		return -ENOTEMPTY;
	/* The new name first: either it replaces the target's entry in place
	 * (no allocation, cannot fail) or a new entry is added (may fail with
	 * nothing changed yet). Then the old name goes. */
	if (te) {
		te->node = fn;
	} else {
		int err = ramfs_dir_add(td, tname, fn);
		if (err)
			return err;
	}
	ramfs_dir_remove(fd, fe);
	if (tn) {
		if (S_ISDIR(tn->mode))
			dir_unlinked(td, tn);
		else
			nlink_add(tn, -1);
	}
	if (isdir && fd != td) {
		fn->dir.parent = td;
		nlink_add(fd, -1);
		nlink_add(td, 1);
	}
	ramfs_touch(fn, false, true);
	ramfs_touch(fd, true, true);
	if (td != fd)
		ramfs_touch(td, true, true);
	return 0;
}

static int ramfs_readdir(struct vnode *dvp, uint64_t *cookie, vfs_filldir_t fill, void *ctx)
{
	struct ramfs_node *d = ramfs_node(dvp);
	struct ramfs_node *up = d->dir.parent ? d->dir.parent : d;

	if (*cookie < 1 && !fill(ctx, ".", 1, d->ino, DT_DIR, 1))
		return 0;
	if (*cookie < 2 && !fill(ctx, "..", 2, up->ino, DT_DIR, 2))
		return 0;
	list_for_each(it, &d->dir.order)
	{
		struct ramfs_dirent *e = list_entry(it, struct ramfs_dirent, order);
		if (e->cookie <= *cookie)
			continue;
		if (!fill(ctx, e->name, e->namelen, e->node->ino, vfs_mode_to_dtype(e->node->mode),
			  e->cookie))
			break;
	}
	return 0;
}

static int ramfs_readlink(struct vnode *vp, struct uio *uio)
{
	struct ramfs_node *n = ramfs_node(vp);
	uiomove(n->lnk.target, strlen(n->lnk.target), uio);
	return 0;
}

static int ramfs_read(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct ramfs_node *n = ramfs_node(vp);

	if (!S_ISREG(n->mode))
		return -EINVAL;
	int err = ramfs_data_read(n, uio);
	spin_lock(&n->attr);
	n->atime = time_ns();
	spin_unlock(&n->attr);
	return err;
}

static int ramfs_write(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct ramfs_node *n = ramfs_node(vp);

	if (!S_ISREG(n->mode))
		return -EINVAL;
	if (ioflag & VFS_IO_APPEND)
		uio->uio_offset = (int64_t)n->size;
	size_t before = uio->uio_resid;
	int err = ramfs_data_write(n, uio);
	if (uio->uio_resid != before)
		ramfs_touch(n, true, true);
	return err;
}

static int ramfs_getattr(struct vnode *vp, struct vfs_stat *st)
{
	struct ramfs_node *n = ramfs_node(vp);

	spin_lock(&n->attr);
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = n->nlink;
	st->st_size = n->size;
	st->st_atime_ns = n->atime;
	st->st_mtime_ns = n->mtime;
	st->st_ctime_ns = n->ctime;
	spin_unlock(&n->attr);
	st->st_blksize = PAGE_SIZE;
	st->st_blocks = S_ISREG(n->mode) ? ramfs_data_pages(n) * (PAGE_SIZE / 512) : 0;
	return 0;
}

static int ramfs_setattr(struct vnode *vp, const struct vfs_setattr *sa)
{
	struct ramfs_node *n = ramfs_node(vp);
	int err = 0;

	if (sa->mask & VFS_SETATTR_SIZE) {
		if (!S_ISREG(n->mode))
			return S_ISDIR(n->mode) ? -EISDIR : -EINVAL;
		err = ramfs_data_truncate(n, sa->size);
		if (err)
			return err;
		ramfs_touch(n, true, true);
	}
	spin_lock(&n->attr);
	if (sa->mask & VFS_SETATTR_MODE)
		n->mode = (n->mode & S_IFMT) | (sa->mode & VFS_PERM_MASK);
	if (sa->mask & VFS_SETATTR_MTIME)
		n->mtime = sa->mtime_ns;
	if (sa->mask & VFS_SETATTR_ATIME)
		n->atime = sa->atime_ns;
	if (sa->mask & (VFS_SETATTR_MODE | VFS_SETATTR_MTIME | VFS_SETATTR_ATIME))
		n->ctime = time_ns();
	uint32_t mode = n->mode;
	spin_unlock(&n->attr);
	vnode_set_mode(vp, mode);
	return 0;
}

/* Mapping a file maps the page cache's pages, which are the data. */
static int ramfs_mmap(struct vnode *vp, struct vfs_mmap_req *req)
{
	struct ramfs_node *n = ramfs_node(vp);
	if (!S_ISREG(n->mode))
		return -ENODEV;
	return pc_mmap_hook(vp, &n->file.pc, req);
}

static int ramfs_fsync(struct vnode *vp)
{
	(void)vp;
	return 0; /* the pages are the data */
}

static void ramfs_reclaim(struct vnode *vp)
{
	struct ramfs_node *n = ramfs_node(vp);
	if (node_nlink(n) == 0)
		ramfs_node_free(n);
}

const struct vnode_ops ramfs_vnops = {
    .lookup = ramfs_lookup,
    .create = ramfs_create,
    .mkdir = ramfs_mkdir,
    .symlink = ramfs_symlink,
    .link = ramfs_link,
    .remove = ramfs_remove,
    .rmdir = ramfs_rmdir,
    .rename = ramfs_rename,
    .readdir = ramfs_readdir,
    .readlink = ramfs_readlink,
    .read = ramfs_read,
    .write = ramfs_write,
    .getattr = ramfs_getattr,
    .setattr = ramfs_setattr,
    .fsync = ramfs_fsync,
    .mmap = ramfs_mmap,
    .reclaim = ramfs_reclaim,
};
