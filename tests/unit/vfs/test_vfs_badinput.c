/*
 * Bad input: every call with paths too long, names too long, empty and
 * NULL paths, garbage names, descriptors out of range, reads of
 * directories, writes to read-only mounts, rmdir of "/" and of mount
 * points, a directory renamed into its own child. Each must return its
 * errno and leave the tree exactly as it was.
 */
#include "vfs_test_util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *before;

static void bad_setup(void)
{
	vt_boot();
	ck_assert_int_eq(vfs_mkdir("/d", 0755), 0);
	ck_assert_int_eq(vfs_mkdir("/d/sub", 0755), 0);
	ck_assert_int_eq(vt_write_str("/d/f", "file"), 0);
	ck_assert_int_eq(vfs_symlink("f", "/d/l"), 0);
	ck_assert_int_eq(vfs_mkdir("/mnt", 0755), 0);
	ck_assert_int_eq(vfs_mount("m", "/mnt", "ramfs", 0, NULL), 0);
	ck_assert_int_eq(vt_write_str("/mnt/g", "g"), 0);
	ck_assert_int_eq(vfs_mkdir("/ro", 0755), 0);
	ck_assert_int_eq(vfs_mount("r", "/ro", "ramfs", 0, NULL), 0);
	ck_assert_int_eq(vt_write_str("/ro/h", "h"), 0);
	ck_assert_int_eq(vfs_remount("/ro", VFS_MNT_RDONLY), 0);
	before = vt_snapshot("/");
}

static void bad_teardown(void)
{
	char *after = vt_snapshot("/");
	ck_assert_str_eq(before, after); /* nothing changed */
	free(before);
	free(after);
	vt_teardown();
}

/* Every path-taking call with path p must fail with err. */
static void all_path_calls(const char *p, int err)
{
	struct vfs_stat st;
	struct vfs_statfs sf;
	char buf[64];
	ck_assert_err(vfs_open(p, O_RDONLY, 0), err);
	ck_assert_err(vfs_open(p, O_CREAT | O_RDWR, 0644), err);
	ck_assert_err(vfs_open(p, O_CREAT | O_EXCL | O_RDWR, 0644), err);
	ck_assert_err(vfs_stat(p, &st), err);
	ck_assert_err(vfs_lstat(p, &st), err);
	ck_assert_err(vfs_statfs(p, &sf), err);
	ck_assert_err(vfs_mkdir(p, 0755), err);
	ck_assert_err(vfs_rmdir(p), err);
	ck_assert_err(vfs_unlink(p), err);
	ck_assert_err(vfs_rename(p, "/d/x"), err);
	ck_assert_err(vfs_rename("/d/f", p), err);
	ck_assert_err(vfs_link("/d/f", p), err);
	ck_assert_err(vfs_link(p, "/d/x"), err);
	ck_assert_err(vfs_symlink("/d/f", p), err);
	ck_assert_err(vfs_readlink(p, buf, sizeof(buf)), err);
	ck_assert_err(vfs_truncate(p, 0), err);
	ck_assert_err(vfs_chmod(p, 0777), err);
	ck_assert_err(vfs_chdir(p), err);
	ck_assert_err(vfs_mount("s", p, "ramfs", 0, NULL), err);
	ck_assert_err(vfs_umount(p), err);
	ck_assert_err(vfs_remount(p, 0), err);
}

START_TEST(test_path_too_long)
{
	char *p = malloc(KARST_PATH_MAX + 10);
	/* "/d/././././..." of exactly KARST_PATH_MAX bytes (without the NUL) */
	strcpy(p, "/d");
	while (strlen(p) < KARST_PATH_MAX)
		strcat(p, "/.");
	p[KARST_PATH_MAX] = '\0';
	ck_assert_uint_eq(strlen(p), KARST_PATH_MAX);
	all_path_calls(p, ENAMETOOLONG);
	ck_assert_err(vfs_symlink(p, "/d/x"), ENAMETOOLONG); /* as a target */
	/* one byte shorter is a valid path */
	p[KARST_PATH_MAX - 1] = '\0';
	if (p[KARST_PATH_MAX - 2] == '/')
		p[KARST_PATH_MAX - 2] = '.';
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	free(p);
}
END_TEST

