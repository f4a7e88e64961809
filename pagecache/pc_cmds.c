/*
 * Shell commands of the page cache (registered with the shell; the cache
 * never calls the shell):
 *   mmap [-p] FILE             map the whole file (shared, or private with
 *                              -p), checksum it through the mapping and
 *                              through read(), unmap
 *   mmap -w FILE OFFSET TEXT   write TEXT at OFFSET through a shared
 *                              mapping, msync, unmap
 *   pcscan [N]                 run the access scanner over N mapped pages
 *                              (all) and print what it found
 * /proc/pagecache has the figures.
 */
#include "pc_impl.h"

#include <errno.h>
#include <karst/format.h>
#include <karst/kmem.h>
#include <karst/shell.h>
#include <karst/time.h>
#include <string.h>
#include <vfs.h>

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int checksum_read(int fd, uint64_t size, uint32_t *out)
{
	uint8_t *buf = kmalloc(PAGE_SIZE * 16);
	if (!buf)
		return -ENOMEM;
	uint32_t h = 2166136261u;
	for (uint64_t off = 0; off < size;) {
		long n = vfs_pread(fd, buf, PAGE_SIZE * 16, (int64_t)off);
		if (n <= 0) {
			kfree(buf);
			return n < 0 ? (int)n : -EIO;
		}
		h = fnv1a(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	kfree(buf);
	*out = h;
	return 0;
}

static int fail(const char *what, const char *path, int e)
{
	shell_printf("mmap: %s %s: %s\n", what, path, vfs_errname(e));
	return 1;
}

static int mmap_write(const char *path, const char *offs, const char *text)
{
	uint64_t off;
	if (kparse_size(offs, strlen(offs), &off) != 0) {
		shell_printf("mmap: bad offset '%s'\n", offs);
		return 1;
	}
	int fd = vfs_open(path, O_RDWR, 0);
	if (fd < 0)
		return fail("open", path, fd);
	size_t len = strlen(text);
	uint64_t base = off & ~(uint64_t)PAGE_MASK;
	size_t maplen = (size_t)(off - base) + len;
	void *p = NULL;
	int e = pc_mmap(fd, maplen, VFS_PROT_READ | VFS_PROT_WRITE, VFS_MAP_SHARED, base, &p);
	vfs_close(fd);
	if (e)
		return fail("map", path, e);
	struct vfs_stat st;
	if (vfs_stat(path, &st) == 0 && off + len > st.st_size) {
		pc_munmap(p, maplen);
		shell_printf("mmap: %s is %lu bytes: a mapping cannot write past its end\n", path,
			     (unsigned long)st.st_size);
		return 1;
	}
	memcpy((char *)p + (off - base), text, len);
	e = pc_msync(p, maplen);
	pc_munmap(p, maplen);
	if (e)
		return fail("msync", path, e);
	shell_printf("wrote %lu bytes at %lu through a shared mapping\n", (unsigned long)len,
		     (unsigned long)off);
	return 0;
}

static int cmd_mmap(int argc, char **argv)
{
	bool priv = false;
	int i = 1;
	if (argc == 5 && strcmp(argv[1], "-w") == 0)
		return mmap_write(argv[2], argv[3], argv[4]);
	if (i < argc && strcmp(argv[i], "-p") == 0) {
		priv = true;
		i++;
	}
	if (i != argc - 1) {
		shell_printf("usage: mmap [-p] FILE | mmap -w FILE OFFSET TEXT\n");
		return 2;
	}
	const char *path = argv[i];
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fail("open", path, fd);
	struct vfs_stat st;
	int e = vfs_fstat(fd, &st);
	if (e) {
		vfs_close(fd);
		return fail("stat", path, e);
	}
	void *p = NULL;
	uint64_t t0 = time_ns();
	/* Not a regular file: ask for a page, for the VFS's own answer. */
	size_t len = S_ISREG(st.st_mode) || st.st_size ? st.st_size : PAGE_SIZE;
	e = pc_mmap(fd, len, VFS_PROT_READ, priv ? VFS_MAP_PRIVATE : VFS_MAP_SHARED, 0, &p);
	if (e) {
		vfs_close(fd);
		if (e == -EINVAL && st.st_size == 0)
			shell_printf("mmap: %s is empty: nothing to map\n", path);
		else
			fail("map", path, e);
		return 1;
	}
	uint32_t h = fnv1a(2166136261u, p, st.st_size);
	uint64_t t1 = time_ns();
	uint32_t hr = 0;
	e = checksum_read(fd, st.st_size, &hr);
	vfs_close(fd);
	pc_munmap(p, st.st_size);
	if (e)
		return fail("read", path, e);
	uint64_t pages = (st.st_size + PAGE_MASK) / PAGE_SIZE;
	shell_printf("%s: %lu bytes mapped %s at %p, %lu pages in %lu us\n", path,
		     (unsigned long)st.st_size, priv ? "private" : "shared", p,
		     (unsigned long)pages, (unsigned long)((t1 - t0) / 1000));
	shell_printf("checksum through the mapping %08x, through read() %08x%s\n", h, hr,
		     h == hr ? "" : "  MISMATCH");
	return h == hr ? 0 : 1;
}
SHELL_CMD("mmap", cmd_mmap,
	  "mmap [-p] FILE: map, checksum and unmap a file; mmap -w FILE OFFSET TEXT: write "
	  "through a shared mapping");

static int cmd_pcscan(int argc, char **argv)
{
	uint64_t n = 0;
	if (argc > 1 && kparse_size(argv[1], strlen(argv[1]), &n) != 0) {
		shell_printf("usage: pcscan [PAGES]\n");
		return 2;
	}
	struct pc_stats s0, s1;
	pc_stats_get(&s0);
	uint64_t t0 = time_ns();
	size_t scanned = pc_scan_pass((size_t)n);
	uint64_t t1 = time_ns();
	pc_stats_get(&s1);
	shell_printf("scanned %lu mapped pages in %lu us: %lu accessed, %lu flushes\n",
		     (unsigned long)scanned, (unsigned long)((t1 - t0) / 1000),
		     (unsigned long)(s1.scan_accessed - s0.scan_accessed),
		     (unsigned long)(s1.scan_flushes - s0.scan_flushes));
	return 0;
}
SHELL_CMD("pcscan", cmd_pcscan, "pcscan [PAGES]: one access-scanner pass over mapped file pages");
