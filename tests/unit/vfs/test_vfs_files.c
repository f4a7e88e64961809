/*
 * Descriptors and file I/O: open flags, read/write/pread/pwrite,
 * readv/writev, lseek, getdents, fstat, ftruncate, dup, permissions.
 */
#include "vfs_test_util.h"
#include <pagecache.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_create_write_read)
{
	int fd = vfs_open("/a", O_CREAT | O_RDWR, 0644);
	ck_assert_int_eq(fd, 0); /* descriptors start at 0, none reserved */
	ck_assert_int_eq(vfs_write(fd, "hello world", 11), 11);
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_CUR), 11);
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_SET), 0);
	char buf[32] = {0};
	ck_assert_int_eq(vfs_read(fd, buf, sizeof(buf)), 11);
	ck_assert_str_eq(buf, "hello world");
	ck_assert_int_eq(vfs_read(fd, buf, sizeof(buf)), 0); /* EOF */
	int fd2 = vfs_open("/a", O_RDONLY, 0);
	ck_assert_int_eq(fd2, 1);
	ck_assert_int_eq(vfs_close(fd), 0);
	ck_assert_int_eq(vfs_open("/a", O_RDONLY, 0), 0); /* lowest free number again */
	ck_assert_int_eq(vfs_close(0), 0);
	ck_assert_int_eq(vfs_close(fd2), 0);
	ck_assert_err(vfs_close(fd2), EBADF);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat("/a", &st), 0);
	ck_assert_uint_eq(st.st_size, 11);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0644);
	ck_assert_uint_eq(st.st_nlink, 1);
}
END_TEST

