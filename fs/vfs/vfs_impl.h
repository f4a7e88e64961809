/*
 * VFS internals shared by the files of fs/vfs; not for filesystems or
 * callers (they use vfs.h).
 *
 * The VFS's own locks, in the order they may be taken:
 *   vfs_mount_op_lock (mutex)        whole mount/umount/remount operations
 *   f_lock (mutex per open file)     the file's offset; never two at once
 *   mnt_ns_lock, v_lock              see vfs.h; at most one of each
 *   fs-internal locks, vfs_ptree lock
 *   mnt_vhash_lock (mutex per mount) the mount's vnode hash, v_doomed
 *   vfs_nc_lock (spinlock)           the name cache
 *   vfs_fd_lock (spinlock)           the descriptor table
 *   vfs_cwd_lock (spinlock)          the root and cwd vnodes
 *   vfs_types_lock (mutex)           registered filesystem types
 * vfs_mount_lock (rwlock) guards the mount table, every v_mountedhere and
 * the root/covered links; it is taken with no VFS lock held (besides
 * vfs_mount_op_lock) and only mnt_vhash_lock is taken under it. The last
 * four are leaves, and vnode_rele() is never called under any spinlock,
 * mnt_vhash_lock or vfs_mount_lock (it may reclaim).
 */
#ifndef KARST_VFS_IMPL_H
#define KARST_VFS_IMPL_H

#include "vfs.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>

extern struct rwlock vfs_mount_lock;
extern struct mount *vfs_rootmnt; /* NULL before the root is mounted */

/* ---- open files (vfs_file.c) ---- */
struct vfs_file {
	_Atomic int f_refs; /* descriptors + calls in progress */
	struct vnode *f_vp; /* referenced */
	int f_flags;	    /* open flags */
	int64_t f_offset;   /* f_lock */
	struct mutex f_lock;
	void *f_priv; /* from vop open */
};

/* ---- path lookup (vfs_lookup.c) ---- */
#define VFS_LOOKUP_FOLLOW 0x1 /* follow a symlink in the last component */
#define VFS_LOOKUP_PARENT 0x2 /* return the parent and the last name too */

struct vfs_nameidata {
	/* results, all references owned by the nameidata (vfs_nd_release) */
	struct vnode *dvp;   /* PARENT: directory holding the last name (NULL for "/") */
	struct vnode *vp;    /* what the path designates, or NULL (PARENT only) */
	bool trailing_slash; /* the path ended with '/' */
	bool dotdot_last;    /* PARENT: the last component was "." or ".." (or path "/") */
	char name[KARST_NAME_MAX + 1]; /* PARENT: the last component */
};

int vfs_namei(const char *path, int flags, struct vfs_nameidata *nd);
void vfs_nd_release(struct vfs_nameidata *nd);
/* Look `name` up in dvp (a directory, referenced by the caller): ".",
 * "..", the name cache, the fs, then mount points. */
int vfs_lookup_one(struct vnode *dvp, const char *name, struct vnode **vpp);
/* Check a path string: -ENOENT when empty, -ENAMETOOLONG when too long. */
int vfs_path_check(const char *path);
/* Owner-bit permission check: want is a mask of S_IRUSR/S_IWUSR/S_IXUSR. */
int vfs_access(struct vnode *vp, uint32_t want);
/* The root and the cwd, referenced. */
struct vnode *vfs_root_vnode(void);
struct vnode *vfs_cwd_vnode(void);
void vfs_cwd_set(struct vnode *vp); /* takes over the reference */
/* Set the root (vfs_mount/umount of the root mount); takes a reference. */
void vfs_root_set(struct vnode *vp);
void vfs_cwd_init(void);
/* Canonical absolute path of a directory vnode into buf. */
int vfs_vnode_path(struct vnode *vp, char *buf, size_t len);

/* ---- mounts (vfs_mount.c) ---- */
static inline bool vfs_mnt_rdonly(const struct mount *mp)
{
	return (__atomic_load_n(&mp->mnt_flags, __ATOMIC_SEQ_CST) & VFS_MNT_RDONLY) != 0;
}
bool vfs_root_mounted(void);
/* If vp has a mount on it, replace it with the mounted root (rele vp). */
struct vnode *vfs_cross_mounts(struct vnode *vp);
/* The vnode a ".." from the root of vp's mount starts from: the covered
 * vnode (referenced), or NULL when vp is not a mount root. */
struct vnode *vfs_covered_of_root(struct vnode *vp);

int vfs_fstatfs_vnode(struct vnode *vp, struct vfs_statfs *sf);

/* ---- descriptors (vfs_file.c) ---- */
void vfs_fd_init(void);
int vfs_fd_close_all(void);

/* ---- vnodes (vfs_vnode.c) ---- */
int vfs_vhash_init(struct mount *mp);
void vfs_vhash_destroy(struct mount *mp);
/* vnodes of mp referenced by anyone other than `root_refs` on the root */
bool vfs_mount_busy(struct mount *mp);

/* ---- name cache (vfs_namecache.c) ---- */
void vfs_nc_init(void);
/* 1: positive hit (*vpp referenced), 0: negative hit, -1: miss */
int vfs_nc_lookup(struct vnode *dvp, const char *name, struct vnode **vpp);
void vfs_nc_enter(struct vnode *dvp, const char *name, struct vnode *vp);
void vfs_nc_remove(struct vnode *dvp, const char *name);
void vfs_nc_purge_dir(struct vnode *dvp);
void vfs_nc_purge_mount(struct mount *mp);

/* ---- small helpers (vfs_uio.c) ---- */
char *vfs_strdup(const char *s);
bool vfs_name_is_dot(const char *name); /* "." or ".." */

static inline void vfs_vlock_shared(struct vnode *vp)
{
	rwlock_rlock(&vp->v_lock);
}
static inline void vfs_vunlock_shared(struct vnode *vp)
{
	rwlock_runlock(&vp->v_lock);
}
static inline void vfs_vlock_excl(struct vnode *vp)
{
	rwlock_wlock(&vp->v_lock);
}
static inline void vfs_vunlock_excl(struct vnode *vp)
{
	rwlock_wunlock(&vp->v_lock);
}

/* vop getattr under a shared v_lock, with st_dev filled in */
int vfs_getattr_locked(struct vnode *vp, struct vfs_stat *st);

#endif
