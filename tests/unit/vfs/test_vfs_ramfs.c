/*
 * ramfs specifics: sparse files, large files, truncation, timestamps,
 * big directories.
 */
#include "vfs_test_util.h"

#include <karst/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_sparse_file)
{
	int fd = vfs_open("/sparse", O_CREAT | O_RDWR, 0644);
	const int64_t far = 1LL << 40; /* 1 TiB */
	ck_assert_int_eq(vfs_pwrite(fd, "end", 3, far), 3);
	ck_assert_int_eq(vfs_pwrite(fd, "start", 5, 0), 5);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_size, (uint64_t)far + 3);
	ck_assert_uint_eq(st.st_blocks, 2 * PAGE_SIZE / 512); /* two pages, not a terabyte */
	char buf[8192];
	memset(buf, 1, sizeof(buf));
	ck_assert_int_eq(vfs_pread(fd, buf, sizeof(buf), far / 2), (long)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 0);
	ck_assert_int_eq(vfs_pread(fd, buf, 10, far - 2), 5);
	ck_assert_mem_eq(buf, "\0\0end", 5);
	ck_assert_err(vfs_pwrite(fd, "x", 1, (int64_t)RAMFS_MAX_FILE), EFBIG);
	ck_assert_int_eq(vfs_pwrite(fd, "xy", 2, (int64_t)RAMFS_MAX_FILE - 1), 1);
	ck_assert_err(vfs_pwrite(fd, "x", 1, INT64_MAX), EFBIG);
	ck_assert_err(vfs_ftruncate(fd, (int64_t)RAMFS_MAX_FILE + 1), EFBIG);
	/* truncate in the middle of the far page, then back: zeros */
	ck_assert_int_eq(vfs_ftruncate(fd, far + 1), 0);
	ck_assert_int_eq(vfs_ftruncate(fd, far + 3), 0);
	ck_assert_int_eq(vfs_pread(fd, buf, 3, far), 3);
	ck_assert_mem_eq(buf, "e\0\0", 3);
	ck_assert_int_eq(vfs_ftruncate(fd, 2), 0);
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_blocks, PAGE_SIZE / 512);
	ck_assert_int_eq(vfs_ftruncate(fd, 0), 0);
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_blocks, 0);
	vfs_close(fd);
}
END_TEST

START_TEST(test_large_file_integrity)
{
	enum { SIZE = 3 * 1024 * 1024 + 123 };
	unsigned char *data = malloc(SIZE), *back = malloc(SIZE);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i * 31 + (i >> 12));
	int fd = vfs_open("/big", O_CREAT | O_RDWR, 0644);
	/* written in odd-sized pieces */
	size_t off = 0, step = 1;
	while (off < SIZE) {
		size_t n = step < SIZE - off ? step : SIZE - off;
		ck_assert_int_eq(vfs_write(fd, data + off, n), (long)n);
		off += n;
		step = step * 3 + 7;
		if (step > 200000)
			step = 5;
	}
	ck_assert_int_eq(vfs_pread(fd, back, SIZE, 0), SIZE);
	ck_assert_int_eq(memcmp(data, back, SIZE), 0);
	/* shrink to a page boundary minus one and check the tail is gone */
	ck_assert_int_eq(vfs_ftruncate(fd, 2 * PAGE_SIZE - 1), 0);
	ck_assert_int_eq(vfs_pread(fd, back, SIZE, 0), 2 * PAGE_SIZE - 1);
	ck_assert_int_eq(memcmp(data, back, 2 * PAGE_SIZE - 1), 0);
	vfs_close(fd);
	free(data);
	free(back);
}
END_TEST

