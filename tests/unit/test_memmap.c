/*
 * Check suite for the boot memory map: RAM minus reserved ranges.
 */
#include <check.h>
#include <karst/kmem_kernel.h>
#include <stdlib.h>

static struct boot_region out[64];

START_TEST(test_no_reserved)
{
	struct boot_region ram[] = {{0x100000, 0x7f00000}};
	int n = memmap_usable(ram, 1, NULL, 0, out, 64);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(out[0].base, 0x100000);
	ck_assert_uint_eq(out[0].size, 0x7f00000);
}
END_TEST

START_TEST(test_hole_in_middle_and_edges)
{
	struct boot_region ram[] = {{0x40000000, 0x10000000}};
	struct boot_region rsv[] = {
	    {0x40080000, 0x123456}, /* kernel, unaligned end */
	    {0x40000000, 0x1000},   /* first page */
	    {0x4ffff800, 0x10000},  /* straddles the end */
	};
	int n = memmap_usable(ram, 1, rsv, 3, out, 64);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(out[0].base, 0x40001000);
	ck_assert_uint_eq(out[0].size, 0x40080000 - 0x40001000);
	ck_assert_uint_eq(out[1].base, 0x401a4000); /* 0x40080000 + 0x123456 rounded up */
	ck_assert_uint_eq(out[1].base + out[1].size, 0x4ffff000);
}
END_TEST

START_TEST(test_reserved_covers_all_and_unaligned_ram)
{
	struct boot_region ram[] = {{0x1000, 0x3000}, {0x100800, 0x2000}};
	struct boot_region rsv[] = {{0, 0x10000}};
	int n = memmap_usable(ram, 2, rsv, 1, out, 64);
	/* The first range is entirely reserved; the second rounds inwards to one page. */
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(out[0].base, 0x101000);
	ck_assert_uint_eq(out[0].size, 0x1000);
}
END_TEST

START_TEST(test_many_holes_and_output_limit)
{
	struct boot_region ram[] = {{0, 1 << 20}};
	struct boot_region rsv[16];
	for (int i = 0; i < 16; i++)
		rsv[i] = (struct boot_region){(uint64_t)(i * 2 + 1) * 0x8000, 0x8000};
	int n = memmap_usable(ram, 1, rsv, 16, out, 64);
	ck_assert_int_eq(n, 16);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i].size, 0x8000);
		for (int r = 0; r < 16; r++)
			ck_assert(out[i].base + out[i].size <= rsv[r].base ||
				  out[i].base >= rsv[r].base + rsv[r].size);
	}
	ck_assert_int_eq(memmap_usable(ram, 1, rsv, 16, out, 5), 5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memmap");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_no_reserved);
	tcase_add_test(tc, test_hole_in_middle_and_edges);
	tcase_add_test(tc, test_reserved_covers_all_and_unaligned_ram);
	tcase_add_test(tc, test_many_holes_and_output_limit);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
