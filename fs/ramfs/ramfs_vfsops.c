/*
 * ramfs as a filesystem type: mount options, root, statfs, unmount, and
 * registration with the VFS.
 *
 * Mount data is a comma-separated option list; the only option is
 * "size=N" with an optional K/M/G/T suffix (bytes of file data, rounded up to
 * pages). An unknown option or a bad size fails the mount with EINVAL. A
 * mount without a size has no limit; statfs then reports the pages in use
 * as its size, none free.
 */
#include "ramfs_impl.h"

#include <karst/format.h>
#include <karst/init.h>
#include <stdlib.h>
#include <string.h>

/* size=N[KMGT]: at least one byte, at most half the address space. */
static int parse_size(const char *s, size_t len, uint64_t *out)
{
	if (kparse_size(s, len, out) != 0 || *out == 0 || *out > UINT64_MAX >> 1)
		return -EINVAL;
	return 0;
}

static int parse_options(struct ramfs_mount *rm, const char *data)
{
	while (data && *data) {
		size_t n = strcspn(data, ",");
		uint64_t bytes;
		if (n > 5 && !strncmp(data, "size=", 5)) {
			if (parse_size(data + 5, n - 5, &bytes)) {
				printk("ramfs: bad size in '%.*s'\n", (int)n, data);
				return -EINVAL;
			}
			rm->max_pages = DIV_ROUND_UP(bytes, PAGE_SIZE);
		} else if (n > 0) {
			printk("ramfs: unknown option '%.*s'\n", (int)n, data);
			return -EINVAL;
		}
		data += n;
		if (*data == ',')
			data++;
	}
	return 0;
}

static int ramfs_mount(struct mount *mp, const char *source, const char *data)
{
	struct ramfs_mount *rm = kzalloc(sizeof(*rm));
	if (!rm)
		return -ENOMEM;
	spin_lock_init(&rm->lock, "ramfs_mount");
	atomic_init(&rm->next_ino, 2); /* the root is inode 2, as on most Unix filesystems */
	int err = parse_options(rm, data);
	if (!err) {
		rm->root = ramfs_node_new(rm, S_IFDIR | 0755);
		if (!rm->root)
			err = -ENOMEM;
	}
	if (err) {
		kfree(rm);
		return err;
	}
	mp->mnt_data = rm;
	return 0;
}

static int ramfs_unmount(struct mount *mp)
{
	struct ramfs_mount *rm = mp->mnt_data;
	ramfs_free_tree(rm);
	KASSERT_MSG(rm->nnodes == 0 && rm->used_pages == 0, "ramfs: %llu nodes, %llu pages leak",
		    (unsigned long long)rm->nnodes, (unsigned long long)rm->used_pages);
	kfree(rm);
	mp->mnt_data = NULL;
	return 0;
}

static int ramfs_root(struct mount *mp, struct vnode **vpp)
{
	struct ramfs_mount *rm = mp->mnt_data;
	return ramfs_vget(mp, rm->root, vpp);
}

static int ramfs_statfs(struct mount *mp, struct vfs_statfs *sf)
{
	struct ramfs_mount *rm = mp->mnt_data;

	spin_lock(&rm->lock);
	sf->f_bsize = PAGE_SIZE;
	if (rm->max_pages) {
		sf->f_blocks = rm->max_pages;
		sf->f_bfree = sf->f_bavail = rm->max_pages - rm->used_pages;
	} else {
		sf->f_blocks = rm->used_pages;
	}
	sf->f_files = rm->nnodes;
	spin_unlock(&rm->lock);
	return 0;
}

static struct vfsops ramfs_vfsops = {
    .name = "ramfs",
    .mount = ramfs_mount,
    .unmount = ramfs_unmount,
    .root = ramfs_root,
    .statfs = ramfs_statfs,
};

int ramfs_register(void)
{
	int e = pc_owner_register(&ramfs_pc_owner);
	return e ? e : vfs_register(&ramfs_vfsops);
}
KARST_INIT(INIT_FS, ramfs_register);
