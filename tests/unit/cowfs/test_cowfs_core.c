/*
 * Check suite for the cowfs core on a memory device: make, open, names,
 * data of every shape (empty, small, multi-record, sparse, huge offsets),
 * commits and reopen, the checker after every commit, ditto repair of a
 * damaged metadata block, EIO for a damaged data block, ENOSPC that leaves
 * the pool consistent and usable, a device that fails mid-commit, damaged
 * images refused with a reason, and a 20,000-entry directory.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowfs.h"
#include "cowfs_impl.h"

#define MB	  (1024ULL * 1024)
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static struct cowfs_dev *dev;
static struct cowfs_pool *pool;

static void report(void *arg, const char *line)
{
	fprintf(stderr, "check: %s\n", line);
}

static void mk(uint64_t size, uint8_t comp, uint32_t rs)
{
	char why[128];
	ck_assert_int_eq(cowfs_memdev_create(size, &dev), 0);
	struct cowfs_mkfs_opts o = {.recordsize = rs, .comp = comp, .time = 1000};
	ck_assert_msg(cowfs_mkfs(dev, &o, why, sizeof(why)) == 0, "mkfs: %s", why);
}

static void op(void)
{
	char why[128];
	int err = cowfs_open(dev, NULL, &pool, why, sizeof(why));
	ck_assert_msg(err == 0, "open: %d %s", err, why);
}

static void checked(void)
{
	ck_assert_int_eq(cowfs_sync(pool), 0);
	int n = cowfs_check(pool, report, NULL, NULL);
	ck_assert_msg(n == 0, "check found %d problems", n);
}

static void reopen(void)
{
	ck_assert_int_eq(cowfs_close(pool), 0);
	op();
}

static void teardown(void)
{
	if (pool)
		cowfs_close(pool);
	pool = NULL;
	if (dev)
		cowfs_memdev_destroy(dev);
	dev = NULL;
}

static void fill_pattern(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) & 0xff);
}

START_TEST(test_empty_pool)
{
	mk(8 * MB, COWFS_COMP_LZ4, 0);
	op();
	struct cowfs_attr a;
	ck_assert_int_eq(cowfs_getattr(pool, COWFS_ROOT_OBJ, &a), 0);
	ck_assert_uint_eq(a.type, COWFS_OT_DIR);
	ck_assert_uint_eq(a.nlink, 2);
	ck_assert_uint_eq(a.mtime, 1000);
	checked();
	uint64_t o;
	ck_assert_int_eq(cowfs_lookup(pool, COWFS_ROOT_OBJ, "nothing", &o), -ENOENT);
	ck_assert_int_eq(cowfs_lookup(pool, COWFS_ROOT_OBJ, "..", &o), 0);
	ck_assert_uint_eq(o, COWFS_ROOT_OBJ);
	teardown();
}
END_TEST

static void data_shapes(uint8_t comp, uint32_t rs)
{
	mk(64 * MB, comp, rs);
	op();
	size_t sizes[] = {0, 1, 100, 511, 512, 4095, 4096, 70000, 131072, 131073, 1000000, 3000000};
	uint64_t objs[12];
	uint8_t *buf = malloc(3000016), *back = malloc(3000016);
	for (int i = 0; i < 12; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%d", i);
		ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, name, 0100644, &objs[i]), 0);
		fill_pattern(buf, sizes[i], (unsigned)i);
		/* Write in odd pieces. */
		size_t off = 0;
		while (off < sizes[i]) {
			size_t n = MIN(sizes[i] - off, (size_t)77777);
			ck_assert_int_eq(cowfs_write(pool, objs[i], off, buf + off, n), (int64_t)n);
			off += n;
		}
		if (i % 4 == 0)
			checked();
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 12; i++) {
			fill_pattern(buf, sizes[i], (unsigned)i);
			memset(back, 0xee, sizes[i] + 10);
			ck_assert_int_eq(cowfs_read(pool, objs[i], 0, back, sizes[i] + 10),
					 (int64_t)sizes[i]);
			ck_assert_msg(memcmp(buf, back, sizes[i]) == 0, "file %d differs", i);
			struct cowfs_attr a;
			ck_assert_int_eq(cowfs_getattr(pool, objs[i], &a), 0);
			ck_assert_uint_eq(a.size, sizes[i]);
			if (sizes[i] && sizes[i] <= 4096 && comp == COWFS_COMP_OFF)
				ck_assert_uint_le(a.blksz, 4096); /* small files stay small */
		}
		checked();
		reopen();
	}
	/* Sparse: a write far out, holes read as zeros. */
	uint64_t sp;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "sparse", 0100644, &sp), 0);
	ck_assert_int_eq(cowfs_write(pool, sp, 40ULL << 30, "end", 3), 3);
	ck_assert_int_eq(cowfs_write(pool, sp, 5, "start", 5), 5);
	checked();
	reopen();
	char small[16] = {0};
	ck_assert_int_eq(cowfs_read(pool, sp, (40ULL << 30) - 2, small, 16), 5);
	ck_assert_mem_eq(small, "\0\0end", 5);
	ck_assert_int_eq(cowfs_read(pool, sp, 0, small, 10), 10);
	ck_assert_mem_eq(small, "\0\0\0\0\0start", 10);
	ck_assert_int_eq(cowfs_read(pool, sp, 1ULL << 30, small, 4), 4);
	ck_assert_mem_eq(small, "\0\0\0\0", 4);
	/* Truncate it back; the far block goes. */
	struct cowfs_setattr sa = {.mask = COWFS_SET_SIZE, .size = 7};
	ck_assert_int_eq(cowfs_setattr(pool, sp, &sa), 0);
	checked();
	ck_assert_int_eq(cowfs_read(pool, sp, 0, small, 16), 7);
	ck_assert_mem_eq(small, "\0\0\0\0\0st", 7);
	/* Truncate the big files in the middle of a record, then grow again. */
	sa.size = 200001;
	ck_assert_int_eq(cowfs_setattr(pool, objs[11], &sa), 0);
	sa.size = 2500000;
	ck_assert_int_eq(cowfs_setattr(pool, objs[11], &sa), 0);
	checked();
	reopen();
	fill_pattern(buf, 3000000, 11);
	memset(buf + 200001, 0, 3000000 - 200001);
	ck_assert_int_eq(cowfs_read(pool, objs[11], 0, back, 3000000), 2500000);
	ck_assert(memcmp(buf, back, 2500000) == 0);
	/* Remove everything: all space comes back after two commits. */
	for (int i = 0; i < 12; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%d", i);
		ck_assert_int_eq(cowfs_unlink(pool, COWFS_ROOT_OBJ, name), 0);
	}
	ck_assert_int_eq(cowfs_unlink(pool, COWFS_ROOT_OBJ, "sparse"), 0);
	checked();
	struct cowfs_pool_info pi;
	cowfs_pool_info(pool, &pi);
	ck_assert_uint_eq(pi.nobjects, 1);
	ck_assert_uint_lt(pi.alloc_bytes, 200 * 1024);
	free(buf);
	free(back);
	teardown();
}

