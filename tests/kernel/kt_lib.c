/*
 * In-kernel tests of the kernel's libc subset and formatter.
 */
#include <karst/ktest.h>
#include <karst/printk.h>
#include <stdlib.h>
#include <string.h>

static bool fmt_is(const char *want, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, want) != 0) {
		printk("    format '%s' gave '%s', want '%s'\n", fmt, buf, want);
		return false;
	}
	return true;
}

KTEST(lib_format)
{
	KT_EXPECT(fmt_is("-42 42 2a 2A 52", "%d %u %x %X %o", -42, 42u, 42, 42, 42));
	KT_EXPECT(fmt_is("0x1f|   ab|ab   |007", "%#x|%5s|%-5s|%03d", 31, "ab", "ab", 7));
	KT_EXPECT(fmt_is("18446744073709551615", "%lu", (unsigned long)-1));
	KT_EXPECT(fmt_is("-9223372036854775808", "%lld", (long long)(-9223372036854775807LL - 1)));
	KT_EXPECT(fmt_is("abc", "%.3s", "abcdef"));
	KT_EXPECT(fmt_is("(null) %", "%s %%", (char *)NULL));
	char small[4];
	KT_EXPECT(ksnprintf(small, sizeof(small), "%s", "hello") == 5);
	KT_EXPECT(strcmp(small, "hel") == 0);
}

KTEST(lib_string)
{
	char buf[64];
	KT_EXPECT(strlen("karst") == 5);
	KT_EXPECT(strcmp("a", "b") < 0 && strcmp("b", "a") > 0 && strcmp("x", "x") == 0);
	KT_EXPECT(strncmp("abcd", "abcx", 3) == 0);
	strcpy(buf, "0123456789");
	memmove(buf + 2, buf, 5);
	KT_EXPECT(memcmp(buf, "0101234789", 10) == 0);
	memmove(buf, buf + 2, 5);
	KT_EXPECT(memcmp(buf, "0123434789", 10) == 0);
	KT_EXPECT(strchr("hello", 'l') - "hello" == 2);
	KT_EXPECT(strrchr("hello", 'l') - "hello" == 3);
	KT_EXPECT(strstr("filesystem", "sys") != NULL);
	KT_EXPECT(strspn("aaab", "a") == 3 && strcspn("abc;d", ";") == 3);
	memset(buf, 0xee, sizeof(buf));
	for (int i = 0; i < 64; i++)
		KT_EXPECT((unsigned char)buf[i] == 0xee);
}

/* memcpy and memset at every alignment of source and destination and
 * every length up to past two unrolled loops: the bytes asked for change,
 * the guard bytes around them do not. */
KTEST(lib_memcpy_memset_edges)
{
	static unsigned char src[256], dst[256];
	for (int i = 0; i < 256; i++)
		src[i] = (unsigned char)(i * 7 + 1);
	int bad = 0;
	for (size_t so = 0; so < 8; so++)
		for (size_t doff = 0; doff < 8; doff++)
			for (size_t n = 0; n <= 150 && !bad; n++) {
				memset(dst, 0x5a, sizeof(dst));
				KT_EXPECT(memcpy(dst + 16 + doff, src + so, n) == dst + 16 + doff);
				for (size_t i = 0; i < sizeof(dst); i++) {
					size_t at = i - 16 - doff;
					unsigned char want =
					    (i >= 16 + doff && at < n) ? src[so + at] : 0x5a;
					bad += dst[i] != want;
				}
				memset(dst + 16 + doff, (int)so, n);
				for (size_t i = 0; i < sizeof(dst); i++) {
					bool in = i >= 16 + doff && i - 16 - doff < n;
					bad += dst[i] != (in ? (unsigned char)so : 0x5a);
				}
			}
	KT_EXPECT(bad == 0);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

KTEST(lib_numbers_and_sort)
{
	char *end;
	KT_EXPECT(strtoul("0x1F", &end, 0) == 31 && *end == 0);
	KT_EXPECT(strtol("-017", NULL, 0) == -15);
	KT_EXPECT(strtoull("99999999999999999999999", NULL, 10) == ~0ULL);
	KT_EXPECT(strtoul("zz", &end, 10) == 0 && *end == 'z');
	int v[100];
	for (int i = 0; i < 100; i++)
		v[i] = (i * 37) % 101;
	qsort(v, 100, sizeof(int), cmp_int);
	for (int i = 1; i < 100; i++)
		KT_EXPECT(v[i - 1] <= v[i]);
}
