/*
 * Filesystem types, the mount table, mount and umount.
 *
 * Types register a struct vfsops by name. A mount joins a directory vnode
 * (the covered vnode) to the root vnode of a new filesystem instance:
 * covered->v_mountedhere points at the mount and lookup descends through
 * it; the mount's root carries VV_ROOT and mnt_covered leads ".." back up.
 * The first mount, on "/", becomes the root mount and has no covered vnode.
 *
 * Locks: vfs_mount_op_lock (a mutex, taken first) serialises whole mount
 * and umount operations, which do lookups and call into filesystems.
 * vfs_mount_lock (a rwlock) guards the table, every v_mountedhere and the
 * root/covered links: lookups take it shared for an instant to cross a
 * mount point, mount/umount exclusively to change links. Umount decides
 * "busy" under the exclusive lock, when no lookup can enter the mount: the
 * mount's vnodes must be exactly its root, held once by the mount (open
 * files, the cwd and lookups in progress hold more), and no other mount may
 * sit on one of its vnodes. The name cache's entries for the mount are
 * dropped first, since they hold references too.
 */
#include "vfs_impl.h"

#include <karst/init.h>
#include <string.h>

struct rwlock vfs_mount_lock;
struct mount *vfs_rootmnt;
static struct mutex vfs_mount_op_lock;
static struct list_node vfs_mounts = LIST_HEAD_INIT(vfs_mounts);
static struct mutex vfs_types_lock;
static struct list_node vfs_types = LIST_HEAD_INIT(vfs_types);
static uint32_t vfs_next_mnt_id;
static _Atomic int vfs_initialised;

/* Types a build option adds (CMake passes each option's setting). */
#ifndef KARST_BUILT_WITH_COWFS
#define KARST_BUILT_WITH_COWFS 0
#endif
#ifndef KARST_BUILT_WITH_VIRTIOFS
#define KARST_BUILT_WITH_VIRTIOFS 0
#endif
static const struct {
	const char *type;
	const char *option;
	bool on; /* the option was on for this build */
} vfs_optional_types[] = {
    {"cowfs", "KARST_WITH_COWFS", KARST_BUILT_WITH_COWFS},
    {"virtiofs", "KARST_WITH_VIRTIOFS", KARST_BUILT_WITH_VIRTIOFS},
};

int vfs_init(void)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&vfs_initialised, &expected, 1))
		return 0;
	rwlock_init(&vfs_mount_lock, "vfs_mount");
	mutex_init(&vfs_mount_op_lock, "vfs_mount_op");
	mutex_init(&vfs_types_lock, "vfs_types");
	vfs_nc_init();
	vfs_cwd_init();
	vfs_fd_init();
	vfs_next_mnt_id = 1;
	return 0;
}
KARST_INIT(INIT_CORE, vfs_init);

static struct vfsops *find_type(const char *name)
{
	list_for_each(it, &vfs_types)
	{
		struct vfsops *ops = list_entry(it, struct vfsops, link);
		if (!strcmp(ops->name, name))
			return ops;
	}
	return NULL;
}

int vfs_register(struct vfsops *ops)
{
	int err = 0;

	if (!ops || !ops->name || !ops->mount || !ops->root || !ops->unmount ||
	    strlen(ops->name) >= VFS_TYPE_MAX)
		return -EINVAL;
	vfs_init();
	mutex_lock(&vfs_types_lock);
	struct vfsops *old = find_type(ops->name);
	if (old && old != ops)
		err = -EEXIST;
	else if (!old)
		list_add_tail(&vfs_types, &ops->link);
	mutex_unlock(&vfs_types_lock);
	return err;
}

static struct vfsops *lookup_type(const char *name)
{
	mutex_lock(&vfs_types_lock);
	struct vfsops *ops = find_type(name);
	mutex_unlock(&vfs_types_lock);
	if (ops)
		return ops;
	for (size_t i = 0; i < ARRAY_SIZE(vfs_optional_types); i++) {
		if (!strcmp(vfs_optional_types[i].type, name)) {
			if (vfs_optional_types[i].on)
				printk("vfs: filesystem type '%s' is not in this kernel although "
				       "-D%s=ON: none registered (not written yet, or its init "
				       "failed: see the boot log)\n",
				       name, vfs_optional_types[i].option);
			else
				printk("vfs: filesystem type '%s' is not in this kernel: build it "
				       "with -D%s=ON\n",
				       name, vfs_optional_types[i].option);
			return NULL;
		}
	}
	printk("vfs: unknown filesystem type '%s'\n", name);
	return NULL;
}

