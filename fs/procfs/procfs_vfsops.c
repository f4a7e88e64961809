/*
 * procfs: the filesystem type, its files and the registration API.
 *
 * Every registered file is a leaf of one global vfs_ptree, shared by every
 * mount of procfs. A leaf's data is a struct procfs_entry (show, arg); on
 * open the VFS calls procfs_open, which runs show into a fresh seqbuf that
 * becomes the open file's private data, and reads serve that snapshot by
 * offset. stat reports size 0, as Linux's /proc does: the size is only
 * known once generated.
 */
#include "procfs.h"

#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <string.h>
#include <vfs.h>

struct procfs_entry {
	procfs_show_t show;
	void *arg;
};

static struct vfs_ptree procfs_tree;
static _Atomic int procfs_tree_state; /* 0: not yet, 1: being made, 2: ready */
static const struct vnode_ops procfs_file_ops;

static void procfs_entry_release(void *leaf)
{
	kfree(leaf);
}

static struct vfs_ptree *procfs_tree_get(void)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&procfs_tree_state, &expected, 1)) {
		VERIFY(vfs_ptree_init(&procfs_tree, &procfs_file_ops, procfs_entry_release) == 0);
		atomic_store(&procfs_tree_state, 2);
	}
	while (atomic_load(&procfs_tree_state) != 2)
		; /* another thread is making it: a few instructions */
	return &procfs_tree;
}

int procfs_register(const char *path, procfs_show_t show, void *arg)
{
	if (!show)
		return -EINVAL;
	struct procfs_entry *e = kmalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->show = show;
	e->arg = arg;
	int err = vfs_ptree_add(procfs_tree_get(), path, S_IFREG | 0444, e);
	if (err)
		kfree(e);
	return err;
}

int procfs_unregister(const char *path)
{
	return vfs_ptree_remove(procfs_tree_get(), path);
}

static int procfs_open(struct vnode *vp, int flags, void **fprivp)
{
	struct procfs_entry *e = vfs_ptree_node(vp)->leaf;
	struct seqbuf *sb = kzalloc(sizeof(*sb));

	if (!sb)
		return -ENOMEM;
	int err = e->show(sb, e->arg);
	if (!err)
		err = sb->err;
	if (err) {
		seqbuf_free(sb);
		kfree(sb);
		return err;
	}
	*fprivp = sb;
	return 0;
}

static int procfs_close(struct vnode *vp, void *fpriv)
{
	struct seqbuf *sb = fpriv;
	if (sb) {
		seqbuf_free(sb);
		kfree(sb);
	}
	return 0;
}

static int procfs_read(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct seqbuf *sb = uio->uio_fpriv;

	if (!sb)
		return -EINVAL; /* only through an open file */
	if ((uint64_t)uio->uio_offset < sb->len)
		uiomove(sb->buf + uio->uio_offset, sb->len - (size_t)uio->uio_offset, uio);
	return 0;
}

static const struct vnode_ops procfs_file_ops = {
    .read = procfs_read,
    .getattr = vfs_ptree_getattr,
    .open = procfs_open,
    .close = procfs_close,
    .reclaim = vfs_ptree_reclaim,
};

/* /proc/mounts: "source mountpoint type options 0 0", as on Linux. */
static int mounts_line(void *arg, const struct vfs_mount_info *mi)
{
	struct seqbuf *sb = arg;
	const char *rw = (mi->flags & VFS_MNT_RDONLY) ? "ro" : "rw";
	seqbuf_printf(sb, "%s %s %s %s%s%s 0 0\n", mi->source, mi->path, mi->type, rw,
		      mi->opts[0] ? "," : "", mi->opts);
	return sb->err;
}

static int mounts_show(struct seqbuf *sb, void *arg)
{
	return vfs_mount_foreach(mounts_line, sb);
}

static int procfs_mount(struct mount *mp, const char *source, const char *data)
{
	if (data && *data) {
		printk("procfs: unknown options '%s'\n", data);
		return -EINVAL;
	}
	mp->mnt_data = procfs_tree_get();
	mp->mnt_kflags |= VFS_MNTK_NONAMECACHE;
	return 0;
}

static int procfs_unmount(struct mount *mp)
{
	mp->mnt_data = NULL;
	return 0;
}

static int procfs_root(struct mount *mp, struct vnode **vpp)
{
	return vfs_ptree_root(mp->mnt_data, mp, vpp);
}

static struct vfsops procfs_vfsops = {
    .name = "procfs",
    .mount = procfs_mount,
    .unmount = procfs_unmount,
    .root = procfs_root,
};

int procfs_init(void)
{
	int err = vfs_register(&procfs_vfsops);
	if (err)
		return err;
	err = procfs_register("mounts", mounts_show, NULL);
	return err == -EEXIST ? 0 : err;
}
KARST_INIT(INIT_FS, procfs_init);
