/*
 * The kernel's stdlib.h: number parsing and sorting only. Memory comes from
 * <karst/kmem.h>, never malloc().
 */
#ifndef KARST_LIBC_STDLIB_H
#define KARST_LIBC_STDLIB_H

#include <stddef.h>

long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
