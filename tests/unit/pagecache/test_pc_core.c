/*
 * The page cache without mappings: the index, reading and writing through
 * the cache with the test filesystem, page states, lending and the store
 * owner (ramfs's kind), truncate, and eviction order.
 */
#include "pc_test_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct tfs f;
static uint8_t buf[16 * PAGE_SIZE];

static struct pc_stats stats(void)
{
	struct pc_stats st;
	pc_stats_get(&st);
	return st;
}

/* The index is a radix tree: sparse indexes far apart, in order. */
START_TEST(test_index_sparse)
{
	struct pc_object obj;
	memset(&obj, 0, sizeof(obj));
	static const uint64_t idx[] = {0, 1, 63, 64, 4095, 4096, 1ULL << 30, (1ULL << 52) - 1};
	int vals[8];
	int err = 0;
	for (int i = 0; i < 8; i++) {
		void **slot = pc_index_slot(&obj, idx[i], true, &err);
		ck_assert_ptr_nonnull(slot);
		ck_assert_ptr_null(*slot);
		*slot = &vals[i];
	}
	ck_assert_int_le(obj.height, 9);
	for (int i = 0; i < 8; i++)
		ck_assert_ptr_eq(pc_index_get(&obj, idx[i]), &vals[i]);
	ck_assert_ptr_null(pc_index_get(&obj, 2));
	ck_assert_ptr_null(pc_index_get(&obj, 1ULL << 31));
	/* Iteration visits them in order, skipping holes. */
	uint64_t at = 0;
	for (int i = 0; i < 8; i++) {
		void *e = pc_index_next(&obj, &at);
		ck_assert_ptr_eq(e, &vals[i]);
		ck_assert_uint_eq(at, idx[i]);
		at++;
	}
	ck_assert_ptr_null(pc_index_next(&obj, &at));
	at = 65;
	ck_assert_ptr_eq(pc_index_next(&obj, &at), &vals[4]);
	ck_assert_uint_eq(at, 4095);
	for (int i = 0; i < 8; i++)
		*pc_index_slot(&obj, idx[i], false, NULL) = NULL;
	pc_index_free(&obj);
	ck_assert_int_eq(obj.height, 0);
}
END_TEST

static void check_store_bytes(const uint8_t *b, uint64_t page, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		PGT_CHECK_EQ(b[i], tfs_byte(page, from + i));
}

/* A read fills each page once; a second read is served from the cache. */
START_TEST(test_read_fills_once)
{
	tfs_init(&f, &tfs_fill_owner, 5 * PAGE_SIZE + 100);
	ck_assert_int_eq(tfs_pread(&f, buf, 8 * PAGE_SIZE, 0), 5 * PAGE_SIZE + 100);
	for (int p = 0; p < 5; p++)
		check_store_bytes(buf + p * PAGE_SIZE, p, 0, PAGE_SIZE);
	check_store_bytes(buf + 5 * PAGE_SIZE, 5, 0, 100);
	ck_assert_int_eq(f.total_fills, 6);
	ck_assert_uint_eq(pc_npages(&f.obj), 6);
	/* Unaligned, across pages, again: no more fills. */
	ck_assert_int_eq(tfs_pread(&f, buf, 3000, PAGE_SIZE - 7), 3000);
	check_store_bytes(buf, 0, PAGE_SIZE - 7, 7);
	check_store_bytes(buf + 7, 1, 0, 2993);
	ck_assert_int_eq(f.total_fills, 6);
	/* At and past the end: nothing. */
	ck_assert_int_eq(tfs_pread(&f, buf, 10, 5 * PAGE_SIZE + 100), 0);
	ck_assert_int_eq(tfs_pread(&f, buf, 10, 1ULL << 40), 0);
	tfs_destroy(&f);
}
END_TEST

/* Bytes past the end in the last page read as zero even if the store has
 * something there (the cache zeroes them after the fill). */