struct vnode *vfs_cross_mounts(struct vnode *vp)
{
	while (__atomic_load_n(&vp->v_mountedhere, __ATOMIC_ACQUIRE)) {
		rwlock_rlock(&vfs_mount_lock);
		struct mount *mp = vp->v_mountedhere;
		struct vnode *root = mp ? mp->mnt_root : NULL;
		if (root)
			vnode_ref(root);
		rwlock_runlock(&vfs_mount_lock);
		if (!root)
			break;
		vnode_rele(vp);
		vp = root;
	}
	return vp;
}

struct vnode *vfs_covered_of_root(struct vnode *vp)
{
	struct vnode *cov = NULL;

	rwlock_rlock(&vfs_mount_lock);
	struct mount *mp = vp->v_mount;
	if (mp->mnt_root == vp && mp->mnt_covered) {
		cov = mp->mnt_covered;
		vnode_ref(cov);
	}
	rwlock_runlock(&vfs_mount_lock);
	return cov;
}

static void mount_free(struct mount *mp)
{
	if (mp->mnt_vhash)
		vfs_vhash_destroy(mp);
	rwlock_destroy(&mp->mnt_ns_lock);
	kfree(mp->mnt_source);
	kfree(mp->mnt_path);
	kfree(mp->mnt_opts);
	kfree(mp);
}

bool vfs_root_mounted(void)
{
	if (!atomic_load(&vfs_initialised))
		return false;
	rwlock_rlock(&vfs_mount_lock);
	bool r = vfs_rootmnt != NULL;
	rwlock_runlock(&vfs_mount_lock);
	return r;
}

static bool path_is_root(const char *path)
{
	if (path[0] != '/')
		return false;
	return path[strspn(path, "/")] == '\0';
}

int vfs_mount(const char *source, const char *target, const char *type, uint32_t flags,
	      const char *data)
{
	struct vfs_nameidata nd = {0};
	struct vnode *root = NULL;
	struct mount *mp = NULL;
	bool fs_mounted = false;
	int err;

	if (!type || !target || (flags & ~VFS_MNT_RDONLY))
		return -EINVAL;
	err = vfs_path_check(target);
	if (err)
		return err;
	vfs_init();
	struct vfsops *ops = lookup_type(type);
	if (!ops)
		return -ENODEV;

	mutex_lock(&vfs_mount_op_lock);
	mp = kzalloc(sizeof(*mp));
	if (!mp) {
		err = -ENOMEM;
		goto fail;
	}
	rwlock_init(&mp->mnt_ns_lock, "vfs_ns");
	mp->mnt_ops = ops;
	mp->mnt_flags = flags;
	mp->mnt_source = vfs_strdup(source ? source : "none");
	mp->mnt_opts = vfs_strdup(data ? data : "");
	mp->mnt_path = kmalloc(KARST_PATH_MAX);
	err = vfs_vhash_init(mp);
	if (err || !mp->mnt_source || !mp->mnt_opts || !mp->mnt_path) {
		err = -ENOMEM;
		goto fail;
	}

	if (!vfs_rootmnt) {
		if (!path_is_root(target)) {
			err = -ENOENT; /* nothing to look the target up in */
			goto fail;
		}
		strcpy(mp->mnt_path, "/");
	} else {
		err = vfs_namei(target, VFS_LOOKUP_FOLLOW, &nd);
		if (err)
			goto fail;
		if (nd.vp->v_type != VDIR) {
			err = -ENOTDIR;
			goto fail;
		}
		if ((nd.vp->v_flags & VV_ROOT) || nd.vp->v_mountedhere) {
			err = -EBUSY; /* already a mount point */
			goto fail;
		}
		int n = vfs_vnode_path(nd.vp, mp->mnt_path, KARST_PATH_MAX);
		if (n < 0) {
			err = n;
			goto fail;
		}
	}

	err = ops->mount(mp, mp->mnt_source, data);
	if (err)
		goto fail;
	fs_mounted = true;
	err = ops->root(mp, &root);
	if (err)
		goto fail;
	root->v_flags |= VV_ROOT;
	mp->mnt_root = root;

	rwlock_wlock(&vfs_mount_lock);
	mp->mnt_id = vfs_next_mnt_id++;
	if (nd.vp) {
		mp->mnt_covered = nd.vp;
		__atomic_store_n(&nd.vp->v_mountedhere, mp, __ATOMIC_RELEASE);
		nd.vp = NULL;
	} else {
		vfs_rootmnt = mp;
		vfs_root_set(root);
	}
	list_add_tail(&vfs_mounts, &mp->mnt_link);
	rwlock_wunlock(&vfs_mount_lock);
	mutex_unlock(&vfs_mount_op_lock);
	return 0;

fail:
	vfs_nd_release(&nd);
	if (root) {
		mp->mnt_root = NULL;
		vnode_rele(root);
	}
	if (fs_mounted)
		ops->unmount(mp);
	if (mp)
		mount_free(mp);
	mutex_unlock(&vfs_mount_op_lock);
	return err;
}

