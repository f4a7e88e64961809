/*
 * Check suite for the buddy page allocator, run over arenas from libc with
 * "physical" addresses equal to the arena's own.
 */
#include <check.h>
#include <karst/page_alloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_SIZE (16UL << 20)

static struct page_allocator pa;
static void *arena;

static void setup(void)
{
	arena = aligned_alloc(4UL << 20, ARENA_SIZE);
	ck_assert_ptr_nonnull(arena);
	pa_init(&pa);
}

static void teardown(void)
{
	free(arena);
}

static size_t add_arena(void)
{
	return pa_add_region(&pa, arena, (uint64_t)(uintptr_t)arena, ARENA_SIZE);
}

START_TEST(test_region_accounting)
{
	size_t n = add_arena();
	struct pa_stats st;
	pa_get_stats(&pa, &st);
	ck_assert_uint_eq(st.total_pages, n);
	ck_assert_uint_eq(st.free_pages, n);
	ck_assert_uint_eq(st.memmap_pages + n, ARENA_SIZE / PAGE_SIZE);
	/* The memmap must be big enough for every managed page. */
	ck_assert_uint_ge(st.memmap_pages * PAGE_SIZE, n * sizeof(struct page));
	size_t sum = 0;
	for (int o = 0; o <= PA_MAX_ORDER; o++)
		sum += st.free_blocks[o] << o;
	ck_assert_uint_eq(sum, n);
}
END_TEST

START_TEST(test_alignment_of_orders)
{
	add_arena();
	for (unsigned int o = 0; o <= PA_MAX_ORDER; o++) {
		struct page *pg = pa_alloc(&pa, o);
		ck_assert_ptr_nonnull(pg);
		uint64_t phys = pa_page_to_phys(&pa, pg);
		ck_assert_uint_eq(phys & ((PAGE_SIZE << o) - 1), 0);
		ck_assert_ptr_eq(pa_virt_to_page(&pa, pa_page_to_virt(&pa, pg)), pg);
		pa_free(&pa, pg, o);
	}
}
END_TEST

START_TEST(test_coalesce_back_to_start)
{
	size_t n = add_arena();
	struct pa_stats before, after;
	pa_get_stats(&pa, &before);
	enum { N = 1000 };
	struct page *pgs[N];
	for (int i = 0; i < N; i++) {
		pgs[i] = pa_alloc(&pa, 0);
		ck_assert_ptr_nonnull(pgs[i]);
	}
	/* Free in a scrambled order so merges happen in every direction. */
	for (int i = 0; i < N; i += 2)
		pa_free(&pa, pgs[i], 0);
	for (int i = N - 1; i > 0; i -= 2)
		pa_free(&pa, pgs[i], 0);
	pa_get_stats(&pa, &after);
	ck_assert_uint_eq(after.free_pages, n);
	for (int o = 0; o <= PA_MAX_ORDER; o++)
		ck_assert_uint_eq(after.free_blocks[o], before.free_blocks[o]);
	ck_assert_uint_gt(after.merges, 0);
}
END_TEST

START_TEST(test_exhaustion_returns_null)
{
	size_t n = add_arena();
	size_t got = 0;
	struct page *pg;
	while ((pg = pa_alloc(&pa, 0)) != NULL)
		got++;
	ck_assert_uint_eq(got, n);
	struct pa_stats st;
	pa_get_stats(&pa, &st);
	ck_assert_uint_eq(st.free_pages, 0);
	ck_assert_uint_ge(st.failures, 1);
	ck_assert_ptr_null(pa_alloc(&pa, PA_MAX_ORDER + 1));
}
END_TEST

START_TEST(test_no_overlap_random)
{
	add_arena();
	enum { SLOTS = 256 };
	struct {
		struct page *pg;
		unsigned int order;
		uint8_t tag;
	} s[SLOTS];
	memset(s, 0, sizeof(s));
	srand(42);
	for (int step = 0; step < 20000; step++) {
		int i = rand() % SLOTS;
		if (s[i].pg) {
			/* The block still holds its tag: nobody else was handed it. */
			uint8_t *p = pa_page_to_virt(&pa, s[i].pg);
			size_t len = PAGE_SIZE << s[i].order;
			for (size_t k = 0; k < len; k += 509)
				ck_assert_uint_eq(p[k], s[i].tag);
			pa_free(&pa, s[i].pg, s[i].order);
			s[i].pg = NULL;
		} else {
			unsigned int o = (unsigned int)(rand() % 6);
			struct page *pg = pa_alloc(&pa, o);
			if (!pg)
				continue;
			s[i].pg = pg;
			s[i].order = o;
			s[i].tag = (uint8_t)(step | 1);
			memset(pa_page_to_virt(&pa, pg), s[i].tag, PAGE_SIZE << o);
		}
	}
	for (int i = 0; i < SLOTS; i++)
		if (s[i].pg)
			pa_free(&pa, s[i].pg, s[i].order);
	struct pa_stats st;
	pa_get_stats(&pa, &st);
	ck_assert_uint_eq(st.free_pages, st.total_pages);
}
END_TEST

