/*
 * Page tables: a portable 4-level walker over the architecture's entry
 * format (<arch/pte.h>, flags in <karst/mmu.h>). It builds, changes and
 * tears down one tree of tables; it knows nothing of address spaces, VM
 * areas or which CPU uses the tree (kernel/vm builds those on top).
 *
 * Table pages come from the pgt_ops given at pgt_init and are reached
 * through phys_to_virt/virt_to_phys (<karst/arch.h>); the host tests pass
 * aligned_alloc and an identity phys_to_virt.
 *
 * Interface:
 *   pgt_init / pgt_destroy   a tree with an empty root / free every table
 *                            (not the frames the leaves map)
 *   pgt_map                  map [va, va+size) to [pa, pa+size); with
 *                            PGT_ALLOW_2M / PGT_ALLOW_1G, aligned pieces
 *                            become block leaves
 *   pgt_unmap                remove the leaves of a range, report each
 *                            removed leaf, flush, free emptied tables
 *   pgt_protect              change the access rights of a range
 *   pgt_walk / pgt_lookup    the leaf entry of an address / what it maps
 *   pgt_clear_accessed       test-and-clear the accessed state of a leaf
 *   pgt_clear_dirty          test-and-clear the dirty state of a leaf
 *   pgt_set_accessed         the aarch64 access-flag / dirty fault fast path
 *
 * Nothing here splits a block or replaces a mapping silently: pgt_map
 * over anything mapped fails with -EEXIST, and pgt_unmap / pgt_protect of
 * part of a block leaf fail with -EINVAL; all three check the whole range
 * first and change nothing when they fail (pgt_map undoes its partial work
 * when it runs out of memory).
 *
 * Locking. pgt_map, pgt_unmap and pgt_protect serialise themselves on the
 * tree's mutex (pt->lock): a tree may be changed by several layers that
 * each hold a lock of their own (the kernel's runtime mapping region under
 * vm_lock and its VM areas under vs->lock share the level-1 table under
 * one top-level entry), and pgt_map creates missing tables by check,
 * allocate, store, and counts them in ntables, which only one mutator at a
 * time may do. So they may sleep on that mutex (thread context only); they
 * allocate through ops and never sleep otherwise, and the pgt_leaf_fn of
 * pgt_unmap runs under the mutex (it must not call back into the tree).
 * pgt_destroy needs nobody else using the tree. pgt_walk, pgt_lookup,
 * pgt_clear_accessed,
 * pgt_clear_dirty and pgt_set_accessed take no lock, never allocate and
 * never sleep: they may run at the same time as each other, as pgt_map and
 * pgt_protect, and as the hardware setting accessed/dirty bits, because
 * every change to a live leaf is a compare-and-swap on the 64-bit entry (or
 * an atomic exchange for unmap) and new tables are published with release
 * stores after they are filled. They must not overlap a pgt_unmap that
 * frees tables (the table they are reading could be freed under them):
 * exclude it with a lock, or unmap with PGT_KEEP_TABLES.
 *
 * TLB maintenance is the caller's through ops->flush, which the walker
 * calls when it made an entry less permissive or removed it: pgt_unmap and
 * pgt_protect once per call over the range, pgt_clear_dirty for the page
 * whose dirty state it cleared, pgt_set_accessed for the page a write
 * fault made (or found) writable. pgt_clear_accessed does not flush (the
 * access scanner clears many pages and flushes in batches; until a CPU's
 * TLB entry goes, that CPU may access the page without setting accessed
 * again). ops->sync runs at the end of pgt_map so the hardware walker sees
 * the new entries (aarch64: dsb ishst; isb).
 */
#ifndef KARST_PGTABLE_H
#define KARST_PGTABLE_H

#include <arch/pte.h>
#include <karst/mmu.h>
#include <karst/sync.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pgt_ops {
	/* One page (PAGE_SIZE, page aligned) in the direct map, or NULL when
	 * memory is short. The walker zeroes it. Called by pgt_init and
	 * pgt_map, under the caller's lock. */
	void *(*alloc_table)(void *arg);
	void (*free_table)(void *table, void *arg);
	/* Invalidate every TLB (and paging-structure cache) entry that maps
	 * any part of [va, va + len), a block's entry included, on every CPU
	 * that may use this tree; when it returns, no CPU uses the old
	 * entries. pgt_unmap frees tables after it, so walk caches must go
	 * too (x86 invlpg does that; aarch64 needs tlbi vae1is, not the
	 * last-level-only vale1is). NULL when there is no TLB (host tests). */
	void (*flush)(uintptr_t va, size_t len, void *arg);
	/* Make the entries written so far visible to the hardware walker.
	 * May be NULL. */
	void (*sync)(void *arg);
	void *arg;
};

struct pgtable {
	pte_t *root; /* level-0 table, in the direct map */
	uint64_t root_pa;
	const struct pgt_ops *ops;
	size_t ntables;	   /* table pages held, root included (lock) */
	struct mutex lock; /* serialises pgt_map, pgt_unmap, pgt_protect */
};

/* pgt_map flags: which block leaves it may use for aligned pieces. 1 GiB
 * leaves on x86_64 need the Page1GB CPU feature. */
