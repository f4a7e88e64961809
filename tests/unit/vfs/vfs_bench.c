/*
 * vfs_bench: figures for the VFS on the host (not a test; it asserts
 * nothing). Path lookups per second with a warm name cache and with the
 * cache emptied before every lookup, and small-file create+write+close per
 * second, on a ramfs root.
 *
 *   vfs_bench [seconds-per-figure, default 1]
 */
#include "vfs_test_util.h"

#include <karst/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double rate(uint64_t n, uint64_t ns)
{
	return (double)n * 1e9 / (double)ns;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	uint64_t budget = (uint64_t)(secs * 1e9);
	char p[128];
	struct vfs_stat st;

	vt_boot();
	/* a tree 6 levels deep: /b/l1/l2/l3/l4/l5/file */
	vfs_mkdir("/b", 0755);
	snprintf(p, sizeof(p), "/b");
	for (int i = 1; i <= 5; i++) {
		size_t n = strlen(p);
		snprintf(p + n, sizeof(p) - n, "/l%d", i);
		vfs_mkdir(p, 0755);
	}
	const char *path = "/b/l1/l2/l3/l4/l5/file";
	vt_write_str(path, "x");

	uint64_t n = 0, t0 = time_ns(), t;
	do {
		for (int i = 0; i < 1000; i++)
			vfs_stat(path, &st);
		n += 1000;
	} while ((t = time_ns()) - t0 < budget);
	printf("path lookups (7 components, cached):   %12.0f /s\n", rate(n, t - t0));

	n = 0;
	t0 = time_ns();
	do {
		for (int i = 0; i < 100; i++) {
			vfs_namecache_purge_all();
			vfs_stat(path, &st);
		}
		n += 100;
	} while ((t = time_ns()) - t0 < budget);
	printf("path lookups (7 components, uncached): %12.0f /s\n", rate(n, t - t0));

	vfs_mkdir("/files", 0755);
	n = 0;
	t0 = time_ns();
	do {
		for (int i = 0; i < 100; i++) {
			snprintf(p, sizeof(p), "/files/f%llu", (unsigned long long)(n + i));
			int fd = vfs_open(p, O_CREAT | O_WRONLY | O_EXCL, 0644);
			vfs_write(fd, "0123456789abcdef0123456789abcdef", 32);
			vfs_close(fd);
		}
		n += 100;
	} while ((t = time_ns()) - t0 < budget);
	printf("small files create+write+close:        %12.0f /s (%llu files)\n", rate(n, t - t0),
	       (unsigned long long)n);

	struct vfs_nc_stats nc;
	vfs_namecache_stats(&nc);
	printf("name cache: %llu hits, %llu negative hits, %llu misses, %llu entries\n",
	       (unsigned long long)nc.hits, (unsigned long long)nc.neg_hits,
	       (unsigned long long)nc.misses, (unsigned long long)nc.entries);
	return vfs_shutdown() == 0 ? 0 : 1;
}
