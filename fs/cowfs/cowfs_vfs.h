/*
 * cowfs as a VFS filesystem: what the vnode ops (cowfs_vnops.c), the
 * mount glue (cowfs_vfsops.c) and the shell commands (cowfs_cmds.c) share.
 */
#ifndef KARST_COWFS_VFS_H
#define KARST_COWFS_VFS_H

#include <karst/kmem.h>
#include <vfs.h>

#include "cowfs.h"
#include "cowfs_pc.h"

/* A GEOM consumer (ctx: struct g_consumer *) as a cowfs device: what a
 * mount reads and writes through (kernel builds). */
extern const struct cowfs_dev_ops cowfs_geom_dev_ops;

/* One mounted pool. */
struct cowfs_mount {
	struct cowfs_pool *pool;
	struct cowfs_dev dev;
	void *cp;	 /* the GEOM consumer (kernel) */
	char source[64]; /* provider name */
	uint64_t txg_ns; /* commit interval */
	/* records read ahead (cowfs_open_opts.prefetch) */
	unsigned prefetch;
	struct thread *syncer;
	struct cowfs_scrub_job *scrub; /* the last `cowfs scrub`, or NULL */
	_Atomic bool stopping;
	struct list_node link;	/* in the list of mounted pools */
	struct cowfs_pcset pcs; /* open regular files (page cache) */
};

extern const struct vnode_ops cowfs_vnops;
int cowfs_vget(struct mount *mp, uint64_t obj, struct vnode **vpp);

/* Mounted pools, for `cowfs status` and /proc (cowfs_vfsops.c). Calls fn
 * for each under the list's lock (fn must not mount or unmount). */
void cowfs_foreach_mount(void (*fn)(void *arg, struct cowfs_mount *cm), void *arg);

#endif