START_TEST(test_data_lz4)
{
	data_shapes(COWFS_COMP_LZ4, 0);
}
END_TEST

START_TEST(test_data_plain_small_records)
{
	data_shapes(COWFS_COMP_OFF, 4096);
}
END_TEST

/* Reads through the decoded-metadata cache (cowfs_mcache.c): a file of
 * 600 4 KiB records has two levels of indirect blocks, whose pointers are
 * decoded once and then found in the cache; a block rewritten and
 * committed is read back new, never from a stale entry, before and
 * after a reopen: on a small pool, 60 commits reuse the addresses of freed
 * indirect blocks, so a cache keyed by address alone would fail. */
START_TEST(test_mcache_reads_stay_right)
{
	enum { REC = 4096, NREC = 600 };
	mk(8 << 20, COWFS_COMP_OFF, REC);
	op();
	uint64_t f;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "f", 0100644, &f), 0);
	static uint8_t buf[NREC * REC], back[REC];
	fill_pattern(buf, sizeof(buf), 3);
	ck_assert_int_eq(cowfs_write(pool, f, 0, buf, sizeof(buf)), (int64_t)sizeof(buf));
	checked();
	for (int round = 0; round < 60; round++) {
		struct cowfs_pool_info before, after;
		cowfs_pool_info(pool, &before);
		for (int r = 0; r < NREC; r++) {
			ck_assert_int_eq(cowfs_read(pool, f, (uint64_t)r * REC, back, REC), REC);
			ck_assert_msg(memcmp(back, buf + (size_t)r * REC, REC) == 0,
				      "round %d rec %d", round, r);
		}
		cowfs_pool_info(pool, &after);
		/* 600 pointers in 3 level-1 blocks under one level-2 block. */
		ck_assert_uint_le(after.mcache_misses - before.mcache_misses, 4);
		ck_assert_uint_ge(after.mcache_hits - before.mcache_hits, NREC);
		/* Rewrite some records and commit. */
		for (int r = round; r < NREC; r += 37) {
			fill_pattern(buf + (size_t)r * REC, REC,
				     100 + (unsigned)r + (unsigned)round);
			ck_assert_int_eq(
			    cowfs_write(pool, f, (uint64_t)r * REC, buf + (size_t)r * REC, REC),
			    REC);
		}
		checked();
		if (round == 30)
			reopen();
	}
	for (int r = 0; r < NREC; r++) {
		ck_assert_int_eq(cowfs_read(pool, f, (uint64_t)r * REC, back, REC), REC);
		ck_assert_msg(memcmp(back, buf + (size_t)r * REC, REC) == 0, "rec %d", r);
	}
}
END_TEST

