/*
 * Vnodes: allocation, reference counts and the per-mount vnode hash.
 *
 * A vnode is the VFS's handle on one file of one mount. Filesystems never
 * allocate vnodes themselves: their lookup/create ops call vfs_vnode_get()
 * with the inode number, which returns the mount's existing vnode for that
 * inode or makes one, so there is at most one vnode per file.
 *
 * Lifetime: v_refs counts holders (open files, the cwd, name-cache entries,
 * calls in progress, a mount's root and covered vnode). The last
 * vnode_rele() marks the vnode doomed under the hash lock, runs the fs's
 * reclaim without locks, then unhashes and frees it. A vfs_vnode_get()
 * that finds a doomed vnode waits for that to finish and makes a new one, so
 * a filesystem never sees two live vnodes for one inode and reclaim runs
 * strictly after the vnode can no longer be found.
 *
 * Locks: mnt_vhash_lock (a mutex, with mnt_vhash_cv for doomed waits)
 * guards the hash chains, v_doomed and transitions of v_refs to and from
 * zero; other reference changes are atomic.
 */
#include "vfs_impl.h"

#include <string.h>

#define VFS_VHASH_SIZE 256

static struct list_node *vhash_chain(struct mount *mp, uint64_t ino)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ULL;
	return &mp->mnt_vhash[(h >> 32) & (VFS_VHASH_SIZE - 1)];
}

int vfs_vhash_init(struct mount *mp)
{
	mp->mnt_vhash = kcalloc(VFS_VHASH_SIZE, sizeof(struct list_node));
	if (!mp->mnt_vhash)
		return -ENOMEM;
	for (int i = 0; i < VFS_VHASH_SIZE; i++)
		list_init(&mp->mnt_vhash[i]);
	mutex_init(&mp->mnt_vhash_lock, "vfs_vhash");
	cv_init(&mp->mnt_vhash_cv);
	mp->mnt_nvnodes = 0;
	return 0;
}

void vfs_vhash_destroy(struct mount *mp)
{
	KASSERT(mp->mnt_nvnodes == 0);
	cv_destroy(&mp->mnt_vhash_cv);
	mutex_destroy(&mp->mnt_vhash_lock);
	kfree(mp->mnt_vhash);
	mp->mnt_vhash = NULL;
}

enum vtype vfs_mode_to_vtype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return VREG;
	case S_IFDIR:
		return VDIR;
	case S_IFLNK:
		return VLNK;
	case S_IFCHR:
		return VCHR;
	case S_IFBLK:
		return VBLK;
	default:
		return VNON;
	}
}

uint8_t vfs_mode_to_dtype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return DT_REG;
	case S_IFDIR:
		return DT_DIR;
	case S_IFLNK:
		return DT_LNK;
	case S_IFCHR:
		return DT_CHR;
	case S_IFBLK:
		return DT_BLK;
	default:
		return DT_UNKNOWN;
	}
}

int vfs_vnode_get(struct mount *mp, uint64_t ino, uint32_t mode, const struct vnode_ops *ops,
		  void *data, struct vnode **vpp, bool *created)
{
	struct list_node *chain = vhash_chain(mp, ino);
	struct vnode *nvp = NULL;

	mutex_lock(&mp->mnt_vhash_lock);
again:
	list_for_each(it, chain)
	{
		struct vnode *vp = list_entry(it, struct vnode, v_hash);
		if (vp->v_ino != ino)
			continue;
		if (vp->v_doomed) {
			cv_wait(&mp->mnt_vhash_cv, &mp->mnt_vhash_lock);
			goto again;
		}
		atomic_fetch_add(&vp->v_refs, 1);
		mutex_unlock(&mp->mnt_vhash_lock);
		if (nvp) {
			rwlock_destroy(&nvp->v_lock);
			kfree(nvp);
		}
		*vpp = vp;
		if (created)
			*created = false;
		return 0;
	}
	if (!nvp) {
		/* Allocate outside the lock, then look again. */
		mutex_unlock(&mp->mnt_vhash_lock);
		nvp = kzalloc(sizeof(*nvp));
		if (!nvp)
			return -ENOMEM;
		nvp->v_mount = mp;
		nvp->v_ops = ops;
		nvp->v_type = vfs_mode_to_vtype(mode);
		atomic_init(&nvp->v_mode, mode);
		nvp->v_ino = ino;
		atomic_init(&nvp->v_refs, 1);
		nvp->v_data = data;
		rwlock_init(&nvp->v_lock, "vnode");
		list_init(&nvp->v_hash);
		list_init(&nvp->v_ncsrc);
		mutex_lock(&mp->mnt_vhash_lock);
		goto again;
	}
	list_add(chain, &nvp->v_hash);
	mp->mnt_nvnodes++;
	mutex_unlock(&mp->mnt_vhash_lock);
	*vpp = nvp;
	if (created)
		*created = true;
	return 0;
}

void vnode_ref(struct vnode *vp)
{
	int old = atomic_fetch_add(&vp->v_refs, 1);
	KASSERT_MSG(old > 0, "vnode_ref of an unreferenced vnode (ino %llu)",
		    (unsigned long long)vp->v_ino);
	(void)old;
}

void vnode_rele(struct vnode *vp)
{
	struct mount *mp = vp->v_mount;
	int old = atomic_load(&vp->v_refs);

	/* Fast path: not the last reference. */
	while (old > 1) {
		if (atomic_compare_exchange_weak(&vp->v_refs, &old, old - 1))
			return;
	}
	mutex_lock(&mp->mnt_vhash_lock);
	old = atomic_fetch_sub(&vp->v_refs, 1);
	KASSERT_MSG(old >= 1, "vnode_rele underflow (ino %llu)", (unsigned long long)vp->v_ino);
	if (old > 1) {
		mutex_unlock(&mp->mnt_vhash_lock);
		return;
	}
	vp->v_doomed = true;
	mutex_unlock(&mp->mnt_vhash_lock);

	vfs_nc_purge_dir(vp);
	if (vp->v_ops->reclaim)
		vp->v_ops->reclaim(vp);

	mutex_lock(&mp->mnt_vhash_lock);
	list_del(&vp->v_hash);
	mp->mnt_nvnodes--;
	cv_broadcast(&mp->mnt_vhash_cv);
	mutex_unlock(&mp->mnt_vhash_lock);
	rwlock_destroy(&vp->v_lock);
	kfree(vp);
}

void vnode_set_mode(struct vnode *vp, uint32_t mode)
{
	atomic_store_explicit(&vp->v_mode, mode, memory_order_relaxed);
}

bool vfs_mount_busy(struct mount *mp)
{
	bool busy;

	mutex_lock(&mp->mnt_vhash_lock);
	busy = mp->mnt_nvnodes != 1 || atomic_load(&mp->mnt_root->v_refs) != 1;
	mutex_unlock(&mp->mnt_vhash_lock);
	return busy;
}
