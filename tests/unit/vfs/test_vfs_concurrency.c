/*
 * Several threads at once: create/unlink/rename/lookup races, exclusive
 * creation, appends, mount/umount against lookups. No crash, no leak (the
 * teardown checks every vnode is released) and a consistent end state.
 */
#include "vfs_test_util.h"

#include <karst/thread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NTHREADS = 6, ROUNDS = 400, NAMES = 16 };

struct worker {
	int id;
	int (*fn)(struct worker *w);
	int result;
	atomic_int *shared;
};

static void worker_main(void *arg)
{
	struct worker *w = arg;
	w->result = w->fn(w);
}

static void run_workers(int (*fn)(struct worker *), int n, atomic_int *shared, int *results)
{
	struct worker ws[NTHREADS];
	struct thread *ts[NTHREADS];
	for (int i = 0; i < n; i++) {
		ws[i] = (struct worker){.id = i, .fn = fn, .shared = shared};
		ts[i] = thread_create("vfs-test", worker_main, &ws[i], THREAD_PRIO_DEFAULT);
		ck_assert_ptr_nonnull(ts[i]);
	}
	for (int i = 0; i < n; i++) {
		thread_join(ts[i]);
		if (results)
			results[i] = ws[i].result;
	}
}

/* Each thread creates, checks and removes its own files in a shared
 * directory while looking up everyone's. */
static int own_files(struct worker *w)
{
	char p[64];
	struct vfs_stat st;
	for (int r = 0; r < ROUNDS; r++) {
		snprintf(p, sizeof(p), "/shared/t%d-%d", w->id, r % NAMES);
		int fd = vfs_open(p, O_CREAT | O_EXCL | O_RDWR, 0644);
		if (fd < 0)
			return 1000 + r;
		if (vfs_write(fd, p, strlen(p)) != (long)strlen(p))
			return 2000 + r;
		vfs_close(fd);
		for (int o = 0; o < NTHREADS; o++) {
			snprintf(p, sizeof(p), "/shared/t%d-%d", o, r % NAMES);
			int e = vfs_stat(p, &st);
			if (e && e != -ENOENT)
				return 3000 + r;
		}
		snprintf(p, sizeof(p), "/shared/t%d-%d", w->id, r % NAMES);
		if (vfs_unlink(p) != 0)
			return 4000 + r;
	}
	return 0;
}

START_TEST(test_create_unlink_lookup)
{
	int res[NTHREADS];
	ck_assert_int_eq(vfs_mkdir("/shared", 0755), 0);
	run_workers(own_files, NTHREADS, NULL, res);
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(res[i], 0);
	char *s = vt_list("/shared");
	ck_assert_str_eq(s, "");
	free(s);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat("/shared", &st), 0);
	ck_assert_uint_eq(st.st_nlink, 2);
}
END_TEST

/* All threads race for the same names: O_EXCL has one winner per name per
 * round, unlink one winner. */
static int same_names(struct worker *w)
{
	char p[64];
	int wins = 0;
	for (int r = 0; r < ROUNDS; r++) {
		snprintf(p, sizeof(p), "/race/n%d", r % NAMES);
		int fd = vfs_open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd >= 0) {
			wins++;
			vfs_close(fd);
		} else if (fd != -EEXIST && fd != -EMFILE) {
			return -1000 + fd;
		}
		int e = vfs_unlink(p);
		if (e == 0)
			atomic_fetch_add(w->shared, 1);
		else if (e != -ENOENT)
			return -2000 + e;
	}
	return wins;
}

START_TEST(test_exclusive_create_races)
{
	int res[NTHREADS];
	atomic_int unlinks = 0;
	ck_assert_int_eq(vfs_mkdir("/race", 0755), 0);
	run_workers(same_names, NTHREADS, &unlinks, res);
	int wins = 0;
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_int_ge(res[i], 0);
		wins += res[i];
	}
	/* every file created was removed exactly once, and nothing is left */
	ck_assert_int_eq(wins, atomic_load(&unlinks));
	char *s = vt_list("/race");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

/* Files hop between directories by rename while others look them up and
 * rename them back; the number of files never changes. */
static int renamer(struct worker *w)
{
	char a[64], b[64];
	for (int r = 0; r < ROUNDS * 2; r++) {
		int k = (w->id * 7 + r) % NAMES;
		snprintf(a, sizeof(a), "/ra/f%d", k);
		snprintf(b, sizeof(b), "/rb/sub/f%d", k);
		int e = (r + w->id) % 2 ? vfs_rename(a, b) : vfs_rename(b, a);
		if (e && e != -ENOENT)
			return e;
		struct vfs_stat st;
		e = vfs_stat(a, &st);
		if (e && e != -ENOENT)
			return e;
		/* directories move too */
		e = (r % 3 == 0) ? vfs_rename("/rb/sub", "/rc") : vfs_rename("/rc", "/rb/sub");
		if (e && e != -ENOENT)
			return e;
	}
	return 0;
}

