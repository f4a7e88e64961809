/*
 * Size-class allocator behind kmalloc().
 *
 * Small requests (up to KMA_MAX_SMALL bytes) come from slabs: a slab is one
 * page cut into equal objects of one size class, its state kept in the
 * page's struct page (class, objects in use, free list), so kfree() finds
 * everything from the address alone. Partially used slabs of a class sit on
 * the class's list; a slab that empties is returned to the page allocator
 * unless it is the class's only free slab. Larger requests take a run of
 * whole pages from the page allocator.
 *
 * Classes are 16-byte multiples; a size that is a power of two gets objects
 * aligned to that size, which kmalloc_aligned() relies on. Locking: one
 * spinlock per class; never sleeps.
 */
#ifndef KARST_KMALLOC_H
#define KARST_KMALLOC_H

#include <karst/page_alloc.h>

#define KMA_NCLASSES  14
#define KMA_MAX_SMALL 2048

struct kma_class_stats {
	uint32_t size;
	uint64_t allocs, frees;
	size_t in_use; /* objects */
	size_t slabs;  /* pages */
};

struct kma_stats {
	struct kma_class_stats cls[KMA_NCLASSES];
	uint64_t large_allocs, large_frees;
	size_t large_pages;  /* pages held by large allocations */
	size_t bytes_in_use; /* rounded-up sizes of live allocations */
	uint64_t failures;
};

struct kma_class {
	struct spinlock lock;
	uint32_t size;
	struct list_node partial; /* slabs with at least one free object */
	struct kma_class_stats st;
};

struct kma {
	struct page_allocator *pa;
	struct kma_class cls[KMA_NCLASSES];
	struct spinlock large_lock;
	uint64_t large_allocs, large_frees;
	size_t large_pages;
	uint64_t failures;
};

void kma_init(struct kma *a, struct page_allocator *pa);
void *kma_alloc(struct kma *a, size_t size);
/* align: a power of two; alignments above PAGE_SIZE are refused (NULL). */
void *kma_alloc_aligned(struct kma *a, size_t size, size_t align);
void kma_free(struct kma *a, void *p);
/* Usable size of an allocation. */
size_t kma_size(struct kma *a, const void *p);
void kma_get_stats(struct kma *a, struct kma_stats *out);

#endif
