/*
 * Check suite for cowfs's on-disk encoding (fs/cowfs/cowfs_format.c,
 * cowfs_cksum.c): round trips of every structure, the exact bytes of a few
 * fields (little-endian, at FORMAT.md's offsets), every single-bit flip of
 * a self-checksummed structure refused, crafted structures refused, and
 * compression round trips.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowfs_format.h"

/* The reference: Debian's xxhash.h as it comes, built here with the
 * host's defaults, for cowfs_cksum.c's own build of the same hash. */
#define XXH_INLINE_ALL
#include <xxhash.h>

static struct cowfs_bp sample_bp(void)
{
	struct cowfs_bp bp = {
	    .dva = {0x40000, 0x1230000},
	    .lsize = 16384,
	    .psize = 4096,
	    .type = COWFS_BT_IND,
	    .level = 2,
	    .comp = COWFS_COMP_LZ4,
	    .cksum_type = COWFS_CKSUM_XXH3_128,
	    .birth = 77,
	    .fill = 300,
	    .cksum = {0x1122334455667788ULL, 0x99aabbccddeeff00ULL},
	};
	return bp;
}

START_TEST(test_bp_round_trip)
{
	uint8_t p[COWFS_BP_SIZE];
	struct cowfs_bp bp = sample_bp(), out;
	const char *why = "";
	cowfs_bp_encode(&bp, p);
	ck_assert_uint_eq(p[0], 0x00);
	ck_assert_uint_eq(p[2], 0x04); /* 0x40000 little-endian */
	ck_assert_uint_eq(p[24], COWFS_BT_IND);
	ck_assert_uint_eq(p[32], 77);
	ck_assert_uint_eq(p[48], 0x88);
	ck_assert_uint_eq(p[63], 0x99);
	ck_assert_int_eq(cowfs_bp_decode(p, &out, &why), 0);
	ck_assert_mem_eq(&out.dva, &bp.dva, sizeof(bp.dva));
	ck_assert_uint_eq(out.lsize, bp.lsize);
	ck_assert_uint_eq(out.psize, bp.psize);
	ck_assert_uint_eq(out.level, 2);
	ck_assert_uint_eq(out.birth, 77);
	ck_assert_uint_eq(out.fill, 300);
	ck_assert(cowfs_cksum_equal(&out.cksum, &bp.cksum));

	/* A hole encodes as zeros and decodes as a hole. */
	struct cowfs_bp hole = {0};
	cowfs_bp_encode(&hole, p);
	for (int i = 0; i < COWFS_BP_SIZE; i++)
		ck_assert_uint_eq(p[i], 0);
	ck_assert_int_eq(cowfs_bp_decode(p, &out, &why), 0);
	ck_assert(cowfs_bp_is_hole(&out));
	p[5] = 1; /* a "hole" with an address */
	ck_assert_int_eq(cowfs_bp_decode(p, &out, &why), -EINVAL);
}
END_TEST

START_TEST(test_bp_bad_fields)
{
	uint8_t p[COWFS_BP_SIZE];
	struct cowfs_bp out;
	const char *why;
	struct {
		int off;
		uint8_t val;
	} bad[] = {
	    {24, 0},	/* type none */
	    {24, 99},	/* unknown type */
	    {25, 9},	/* level */
	    {26, 7},	/* compression */
	    {27, 0},	/* checksum type */
	    {28, 1},	/* padding */
	    {16, 0x01}, /* lsize not a sector multiple */
	    {21, 0x80}, /* psize > lsize */
	    {0, 0x01},	/* dva not aligned */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cowfs_bp bp = sample_bp();
		cowfs_bp_encode(&bp, p);
		p[bad[i].off] = bad[i].val;
		ck_assert_msg(cowfs_bp_decode(p, &out, &why) == -EINVAL, "case %zu accepted", i);
		ck_assert_ptr_nonnull(why);
	}
	/* Uncompressed with psize != lsize; same address twice. */
	struct cowfs_bp bp = sample_bp();
	bp.comp = COWFS_COMP_OFF;
	cowfs_bp_encode(&bp, p);
	ck_assert_int_eq(cowfs_bp_decode(p, &out, &why), -EINVAL);
	bp = sample_bp();
	bp.dva[1] = bp.dva[0];
	cowfs_bp_encode(&bp, p);
	ck_assert_int_eq(cowfs_bp_decode(p, &out, &why), -EINVAL);
}
END_TEST