START_TEST(test_name_too_long)
{
	char p[KARST_NAME_MAX + 16];
	strcpy(p, "/d/");
	memset(p + 3, 'n', KARST_NAME_MAX + 1);
	p[3 + KARST_NAME_MAX + 1] = '\0';
	all_path_calls(p, ENAMETOOLONG);
	/* in the middle of a path too */
	char q[KARST_NAME_MAX + 32];
	snprintf(q, sizeof(q), "%s/f", p);
	all_path_calls(q, ENAMETOOLONG);
	/* exactly NAME_MAX is fine (made and removed: the tree ends unchanged) */
	p[3 + KARST_NAME_MAX] = '\0';
	ck_assert_int_eq(vt_write_str(p, "ok"), 0);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat(p, &st), 0);
	ck_assert_int_eq(vfs_unlink(p), 0);
}
END_TEST

START_TEST(test_empty_and_null_paths)
{
	all_path_calls("", ENOENT);
	all_path_calls(NULL, EINVAL);
	ck_assert_err(vfs_symlink("", "/d/x"), ENOENT);
	ck_assert_err(vfs_symlink(NULL, "/d/x"), EINVAL);
}
END_TEST

START_TEST(test_garbage_lookups)
{
	/* random NUL-free bytes: names that do not exist */
	srand(42);
	char p[128];
	for (int i = 0; i < 500; i++) {
		int n = 1 + rand() % 100;
		p[0] = '/';
		for (int j = 1; j <= n; j++) {
			int c;
			do
				c = rand() % 256;
			while (c == 0);
			p[j] = (char)c;
		}
		p[n + 1] = '\0';
		struct vfs_stat st;
		int r = vfs_lstat(p, &st);
		/* only paths made of '/', '.' and existing names can exist */
		if (r == 0)
			continue;
		ck_assert_msg(r == -ENOENT || r == -ENOTDIR, "lstat of garbage: %d", r);
		ck_assert_int_eq(vfs_open(p, O_RDONLY, 0), r);
		ck_assert_int_eq(vfs_unlink(p), r == -ENOENT ? -ENOENT : r);
	}
}
END_TEST

START_TEST(test_bad_descriptors)
{
	int bad[] = {-1, -1000, INT_MIN, VFS_MAX_FDS, VFS_MAX_FDS + 1, INT_MAX, 5 /* closed */};
	char buf[16];
	struct vfs_iovec iov = {buf, sizeof(buf)};
	struct vfs_stat st;
	struct vfs_statfs sf;
	struct vfs_mmap_req req = {.length = 4096, .prot = VFS_PROT_READ, .flags = VFS_MAP_SHARED};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = bad[i];
		ck_assert_err(vfs_read(fd, buf, sizeof(buf)), EBADF);
		ck_assert_err(vfs_write(fd, buf, sizeof(buf)), EBADF);
		ck_assert_err(vfs_pread(fd, buf, sizeof(buf), 0), EBADF);
		ck_assert_err(vfs_pwrite(fd, buf, sizeof(buf), 0), EBADF);
		ck_assert_err(vfs_readv(fd, &iov, 1), EBADF);
		ck_assert_err(vfs_writev(fd, &iov, 1), EBADF);
		ck_assert_err(vfs_lseek(fd, 0, SEEK_SET), EBADF);
		ck_assert_err(vfs_getdents(fd, buf, sizeof(buf)), EBADF);
		ck_assert_err(vfs_fstat(fd, &st), EBADF);
		ck_assert_err(vfs_fstatfs(fd, &sf), EBADF);
		ck_assert_err(vfs_ftruncate(fd, 0), EBADF);
		ck_assert_err(vfs_fsync(fd), EBADF);
		ck_assert_err(vfs_ioctl(fd, 0, NULL), EBADF);
		ck_assert_err(vfs_mmap(fd, &req), EBADF);
		ck_assert_err(vfs_dup(fd), EBADF);
		ck_assert_err(vfs_dup2(fd, 3), EBADF);
		ck_assert_err(vfs_close(fd), EBADF);
	}
}
END_TEST