START_TEST(test_open_flags)
{
	ck_assert_int_eq(vt_write_str("/f", "0123456789"), 0);
	ck_assert_err(vfs_open("/f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	ck_assert_err(vfs_open("/missing", O_RDONLY, 0), ENOENT);
	ck_assert_err(vfs_open("/f", O_RDONLY | O_DIRECTORY, 0), ENOTDIR);
	ck_assert_err(vfs_open("/f", O_ACCMODE, 0), EINVAL);
	ck_assert_err(vfs_open("/f", O_RDONLY | 0x40000000, 0), EINVAL);
	/* O_CREAT on an existing file opens it, unchanged */
	int fd = vfs_open("/f", O_CREAT | O_RDONLY, 0600);
	ck_assert_int_ge(fd, 0);
	vfs_close(fd);
	char *s = vt_read_all("/f");
	ck_assert_str_eq(s, "0123456789");
	free(s);
	/* O_TRUNC with write access empties it */
	fd = vfs_open("/f", O_WRONLY | O_TRUNC, 0);
	ck_assert_int_ge(fd, 0);
	vfs_close(fd);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat("/f", &st), 0);
	ck_assert_uint_eq(st.st_size, 0);
	/* O_APPEND: every write at the end, whatever the offset */
	ck_assert_int_eq(vt_write_str("/f", "abc"), 0);
	int a = vfs_open("/f", O_WRONLY | O_APPEND, 0);
	int b = vfs_open("/f", O_WRONLY, 0);
	ck_assert_int_eq(vfs_write(b, "XY", 2), 2); /* overwrites "ab" */
	ck_assert_int_eq(vfs_lseek(a, 0, SEEK_SET), 0);
	ck_assert_int_eq(vfs_write(a, "123", 3), 3);
	ck_assert_int_eq(vfs_lseek(a, 0, SEEK_CUR), 6);
	vfs_close(a);
	vfs_close(b);
	s = vt_read_all("/f");
	ck_assert_str_eq(s, "XYc123");
	free(s);
	/* directories */
	ck_assert_int_eq(vfs_mkdir("/d", 0755), 0);
	ck_assert_err(vfs_open("/d", O_WRONLY, 0), EISDIR);
	ck_assert_err(vfs_open("/d", O_RDWR, 0), EISDIR);
	ck_assert_err(vfs_open("/d", O_CREAT | O_RDONLY, 0644), EISDIR);
	ck_assert_err(vfs_open("/d/", O_CREAT | O_RDONLY, 0644), EISDIR);
	ck_assert_err(vfs_open("/new/", O_CREAT | O_RDWR, 0644), EISDIR);
	ck_assert_err(vfs_stat("/new", &st), ENOENT);
	fd = vfs_open("/d", O_RDONLY | O_DIRECTORY, 0);
	ck_assert_int_ge(fd, 0);
	char buf[8];
	ck_assert_err(vfs_read(fd, buf, sizeof(buf)), EISDIR);
	ck_assert_err(vfs_write(fd, buf, 1), EBADF);
	vfs_close(fd);
}
END_TEST

START_TEST(test_access_modes)
{
	ck_assert_int_eq(vt_write_str("/f", "data"), 0);
	int r = vfs_open("/f", O_RDONLY, 0), w = vfs_open("/f", O_WRONLY, 0);
	char buf[8];
	ck_assert_err(vfs_write(r, "x", 1), EBADF);
	ck_assert_err(vfs_pwrite(r, "x", 1, 0), EBADF);
	ck_assert_err(vfs_read(w, buf, 1), EBADF);
	ck_assert_err(vfs_pread(w, buf, 1, 0), EBADF);
	ck_assert_err(vfs_ftruncate(r, 0), EINVAL);
	vfs_close(r);
	vfs_close(w);
}
END_TEST

START_TEST(test_permissions)
{
	struct vfs_stat st;
	/* a file created 0444 may be written through the creating descriptor */
	int fd = vfs_open("/ro", O_CREAT | O_WRONLY, 0444);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(vfs_write(fd, "abc", 3), 3);
	vfs_close(fd);
	ck_assert_err(vfs_open("/ro", O_WRONLY, 0), EACCES);
	ck_assert_err(vfs_open("/ro", O_RDWR, 0), EACCES);
	ck_assert_err(vfs_open("/ro", O_WRONLY | O_TRUNC, 0), EACCES);
	ck_assert_err(vfs_truncate("/ro", 0), EACCES);
	ck_assert_int_eq(vfs_stat("/ro", &st), 0);
	ck_assert_uint_eq(st.st_size, 3); /* unchanged */
	fd = vfs_open("/ro", O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	vfs_close(fd);
	ck_assert_int_eq(vfs_chmod("/ro", 0), 0);
	ck_assert_err(vfs_open("/ro", O_RDONLY, 0), EACCES);
	ck_assert_int_eq(vfs_chmod("/ro", 0644), 0);
	ck_assert_int_eq(vfs_stat("/ro", &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0644);

	/* directories: w+x to change, x to pass through, r to list */
	ck_assert_int_eq(vfs_mkdir("/d", 0555), 0);
	ck_assert_err(vfs_open("/d/x", O_CREAT | O_WRONLY, 0644), EACCES);
	ck_assert_err(vfs_mkdir("/d/x", 0755), EACCES);
	ck_assert_err(vfs_symlink("t", "/d/x"), EACCES);
	ck_assert_int_eq(vfs_chmod("/d", 0755), 0);
	ck_assert_int_eq(vt_write_str("/d/x", "1"), 0);
	ck_assert_int_eq(vfs_chmod("/d", 0555), 0);
	ck_assert_err(vfs_unlink("/d/x"), EACCES);
	ck_assert_err(vfs_rename("/d/x", "/y"), EACCES);
	ck_assert_err(vfs_rename("/ro", "/d/z"), EACCES);
	ck_assert_err(vfs_link("/ro", "/d/z"), EACCES);
	ck_assert_int_eq(vfs_chmod("/d", 0644), 0); /* no search permission */
	ck_assert_err(vfs_stat("/d/x", &st), EACCES);
	ck_assert_err(vfs_chdir("/d"), EACCES);
	ck_assert_int_eq(vfs_chmod("/d", 0311), 0); /* no read permission */
	ck_assert_err(vfs_open("/d", O_RDONLY, 0), EACCES);
	ck_assert_int_eq(vfs_stat("/d/x", &st), 0);
	ck_assert_int_eq(vfs_chmod("/d", 0755), 0);
	ck_assert_int_eq(vfs_unlink("/d/x"), 0);
}
END_TEST

START_TEST(test_pread_pwrite)
{
	int fd = vfs_open("/p", O_CREAT | O_RDWR, 0644);
	ck_assert_int_eq(vfs_write(fd, "abcdef", 6), 6);
	ck_assert_int_eq(vfs_pwrite(fd, "XY", 2, 1), 2);
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_CUR), 6); /* offset untouched */
	char buf[8] = {0};
	ck_assert_int_eq(vfs_pread(fd, buf, 3, 0), 3);
	ck_assert_str_eq(buf, "aXY");
	ck_assert_int_eq(vfs_pread(fd, buf, 8, 100), 0);
	ck_assert_err(vfs_pread(fd, buf, 1, -1), EINVAL);
	ck_assert_err(vfs_pwrite(fd, buf, 1, -5), EINVAL);
	/* pwrite past the end leaves a hole of zeros */
	ck_assert_int_eq(vfs_pwrite(fd, "Z", 1, 10), 1);
	memset(buf, 0x55, sizeof(buf));
	ck_assert_int_eq(vfs_pread(fd, buf, 8, 4), 7);
	ck_assert_mem_eq(buf, "ef\0\0\0\0Z", 7);
	ck_assert_int_eq(vfs_read(fd, buf, 0), 0);
	vfs_close(fd);
}
END_TEST

START_TEST(test_readv_writev)
{
	int fd = vfs_open("/v", O_CREAT | O_RDWR, 0644);
	char a[] = "one-", b[] = "", c[] = "two-three";
	struct vfs_iovec wv[3] = {{a, 4}, {b, 0}, {c, 9}};
	ck_assert_int_eq(vfs_writev(fd, wv, 3), 13);
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_SET), 0);
	char x[2], y[5], z[10] = {0};
	struct vfs_iovec rv[3] = {{x, 2}, {y, 5}, {z, 10}};
	ck_assert_int_eq(vfs_readv(fd, rv, 3), 13);
	ck_assert_mem_eq(x, "on", 2);
	ck_assert_mem_eq(y, "e-two", 5);
	ck_assert_str_eq(z, "-three");
	ck_assert_int_eq(vfs_readv(fd, rv, 0), 0);
	ck_assert_err(vfs_readv(fd, rv, -1), EINVAL);
	ck_assert_err(vfs_writev(fd, wv, VFS_IOV_MAX + 1), EINVAL);
	ck_assert_err(vfs_readv(fd, NULL, 2), EINVAL);
	struct vfs_iovec bad[2] = {{x, 1}, {NULL, 4}};
	ck_assert_err(vfs_readv(fd, bad, 2), EFAULT);
	struct vfs_iovec huge[2] = {{x, (size_t)-1 / 2}, {y, (size_t)-1 / 2}};
	ck_assert_err(vfs_writev(fd, huge, 2), EINVAL);
	vfs_close(fd);
}
END_TEST