struct names {
	int n;
	char seen[64][32];
	uint64_t last;
};

static bool collect(void *ctx, const char *name, size_t len, uint64_t obj, uint8_t type,
		    uint64_t next)
{
	struct names *nm = ctx;
	if (nm->n == 64)
		return false;
	snprintf(nm->seen[nm->n++], 32, "%.*s", (int)len, name);
	nm->last = next;
	return true;
}

START_TEST(test_names)
{
	mk(16 * MB, COWFS_COMP_LZ4, 0);
	op();
	uint64_t d, e, f, g, l;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "dir", 040755, &d), 0);
	ck_assert_int_eq(cowfs_create(pool, d, "sub", 040700, &e), 0);
	ck_assert_int_eq(cowfs_create(pool, d, "file", 0100600, &f), 0);
	ck_assert_int_eq(cowfs_create(pool, d, "file", 0100600, &g), -EEXIST);
	ck_assert_int_eq(cowfs_create(pool, f, "x", 0100600, &g), -ENOTDIR);
	ck_assert_int_eq(cowfs_symlink(pool, d, "ln", "../target/path", &l), 0);
	ck_assert_int_eq(cowfs_link(pool, COWFS_ROOT_OBJ, "hard", f), 0);
	ck_assert_int_eq(cowfs_link(pool, COWFS_ROOT_OBJ, "hd", d), -EPERM);
	/* Awkward names: spaces, high bytes, 255 bytes. */
	char longname[256];
	memset(longname, 'n', 255);
	longname[255] = 0;
	ck_assert_int_eq(cowfs_create(pool, d, longname, 0100644, &g), 0);
	longname[200] = ' ';
	ck_assert_int_eq(cowfs_create(pool, d, "sp ace\xff\x01", 0100644, &g), 0);
	char toolong[300];
	memset(toolong, 'x', 299);
	toolong[299] = 0;
	ck_assert_int_eq(cowfs_create(pool, d, toolong, 0100644, &g), -ENAMETOOLONG);
	ck_assert_int_eq(cowfs_create(pool, d, "a/b", 0100644, &g), -EINVAL);
	checked();
	reopen();
	struct cowfs_attr a;
	ck_assert_int_eq(cowfs_getattr(pool, d, &a), 0);
	ck_assert_uint_eq(a.nlink, 3);
	ck_assert_uint_eq(a.size, 5);
	ck_assert_int_eq(cowfs_getattr(pool, f, &a), 0);
	ck_assert_uint_eq(a.nlink, 2);
	char t[64] = {0};
	ck_assert_int_eq(cowfs_readlink(pool, l, t, sizeof(t)), 14);
	ck_assert_str_eq(t, "../target/path");
	uint64_t o;
	ck_assert_int_eq(cowfs_lookup(pool, e, "..", &o), 0);
	ck_assert_uint_eq(o, d);
	ck_assert_int_eq(cowfs_lookup(pool, d, "sp ace\xff\x01", &o), 0);
	/* readdir: . and .. first, everything once, resumable. */
	struct names nm = {0};
	uint64_t cookie = 0;
	ck_assert_int_eq(cowfs_readdir(pool, d, &cookie, collect, &nm), 0);
	ck_assert_int_eq(nm.n, 7);
	ck_assert_str_eq(nm.seen[0], ".");
	ck_assert_str_eq(nm.seen[1], "..");
	/* rmdir / unlink rules. */
	ck_assert_int_eq(cowfs_rmdir(pool, COWFS_ROOT_OBJ, "dir"), -ENOTEMPTY);
	ck_assert_int_eq(cowfs_unlink(pool, COWFS_ROOT_OBJ, "dir"), -EISDIR);
	ck_assert_int_eq(cowfs_rmdir(pool, d, "file"), -ENOTDIR);
	/* rename: over a file, a dir into another dir, over an empty dir. */
	ck_assert_int_eq(cowfs_rename(pool, COWFS_ROOT_OBJ, "hard", d, "ln"), 0);
	ck_assert_int_eq(cowfs_lookup(pool, d, "ln", &o), 0);
	ck_assert_uint_eq(o, f);
	ck_assert_int_eq(cowfs_rename(pool, d, "sub", COWFS_ROOT_OBJ, "moved"), 0);
	ck_assert_int_eq(cowfs_lookup(pool, e, "..", &o), 0);
	ck_assert_uint_eq(o, COWFS_ROOT_OBJ);
	uint64_t empty;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "empty", 040755, &empty), 0);
	ck_assert_int_eq(cowfs_rename(pool, COWFS_ROOT_OBJ, "moved", COWFS_ROOT_OBJ, "empty"), 0);
	ck_assert_int_eq(cowfs_rename(pool, COWFS_ROOT_OBJ, "empty", COWFS_ROOT_OBJ, "dir"),
			 -ENOTEMPTY);
	ck_assert_int_eq(cowfs_rename(pool, d, "file", COWFS_ROOT_OBJ, "empty"), -EISDIR);
	checked();
	reopen();
	ck_assert_int_eq(cowfs_getattr(pool, COWFS_ROOT_OBJ, &a), 0);
	ck_assert_uint_eq(a.nlink, 4); /* dir, empty (was moved) */
	/* Unlink a held file: it lives until released. */
	ck_assert_int_eq(cowfs_obj_hold(pool, f), 0);
	ck_assert_int_eq(cowfs_write(pool, f, 0, "held", 4), 4);
	ck_assert_int_eq(cowfs_unlink(pool, d, "file"), 0);
	ck_assert_int_eq(cowfs_unlink(pool, d, "ln"), 0);
	checked();
	ck_assert_int_eq(cowfs_read(pool, f, 0, t, 4), 4);
	cowfs_obj_release(pool, f);
	ck_assert_int_eq(cowfs_getattr(pool, f, &a), -ENOENT);
	checked();
	teardown();
}
END_TEST

