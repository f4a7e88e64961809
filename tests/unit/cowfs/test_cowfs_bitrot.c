/*
 * Bit rot: for every kind of block cowfs keeps (label header, uberblock,
 * root block, space map index and chunk, dnode block, indirect block,
 * directory bucket, file data uncompressed and lz4) one bit of the first
 * copy is flipped on the device, then the pool is opened and everything is
 * read through the public interface.
 *
 * Metadata must be served from its other copy (ditto block, or the other
 * label) and the bad copy rewritten: the reader sees the right bytes, the
 * device holds the original bytes again, and the checker finds the pool
 * clean. File data has no copy: the read is -EIO, counted in cksum_errors,
 * the other files read right, and the checker reports the bad block.
 * Never does a reader get wrong bytes. The test prints a table of block
 * kinds against what happened.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowfs_impl.h"

#define POOLSIZE  (16ULL << 20)
#define BIGSIZE	  (400 * 1024)
#define SMALLSIZE 3000

enum kind { K_LABEL, K_UB, K_ROOT, K_SMIDX, K_SMAP, K_DNODE, K_IND, K_DIR, K_DATA, K_NKINDS };
static const char *const kind_name[K_NKINDS] = {
    "label",	       "uberblock", "root block", "space map index", "space map chunk",
    "object metadata", "indirect",  "directory",  "file data"};

struct target {
	uint64_t off; /* of copy 0 */
	uint32_t len; /* bytes the checksum covers (label 104, uberblock 120: FORMAT.md) */
	bool meta;
};

static uint8_t big[BIGSIZE], small[SMALLSIZE];
static int table_rows;
static char table[2 * K_NKINDS][160];