#define PGT_ALLOW_2M	 (1u << 0)
#define PGT_ALLOW_1G	 (1u << 1)
#define PGT_ALLOW_BLOCKS (PGT_ALLOW_2M | PGT_ALLOW_1G)
/* pgt_unmap flag: keep tables that become empty (lets lock-free walkers
 * run concurrently with the unmap). */
#define PGT_KEEP_TABLES (1u << 2)

/* Called by pgt_unmap for each leaf it removed, with the leaf's last value
 * (taken by atomic exchange, so hardware-set accessed/dirty are in it):
 * the VM layer reads pte_dirty(old) and pte_pa(old, level). It runs before
 * the TLB flush: the frame must not be reused until pgt_unmap returns. */
typedef void (*pgt_leaf_fn)(uintptr_t va, pte_t old, int level, void *arg);

/* 0, or -ENOMEM when the root cannot be allocated. ops must outlive pt. */
int pgt_init(struct pgtable *pt, const struct pgt_ops *ops);
/* A tree over a root table built by someone else (the boot page tables:
 * its entries are kept; ntables counts the root only). */
void pgt_adopt(struct pgtable *pt, pte_t *root, const struct pgt_ops *ops);
/* Free every table page. No CPU may be using the tree; no flush. */
void pgt_destroy(struct pgtable *pt);

/*
 * Map [va, va + size) to [pa, pa + size) with prot (MMU_PROT_MASK bits,
 * valid per mmu_prot_valid) plus optionally MMU_ACCESSED / MMU_DIRTY to
 * create the leaves already accessed / dirty. va, pa and size must be page
 * aligned, size > 0, the range canonical and within one half of the
 * address space. Returns 0, -EINVAL (bad arguments), -EEXIST (something in
 * the range is mapped; nothing changed) or -ENOMEM (nothing changed).
 */
int pgt_map(struct pgtable *pt, uintptr_t va, uint64_t pa, size_t size, unsigned prot,
	    unsigned flags);

/*
 * Remove every leaf in [va, va + size) (holes are skipped), calling fn
 * (may be NULL) for each, then ops->flush over the range if anything was
 * removed, then free the tables that became empty unless PGT_KEEP_TABLES.
 * Returns 0, or -EINVAL for bad arguments or a block leaf only partly
 * inside the range (nothing changed).
 */
int pgt_unmap(struct pgtable *pt, uintptr_t va, size_t size, unsigned flags, pgt_leaf_fn fn,
	      void *arg);

/*
 * Set the access rights (MMU_ACCESS_MASK bits, MMU_READ required) of every
 * leaf in [va, va + size); holes are skipped, each leaf keeps its memory
 * type, global bit, accessed and dirty state. Flushes the range when an
 * entry changed. Returns 0, or -EINVAL for bad arguments or a block leaf
 * only partly inside the range (nothing changed).
 */
int pgt_protect(struct pgtable *pt, uintptr_t va, size_t size, unsigned prot);

/* The valid leaf entry that maps va and its level (when level is not
 * NULL), or NULL. Read the entry with pgt_entry_load. */
pte_t *pgt_walk(struct pgtable *pt, uintptr_t va, int *level);

/* Whether va is mapped; *pa (may be NULL) gets the physical address of va
 * itself (offset included), *prot (may be NULL) its MMU_PROT_MASK bits
 * plus MMU_ACCESSED / MMU_DIRTY for the leaf's current state. */
bool pgt_lookup(struct pgtable *pt, uintptr_t va, uint64_t *pa, unsigned *prot);

/* Atomically clear the accessed state of the leaf mapping va; returns its
 * previous value (false when va is not mapped). Dirty is left alone. No
 * TLB flush (see above). */
bool pgt_clear_accessed(struct pgtable *pt, uintptr_t va);

/* Atomically clear the dirty state of the leaf mapping va; returns its
 * previous value (false when va is not mapped). When it was dirty, the
 * page's TLB entry is flushed before returning, so a write that follows
 * marks the page dirty again (x86: the CPU sets D; aarch64: the write
 * faults, or the hardware clears AP[2] with TCR_EL1.HD). */
bool pgt_clear_dirty(struct pgtable *pt, uintptr_t va);

/*
 * The fault fast path: mark the leaf mapping va (any level, page or block)
 * accessed, and dirty too when is_write. One compare-and-swap; no
 * allocation, no lock, no sleeping. Returns true when the access can now
 * proceed: there is a valid leaf and, for a write, it is writable (already
 * set bits count: another CPU may have fixed the entry first). For a
 * write it then flushes the page through ops->flush, whether it changed
 * the entry or found it fixed: the faulting CPU may still hold the
 * read-only entry in its TLB (as Linux's arm64 __ptep_set_access_flags
 * does). Reads need no flush (an entry without the access flag is never
 * cached); the aarch64 caller issues dsb ishst; isb. Returns false,
 * changing nothing, when va is not mapped or
 * is_write hits a leaf without MMU_WRITE: the VM layer's slow path decides
 * (demand paging, copy-on-write, or a protection fault).
 */
bool pgt_set_accessed(struct pgtable *pt, uintptr_t va, bool is_write);

/* Atomic read of an entry that the hardware or other CPUs may update. */
static inline pte_t pgt_entry_load(const pte_t *ep)
{
	return __atomic_load_n(ep, __ATOMIC_ACQUIRE);
}

#endif
