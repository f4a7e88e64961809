/*
 * Memory reclaim registration: part of the kernel-service interface.
 *
 * A cache that can give memory back (the ARC) registers a reclaimer. When
 * memory runs short the kernel calls reclaim(bytes) on each one until enough
 * is freed; each returns how many bytes it actually freed. lowmem() is a
 * cheaper hint that memory is getting tight. Both are called from thread
 * context and may sleep; they must not allocate.
 */
#ifndef KARST_RECLAIM_H
#define KARST_RECLAIM_H

#include <karst/list.h>
#include <stddef.h>
#include <stdint.h>

struct reclaimer {
	const char *name;
	size_t (*reclaim)(void *arg, size_t bytes);
	void (*lowmem)(void *arg);
	void *arg;
	struct list_node link; /* owned by the reclaim registry */
};

void reclaim_register(struct reclaimer *r);
void reclaim_unregister(struct reclaimer *r);
/* Ask registered reclaimers to free `bytes`; returns bytes freed. */
size_t reclaim_memory(size_t bytes);
/* Tell every registered reclaimer that memory is low. */
void reclaim_lowmem(void);
#ifdef KARST_KERNEL
/* The reclaim thread's figures (kernel only). */
void reclaim_stats(uint64_t *runs, uint64_t *freed, size_t *low_pages, size_t *high_pages);
#endif

#endif
