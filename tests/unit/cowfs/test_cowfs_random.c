/*
 * A randomized tester in the manner of ztest: random creates, writes,
 * truncates, renames, links, unlinks, commits and remounts against an
 * in-memory model of the tree. After every commit the checker must find
 * the pool clean and every name, link count and byte must equal the
 * model's; after every remount too. The seed comes from COWFS_SEED (default
 * fixed, so a failure reproduces); COWFS_OPS sets the number of operations.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowfs.h"

#define NDIRS	 3
#define NSLOTS	 12
#define NOBJ	 (NDIRS * NSLOTS * 2)
#define MAXSIZE	 (300 * 1024)
#define POOLSIZE (64ULL << 20)

struct mobj {
	bool live;
	uint64_t num;
	uint8_t *data;
	size_t size;
	int nlink;
};

static struct mobj objs[NOBJ];
static int names[NDIRS][NSLOTS]; /* model object index or -1 */
static uint64_t dirnum[NDIRS];
static struct cowfs_dev *dev;
static struct cowfs_pool *pool;
static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

static void report(void *arg, const char *line)
{
	fprintf(stderr, "check: %s\n", line);
}

static void slotname(int s, char *buf)
{
	sprintf(buf, "file-%02d", s);
}

static void verify(void)
{
	ck_assert_int_eq(cowfs_check(pool, report, NULL, NULL), 0);
	uint8_t *buf = malloc(MAXSIZE + 100);
	for (int d = 0; d < NDIRS; d++) {
		struct cowfs_attr da;
		ck_assert_int_eq(cowfs_getattr(pool, dirnum[d], &da), 0);
		size_t n = 0;
		for (int s = 0; s < NSLOTS; s++) {
			char name[32];
			slotname(s, name);
			uint64_t o;
			int e = cowfs_lookup(pool, dirnum[d], name, &o);
			if (names[d][s] < 0) {
				ck_assert_int_eq(e, -ENOENT);
				continue;
			}
			n++;
			struct mobj *m = &objs[names[d][s]];
			ck_assert_int_eq(e, 0);
			ck_assert_uint_eq(o, m->num);
			struct cowfs_attr a;
			ck_assert_int_eq(cowfs_getattr(pool, o, &a), 0);
			ck_assert_uint_eq(a.size, m->size);
			ck_assert_uint_eq(a.nlink, (uint32_t)m->nlink);
			ck_assert_int_eq(cowfs_read(pool, o, 0, buf, MAXSIZE + 100),
					 (int64_t)m->size);
			ck_assert_msg(memcmp(buf, m->data, m->size) == 0, "object %llu differs",
				      (unsigned long long)o);
		}
		ck_assert_uint_eq(da.size, d == 0 ? n + NDIRS - 1 : n);
	}
	free(buf);
}

static void commit(void)
{
	ck_assert_int_eq(cowfs_sync(pool), 0);
	verify();
}

static void remount(void)
{
	char why[128];
	ck_assert_int_eq(cowfs_close(pool), 0);
	ck_assert_msg(cowfs_open(dev, NULL, &pool, why, sizeof(why)) == 0, "%s", why);
	verify();
}

static int free_mobj(void)
{
	for (int i = 0; i < NOBJ; i++)
		if (!objs[i].live)
			return i;
	return -1;
}

static void drop_name(int d, int s)
{
	struct mobj *m = &objs[names[d][s]];
	names[d][s] = -1;
	if (--m->nlink == 0) {
		m->live = false;
		m->size = 0;
	}
}