START_TEST(test_tail_zeroed)
{
	tfs_init(&f, &tfs_fill_owner, 100);
	ck_assert_int_eq(tfs_pread(&f, buf, 100, 0), 100);
	struct pc_page *pg = pc_index_get(&f.obj, 0);
	ck_assert_ptr_nonnull(pg);
	for (size_t i = 100; i < PAGE_SIZE; i++)
		PGT_CHECK_EQ(((uint8_t *)pg->data)[i], 0);
	tfs_destroy(&f);
}
END_TEST

/* Writes: a partial page is read first, a whole page is not; pages are
 * dirty until fsync writes them back; the file grows. */
START_TEST(test_write_dirty_fsync)
{
	tfs_init(&f, &tfs_fill_owner, 4 * PAGE_SIZE);
	uint64_t dirty0 = stats().dirty;
	memset(buf, 'x', PAGE_SIZE);
	ck_assert_int_eq(tfs_pwrite(&f, buf, 10, 5), 10); /* partial: fill page 0 */
	ck_assert_int_eq(f.fills[0], 1);
	ck_assert_int_eq(tfs_pwrite(&f, buf, PAGE_SIZE, PAGE_SIZE), (long)PAGE_SIZE); /* whole */
	ck_assert_int_eq(f.fills[1], 0);
	ck_assert_int_eq(tfs_pwrite(&f, buf, 3, 6 * PAGE_SIZE + 1), 3); /* past the end: grows */
	ck_assert_int_eq(f.fills[6], 0);
	ck_assert_uint_eq(pc_size(&f.obj), 6 * PAGE_SIZE + 4);
	ck_assert_uint_eq(stats().dirty, dirty0 + 3);
	ck_assert_int_eq(f.total_writebacks, 0);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_uint_eq(stats().dirty, dirty0);
	ck_assert_int_eq(f.writebacks[0], 1);
	ck_assert_int_eq(f.writebacks[1], 1);
	ck_assert_int_eq(f.writebacks[6], 1);
	/* The store has the writes and kept the rest of page 0. */
	check_store_bytes(f.store, 0, 0, 5);
	for (int i = 5; i < 15; i++)
		ck_assert_int_eq(f.store[i], 'x');
	check_store_bytes(f.store + 15, 0, 15, 100);
	ck_assert_int_eq(f.store[PAGE_SIZE + 77], 'x');
	ck_assert_int_eq(f.store[6 * PAGE_SIZE], 0); /* a hole before the write */
	ck_assert_int_eq(f.store[6 * PAGE_SIZE + 1], 'x');
	/* Clean now: fsync again writes nothing. */
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_int_eq(f.total_writebacks, 3);
	/* Reading back: the cache's bytes, no fills. */
	int fills = f.total_fills;
	ck_assert_int_eq(tfs_pread(&f, buf, 20, 0), 20);
	ck_assert_int_eq(buf[5], 'x');
	ck_assert_int_eq(f.total_fills, fills);
	tfs_destroy(&f);
}
END_TEST

/* A failing writeback leaves the page dirty (and says so); a failing fill
 * fails the read with EIO and caches nothing. */
START_TEST(test_errors)
{
	tfs_init(&f, &tfs_fill_owner, 4 * PAGE_SIZE);
	f.fail_fill_index = 2;
	ck_assert_int_eq(tfs_pread(&f, buf, 4 * PAGE_SIZE, 0), -EIO);
	ck_assert_ptr_null(pc_index_get(&f.obj, 2));
	ck_assert_uint_eq(pc_npages(&f.obj), 2);
	f.fail_fill_index = -1;
	ck_assert_int_eq(tfs_pread(&f, buf, 4 * PAGE_SIZE, 0), 4 * PAGE_SIZE);
	check_store_bytes(buf + 2 * PAGE_SIZE, 2, 0, PAGE_SIZE);

	ck_assert_int_eq(tfs_pwrite(&f, "abc", 3, 0), 3);
	f.fail_writeback_index = 0;
	uint64_t d = stats().dirty;
	ck_assert_int_eq(pc_fsync(&f.obj), -EIO);
	ck_assert_uint_eq(stats().dirty, d); /* still dirty */
	struct pc_page *pg = pc_index_get(&f.obj, 0);
	ck_assert(pc_flags(pg) & PC_PG_DIRTY);
	ck_assert(!(pc_flags(pg) & PC_PG_WRITEBACK));
	f.fail_writeback_index = -1;
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert(!(pc_flags(pg) & PC_PG_DIRTY));
	ck_assert_int_eq(memcmp(f.store, "abc", 3), 0);
	tfs_destroy(&f);
}
END_TEST