START_TEST(test_lseek)
{
	int fd = vfs_open("/s", O_CREAT | O_RDWR, 0644);
	ck_assert_int_eq(vfs_write(fd, "0123456789", 10), 10);
	ck_assert_int_eq(vfs_lseek(fd, -3, SEEK_END), 7);
	ck_assert_int_eq(vfs_lseek(fd, 2, SEEK_CUR), 9);
	ck_assert_int_eq(vfs_lseek(fd, 5, SEEK_SET), 5);
	ck_assert_err(vfs_lseek(fd, -6, SEEK_CUR), EINVAL);
	ck_assert_err(vfs_lseek(fd, -11, SEEK_END), EINVAL);
	ck_assert_err(vfs_lseek(fd, 0, 3), EINVAL);
	ck_assert_err(vfs_lseek(fd, INT64_MAX, SEEK_END), EINVAL);
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_CUR), 5); /* failed seeks move nothing */
	ck_assert_int_eq(vfs_lseek(fd, 100, SEEK_END), 110);
	ck_assert_int_eq(vfs_write(fd, "!", 1), 1);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_size, 111);
	vfs_close(fd);
	ck_assert_int_eq(vfs_mkdir("/dir", 0755), 0);
	fd = vfs_open("/dir", O_RDONLY, 0);
	ck_assert_err(vfs_lseek(fd, 0, SEEK_END), EINVAL);
	vfs_close(fd);
}
END_TEST

