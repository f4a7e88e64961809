/*
 * Number parsing and qsort for the freestanding kernel. The parsers follow
 * ISO C: leading space, optional sign, base 0 detects 0x and 0 prefixes;
 * overflow saturates (there is no errno to set).
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

static unsigned long long parse_u(const char *s, char **end, int base, int *neg)
{
	const char *p = s;
	unsigned long long v = 0;
	int any = 0, over = 0;
	while (isspace((unsigned char)*p))
		p++;
	*neg = 0;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit((unsigned char)p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	for (;; p++) {
		int d;
		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (isalpha((unsigned char)*p))
			d = tolower((unsigned char)*p) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			over = 1;
		v = v * (unsigned)base + (unsigned)d;
		any = 1;
	}
	if (end)
		*end = (char *)(any ? p : s);
	return over ? ULLONG_MAX : v;
}

unsigned long long strtoull(const char *s, char **end, int base)
{
	int neg;
	unsigned long long v = parse_u(s, end, base, &neg);
	return neg ? -v : v;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	return (unsigned long)strtoull(s, end, base);
}

long long strtoll(const char *s, char **end, int base)
{
	int neg;
	unsigned long long v = parse_u(s, end, base, &neg);
	if (neg)
		return v > (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
	return v > LLONG_MAX ? LLONG_MAX : (long long)v;
}

long strtol(const char *s, char **end, int base)
{
	return (long)strtoll(s, end, base);
}

static void swap_bytes(char *a, char *b, size_t n)
{
	while (n--) {
		char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

/* Heapsort: O(n log n) worst case, no recursion, no allocation. */
static void sift_down(char *base, size_t start, size_t n, size_t size,
		      int (*cmp)(const void *, const void *))
{
	size_t root = start;
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap_bytes(base + root * size, base + child * size, size);
		root = child;
	}
}

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}
