/*
 * Mounts: mount/umount and their errors, read-only mounts, cross-mount
 * renames and links, ramfs size limits, fstab tables and boot mounting,
 * vfs_sync_all.
 */
#include "vfs_impl.h"
#include "vfs_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run fn with stdout captured (printk writes there on the host). */
static char *capture_stdout(int (*fn)(void *), void *arg, int *ret)
{
	static char out[8192];
	int pipefd[2];
	fflush(stdout);
	ck_assert_int_eq(pipe(pipefd), 0);
	int saved = dup(1);
	dup2(pipefd[1], 1);
	*ret = fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(pipefd[1]);
	ssize_t n = read(pipefd[0], out, sizeof(out) - 1);
	close(pipefd[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static int mount_type(void *type)
{
	return vfs_mount("src", "/mnt", type, 0, NULL);
}

START_TEST(test_mount_errors)
{
	int r;
	ck_assert_int_eq(vfs_mkdir("/mnt", 0755), 0);
	char *out = capture_stdout(mount_type, "cowfs", &r);
	ck_assert_int_eq(r, -ENODEV);
	ck_assert_ptr_nonnull(strstr(out, "KARST_WITH_COWFS"));
	out = capture_stdout(mount_type, "virtiofs", &r);
	ck_assert_int_eq(r, -ENODEV);
	ck_assert_ptr_nonnull(strstr(out, "KARST_WITH_VIRTIOFS"));
	out = capture_stdout(mount_type, "ext9", &r);
	ck_assert_int_eq(r, -ENODEV);
	ck_assert_ptr_nonnull(strstr(out, "unknown filesystem type 'ext9'"));
	ck_assert_err(vfs_mount("s", "/mnt", NULL, 0, NULL), EINVAL);
	ck_assert_err(vfs_mount("s", "/mnt", "ramfs", 0x100, NULL), EINVAL);
	ck_assert_err(vfs_mount("s", "/nope", "ramfs", 0, NULL), ENOENT);
	ck_assert_int_eq(vt_write_str("/file", "x"), 0);
	ck_assert_err(vfs_mount("s", "/file", "ramfs", 0, NULL), ENOTDIR);
	ck_assert_err(vfs_mount("s", "/", "ramfs", 0, NULL), EBUSY);
	ck_assert_err(vfs_mount("s", "/mnt", "ramfs", 0, "size=banana"), EINVAL);
	ck_assert_err(vfs_mount("s", "/mnt", "ramfs", 0, "colour=blue"), EINVAL);
	ck_assert_err(vfs_mount("s", "/mnt", "procfs", 0, "x"), EINVAL);
	ck_assert_err(vfs_mount("s", "/mnt", "devfs", 0, "x"), EINVAL);
	ck_assert_int_eq(vfs_mount("s", "/mnt", "ramfs", 0, NULL), 0);
	ck_assert_err(vfs_mount("s", "/mnt", "ramfs", 0, NULL), EBUSY);
	ck_assert_err(vfs_umount("/file"), EINVAL);
	ck_assert_err(vfs_umount("/nope"), ENOENT);
	ck_assert_err(vfs_umount("/"), EBUSY);
	ck_assert_int_eq(vfs_umount("/mnt"), 0);
	ck_assert_err(vfs_umount("/mnt"), EINVAL);
	static struct vfsops bad = {.name = NULL};
	ck_assert_err(vfs_register(&bad), EINVAL);
	static struct vfsops dup = {.name = "ramfs"};
	ck_assert_err(vfs_register(&dup), EINVAL); /* no ops */
	ck_assert_err(vfs_register(NULL), EINVAL);
	ck_assert_int_eq(ramfs_register(), 0); /* the same ops again: fine */
}
END_TEST

START_TEST(test_umount_busy)
{
	ck_assert_int_eq(vfs_mkdir("/mnt", 0755), 0);
	ck_assert_int_eq(vfs_mount("s", "/mnt", "ramfs", 0, NULL), 0);
	ck_assert_int_eq(vt_write_str("/mnt/f", "x"), 0);
	char *before = vt_snapshot("/mnt");
	int fd = vfs_open("/mnt/f", O_RDONLY, 0);
	ck_assert_err(vfs_umount("/mnt"), EBUSY);
	vfs_close(fd);
	ck_assert_int_eq(vfs_chdir("/mnt"), 0);
	ck_assert_err(vfs_umount("/mnt"), EBUSY);
	ck_assert_int_eq(vfs_chdir("/"), 0);
	ck_assert_int_eq(vfs_mkdir("/mnt/sub", 0755), 0);
	ck_assert_int_eq(vfs_mount("s2", "/mnt/sub", "ramfs", 0, NULL), 0);
	ck_assert_err(vfs_umount("/mnt"), EBUSY);
	ck_assert_err(vfs_rmdir("/mnt/sub"), EBUSY);
	ck_assert_err(vfs_rename("/mnt/sub", "/mnt/sub2"), EBUSY);
	ck_assert_err(vfs_rename("/mnt/f", "/mnt/sub"), EISDIR);
	ck_assert_int_eq(vfs_mkdir("/mnt/e", 0755), 0);
	ck_assert_err(vfs_rename("/mnt/e", "/mnt/sub"), EBUSY);
	ck_assert_int_eq(vfs_rmdir("/mnt/e"), 0);
	ck_assert_err(vfs_unlink("/mnt/sub"), EISDIR);
	ck_assert_err(vfs_rmdir("/mnt"), EBUSY);
	ck_assert_int_eq(vfs_umount("/mnt/sub/"), 0);
	ck_assert_int_eq(vfs_rmdir("/mnt/sub"), 0);
	char *after = vt_snapshot("/mnt");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	ck_assert_int_eq(vfs_umount("/mnt"), 0);
}
END_TEST

START_TEST(test_cross_mount)
{
	ck_assert_int_eq(vfs_mkdir("/mnt", 0755), 0);
	ck_assert_int_eq(vfs_mount("s", "/mnt", "ramfs", 0, NULL), 0);
	ck_assert_int_eq(vt_write_str("/f", "x"), 0);
	ck_assert_int_eq(vfs_mkdir("/mnt/d", 0755), 0);
	char *before = vt_snapshot("/");
	ck_assert_err(vfs_rename("/f", "/mnt/f"), EXDEV);
	ck_assert_err(vfs_rename("/mnt/d", "/d"), EXDEV);
	ck_assert_err(vfs_link("/f", "/mnt/f"), EXDEV);
	ck_assert_err(vfs_rename("/mnt", "/mnt2"), EBUSY);
	ck_assert_err(vfs_rename("/mnt/d", "/mnt/d/x"), EINVAL);
	char *after = vt_snapshot("/");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_readonly_mount)
{
	ck_assert_int_eq(vfs_mkdir("/ro", 0755), 0);
	ck_assert_int_eq(vfs_mount("s", "/ro", "ramfs", 0, NULL), 0);
	ck_assert_int_eq(vfs_mkdir("/ro/d", 0755), 0);
	ck_assert_int_eq(vfs_mkdir("/ro/d/empty", 0755), 0);
	ck_assert_int_eq(vt_write_str("/ro/f", "content"), 0);
	ck_assert_int_eq(vfs_symlink("f", "/ro/l"), 0);
	int w = vfs_open("/ro/f", O_WRONLY, 0);
	ck_assert_err(vfs_remount("/ro", VFS_MNT_RDONLY), EBUSY); /* a writer */
	vfs_close(w);
	ck_assert_err(vfs_remount("/ro/d", VFS_MNT_RDONLY), EINVAL);
	ck_assert_err(vfs_remount("/ro", 0x80), EINVAL);
	ck_assert_int_eq(vfs_remount("/ro", VFS_MNT_RDONLY), 0);
	char *before = vt_snapshot("/");
	ck_assert_err(vfs_open("/ro/f", O_WRONLY, 0), EROFS);
	ck_assert_err(vfs_open("/ro/f", O_RDWR | O_TRUNC, 0), EROFS);
	ck_assert_err(vfs_open("/ro/new", O_CREAT | O_WRONLY, 0644), EROFS);
	ck_assert_err(vfs_open("/ro/f", O_CREAT | O_EXCL | O_RDONLY, 0644), EEXIST);
	ck_assert_err(vfs_truncate("/ro/f", 0), EROFS);
	ck_assert_err(vfs_chmod("/ro/f", 0777), EROFS);
	ck_assert_err(vfs_unlink("/ro/f"), EROFS);
	ck_assert_err(vfs_unlink("/ro/l"), EROFS);
	ck_assert_err(vfs_rename("/ro/f", "/ro/g"), EROFS);
	ck_assert_err(vfs_rename("/ro/f", "/ro/d/f"), EROFS);
	ck_assert_err(vfs_link("/ro/f", "/ro/g"), EROFS);
	ck_assert_err(vfs_symlink("x", "/ro/s"), EROFS);
	ck_assert_err(vfs_mkdir("/ro/d2", 0755), EROFS);
	ck_assert_err(vfs_rmdir("/ro/d/empty"), EROFS);
	ck_assert_err(vfs_open("/ro", O_RDWR, 0), EISDIR);
	int fd = vfs_open("/ro/f", O_RDONLY, 0); /* reading is fine */
	ck_assert_int_ge(fd, 0);
	char buf[16];
	ck_assert_int_eq(vfs_read(fd, buf, sizeof(buf)), 7);
	ck_assert_err(vfs_write(fd, "x", 1), EBADF);
	vfs_close(fd);
	struct vfs_statfs sf;
	ck_assert_int_eq(vfs_statfs("/ro/d", &sf), 0);
	ck_assert_uint_eq(sf.f_flags & VFS_MNT_RDONLY, VFS_MNT_RDONLY);
	char *after = vt_snapshot("/");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	char *m = vt_read_all("/proc/mounts");
	free(m);
	ck_assert_int_eq(vfs_remount("/ro", 0), 0);
	ck_assert_int_eq(vfs_unlink("/ro/f"), 0);
	ck_assert_int_eq(vfs_umount("/ro"), 0);
	/* a fresh read-only mount */
	ck_assert_int_eq(vfs_mount("s", "/ro", "ramfs", VFS_MNT_RDONLY, NULL), 0);
	ck_assert_err(vfs_mkdir("/ro/x", 0755), EROFS);
	ck_assert_int_eq(vfs_umount("/ro"), 0);
}
END_TEST

START_TEST(test_ramfs_size_limit)
{
	ck_assert_int_eq(vfs_mkdir("/small", 0755), 0);
	ck_assert_int_eq(vfs_mount("s", "/small", "ramfs", 0, "size=16k"), 0);
	struct vfs_statfs sf;
	ck_assert_int_eq(vfs_statfs("/small", &sf), 0);
	ck_assert_uint_eq(sf.f_blocks, 4);
	ck_assert_uint_eq(sf.f_bfree, 4);
	char buf[4096];
	memset(buf, 'z', sizeof(buf));
	int fd = vfs_open("/small/f", O_CREAT | O_RDWR, 0644);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(vfs_write(fd, buf, sizeof(buf)), 4096);
	ck_assert_int_eq(vfs_write(fd, buf, 100), 100);
	/* 3.5 pages in: the rest of page 4 fits, page 5 does not */
	ck_assert_int_eq(vfs_write(fd, buf, 8192), 4096 - 100);
	ck_assert_err(vfs_write(fd, buf, 1), ENOSPC);
	ck_assert_err(vfs_pwrite(fd, buf, 1, 1 << 20), ENOSPC);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_size, 16384);
	ck_assert_int_eq(vfs_statfs("/small", &sf), 0);
	ck_assert_uint_eq(sf.f_bfree, 0);
	ck_assert_err(vt_write_str("/small/g", "x"), ENOSPC);
	ck_assert_int_eq(vfs_ftruncate(fd, 4096), 0);
	ck_assert_int_eq(vfs_statfs("/small", &sf), 0);
	ck_assert_uint_eq(sf.f_bfree, 3);
	ck_assert_int_eq(vt_write_str("/small/g", "x"), 0);
	vfs_close(fd);
	ck_assert_int_eq(vfs_umount("/small"), 0);
	ck_assert_int_eq(vfs_mount("s", "/small", "ramfs", 0, "size=1M"), 0);
	ck_assert_int_eq(vfs_statfs("/small", &sf), 0);
	ck_assert_uint_eq(sf.f_blocks, 256);
	ck_assert_int_eq(vfs_umount("/small"), 0);
	ck_assert_int_eq(vfs_mount("s", "/small", "ramfs", 0, "size=1g,"), 0);
	ck_assert_int_eq(vfs_umount("/small"), 0);
	ck_assert_err(vfs_mount("s", "/small", "ramfs", 0, "size=0"), EINVAL);
	ck_assert_err(vfs_mount("s", "/small", "ramfs", 0, "size=12q"), EINVAL);
	ck_assert_err(vfs_mount("s", "/small", "ramfs", 0, "size=1kk"), EINVAL);
	ck_assert_err(vfs_mount("s", "/small", "ramfs", 0, "size="), EINVAL);
	ck_assert_err(vfs_mount("s", "/small", "ramfs", 0, "size=99999999999999999999"), EINVAL);
}
END_TEST

struct mi_acc {
	char text[1024];
};

static int mi_fn(void *arg, const struct vfs_mount_info *mi)
{
	struct mi_acc *a = arg;
	size_t n = strlen(a->text);
	snprintf(a->text + n, sizeof(a->text) - n, "%s:%s:%s:%s;", mi->source, mi->path, mi->type,
		 mi->opts);
	return 0;
}

static int stop_fn(void *arg, const struct vfs_mount_info *mi)
{
	return 7;
}

static int table_fn(void *table)
{
	return vfs_mount_table(table);
}

START_TEST(test_mount_table)
{
	const char *table = "# a comment line\n"
			    "tmp /data/tmp ramfs size=64k,ro  0 0 # trailing comment\n"
			    "\n"
			    "   \t\n"
			    "proc /proc procfs defaults\n"
			    "x /bad nosuchfs defaults\n"
			    "too few\n"
			    "dev /dev devfs rw;cache /data/cache ramfs\n"
			    "a relative ramfs\n";
	int r;
	char *out = capture_stdout(table_fn, (void *)table, &r);
	ck_assert_msg(r == 3, "%d failures:\n%s", r, out);
	ck_assert_ptr_nonnull(strstr(out, "entry 6: mount x on /bad type nosuchfs failed: ENODEV"));
	ck_assert_ptr_nonnull(strstr(out, "entry 7: expected"));
	ck_assert_ptr_nonnull(strstr(out, "entry 10: mount point 'relative' is not absolute"));
	struct mi_acc acc = {""};
	ck_assert_int_eq(vfs_mount_foreach(mi_fn, &acc), 0);
	ck_assert_str_eq(acc.text, "none:/:ramfs:;tmp:/data/tmp:ramfs:size=64k;proc:/proc:procfs:;"
				   "dev:/dev:devfs:;cache:/data/cache:ramfs:;");
	ck_assert_int_eq(vfs_mount_foreach(stop_fn, NULL), 7);
	struct vfs_statfs sf;
	ck_assert_int_eq(vfs_statfs("/data/tmp", &sf), 0);
	ck_assert_uint_eq(sf.f_flags, VFS_MNT_RDONLY);
	ck_assert_uint_eq(sf.f_blocks, 16);
	char *mounts = vt_read_all("/proc/mounts");
	ck_assert_str_eq(mounts, "none / ramfs rw 0 0\n"
				 "tmp /data/tmp ramfs ro,size=64k 0 0\n"
				 "proc /proc procfs rw 0 0\n"
				 "dev /dev devfs rw 0 0\n"
				 "cache /data/cache ramfs rw 0 0\n");
	free(mounts);
	ck_assert_err(vfs_mount_table(NULL), EINVAL);
	ck_assert_int_eq(vfs_mount_table(""), 0);
	ck_assert_int_eq(vfs_mount_table("x /y ramfs a b c d"), 1); /* too many fields */
	/* from a file; "/" entries in a file describe the root already there */
	ck_assert_int_eq(vfs_mkdir("/etc", 0755), 0);
	ck_assert_int_eq(vt_write_str("/etc/fstab", "root / ramfs defaults\nt2 /t2 ramfs\n"), 0);
	ck_assert_int_eq(vfs_mount_table_file("/etc/fstab"), 0);
	ck_assert_err(vfs_mount_table_file("/etc/none"), ENOENT);
	ck_assert_int_eq(vfs_mount_table("root / ramfs"), 1); /* on the command line: EBUSY */
}
END_TEST

/* "syncfs": ramfs with a sync op that counts its calls and fails for the
 * source "bad". */
static struct vfsops syncfs_ops;
static int syncfs_calls;

static int syncfs_sync(struct mount *mp)
{
	syncfs_calls++;
	return strcmp(mp->mnt_source, "bad") ? 0 : -EIO;
}

static int sync_all_fn(void *arg)
{
	(void)arg;
	return vfs_sync_all();
}

START_TEST(test_sync_all)
{
	struct vfs_nameidata nd;
	ck_assert_int_eq(vfs_mkdir("/r", 0755), 0);
	ck_assert_int_eq(vfs_mount("x", "/r", "ramfs", 0, NULL), 0);
	ck_assert_int_eq(vfs_namei("/r", 0, &nd), 0);
	syncfs_ops = *nd.vp->v_mount->mnt_ops;
	vfs_nd_release(&nd);
	ck_assert_int_eq(vfs_umount("/r"), 0);
	syncfs_ops.name = "syncfs";
	syncfs_ops.sync = syncfs_sync;
	ck_assert_int_eq(vfs_register(&syncfs_ops), 0);

	/* ramfs (no sync op) is skipped: nothing to do, no failure */
	ck_assert_int_eq(vfs_sync_all(), 0);
	ck_assert_int_eq(syncfs_calls, 0);
	ck_assert_int_eq(vfs_mkdir("/a", 0755), 0);
	ck_assert_int_eq(vfs_mkdir("/b", 0755), 0);
	ck_assert_int_eq(vfs_mkdir("/c", 0755), 0);
	ck_assert_int_eq(vfs_mount("good", "/a", "syncfs", 0, NULL), 0);
	ck_assert_int_eq(vfs_mount("good", "/b", "syncfs", VFS_MNT_RDONLY, NULL), 0);
	ck_assert_int_eq(vfs_sync_all(), 0);
	ck_assert_int_eq(syncfs_calls, 1); /* the read-only mount is not synced */
	ck_assert_int_eq(vfs_mount("bad", "/c", "syncfs", 0, NULL), 0);
	int r;
	char *out = capture_stdout(sync_all_fn, NULL, &r);
	ck_assert_int_eq(r, 1);
	ck_assert_int_eq(syncfs_calls, 3);
	ck_assert_ptr_nonnull(strstr(out, "vfs: sync of /c (syncfs) failed: EIO"));
	ck_assert_int_eq(vfs_umount("/a"), 0);
	ck_assert_int_eq(vfs_umount("/b"), 0);
	ck_assert_int_eq(vfs_umount("/c"), 0);
}
END_TEST

TCase *tcase_mount(void)
{
	TCase *tc = tcase_create("mount");
	tcase_add_checked_fixture(tc, vt_setup, vt_teardown);
	tcase_add_test(tc, test_mount_errors);
	tcase_add_test(tc, test_umount_busy);
	tcase_add_test(tc, test_cross_mount);
	tcase_add_test(tc, test_readonly_mount);
	tcase_add_test(tc, test_ramfs_size_limit);
	tcase_add_test(tc, test_sync_all);
	tcase_add_test(tc, test_mount_table);
	return tc;
}

/* ---- boot: nothing mounted at the start ---- */

static void boot_setup(void)
{
	vt_init_types();
}

START_TEST(test_boot_default)
{
	struct vfs_stat st;
	ck_assert_err(vfs_stat("/", &st), ENOENT); /* nothing mounted */
	ck_assert_err(vfs_mount("s", "/mnt", "ramfs", 0, NULL), ENOENT);
	ck_assert_int_eq(vfs_mount_boot(NULL), 0);
	char *m = vt_read_all("/proc/mounts");
	ck_assert_str_eq(m, "none / ramfs rw 0 0\n"
			    "devfs /dev devfs rw 0 0\n"
			    "procfs /proc procfs rw 0 0\n");
	free(m);
	ck_assert_int_eq(vfs_stat("/dev/null", &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
}
END_TEST

START_TEST(test_boot_cmdline_table)
{
	int r = vfs_mount_boot("dev /dev devfs;root / ramfs size=1M;"
			       "t /tmp ramfs;bad /x cowfs");
	ck_assert_int_eq(r, 1); /* cowfs is not in this build */
	char *m = vt_read_all("/proc/mounts");
	ck_assert_str_eq(m, "root / ramfs rw,size=1M 0 0\n"
			    "dev /dev devfs rw 0 0\n"
			    "t /tmp ramfs rw 0 0\n"
			    "procfs /proc procfs rw 0 0\n");
	free(m);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat("/x", &st), 0); /* the mount point was made */
}
END_TEST

START_TEST(test_boot_no_root_type)
{
	/* a table whose root cannot be mounted: ramfs takes its place */
	int r = vfs_mount_boot("r / cowfs");
	ck_assert_int_eq(r, 1);
	char *m = vt_read_all("/proc/mounts");
	ck_assert_ptr_nonnull(strstr(m, "none / ramfs"));
	free(m);
}
END_TEST

TCase *tcase_boot(void)
{
	TCase *tc = tcase_create("boot");
	tcase_add_checked_fixture(tc, boot_setup, vt_teardown);
	tcase_add_test(tc, test_boot_default);
	tcase_add_test(tc, test_boot_cmdline_table);
	tcase_add_test(tc, test_boot_no_root_type);
	return tc;
}
