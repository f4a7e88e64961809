/*
 * The kernel's printf formatter, portable so the host tests can compare it
 * with libc's (kernel code calls ksnprintf()/printk(), <karst/printk.h>),
 * and the parsers of sizes and hex digits users type.
 */
#ifndef KARST_FORMAT_H
#define KARST_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

int kfmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/*
 * The len bytes at s as a size: decimal digits, optionally followed by one
 * K, M, G or T (either case; powers of 1024) and nothing else. 0 with the
 * bytes in *out, or -EINVAL (no digits, another character, overflow).
 * Zero is a size; callers that refuse it say so.
 */
int kparse_size(const char *s, size_t len, uint64_t *out);

/* The value of one hex digit (either case), or -1. */
static inline int khexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
