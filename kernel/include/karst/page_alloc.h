/*
 * Page-frame allocator: a binary buddy allocator over one or more zones of
 * physically contiguous memory.
 *
 * Every page frame has a struct page in its zone's memmap, carved from the
 * start of the zone's own memory. Free blocks of 2^order pages sit on one
 * free list per order; freeing merges a block with its buddy (the block whose
 * page-frame number differs in bit `order`) while the buddy is free and of
 * the same order, so a block of order o is always aligned to 2^o pages in
 * physical memory (2 MiB blocks are 2 MiB aligned, as block mappings need).
 *
 * An allocator instance is independent of the kernel: the host tests run one
 * over an arena from libc. Locking: every entry point takes pa->lock (a
 * spinlock), so it may be called from any context and never sleeps.
 */
#ifndef KARST_PAGE_ALLOC_H
#define KARST_PAGE_ALLOC_H

#include <karst/list.h>
#include <karst/param.h>
#include <karst/sync.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PA_MAX_ORDER 10 /* largest block: 2^10 pages = 4 MiB */
#define PA_MAX_ZONES 16

enum page_flags {
	PG_FREE = 1 << 0,  /* head of a free block on free[order] */
	PG_SLAB = 1 << 1,  /* a kmalloc slab page */
	PG_LARGE = 1 << 2, /* head of a large kmalloc run */
	PG_ALLOC = 1 << 3, /* allocated through pa_alloc_* */
};

/* One per page frame. The owner of an allocated page may use link and the
 * fields after flags (kmalloc keeps its slab state here). */
struct page {
	struct list_node link;
	uint8_t order;
	uint8_t flags;
	uint16_t slab_class;
	uint32_t count; /* slab: objects in use; large run: pages */
	void *freelist; /* slab: first free object */
};

struct pa_zone {
	uintptr_t virt;	     /* virtual address of the first managed page */
	uint64_t base_pfn;   /* its physical page-frame number */
	size_t npages;	     /* managed pages */
	struct page *memmap; /* npages entries */
};

struct pa_stats {
	size_t total_pages;  /* managed by the allocator */
	size_t free_pages;   /* currently free */
	size_t memmap_pages; /* spent on struct page arrays */
	uint64_t allocs;     /* successful block allocations */
	uint64_t frees;	     /* block frees */
	uint64_t failures;   /* allocations that found no block */
	uint64_t splits;     /* blocks split in two */
	uint64_t merges;     /* buddies merged */
	size_t free_blocks[PA_MAX_ORDER + 1];
};

struct page_allocator {
	struct spinlock lock;
	struct list_node free[PA_MAX_ORDER + 1];
	struct pa_zone zones[PA_MAX_ZONES];
	int nzones;
	struct pa_stats st;
	/* Low-memory hook: called after an allocation leaves fewer than
	 * low_pages free, or fails. */
	size_t low_pages;
	void (*low_fn)(void *arg);
	void *low_arg;
};

void pa_init(struct page_allocator *pa);
/*
 * Hand [virt, virt + size) to the allocator; phys is its physical address.
 * Both are rounded inwards to pages. Returns the number of pages made
 * available, or 0 when the region is too small or the zone table is full.
 */
size_t pa_add_region(struct page_allocator *pa, void *virt, uint64_t phys, size_t size);

struct page *pa_alloc(struct page_allocator *pa, unsigned int order);
void pa_free(struct page_allocator *pa, struct page *pg, unsigned int order);
/* Exactly npages contiguous pages (the excess of the power-of-two block is
 * given back at once); free with pa_free_run and the same npages. */
struct page *pa_alloc_run(struct page_allocator *pa, size_t npages);
void pa_free_run(struct page_allocator *pa, struct page *pg, size_t npages);

void *pa_page_to_virt(const struct page_allocator *pa, const struct page *pg);
uint64_t pa_page_to_phys(const struct page_allocator *pa, const struct page *pg);
/* The struct page of the frame holding virt, or NULL when not managed. */
struct page *pa_virt_to_page(const struct page_allocator *pa, const void *virt);
void pa_get_stats(struct page_allocator *pa, struct pa_stats *out);
/*
 * Call fn(arg) whenever an allocation leaves fewer than `pages` pages free
 * or fails (the kernel wakes its reclaim thread). fn runs in the
 * allocating context, without the allocator's lock, possibly in an
 * interrupt handler or under spinlocks: it must only wake someone.
 */
void pa_set_low_watermark(struct page_allocator *pa, size_t pages, void (*fn)(void *arg),
			  void *arg);

/* Smallest order whose block holds npages. */
unsigned int pa_order_for(size_t npages);

#endif