START_TEST(test_big_directory)
{
	mk(64 * MB, COWFS_COMP_LZ4, 0);
	op();
	enum { N = 20000 };
	char name[64];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "entry-%06d.txt", i);
		uint64_t o;
		ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, name, 0100644, &o), 0);
	}
	checked();
	reopen();
	for (int i = 0; i < N; i += 7) {
		snprintf(name, sizeof(name), "entry-%06d.txt", i);
		uint64_t o;
		ck_assert_int_eq(cowfs_lookup(pool, COWFS_ROOT_OBJ, name, &o), 0);
	}
	/* List in small pieces: every entry exactly once. */
	uint8_t *seen = calloc(N, 1);
	uint64_t cookie = 0;
	int total = 0;
	for (;;) {
		struct names nm = {0};
		ck_assert_int_eq(cowfs_readdir(pool, COWFS_ROOT_OBJ, &cookie, collect, &nm), 0);
		if (nm.n == 0)
			break;
		for (int k = 0; k < nm.n; k++) {
			int idx;
			if (sscanf(nm.seen[k], "entry-%d.txt", &idx) == 1) {
				ck_assert_int_eq(seen[idx], 0);
				seen[idx] = 1;
				total++;
			}
		}
		/* Remove some entries between calls: the cookie stays valid. */
		snprintf(name, sizeof(name), "entry-%06d.txt", total % N);
	}
	ck_assert_int_eq(total, N);
	free(seen);
	for (int i = 0; i < N; i += 2) {
		snprintf(name, sizeof(name), "entry-%06d.txt", i);
		ck_assert_int_eq(cowfs_unlink(pool, COWFS_ROOT_OBJ, name), 0);
	}
	checked();
	teardown();
}
END_TEST

