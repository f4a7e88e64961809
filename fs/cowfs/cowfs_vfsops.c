/*
 * cowfs mounts (kernel builds): the pool's device is a GEOM consumer of the
 * provider named by the mount source (/dev/vtbd0 or vtbd0), reads and
 * writes through g_read_data/g_write_data and flushes with BIO_FLUSH. A
 * thread per mount commits the open transaction group every txg=SECONDS
 * (5 by default); sync, fsync and unmount commit too. Options: txg=N,
 * prefetch=N (records read ahead of a sequential reader, 0 to 64; 32 by
 * default, 0 turns it off: cowfs_prefetch.c).
 * Read-only mounts open the provider read-only and never write (not even
 * repairs).
 *
 * Registers the "cowfs" type with the VFS at INIT_FS; built only with
 * KARST_WITH_COWFS.
 */
#include "cowfs_vfs.h"
#include <errno.h>
#include <geom.h>
#include <karst/format.h>
#include <karst/init.h>
#include <karst/printk.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <stdatomic.h>
#include <string.h>

struct arc *arc_kernel(void);

static struct mutex cowfs_mounts_lock;
static struct list_node cowfs_mounts = {&cowfs_mounts, &cowfs_mounts};

static int gdev_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	return g_read_data(ctx, off, buf, len);
}

static int gdev_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	return g_write_data(ctx, off, buf, len);
}

static int gdev_flush(void *ctx)
{
	return g_flush(ctx);
}

const struct cowfs_dev_ops cowfs_geom_dev_ops = {
    .read = gdev_read,
    .write = gdev_write,
    .flush = gdev_flush,
};

static void cowfs_syncer(void *arg)
{
	struct cowfs_mount *cm = arg;
	while (!atomic_load(&cm->stopping)) {
		uint64_t slept = 0;
		while (slept < cm->txg_ns && !atomic_load(&cm->stopping)) {
			thread_sleep_ns(100 * NSEC_PER_MSEC);
			slept += 100 * NSEC_PER_MSEC;
		}
		if (!atomic_load(&cm->stopping)) {
			/* Cached writes join the group first; a page that
			 * cannot be written stays dirty and fsync reports it. */
			(void)cowfs_pcset_flush(&cm->pcs);
			(void)cowfs_sync(cm->pool);
		}
	}
	thread_exit();
}

/* The largest prefetch= a mount takes (records ahead of the reader). */
#define COWFS_PF_MAX 64

/* A plain decimal count in [lo, hi]: no K/M/G suffix (txg=1K is not 1024
 * seconds), no sign, nothing after the digits. */
static bool parse_count(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *v)
{
	return n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9' && kparse_size(s, n, v) == 0 &&
	       *v >= lo && *v <= hi;
}

static int parse_options(struct cowfs_mount *cm, const char *data)
{
	cm->txg_ns = 5 * NSEC_PER_SEC;
	cm->prefetch = COWFS_PF_DEFAULT;
	while (data && *data) {
		size_t n = strcspn(data, ",");
		uint64_t v;
		if (n >= 4 && !strncmp(data, "txg=", 4)) {
			if (!parse_count(data + 4, n - 4, 1, 3600, &v)) {
				printk("cowfs: bad option '%.*s': txg= takes seconds, 1 to 3600\n",
				       (int)n, data);
				return -EINVAL;
			}
			cm->txg_ns = v * NSEC_PER_SEC;
		} else if (n >= 9 && !strncmp(data, "prefetch=", 9)) {
			if (!parse_count(data + 9, n - 9, 0, COWFS_PF_MAX, &v)) {
				printk(
				    "cowfs: bad option '%.*s': prefetch= takes records, 0 to %u\n",
				    (int)n, data, COWFS_PF_MAX);
				return -EINVAL;
			}
			cm->prefetch = (unsigned)v;
		} else if (n > 0) {
			printk("cowfs: unknown option '%.*s' (known: txg=SECONDS, prefetch=N)\n",
			       (int)n, data);
			return -EINVAL;
		}
		data += n;
		if (*data == ',')
			data++;
	}
	return 0;
}

