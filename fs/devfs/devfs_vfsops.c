/*
 * devfs: the filesystem type, its device files and the registration API.
 *
 * Devices are leaves of one global vfs_ptree shared by every devfs mount;
 * a leaf's data is a struct devfs_dev (ops, arg). The device vnodes are
 * VCHR or VBLK, which the VFS calls without v_lock or the file's offset
 * lock, so a console read may wait for input without stalling writers.
 */
#include "devfs.h"

#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <string.h>

struct devfs_dev {
	const struct devfs_ops *ops;
	void *arg;
};

static struct vfs_ptree devfs_tree;
static _Atomic int devfs_tree_state; /* 0: not yet, 1: being made, 2: ready */
static const struct vnode_ops devfs_dev_ops;

static void devfs_dev_release(void *leaf)
{
	struct devfs_dev *d = leaf;
	if (d->ops->release)
		d->ops->release(d->arg);
	kfree(d);
}

static struct vfs_ptree *devfs_tree_get(void)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&devfs_tree_state, &expected, 1)) {
		VERIFY(vfs_ptree_init(&devfs_tree, &devfs_dev_ops, devfs_dev_release) == 0);
		atomic_store(&devfs_tree_state, 2);
	}
	while (atomic_load(&devfs_tree_state) != 2)
		;
	return &devfs_tree;
}

int devfs_register(const char *name, const struct devfs_ops *ops, void *arg)
{
	if (!ops)
		return -EINVAL;
	uint32_t mode = ops->mode ? ops->mode : (S_IFCHR | 0600);
	if (!S_ISCHR(mode) && !S_ISBLK(mode))
		return -EINVAL;
	struct devfs_dev *d = kmalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ops = ops;
	d->arg = arg;
	int err = vfs_ptree_add(devfs_tree_get(), name, mode, d);
	if (err)
		kfree(d);
	return err;
}

int devfs_unregister(const char *name)
{
	return vfs_ptree_remove(devfs_tree_get(), name);
}

static struct devfs_dev *dev_of(struct vnode *vp)
{
	return vfs_ptree_node(vp)->leaf;
}

static int devfs_open(struct vnode *vp, int flags, void **fprivp)
{
	struct devfs_dev *d = dev_of(vp);
	return d->ops->open ? d->ops->open(d->arg, flags) : 0;
}

static int devfs_close(struct vnode *vp, void *fpriv)
{
	struct devfs_dev *d = dev_of(vp);
	return d->ops->close ? d->ops->close(d->arg) : 0;
}

static int devfs_read(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct devfs_dev *d = dev_of(vp);
	return d->ops->read ? d->ops->read(d->arg, uio, ioflag) : -EINVAL;
}

static int devfs_write(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct devfs_dev *d = dev_of(vp);
	return d->ops->write ? d->ops->write(d->arg, uio, ioflag) : -EINVAL;
}

static int devfs_ioctl(struct vnode *vp, unsigned long cmd, void *data, void *fpriv)
{
	struct devfs_dev *d = dev_of(vp);
	return d->ops->ioctl ? d->ops->ioctl(d->arg, cmd, data) : -ENOTTY;
}

static int devfs_getattr(struct vnode *vp, struct vfs_stat *st)
{
	struct devfs_dev *d = dev_of(vp);
	vfs_ptree_getattr(vp, st);
	st->st_rdev = st->st_ino;
	if (d->ops->size)
		st->st_size = d->ops->size(d->arg);
	return 0;
}

static const struct vnode_ops devfs_dev_ops = {
    .read = devfs_read,
    .write = devfs_write,
    .getattr = devfs_getattr,
    .open = devfs_open,
    .close = devfs_close,
    .ioctl = devfs_ioctl,
    .reclaim = vfs_ptree_reclaim,
};

/* The built-in devices: null (reads end at once, writes vanish) and zero
 * (reads give zeros, writes vanish). */
static int null_read(void *arg, struct uio *uio, int ioflag)
{
	return 0;
}

static int zero_read(void *arg, struct uio *uio, int ioflag)
{
	uiomove(NULL, uio->uio_resid, uio);
	return 0;
}

static int sink_write(void *arg, struct uio *uio, int ioflag)
{
	uiomove(NULL, uio->uio_resid, uio);
	return 0;
}

static const struct devfs_ops devfs_null_ops = {
    .mode = S_IFCHR | 0666,
    .read = null_read,
    .write = sink_write,
};

static const struct devfs_ops devfs_zero_ops = {
    .mode = S_IFCHR | 0666,
    .read = zero_read,
    .write = sink_write,
};

static int devfs_mount(struct mount *mp, const char *source, const char *data)
{
	if (data && *data) {
		printk("devfs: unknown options '%s'\n", data);
		return -EINVAL;
	}
	mp->mnt_data = devfs_tree_get();
	mp->mnt_kflags |= VFS_MNTK_NONAMECACHE;
	return 0;
}

static int devfs_unmount(struct mount *mp)
{
	mp->mnt_data = NULL;
	return 0;
}

static int devfs_root(struct mount *mp, struct vnode **vpp)
{
	return vfs_ptree_root(mp->mnt_data, mp, vpp);
}

static struct vfsops devfs_vfsops = {
    .name = "devfs",
    .mount = devfs_mount,
    .unmount = devfs_unmount,
    .root = devfs_root,
};

int devfs_init(void)
{
	int err = vfs_register(&devfs_vfsops);
	if (err)
		return err;
	err = devfs_register("null", &devfs_null_ops, NULL);
	if (err && err != -EEXIST)
		return err;
	err = devfs_register("zero", &devfs_zero_ops, NULL);
	return err == -EEXIST ? 0 : err;
}
KARST_INIT(INIT_FS, devfs_init);