START_TEST(test_ditto_repair_and_data_eio)
{
	mk(16 * MB, COWFS_COMP_OFF, 0);
	op();
	uint64_t d, f;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "d", 040755, &d), 0);
	ck_assert_int_eq(cowfs_create(pool, d, "f", 0100644, &f), 0);
	uint8_t buf[8192];
	fill_pattern(buf, sizeof(buf), 3);
	ck_assert_int_eq(cowfs_write(pool, f, 0, buf, sizeof(buf)), 8192);
	checked();
	struct cowfs_bp bp;
	ck_assert_int_eq(cowfs_obj_bp(pool, f, 0, &bp), 0);
	ck_assert_uint_eq(bp.dva[1], 0); /* data: one copy */
	ck_assert_int_eq(cowfs_close(pool), 0);
	pool = NULL;
	uint8_t *img = cowfs_memdev_bytes(dev);
	/* Damage the data block: EIO, never the bad bytes. */
	img[bp.dva[0] + 100] ^= 0x40;
	op();
	ck_assert_int_eq(cowfs_read(pool, f, 0, buf, sizeof(buf)), -EIO);
	ck_assert_int_gt(cowfs_check(pool, NULL, NULL, NULL), 0);
	/* Damage copy 0 of the directory bucket: read from copy 1, repaired. */
	struct cowfs_bp dbp;
	ck_assert_int_eq(cowfs_obj_bp(pool, d, 0, &dbp), 0);
	ck_assert_uint_ne(dbp.dva[1], 0);
	ck_assert_uint_gt(
	    dbp.dva[1] > dbp.dva[0] ? dbp.dva[1] - dbp.dva[0] : dbp.dva[0] - dbp.dva[1], 2 * MB);
	ck_assert_int_eq(cowfs_close(pool), 0);
	memset(img + dbp.dva[0], 0xa5, 512);
	op();
	uint64_t o;
	ck_assert_int_eq(cowfs_lookup(pool, d, "f", &o), 0);
	ck_assert_uint_eq(o, f);
	struct cowfs_pool_info pi;
	cowfs_pool_info(pool, &pi);
	ck_assert_uint_eq(pi.repaired, 1);
	ck_assert_uint_ge(pi.cksum_errors, 1);
	ck_assert_int_eq(cowfs_close(pool), 0);
	ck_assert_uint_ne(img[dbp.dva[0]], 0xa5); /* rewritten on disk */
	op();
	teardown();
}
END_TEST

/* Sequential prefetch (cowfs_prefetch.c): a file read from start to end
 * has its next records read ahead by the workers, in runs of blocks that
 * follow each other on the device, the bytes are right, and a damaged
 * block read ahead fails quietly and alone (the rest of its run reads
 * fine): the reader gets EIO, and the checksum error is counted once, by
 * the reader's own read. */
START_TEST(test_prefetch_sequential)
{
	const size_t len = 4 * MB, chunk = 64 * 1024;
	mk(32 * MB, COWFS_COMP_OFF, 0);
	struct cowfs_open_opts oo = {.prefetch = 8};
	char why[128];
	ck_assert_int_eq(cowfs_open(dev, &oo, &pool, why, sizeof(why)), 0);
	uint64_t f;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "f", 0100644, &f), 0);
	uint8_t *buf = malloc(len), *got = malloc(chunk);
	fill_pattern(buf, len, 9);
	ck_assert_int_eq(cowfs_write(pool, f, 0, buf, len), (int64_t)len);
	checked();
	struct cowfs_bp bp10;
	ck_assert_int_eq(cowfs_obj_bp(pool, f, 10, &bp10), 0);
	ck_assert_int_eq(cowfs_close(pool), 0);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) /* damage record 10 (128 KiB records) */
			cowfs_memdev_bytes(dev)[bp10.dva[0] + 4096] ^= 0x10;
		ck_assert_int_eq(cowfs_open(dev, &oo, &pool, why, sizeof(why)), 0);
		ck_assert_int_eq(cowfs_obj_hold(pool, f), 0); /* keeps the stream, as a vnode */
		uint64_t eio = 0;
		for (size_t off = 0; off < len; off += chunk) {
			int64_t n = cowfs_read(pool, f, off, got, chunk);
			if (pass == 1 && off / bp10.lsize == 10) {
				ck_assert_int_eq(n, -EIO);
				eio++;
				continue;
			}
			ck_assert_int_eq(n, (int64_t)chunk);
			ck_assert_msg(memcmp(got, buf + off, chunk) == 0, "bytes at %zu", off);
		}
		struct cowfs_pool_info pi;
		cowfs_pool_info(pool, &pi);
		ck_assert_uint_gt(pi.prefetch_queued, 16);
		ck_assert_uint_le(pi.prefetch_queued, len / bp10.lsize);
		ck_assert_uint_eq(pi.prefetch_dropped, 0);
		/* Queued in batches, read in runs of several blocks (the
		 * damaged one fails alone: the others read right above). */
		ck_assert_uint_gt(pi.prefetch_runs, 0);
		ck_assert_uint_lt(pi.prefetch_runs * 2, pi.prefetch_reads);
		/* One per read that failed (both halves of the record); none
		 * from the prefetch. */
		ck_assert_uint_eq(pi.cksum_errors, eio);
		ck_assert_uint_eq(eio, pass ? bp10.lsize / chunk : 0);
		cowfs_obj_release(pool, f);
		ck_assert_int_eq(cowfs_close(pool), 0);
		pool = NULL;
	}
	/* Random reads prefetch nothing. */
	ck_assert_int_eq(cowfs_open(dev, &oo, &pool, why, sizeof(why)), 0);
	ck_assert_int_eq(cowfs_obj_hold(pool, f), 0);
	const unsigned order[] = {7, 2, 30, 5, 19, 11, 0, 25};
	for (unsigned i = 0; i < 8; i++)
		ck_assert_int_eq(cowfs_read(pool, f, order[i] * 131072ULL, got, chunk),
				 (int64_t)chunk);
	struct cowfs_pool_info pi;
	cowfs_pool_info(pool, &pi);
	ck_assert_uint_eq(pi.prefetch_queued, 0);
	cowfs_obj_release(pool, f);
	free(buf);
	free(got);
	teardown();
}
END_TEST

