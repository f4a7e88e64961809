/*
 * The portable view of a page-table entry: protection flags, the software
 * state the VM layer tracks per page, and the geometry both architectures
 * share (4 levels of 512 entries, 4 KiB granule, 48-bit virtual addresses).
 *
 * Levels are numbered from the root: level 0 is the PML4 (x86_64) or L0
 * table (aarch64), level 3 holds 4 KiB pages. A leaf may also sit at level 2
 * (2 MiB) or level 1 (1 GiB); never at level 0.
 *
 * Each architecture encodes these in <arch/pte.h> with the same function
 * names (pte_make_leaf, pte_prot, pte_dirty, ...); the page-table walker
 * (<karst/pgtable.h>) is written against those names only.
 *
 * Protection flags (MMU_PROT_MASK):
 *   MMU_READ     readable; every leaf must have it (neither architecture can
 *                express a kernel mapping that is present but unreadable:
 *                "no access" means "not mapped")
 *   MMU_WRITE    writable (implies nothing about the dirty state)
 *   MMU_EXEC     executable
 *   MMU_DEVICE   device memory: uncached, no speculation, no gathering
 *                (x86 UC, aarch64 Device-nGnRnE); never with MMU_EXEC
 *   MMU_NOCACHE  normal memory, uncached (x86 UC-, aarch64 Normal NC)
 *   MMU_GLOBAL   kept in the TLB across address-space switches (kernel)
 *   MMU_ANON     software only: the frame belongs to the mapping (anonymous
 *                memory or a private copy), so the VM layer frees it when
 *                it unmaps the page; without it the frame is a pager's
 *                (the page cache's) and goes back to the pager
 * State flags, reported by pgt_lookup and accepted by pgt_map to create a
 * leaf already accessed / already dirty (a fault handler installing the
 * page that faulted):
 *   MMU_ACCESSED the page was read or written since the flag was cleared
 *   MMU_DIRTY    the page was written since the flag was cleared
 */
#ifndef KARST_MMU_H
#define KARST_MMU_H

#include <karst/param.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t pte_t;

#define MMU_READ      (1u << 0)
#define MMU_WRITE     (1u << 1)
#define MMU_EXEC      (1u << 2)
#define MMU_DEVICE    (1u << 3)
#define MMU_NOCACHE   (1u << 4)
#define MMU_GLOBAL    (1u << 5)
#define MMU_ANON      (1u << 6)
#define MMU_PROT_MASK 0x7fu
/* Access rights only: what pgt_protect changes. */
#define MMU_ACCESS_MASK (MMU_READ | MMU_WRITE | MMU_EXEC)
/* Memory type and TLB attributes: fixed for the life of a mapping. */
#define MMU_ATTR_MASK (MMU_DEVICE | MMU_NOCACHE | MMU_GLOBAL | MMU_ANON)

#define MMU_ACCESSED   (1u << 8)
#define MMU_DIRTY      (1u << 9)
#define MMU_STATE_MASK (MMU_ACCESSED | MMU_DIRTY)

#define MMU_LEVELS     4
#define MMU_LEAF_LEVEL 3 /* 4 KiB pages */
#define MMU_ENTRIES    512
#define MMU_VA_BITS    48

/* log2 of the bytes one entry at `level` covers: 39, 30, 21, 12. */
static inline unsigned mmu_level_shift(int level)
{
	return PAGE_SHIFT + 9u * (unsigned)(MMU_LEAF_LEVEL - level);
}

static inline uint64_t mmu_level_size(int level)
{
	return 1ULL << mmu_level_shift(level);
}

/* Index of va's entry in the table at `level`. */
static inline unsigned mmu_level_index(uint64_t va, int level)
{
	return (unsigned)(va >> mmu_level_shift(level)) & (MMU_ENTRIES - 1);
}

/* Bits 63..47 all equal: the lower half (TTBR0 / user-style) or the upper
 * half (TTBR1 / kernel) of a 48-bit address space. */
static inline bool mmu_va_canonical(uint64_t va)
{
	uint64_t top = va >> (MMU_VA_BITS - 1);
	return top == 0 || top == (1ULL << (64 - MMU_VA_BITS + 1)) - 1;
}

/* A protection both formats can encode for a leaf: MMU_READ present, no
 * unknown bits, at most one memory type, device memory not executable. */
static inline bool mmu_prot_valid(unsigned prot)
{
	if (prot & ~MMU_PROT_MASK)
		return false;
	if (!(prot & MMU_READ))
		return false;
	if ((prot & MMU_DEVICE) && (prot & (MMU_NOCACHE | MMU_EXEC)))
		return false;
	return true;
}

#endif