START_TEST(test_run_exact_size)
{
	size_t n = add_arena();
	struct page *pg = pa_alloc_run(&pa, 5);
	ck_assert_ptr_nonnull(pg);
	struct pa_stats st;
	pa_get_stats(&pa, &st);
	ck_assert_uint_eq(st.free_pages, n - 5);
	pa_free_run(&pa, pg, 5);
	pa_get_stats(&pa, &st);
	ck_assert_uint_eq(st.free_pages, n);
	ck_assert_ptr_null(pa_alloc_run(&pa, 0));
}
END_TEST

START_TEST(test_small_and_unaligned_regions)
{
	/* A region smaller than a page adds nothing. */
	ck_assert_uint_eq(pa_add_region(&pa, (char *)arena + 100, 100, 1000), 0);
	/* An unaligned region is rounded inwards. */
	size_t n = pa_add_region(&pa, (char *)arena + 100, (uint64_t)(uintptr_t)arena + 100,
				 64 * PAGE_SIZE);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_lt(n, 63);
	struct page *pg = pa_alloc(&pa, 0);
	ck_assert_ptr_nonnull(pg);
	uintptr_t v = (uintptr_t)pa_page_to_virt(&pa, pg);
	ck_assert_uint_eq(v & PAGE_MASK, 0);
	ck_assert_uint_ge(v, (uintptr_t)arena + PAGE_SIZE);
	ck_assert_uint_lt(v, (uintptr_t)arena + 64 * PAGE_SIZE);
	ck_assert_ptr_null(pa_virt_to_page(&pa, (char *)arena + ARENA_SIZE - 1));
}
END_TEST

START_TEST(test_two_zones_do_not_merge)
{
	/* Two adjacent regions registered separately stay separate zones. */
	char *a = arena;
	size_t half = ARENA_SIZE / 2;
	pa_add_region(&pa, a, (uint64_t)(uintptr_t)a, half);
	pa_add_region(&pa, a + half, (uint64_t)(uintptr_t)(a + half), half);
	ck_assert_int_eq(pa.nzones, 2);
	struct page *pgs[8192];
	size_t k = 0;
	while (k < 8192 && (pgs[k] = pa_alloc(&pa, 0)) != NULL)
		k++;
	for (size_t i = 0; i < k; i++)
		pa_free(&pa, pgs[i], 0);
	struct pa_stats st;
	pa_get_stats(&pa, &st);
	ck_assert_uint_eq(st.free_pages, st.total_pages);
}
END_TEST

static int low_calls;

static void on_low(void *arg)
{
	low_calls++;
	ck_assert_ptr_eq(arg, &pa);
}

START_TEST(test_low_watermark_hook)
{
	size_t n = add_arena();
	pa_set_low_watermark(&pa, 100, on_low, &pa);
	low_calls = 0;
	struct page *pg;
	size_t got = 0;
	/* Above the watermark: no calls. */
	while (got < n - 100 && (pg = pa_alloc(&pa, 0)) != NULL)
		got++;
	ck_assert_int_eq(low_calls, 0);
	/* Below it every allocation calls, and so does a failure. */
	ck_assert_ptr_nonnull(pa_alloc(&pa, 0));
	ck_assert_int_eq(low_calls, 1);
	while (pa_alloc(&pa, 0) != NULL)
		;
	int before = low_calls;
	ck_assert_ptr_null(pa_alloc(&pa, 0));
	ck_assert_int_eq(low_calls, before + 1);
}
END_TEST

START_TEST(test_double_free_panics)
{
	add_arena();
	struct page *pg = pa_alloc(&pa, 0);
	pa_free(&pa, pg, 0);
	pa_free(&pa, pg, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("page_alloc");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_region_accounting);
	tcase_add_test(tc, test_alignment_of_orders);
	tcase_add_test(tc, test_coalesce_back_to_start);
	tcase_add_test(tc, test_exhaustion_returns_null);
	tcase_add_test(tc, test_no_overlap_random);
	tcase_add_test(tc, test_run_exact_size);
	tcase_add_test(tc, test_small_and_unaligned_regions);
	tcase_add_test(tc, test_two_zones_do_not_merge);
	tcase_add_test(tc, test_low_watermark_hook);
	tcase_add_test_raise_signal(tc, test_double_free_panics, SIGABRT);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