/* Lent pages are the store's own frames (no copy); a write replaces an
 * unmapped lent page with a copy of the cache's own; each lent page is
 * unlent exactly once (tfs_destroy checks). */
START_TEST(test_lend)
{
	tfs_init(&f, &tfs_lend_owner, 4 * PAGE_SIZE);
	ck_assert_int_eq(tfs_pread(&f, buf, 4 * PAGE_SIZE, 0), 4 * PAGE_SIZE);
	ck_assert_int_eq(f.total_fills, 0);
	for (int p = 0; p < 4; p++) {
		ck_assert_int_eq(f.lends[p], 1);
		struct pc_page *pg = pc_index_get(&f.obj, p);
		ck_assert_ptr_eq(pg->data, f.store + p * PAGE_SIZE);
	}
	ck_assert_int_eq(tfs_pwrite(&f, "zz", 2, PAGE_SIZE + 10), 2);
	ck_assert_int_eq(f.unlends[1], 1);
	struct pc_page *pg = pc_index_get(&f.obj, 1);
	ck_assert_ptr_ne(pg->data, f.store + PAGE_SIZE);
	ck_assert_int_eq(f.store[PAGE_SIZE + 10], tfs_byte(1, 10)); /* store untouched */
	ck_assert_int_eq(tfs_pread(&f, buf, PAGE_SIZE, PAGE_SIZE), (long)PAGE_SIZE);
	ck_assert_int_eq(buf[10], 'z');
	check_store_bytes(buf, 1, 0, 10);
	check_store_bytes(buf + 12, 1, 12, 100);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_int_eq(f.store[PAGE_SIZE + 10], 'z');
	tfs_destroy(&f);
}
END_TEST

/* read() of an owner with read_hold (cowfs's kind): spans of the owner's
 * bytes, no page made; a page in the index wins over a span (it may be
 * newer); PC_NO_LEND makes a page; a failing hold fails the read with
 * every hold released. */
