/*
 * In-kernel tests of cowfs through the VFS, on a GEOM memory disk made and
 * formatted inside the test (no QEMU disk needed): mount, files and
 * directories through the POSIX-shaped calls, fsync, unmount, mount again
 * and read back, an unlinked open file, ENOSPC that leaves the pool
 * usable, and a device that is not cowfs refused. The images mkcowfs makes
 * are tested by run-ktests on virtio-blk disks.
 */
#include <errno.h>
#include <geom.h>
#include <karst/kmem.h>
#include <karst/ktest.h>
#include <string.h>
#include <vfs.h>

#include "cowfs.h"
#include "cowfs_format.h"
#include "cowfs_vfs.h"
#include "kt_cowfs.h"

int kt_cowfs_make_pool(const char *name, uint64_t size, uint8_t comp)
{
	int err = g_md_create(name, size, 512, NULL, 0);
	if (err)
		return err;
	g_waitidle();
	struct g_consumer *cp;
	err = g_open(name, 1, 1, 1, NULL, NULL, &cp);
	if (err)
		return err;
	struct cowfs_dev dev = {&cowfs_geom_dev_ops, cp, size};
	struct cowfs_mkfs_opts o = {.comp = comp, .time = 1};
	char why[96];
	err = cowfs_mkfs(&dev, &o, why, sizeof(why));
	if (err)
		printk("    mkfs: %s\n", why);
	g_close(cp);
	return err;
}

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + seed + (i >> 10));
}

/* The block checksum (XXH3-128, built with SSE2 / NEON in the kernel) is
 * what Debian's `xxhsum -H2` prints for the same bytes: byte i is
 * i * 31 + 7, at lengths that take each of XXH3's paths (empty, 1-3,
 * 17-128, 129-240, long, with a partial stripe and block). */
KTEST(cowfs_cksum_known_answers)
{
	static const struct {
		size_t len;
		uint64_t hi, lo;
	} kat[] = {
	    {0, 0x99aa06d3014798d8ULL, 0x6001c324468d497fULL},
	    {3, 0x46f66cb935381565ULL, 0x15f7093b173d005cULL},
	    {17, 0x18217300b5132d5aULL, 0x78c349fe81b2f26cULL},
	    {129, 0x6881633650cd8924ULL, 0xc51bc887976aef63ULL},
	    {240, 0xde57aab31e77a2ffULL, 0x93e173833f75ab66ULL},
	    {241, 0x92b991a7192f3f08ULL, 0x0b3b630948ce4a00ULL},
	    {1024, 0x4c17271c906df792ULL, 0x23bc880ebf0d29c6ULL},
	    {4103, 0xcfcfb4f1ff0083d9ULL, 0xad0017645a159db5ULL},
	    {131072, 0x3dddd29aa02945eaULL, 0xc88c4139bb021d72ULL},
	};
	uint8_t *buf = kmalloc(131072);
	KT_ASSERT(buf != NULL);
	for (size_t i = 0; i < 131072; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	for (size_t k = 0; k < sizeof(kat) / sizeof(kat[0]); k++) {
		struct cowfs_cksum c = cowfs_cksum_compute(buf, kat[k].len);
		KT_EXPECT(c.hi == kat[k].hi && c.lo == kat[k].lo);
	}
	kfree(buf);
}

KTEST(cowfs_vfs_round_trip)
{
	KT_ASSERT(kt_cowfs_make_pool("cwmd0", 16 << 20, COWFS_COMP_LZ4) == 0);
	vfs_mkdir("/cwt", 0755);
	KT_ASSERT(vfs_mount("/dev/cwmd0", "/cwt", "cowfs", 0, "txg=1") == 0);
	KT_EXPECT(vfs_mkdir("/cwt/dir", 0755) == 0);
	int fd = vfs_open("/cwt/dir/file", O_CREAT | O_RDWR, 0644);
	KT_ASSERT(fd >= 0);
	size_t n = 700000;
	uint8_t *buf = kmalloc(n), *back = kmalloc(n);
	KT_ASSERT(buf && back);
	pattern(buf, n, 3);
	KT_EXPECT(vfs_write(fd, buf, n) == (long)n);
	KT_EXPECT(vfs_fsync(fd) == 0);
	KT_EXPECT(vfs_pwrite(fd, "tail", 4, 1000000) == 4);
	KT_EXPECT(vfs_close(fd) == 0);
	KT_EXPECT(vfs_symlink("dir/file", "/cwt/link") == 0);
	KT_EXPECT(vfs_link("/cwt/dir/file", "/cwt/hard") == 0);
	KT_EXPECT(vfs_rename("/cwt/hard", "/cwt/dir/renamed") == 0);
	KT_EXPECT(vfs_truncate("/cwt/dir/renamed", 1000002) == 0);
	/* An unlinked file stays readable while open. */
	fd = vfs_open("/cwt/gone", O_CREAT | O_RDWR, 0600);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(vfs_write(fd, "still here", 10) == 10);
	KT_EXPECT(vfs_unlink("/cwt/gone") == 0);
	char s[16] = {0};
	KT_EXPECT(vfs_pread(fd, s, 10, 0) == 10 && !memcmp(s, "still here", 10));
	KT_EXPECT(vfs_close(fd) == 0);
	KT_EXPECT(vfs_umount("/cwt") == 0);

	/* Mount again: everything as it was left. */
	KT_ASSERT(vfs_mount("/dev/cwmd0", "/cwt", "cowfs", 0, NULL) == 0);
	struct vfs_stat st;
	KT_EXPECT(vfs_stat("/cwt/dir/file", &st) == 0 && st.st_size == 1000002 && st.st_nlink == 2);
	KT_EXPECT(vfs_stat("/cwt/gone", &st) == -ENOENT);
	fd = vfs_open("/cwt/link", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(vfs_read(fd, back, n) == (long)n && !memcmp(buf, back, n));
	KT_EXPECT(vfs_pread(fd, s, 8, 999998) == 4 && !memcmp(s, "\0\0ta", 4));
	KT_EXPECT(vfs_close(fd) == 0);
	char t[32] = {0};
	KT_EXPECT(vfs_readlink("/cwt/link", t, sizeof(t)) == 8 && !strcmp(t, "dir/file"));
	KT_EXPECT(vfs_rmdir("/cwt/dir") == -ENOTEMPTY);
	KT_EXPECT(vfs_unlink("/cwt/dir/file") == 0 && vfs_unlink("/cwt/dir/renamed") == 0);
	KT_EXPECT(vfs_rmdir("/cwt/dir") == 0);
	KT_EXPECT(vfs_umount("/cwt") == 0);
	kfree(buf);
	kfree(back);
	KT_EXPECT(g_md_destroy("cwmd0", false) == 0);
}

/* Options: a bad or unknown one fails the mount with EINVAL and leaves
 * the device closed (the next mount takes it); the bounds are taken. */
KTEST(cowfs_mount_options)
{
	static const char *const bad[] = {"txg=0",     "txg=3601",   "txg=",	    "txg=1K",
					  "txg=-1",    "txg=5s",     "prefetch=65", "prefetch=1K",
					  "prefetch=", "prefetch=x", "prefetch=-1", "bogus",
					  "txg",       "ro=1",	     "txg=5,junk"};
	static const char *const good[] = {"txg=1,prefetch=0", "txg=3600,prefetch=64",
					   "prefetch=8,", NULL};
	KT_ASSERT(kt_cowfs_make_pool("cwmd5", 8 << 20, COWFS_COMP_OFF) == 0);
	vfs_mkdir("/cwo", 0755);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e = vfs_mount("/dev/cwmd5", "/cwo", "cowfs", 0, bad[i]);
		if (e != -EINVAL)
			printk("    '%s' gave %d\n", bad[i], e);
		KT_EXPECT(e == -EINVAL);
	}
	struct vfs_stat st;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		KT_EXPECT(vfs_mount("/dev/cwmd5", "/cwo", "cowfs", 0, good[i]) == 0);
		KT_EXPECT(vfs_stat("/cwo", &st) == 0 && S_ISDIR(st.st_mode));
		KT_EXPECT(vfs_umount("/cwo") == 0);
	}
	KT_EXPECT(g_md_destroy("cwmd5", false) == 0);
}

