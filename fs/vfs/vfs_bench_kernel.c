/*
 * `bench vfs` (kernel builds only): path lookups per second with the name
 * cache warm and purged before every lookup, and small files created,
 * written and closed per second, on the root ramfs.
 */
#include <karst/bench.h>
#include <karst/printk.h>
#include <karst/time.h>
#include <vfs.h>

#define BENCH_DIR "/vfsbench/a/b/c/d/e"

static void per_second(const char *what, uint64_t n, uint64_t ns)
{
	printk("%-28s %8lu /s (%lu in %lu ms)\n", what,
	       (unsigned long)(n * NSEC_PER_SEC / (ns ? ns : 1)), (unsigned long)n,
	       (unsigned long)(ns / NSEC_PER_MSEC));
}

static void bench_vfs(void)
{
	const char *dirs[] = {"/vfsbench",	 "/vfsbench/a",	      "/vfsbench/a/b",
			      "/vfsbench/a/b/c", "/vfsbench/a/b/c/d", BENCH_DIR};
	for (unsigned i = 0; i < ARRAY_SIZE(dirs); i++)
		vfs_mkdir(dirs[i], 0755);
	int fd = vfs_open(BENCH_DIR "/file", O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		printk("bench vfs: cannot create %s: %s\n", BENCH_DIR "/file", vfs_errname(fd));
		return;
	}
	vfs_close(fd);
	struct vfs_stat st;
	const uint64_t lookups = 20000;
	uint64_t t0 = time_ns();
	for (uint64_t i = 0; i < lookups; i++)
		vfs_stat(BENCH_DIR "/file", &st);
	per_second("lookups, 7 components, cached", lookups, time_ns() - t0);
	t0 = time_ns();
	for (uint64_t i = 0; i < lookups / 4; i++) {
		vfs_namecache_purge_all();
		vfs_stat(BENCH_DIR "/file", &st);
	}
	per_second("lookups, uncached", lookups / 4, time_ns() - t0);
	const int files = 2000;
	char path[64];
	t0 = time_ns();
	for (int i = 0; i < files; i++) {
		ksnprintf(path, sizeof(path), "/vfsbench/f%d", i);
		fd = vfs_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			vfs_write(fd, path, 32);
			vfs_close(fd);
		}
	}
	per_second("create+write 32 B+close", (uint64_t)files, time_ns() - t0);
	for (int i = 0; i < files; i++) {
		ksnprintf(path, sizeof(path), "/vfsbench/f%d", i);
		vfs_unlink(path);
	}
	vfs_unlink(BENCH_DIR "/file");
	for (int i = (int)ARRAY_SIZE(dirs) - 1; i >= 0; i--)
		vfs_rmdir(dirs[i]);
}
KARST_BENCH("vfs", bench_vfs, "path lookups (cached, uncached), small-file creates");