START_TEST(test_read_spans)
{
	uint64_t size = 10 * PAGE_SIZE + 100;
	tfs_init(&f, &tfs_span_owner, size);
	struct pc_stats p0, p1;
	pc_stats_get(&p0);
	ck_assert_int_eq(tfs_pread(&f, buf, size, 0), (long)size);
	for (int p = 0; p < 10; p++)
		check_store_bytes(buf + p * PAGE_SIZE, p, 0, PAGE_SIZE);
	check_store_bytes(buf + 10 * PAGE_SIZE, 10, 0, 100);
	pc_stats_get(&p1);
	ck_assert_int_eq(f.holds, 3); /* pages 0-3, 4-7, 8-10 */
	ck_assert_int_eq(f.releases, 3);
	ck_assert_uint_eq(p1.read_spans - p0.read_spans, 3);
	ck_assert_uint_eq(p1.read_span_bytes - p0.read_span_bytes, size);
	ck_assert_uint_eq(pc_npages(&f.obj), 0);
	ck_assert_int_eq(f.total_fills, 0);
	for (int p = 0; p < 11; p++)
		ck_assert_int_eq(f.lends[p], 0);
	/* Inside one block, from an odd offset. */
	ck_assert_int_eq(tfs_pread(&f, buf, 9000, 5000), 9000);
	for (size_t i = 0; i < 9000; i++)
		ck_assert_uint_eq(buf[i], tfs_byte((5000 + i) / PAGE_SIZE, (5000 + i) % PAGE_SIZE));
	ck_assert_int_eq(f.holds, 4);

	/* Page 5 written (a page of the cache's own, dirty: newer than the
	 * store): the span of block 4-7 stops before it, resumes after it. */
	ck_assert_int_eq(tfs_pwrite(&f, "Q", 1, 5 * PAGE_SIZE + 7), 1);
	ck_assert_uint_eq(f.store[5 * PAGE_SIZE + 7], tfs_byte(5, 7));
	int h = f.holds;
	ck_assert_int_eq(tfs_pread(&f, buf, size, 0), (long)size);
	ck_assert_uint_eq(buf[5 * PAGE_SIZE + 7], 'Q');
	check_store_bytes(buf + 5 * PAGE_SIZE, 5, 0, 7);
	check_store_bytes(buf + 5 * PAGE_SIZE + 8, 5, 8, PAGE_SIZE - 8);
	check_store_bytes(buf + 4 * PAGE_SIZE, 4, 0, PAGE_SIZE);
	check_store_bytes(buf + 6 * PAGE_SIZE, 6, 0, PAGE_SIZE);
	ck_assert_int_eq(f.holds - h, 4); /* 0-3, 4, 6-7, 8-10 */

	/* PC_NO_LEND at page 8: a lent page is made there, spans go on. */
	f.nohold_index = 8;
	ck_assert_int_eq(tfs_pread(&f, buf, 3 * PAGE_SIZE, 8 * PAGE_SIZE), 2 * PAGE_SIZE + 100);
	ck_assert_int_eq(f.lends[8], 1);
	ck_assert_uint_eq(pc_npages(&f.obj), 2);
	check_store_bytes(buf, 8, 0, PAGE_SIZE);
	check_store_bytes(buf + PAGE_SIZE, 9, 0, PAGE_SIZE);
	check_store_bytes(buf + 2 * PAGE_SIZE, 10, 0, 100);

	/* A hold that fails fails the read; what came before is copied and
	 * every held span is released. */
	f.fail_hold_index = 4;
	memset(buf, 0, 3 * PAGE_SIZE);
	ck_assert_int_eq(tfs_pread(&f, buf, size - PAGE_SIZE, PAGE_SIZE), -EIO);
	for (int p = 1; p < 4; p++)
		check_store_bytes(buf + (p - 1) * PAGE_SIZE, p, 0, PAGE_SIZE);
	ck_assert_int_eq(f.releases, f.holds);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_uint_eq(f.store[5 * PAGE_SIZE + 7], 'Q');
	tfs_destroy(&f);
}
END_TEST

/* ramfs's kind: holes read as zeros without allocating, a write allocates
 * (through lend), pages are pinned and never evicted, truncate frees. */
START_TEST(test_store_owner)
{
	tfs_init(&f, &tfs_store_owner, 0);
	ck_assert_int_eq(tfs_pwrite(&f, "hello", 5, 3 * PAGE_SIZE + 1), 5);
	ck_assert_uint_eq(pc_size(&f.obj), 3 * PAGE_SIZE + 6);
	ck_assert_uint_eq(pc_npages(&f.obj), 1);
	ck_assert_int_eq(f.store_pages_out, 1);
	memset(buf, 0xee, sizeof(buf));
	ck_assert_int_eq(tfs_pread(&f, buf, 8 * PAGE_SIZE, 0), 3 * PAGE_SIZE + 6);
	for (size_t i = 0; i < 3 * PAGE_SIZE + 1; i++)
		PGT_CHECK_EQ(buf[i], 0);
	ck_assert_int_eq(memcmp(buf + 3 * PAGE_SIZE + 1, "hello", 5), 0);
	ck_assert_uint_eq(pc_npages(&f.obj), 1); /* holes stayed holes */
	ck_assert_uint_eq(stats().dirty, 0);	 /* nothing to write back */
	uint64_t ev = stats().evicted;
	ck_assert_uint_eq(pc_evict(1 << 20), 0);
	ck_assert_uint_eq(stats().evicted, ev);
	ck_assert_uint_eq(pc_npages(&f.obj), 1);
	/* Truncate into the page: tail zeroed; grow again: zeros. */
	ck_assert_int_eq(pc_truncate(&f.obj, 3 * PAGE_SIZE + 3), 0);
	ck_assert_int_eq(pc_truncate(&f.obj, 3 * PAGE_SIZE + 6), 0);
	ck_assert_int_eq(tfs_pread(&f, buf, 5, 3 * PAGE_SIZE + 1), 5);
	ck_assert_int_eq(memcmp(buf, "he\0\0\0", 5), 0);
	ck_assert_int_eq(pc_truncate(&f.obj, 0), 0);
	ck_assert_int_eq(f.store_pages_out, 0);
	ck_assert_uint_eq(pc_npages(&f.obj), 0);
	tfs_destroy(&f);
}
END_TEST

