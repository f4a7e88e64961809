/*
 * Check suite for the size-class allocator behind kmalloc(), over a page
 * allocator that manages an arena from libc.
 */
#include <check.h>
#include <karst/kmalloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_SIZE (32UL << 20)

static struct page_allocator pa;
static struct kma kma;
static void *arena;

static void setup(void)
{
	arena = aligned_alloc(4UL << 20, ARENA_SIZE);
	ck_assert_ptr_nonnull(arena);
	pa_init(&pa);
	pa_add_region(&pa, arena, (uint64_t)(uintptr_t)arena, ARENA_SIZE);
	kma_init(&kma, &pa);
}

static void teardown(void)
{
	free(arena);
}

START_TEST(test_every_size_fits_and_is_aligned)
{
	for (size_t sz = 1; sz <= 3 * PAGE_SIZE; sz += (sz < 300 ? 1 : 97)) {
		uint8_t *p = kma_alloc(&kma, sz);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p & 15, 0);
		ck_assert_uint_ge(kma_size(&kma, p), sz);
		if (sz >= PAGE_SIZE)
			ck_assert_uint_eq((uintptr_t)p & PAGE_MASK, 0);
		memset(p, 0xa5, sz);
		kma_free(&kma, p);
	}
	struct kma_stats st;
	kma_get_stats(&kma, &st);
	ck_assert_uint_eq(st.bytes_in_use, 0);
}
END_TEST

START_TEST(test_aligned_allocations)
{
	for (size_t align = 1; align <= PAGE_SIZE; align <<= 1) {
		for (size_t sz = 1; sz < 5000; sz = sz * 3 + 1) {
			void *p = kma_alloc_aligned(&kma, sz, align);
			ck_assert_ptr_nonnull(p);
			ck_assert_uint_eq((uintptr_t)p & (align - 1), 0);
			ck_assert_uint_ge(kma_size(&kma, p), sz);
			kma_free(&kma, p);
		}
	}
	ck_assert_ptr_null(kma_alloc_aligned(&kma, 10, 3));
	ck_assert_ptr_null(kma_alloc_aligned(&kma, 10, 2 * PAGE_SIZE));
}
END_TEST

START_TEST(test_no_overlap_and_stats)
{
	enum { N = 4000 };
	static uint8_t *ptrs[N];
	static size_t sizes[N];
	srand(7);
	size_t live = 0;
	for (int i = 0; i < N; i++) {
		sizes[i] = 1 + (size_t)rand() % (i % 10 == 0 ? 9000 : 700);
		ptrs[i] = kma_alloc(&kma, sizes[i]);
		ck_assert_ptr_nonnull(ptrs[i]);
		memset(ptrs[i], (uint8_t)i, sizes[i]);
		live++;
	}
	struct kma_stats st;
	kma_get_stats(&kma, &st);
	size_t objs = 0;
	for (int c = 0; c < KMA_NCLASSES; c++)
		objs += st.cls[c].in_use;
	ck_assert_uint_eq(objs + st.large_allocs - st.large_frees, live);
	for (int i = 0; i < N; i += 2) {
		for (size_t k = 0; k < sizes[i]; k++)
			ck_assert_uint_eq(ptrs[i][k], (uint8_t)i);
		kma_free(&kma, ptrs[i]);
	}
	for (int i = 1; i < N; i += 2) {
		for (size_t k = 0; k < sizes[i]; k++)
			ck_assert_uint_eq(ptrs[i][k], (uint8_t)i);
		kma_free(&kma, ptrs[i]);
	}
	kma_get_stats(&kma, &st);
	ck_assert_uint_eq(st.bytes_in_use, 0);
	ck_assert_uint_eq(st.large_pages, 0);
	/* At most one cached empty slab per class survives. */
	for (int c = 0; c < KMA_NCLASSES; c++)
		ck_assert_uint_le(st.cls[c].slabs, 1);
}
END_TEST

START_TEST(test_slabs_return_pages)
{
	struct pa_stats before, after;
	pa_get_stats(&pa, &before);
	void *ptrs[2000];
	for (int i = 0; i < 2000; i++)
		ptrs[i] = kma_alloc(&kma, 64);
	for (int i = 0; i < 2000; i++)
		kma_free(&kma, ptrs[i]);
	pa_get_stats(&pa, &after);
	/* Everything but the one cached slab went back. */
	ck_assert_uint_ge(after.free_pages + 1, before.free_pages);
}
END_TEST

START_TEST(test_exhaustion)
{
	size_t n = 0;
	while (kma_alloc(&kma, 1 << 20))
		n++;
	ck_assert_uint_gt(n, 10);
	struct kma_stats st;
	kma_get_stats(&kma, &st);
	ck_assert_uint_ge(st.failures, 1);
	/* Small allocations still work from what is left, or fail cleanly. */
	void *p = kma_alloc(&kma, 32);
	if (p)
		kma_free(&kma, p);
}
END_TEST

START_TEST(test_double_free_panics)
{
	void *a = kma_alloc(&kma, 40);
	void *b = kma_alloc(&kma, 40); /* keeps the slab alive */
	kma_free(&kma, a);
	kma_free(&kma, a);
	kma_free(&kma, b);
}
END_TEST

START_TEST(test_foreign_pointer_panics)
{
	int x;
	kma_free(&kma, &x);
}
END_TEST

START_TEST(test_interior_pointer_panics)
{
	char *p = kma_alloc(&kma, 100);
	kma_free(&kma, p + 16);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kmalloc");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_size_fits_and_is_aligned);
	tcase_add_test(tc, test_aligned_allocations);
	tcase_add_test(tc, test_no_overlap_and_stats);
	tcase_add_test(tc, test_slabs_return_pages);
	tcase_add_test(tc, test_exhaustion);
	tcase_add_test_raise_signal(tc, test_double_free_panics, SIGABRT);
	tcase_add_test_raise_signal(tc, test_foreign_pointer_panics, SIGABRT);
	tcase_add_test_raise_signal(tc, test_interior_pointer_panics, SIGABRT);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