static int count_entries(int fd, size_t bufsize, char seen[][16], int max)
{
	_Alignas(8) char buf[4096];
	int n = 0;
	long got;
	while ((got = vfs_getdents(fd, buf, bufsize)) > 0) {
		for (long off = 0; off < got;) {
			struct vfs_dirent *d = (struct vfs_dirent *)(buf + off);
			ck_assert_uint_eq(d->d_reclen % 8, 0);
			ck_assert_int_lt(n, max);
			strncpy(seen[n++], d->d_name, 15);
			off += d->d_reclen;
		}
	}
	ck_assert_int_eq(got, 0);
	return n;
}

START_TEST(test_getdents)
{
	char seen[64][16];
	ck_assert_int_eq(vfs_mkdir("/d", 0755), 0);
	for (int i = 0; i < 20; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/d/f%02d", i);
		ck_assert_int_eq(vt_write_str(p, "x"), 0);
	}
	ck_assert_int_eq(vfs_mkdir("/d/sub", 0755), 0);
	ck_assert_int_eq(vfs_symlink("f00", "/d/ln"), 0);
	int fd = vfs_open("/d", O_RDONLY | O_DIRECTORY, 0);
	ck_assert_int_ge(fd, 0);
	/* a buffer that holds one record at a time: every entry exactly once */
	int n = count_entries(fd, 32, seen, 64);
	ck_assert_int_eq(n, 24);
	ck_assert_str_eq(seen[0], ".");
	ck_assert_str_eq(seen[1], "..");
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			ck_assert_str_ne(seen[i], seen[j]);
	/* rewind, and the types */
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_SET), 0);
	_Alignas(8) char buf[4096];
	long got = vfs_getdents(fd, buf, sizeof(buf));
	ck_assert_int_gt(got, 0);
	int types = 0;
	for (long off = 0; off < got;) {
		struct vfs_dirent *d = (struct vfs_dirent *)(buf + off);
		if (!strcmp(d->d_name, "sub")) {
			ck_assert_uint_eq(d->d_type, DT_DIR);
			types++;
		}
		if (!strcmp(d->d_name, "ln")) {
			ck_assert_uint_eq(d->d_type, DT_LNK);
			types++;
		}
		if (!strcmp(d->d_name, "f07")) {
			ck_assert_uint_eq(d->d_type, DT_REG);
			types++;
		}
		off += d->d_reclen;
	}
	ck_assert_int_eq(types, 3);
	/* too small for one record */
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_SET), 0);
	ck_assert_err(vfs_getdents(fd, buf, 8), EINVAL);
	ck_assert_err(vfs_getdents(fd, buf + 1, 100), EINVAL);
	ck_assert_err(vfs_getdents(fd, NULL, 100), EFAULT);
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_CUR), 0);
	/* entries removed while reading are not repeated; cookies resume */
	got = vfs_getdents(fd, buf, 64); /* ".", ".." and one or two more */
	ck_assert_int_gt(got, 0);
	ck_assert_int_eq(vfs_unlink("/d/f19"), 0);
	n = count_entries(fd, sizeof(buf), seen, 64);
	for (int i = 0; i < n; i++) {
		ck_assert_str_ne(seen[i], ".");
		ck_assert_str_ne(seen[i], "f19");
	}
	vfs_close(fd);
	/* d_off is a cookie lseek takes back: resume right after that entry */
	fd = vfs_open("/d", O_RDONLY, 0);
	got = vfs_getdents(fd, buf, sizeof(buf));
	ck_assert_int_gt(got, 0);
	struct vfs_dirent *third =
	    (struct vfs_dirent *)(buf + ((struct vfs_dirent *)buf)->d_reclen);
	third = (struct vfs_dirent *)((char *)third + third->d_reclen);
	char want[16];
	strncpy(want, third->d_name, sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	uint64_t cookie =
	    ((struct vfs_dirent *)(buf + ((struct vfs_dirent *)buf)->d_reclen))->d_off;
	ck_assert_int_eq(vfs_lseek(fd, (int64_t)cookie, SEEK_SET), (int64_t)cookie);
	ck_assert_int_gt(vfs_getdents(fd, buf, sizeof(buf)), 0);
	ck_assert_str_eq(((struct vfs_dirent *)buf)->d_name, want);
	vfs_close(fd);
	fd = vfs_open("/d/f00", O_RDONLY, 0);
	ck_assert_err(vfs_getdents(fd, buf, sizeof(buf)), ENOTDIR);
	vfs_close(fd);
}
END_TEST