int vfs_remount(const char *target, uint32_t flags)
{
	struct vfs_nameidata nd;
	int err;

	if (flags & ~VFS_MNT_RDONLY)
		return -EINVAL;
	mutex_lock(&vfs_mount_op_lock);
	err = vfs_namei(target, VFS_LOOKUP_FOLLOW, &nd);
	if (err)
		goto out;
	struct mount *mp = nd.vp->v_mount;
	if (!(nd.vp->v_flags & VV_ROOT)) {
		err = -EINVAL;
	} else {
		rwlock_wlock(&vfs_mount_lock);
		if ((flags & VFS_MNT_RDONLY) && atomic_load(&mp->mnt_writers) > 0)
			err = -EBUSY;
		else
			__atomic_store_n(&mp->mnt_flags, flags, __ATOMIC_SEQ_CST);
		rwlock_wunlock(&vfs_mount_lock);
	}
	vfs_nd_release(&nd);
out:
	mutex_unlock(&vfs_mount_op_lock);
	return err;
}

static bool has_submounts(struct mount *mp)
{
	list_for_each(it, &vfs_mounts)
	{
		struct mount *m = list_entry(it, struct mount, mnt_link);
		if (m->mnt_covered && m->mnt_covered->v_mount == mp)
			return true;
	}
	return false;
}

/* Detach and destroy mp; vfs_mount_op_lock held. force: the root mount too. */
static int unmount_locked(struct mount *mp, bool root_ok)
{
	if (mp == vfs_rootmnt && !root_ok)
		return -EBUSY;
	vfs_nc_purge_mount(mp);
	rwlock_wlock(&vfs_mount_lock);
	if (has_submounts(mp) || (mp != vfs_rootmnt && vfs_mount_busy(mp))) {
		rwlock_wunlock(&vfs_mount_lock);
		return -EBUSY;
	}
	if (mp == vfs_rootmnt) {
		rwlock_wunlock(&vfs_mount_lock);
		vfs_root_set(NULL); /* drop the root's extra reference first */
		rwlock_wlock(&vfs_mount_lock);
		if (vfs_mount_busy(mp)) {
			rwlock_wunlock(&vfs_mount_lock);
			vfs_root_set(mp->mnt_root);
			return -EBUSY;
		}
		vfs_rootmnt = NULL;
	} else {
		__atomic_store_n(&mp->mnt_covered->v_mountedhere, NULL, __ATOMIC_RELEASE);
	}
	list_del(&mp->mnt_link);
	rwlock_wunlock(&vfs_mount_lock);

	struct vnode *root = mp->mnt_root;
	mp->mnt_root = NULL;
	vnode_rele(root);
	mp->mnt_ops->unmount(mp);
	if (mp->mnt_covered)
		vnode_rele(mp->mnt_covered);
	mount_free(mp);
	return 0;
}

int vfs_umount(const char *target)
{
	struct vfs_nameidata nd;
	int err;

	mutex_lock(&vfs_mount_op_lock);
	err = vfs_namei(target, VFS_LOOKUP_FOLLOW, &nd);
	if (err)
		goto out;
	struct vnode *vp = nd.vp;
	struct mount *mp = vp->v_mount;
	bool is_root = (vp->v_flags & VV_ROOT) != 0;
	vfs_nd_release(&nd); /* mp stays: only umount frees it, and we hold the op lock */
	if (!is_root)
		err = -EINVAL;
	else
		err = unmount_locked(mp, false);
out:
	mutex_unlock(&vfs_mount_op_lock);
	return err;
}

static void report_busy(struct mount *mp)
{
	mutex_lock(&mp->mnt_vhash_lock);
	printk("vfs: %s (%s) still has %zu vnode(s) in use\n", mp->mnt_path, mp->mnt_ops->name,
	       mp->mnt_nvnodes);
	mutex_unlock(&mp->mnt_vhash_lock);
}

