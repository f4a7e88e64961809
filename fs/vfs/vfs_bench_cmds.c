/*
 * `fsbench`: filesystem workloads of tools/karst-compare, on any mounted
 * filesystem, printing the `name: value unit` figure lines the Linux
 * guest's guest-bench (tools/compare/guest-bench.c) prints for the same
 * steps:
 *
 *   fsbench all DIR [MiB]     on the filesystem mounted at DIR (default 64
 *                             MiB, 1 MiB requests, incompressible bytes):
 *     fs.seq_write_fsync      write DIR/fsbench.dat, fsync, close (MB/s)
 *     fs.mount_ms             unmount DIR and mount it again (cold cache)
 *     fs.seq_read_cold        read the file after that remount (MB/s)
 *     fs.seq_read_warm        read it again at once (MB/s)
 *     fs.rand_read_4k         2000 4 KiB reads at xorshift-random 4 KiB
 *                             offsets after another remount (IOPS)
 *     fs.create_stat_unlink   1000 empty files created, stat'ed, unlinked
 *                             in DIR/fsbench.d (operations per second)
 *   fsbench read FILE [NAME]  read FILE once: `NAME: N MB/s` (default
 *                             fs.seq_read)
 *   fsbench remount DIR       unmount DIR and mount it again with the same
 *                             source, type, flags and options: every cache
 *                             of karst's filesystems is per mount (cowfs's
 *                             ARC keys carry the pool's load id, virtio-fs's
 *                             window lives from first mount to last
 *                             unmount), so what follows reads cold
 *
 * "Cold" in karst is therefore a remount, not a global cache drop. A
 * benchmark: it never fails on speed; it returns 1 with the errno's name
 * when a step cannot run, 2 on bad usage.
 */
#include <errno.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <karst/time.h>
#include <stdlib.h>
#include <string.h>
#include <vfs.h>

#define FSB_BLOCK (1u << 20)
#define FSB_RAND  2000
#define FSB_FILES 1000
#define FSB_PATH  256 /* path buffers, on the shell thread's stack */

static int fsb_fail(const char *what, const char *path, long err)
{
	shell_printf("fsbench: %s %s: %s\n", what, path, vfs_errname((int)err));
	return 1;
}

/* value * 1000 / ns in whole units: bytes -> MB/s, ops * 1e6 -> ops/s. */
static unsigned long fsb_rate(uint64_t n, uint64_t ns)
{
	return (unsigned long)(n * 1000 / (ns ? ns : 1));
}

static void fsb_fill(uint8_t *buf, size_t len)
{
	uint64_t x = 88172645463325252ULL;
	for (size_t i = 0; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
}

struct fsb_mnt {
	const char *dir;
	char source[KARST_PATH_MAX], type[VFS_TYPE_MAX], opts[128];
	uint32_t flags;
	bool found;
};

static int fsb_find(void *arg, const struct vfs_mount_info *mi)
{
	struct fsb_mnt *m = arg;
	if (strcmp(mi->path, m->dir) != 0)
		return 0;
	/* The last mount on DIR wins, as lookups see it. */
	strncpy(m->source, mi->source, sizeof(m->source) - 1);
	strncpy(m->type, mi->type, sizeof(m->type) - 1);
	m->opts[0] = 0;
	if (mi->opts && strcmp(mi->opts, "rw") && strcmp(mi->opts, "ro"))
		strncpy(m->opts, mi->opts, sizeof(m->opts) - 1);
	m->flags = mi->flags;
	m->found = true;
	return 0;
}

/* The mount on dir into *m; prints why not and returns 1 when none. */
static int fsb_mount_of(const char *dir, struct fsb_mnt *m)
{
	memset(m, 0, sizeof(*m));
	m->dir = dir;
	vfs_mount_foreach(fsb_find, m);
	if (!m->found) {
		shell_printf("fsbench: %s is not a mount point (see mount)\n", dir);
		return 1;
	}
	return 0;
}

/* Unmount DIR and mount it again; *ns gets the mount's own time. */
static int fsb_remount(const char *dir, uint64_t *ns)
{
	static struct fsb_mnt m; /* the shell runs one command at a time */
	if (fsb_mount_of(dir, &m))
		return 1;
	int e = vfs_umount(dir);
	if (e)
		return fsb_fail("umount", dir, e);
	uint64_t t0 = time_ns();
	e = vfs_mount(m.source, dir, m.type, m.flags, m.opts[0] ? m.opts : NULL);
	if (ns)
		*ns = time_ns() - t0;
	return e ? fsb_fail("mount", dir, e) : 0;
}

/* Read path sequentially in buf-sized requests; *bytes and *ns measured. */
static int fsb_read_all(const char *path, uint8_t *buf, uint64_t *bytes, uint64_t *ns)
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fsb_fail("open", path, fd);
	uint64_t t0 = time_ns(), done = 0;
	long n;
	while ((n = vfs_read(fd, buf, FSB_BLOCK)) > 0)
		done += (uint64_t)n;
	*ns = time_ns() - t0;
	*bytes = done;
	vfs_close(fd);
	return n < 0 ? fsb_fail("read", path, n) : 0;
}