START_TEST(test_dnode_round_trip)
{
	uint8_t p[COWFS_DNODE_SIZE];
	struct cowfs_dnode dn =
			       {
				   .type = COWFS_OT_DIR,
				   .nlevels = 2,
				   .dirbits = 5,
				   .blksz = COWFS_DIR_BUCKET,
				   .mode = 040755,
				   .nlink = 3,
				   .size = 123,
				   .atime = 1,
				   .mtime = 2,
				   .ctime = 3,
				   .parent = 1,
				   .gen = 9,
				   .maxblkid = 32,
				   .root = sample_bp(),
			       },
			   out;
	const char *why;
	cowfs_dnode_encode(&dn, p);
	ck_assert_int_eq(cowfs_dnode_decode(p, &out, &why), 0);
	ck_assert_uint_eq(out.type, COWFS_OT_DIR);
	ck_assert_uint_eq(out.dirbits, 5);
	ck_assert_uint_eq(out.mode, 040755);
	ck_assert_uint_eq(out.nlink, 3);
	ck_assert_uint_eq(out.size, 123);
	ck_assert_uint_eq(out.mtime, 2);
	ck_assert_uint_eq(out.parent, 1);
	ck_assert_uint_eq(out.maxblkid, 32);
	ck_assert_uint_eq(out.root.birth, 77);
	/* Every byte of padding is checked. */
	for (int off = 72; off < 128; off++) {
		cowfs_dnode_encode(&dn, p);
		p[off] = 1;
		ck_assert_msg(cowfs_dnode_decode(p, &out, &why) == -EINVAL, "pad %d", off);
	}
	cowfs_dnode_encode(&dn, p);
	p[1] = 0; /* no levels */
	ck_assert_int_eq(cowfs_dnode_decode(p, &out, &why), -EINVAL);
	cowfs_dnode_encode(&dn, p);
	p[4] = 0x10; /* directory with a non-bucket block size */
	ck_assert_int_eq(cowfs_dnode_decode(p, &out, &why), -EINVAL);
	struct cowfs_dnode freed = {0};
	cowfs_dnode_encode(&freed, p);
	ck_assert_int_eq(cowfs_dnode_decode(p, &out, &why), 0);
	ck_assert_uint_eq(out.type, COWFS_OT_FREE);
	p[200] = 1;
	ck_assert_int_eq(cowfs_dnode_decode(p, &out, &why), -EINVAL);
}
END_TEST

START_TEST(test_label_flips)
{
	uint8_t good[COWFS_LABEL_HDRSIZE], p[COWFS_LABEL_HDRSIZE];
	struct cowfs_label l = {.index = 1,
				.pool_guid = 0xabcdef,
				.psize = 64 << 20,
				.recordsize = 131072,
				.comp = COWFS_COMP_LZ4,
				.ctime = 42},
			   out;
	strcpy(l.name, "tank");
	const char *why;
	cowfs_label_encode(&l, good);
	ck_assert_int_eq(memcmp(good, "KARST-COWFS-LBL", 16), 0);
	ck_assert_int_eq(cowfs_label_decode(good, &out, &why), 0);
	ck_assert_str_eq(out.name, "tank");
	ck_assert_uint_eq(out.pool_guid, 0xabcdef);
	ck_assert_uint_eq(out.recordsize, 131072);
	ck_assert_uint_eq(out.index, 1);
	for (int off = 0; off < 104; off++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(p, good, sizeof(p));
			p[off] ^= (uint8_t)(1 << bit);
			ck_assert_msg(cowfs_label_decode(p, &out, &why) != 0, "flip %d/%d", off,
				      bit);
		}
	}
	memset(p, 0, sizeof(p));
	ck_assert_int_eq(cowfs_label_decode(p, &out, &why), -ENOENT);
	/* Bad record size with a valid checksum. */
	l.recordsize = 3000;
	cowfs_label_encode(&l, p);
	ck_assert_int_eq(cowfs_label_decode(p, &out, &why), -EINVAL);
}
END_TEST