START_TEST(test_rename_races)
{
	int res[NTHREADS];
	char p[64];
	ck_assert_int_eq(vfs_mkdir("/ra", 0755), 0);
	ck_assert_int_eq(vfs_mkdir("/rb", 0755), 0);
	ck_assert_int_eq(vfs_mkdir("/rb/sub", 0755), 0);
	for (int k = 0; k < NAMES; k++) {
		snprintf(p, sizeof(p), "/ra/f%d", k);
		ck_assert_int_eq(vt_write_str(p, p), 0);
	}
	run_workers(renamer, NTHREADS, NULL, res);
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(res[i], 0);
	struct vfs_stat st;
	const char *subdir = vfs_stat("/rb/sub", &st) == 0 ? "/rb/sub" : "/rc";
	int found = 0;
	for (int k = 0; k < NAMES; k++) {
		snprintf(p, sizeof(p), "/ra/f%d", k);
		int in_a = vfs_stat(p, &st) == 0;
		snprintf(p, sizeof(p), "%s/f%d", subdir, k);
		int in_b = vfs_stat(p, &st) == 0;
		ck_assert_int_eq(in_a + in_b, 1); /* exactly one name each */
		ck_assert_uint_eq(st.st_nlink, 1);
		found++;
	}
	ck_assert_int_eq(found, NAMES);
	ck_assert_int_eq(vfs_stat("/rb", &st), 0);
	ck_assert_uint_eq(st.st_nlink, strcmp(subdir, "/rb/sub") ? 2 : 3);
}
END_TEST

static int appender(struct worker *w)
{
	char rec[32];
	int fd = vfs_open("/log", O_WRONLY | O_APPEND, 0);
	if (fd < 0)
		return fd;
	for (int r = 0; r < ROUNDS; r++) {
		snprintf(rec, sizeof(rec), "<%d:%05d>\n", w->id, r);
		if (vfs_write(fd, rec, strlen(rec)) != (long)strlen(rec))
			return -1;
	}
	vfs_close(fd);
	return 0;
}

START_TEST(test_append_races)
{
	int res[NTHREADS];
	ck_assert_int_eq(vt_write_str("/log", ""), 0);
	run_workers(appender, NTHREADS, NULL, res);
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(res[i], 0);
	char *s = vt_read_all("/log");
	ck_assert_uint_eq(strlen(s), (size_t)NTHREADS * ROUNDS * 10);
	/* every record whole, and each thread's in order */
	int next[NTHREADS] = {0};
	for (char *p = s; *p; p += 10) {
		int id, r;
		ck_assert_int_eq(sscanf(p, "<%d:%05d>", &id, &r), 2);
		ck_assert_int_eq(p[9], '\n');
		ck_assert_int_eq(r, next[id]);
		next[id]++;
	}
	free(s);
}
END_TEST

/* Shared descriptor: concurrent reads through one offset see disjoint data. */
static int shared_reader(struct worker *w)
{
	int total = 0;
	char buf[10];
	long n;
	while ((n = vfs_read(*w->shared, buf, sizeof(buf))) > 0) {
		if (n != 10 || buf[9] != '\n')
			return -1;
		total++;
	}
	return n < 0 ? (int)n : total;
}

START_TEST(test_shared_offset_reads)
{
	int fd = vfs_open("/recs", O_CREAT | O_RDWR, 0644);
	char rec[16];
	for (int i = 0; i < 2000; i++) {
		snprintf(rec, sizeof(rec), "rec-%05d\n", i);
		ck_assert_int_eq(vfs_write(fd, rec, 10), 10);
	}
	vfs_lseek(fd, 0, SEEK_SET);
	atomic_int sfd = fd;
	int res[NTHREADS], total = 0;
	run_workers(shared_reader, NTHREADS, &sfd, res);
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_int_ge(res[i], 0);
		total += res[i];
	}
	ck_assert_int_eq(total, 2000);
	vfs_close(fd);
}
END_TEST

/* Lookups and opens under a mount point while it is mounted and unmounted. */
static int mount_cycler(struct worker *w)
{
	int busy = 0;
	for (int r = 0; r < ROUNDS / 4; r++) {
		int e = vfs_mount("m", "/mp", "ramfs", 0, NULL);
		if (e && e != -EBUSY)
			return e;
		vt_write_str("/mp/x", "inner");
		e = vfs_umount("/mp");
		if (e == -EBUSY)
			busy++;
		else if (e && e != -EINVAL)
			return e;
	}
	return 0;
}

static int mount_walker(struct worker *w)
{
	char buf[64];
	for (int r = 0; r < ROUNDS * 2; r++) {
		struct vfs_stat st;
		int e = vfs_stat("/mp/x", &st);
		if (e && e != -ENOENT)
			return e;
		int fd = vfs_open("/mp/x", O_RDONLY, 0);
		if (fd >= 0) {
			long n = vfs_read(fd, buf, sizeof(buf));
			vfs_close(fd);
			if (n != 0 && n != 5 && n != 6) /* 0: caught between truncate and write */
				return -1000;
		}
		if (vfs_stat("/mp/..", &st) != 0)
			return -2000;
	}
	return 0;
}

static int mount_mixed(struct worker *w)
{
	return w->id == 0 ? mount_cycler(w) : mount_walker(w);
}

START_TEST(test_mount_umount_races)
{
	int res[NTHREADS];
	ck_assert_int_eq(vfs_mkdir("/mp", 0755), 0);
	ck_assert_int_eq(vt_write_str("/mp/x", "outer!"), 0);
	run_workers(mount_mixed, 4, NULL, res);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(res[i], 0);
	while (vfs_umount("/mp") == 0)
		;
	char *s = vt_read_all("/mp/x");
	ck_assert_str_eq(s, "outer!");
	free(s);
}
END_TEST

TCase *tcase_concurrency(void)
{
	TCase *tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, vt_setup, vt_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_create_unlink_lookup);
	tcase_add_test(tc, test_exclusive_create_races);
	tcase_add_test(tc, test_rename_races);
	tcase_add_test(tc, test_append_races);
	tcase_add_test(tc, test_shared_offset_reads);
	tcase_add_test(tc, test_mount_umount_races);
	return tc;
}