START_TEST(test_free_of_unowned_space)
{
	/* Block pointers that name space outside the data area, free space or
	 * a misaligned range (metadata damaged behind a good checksum: found
	 * by fuzz_cowfs with checksums trusted) are refused and counted; the
	 * space map is left as it was and the pool stays consistent. */
	mk(8 * MB, COWFS_COMP_OFF, 0);
	op();
	uint64_t o;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "f", 0100644, &o), 0);
	ck_assert_int_eq(cowfs_write(pool, o, 0, "data", 4), 4);
	checked();
	struct cowfs_pool_info before, after;
	cowfs_pool_info(pool, &before);
	const struct cowfs_bp bad[] = {
	    {.dva = {8 * MB, 0}, .psize = 4096, .lsize = 4096, .birth = 1}, /* past the end */
	    {.dva = {512, 0}, .psize = 4096, .lsize = 4096, .birth = 1},    /* in the label */
	    {.dva = {UINT64_MAX - 511, 0}, .psize = 4096, .lsize = 4096, .birth = 1},
	    {.dva = {6 * MB, 0}, .psize = 4096, .lsize = 4096, .birth = 1}, /* free space */
	    {.dva = {6 * MB + 100, 0}, .psize = 4096, .lsize = 4096, .birth = 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cowfs_space_free_bp(pool, &bad[i]);
	cowfs_pool_info(pool, &after);
	ck_assert_uint_eq(after.space_errors, before.space_errors + 5);
	ck_assert_uint_eq(after.alloc_bytes, before.alloc_bytes);
	ck_assert_uint_eq(after.free_bytes, before.free_bytes);
	checked();
	reopen();
	char buf[8];
	ck_assert_int_eq(cowfs_read(pool, o, 0, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "data", 4);
	teardown();
}
END_TEST

START_TEST(test_enospc_one_file)
{
	/* One file written in 256 KiB pieces past the size of the pool. */
	mk(6 * MB, COWFS_COMP_OFF, 0);
	op();
	uint64_t o;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "big", 0100644, &o), 0);
	uint8_t *buf = malloc(256 * 1024);
	fill_pattern(buf, 256 * 1024, 1);
	uint64_t off = 0;
	int64_t r = 0;
	while (off < 20 * MB) {
		r = cowfs_write(pool, o, off, buf, 256 * 1024);
		if (r != 256 * 1024)
			break;
		off += (uint64_t)r;
	}
	ck_assert_msg(off < 6 * MB, "wrote %llu bytes into a 6 MiB pool", (unsigned long long)off);
	ck_assert(r == -ENOSPC || (r >= 0 && r < 256 * 1024));
	checked();
	ck_assert_int_eq(cowfs_unlink(pool, COWFS_ROOT_OBJ, "big"), 0);
	checked();
	free(buf);
	teardown();
}
END_TEST