START_TEST(test_ub_flips)
{
	uint8_t good[COWFS_UB_SLOT], p[COWFS_UB_SLOT];
	struct cowfs_ub ub = {.txg = 5, .time = 99, .pool_guid = 7, .root = sample_bp()}, out;
	ub.root.type = COWFS_BT_ROOT;
	ub.root.level = 0;
	ub.root.lsize = COWFS_ROOTBLK_SIZE;
	ub.root.psize = 512;
	ub.root.birth = 5;
	const char *why;
	cowfs_ub_encode(&ub, good);
	ck_assert_int_eq(cowfs_ub_decode(good, &out, &why), 0);
	ck_assert_uint_eq(out.txg, 5);
	ck_assert_uint_eq(out.pool_guid, 7);
	ck_assert_uint_eq(out.root.dva[1], 0x1230000);
	for (int off = 0; off < 120; off++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(p, good, sizeof(p));
			p[off] ^= (uint8_t)(1 << bit);
			ck_assert_msg(cowfs_ub_decode(p, &out, &why) != 0, "flip %d/%d", off, bit);
		}
	}
	memset(p, 0, sizeof(p));
	ck_assert_int_eq(cowfs_ub_decode(p, &out, &why), -ENOENT);
	/* A root pointer born in another txg. */
	ub.root.birth = 4;
	cowfs_ub_encode(&ub, p);
	ck_assert_int_eq(cowfs_ub_decode(p, &out, &why), -EINVAL);
}
END_TEST

START_TEST(test_rootblk_round_trip)
{
	uint8_t p[COWFS_ROOTBLK_SIZE];
	struct cowfs_rootblk r = {.txg = 12,
				  .sm_nchunks = 3,
				  .alloc_sectors = 1000,
				  .nobjects = 5,
				  .next_obj = 6,
				  .recordsize = 65536,
				  .comp = COWFS_COMP_OFF},
			     out;
	r.meta.type = COWFS_OT_META;
	r.meta.nlevels = 1;
	r.meta.blksz = COWFS_DNODE_BLKSIZE;
	r.meta.size = 5;
	r.sm_index = sample_bp();
	r.sm_index.type = COWFS_BT_SMIDX;
	r.sm_index.lsize = 512;
	r.sm_index.psize = 512;
	r.sm_index.comp = COWFS_COMP_OFF;
	r.sm_index.level = 0;
	const char *why;
	cowfs_rootblk_encode(&r, p);
	ck_assert_int_eq(cowfs_rootblk_decode(p, &out, &why), 0);
	ck_assert_uint_eq(out.txg, 12);
	ck_assert_uint_eq(out.sm_nchunks, 3);
	ck_assert_uint_eq(out.nobjects, 5);
	ck_assert_uint_eq(out.recordsize, 65536);
	ck_assert_uint_eq(out.meta.type, COWFS_OT_META);
	p[600] = 1;
	ck_assert_int_eq(cowfs_rootblk_decode(p, &out, &why), -EINVAL);
	r.sm_nchunks = 20; /* index too small for 20 chunks */
	cowfs_rootblk_encode(&r, p);
	ck_assert_int_eq(cowfs_rootblk_decode(p, &out, &why), -EINVAL);
}
END_TEST

