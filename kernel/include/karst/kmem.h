/*
 * Kernel memory allocation: part of the kernel-service interface.
 *
 * kmalloc() returns memory aligned to at least 16 bytes, and to PAGE_SIZE
 * when size >= PAGE_SIZE. kmalloc_aligned() honours any power-of-two
 * alignment up to PAGE_SIZE. Everything is freed with kfree(), which accepts
 * NULL. None of these sleep in the kernel today: they return NULL when memory
 * is short, and callers must handle it.
 *
 * kpage_alloc()/kpage_free() hand out whole pages (page-aligned), for buffers
 * that may be mapped into an address space (the ARC's shared buffers).
 */
#ifndef KARST_KMEM_H
#define KARST_KMEM_H

#include <stddef.h>

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void *kcalloc(size_t n, size_t size);
void *kmalloc_aligned(size_t size, size_t align);
void kfree(void *p);

void *kpage_alloc(size_t npages);
void kpage_free(void *p, size_t npages);

#endif