/* Truncate drops cached pages past the end without writing them back. */
START_TEST(test_truncate)
{
	tfs_init(&f, &tfs_fill_owner, 8 * PAGE_SIZE);
	ck_assert_int_eq(tfs_pread(&f, buf, 8 * PAGE_SIZE, 0), 8 * PAGE_SIZE);
	memset(buf, 'w', 8 * PAGE_SIZE);
	ck_assert_int_eq(tfs_pwrite(&f, buf, 8 * PAGE_SIZE, 0), 8 * PAGE_SIZE);
	ck_assert_int_eq(pc_truncate(&f.obj, 2 * PAGE_SIZE + 10), 0);
	ck_assert_uint_eq(pc_npages(&f.obj), 3);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_int_eq(f.total_writebacks, 3);
	ck_assert_int_eq(f.writebacks[2], 1);
	/* The last page was written back only up to the end. */
	ck_assert_int_eq(f.store[2 * PAGE_SIZE + 9], 'w');
	ck_assert_int_eq(f.store[2 * PAGE_SIZE + 10], tfs_byte(2, 10));
	ck_assert_int_eq(tfs_pread(&f, buf, PAGE_SIZE, 2 * PAGE_SIZE), 10);
	tfs_destroy(&f);
}
END_TEST

/* Eviction: clean unaccessed pages first, then accessed ones after their
 * second chance, dirty ones written back before they go; a refault of an
 * evicted page is counted. */
START_TEST(test_evict_order)
{
	tfs_init(&f, &tfs_fill_owner, 8 * PAGE_SIZE);
	ck_assert_int_eq(tfs_pread(&f, buf, 8 * PAGE_SIZE, 0), 8 * PAGE_SIZE);
	/* Every page was just used: clear that, as an earlier eviction pass
	 * would have, then use pages 0 and 1 again and dirty 2 and 3. */
	for (int p = 0; p < 8; p++)
		pc_page_clear(pc_index_get(&f.obj, p), PC_PG_ACCESSED);
	ck_assert_int_eq(tfs_pread(&f, buf, 2 * PAGE_SIZE, 0), 2 * PAGE_SIZE);
	ck_assert_int_eq(tfs_pwrite(&f, "d", 1, 2 * PAGE_SIZE), 1);
	ck_assert_int_eq(tfs_pwrite(&f, "d", 1, 3 * PAGE_SIZE), 1);
	for (int p = 2; p < 4; p++)
		pc_page_clear(pc_index_get(&f.obj, p), PC_PG_ACCESSED);
	struct pc_stats s0 = stats();
	/* Four pages: the clean, unused 4..7. */
	ck_assert_uint_eq(pc_evict(4 * PAGE_SIZE), 4 * PAGE_SIZE);
	for (int p = 0; p < 4; p++)
		ck_assert_ptr_nonnull(pc_index_get(&f.obj, p));
	for (int p = 4; p < 8; p++)
		ck_assert(pc_is_shadow(pc_index_get(&f.obj, p)));
	ck_assert_int_eq(f.total_writebacks, 0);
	/* Two more: the used ones had their second chance, so the clean
	 * 0 and 1 go before the dirty ones are written back. */
	ck_assert_uint_eq(pc_evict(2 * PAGE_SIZE), 2 * PAGE_SIZE);
	ck_assert(pc_is_shadow(pc_index_get(&f.obj, 0)));
	ck_assert(pc_is_shadow(pc_index_get(&f.obj, 1)));
	ck_assert_int_eq(f.total_writebacks, 0);
	/* The dirty ones: written back, then dropped; nothing is lost. */
	ck_assert_uint_eq(pc_evict(2 * PAGE_SIZE), 2 * PAGE_SIZE);
	ck_assert_int_eq(f.writebacks[2], 1);
	ck_assert_int_eq(f.writebacks[3], 1);
	ck_assert_int_eq(f.store[2 * PAGE_SIZE], 'd');
	ck_assert_uint_eq(stats().evicted, s0.evicted + 8);
	ck_assert_uint_eq(pc_npages(&f.obj), 0);
	/* Refaults: reading them again fills and counts. */
	ck_assert_int_eq(tfs_pread(&f, buf, 4 * PAGE_SIZE, 0), 4 * PAGE_SIZE);
	ck_assert_uint_eq(stats().refaults, s0.refaults + 4);
	ck_assert_int_eq(buf[2 * PAGE_SIZE], 'd');
	ck_assert_int_eq(buf[3 * PAGE_SIZE], 'd');
	check_store_bytes(buf + 3 * PAGE_SIZE + 1, 3, 1, 100);
	tfs_destroy(&f);
}
END_TEST

