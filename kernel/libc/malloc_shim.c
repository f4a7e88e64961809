/*
 * malloc, calloc and free for Debian's static libraries linked into the
 * kernel (liblz4's stream-allocating functions reference them). Kernel
 * code uses <karst/kmem.h>; there is deliberately no declaration of these
 * in the kernel's headers.
 */
#include <karst/kmem.h>
#include <stddef.h>

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void free(void *p);

void *malloc(size_t n)
{
	return kmalloc(n);
}

void *calloc(size_t n, size_t size)
{
	return kcalloc(n, size);
}

void free(void *p)
{
	kfree(p);
}
