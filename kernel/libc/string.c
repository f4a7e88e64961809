/*
 * String and memory functions for the freestanding kernel.
 *
 * memcpy and memset move 64 bytes per loop iteration in eight 8-byte
 * words once the destination is aligned (and, for memcpy, the source is
 * aligned alike): under QEMU's TCG every guest instruction costs, so fewer
 * and wider moves are what makes copies fast (a byte loop was several
 * times slower; x86_64's rep movsb is no faster under TCG). Mismatched
 * alignment falls back to bytes: aarch64 may run this before the MMU is
 * on, where unaligned accesses fault. clang turns the compiler's own calls
 * to memcpy/memset into calls here; -ffreestanding keeps it from turning
 * these loops back into such calls.
 */
#include <stdint.h>
#include <string.h>

typedef uint64_t kword;

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (n >= 16 && (((uintptr_t)d ^ (uintptr_t)s) & 7) == 0) {
		for (; (uintptr_t)d & 7; n--)
			*d++ = *s++;
		kword *dw = (kword *)(void *)d;
		const kword *sw = (const kword *)(const void *)s;
		for (; n >= 64; n -= 64, dw += 8, sw += 8) {
			kword a0 = sw[0], a1 = sw[1], a2 = sw[2], a3 = sw[3];
			kword a4 = sw[4], a5 = sw[5], a6 = sw[6], a7 = sw[7];
			dw[0] = a0;
			dw[1] = a1;
			dw[2] = a2;
			dw[3] = a3;
			dw[4] = a4;
			dw[5] = a5;
			dw[6] = a6;
			dw[7] = a7;
		}
		for (; n >= 8; n -= 8)
			*dw++ = *sw++;
		d = (unsigned char *)dw;
		s = (const unsigned char *)sw;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	d += n;
	s += n;
	while (n--)
		*--d = *--s;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	if (n >= 16) {
		for (; (uintptr_t)d & 7; n--)
			*d++ = (unsigned char)c;
		kword v = (uint8_t)c * 0x0101010101010101ULL;
		kword *dw = (kword *)(void *)d;
		for (; n >= 64; n -= 64, dw += 8) {
			dw[0] = v;
			dw[1] = v;
			dw[2] = v;
			dw[3] = v;
			dw[4] = v;
			dw[5] = v;
			dw[6] = v;
			dw[7] = v;
		}
		for (; n >= 8; n -= 8)
			*dw++ = v;
		d = (unsigned char *)dw;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;
	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;
	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *strstr(const char *h, const char *n)
{
	size_t ln = strlen(n);
	if (!ln)
		return (char *)h;
	for (; *h; h++)
		if (*h == *n && strncmp(h, n, ln) == 0)
			return (char *)h;
	return NULL;
}

char *strcpy(char *restrict dst, const char *restrict src)
{
	char *d = dst;
	while ((*d++ = *src++))
		;
	return dst;
}

char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t i = 0;
	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = 0;
	return dst;
}

char *strcat(char *restrict dst, const char *restrict src)
{
	strcpy(dst + strlen(dst), src);
	return dst;
}

size_t strspn(const char *s, const char *accept)
{
	size_t n = 0;
	while (s[n] && strchr(accept, s[n]))
		n++;
	return n;
}

size_t strcspn(const char *s, const char *reject)
{
	size_t n = 0;
	while (s[n] && !strchr(reject, s[n]))
		n++;
	return n;
}