/* Owners whose ops contradict their flags are refused. */
START_TEST(test_owner_checks)
{
	static const struct pc_owner_ops none = {0};
	static const struct pc_owner_ops nowb = {.fill = NULL, .lend = NULL};
	struct pc_owner bad1 = {.name = "bad1", .ops = &none, .flags = PC_OWNER_PINNED};
	ck_assert_int_eq(pc_owner_register(&bad1), -EINVAL);
	static const struct pc_owner_ops fill_only = {.fill = (void *)1};
	struct pc_owner bad2 = {.name = "bad2", .ops = &fill_only};
	ck_assert_int_eq(pc_owner_register(&bad2), -EINVAL); /* evictable, no writeback */
	(void)nowb;
	struct pc_object obj;
	struct pc_owner unreg = {.name = "unreg", .ops = &fill_only, .flags = PC_OWNER_PINNED};
	ck_assert_int_eq(pc_object_init(&obj, &unreg, NULL, 0), -EINVAL);
	/* read_hold without read_release (or the other way round) */
	static const struct pc_owner_ops half = {.fill = (void *)1, .read_hold = (void *)1};
	struct pc_owner bad3 = {.name = "bad3", .ops = &half, .flags = PC_OWNER_PINNED};
	ck_assert_int_eq(pc_owner_register(&bad3), -EINVAL);
	/* The scanner starts only with an evictable owner (off in tests). */
	ck_assert(!pc_scanner_running());
}
END_TEST

/* /proc/pagecache's text: one "name value" line per figure. */
START_TEST(test_stats_format)
{
	char text[2048];
	int n = pc_stats_format(text, sizeof(text));
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, (int)sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, "cached "));
	ck_assert_ptr_nonnull(strstr(text, "\nmapped "));
	ck_assert_ptr_nonnull(strstr(text, "\nrefaults "));
	ck_assert_ptr_nonnull(strstr(text, "\nscan_cpu_ppm_avg "));
	char small[10];
	ck_assert_int_eq(pc_stats_format(small, sizeof(small)), n);
	ck_assert_uint_eq(strlen(small), 9);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pc_core");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_index_sparse);
	tcase_add_test(tc, test_read_fills_once);
	tcase_add_test(tc, test_tail_zeroed);
	tcase_add_test(tc, test_write_dirty_fsync);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_lend);
	tcase_add_test(tc, test_read_spans);
	tcase_add_test(tc, test_store_owner);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_evict_order);
	tcase_add_test(tc, test_owner_checks);
	tcase_add_test(tc, test_stats_format);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
