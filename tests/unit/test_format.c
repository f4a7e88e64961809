/*
 * Check suite for the kernel's printf formatter, with libc's snprintf as
 * the oracle for every conversion the kernel supports.
 */
#include <check.h>
#include <errno.h>
#include <karst/format.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char got[256], want[256];

static int kfmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kfmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

#define SAME(fmt, ...)                                                                             \
	do {                                                                                       \
		int a = kfmt(got, sizeof(got), fmt, __VA_ARGS__);                                  \
		int b = snprintf(want, sizeof(want), fmt, __VA_ARGS__);                            \
		ck_assert_msg(a == b && strcmp(got, want) == 0,                                    \
			      "format \"%s\": got \"%s\" (%d), "                                   \
			      "libc \"%s\" (%d)",                                                  \
			      fmt, got, a, want, b);                                               \
	} while (0)

START_TEST(test_integers)
{
	int ints[] = {0, 1, -1, 42, -42, INT_MAX, INT_MIN, 1000000};
	const char *fmts[] = {"%d",  "%i",  "%5d",  "%-5d|", "%05d",
			      "%+d", "% d", "%.3d", "%8.3d", "%-+6d|"};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
			SAME(fmts[f], ints[i]);
	unsigned uns[] = {0, 1, 255, 0xdeadbeef, UINT_MAX};
	const char *ufmts[] = {"%u",  "%x",   "%X",    "%o",   "%#x",  "%#X",
			       "%#o", "%08x", "%-8x|", "%.0u", "%#.3o"};
	for (size_t i = 0; i < sizeof(uns) / sizeof(uns[0]); i++)
		for (size_t f = 0; f < sizeof(ufmts) / sizeof(ufmts[0]); f++)
			SAME(ufmts[f], uns[i]);
}
END_TEST

START_TEST(test_lengths)
{
	SAME("%ld %lu %lx", LONG_MIN, ULONG_MAX, 0x123456789abcdefUL);
	SAME("%lld %llu", LLONG_MIN, ULLONG_MAX);
	SAME("%zu %zx", (size_t)SIZE_MAX, (size_t)4096);
	SAME("%hd %hu %hhd %hhu", (short)-3, (unsigned short)65535, (signed char)-7,
	     (unsigned char)200);
	SAME("%jd %td", (intmax_t)-5, (ptrdiff_t)77);
	SAME("%hd", 70000);
	SAME("%hhx", 0x1ff);
}
END_TEST

START_TEST(test_strings_chars_pointers)
{
	SAME("%s|%10s|%-10s|%.2s|%*s|%-*s|%.*s", "abc", "abc", "abc", "abc", 6, "x", 6, "y", 1,
	     "zz");
	SAME("%c%c%3c%-3c|", 'a', 'b', 'c', 'd');
	SAME("100%% %s", "done");
	SAME("%p", (void *)0x1234);
	SAME("%p", (void *)&got);
	SAME("%*d", -6, 5);
}
END_TEST

START_TEST(test_truncation)
{
	char small[6];
	memset(small, 'x', sizeof(small));
	int n = kfmt(small, sizeof(small), "%s-%d", "hello", 12345);
	ck_assert_int_eq(n, 11);
	ck_assert_str_eq(small, "hello");
	ck_assert_int_eq(kfmt(NULL, 0, "%d", 123456), 6);
	char one[1] = {'x'};
	ck_assert_int_eq(kfmt(one, 1, "abc"), 3);
	ck_assert_int_eq(one[0], 0);
}
END_TEST

START_TEST(test_null_and_unknown)
{
	kfmt(got, sizeof(got), "%s", (char *)NULL);
	ck_assert_str_eq(got, "(null)");
	/* An unknown conversion is printed as is rather than eating arguments. */
	kfmt(got, sizeof(got), "%q %d", 5);
	ck_assert_str_eq(got, "%q 5");
	kfmt(got, sizeof(got), "trailing %");
	ck_assert_str_eq(got, "trailing ");
}
END_TEST

static int size_of(const char *s, uint64_t *v)
{
	return kparse_size(s, strlen(s), v);
}

START_TEST(test_parse_size)
{
	uint64_t v = 7;
	ck_assert_int_eq(size_of("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(size_of("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(size_of("64k", &v), 0);
	ck_assert_uint_eq(v, 64ULL << 10);
	ck_assert_int_eq(size_of("64M", &v), 0);
	ck_assert_uint_eq(v, 64ULL << 20);
	ck_assert_int_eq(size_of("3g", &v), 0);
	ck_assert_uint_eq(v, 3ULL << 30);
	ck_assert_int_eq(size_of("2T", &v), 0);
	ck_assert_uint_eq(v, 2ULL << 40);
	ck_assert_int_eq(size_of("18446744073709551615", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	/* Only the first len bytes count. */
	ck_assert_int_eq(kparse_size("12M,rest", 3, &v), 0);
	ck_assert_uint_eq(v, 12ULL << 20);
	v = 7;
	const char *bad[] = {"",	 "k",	"-1",	" 1",	"1 ",
			     "1x",	 "1MB", "1.5M", "0x10", "18446744073709551616",
			     "16777216T"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(size_of(bad[i], &v) == -EINVAL, "'%s' taken", bad[i]);
	ck_assert_uint_eq(v, 7); /* untouched on error */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_strings_chars_pointers);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_null_and_unknown);
	tcase_add_test(tc, test_parse_size);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
