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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reclaimer {
	const char *name;
	size_t (*reclaim)(void *arg, size_t bytes);
	void (*lowmem)(void *arg);
	void *arg;
	/* Asked before the others: a cache whose memory is cheap to rebuild
	 * from another one (the page cache, refilled from the ARC). */
	bool first;
	struct list_node link; /* owned by the reclaim registry */
};

void reclaim_register(struct reclaimer *r);
void reclaim_unregister(struct reclaimer *r);
/* Ask registered reclaimers to free `bytes`; returns bytes freed. */
size_t reclaim_memory(size_t bytes);
/*
 * Direct reclaim: reclaim_memory() by a thread whose allocation failed,
 * before it tries again; counted (calls, bytes freed) for `reclaim`. The
 * caller must hold no lock a reclaimer takes (page-cache object locks are
 * only tried, so holding one just keeps its pages).
 */
size_t reclaim_direct(size_t bytes);
void reclaim_direct_stats(uint64_t *calls, uint64_t *freed);
/*
 * True while free memory is short (the kernel: fewer free pages than the
 * reclaim thread's high watermark; the host: never, unless a test says so
 * with reclaim_set_pressure_fn()). A cache that grows by one page at a
 * time while holding a lock its reclaimer can only try (the page cache)
 * asks this after growing, and reclaims directly with the lock dropped.
 */
bool reclaim_pressure(void);
void reclaim_set_pressure_fn(bool (*fn)(void));
/* Tell every registered reclaimer that memory is low. */
void reclaim_lowmem(void);
#ifdef KARST_KERNEL
/* The reclaim thread's figures (kernel only). */
void reclaim_stats(uint64_t *runs, uint64_t *freed, size_t *low_pages, size_t *high_pages);
/* An allocation just failed: when the caller may sleep (a thread, not an
 * interrupt handler, no spinlock held) and free memory is short, wake the
 * reclaim thread and wait, at most 20 ms, for it to run. True when the
 * caller should try once more. Used by kmalloc() and kpage_alloc(). */
bool reclaim_alloc_wait(void);
#endif

#endif