static void no_report(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static int check_problems(struct cowfs_dev *dev)
{
	struct cowfs_pool *p;
	char why[128];
	struct cowfs_open_opts oo = {.rdonly = true};
	ck_assert_msg(cowfs_open(dev, &oo, &p, why, sizeof(why)) == 0, "%s", why);
	int n = cowfs_check(p, no_report, NULL, NULL);
	cowfs_close(p);
	return n;
}

/* Build the pool: /d/big (several records, so an indirect block), /small. */
static void make_pool(struct cowfs_dev *dev, uint8_t comp)
{
	char why[128];
	struct cowfs_mkfs_opts mo = {.comp = comp, .recordsize = 131072, .time = 1};
	ck_assert_int_eq(cowfs_mkfs(dev, &mo, why, sizeof(why)), 0);
	struct cowfs_pool *p;
	struct cowfs_open_opts oo = {.fixed_time = 7};
	ck_assert_int_eq(cowfs_open(dev, &oo, &p, why, sizeof(why)), 0);
	uint64_t d, f, s;
	ck_assert_int_eq(cowfs_create(p, COWFS_ROOT_OBJ, "d", 040755, &d), 0);
	ck_assert_int_eq(cowfs_create(p, d, "big", 0100644, &f), 0);
	ck_assert_int_eq(cowfs_create(p, COWFS_ROOT_OBJ, "small", 0100644, &s), 0);
	ck_assert_int_eq(cowfs_write(p, f, 0, big, BIGSIZE), BIGSIZE);
	ck_assert_int_eq(cowfs_write(p, s, 0, small, SMALLSIZE), SMALLSIZE);
	ck_assert_int_eq(cowfs_close(p), 0);
	ck_assert_int_eq(check_problems(dev), 0);
}

static struct target bp_target(const struct cowfs_bp *bp)
{
	ck_assert(!cowfs_bp_is_hole(bp));
	return (struct target){.off = bp->dva[0], .len = bp->psize, .meta = bp->dva[1] != 0};
}

static void ub_fn(void *arg, int label, unsigned slot, const struct cowfs_ub *ub)
{
	struct cowfs_ub *newest = arg;
	(void)label;
	(void)slot;
	if (ub->txg > newest->txg)
		*newest = *ub;
}

/* Where each kind of block lives in the pool on dev. */
static void find_targets(struct cowfs_dev *dev, struct target *t)
{
	struct cowfs_ub ub = {0};
	ck_assert_int_eq(cowfs_list_uberblocks(dev, ub_fn, &ub), 0);
	t[K_LABEL] = (struct target){.off = 0, .len = 104, .meta = true};
	t[K_UB] =
	    (struct target){.off = COWFS_UB_RING_OFF + (ub.txg % COWFS_UB_SLOTS) * COWFS_UB_SLOT,
			    .len = 120,
			    .meta = true};
	t[K_ROOT] = bp_target(&ub.root);

	struct cowfs_pool *p;
	char why[128];
	struct cowfs_open_opts oo = {.rdonly = true};
	ck_assert_msg(cowfs_open(dev, &oo, &p, why, sizeof(why)) == 0, "%s", why);
	mutex_lock(&p->lock);
	t[K_SMIDX] = bp_target(&p->smidx);
	t[K_SMAP] = bp_target(&p->chunk_bp[0]);
	struct cowfs_bp bp;
	ck_assert_int_eq(cowfs_blk_bp(p, &p->meta, 0, 0, &bp), 0);
	t[K_DNODE] = bp_target(&bp);
	mutex_unlock(&p->lock);
	uint64_t d, f;
	ck_assert_int_eq(cowfs_lookup(p, COWFS_ROOT_OBJ, "d", &d), 0);
	ck_assert_int_eq(cowfs_lookup(p, d, "big", &f), 0);
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	ck_assert_int_eq(cowfs_obj_get(p, f, &o), 0);
	ck_assert_uint_eq(o->dn.root.level, 1);
	t[K_IND] = bp_target(&o->dn.root);
	ck_assert_int_eq(cowfs_blk_bp(p, o, 0, 1, &bp), 0);
	t[K_DATA] = bp_target(&bp);
	cowfs_obj_put(p, o);
	ck_assert_int_eq(cowfs_obj_get(p, d, &o), 0);
	ck_assert_int_eq(cowfs_blk_bp(p, o, 0, 0, &bp), 0);
	t[K_DIR] = bp_target(&bp);
	cowfs_obj_put(p, o);
	mutex_unlock(&p->lock);
	cowfs_close(p);
	for (int k = 0; k < K_NKINDS; k++)
		ck_assert_msg(t[k].meta == (k != K_DATA), "%s: copies", kind_name[k]);
}

enum reader { R_OK, R_EIO, R_WRONG, R_OTHER };
static const char *const reader_name[] = {"right bytes", "EIO", "WRONG BYTES", "error"};

/* Read everything; what the reader got for the big file (the others must
 * read right whatever happens). */
static enum reader read_all(struct cowfs_pool *p)
{
	static uint8_t buf[BIGSIZE + 100];
	uint64_t d, f, s;
	if (cowfs_lookup(p, COWFS_ROOT_OBJ, "d", &d) || cowfs_lookup(p, d, "big", &f) ||
	    cowfs_lookup(p, COWFS_ROOT_OBJ, "small", &s))
		return R_OTHER;
	if (cowfs_read(p, s, 0, buf, sizeof(buf)) != SMALLSIZE || memcmp(buf, small, SMALLSIZE))
		return R_WRONG;
	struct cowfs_attr a;
	if (cowfs_getattr(p, f, &a) || a.size != BIGSIZE)
		return R_WRONG;
	/* Record by record: a bad one is -EIO (a read across it may first
	 * return the good bytes before it), the others read right. */
	enum reader r = R_OK;
	for (uint64_t off = 0; off < BIGSIZE; off += 131072) {
		size_t len = BIGSIZE - off < 131072 ? BIGSIZE - off : 131072;
		memset(buf, 0, len);
		int64_t n = cowfs_read(p, f, off, buf, len);
		if (n == -EIO) {
			r = R_EIO;
			continue;
		}
		if (n != (int64_t)len)
			return R_OTHER;
		if (memcmp(buf, big + off, len))
			return R_WRONG;
	}
	return r;
}

static void one_kind(struct cowfs_dev *dev, const uint8_t *pristine, const struct target *t,
		     int kind, const char *comp)
{
	uint8_t *bytes = cowfs_memdev_bytes(dev);
	memcpy(bytes, pristine, POOLSIZE);
	uint64_t at = t->off + t->len / 2;
	bytes[at] ^= 0x10;

	struct cowfs_pool *p;
	char why[128];
	int e = cowfs_open(dev, NULL, &p, why, sizeof(why));
	ck_assert_msg(e == 0, "%s (%s): open: %s", kind_name[kind], comp, why);
	enum reader r = read_all(p);
	struct cowfs_pool_info pi;
	cowfs_pool_info(p, &pi);
	ck_assert_int_eq(cowfs_close(p), 0);
	bool repaired = memcmp(bytes + t->off, pristine + t->off, t->len) == 0;
	int problems = check_problems(dev);

	snprintf(table[table_rows++], sizeof(table[0]), "%-16s %-4s %8llu %9llu  %-11s %-8s %s",
		 kind_name[kind], comp, (unsigned long long)pi.cksum_errors,
		 (unsigned long long)pi.repaired, reader_name[r], repaired ? "yes" : "no",
		 problems ? "1 problem" : "clean");

	ck_assert_msg(r != R_WRONG && r != R_OTHER, "%s (%s): a reader got %s", kind_name[kind],
		      comp, reader_name[r]);
	ck_assert_msg(pi.cksum_errors + pi.repaired > 0, "%s (%s): not detected", kind_name[kind],
		      comp);
	if (t->meta) {
		ck_assert_msg(r == R_OK, "%s (%s): metadata not served from its copy",
			      kind_name[kind], comp);
		ck_assert_msg(pi.repaired >= 1 && repaired, "%s (%s): not repaired",
			      kind_name[kind], comp);
		ck_assert_msg(problems == 0, "%s (%s): %d problems after repair", kind_name[kind],
			      comp, problems);
	} else {
		ck_assert_msg(r == R_EIO, "%s (%s): damaged data did not give EIO", kind_name[kind],
			      comp);
		ck_assert_uint_ge(pi.cksum_errors, 1);
		ck_assert_int_eq(problems, 1);
	}
}

START_TEST(test_bitrot)
{
	uint8_t comp = (uint8_t)_i;
	const char *cname = comp ? "lz4" : "off";
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < BIGSIZE; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		big[i] = (x & 3) ? (uint8_t)(i / 512) : (uint8_t)x; /* compresses, not to zero */
	}
	for (size_t i = 0; i < SMALLSIZE; i++)
		small[i] = (uint8_t)('a' + i % 26);
	struct cowfs_dev *dev;
	ck_assert_int_eq(cowfs_memdev_create(POOLSIZE, &dev), 0);
	make_pool(dev, comp);
	uint8_t *pristine = malloc(POOLSIZE);
	memcpy(pristine, cowfs_memdev_bytes(dev), POOLSIZE);
	struct target t[K_NKINDS];
	find_targets(dev, t);
	if (comp)
		ck_assert_msg(t[K_DATA].len < 131072, "lz4 pool: data block not compressed");
	for (int k = 0; k < K_NKINDS; k++)
		one_kind(dev, pristine, &t[k], k, cname);
	free(pristine);
	cowfs_memdev_destroy(dev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cowfs_bitrot");
	TCase *tc = tcase_create("bitrot");
	tcase_add_loop_test(tc, test_bitrot, 0, 2);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	printf("bit rot: one bit flipped in the first copy, then everything read\n");
	printf("%-16s %-4s %8s %9s  %-11s %-8s %s\n", "block kind", "comp", "cksumerr", "repaired",
	       "reader got", "on disk", "check after");
	for (int i = 0; i < table_rows; i++)
		printf("%s\n", table[i]);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