START_TEST(test_fstat_ftruncate_fsync)
{
	int fd = vfs_open("/t", O_CREAT | O_RDWR, 0600);
	char big[10000];
	memset(big, 'q', sizeof(big));
	ck_assert_int_eq(vfs_write(fd, big, sizeof(big)), (long)sizeof(big));
	struct vfs_stat st, st2;
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_int_eq(vfs_stat("/t", &st2), 0);
	ck_assert_uint_eq(st.st_ino, st2.st_ino);
	ck_assert_uint_eq(st.st_dev, st2.st_dev);
	ck_assert_uint_eq(st.st_size, 10000);
	ck_assert_uint_eq(st.st_blocks, 3 * PAGE_SIZE / 512);
	ck_assert_int_eq(vfs_ftruncate(fd, 5000), 0);
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_size, 5000);
	ck_assert_uint_eq(st.st_blocks, 2 * PAGE_SIZE / 512);
	ck_assert_int_eq(vfs_ftruncate(fd, 20000), 0);
	char buf[100];
	ck_assert_int_eq(vfs_pread(fd, buf, 100, 4950), 100);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(buf[i], 'q');
	for (int i = 50; i < 100; i++)
		ck_assert_int_eq(buf[i], 0);
	ck_assert_err(vfs_ftruncate(fd, -1), EINVAL);
	ck_assert_int_eq(vfs_fsync(fd), 0);
	struct vfs_statfs sf;
	ck_assert_int_eq(vfs_fstatfs(fd, &sf), 0);
	ck_assert_str_eq(sf.f_type, "ramfs");
	ck_assert_uint_eq(sf.f_namemax, KARST_NAME_MAX);
	ck_assert_err(vfs_fstat(fd, NULL), EFAULT);
	ck_assert_err(vfs_ioctl(fd, 1, NULL), ENOTTY);
	vfs_close(fd);
	ck_assert_int_eq(vfs_truncate("/t", 0), 0);
	ck_assert_int_eq(vfs_stat("/t", &st), 0);
	ck_assert_uint_eq(st.st_size, 0);
	ck_assert_uint_eq(st.st_blocks, 0);
}
END_TEST

START_TEST(test_dup)
{
	int fd = vfs_open("/x", O_CREAT | O_RDWR, 0644);
	int d = vfs_dup(fd);
	ck_assert_int_eq(d, fd + 1);
	ck_assert_int_eq(vfs_write(fd, "ab", 2), 2);
	ck_assert_int_eq(vfs_write(d, "cd", 2), 2); /* shared offset */
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_CUR), 4);
	ck_assert_int_eq(vfs_dup2(fd, 10), 10);
	ck_assert_int_eq(vfs_dup2(fd, 10), 10); /* replaces itself */
	ck_assert_int_eq(vfs_dup2(fd, fd), fd);
	ck_assert_int_eq(vfs_close(fd), 0);
	ck_assert_int_eq(vfs_lseek(10, 0, SEEK_CUR), 4);
	ck_assert_err(vfs_dup(fd), EBADF);
	ck_assert_err(vfs_dup2(fd, 3), EBADF);
	ck_assert_err(vfs_dup2(d, VFS_MAX_FDS), EBADF);
	ck_assert_err(vfs_dup2(d, -1), EBADF);
	vfs_close(d);
	vfs_close(10);
	char *s = vt_read_all("/x");
	ck_assert_str_eq(s, "abcd");
	free(s);
}
END_TEST

START_TEST(test_fd_table_full)
{
	int fds[VFS_MAX_FDS];
	for (int i = 0; i < VFS_MAX_FDS; i++) {
		fds[i] = vfs_open("/", O_RDONLY, 0);
		ck_assert_int_eq(fds[i], i);
	}
	ck_assert_err(vfs_open("/", O_RDONLY, 0), EMFILE);
	ck_assert_err(vfs_dup(0), EMFILE);
	ck_assert_err(vfs_open("/new", O_CREAT | O_RDWR, 0644), EMFILE);
	vfs_close(17);
	ck_assert_int_eq(vfs_dup(3), 17);
	/* vfs_shutdown (the teardown) closes them all */
}
END_TEST

