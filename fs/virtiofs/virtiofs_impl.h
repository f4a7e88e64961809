/*
 * virtiofs filesystem internals (shared by virtiofs_vfsops.c and
 * virtiofs_vnops.c).
 *
 * A vnode's v_data is a struct vfsn: the host's node id, how many lookups
 * the host has counted for it (sent back with FORGET when the vnode is
 * reclaimed), and its attributes with their expiry time. The vnode hash
 * is keyed by node id (unique on the host while looked up); st_ino is the
 * host's inode number.
 *
 * Locking: vfsn.lock (a mutex, after the VFS's v_lock and mnt_ns_lock)
 * guards the attributes and the node's directory handle; nlookup is
 * atomic (two lookups of one name may run at once under a shared
 * mnt_ns_lock).
 */
#ifndef KARST_VIRTIOFS_IMPL_H
#define KARST_VIRTIOFS_IMPL_H

#include "virtiofs.h"
#include <pagecache.h>
#include <vfs.h>

struct vfsm {
	struct virtiofs_conn *conn;
};

struct vfsn {
	uint64_t nodeid;
	struct virtiofs_conn *conn;
	_Atomic uint64_t nlookup;
	struct mutex lock;
	struct fuse_attr attr;
	uint64_t attr_expire; /* time_ns after which attr must be fetched again */
	bool dir_open;	      /* dir_fh is an OPENDIR handle, released at reclaim */
	uint64_t dir_fh;
	/* The last READDIR(PLUS) reply while a listing is under way. */
	void *dbuf;
	uint32_t dlen;
	uint64_t dstart;  /* the offset it was fetched at */
	uint64_t dcookie; /* where the last call stopped ... */
	uint32_t dpos;	  /* ... and the entry after it in dbuf */
	bool dplus;
	/* Regular files: the page cache's object (mmap), and the FUSE handle
	 * its pages are read with, opened by the first mmap (map_open). */
	bool pc_ready;
	bool pages_stale; /* changed on the host: drop the pages (n->lock) */
	_Atomic bool map_open;
	uint64_t map_fh;
	struct pc_object pc;
};

#define VFSN_DIRBUF (64u * 1024) /* bytes asked per READDIR(PLUS) */

/* An open regular file's handle (the open file's fpriv). */
struct vfsf {
	uint64_t fh;
};

extern const struct vnode_ops virtiofs_vnops;
/* The page-cache owner of every virtio-fs file (virtiofs_pc.c),
 * registered by the first mount. */
extern struct pc_owner virtiofs_pc_owner;

static inline struct vfsm *vfsm_of(struct mount *mp)
{
	return mp->mnt_data;
}

/* Make or find the vnode for a looked-up entry (counts one host lookup). */
int virtiofs_vget(struct mount *mp, const struct fuse_entry_out *eo, struct vnode **vpp);
/* Seconds + nanoseconds from now, as time_ns, saturating. */
uint64_t virtiofs_expiry(uint64_t sec, uint32_t nsec);

#endif