KTEST(cowfs_vfs_enospc)
{
	KT_ASSERT(kt_cowfs_make_pool("cwmd1", 6 << 20, COWFS_COMP_OFF) == 0);
	vfs_mkdir("/cwf", 0755);
	KT_ASSERT(vfs_mount("/dev/cwmd1", "/cwf", "cowfs", 0, NULL) == 0);
	size_t n = 1 << 20;
	uint8_t *buf = kmalloc(n);
	KT_ASSERT(buf);
	pattern(buf, n, 9);
	int fd = vfs_open("/cwf/big", O_CREAT | O_WRONLY, 0644);
	KT_ASSERT(fd >= 0);
	long r = 0;
	int i;
	for (i = 0; i < 20; i++) {
		r = vfs_write(fd, buf, n);
		if (r != (long)n)
			break;
	}
	KT_EXPECT(i < 20 && r == -ENOSPC);
	KT_EXPECT(vfs_close(fd) == 0);
	/* Full: still removes, commits, and takes new data. */
	KT_EXPECT(vfs_unlink("/cwf/big") == 0);
	fd = vfs_open("/cwf/after", O_CREAT | O_WRONLY, 0644);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(vfs_write(fd, buf, n) == (long)n);
	KT_EXPECT(vfs_fsync(fd) == 0);
	KT_EXPECT(vfs_close(fd) == 0);
	KT_EXPECT(vfs_umount("/cwf") == 0);
	kfree(buf);
	KT_EXPECT(g_md_destroy("cwmd1", false) == 0);
}

KTEST(cowfs_refuses_foreign_device)
{
	KT_ASSERT(g_md_create("cwmd2", 8 << 20, 512, NULL, 0) == 0);
	g_waitidle();
	vfs_mkdir("/cwx", 0755);
	KT_EXPECT(vfs_mount("/dev/cwmd2", "/cwx", "cowfs", 0, NULL) == -EINVAL);
	KT_EXPECT(vfs_mount("/dev/nosuchdisk", "/cwx", "cowfs", 0, NULL) == -ENXIO);
	KT_EXPECT(g_md_destroy("cwmd2", false) == 0);
}