START_TEST(test_timestamps)
{
	struct vfs_stat a, b, d0, d1;
	ck_assert_int_eq(vfs_stat("/", &d0), 0);
	uint64_t t0 = time_ns();
	ck_assert_int_eq(vt_write_str("/f", "x"), 0);
	ck_assert_int_eq(vfs_stat("/f", &a), 0);
	ck_assert_uint_ge(a.st_mtime_ns, t0);
	ck_assert_uint_ge(a.st_ctime_ns, t0);
	ck_assert_int_eq(vfs_stat("/", &d1), 0);
	ck_assert_uint_gt(d1.st_mtime_ns, d0.st_mtime_ns);
	int fd = vfs_open("/f", O_WRONLY | O_APPEND, 0);
	ck_assert_int_eq(vfs_write(fd, "y", 1), 1);
	vfs_close(fd);
	ck_assert_int_eq(vfs_stat("/f", &b), 0);
	ck_assert_uint_gt(b.st_mtime_ns, a.st_mtime_ns);
	ck_assert_int_eq(vfs_chmod("/f", 0600), 0);
	ck_assert_int_eq(vfs_stat("/f", &a), 0);
	ck_assert_uint_gt(a.st_ctime_ns, b.st_ctime_ns);
	ck_assert_uint_eq(a.st_mtime_ns, b.st_mtime_ns);
	char *s = vt_read_all("/f");
	free(s);
	ck_assert_int_eq(vfs_stat("/f", &b), 0);
	ck_assert_uint_gt(b.st_atime_ns, a.st_atime_ns);
}
END_TEST

START_TEST(test_big_directory)
{
	enum { N = 3000 };
	char p[64];
	ck_assert_int_eq(vfs_mkdir("/many", 0755), 0);
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "/many/file-%05d", i);
		int fd = vfs_open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
		ck_assert_int_ge(fd, 0);
		vfs_close(fd);
	}
	vfs_namecache_purge_all();
	for (int i = 0; i < N; i += 7) {
		struct vfs_stat st;
		snprintf(p, sizeof(p), "/many/file-%05d", i);
		ck_assert_int_eq(vfs_stat(p, &st), 0);
	}
	int fd = vfs_open("/many", O_RDONLY, 0);
	_Alignas(8) char buf[2048];
	long got;
	int n = 0;
	while ((got = vfs_getdents(fd, buf, sizeof(buf))) > 0)
		for (long off = 0; off < got; off += ((struct vfs_dirent *)(buf + off))->d_reclen)
			n++;
	vfs_close(fd);
	ck_assert_int_eq(n, N + 2);
	for (int i = 0; i < N; i += 2) {
		snprintf(p, sizeof(p), "/many/file-%05d", i);
		ck_assert_int_eq(vfs_unlink(p), 0);
	}
	char *s = vt_list("/many");
	ck_assert_uint_eq(strlen(s), (N / 2) * 11 - 1);
	free(s);
}
END_TEST

START_TEST(test_statfs_counts)
{
	struct vfs_statfs a, b;
	ck_assert_int_eq(vfs_statfs("/", &a), 0);
	ck_assert_str_eq(a.f_type, "ramfs");
	ck_assert_uint_eq(a.f_bsize, PAGE_SIZE);
	ck_assert_int_eq(vfs_mkdir("/x", 0755), 0);
	ck_assert_int_eq(vt_write_str("/x/y", "12345"), 0);
	ck_assert_int_eq(vfs_statfs("/x/y", &b), 0);
	ck_assert_uint_eq(b.f_files, a.f_files + 2);
	ck_assert_uint_eq(b.f_blocks, a.f_blocks + 1);
	ck_assert_uint_eq(b.f_fsid, a.f_fsid);
}
END_TEST

TCase *tcase_ramfs(void)
{
	TCase *tc = tcase_create("ramfs");
	tcase_add_checked_fixture(tc, vt_setup, vt_teardown);
	tcase_add_test(tc, test_sparse_file);
	tcase_add_test(tc, test_large_file_integrity);
	tcase_add_test(tc, test_timestamps);
	tcase_add_test(tc, test_big_directory);
	tcase_add_test(tc, test_statfs_counts);
	return tc;
}