static void one_op(void)
{
	int d = (int)rnd(NDIRS), s = (int)rnd(NSLOTS);
	char name[32];
	slotname(s, name);
	int mi = names[d][s];
	switch (rnd(10)) {
	case 0:
	case 1: { /* create */
		uint64_t o;
		int e = cowfs_create(pool, dirnum[d], name, 0100644, &o);
		if (mi >= 0) {
			ck_assert_int_eq(e, -EEXIST);
			break;
		}
		int k = free_mobj();
		ck_assert_int_ge(k, 0);
		ck_assert_int_eq(e, 0);
		objs[k] = (struct mobj){.live = true, .num = o, .data = objs[k].data, .nlink = 1};
		names[d][s] = k;
		break;
	}
	case 2:
	case 3:
	case 4: { /* write a random range */
		if (mi < 0)
			break;
		struct mobj *m = &objs[mi];
		size_t off = (size_t)rnd(MAXSIZE - 1), len = (size_t)rnd(rnd(2) ? 600 : 70000) + 1;
		if (off + len > MAXSIZE)
			len = MAXSIZE - off;
		uint8_t *src = malloc(len);
		uint8_t v = (uint8_t)rnd(256);
		for (size_t i = 0; i < len; i++)
			src[i] = rnd(4) ? v : (uint8_t)rnd(256); /* compressible-ish */
		ck_assert_int_eq(cowfs_write(pool, m->num, off, src, len), (int64_t)len);
		if (off > m->size)
			memset(m->data + m->size, 0, off - m->size);
		memcpy(m->data + off, src, len);
		if (off + len > m->size)
			m->size = off + len;
		free(src);
		break;
	}
	case 5: { /* truncate */
		if (mi < 0)
			break;
		struct mobj *m = &objs[mi];
		size_t ns = (size_t)rnd(rnd(2) ? m->size + 1 : MAXSIZE);
		struct cowfs_setattr sa = {.mask = COWFS_SET_SIZE, .size = ns};
		ck_assert_int_eq(cowfs_setattr(pool, m->num, &sa), 0);
		if (ns > m->size)
			memset(m->data + m->size, 0, ns - m->size);
		m->size = ns;
		break;
	}
	case 6: { /* unlink */
		int e = cowfs_unlink(pool, dirnum[d], name);
		if (mi < 0) {
			ck_assert_int_eq(e, -ENOENT);
			break;
		}
		ck_assert_int_eq(e, 0);
		drop_name(d, s);
		break;
	}
	case 7: { /* rename to another slot, maybe another directory */
		int td = (int)rnd(NDIRS), ts = (int)rnd(NSLOTS);
		char tname[32];
		slotname(ts, tname);
		int e = cowfs_rename(pool, dirnum[d], name, dirnum[td], tname);
		if (mi < 0) {
			ck_assert_int_eq(e, -ENOENT);
			break;
		}
		ck_assert_int_eq(e, 0);
		if (td == d && ts == s)
			break;
		int ti = names[td][ts];
		if (ti == mi) { /* two names of one file: POSIX does nothing */
			break;
		}
		if (ti >= 0)
			drop_name(td, ts);
		names[td][ts] = mi;
		names[d][s] = -1;
		break;
	}
	case 8: { /* hard link */
		int td = (int)rnd(NDIRS), ts = (int)rnd(NSLOTS);
		char tname[32];
		slotname(ts, tname);
		if (mi < 0)
			break;
		int e = cowfs_link(pool, dirnum[td], tname, objs[mi].num);
		if (names[td][ts] >= 0) {
			ck_assert_int_eq(e, -EEXIST);
			break;
		}
		ck_assert_int_eq(e, 0);
		names[td][ts] = mi;
		objs[mi].nlink++;
		break;
	}
	case 9:
		if (rnd(3) == 0)
			remount();
		else
			commit();
		break;
	}
}

START_TEST(test_random)
{
	const char *seed = getenv("COWFS_SEED"), *nops = getenv("COWFS_OPS");
	rng = seed ? strtoull(seed, NULL, 0) : 0x5eed1234abcdULL;
	if (!rng)
		rng = 1;
	long ops = nops ? atol(nops) : 1500;
	uint8_t comp = (uint8_t)(_i % 2);
	uint32_t rs = _i == 0 ? 0 : 8192;
	char why[128];
	ck_assert_int_eq(cowfs_memdev_create(POOLSIZE, &dev), 0);
	struct cowfs_mkfs_opts mo = {.comp = comp, .recordsize = rs, .time = 1};
	ck_assert_int_eq(cowfs_mkfs(dev, &mo, why, sizeof(why)), 0);
	ck_assert_int_eq(cowfs_open(dev, NULL, &pool, why, sizeof(why)), 0);
	memset(names, -1, sizeof(names));
	for (int i = 0; i < NOBJ; i++)
		objs[i] = (struct mobj){.data = malloc(MAXSIZE)};
	dirnum[0] = COWFS_ROOT_OBJ;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "d1", 040755, &dirnum[1]), 0);
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "d2", 040755, &dirnum[2]), 0);
	for (long i = 0; i < ops; i++)
		one_op();
	remount();
	ck_assert_int_eq(cowfs_close(pool), 0);
	cowfs_memdev_destroy(dev);
	for (int i = 0; i < NOBJ; i++)
		free(objs[i].data);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cowfs_random");
	TCase *tc = tcase_create("random");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_random, 0, 2);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