START_TEST(test_unlinked_open_file)
{
	struct vfs_statfs sf0, sf1;
	ck_assert_int_eq(vfs_statfs("/", &sf0), 0);
	int fd = vfs_open("/tmp", O_CREAT | O_RDWR, 0644);
	ck_assert_int_eq(vfs_write(fd, "still here", 10), 10);
	ck_assert_int_eq(vfs_unlink("/tmp"), 0);
	struct vfs_stat st;
	ck_assert_err(vfs_stat("/tmp", &st), ENOENT);
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_nlink, 0);
	char buf[16] = {0};
	ck_assert_int_eq(vfs_pread(fd, buf, 16, 0), 10);
	ck_assert_str_eq(buf, "still here");
	ck_assert_int_eq(vfs_statfs("/", &sf1), 0);
	ck_assert_uint_eq(sf1.f_files, sf0.f_files + 1);
	vfs_close(fd);
	ck_assert_int_eq(vfs_statfs("/", &sf1), 0);
	ck_assert_uint_eq(sf1.f_files, sf0.f_files); /* freed at the last close */
	ck_assert_uint_eq(sf1.f_blocks, sf0.f_blocks);
}
END_TEST

START_TEST(test_mmap_hook)
{
	int fd = vfs_open("/m", O_CREAT | O_RDWR, 0644);
	struct vfs_mmap_req req = {
	    .offset = 0, .length = 4096, .prot = VFS_PROT_READ, .flags = VFS_MAP_SHARED};
	/* ramfs maps through the page cache: the answer is its mapping
	 * object (holding the vnode), given back here unmapped. */
	ck_assert_int_eq(vfs_mmap(fd, &req), 0);
	ck_assert_ptr_nonnull(req.result);
	pc_mmap_cancel(req.result);
	req.result = NULL;
	req.offset = 100;
	ck_assert_err(vfs_mmap(fd, &req), EINVAL);
	req.offset = 0;
	req.length = 0;
	ck_assert_err(vfs_mmap(fd, &req), EINVAL);
	req.length = 4096;
	req.flags = VFS_MAP_SHARED | VFS_MAP_PRIVATE;
	ck_assert_err(vfs_mmap(fd, &req), EINVAL);
	req.flags = VFS_MAP_PRIVATE;
	req.prot = 0x80;
	ck_assert_err(vfs_mmap(fd, &req), EINVAL);
	ck_assert_err(vfs_mmap(fd, NULL), EINVAL);
	vfs_close(fd);
	fd = vfs_open("/m", O_RDONLY, 0);
	req.prot = VFS_PROT_READ | VFS_PROT_WRITE;
	req.flags = VFS_MAP_SHARED;
	ck_assert_err(vfs_mmap(fd, &req), EACCES);
	vfs_close(fd);
	fd = vfs_open("/m", O_WRONLY, 0);
	req.prot = VFS_PROT_READ;
	ck_assert_err(vfs_mmap(fd, &req), EACCES);
	vfs_close(fd);
	ck_assert_err(vfs_mmap(fd, &req), EBADF);
}
END_TEST

TCase *tcase_files(void)
{
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, vt_setup, vt_teardown);
	tcase_add_test(tc, test_create_write_read);
	tcase_add_test(tc, test_open_flags);
	tcase_add_test(tc, test_access_modes);
	tcase_add_test(tc, test_permissions);
	tcase_add_test(tc, test_pread_pwrite);
	tcase_add_test(tc, test_readv_writev);
	tcase_add_test(tc, test_lseek);
	tcase_add_test(tc, test_getdents);
	tcase_add_test(tc, test_fstat_ftruncate_fsync);
	tcase_add_test(tc, test_dup);
	tcase_add_test(tc, test_fd_table_full);
	tcase_add_test(tc, test_unlinked_open_file);
	tcase_add_test(tc, test_mmap_hook);
	return tc;
}