START_TEST(test_read_directory_and_bad_buffers)
{
	int fd = vfs_open("/d", O_RDONLY, 0);
	char buf[16];
	struct vfs_iovec iov = {buf, sizeof(buf)};
	ck_assert_err(vfs_read(fd, buf, sizeof(buf)), EISDIR);
	ck_assert_err(vfs_pread(fd, buf, sizeof(buf), 0), EISDIR);
	ck_assert_err(vfs_readv(fd, &iov, 1), EISDIR);
	ck_assert_err(vfs_ftruncate(fd, 0), EINVAL);
	vfs_close(fd);
	fd = vfs_open("/d/f", O_RDWR, 0);
	ck_assert_err(vfs_read(fd, NULL, 10), EFAULT);
	ck_assert_err(vfs_write(fd, NULL, 10), EFAULT);
	ck_assert_int_eq(vfs_write(fd, NULL, 0), 0);
	vfs_close(fd);
	ck_assert_err(vfs_truncate("/d", 0), EISDIR);
	ck_assert_err(vfs_truncate("/d/f", -1), EINVAL);
	ck_assert_err(vfs_stat("/d/f", NULL), EFAULT);
	ck_assert_err(vfs_statfs("/d/f", NULL), EINVAL);
}
END_TEST

START_TEST(test_write_readonly_mount)
{
	ck_assert_err(vfs_open("/ro/h", O_WRONLY, 0), EROFS);
	ck_assert_err(vfs_open("/ro/h", O_RDWR | O_APPEND, 0), EROFS);
	ck_assert_err(vfs_open("/ro/new", O_CREAT | O_WRONLY, 0644), EROFS);
	ck_assert_err(vfs_truncate("/ro/h", 0), EROFS);
	ck_assert_err(vfs_unlink("/ro/h"), EROFS);
	ck_assert_err(vfs_mkdir("/ro/x", 0755), EROFS);
}
END_TEST

START_TEST(test_rmdir_root_and_mountpoints)
{
	ck_assert_err(vfs_rmdir("/"), EBUSY);
	ck_assert_err(vfs_rmdir("///"), EBUSY);
	ck_assert_err(vfs_rmdir("/mnt"), EBUSY);
	ck_assert_err(vfs_rmdir("/mnt/"), EBUSY);
	ck_assert_err(vfs_rmdir("/mnt/."), EINVAL);
	ck_assert_err(vfs_rmdir("/ro"), EBUSY);
	ck_assert_err(vfs_unlink("/mnt"), EISDIR);
	ck_assert_err(vfs_rename("/mnt", "/d/m"), EBUSY);
	ck_assert_err(vfs_rename("/d/sub", "/mnt"), EBUSY);
}
END_TEST

START_TEST(test_rename_into_own_child)
{
	ck_assert_err(vfs_rename("/d", "/d/sub/x"), EINVAL);
	ck_assert_err(vfs_rename("/d", "/d/sub"), EINVAL);
	ck_assert_err(vfs_rename("/d", "/d/x"), EINVAL);
	ck_assert_err(vfs_rename("/d/", "/d/sub/"), EINVAL);
	ck_assert_int_eq(vfs_chdir("/d/sub"), 0);
	ck_assert_err(vfs_rename("..", "x"), EINVAL);
	ck_assert_err(vfs_rename("/d", "x"), EINVAL);
	ck_assert_int_eq(vfs_chdir("/"), 0);
}
END_TEST

TCase *tcase_badinput(void)
{
	TCase *tc = tcase_create("badinput");
	tcase_add_checked_fixture(tc, bad_setup, bad_teardown);
	tcase_add_test(tc, test_path_too_long);
	tcase_add_test(tc, test_name_too_long);
	tcase_add_test(tc, test_empty_and_null_paths);
	tcase_add_test(tc, test_garbage_lookups);
	tcase_add_test(tc, test_bad_descriptors);
	tcase_add_test(tc, test_read_directory_and_bad_buffers);
	tcase_add_test(tc, test_write_readonly_mount);
	tcase_add_test(tc, test_rmdir_root_and_mountpoints);
	tcase_add_test(tc, test_rename_into_own_child);
	return tc;
}
