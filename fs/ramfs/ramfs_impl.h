/*
 * ramfs internals.
 *
 * Locks: directory contents (entries, dir.parent) are protected by the
 * VFS's mnt_ns_lock, which the VFS holds around every namespace op; file
 * data (the page tree) by the vnode's v_lock, held by the VFS around read,
 * write and setattr; attributes (mode, nlink, size, times) by the node's
 * own attr spinlock as well, since namespace ops change nlink and times
 * without v_lock. rm->lock guards the space accounting. attr and rm->lock
 * are leaves and never nest.
 */
#ifndef KARST_RAMFS_IMPL_H
#define KARST_RAMFS_IMPL_H

#include "ramfs.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/time.h>
#include <pagecache.h>
#include <vfs.h>

struct ramfs_mount {
	struct spinlock lock;
	uint64_t max_pages; /* 0: no limit */
	uint64_t used_pages;
	uint64_t nnodes;
	_Atomic uint64_t next_ino;
	struct ramfs_node *root;
};

struct ramfs_dirent {
	struct ramfs_dirent *hnext; /* hash chain */
	struct list_node order;	    /* readdir order, cookies ascending */
	uint64_t cookie;
	struct ramfs_node *node;
	uint32_t hash;
	uint16_t namelen;
	char name[];
};

struct ramfs_node {
	uint64_t ino;
	struct ramfs_mount *rm;
	struct spinlock attr;
	uint32_t mode;
	uint32_t nlink;
	uint64_t size;
	uint64_t atime, mtime, ctime;
	struct list_node tlink; /* unmount's work list */
	union {
		struct {
			struct ramfs_dirent **buckets;
			uint32_t nbuckets, count;
			struct list_node order;
			uint64_t next_cookie;
			struct ramfs_node *parent; /* NULL once removed */
		} dir;
		struct {
			struct pc_object pc; /* the data: see ramfs_data.c */
		} file;
		struct {
			char *target;
		} lnk;
	};
};

extern const struct vnode_ops ramfs_vnops;

static inline struct ramfs_node *ramfs_node(struct vnode *vp)
{
	return (struct ramfs_node *)vp->v_data;
}

/* nodes (ramfs_node.c) */
struct ramfs_node *ramfs_node_new(struct ramfs_mount *rm, uint32_t mode);
void ramfs_node_free(struct ramfs_node *n);
void ramfs_touch(struct ramfs_node *n, bool m, bool c);
int ramfs_vget(struct mount *mp, struct ramfs_node *n, struct vnode **vpp);
struct ramfs_dirent *ramfs_dir_find(struct ramfs_node *d, const char *name);
int ramfs_dir_add(struct ramfs_node *d, const char *name, struct ramfs_node *n);
void ramfs_dir_remove(struct ramfs_node *d, struct ramfs_dirent *e);
void ramfs_free_tree(struct ramfs_mount *rm);

/* file data (ramfs_data.c) */
extern struct pc_owner ramfs_pc_owner;
int ramfs_data_init(struct ramfs_node *n);
uint64_t ramfs_data_pages(struct ramfs_node *n);
int ramfs_data_read(struct ramfs_node *n, struct uio *uio);
int ramfs_data_write(struct ramfs_node *n, struct uio *uio);
int ramfs_data_truncate(struct ramfs_node *n, uint64_t size);
void ramfs_data_free(struct ramfs_node *n);

#endif