START_TEST(test_dirbucket)
{
	uint8_t b[COWFS_DIR_BUCKET];
	const char *why;
	cowfs_dirbucket_init(b);
	ck_assert_int_eq(cowfs_dirbucket_check(b, &why), 0);
	/* Insert out of order; iteration comes back sorted. */
	uint64_t keys[] = {500, 7, 90000, 3, 12};
	char name[32];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "name-%d", i);
		struct cowfs_dirent de = {.key = keys[i],
					  .obj = 100 + i,
					  .type = COWFS_OT_FILE,
					  .namelen = (uint8_t)strlen(name),
					  .name = name};
		ck_assert_int_eq(cowfs_dirbucket_insert(b, &de), 0);
		ck_assert_int_eq(cowfs_dirbucket_insert(b, &de), -EEXIST);
	}
	ck_assert_uint_eq(cowfs_dirbucket_count(b), 5);
	ck_assert_int_eq(cowfs_dirbucket_check(b, &why), 0);
	unsigned off = COWFS_DIR_HDR;
	struct cowfs_dirent de;
	uint64_t prev = 0;
	int n = 0;
	while (cowfs_dirbucket_next(b, &off, &de)) {
		ck_assert_uint_gt(de.key, prev);
		prev = de.key;
		n++;
	}
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(cowfs_dirbucket_remove(b, 7), 0);
	ck_assert_int_eq(cowfs_dirbucket_remove(b, 7), -ENOENT);
	ck_assert_int_eq(cowfs_dirbucket_check(b, &why), 0);
	ck_assert_uint_eq(cowfs_dirbucket_count(b), 4);
	/* Fill with 255-byte names until full. */
	char longname[256];
	memset(longname, 'x', 255);
	int added = 0;
	for (uint64_t k = 1000;; k++) {
		struct cowfs_dirent e = {
		    .key = k, .obj = 1, .type = COWFS_OT_DIR, .namelen = 255, .name = longname};
		int err = cowfs_dirbucket_insert(b, &e);
		if (err) {
			ck_assert_int_eq(err, -ENOSPC);
			break;
		}
		added++;
	}
	ck_assert_int_ge(added, 14);
	ck_assert_int_eq(cowfs_dirbucket_check(b, &why), 0);
	/* A name with a slash, a key out of order: refused. */
	uint8_t c[COWFS_DIR_BUCKET];
	cowfs_dirbucket_init(c);
	struct cowfs_dirent e = {
	    .key = 10, .obj = 2, .type = COWFS_OT_FILE, .namelen = 3, .name = "a/b"};
	ck_assert_int_eq(cowfs_dirbucket_insert(c, &e), 0);
	ck_assert_int_eq(cowfs_dirbucket_check(c, &why), -EINVAL);
	cowfs_dirbucket_init(c);
	e.name = "abc";
	ck_assert_int_eq(cowfs_dirbucket_insert(c, &e), 0);
	e.key = 20;
	ck_assert_int_eq(cowfs_dirbucket_insert(c, &e), 0);
	c[COWFS_DIR_HDR] = 30; /* first key now above the second */
	ck_assert_int_eq(cowfs_dirbucket_check(c, &why), -EINVAL);
	/* Random garbage never passes and never crashes. */
	srand(1);
	for (int i = 0; i < 2000; i++) {
		memcpy(c, b, sizeof(c));
		c[rand() % 200] ^= (uint8_t)(1 + rand() % 255);
		(void)cowfs_dirbucket_check(c, &why);
	}
}
END_TEST