int vfs_shutdown(void)
{
	int err = 0;

	if (!atomic_load(&vfs_initialised))
		return 0;
	vfs_fd_close_all();
	vfs_cwd_set(NULL);
	mutex_lock(&vfs_mount_op_lock);
	while (!list_empty(&vfs_mounts)) {
		struct mount *mp = list_last(&vfs_mounts, struct mount, mnt_link);
		int e = unmount_locked(mp, true);
		if (e) {
			report_busy(mp);
			err = e;
			break;
		}
	}
	mutex_unlock(&vfs_mount_op_lock);
	return err;
}

int vfs_sync_all(void)
{
	int failed = 0;

	if (!atomic_load(&vfs_initialised))
		return 0;
	mutex_lock(&vfs_mount_op_lock);
	list_for_each(it, &vfs_mounts)
	{
		struct mount *mp = list_entry(it, struct mount, mnt_link);
		if (!mp->mnt_ops->sync || (mp->mnt_flags & VFS_MNT_RDONLY))
			continue;
		int e = mp->mnt_ops->sync(mp);
		if (e) {
			printk("vfs: sync of %s (%s) failed: %s\n", mp->mnt_path, mp->mnt_ops->name,
			       vfs_errname(e));
			failed++;
		}
	}
	mutex_unlock(&vfs_mount_op_lock);
	return failed;
}

static char *snap_str(char **pool, const char *str)
{
	char *dst = *pool;
	size_t n = strlen(str) + 1;
	memcpy(dst, str, n);
	*pool += n;
	return dst;
}

int vfs_mount_foreach(int (*fn)(void *arg, const struct vfs_mount_info *mi), void *arg)
{
	if (!atomic_load(&vfs_initialised))
		return 0;
	/* Snapshot the table under the lock, call back without it: fn may
	 * use the VFS (df calls statfs on each mount point). */
	struct vfs_mount_info *snap = NULL;
	size_t n = 0, bytes = 0;
	rwlock_rlock(&vfs_mount_lock);
	list_for_each(it, &vfs_mounts)
	{
		struct mount *mp = list_entry(it, struct mount, mnt_link);
		n++;
		bytes += strlen(mp->mnt_source) + strlen(mp->mnt_path) + strlen(mp->mnt_ops->name) +
			 strlen(mp->mnt_opts) + 4;
	}
	if (n)
		snap = kmalloc(n * sizeof(*snap) + bytes);
	if (snap) {
		char *pool = (char *)(snap + n);
		size_t i = 0;
		list_for_each(it, &vfs_mounts)
		{
			struct mount *mp = list_entry(it, struct mount, mnt_link);
			snap[i++] = (struct vfs_mount_info){
			    .id = mp->mnt_id,
			    .source = snap_str(&pool, mp->mnt_source),
			    .path = snap_str(&pool, mp->mnt_path),
			    .type = snap_str(&pool, mp->mnt_ops->name),
			    .opts = snap_str(&pool, mp->mnt_opts),
			    .flags = mp->mnt_flags,
			};
		}
	}
	rwlock_runlock(&vfs_mount_lock);
	if (n && !snap)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = fn(arg, &snap[i]);
	kfree(snap);
	return r;
}

static int statfs_vnode(struct vnode *vp, struct vfs_statfs *sf)
{
	struct mount *mp = vp->v_mount;
	int err = 0;

	if (!sf)
		return -EINVAL;
	memset(sf, 0, sizeof(*sf));
	if (mp->mnt_ops->statfs)
		err = mp->mnt_ops->statfs(mp, sf);
	if (err)
		return err;
	if (!sf->f_type[0]) {
		strncpy(sf->f_type, mp->mnt_ops->name, VFS_TYPE_MAX - 1);
		sf->f_type[VFS_TYPE_MAX - 1] = '\0';
	}
	if (!sf->f_namemax)
		sf->f_namemax = KARST_NAME_MAX;
	if (!sf->f_bsize)
		sf->f_bsize = PAGE_SIZE;
	sf->f_flags = mp->mnt_flags;
	sf->f_fsid = mp->mnt_id;
	return 0;
}

int vfs_statfs(const char *path, struct vfs_statfs *sf)
{
	struct vfs_nameidata nd;
	int err = vfs_namei(path, VFS_LOOKUP_FOLLOW, &nd);
	if (err)
		return err;
	err = statfs_vnode(nd.vp, sf);
	vfs_nd_release(&nd);
	return err;
}

int vfs_fstatfs_vnode(struct vnode *vp, struct vfs_statfs *sf)
{
	return statfs_vnode(vp, sf);
}
