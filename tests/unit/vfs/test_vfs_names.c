/*
 * Names: mkdir, rmdir, unlink, rename, link, symlink, readlink, and the
 * name cache staying right across them.
 */
#include "vfs_test_util.h"
#include <karst/reclaim.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t nlink_of(const char *path)
{
	struct vfs_stat st;
	ck_assert_int_eq(vfs_lstat(path, &st), 0);
	return st.st_nlink;
}

static uint64_t ino_of(const char *path)
{
	struct vfs_stat st;
	ck_assert_int_eq(vfs_lstat(path, &st), 0);
	return st.st_ino;
}

START_TEST(test_mkdir_rmdir)
{
	struct vfs_stat st;
	ck_assert_int_eq(vfs_mkdir("/a", 0750), 0);
	ck_assert_int_eq(vfs_stat("/a", &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0750);
	ck_assert_uint_eq(st.st_nlink, 2);
	uint32_t root_links = nlink_of("/");
	ck_assert_err(vfs_mkdir("/a", 0755), EEXIST);
	ck_assert_err(vfs_mkdir("/a/", 0755), EEXIST);
	ck_assert_err(vfs_mkdir("/", 0755), EEXIST);
	ck_assert_err(vfs_mkdir("/a/.", 0755), EEXIST);
	ck_assert_err(vfs_mkdir("/a/..", 0755), EEXIST);
	ck_assert_err(vfs_mkdir("/nope/b", 0755), ENOENT);
	ck_assert_int_eq(vfs_mkdir("/a/b/", 0755), 0); /* trailing slash is fine */
	ck_assert_uint_eq(nlink_of("/a"), 3);
	ck_assert_int_eq(vt_write_str("/a/f", "x"), 0);
	ck_assert_err(vfs_mkdir("/a/f/g", 0755), ENOTDIR);
	ck_assert_err(vfs_rmdir("/a"), ENOTEMPTY);
	ck_assert_err(vfs_rmdir("/a/f"), ENOTDIR);
	ck_assert_err(vfs_rmdir("/a/f/"), ENOTDIR);
	ck_assert_err(vfs_rmdir("/a/b/."), EINVAL);
	ck_assert_err(vfs_rmdir("/a/b/.."), ENOTEMPTY);
	ck_assert_err(vfs_rmdir("/a/missing"), ENOENT);
	ck_assert_err(vfs_unlink("/a/b"), EISDIR);
	ck_assert_err(vfs_unlink("/a/f/"), ENOTDIR);
	ck_assert_err(vfs_unlink("/a/b/."), EISDIR);
	ck_assert_err(vfs_unlink("/"), EISDIR);
	ck_assert_int_eq(vfs_rmdir("/a/b/"), 0);
	ck_assert_uint_eq(nlink_of("/a"), 2);
	ck_assert_int_eq(vfs_unlink("/a/f"), 0);
	ck_assert_err(vfs_unlink("/a/f"), ENOENT);
	ck_assert_int_eq(vfs_rmdir("/a"), 0);
	ck_assert_err(vfs_stat("/a", &st), ENOENT);
	ck_assert_uint_eq(nlink_of("/"), root_links - 1);
}
END_TEST

START_TEST(test_rmdir_cwd)
{
	char buf[64];
	ck_assert_int_eq(vfs_mkdir("/gone", 0755), 0);
	ck_assert_int_eq(vfs_chdir("/gone"), 0);
	ck_assert_int_eq(vfs_rmdir("/gone"), 0);
	ck_assert_err(vfs_getcwd(buf, sizeof(buf)), ENOENT);
	ck_assert_err(vfs_open("new", O_CREAT | O_RDWR, 0644), ENOENT);
	ck_assert_err(vfs_mkdir("sub", 0755), ENOENT);
	ck_assert_err(vfs_stat("..", &(struct vfs_stat){0}), ENOENT);
	ck_assert_int_eq(vfs_chdir("/"), 0);
}
END_TEST

START_TEST(test_rename_files)
{
	ck_assert_int_eq(vt_write_str("/a", "AAA"), 0);
	ck_assert_int_eq(vt_write_str("/b", "BB"), 0);
	uint64_t ia = ino_of("/a");
	int keep = vfs_open("/b", O_RDONLY, 0); /* the replaced file stays readable */
	ck_assert_int_eq(vfs_rename("/a", "/b"), 0);
	struct vfs_stat st;
	ck_assert_err(vfs_stat("/a", &st), ENOENT);
	ck_assert_uint_eq(ino_of("/b"), ia);
	char *s = vt_read_all("/b");
	ck_assert_str_eq(s, "AAA");
	free(s);
	char buf[4] = {0};
	ck_assert_int_eq(vfs_read(keep, buf, 3), 2);
	ck_assert_str_eq(buf, "BB");
	vfs_close(keep);
	/* to a new name in another directory */
	ck_assert_int_eq(vfs_mkdir("/d", 0755), 0);
	ck_assert_int_eq(vfs_rename("/b", "/d/c"), 0);
	ck_assert_uint_eq(ino_of("/d/c"), ia);
	/* onto itself, and between two names of one file: nothing happens */
	ck_assert_int_eq(vfs_rename("/d/c", "/d/c"), 0);
	ck_assert_int_eq(vfs_link("/d/c", "/d/c2"), 0);
	ck_assert_int_eq(vfs_rename("/d/c", "/d/c2"), 0);
	ck_assert_uint_eq(nlink_of("/d/c"), 2);
	ck_assert_uint_eq(nlink_of("/d/c2"), 2);
	/* errors */
	ck_assert_err(vfs_rename("/missing", "/x"), ENOENT);
	ck_assert_err(vfs_rename("/d/c", "/nodir/x"), ENOENT);
	ck_assert_err(vfs_rename("/d/c", "/d"), EISDIR);
	ck_assert_err(vfs_rename("/d/c", "/x/"), ENOTDIR);
	ck_assert_err(vfs_rename("/d/c/", "/x"), ENOTDIR);
	ck_assert_err(vfs_rename("/d/c", "/d/."), EINVAL);
	ck_assert_err(vfs_rename("/d/.", "/e"), EINVAL);
	ck_assert_err(vfs_rename("/d/..", "/e"), EINVAL);
	ck_assert_err(vfs_rename("/", "/e"), EBUSY);
	ck_assert_err(vfs_rename("/d", "/"), EBUSY);
}
END_TEST

START_TEST(test_rename_dirs)
{
	ck_assert_int_eq(vfs_mkdir("/a", 0755), 0);
	ck_assert_int_eq(vfs_mkdir("/a/sub", 0755), 0);
	ck_assert_int_eq(vt_write_str("/a/sub/f", "x"), 0);
	ck_assert_int_eq(vfs_mkdir("/b", 0755), 0);
	ck_assert_int_eq(vfs_mkdir("/full", 0755), 0);
	ck_assert_int_eq(vt_write_str("/full/g", "y"), 0);
	ck_assert_int_eq(vt_write_str("/file", "z"), 0);
	ck_assert_err(vfs_rename("/a", "/full"), ENOTEMPTY);
	ck_assert_err(vfs_rename("/a", "/file"), ENOTDIR);
	ck_assert_err(vfs_rename("/a", "/a/sub/x"), EINVAL);
	ck_assert_err(vfs_rename("/a", "/a/x"), EINVAL);
	ck_assert_err(vfs_rename("/a/sub/..", "/q"), EINVAL);
	uint32_t root_links = nlink_of("/");
	/* over an empty directory, keeping the subtree */
	ck_assert_int_eq(vfs_rename("/a", "/b"), 0);
	ck_assert_uint_eq(nlink_of("/"), root_links - 1);
	char *s = vt_read_all("/b/sub/f");
	ck_assert_str_eq(s, "x");
	free(s);
	/* into another directory: link counts follow */
	ck_assert_int_eq(vfs_rename("/b/sub", "/full/sub2/"), 0);
	ck_assert_uint_eq(nlink_of("/b"), 2);
	ck_assert_uint_eq(nlink_of("/full"), 3);
	char buf[64];
	ck_assert_int_eq(vfs_chdir("/full/sub2"), 0);
	ck_assert_int_eq(vfs_getcwd(buf, sizeof(buf)), 10);
	ck_assert_str_eq(buf, "/full/sub2");
	ck_assert_int_eq(vfs_chdir(".."), 0);
	ck_assert_int_eq(vfs_getcwd(buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "/full");
	ck_assert_int_eq(vfs_chdir("/"), 0);
}
END_TEST

START_TEST(test_links)
{
	ck_assert_int_eq(vt_write_str("/f", "data"), 0);
	ck_assert_int_eq(vfs_mkdir("/d", 0755), 0);
	ck_assert_int_eq(vfs_link("/f", "/d/g"), 0);
	ck_assert_uint_eq(ino_of("/f"), ino_of("/d/g"));
	ck_assert_uint_eq(nlink_of("/f"), 2);
	ck_assert_err(vfs_link("/f", "/d/g"), EEXIST);
	ck_assert_err(vfs_link("/d", "/d2"), EPERM);
	ck_assert_err(vfs_link("/missing", "/x"), ENOENT);
	ck_assert_err(vfs_link("/f", "/"), EEXIST);
	ck_assert_err(vfs_link("/f", "/new/"), ENOENT);
	ck_assert_int_eq(vfs_unlink("/f"), 0);
	ck_assert_uint_eq(nlink_of("/d/g"), 1);
	char *s = vt_read_all("/d/g");
	ck_assert_str_eq(s, "data");
	free(s);
	/* link does not follow a symlink: it links the link */
	ck_assert_int_eq(vfs_symlink("/d/g", "/sl"), 0);
	ck_assert_int_eq(vfs_link("/sl", "/sl2"), 0);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_lstat("/sl2", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_uint_eq(st.st_nlink, 2);
}
END_TEST

START_TEST(test_symlinks)
{
	char buf[64];
	ck_assert_int_eq(vt_write_str("/target", "T"), 0);
	ck_assert_int_eq(vfs_symlink("target", "/rel"), 0);
	ck_assert_int_eq(vfs_symlink("/target", "/abs"), 0);
	ck_assert_int_eq(vfs_symlink("nowhere", "/dangling"), 0);
	ck_assert_err(vfs_symlink("x", "/rel"), EEXIST);
	ck_assert_err(vfs_symlink("x", "/"), EEXIST);
	ck_assert_err(vfs_symlink("", "/empty"), ENOENT);
	ck_assert_err(vfs_symlink("x", "/new/"), ENOENT);
	ck_assert_int_eq(vfs_readlink("/rel", buf, sizeof(buf)), 6);
	ck_assert_mem_eq(buf, "target", 6);
	ck_assert_int_eq(vfs_readlink("/abs", buf, 3), 3); /* truncated, no NUL */
	ck_assert_mem_eq(buf, "/ta", 3);
	ck_assert_err(vfs_readlink("/target", buf, sizeof(buf)), EINVAL);
	ck_assert_err(vfs_readlink("/rel", buf, 0), EINVAL);
	ck_assert_err(vfs_readlink("/rel", NULL, 5), EFAULT);
	ck_assert_err(vfs_readlink("/missing", buf, sizeof(buf)), ENOENT);
	struct vfs_stat st, lst;
	ck_assert_int_eq(vfs_stat("/rel", &st), 0);
	ck_assert_int_eq(vfs_lstat("/rel", &lst), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert(S_ISLNK(lst.st_mode));
	ck_assert_uint_eq(lst.st_size, 6);
	ck_assert_uint_eq(st.st_ino, ino_of("/target"));
	ck_assert_err(vfs_stat("/dangling", &st), ENOENT);
	ck_assert_int_eq(vfs_lstat("/dangling", &st), 0);
	/* unlink removes the link, not the target */
	ck_assert_int_eq(vfs_unlink("/abs"), 0);
	ck_assert_int_eq(vfs_stat("/target", &st), 0);
	/* rename moves the link itself */
	ck_assert_int_eq(vfs_rename("/rel", "/rel2"), 0);
	ck_assert_int_eq(vfs_lstat("/rel2", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

START_TEST(test_namecache_invalidation)
{
	struct vfs_stat st;
	struct vfs_nc_stats a, b;
	ck_assert_int_eq(vfs_mkdir("/d", 0755), 0);
	ck_assert_err(vfs_stat("/d/x", &st), ENOENT); /* negative entry */
	vfs_namecache_stats(&a);
	ck_assert_err(vfs_stat("/d/x", &st), ENOENT);
	vfs_namecache_stats(&b);
	ck_assert_uint_eq(b.neg_hits, a.neg_hits + 1); /* answered by the cache */
	ck_assert_int_eq(vt_write_str("/d/x", "1"), 0);
	ck_assert_int_eq(vfs_stat("/d/x", &st), 0); /* the negative entry went */
	vfs_namecache_stats(&a);
	ck_assert_int_eq(vfs_stat("/d/x", &st), 0);
	vfs_namecache_stats(&b);
	ck_assert_uint_eq(b.hits, a.hits + 2); /* "d" and "x" */
	ck_assert_int_eq(vfs_unlink("/d/x"), 0);
	ck_assert_err(vfs_stat("/d/x", &st), ENOENT);
	ck_assert_int_eq(vfs_mkdir("/d/x", 0755), 0);
	ck_assert_int_eq(vfs_stat("/d/x", &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(vfs_rmdir("/d/x"), 0);
	ck_assert_err(vfs_stat("/d/x", &st), ENOENT);
	ck_assert_int_eq(vfs_symlink("y", "/d/x"), 0);
	ck_assert_int_eq(vfs_lstat("/d/x", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(vfs_rename("/d/x", "/d/z"), 0);
	ck_assert_err(vfs_lstat("/d/x", &st), ENOENT);
	ck_assert_int_eq(vfs_lstat("/d/z", &st), 0);
	ck_assert_int_eq(vt_write_str("/d/f", "1"), 0);
	ck_assert_int_eq(vfs_stat("/d/f", &st), 0);
	ck_assert_int_eq(vfs_link("/d/f", "/d/x"), 0);
	ck_assert_int_eq(vfs_stat("/d/x", &st), 0);
	/* a renamed directory: lookups below it follow the new name only */
	ck_assert_int_eq(vfs_stat("/d/f", &st), 0);
	ck_assert_int_eq(vfs_rename("/d", "/e"), 0);
	ck_assert_err(vfs_stat("/d/f", &st), ENOENT);
	ck_assert_int_eq(vfs_stat("/e/f", &st), 0);
	vfs_namecache_purge_all();
	vfs_namecache_stats(&a);
	ck_assert_uint_eq(a.entries, 0);
	ck_assert_int_eq(vfs_stat("/e/f", &st), 0);
}
END_TEST

/* Low memory: the lowmem hint halves the cache's bound; later entries
 * evict down to it a batch at a time, every name still resolves, and
 * entries made without pressure raise the bound again. */
START_TEST(test_namecache_lowmem)
{
	char path[64];
	struct vfs_stat st;
	struct vfs_nc_stats a, b;
	ck_assert_int_eq(vfs_mkdir("/w", 0755), 0);
	for (int i = 0; i < 1200; i++) {
		snprintf(path, sizeof(path), "/w/f%d", i);
		ck_assert_int_eq(vt_write_str(path, "x"), 0);
		ck_assert_int_eq(vfs_stat(path, &st), 0);
	}
	vfs_namecache_stats(&a);
	ck_assert_uint_ge(a.entries, 1200);
	ck_assert_uint_eq(a.limit, 16384);
	reclaim_lowmem();
	vfs_namecache_stats(&b);
	ck_assert_uint_eq(b.lowmem, a.lowmem + 1);
	ck_assert_uint_eq(b.limit, a.entries / 2);
	ck_assert_uint_eq(b.entries, a.entries); /* nothing evicted in the hint itself */
	for (int i = 0; i < 20; i++) { /* negative entries: each may evict a batch */
		snprintf(path, sizeof(path), "/w/none%d", i);
		ck_assert_err(vfs_stat(path, &st), ENOENT);
	}
	vfs_namecache_stats(&b);
	ck_assert_uint_le(b.entries, b.limit);
	ck_assert_uint_le(b.limit, a.entries / 2 + 20);
	ck_assert_uint_ge(b.evictions, a.evictions + a.entries / 2 - 20);
	for (int i = 0; i < 1200; i++) {
		snprintf(path, sizeof(path), "/w/f%d", i);
		ck_assert_int_eq(vfs_stat(path, &st), 0);
	}
	vfs_namecache_stats(&a);
	ck_assert_uint_gt(a.limit, b.limit); /* no pressure: the bound grows back */
}
END_TEST

START_TEST(test_garbage_names)
{
	/* every byte but '/' and NUL is allowed in a name, and comes back as is */
	char name[300], path[320];
	int n = 0;
	for (int c = 1; c < 256; c++) {
		if (c == '/')
			continue;
		name[n++] = (char)c;
		if (n == 200 || c == 255) {
			name[n] = '\0';
			snprintf(path, sizeof(path), "/%s", name);
			ck_assert_int_eq(vt_write_str(path, name), 0);
			char *s = vt_read_all(path);
			ck_assert_str_eq(s, name);
			free(s);
			n = 0;
		}
	}
	char *list = vt_list("/");
	ck_assert_uint_eq(strlen(list), 254 + 1); /* two names and a space */
	free(list);
	ck_assert_int_eq(vfs_mkdir("/\xff\xfe\x01", 0755), 0);
	ck_assert_int_eq(vfs_rename("/\xff\xfe\x01", "/\x7f\x80"), 0);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat("/\x7f\x80", &st), 0);
	ck_assert_err(vfs_stat("/\xff\xfe\x01", &st), ENOENT);
}
END_TEST

TCase *tcase_names(void)
{
	TCase *tc = tcase_create("names");
	tcase_add_checked_fixture(tc, vt_setup, vt_teardown);
	tcase_add_test(tc, test_mkdir_rmdir);
	tcase_add_test(tc, test_rmdir_cwd);
	tcase_add_test(tc, test_rename_files);
	tcase_add_test(tc, test_namecache_lowmem);
	tcase_add_test(tc, test_rename_dirs);
	tcase_add_test(tc, test_links);
	tcase_add_test(tc, test_symlinks);
	tcase_add_test(tc, test_namecache_invalidation);
	tcase_add_test(tc, test_garbage_names);
	return tc;
}
