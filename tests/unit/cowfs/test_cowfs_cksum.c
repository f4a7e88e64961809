/*
 * Check suite of cowfs's checksum paths (fs/cowfs/cowfs_cksum.c): the
 * registry (path 0 in use until a usable path registers; a path with a
 * reason is listed, never used; the in-use path is what
 * cowfs_cksum_compute runs), and, on x86_64 hosts with AVX2, the kernel's
 * AVX2 source (cowfs_cksum_avx2.c, built here with -mavx2) against path 0
 * at every short length, many long ones and every alignment of a cache line.
 */
#include "cowfs_format.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct cowfs_cksum fake_compute(const void *buf, size_t len)
{
	(void)buf;
	return (struct cowfs_cksum){.lo = len, .hi = 0xfeed};
}

START_TEST(test_registry)
{
	const struct cowfs_cksum_path *base = cowfs_cksum_path(0);
	ck_assert_ptr_nonnull(base);
	ck_assert_ptr_null(base->unusable);
	ck_assert_int_eq(cowfs_cksum_npaths(), 1);
	ck_assert_ptr_eq(cowfs_cksum_active(), base);
	ck_assert_ptr_null(cowfs_cksum_path(1));
	ck_assert_ptr_null(cowfs_cksum_path(-1));

	static const struct cowfs_cksum_path no = {"no", fake_compute, "this CPU cannot"};
	cowfs_cksum_register(&no);
	ck_assert_int_eq(cowfs_cksum_npaths(), 2);
	ck_assert_ptr_eq(cowfs_cksum_path(1), &no);
	ck_assert_ptr_eq(cowfs_cksum_active(), base);
	struct cowfs_cksum c = cowfs_cksum_compute("abc", 3);
	ck_assert_uint_ne(c.hi, 0xfeed);

	static const struct cowfs_cksum_path yes = {"yes", fake_compute, NULL};
	cowfs_cksum_register(&yes);
	ck_assert_ptr_eq(cowfs_cksum_active(), &yes);
	c = cowfs_cksum_compute("abc", 3);
	ck_assert_uint_eq(c.hi, 0xfeed);
	ck_assert_uint_eq(c.lo, 3);
	struct cowfs_cksum want = {3, 0xfeed};
	ck_assert(cowfs_cksum_verify("xyz", 3, &want));

	/* Beyond COWFS_CKSUM_MAX_PATHS registrations are ignored. */
	for (int i = 0; i < COWFS_CKSUM_MAX_PATHS; i++)
		cowfs_cksum_register(&no);
	ck_assert_int_eq(cowfs_cksum_npaths(), COWFS_CKSUM_MAX_PATHS);
	ck_assert_ptr_eq(cowfs_cksum_active(), &yes);
}
END_TEST

#ifdef COWFS_TEST_AVX2
struct cowfs_cksum cowfs_cksum_compute_avx2(const void *buf, size_t len);

static int avx2_differs(const uint8_t *b, size_t len)
{
	struct cowfs_cksum x = cowfs_cksum_compute_avx2(b, len);
	struct cowfs_cksum y = cowfs_cksum_path(0)->compute(b, len);
	return !cowfs_cksum_equal(&x, &y);
}

START_TEST(test_avx2_agrees)
{
	if (!__builtin_cpu_supports("avx2")) {
		fprintf(stderr, "test_avx2_agrees: this host has no AVX2, not run\n");
		return;
	}
	size_t n = (size_t)1 << 20;
	uint8_t *buf = malloc(n + 64);
	ck_assert_ptr_nonnull(buf);
	uint32_t x = 88172645u;
	for (size_t i = 0; i < n + 64; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	for (size_t len = 0; len <= 4200; len++)
		ck_assert_msg(!avx2_differs(buf, len), "length %zu", len);
	for (size_t len = 4200; len <= n; len = len * 3 / 2 + 7)
		ck_assert_msg(!avx2_differs(buf, len), "length %zu", len);
	ck_assert(!avx2_differs(buf, n));
	for (size_t a = 0; a < 64; a++)
		for (size_t len = a; len < 300000; len = len * 2 + 1)
			ck_assert_msg(!avx2_differs(buf + a, len), "length %zu at +%zu", len, a);
	/* and what tests/kernel's known answers say (xxhsum -H2) */
	for (size_t i = 0; i < 131072; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	struct cowfs_cksum c = cowfs_cksum_compute_avx2(buf, 131072);
	ck_assert_uint_eq(c.hi, 0x3dddd29aa02945eaULL);
	ck_assert_uint_eq(c.lo, 0xc88c4139bb021d72ULL);
	free(buf);
}
END_TEST
#endif

static Suite *suite(void)
{
	Suite *s = suite_create("cowfs_cksum");
	TCase *tc = tcase_create("cksum");
	tcase_add_test(tc, test_registry);
#ifdef COWFS_TEST_AVX2
	tcase_add_test(tc, test_avx2_agrees);
#endif
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
