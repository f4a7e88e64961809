/*
 * Scrub (cowfs_scrub.c): a pool with four damaged copies (copy 0 of a
 * directory bucket, copy 1 of a dnode block, copy 1 of the root block, and
 * the only copy of a data block of /d/big). A read-only scrub finds the
 * four and changes nothing; a writable one rewrites the three metadata
 * copies, counts the data block unrecoverable and names /d/big; a second
 * scrub finds only the data block; the checker agrees. The background job
 * gives the same results, and stops early when asked, also when paced.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <karst/thread.h>

#include "cowfs_impl.h"

#define POOLSIZE (16ULL << 20)
#define BIGSIZE	 (400 * 1024)

static struct cowfs_dev *dev;
static uint64_t addr_dir0, addr_dnode1, addr_root1, addr_data;

static void quiet(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static struct cowfs_pool *open_pool(bool rdonly)
{
	struct cowfs_pool *p;
	char why[128];
	struct cowfs_open_opts oo = {.rdonly = rdonly};
	ck_assert_msg(cowfs_open(dev, &oo, &p, why, sizeof(why)) == 0, "%s", why);
	return p;
}

static void setup(void)
{
	ck_assert_int_eq(cowfs_memdev_create(POOLSIZE, &dev), 0);
	char why[128];
	struct cowfs_mkfs_opts mo = {.comp = COWFS_COMP_LZ4, .time = 1};
	ck_assert_int_eq(cowfs_mkfs(dev, &mo, why, sizeof(why)), 0);
	struct cowfs_pool *p = open_pool(false);
	uint64_t d, f;
	ck_assert_int_eq(cowfs_create(p, COWFS_ROOT_OBJ, "d", 040755, &d), 0);
	ck_assert_int_eq(cowfs_create(p, d, "big", 0100644, &f), 0);
	uint8_t *big = malloc(BIGSIZE);
	for (size_t i = 0; i < BIGSIZE; i++)
		big[i] = (uint8_t)(i * 7 / 13);
	ck_assert_int_eq(cowfs_write(p, f, 0, big, BIGSIZE), BIGSIZE);
	free(big);
	ck_assert_int_eq(cowfs_sync(p), 0);

	mutex_lock(&p->lock);
	struct cowfs_bp bp;
	addr_root1 = p->rootbp.dva[1];
	ck_assert_int_eq(cowfs_blk_bp(p, &p->meta, 0, 0, &bp), 0);
	addr_dnode1 = bp.dva[1];
	struct cowfs_obj *o;
	ck_assert_int_eq(cowfs_obj_get(p, d, &o), 0);
	ck_assert_int_eq(cowfs_blk_bp(p, o, 0, 0, &bp), 0);
	addr_dir0 = bp.dva[0];
	cowfs_obj_put(p, o);
	ck_assert_int_eq(cowfs_obj_get(p, f, &o), 0);
	ck_assert_int_eq(cowfs_blk_bp(p, o, 0, 1, &bp), 0);
	addr_data = bp.dva[0];
	cowfs_obj_put(p, o);
	mutex_unlock(&p->lock);
	ck_assert_int_eq(cowfs_close(p), 0);
	ck_assert(addr_root1 && addr_dnode1 && addr_dir0 && addr_data);

	uint8_t *b = cowfs_memdev_bytes(dev);
	b[addr_dir0 + 40] ^= 1;
	b[addr_dnode1 + 100] ^= 0x80;
	b[addr_root1 + 8] ^= 4;
	b[addr_data + 30] ^= 2;
}

static void teardown(void)
{
	cowfs_memdev_destroy(dev);
}

static int problems(void)
{
	struct cowfs_pool *p = open_pool(true);
	int n = cowfs_check(p, quiet, NULL, NULL);
	cowfs_close(p);
	return n;
}

START_TEST(test_scrub_repairs)
{
	uint8_t *before = malloc(POOLSIZE);
	memcpy(before, cowfs_memdev_bytes(dev), POOLSIZE);
	struct cowfs_scrub_stats st;

	/* Read-only: found, nothing written. */
	struct cowfs_pool *p = open_pool(true);
	ck_assert_int_eq(cowfs_scrub(p, 0, NULL, &st), 0);
	cowfs_close(p);
	ck_assert(!st.running);
	ck_assert_uint_eq(st.errors, 4);
	ck_assert_uint_eq(st.repaired, 0);
	ck_assert_uint_eq(st.unrecoverable, 1);
	ck_assert_uint_eq(st.nbad, 1);
	ck_assert_str_eq(st.bad_names[0], "/d/big");
	ck_assert_uint_eq(st.objects, 3);
	ck_assert_uint_eq(st.objects_total, 3);
	ck_assert_int_eq(memcmp(before, cowfs_memdev_bytes(dev), POOLSIZE), 0);
	ck_assert_int_eq(problems(), 4);

	/* Writable: the three metadata copies are rewritten. */
	p = open_pool(false);
	ck_assert_int_eq(cowfs_scrub(p, 0, NULL, &st), 0);
	struct cowfs_pool_info pi;
	cowfs_pool_info(p, &pi);
	ck_assert_uint_eq(st.errors, 4);
	ck_assert_uint_eq(st.repaired, 3);
	ck_assert_uint_eq(st.unrecoverable, 1);
	ck_assert_str_eq(st.bad_names[0], "/d/big");
	ck_assert_uint_ge(pi.repaired, 3);
	ck_assert_uint_gt(st.blocks, 10);
	/* Again: only the data block. */
	ck_assert_int_eq(cowfs_scrub(p, 0, NULL, &st), 0);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_eq(st.repaired, 0);
	ck_assert_uint_eq(st.unrecoverable, 1);
	ck_assert_int_eq(cowfs_close(p), 0);
	ck_assert_int_eq(problems(), 1);
	free(before);
}
END_TEST

START_TEST(test_scrub_job)
{
	struct cowfs_pool *p = open_pool(false);
	struct cowfs_scrub_job *j;
	ck_assert_int_eq(cowfs_scrub_start(p, 0, &j), 0);
	const struct cowfs_scrub_stats *st = cowfs_scrub_progress(j);
	for (int i = 0; i < 3000 && st->running; i++)
		thread_sleep_ns(10 * 1000 * 1000);
	ck_assert(!st->running);
	ck_assert_int_eq(st->err, 0);
	ck_assert_uint_eq(st->repaired, 3);
	ck_assert_uint_eq(st->unrecoverable, 1);
	ck_assert_str_eq(st->bad_names[0], "/d/big");
	cowfs_scrub_stop(j);

	/* Paced at 1 KiB/s it would take minutes: stopped, it ends at once. */
	ck_assert_int_eq(cowfs_scrub_start(p, 1024, &j), 0);
	thread_sleep_ns(50 * 1000 * 1000);
	/* Reads are served while it sleeps between objects. */
	uint64_t d;
	ck_assert_int_eq(cowfs_lookup(p, COWFS_ROOT_OBJ, "d", &d), 0);
	cowfs_scrub_stop(j);
	ck_assert_int_eq(cowfs_close(p), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cowfs_scrub");
	TCase *tc = tcase_create("scrub");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_scrub_repairs);
	tcase_add_test(tc, test_scrub_job);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