static int cowfs_mount(struct mount *mp, const char *source, const char *data)
{
	if (!source || !*source)
		return -EINVAL;
	if (!arc_kernel()) {
		printk("cowfs: no ARC\n");
		return -ENOMEM;
	}
	struct cowfs_mount *cm = kzalloc(sizeof(*cm));
	if (!cm)
		return -ENOMEM;
	int err = parse_options(cm, data);
	if (err) {
		kfree(cm);
		return err;
	}
	const char *name = !strncmp(source, "/dev/", 5) ? source + 5 : source;
	strncpy(cm->source, name, sizeof(cm->source) - 1);
	bool ro = mp->mnt_flags & VFS_MNT_RDONLY;
	struct g_consumer *cp;
	err = g_open(name, 1, ro ? 0 : 1, 1, NULL, NULL, &cp);
	if (err) {
		printk("cowfs: cannot open %s: %s\n", source,
		       err == -ENOENT ? "no such device" : vfs_errname(err));
		kfree(cm);
		return err == -ENOENT ? -ENXIO : err;
	}
	cm->cp = cp;
	cm->dev.ops = &cowfs_geom_dev_ops;
	cm->dev.ctx = cp;
	cm->dev.size = cp->provider->mediasize;
	cowfs_pcset_init(&cm->pcs);
	err = cowfs_pc_register();
	if (err) {
		g_close(cp);
		kfree(cm);
		return err;
	}
	char why[128];
	struct cowfs_open_opts oo = {.rdonly = ro, .arc = arc_kernel(), .prefetch = cm->prefetch};
	err = cowfs_open(&cm->dev, &oo, &cm->pool, why, sizeof(why));
	if (err) {
		printk("cowfs: %s: %s\n", source, why);
		g_close(cp);
		kfree(cm);
		return err == -ENOENT ? -EINVAL : err;
	}
	mp->mnt_data = cm;
	if (!ro) {
		cm->syncer = thread_create("cowfs_sync", cowfs_syncer, cm, THREAD_PRIO_DEFAULT);
		if (!cm->syncer) {
			cowfs_close(cm->pool);
			g_close(cp);
			kfree(cm);
			mp->mnt_data = NULL;
			return -ENOMEM;
		}
	}
	mutex_lock(&cowfs_mounts_lock);
	list_add_tail(&cowfs_mounts, &cm->link);
	mutex_unlock(&cowfs_mounts_lock);
	return 0;
}

static int cowfs_unmount(struct mount *mp)
{
	struct cowfs_mount *cm = mp->mnt_data;
	mutex_lock(&cowfs_mounts_lock);
	list_del(&cm->link);
	mutex_unlock(&cowfs_mounts_lock);
	if (cm->syncer) {
		atomic_store(&cm->stopping, true);
		thread_join(cm->syncer);
	}
	if (cm->scrub)
		cowfs_scrub_stop(cm->scrub);
	/* Every vnode is gone (the VFS checked the mount is not busy), so
	 * their pages were written back when they were reclaimed. */
	int err = cowfs_pcset_flush(&cm->pcs);
	if (err)
		printk("cowfs: %s: cached writes lost at unmount (%d)\n", cm->source, err);
	err = cowfs_close(cm->pool);
	if (err)
		printk("cowfs: %s: last commit failed (%d)\n", cm->source, err);
	g_close(cm->cp);
	kfree(cm);
	mp->mnt_data = NULL;
	return 0;
}

static int cowfs_root(struct mount *mp, struct vnode **vpp)
{
	int err = cowfs_vget(mp, COWFS_ROOT_OBJ, vpp);
	if (!err)
		(*vpp)->v_flags |= VV_ROOT;
	return err;
}

static int cowfs_statfs(struct mount *mp, struct vfs_statfs *sf)
{
	struct cowfs_mount *cm = mp->mnt_data;
	struct cowfs_pool_info pi;
	cowfs_pool_info(cm->pool, &pi);
	sf->f_bsize = 4096;
	sf->f_blocks = pi.data_bytes / 4096;
	sf->f_bfree = sf->f_bavail = pi.free_bytes / 4096;
	sf->f_files = pi.nobjects;
	sf->f_ffree = COWFS_MAX_OBJECTS - pi.nobjects;
	sf->f_namemax = COWFS_NAME_MAX;
	return 0;
}

static int cowfs_vfs_sync(struct mount *mp)
{
	struct cowfs_mount *cm = mp->mnt_data;
	int err = cowfs_pcset_flush(&cm->pcs);
	int e2 = cowfs_sync(cm->pool);
	return err ? err : e2;
}

void cowfs_foreach_mount(void (*fn)(void *arg, struct cowfs_mount *cm), void *arg)
{
	mutex_lock(&cowfs_mounts_lock);
	list_for_each(it, &cowfs_mounts) fn(arg, list_entry(it, struct cowfs_mount, link));
	mutex_unlock(&cowfs_mounts_lock);
}

static struct vfsops cowfs_vfsops = {
    .name = "cowfs",
    .mount = cowfs_mount,
    .unmount = cowfs_unmount,
    .root = cowfs_root,
    .statfs = cowfs_statfs,
    .sync = cowfs_vfs_sync,
};

static int cowfs_register(void)
{
	mutex_init(&cowfs_mounts_lock, "cowfs_mounts");
	return vfs_register(&cowfs_vfsops);
}
KARST_INIT(INIT_FS, cowfs_register);
