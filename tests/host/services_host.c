/*
 * Host implementation of the remaining kernel services: memory (on libc's
 * allocator, so AddressSanitizer sees every kernel allocation), time,
 * printing and panics. (The reclaim registry is portable:
 * kernel/mem/reclaim_registry.c, in karst_mem.)
 */
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/sync.h>
#include <karst/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void *kmalloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *kzalloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

void *kcalloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size ? size : 1);
}

void *kmalloc_aligned(size_t size, size_t align)
{
	void *p = NULL;
	if (align < sizeof(void *))
		align = sizeof(void *);
	if (posix_memalign(&p, align, size ? size : 1) != 0)
		return NULL;
	return p;
}

void kfree(void *p)
{
	free(p);
}

void *kpage_alloc(size_t npages)
{
	return kmalloc_aligned(npages * PAGE_SIZE, PAGE_SIZE);
}

void kpage_free(void *p, size_t npages)
{
	free(p);
}

uint64_t time_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int vprintk(const char *fmt, va_list ap)
{
	int n = vprintf(fmt, ap);
	fflush(stdout);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}