static int fsb_seq_write(const char *path, const uint8_t *buf, uint64_t mib)
{
	int fd = vfs_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fsb_fail("create", path, fd);
	uint64_t t0 = time_ns();
	for (uint64_t i = 0; i < mib; i++) {
		long w = vfs_write(fd, buf, FSB_BLOCK);
		if (w != FSB_BLOCK) {
			vfs_close(fd);
			return fsb_fail("write", path, w < 0 ? w : -EIO);
		}
	}
	int e = vfs_fsync(fd);
	uint64_t ns = time_ns() - t0;
	vfs_close(fd);
	if (e)
		return fsb_fail("fsync", path, e);
	shell_printf("fs.seq_write_fsync: %lu MB/s\n", fsb_rate(mib * FSB_BLOCK, ns));
	return 0;
}

static int fsb_rand_read(const char *path, uint8_t *buf, uint64_t size)
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fsb_fail("open", path, fd);
	uint64_t x = 88172645463325252ULL, blocks = size / 4096, t0 = time_ns();
	int bad = 0;
	for (int i = 0; i < FSB_RAND; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (vfs_pread(fd, buf, 4096, (int64_t)((x % blocks) * 4096)) != 4096)
			bad++;
	}
	uint64_t ns = time_ns() - t0;
	vfs_close(fd);
	if (bad)
		return fsb_fail("pread", path, -EIO);
	shell_printf("fs.rand_read_4k: %lu IOPS\n", fsb_rate((uint64_t)FSB_RAND * 1000000, ns));
	return 0;
}

static int fsb_create_stat_unlink(const char *dir)
{
	char d[FSB_PATH], path[FSB_PATH];
	ksnprintf(d, sizeof(d), "%s/fsbench.d", dir);
	int e = vfs_mkdir(d, 0755);
	if (e)
		return fsb_fail("mkdir", d, e);
	struct vfs_stat st;
	uint64_t t0 = time_ns();
	for (int i = 0; i < FSB_FILES; i++) {
		ksnprintf(path, sizeof(path), "%s/f%d", d, i);
		int fd = vfs_open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return fsb_fail("create", path, fd);
		vfs_close(fd);
	}
	for (int i = 0; i < FSB_FILES && !e; i++) {
		ksnprintf(path, sizeof(path), "%s/f%d", d, i);
		e = vfs_stat(path, &st);
	}
	for (int i = 0; i < FSB_FILES && !e; i++) {
		ksnprintf(path, sizeof(path), "%s/f%d", d, i);
		e = vfs_unlink(path);
	}
	uint64_t ns = time_ns() - t0;
	if (e)
		return fsb_fail("stat/unlink", path, e);
	vfs_rmdir(d);
	shell_printf("fs.create_stat_unlink: %lu ops/s\n",
		     fsb_rate(3ULL * FSB_FILES * 1000000, ns));
	return 0;
}

static int fsb_all(const char *dir, uint64_t mib, uint8_t *buf)
{
	static struct fsb_mnt m;
	char file[FSB_PATH];
	if (fsb_mount_of(dir, &m)) /* before anything is written */
		return 1;
	ksnprintf(file, sizeof(file), "%s/fsbench.dat", dir);
	fsb_fill(buf, FSB_BLOCK);
	int r = fsb_seq_write(file, buf, mib);
	uint64_t ns, bytes;
	if (!r)
		r = fsb_remount(dir, &ns);
	if (r)
		return r;
	shell_printf("fs.mount_ms: %lu.%03lu ms\n", (unsigned long)(ns / 1000000),
		     (unsigned long)(ns / 1000 % 1000));
	if ((r = fsb_read_all(file, buf, &bytes, &ns)))
		return r;
	shell_printf("fs.seq_read_cold: %lu MB/s\n", fsb_rate(bytes, ns));
	if ((r = fsb_read_all(file, buf, &bytes, &ns)))
		return r;
	shell_printf("fs.seq_read_warm: %lu MB/s\n", fsb_rate(bytes, ns));
	if ((r = fsb_remount(dir, NULL)) || (r = fsb_rand_read(file, buf, mib * FSB_BLOCK)))
		return r;
	if ((r = fsb_create_stat_unlink(dir)))
		return r;
	int e = vfs_unlink(file);
	return e ? fsb_fail("unlink", file, e) : 0;
}

static int cmd_fsbench(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	if (strcmp(what, "remount") == 0 && argc == 3)
		return fsb_remount(argv[2], NULL);
	bool all = strcmp(what, "all") == 0 && (argc == 3 || argc == 4);
	bool read = strcmp(what, "read") == 0 && (argc == 3 || argc == 4);
	uint64_t mib = all && argc == 4 ? strtoull(argv[3], NULL, 0) : 64;
	if ((!all && !read) || mib == 0 || mib > 4096 || strlen(argv[2]) > FSB_PATH - 32) {
		shell_printf("usage: fsbench all DIR [MiB] | read FILE [NAME] | remount DIR\n");
		return 2;
	}
	uint8_t *buf = kmalloc(FSB_BLOCK);
	if (!buf)
		return fsb_fail("buffer", "", -ENOMEM);
	int r;
	if (all) {
		r = fsb_all(argv[2], mib, buf);
	} else {
		uint64_t bytes, ns;
		r = fsb_read_all(argv[2], buf, &bytes, &ns);
		if (!r)
			shell_printf("%s: %lu MB/s\n", argc == 4 ? argv[3] : "fs.seq_read",
				     fsb_rate(bytes, ns));
	}
	kfree(buf);
	return r;
}
SHELL_CMD("fsbench", cmd_fsbench,
	  "fsbench all DIR [MiB] | read FILE [NAME] | remount DIR: filesystem figures "
	  "(tools/karst-compare)");
