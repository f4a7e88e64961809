/*
 * Holds, mappings, ghosts, memory pressure, compression, errors and
 * arcstats: the ARC's promises to the page cache, the shrinker and cowfs.
 */
#include "arc_test_util.h"
#include <karst/param.h>
#include <karst/reclaim.h>
#include <stdio.h>

static struct fill_ctx F;

static void setup(void)
{
	memset(&F, 0, sizeof(F));
}

static struct arc_stats stats(struct arc *a)
{
	struct arc_stats s;
	arc_stats_get(a, &s);
	return s;
}

static struct arc_buf *get(struct arc *a, uint64_t n)
{
	struct arc_key k = kkey(n);
	struct arc_buf *b = NULL;
	ck_assert_int_eq(arc_read(a, &k, BS, 0, test_fill, &F, &b), 0);
	ck_assert(data_ok(b, &k, F.compressible));
	return b;
}

static enum arc_state st_of(struct arc *a, uint64_t n)
{
	struct arc_key k = kkey(n);
	return arc_key_state(a, &k);
}

START_TEST(test_held_buffer_never_evicted)
{
	struct arc *a = mk_arc(8, 4);
	struct arc_buf *held = get(a, 1000);
	void *data = arc_buf_data(held);
	for (uint64_t i = 0; i < 500; i++) {
		touch(a, i, &F);
		touch(a, i % 3, &F); /* some MFU traffic too */
		verify_ok(a, false);
	}
	ck_assert_int_eq(st_of(a, 1000), ARC_STATE_MRU);
	ck_assert_ptr_eq(arc_buf_data(held), data);
	struct arc_key k = kkey(1000);
	ck_assert(data_ok(held, &k, false));
	arc_buf_release(a, held);
	/* Once released it is evictable like any other. */
	for (uint64_t i = 2000; i < 2100; i++)
		touch(a, i, &F);
	ck_assert_int_ne(st_of(a, 1000), ARC_STATE_MRU);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_shared_buffer_never_evicted)
{
	struct arc *a = mk_arc(8, 4);
	struct arc_buf *b = get(a, 7);
	ck_assert_uint_eq((uintptr_t)arc_buf_data(b) & PAGE_MASK, 0);
	ck_assert_int_eq(arc_buf_share(a, b), 0);
	ck_assert_int_eq(arc_buf_share(a, b), 0); /* two mappings: a count, not a flag */
	arc_buf_release(a, b);			  /* no holds left, still mapped */
	void *data = arc_buf_data(b);
	for (uint64_t i = 100; i < 400; i++) {
		touch(a, i, &F);
		verify_ok(a, false);
	}
	ck_assert_int_eq(st_of(a, 7), ARC_STATE_MRU);
	arc_buf_unshare(a, b);
	for (uint64_t i = 400; i < 700; i++)
		touch(a, i, &F);
	ck_assert_int_eq(st_of(a, 7), ARC_STATE_MRU); /* one mapping left */
	ck_assert_ptr_eq(arc_buf_data(b), data);
	struct arc_key k = kkey(7);
	ck_assert(data_ok(b, &k, false));
	arc_buf_unshare(a, b);
	for (uint64_t i = 700; i < 800; i++)
		touch(a, i, &F);
	ck_assert_int_ne(st_of(a, 7), ARC_STATE_MRU);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

/* arc_buf_share_n / arc_buf_unshare_n: n mappings in one go are n
 * mappings (cowfs's lend cursor takes a block's pages' shares at once):
 * the buffer stays until the last of them is given back, however they are
 * given back. */
START_TEST(test_share_n_counts_n)
{
	struct arc *a = mk_arc(8, 4);
	struct arc_buf *b = get(a, 7);
	ck_assert_int_eq(arc_buf_share_n(a, b, 32), 0);
	arc_buf_release(a, b);
	void *data = arc_buf_data(b);
	arc_buf_unshare(a, b); /* one lent page given back */
	arc_buf_unshare_n(a, b, 0);
	for (uint64_t i = 100; i < 400; i++)
		touch(a, i, &F);
	ck_assert_int_eq(st_of(a, 7), ARC_STATE_MRU);
	ck_assert_ptr_eq(arc_buf_data(b), data);
	arc_buf_unshare_n(a, b, 30); /* the cursor's reserve */
	for (uint64_t i = 400; i < 700; i++)
		touch(a, i, &F);
	ck_assert_int_eq(st_of(a, 7), ARC_STATE_MRU); /* the last page still lent */
	verify_ok(a, false);
	arc_buf_unshare(a, b);
	for (uint64_t i = 700; i < 800; i++)
		touch(a, i, &F);
	ck_assert_int_ne(st_of(a, 7), ARC_STATE_MRU);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_share_needs_page_alignment)
{
	struct arc *a = mk_arc(8, 1);
	struct arc_key k = kkey(1);
	struct arc_buf *b;
	ck_assert_int_eq(arc_read(a, &k, 1000, 0, test_fill, &F, &b), 0);
	ck_assert_int_eq(arc_buf_share(a, b), -EINVAL);
	arc_buf_release(a, b);
	arc_destroy(a);
}
END_TEST

START_TEST(test_everything_pinned_goes_over_c)
{
	struct arc *a = mk_arc(4, 1);
	struct arc_buf *bs[6];
	for (int i = 0; i < 6; i++)
		bs[i] = get(a, (uint64_t)i);
	struct arc_stats s = stats(a);
	ck_assert_uint_eq(s.size, 6 * BS); /* nothing could be evicted */
	ck_assert_uint_ge(s.memory_throttle_count, 2);
	verify_ok(a, false);
	for (int i = 0; i < 6; i++)
		arc_buf_release(a, bs[i]);
	touch(a, 100, &F); /* the next miss brings it back under c */
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_accessed_promotes_mapped_buffer)
{
	struct arc *a = mk_arc(8, 2);
	struct arc_buf *b = get(a, 3);
	ck_assert_int_eq(arc_buf_share(a, b), 0);
	arc_buf_release(a, b);
	ck_assert_int_eq(st_of(a, 3), ARC_STATE_MRU);
	struct arc_key k = kkey(3), other = kkey(4);
	ck_assert(arc_buf_accessed(a, &k));
	ck_assert_int_eq(st_of(a, 3), ARC_STATE_MFU);
	ck_assert(!arc_buf_accessed(a, &other));
	struct arc_key got;
	arc_buf_hashkey(b, &got);
	ck_assert_mem_eq(&got, &k, sizeof(k));
	arc_buf_unshare(a, b);
	/* An unmapped, unheld cached buffer may be reported too (scanner lag). */
	touch(a, 5, &F);
	struct arc_key k5 = kkey(5);
	ck_assert(arc_buf_accessed(a, &k5));
	ck_assert_int_eq(st_of(a, 5), ARC_STATE_MFU);
	ck_assert_uint_eq(stats(a).access_hits, 2);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_ghost_hit_refetches)
{
	struct arc *a = mk_arc(2, 1);
	touch(a, 0, &F);
	touch(a, 0, &F); /* T2 = {0} */
	touch(a, 1, &F);
	touch(a, 2, &F); /* 1 to B1 */
	touch(a, 1, &F); /* B1 hit: p = 1, REPLACE takes 0 from T2 to B2 */
	ck_assert_int_eq(st_of(a, 0), ARC_STATE_MFU_GHOST);
	unsigned long before = atomic_load(&F.calls);
	struct arc_buf *b = get(a, 0); /* data checked by get() */
	ck_assert_uint_eq(atomic_load(&F.calls), before + 1);
	ck_assert_int_eq(st_of(a, 0), ARC_STATE_MFU);
	arc_buf_release(a, b);
	ck_assert_uint_eq(stats(a).mfu_ghost_hits, 1);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

static struct arc *mk_shrinkable(uint64_t blocks, uint64_t retry_ns)
{
	struct arc_config cfg = {.name = "shrink",
				 .c_max = blocks * BS,
				 .c_min = blocks * BS / 4,
				 .grow_retry_ns = retry_ns,
				 .nsublists = 2};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	return a;
}

START_TEST(test_lowmem_frees_and_c_recovers)
{
	/* The retry time is long enough that 100 hits under a sanitizer on a
	 * loaded machine still fall inside it (50 ms did not). */
	struct arc *a = mk_shrinkable(64, 1000 * 1000 * 1000);
	for (uint64_t i = 0; i < 200; i++)
		touch(a, i % 64 + (i / 128) * 1000, &F);
	struct arc_stats s0 = stats(a);
	ck_assert_uint_eq(s0.size, 64 * BS);
	arc_lowmem(a);
	struct arc_stats s1 = stats(a);
	ck_assert_uint_lt(s1.c, s0.c);
	ck_assert_uint_eq(s1.c, s0.c - (s0.c >> 5));
	ck_assert_uint_le(s1.size, s1.c);
	ck_assert_uint_eq(s1.arc_no_grow, 1);
	verify_ok(a, true);
	/* Repeated pressure stops at c_min. */
	for (int i = 0; i < 200; i++)
		arc_lowmem(a);
	ck_assert_uint_eq(stats(a).c, 16 * BS);
	ck_assert_uint_le(stats(a).size, 16 * BS);
	verify_ok(a, true);
	/* No growth while the retry time runs... */
	for (uint64_t i = 0; i < 100; i++)
		touch(a, 5000 + i, &F);
	ck_assert_uint_eq(stats(a).c, 16 * BS);
	/* ...then misses grow c back to c_max. */
	thread_sleep_ns(1100 * 1000 * 1000);
	for (uint64_t i = 0; i < 200; i++) {
		touch(a, 6000 + i, &F);
		verify_ok(a, true);
	}
	struct arc_stats s2 = stats(a);
	ck_assert_uint_eq(s2.c, 64 * BS);
	ck_assert_uint_eq(s2.size, 64 * BS);
	ck_assert_uint_eq(s2.arc_no_grow, 0);
	ck_assert_uint_eq(s2.memory_indirect_count, 201);
	arc_destroy(a);
}
END_TEST

START_TEST(test_sized_adjust_returns_freed)
{
	struct arc *a = mk_shrinkable(64, 1000 * 1000 * 1000);
	for (uint64_t i = 0; i < 64; i++)
		touch(a, i, &F);
	size_t freed = arc_sized_adjust(a, 10 * BS);
	ck_assert_uint_ge(freed, 10 * BS);
	struct arc_stats s = stats(a);
	ck_assert_uint_eq(s.size, 54 * BS);
	ck_assert_uint_eq(s.c, 54 * BS);
	ck_assert_uint_eq(s.evictions, 10);
	verify_ok(a, true);
	/* More than can go: stops at c_min, then gives ghost headers too. */
	freed = arc_sized_adjust(a, 1000 * BS);
	s = stats(a);
	ck_assert_uint_eq(s.c, 16 * BS);
	ck_assert_uint_eq(s.size, 16 * BS);
	ck_assert_uint_eq(s.mru_ghost_size + s.mfu_ghost_size, 0);
	ck_assert_uint_ge(freed, 38 * BS);
	ck_assert_uint_ge(s.evict_not_enough, 1);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_registered_with_reclaimer)
{
	struct arc *a = mk_shrinkable(32, 1000 * 1000 * 1000);
	arc_register_reclaim(a);
	for (uint64_t i = 0; i < 32; i++)
		touch(a, i, &F);
	size_t freed = reclaim_memory(8 * BS);
	ck_assert_uint_ge(freed, 8 * BS);
	ck_assert_uint_eq(stats(a).size, 24 * BS);
	uint64_t c = stats(a).c;
	reclaim_lowmem();
	ck_assert_uint_lt(stats(a).c, c);
	verify_ok(a, true);
	arc_destroy(a); /* unregisters */
	ck_assert_uint_eq(reclaim_memory(BS), 0);
}
END_TEST

START_TEST(test_compressed_fill_round_trip)
{
	struct arc *a = mk_arc(16, 2);
	F.give_lz4 = true;
	F.compressible = true;
	for (uint64_t i = 0; i < 8; i++) {
		struct arc_buf *b = get(a, i); /* checks the plain bytes */
		ck_assert_uint_eq((uintptr_t)arc_buf_data(b) & PAGE_MASK, 0);
		arc_buf_release(a, b);
	}
	struct arc_stats s = stats(a);
	ck_assert_uint_eq(s.uncompressed_size, 8 * BS);
	ck_assert_uint_lt(s.compressed_size, 8 * BS / 4);
	ck_assert_uint_eq(s.overhead_size, 0); /* copies go with the last hold */
	ck_assert_uint_eq(s.size, s.compressed_size);
	/* Hits decompress again; two holders share one copy. */
	struct arc_buf *b1 = get(a, 3), *b2 = get(a, 3);
	ck_assert_ptr_eq(arc_buf_data(b1), arc_buf_data(b2));
	ck_assert_uint_eq(stats(a).overhead_size, BS);
	arc_buf_release(a, b1);
	arc_buf_release(a, b2);
	ck_assert_uint_eq(atomic_load(&F.calls), 8);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_arc_compresses_plain_fills)
{
	struct arc_config cfg = {.name = "z", .c_max = 16 * BS, .c_min = 16 * BS, .compress = true};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	F.compressible = true;
	for (uint64_t i = 0; i < 4; i++)
		arc_buf_release(a, get(a, i));
	F.compressible = false; /* random bytes: kept plain */
	for (uint64_t i = 10; i < 14; i++)
		arc_buf_release(a, get(a, i));
	struct arc_stats s = stats(a);
	ck_assert_uint_eq(s.uncompressed_size, 8 * BS);
	ck_assert_uint_lt(s.compressed_size, 4 * BS + 4 * BS / 4);
	ck_assert_uint_ge(s.compressed_size, 4 * BS);
	F.compressible = true;
	for (uint64_t i = 0; i < 4; i++)
		arc_buf_release(a, get(a, i)); /* hits, decompressed */
	ck_assert_uint_eq(atomic_load(&F.calls), 8);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_corrupt_compressed_block)
{
	struct arc *a = mk_arc(4, 1);
	F.fail = 100; /* "100 bytes of lz4" that are not lz4 */
	struct arc_key k = kkey(1);
	struct arc_buf *b;
	ck_assert_int_eq(arc_read(a, &k, BS, 0, test_fill, &F, &b), -EIO);
	ck_assert_int_eq(arc_key_state(a, &k), ARC_STATE_NONE);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

START_TEST(test_fill_error_not_cached)
{
	struct arc *a = mk_arc(4, 1);
	F.fail = -EIO;
	struct arc_key k = kkey(9);
	struct arc_buf *b;
	ck_assert_int_eq(arc_read(a, &k, BS, 0, test_fill, &F, &b), -EIO);
	ck_assert_int_eq(arc_key_state(a, &k), ARC_STATE_NONE);
	verify_ok(a, true);
	F.fail = 0;
	ck_assert(!touch(a, 9, &F));
	ck_assert(touch(a, 9, &F));
	ck_assert_int_eq(arc_read(a, &k, BS / 2, 0, test_fill, &F, &b), -EINVAL);
	ck_assert_int_eq(arc_read(a, &k, 0, 0, test_fill, &F, &b), -EINVAL);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

/* ARC_READ_NOWAIT, as cowfs's prefetch runs use it: from inside the fill
 * of block 1, block 1 itself (being filled) is -EEXIST at once instead of
 * a wait on our own fill, and a missing block 2 is claimed and filled
 * there, nested; once cached, both are -EEXIST without a hold. */
struct nested {
	struct arc *a;
	int self, next;
	void *next_data;
};

static int nested_fill(void *arg, const struct arc_key *k, void *dst, size_t lsize)
{
	struct nested *n = arg;
	struct arc_key k1 = kkey(1), k2 = kkey(2);
	struct arc_buf *b = NULL;
	n->self = arc_read(n->a, &k1, BS, ARC_READ_NOWAIT, test_fill, &F, &b);
	ck_assert_ptr_null(b);
	n->next = arc_read(n->a, &k2, BS, ARC_READ_NOWAIT | ARC_READ_PREFETCH, test_fill, &F, &b);
	if (n->next == 0) {
		n->next_data = arc_buf_data(b);
		arc_buf_release(n->a, b);
	}
	return test_fill(&F, k, dst, lsize);
}

START_TEST(test_nowait_claims_only_misses)
{
	struct arc *a = mk_arc(16, 0);
	struct nested n = {.a = a};
	struct arc_key k1 = kkey(1), k2 = kkey(2);
	struct arc_buf *b = NULL;
	ck_assert_int_eq(arc_read(a, &k1, BS, ARC_READ_NOWAIT, nested_fill, &n, &b), 0);
	ck_assert(data_ok(b, &k1, false));
	ck_assert_int_eq(n.self, -EEXIST);
	ck_assert_int_eq(n.next, 0);
	ck_assert_ptr_nonnull(n.next_data);
	ck_assert_uint_eq(atomic_load(&F.calls), 2);
	/* Cached, held or not: -EEXIST, no hold taken, no fill. */
	struct arc_buf *c = NULL;
	ck_assert_int_eq(arc_read(a, &k1, BS, ARC_READ_NOWAIT, test_fill, &F, &c), -EEXIST);
	ck_assert_int_eq(arc_read(a, &k2, BS, ARC_READ_NOWAIT, test_fill, &F, &c), -EEXIST);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(atomic_load(&F.calls), 2);
	arc_buf_release(a, b);
	verify_ok(a, true);
	ck_assert_int_eq(st_of(a, 2), ARC_STATE_MRU);
	ck_assert(touch(a, 2, &F)); /* a plain read of the nested fill's block hits */
	arc_destroy(a);
}
END_TEST

START_TEST(test_arcstats_table)
{
	struct arc *a = mk_arc(4, 1);
	for (uint64_t i = 0; i < 10; i++)
		touch(a, i % 6, &F);
	struct arc_buf *b = get(a, 100);
	arc_buf_release(a, b);
	char buf[8192];
	int n = arc_stats_format(a, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, (int)sizeof(buf));
	ck_assert_uint_eq(strlen(buf), (size_t)n);
	/* kstat header, column header, then "name type data" rows */
	ck_assert(!strncmp(buf, "13 1 0x01 ", 10));
	ck_assert_ptr_nonnull(strstr(buf, "\nname                            type data\n"));
	static const char *names[] = {
	    "hits",
	    "misses",
	    "demand_data_hits",
	    "demand_data_misses",
	    "mru_hits",
	    "mfu_hits",
	    "mru_ghost_hits",
	    "mfu_ghost_hits",
	    "deleted",
	    "evictions",
	    "size",
	    "c",
	    "p",
	    "c_min",
	    "c_max",
	    "compressed_size",
	    "uncompressed_size",
	    "overhead_size",
	    "hdr_size",
	    "memory_throttle_count",
	    "mru_size",
	    "mfu_size",
	    "mru_ghost_size",
	    "mfu_ghost_size",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char pat[64];
		snprintf(pat, sizeof(pat), "\n%-31s 4    ", names[i]);
		ck_assert_msg(strstr(buf, pat), "row %s missing", names[i]);
	}
	struct arc_stats s = stats(a);
	char row[80];
	snprintf(row, sizeof(row), "\n%-31s %-4u %llu\n", "misses", 4,
		 (unsigned long long)s.misses);
	ck_assert_ptr_nonnull(strstr(buf, row));
	snprintf(row, sizeof(row), "\n%-31s %-4u %llu\n", "c", 4, (unsigned long long)s.c);
	ck_assert_ptr_nonnull(strstr(buf, row));
	/* Truncation reports the full length and stays terminated. */
	char small[64];
	ck_assert_int_eq(arc_stats_format(a, small, sizeof(small)), n);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(arc_stats_format(a, NULL, 0), n);
	ck_assert_uint_eq(s.hdr_bytes, arc_hdr_bytes());
	ck_assert_uint_le(arc_hdr_bytes(), 112);
	printf("arc header: %zu bytes per buffer\n", arc_hdr_bytes());
	arc_destroy(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arc_pins");
	TCase *tc = tcase_create("pins");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_held_buffer_never_evicted);
	tcase_add_test(tc, test_nowait_claims_only_misses);
	tcase_add_test(tc, test_shared_buffer_never_evicted);
	tcase_add_test(tc, test_share_n_counts_n);
	tcase_add_test(tc, test_share_needs_page_alignment);
	tcase_add_test(tc, test_everything_pinned_goes_over_c);
	tcase_add_test(tc, test_accessed_promotes_mapped_buffer);
	tcase_add_test(tc, test_ghost_hit_refetches);
	tcase_add_test(tc, test_lowmem_frees_and_c_recovers);
	tcase_add_test(tc, test_sized_adjust_returns_freed);
	tcase_add_test(tc, test_registered_with_reclaimer);
	tcase_add_test(tc, test_compressed_fill_round_trip);
	tcase_add_test(tc, test_arc_compresses_plain_fills);
	tcase_add_test(tc, test_corrupt_compressed_block);
	tcase_add_test(tc, test_fill_error_not_cached);
	tcase_add_test(tc, test_arcstats_table);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