START_TEST(test_enospc)
{
	mk(8 * MB, COWFS_COMP_OFF, 0);
	op();
	uint8_t *buf = malloc(1 << 20);
	fill_pattern(buf, 1 << 20, 9);
	int files = 0;
	int64_t r = 0;
	for (; files < 100; files++) {
		char name[32];
		uint64_t o;
		snprintf(name, sizeof(name), "fill%d", files);
		int e = cowfs_create(pool, COWFS_ROOT_OBJ, name, 0100644, &o);
		if (e) {
			ck_assert_int_eq(e, -ENOSPC);
			break;
		}
		r = cowfs_write(pool, o, 0, buf, 1 << 20);
		if (r != 1 << 20) {
			ck_assert(r == -ENOSPC || (r >= 0 && r < (1 << 20)));
			break;
		}
	}
	ck_assert_int_lt(files, 100);
	checked();
	/* Full, yet names can still go, and space comes back. */
	ck_assert_int_eq(cowfs_unlink(pool, COWFS_ROOT_OBJ, "fill0"), 0);
	checked();
	reopen();
	uint64_t o;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "again", 0100644, &o), 0);
	ck_assert_int_eq(cowfs_write(pool, o, 0, buf, 1 << 19), 1 << 19);
	checked();
	free(buf);
	teardown();
}
END_TEST

START_TEST(test_failing_device)
{
	mk(16 * MB, COWFS_COMP_LZ4, 0);
	op();
	uint64_t f;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "kept", 0100644, &f), 0);
	ck_assert_int_eq(cowfs_write(pool, f, 0, "committed", 9), 9);
	checked();
	struct cowfs_pool_info pi;
	cowfs_pool_info(pool, &pi);
	uint64_t txg = pi.txg;
	/* The device dies two writes into the next commit. */
	cowfs_memdev_faults(dev)->fail_writes_after = cowfs_memdev_writes(dev) + 2;
	ck_assert_int_eq(cowfs_write(pool, f, 0, "lost-data", 9), 9);
	uint64_t g;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "lost", 0100644, &g), 0);
	ck_assert_int_eq(cowfs_sync(pool), -EIO);
	ck_assert_int_eq(cowfs_write(pool, f, 0, "x", 1), -EIO);
	ck_assert_int_eq(cowfs_close(pool), -EIO);
	pool = NULL;
	cowfs_memdev_faults(dev)->fail_writes_after = 0;
	op();
	cowfs_pool_info(pool, &pi);
	ck_assert_uint_eq(pi.txg, txg);
	char b[16] = {0};
	ck_assert_int_eq(cowfs_read(pool, f, 0, b, 16), 9);
	ck_assert_str_eq(b, "committed");
	uint64_t o;
	ck_assert_int_eq(cowfs_lookup(pool, COWFS_ROOT_OBJ, "lost", &o), -ENOENT);
	checked();
	teardown();
}
END_TEST

/* A device larger than its pool (grown): the labels are read where the
 * pool's size puts them, nothing is taken for damaged, and one missing
 * label is still healed; on a device the pool fills, the same. */
START_TEST(test_labels_grown_device)
{
	mk(8 * MB, COWFS_COMP_OFF, 0);
	struct cowfs_dev *big;
	ck_assert_int_eq(cowfs_memdev_create(12 * MB, &big), 0);
	memcpy(cowfs_memdev_bytes(big), cowfs_memdev_bytes(dev), 8 * MB);
	char why[128];
	struct cowfs_pool_info pi;
	for (int damaged = 0; damaged < 2; damaged++) {
		uint8_t *img = cowfs_memdev_bytes(big);
		if (damaged) /* label 1's header, at the pool's end */
			memset(img + 8 * MB - 256 * 1024, 0, 512);
		ck_assert_msg(cowfs_open(big, NULL, &pool, why, sizeof(why)) == 0, "%s", why);
		cowfs_pool_info(pool, &pi);
		ck_assert_uint_eq(pi.repaired, (uint64_t)damaged);
		ck_assert_uint_eq(pi.size, 8 * MB);
		ck_assert_int_eq(cowfs_close(pool), 0);
		pool = NULL;
		ck_assert_int_eq(memcmp(img + 8 * MB - 256 * 1024, "KARST-COWFS-LBL", 16), 0);
	}
	/* The pool fills the device: a damaged uberblock slot of label 0 is
	 * rewritten from what the open read, without reading it again. */
	op();
	cowfs_pool_info(pool, &pi);
	ck_assert_uint_eq(pi.repaired, 0);
	uint64_t txg = pi.txg;
	ck_assert_int_eq(cowfs_close(pool), 0); /* commits nothing new */
	pool = NULL;
	uint8_t *img = cowfs_memdev_bytes(dev);
	uint8_t *slot = img + 128 * 1024 + (txg % 128) * 1024;
	slot[40] ^= 1;
	op();
	cowfs_pool_info(pool, &pi);
	ck_assert_uint_eq(pi.repaired, 1);
	ck_assert_int_eq(cowfs_close(pool), 0);
	pool = NULL;
	struct cowfs_ub ub;
	const char *w;
	ck_assert_int_eq(cowfs_ub_decode(slot, &ub, &w), 0);
	ck_assert_uint_eq(ub.txg, txg);
	cowfs_memdev_destroy(big);
	teardown();
}
END_TEST

