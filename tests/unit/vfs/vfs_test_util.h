/*
 * Helpers shared by the VFS suites and vfs_bench: booting a VFS with
 * ramfs at "/" (plus procfs and devfs registered), whole-file I/O, and
 * snapshots of a tree for "this call changed nothing" assertions.
 */
#ifndef VFS_TEST_UTIL_H
#define VFS_TEST_UTIL_H

#include <check.h>
#include <devfs.h>
#include <errno.h>
#include <procfs.h>
#include <ramfs.h>
#include <stdbool.h>
#include <stddef.h>
#include <vfs.h>

/* vfs_init + every type registered + ramfs mounted on "/". */
void vt_boot(void);
/* vfs_init + every type registered; nothing mounted. */
void vt_init_types(void);
/* Check fixtures: vt_boot / assert vfs_shutdown() == 0 (no vnode leaked). */
void vt_setup(void);
void vt_teardown(void);

int vt_write_file(const char *path, const void *data, size_t len);
int vt_write_str(const char *path, const char *s);
/* Whole file into a malloc'ed NUL-terminated string (NULL on error). */
char *vt_read_all(const char *path);
/* Names in a directory (without . and ..), sorted, joined by ' '; malloc'ed. */
char *vt_list(const char *dir);
/* A malloc'ed description of everything under path: one line per file with
 * type, mode, nlink, size, a hash of the content or the link target. */
char *vt_snapshot(const char *path);

/* Assert that an expression returns a given negative errno. */
#define ck_assert_err(expr, err)                                                                   \
	do {                                                                                       \
		long r_ = (long)(expr);                                                            \
		ck_assert_msg(r_ == -(long)(err), "%s: got %ld (%s), want -%s", #expr, r_,         \
			      r_ < 0 ? vfs_errname((int)r_) : "ok", vfs_errname(err));             \
	} while (0)
#define ck_assert_ok(expr)                                                                         \
	do {                                                                                       \
		long r_ = (long)(expr);                                                            \
		ck_assert_msg(r_ >= 0, "%s: got %ld (%s)", #expr, r_, vfs_errname((int)r_));       \
	} while (0)

#endif