START_TEST(test_compress)
{
	size_t lsize = 131072;
	uint8_t *src = malloc(lsize), *p = malloc(lsize), *back = malloc(lsize);
	for (size_t i = 0; i < lsize; i++)
		src[i] = (uint8_t)("the quick brown fox "[i % 20]);
	size_t psize = cowfs_compress(src, lsize, p);
	ck_assert_uint_gt(psize, 0);
	ck_assert_uint_lt(psize, lsize / 8);
	ck_assert_uint_eq(psize % COWFS_SECTOR, 0);
	ck_assert_int_eq(cowfs_decompress(p, psize, back, lsize), 0);
	ck_assert_mem_eq(src, back, lsize);
	/* Damaged length header or data: -EIO, never a crash. */
	p[0] ^= 0xff;
	ck_assert_int_eq(cowfs_decompress(p, psize, back, lsize), -EIO);
	p[0] ^= 0xff;
	p[10] ^= 0x55;
	(void)cowfs_decompress(p, psize, back, lsize);
	/* Random data does not compress. */
	srand(2);
	for (size_t i = 0; i < lsize; i++)
		src[i] = (uint8_t)rand();
	ck_assert_uint_eq(cowfs_compress(src, lsize, p), 0);
	/* One sector never compresses. */
	memset(src, 0, 512);
	ck_assert_uint_eq(cowfs_compress(src, 512, p), 0);
	free(src);
	free(p);
	free(back);
}
END_TEST

START_TEST(test_cksum_and_hash)
{
	struct cowfs_cksum a = cowfs_cksum_compute("abc", 3), b = cowfs_cksum_compute("abd", 3);
	ck_assert(!cowfs_cksum_equal(&a, &b));
	/* XXH3-128 of the empty input, as xxhsum -H2 prints it. */
	struct cowfs_cksum e = cowfs_cksum_compute("", 0);
	ck_assert_uint_eq(e.hi, 0x99aa06d3014798d8ULL);
	ck_assert_uint_eq(e.lo, 0x6001c324468d497fULL);
	uint64_t h = cowfs_name_hash("hello", 5);
	ck_assert_uint_lt(h, 1ULL << 47);
	ck_assert_uint_ne(h, cowfs_name_hash("hellp", 5));
}
END_TEST

/* cowfs_cksum_compute is XXH3-128 as Debian's xxhash.h computes it, at
 * every length up to 3 stripes blocks and then some (each of XXH3's paths,
 * partial stripes and blocks, the scramble), at every alignment mod 16. */
START_TEST(test_cksum_is_xxh3_128)
{
	size_t n = 4 * 1024 * 3 + 777;
	uint8_t *buf = malloc(n + 16);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < n + 16; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (size_t len = 0; len <= n; len += len < 300 ? 1 : 61) {
		const uint8_t *p = buf + len % 16;
		XXH128_hash_t want = XXH3_128bits(p, len);
		struct cowfs_cksum got = cowfs_cksum_compute(p, len);
		ck_assert_msg(got.lo == want.low64 && got.hi == want.high64, "length %zu", len);
	}
	size_t big = 131072;
	uint8_t *b = malloc(big);
	for (size_t i = 0; i < big; i++)
		b[i] = (uint8_t)(i * 31 + 7);
	XXH128_hash_t want = XXH3_128bits(b, big);
	struct cowfs_cksum got = cowfs_cksum_compute(b, big);
	ck_assert(got.lo == want.low64 && got.hi == want.high64);
	/* and what tests/kernel's known answers say for it (xxhsum -H2) */
	ck_assert_uint_eq(got.hi, 0x3dddd29aa02945eaULL);
	ck_assert_uint_eq(got.lo, 0xc88c4139bb021d72ULL);
	free(b);
	free(buf);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cowfs_format");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, test_bp_round_trip);
	tcase_add_test(tc, test_bp_bad_fields);
	tcase_add_test(tc, test_dnode_round_trip);
	tcase_add_test(tc, test_label_flips);
	tcase_add_test(tc, test_ub_flips);
	tcase_add_test(tc, test_rootblk_round_trip);
	tcase_add_test(tc, test_dirbucket);
	tcase_add_test(tc, test_compress);
	tcase_add_test(tc, test_cksum_and_hash);
	tcase_add_test(tc, test_cksum_is_xxh3_128);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