START_TEST(test_bad_images)
{
	mk(8 * MB, COWFS_COMP_LZ4, 0);
	char why[128];
	uint8_t *img = cowfs_memdev_bytes(dev);
	/* One label gone: still opens from the other, which heals it. */
	memset(img, 0, 512);
	op();
	ck_assert_int_eq(cowfs_close(pool), 0);
	pool = NULL;
	ck_assert_int_eq(memcmp(img, "KARST-COWFS-LBL", 16), 0);
	/* Both labels gone: refused with a reason. */
	memset(img, 0, 512);
	memset(img + 8 * MB - 256 * 1024, 0, 512);
	ck_assert_int_eq(cowfs_open(dev, NULL, &pool, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "label"));
	pool = NULL;
	teardown();
	/* Newest uberblock's root damaged in both copies: the older one. */
	mk(8 * MB, COWFS_COMP_LZ4, 0);
	op();
	uint64_t f;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "new", 0100644, &f), 0);
	ck_assert_int_eq(cowfs_close(pool), 0);
	pool = NULL;
	img = cowfs_memdev_bytes(dev);
	/* Find txg 2's uberblock and ruin its root block copies. */
	struct cowfs_ub ub;
	const char *w;
	ck_assert_int_eq(cowfs_ub_decode(img + 128 * 1024 + 2 * 1024, &ub, &w), 0);
	ck_assert_uint_eq(ub.txg, 2);
	memset(img + ub.root.dva[0], 0, 512);
	memset(img + ub.root.dva[1], 0, 512);
	op();
	struct cowfs_pool_info pi;
	cowfs_pool_info(pool, &pi);
	ck_assert_uint_eq(pi.txg, 1);
	uint64_t o;
	ck_assert_int_eq(cowfs_lookup(pool, COWFS_ROOT_OBJ, "new", &o), -ENOENT);
	ck_assert_int_eq(cowfs_close(pool), 0);
	pool = NULL;
	/* Random garbage everywhere: refused or opened, never a crash. */
	srand(5);
	for (int i = 0; i < 300; i++) {
		size_t off = (size_t)rand() % (8 * MB);
		img[off] ^= (uint8_t)(1 + rand() % 255);
	}
	if (cowfs_open(dev, NULL, &pool, why, sizeof(why)) == 0)
		(void)cowfs_check(pool, NULL, NULL, NULL);
	teardown();
	/* Too small a device. */
	ck_assert_int_eq(cowfs_memdev_create(1 * MB, &dev), 0);
	struct cowfs_mkfs_opts mo = {0};
	ck_assert_int_eq(cowfs_mkfs(dev, &mo, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(cowfs_open(dev, NULL, &pool, why, sizeof(why)), -EINVAL);
	pool = NULL;
	teardown();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cowfs_core");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty_pool);
	tcase_add_test(tc, test_data_lz4);
	tcase_add_test(tc, test_data_plain_small_records);
	tcase_add_test(tc, test_mcache_reads_stay_right);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_big_directory);
	tcase_add_test(tc, test_ditto_repair_and_data_eio);
	tcase_add_test(tc, test_enospc);
	tcase_add_test(tc, test_prefetch_sequential);
	tcase_add_test(tc, test_enospc_one_file);
	tcase_add_test(tc, test_free_of_unowned_space);
	tcase_add_test(tc, test_failing_device);
	tcase_add_test(tc, test_bad_images);
	tcase_add_test(tc, test_labels_grown_device);
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
