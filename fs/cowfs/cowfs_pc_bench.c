/*
 * `bench cowfs_read`: read() of an 8 MiB cowfs file (incompressible
 * bytes) on a memory disk, MB/s, for 1 MiB and 4 KiB reads. Before: the
 * pool's own read path (cowfs_read: ARC lookups and a copy per call, what
 * read() did before the page cache; an upper bound, without its bounce
 * buffer), cold (fresh mount) and warm. After: read() as it is now
 * (spans of held ARC buffers, pages only where cached), cold (fresh
 * mount), its first pass on a warm ARC, and warm. A benchmark, not a
 * test.
 */
#include "cowfs_impl.h"
#include "cowfs_pc.h"
#include "cowfs_vfs.h"

#include <geom.h>
#include <karst/bench.h>
#include <karst/time.h>
#include <string.h>

#define CB_MD	"cwbench"
#define CB_DIR	"/cwbench"
#define CB_FILE "/cwbench/f"
#define CB_SIZE ((size_t)8 << 20)

static int cb_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	return g_read_data(ctx, off, buf, len);
}
static int cb_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	return g_write_data(ctx, off, buf, len);
}
static int cb_flush(void *ctx)
{
	return g_flush(ctx);
}
static const struct cowfs_dev_ops cb_ops = {cb_read, cb_write, cb_flush};

static uint64_t cb_mbps(uint64_t bytes, uint64_t ns)
{
	return ns ? bytes * 1000 / ns : 0;
}

static int cb_setup(void)
{
	int err = g_md_create(CB_MD, 64 << 20, 512, NULL, 0);
	if (err)
		return err;
	g_waitidle();
	struct g_consumer *cp;
	err = g_open(CB_MD, 1, 1, 1, NULL, NULL, &cp);
	if (err)
		return err;
	struct cowfs_dev dev = {&cb_ops, cp, 64 << 20};
	struct cowfs_mkfs_opts o = {.comp = COWFS_COMP_OFF, .time = 1};
	char why[96];
	err = cowfs_mkfs(&dev, &o, why, sizeof(why));
	g_close(cp);
	if (err)
		return err;
	vfs_mkdir(CB_DIR, 0755);
	err = vfs_mount("/dev/" CB_MD, CB_DIR, "cowfs", 0, NULL);
	if (err)
		return err;
	int fd = vfs_open(CB_FILE, O_CREAT | O_RDWR, 0644);
	if (fd < 0)
		return fd;
	char *buf = kmalloc(1 << 20);
	if (!buf)
		return -12;
	/* Incompressible bytes: the ARC (compress on) keeps them plain, so
	 * what is measured is the cache, not lz4. */
	uint32_t x = 12345;
	for (size_t i = 0; i < (1u << 20); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)(x >> 16);
	}
	for (size_t off = 0; off < CB_SIZE; off += 1 << 20)
		vfs_write(fd, buf, 1 << 20);
	kfree(buf);
	vfs_fsync(fd);
	vfs_close(fd);
	return vfs_umount(CB_DIR);
}

static uint64_t cb_pass(int fd, char *buf, size_t rs)
{
	uint64_t t0 = time_ns();
	for (size_t off = 0; off < CB_SIZE; off += rs)
		vfs_pread(fd, buf, rs, (int64_t)off);
	return time_ns() - t0;
}

static uint64_t cb_core(struct cowfs_pool *p, uint64_t obj, char *buf, size_t rs)
{
	uint64_t t0 = time_ns();
	for (size_t off = 0; off < CB_SIZE; off += rs)
		cowfs_read(p, obj, off, buf, rs);
	return time_ns() - t0;
}

struct cb_find {
	struct cowfs_pool *pool;
};
static void cb_find_pool(void *arg, struct cowfs_mount *cm)
{
	struct cb_find *f = arg;
	if (!strcmp(cm->source, CB_MD))
		f->pool = cm->pool;
}

static void bench_cowfs_read(void)
{
	int err = cb_setup();
	if (err) {
		printk("cowfs_read: cannot set up the disk (%d)\n", err);
		goto out;
	}
	char *buf = kmalloc(1 << 20);
	static const size_t sizes[] = {1 << 20, 4096};
	for (int s = 0; s < 2 && buf; s++) {
		size_t rs = sizes[s];
		if (vfs_mount("/dev/" CB_MD, CB_DIR, "cowfs", 0, NULL))
			break;
		int fd = vfs_open(CB_FILE, O_RDONLY, 0);
		struct cb_find f = {0};
		cowfs_foreach_mount(cb_find_pool, &f);
		struct vfs_stat st;
		if (fd < 0 || !f.pool || vfs_stat(CB_FILE, &st)) {
			printk("cowfs_read: cannot open the file\n");
			if (fd >= 0)
				vfs_close(fd);
			vfs_umount(CB_DIR);
			break;
		}
		/* 1. The pool's own path (what read() did before the page
		 * cache: ARC lookups and a copy per call), cold ARC then warm. */
		uint64_t pool_cold = cb_core(f.pool, st.st_ino, buf, rs);
		uint64_t pool_warm = UINT64_MAX;
		for (int pass = 0; pass < 3; pass++) {
			uint64_t t = cb_core(f.pool, st.st_ino, buf, rs);
			pool_warm = t < pool_warm ? t : pool_warm;
		}
		/* 2. read() on that warm ARC: spans of held ARC buffers (no
		 * page made; pages are made only where a mapping or a write
		 * asked). */
		struct cowfs_pc_stats s0, s1;
		cowfs_pc_stats_get(&s0);
		uint64_t fill = cb_pass(fd, buf, rs);
		cowfs_pc_stats_get(&s1);
		vfs_close(fd);
		vfs_umount(CB_DIR);
		/* 3. read() on a fresh mount (cold ARC, as the pool path's
		 * cold pass had), then warm. */
		uint64_t cold = 0, warm = 0;
		if (vfs_mount("/dev/" CB_MD, CB_DIR, "cowfs", 0, NULL) == 0) {
			fd = vfs_open(CB_FILE, O_RDONLY, 0);
			cold = cb_pass(fd, buf, rs);
			warm = UINT64_MAX;
			for (int pass = 0; pass < 3; pass++) {
				uint64_t t = cb_pass(fd, buf, rs);
				warm = t < warm ? t : warm;
			}
			vfs_close(fd);
			vfs_umount(CB_DIR);
		}
		printk("cowfs_read: %7lu-byte reads, 8 MiB file: pool path (before) cold %5lu, "
		       "warm %5lu MB/s; read(): cold %5lu, first pass on a "
		       "warm ARC %5lu (%lu spans, %lu pages lent, %lu filled), warm %5lu MB/s\n",
		       (unsigned long)rs, (unsigned long)cb_mbps(CB_SIZE, pool_cold),
		       (unsigned long)cb_mbps(CB_SIZE, pool_warm),
		       (unsigned long)cb_mbps(CB_SIZE, cold), (unsigned long)cb_mbps(CB_SIZE, fill),
		       (unsigned long)(s1.spans - s0.spans), (unsigned long)(s1.lends - s0.lends),
		       (unsigned long)(s1.fills - s0.fills), (unsigned long)cb_mbps(CB_SIZE, warm));
	}
	kfree(buf);
out:
	g_md_destroy(CB_MD, false);
}

KARST_BENCH("cowfs_read", bench_cowfs_read,
	    "cowfs: read() MB/s of a file on a memory disk, cold and warm (page cache)");
