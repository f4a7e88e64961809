/*
 * x86_64 page-table entries (4-level paging, 4 KiB granule), encoded and
 * decoded by pure inline functions. arch/aarch64/include/arch/pte.h has the
 * same functions; portable code (kernel/vm) includes <arch/pte.h> and sees
 * one or the other.
 *
 * Bits used (Intel SDM vol. 3, "4-level paging"):
 *   0 P      present
 *   1 RW     writable (MMU_WRITE)
 *   2 US     0: supervisor only (karst has no user mode)
 *   3 PWT    \ with the power-on PAT: PCD|PWT = UC (MMU_DEVICE),
 *   4 PCD    / PCD alone = UC- (MMU_NOCACHE), neither = WB
 *   5 A      accessed: the CPU sets it on any access through the entry
 *   6 D      dirty (leaves): the CPU sets it on a write
 *   7 PS     at levels 1 and 2: the entry is a 1 GiB / 2 MiB leaf
 *            (at level 3 this is the PAT bit, always 0 here)
 *   8 G      global (MMU_GLOBAL; needs CR4.PGE)
 *   9        software (ignored by the CPU): MMU_ANON
 *  12..51    physical address (from bit 21 / 30 for 2 MiB / 1 GiB leaves;
 *            bit 12 of a large leaf is its PAT bit, always 0 here)
 *  63 NX     no execute (needs EFER.NXE), set unless MMU_EXEC
 *
 * Accessed and dirty are the hardware A and D bits. A writable clean page
 * stays writable: the CPU sets D on the first write through a TLB entry
 * that does not have it, so once D has been cleared and the page's TLB
 * entry flushed, the next write sets D again without a fault. Dirty is
 * kept on a read-only leaf too (D survives pgt_protect).
 *
 * Table entries are P|RW with the next table's address: permissions are
 * decided by the leaves alone.
 *
 * 1 GiB leaves need CPUID.80000001H:EDX.Page1GB; the encoder accepts them
 * and the caller decides whether to ask for them (PGT_ALLOW_1G).
 */
#ifndef ARCH_PTE_H
#define ARCH_PTE_H

#include <karst/mmu.h>

#define PTE_ARCH_NAME "x86_64"

#define PTE_X86_P	(1ULL << 0)
#define PTE_X86_RW	(1ULL << 1)
#define PTE_X86_US	(1ULL << 2)
#define PTE_X86_PWT	(1ULL << 3)
#define PTE_X86_PCD	(1ULL << 4)
#define PTE_X86_A	(1ULL << 5)
#define PTE_X86_D	(1ULL << 6)
#define PTE_X86_PS	(1ULL << 7)
#define PTE_X86_G	(1ULL << 8)
#define PTE_X86_SW_ANON (1ULL << 9)
#define PTE_X86_NX	(1ULL << 63)

#define PTE_X86_PA_BITS 52
#define PTE_X86_PA_MASK 0x000ffffffffff000ULL /* bits 51..12 */

/* The bit the hardware sets on access (for tests that play the CPU). */
#define PTE_ACCESSED_BIT PTE_X86_A

/* Levels that can hold a leaf: 1 (1 GiB), 2 (2 MiB), 3 (4 KiB). */
static inline bool pte_level_has_leaves(int level)
{
	return level >= 1 && level <= MMU_LEAF_LEVEL;
}

static inline bool pte_valid(pte_t pte)
{
	return (pte & PTE_X86_P) != 0;
}

static inline bool pte_is_table(pte_t pte, int level)
{
	return pte_valid(pte) && level >= 0 && level < MMU_LEAF_LEVEL && !(pte & PTE_X86_PS);
}

static inline bool pte_is_leaf(pte_t pte, int level)
{
	if (!pte_valid(pte))
		return false;
	if (level == MMU_LEAF_LEVEL)
		return true;
	return (level == 1 || level == 2) && (pte & PTE_X86_PS);
}

/* An entry pointing at the table at physical address pa (page aligned);
 * 0 when pa is not a possible table address. */
static inline pte_t pte_make_table(uint64_t pa)
{
	if ((pa & PAGE_MASK) || (pa >> PTE_X86_PA_BITS))
		return 0;
	return pa | PTE_X86_P | PTE_X86_RW;
}

/*
 * A leaf at `level` mapping pa (aligned to mmu_level_size(level)) with
 * prot (MMU_PROT_MASK bits, mmu_prot_valid) and the given state. Returns 0,
 * which is never a valid entry, for a level that cannot hold a leaf, a
 * misaligned or too large pa, or an invalid prot.
 */
static inline pte_t pte_make_leaf(uint64_t pa, int level, unsigned prot, bool accessed, bool dirty)
{
	if (!pte_level_has_leaves(level) || !mmu_prot_valid(prot))
		return 0;
	if ((pa & (mmu_level_size(level) - 1)) || (pa >> PTE_X86_PA_BITS))
		return 0;
	pte_t e = pa | PTE_X86_P;
	if (level < MMU_LEAF_LEVEL)
		e |= PTE_X86_PS;
	if (prot & MMU_WRITE)
		e |= PTE_X86_RW;
	if (!(prot & MMU_EXEC))
		e |= PTE_X86_NX;
	if (prot & MMU_DEVICE)
		e |= PTE_X86_PCD | PTE_X86_PWT;
	else if (prot & MMU_NOCACHE)
		e |= PTE_X86_PCD;
	if (prot & MMU_GLOBAL)
		e |= PTE_X86_G;
	if (prot & MMU_ANON)
		e |= PTE_X86_SW_ANON;
	if (accessed)
		e |= PTE_X86_A;
	if (dirty)
		e |= PTE_X86_D;
	return e;
}

/* Physical address of the next table (table entry) or of the first byte
 * the leaf maps. */
static inline uint64_t pte_pa(pte_t pte, int level)
{
	if (pte_is_leaf(pte, level))
		return pte & PTE_X86_PA_MASK & ~(mmu_level_size(level) - 1);
	return pte & PTE_X86_PA_MASK;
}

/* Protection of a leaf (MMU_PROT_MASK bits). */
static inline unsigned pte_prot(pte_t pte)
{
	unsigned prot = MMU_READ;
	if (pte & PTE_X86_RW)
		prot |= MMU_WRITE;
	if (!(pte & PTE_X86_NX))
		prot |= MMU_EXEC;
	if ((pte & (PTE_X86_PCD | PTE_X86_PWT)) == (PTE_X86_PCD | PTE_X86_PWT))
		prot |= MMU_DEVICE;
	else if (pte & PTE_X86_PCD)
		prot |= MMU_NOCACHE;
	if (pte & PTE_X86_G)
		prot |= MMU_GLOBAL;
	if (pte & PTE_X86_SW_ANON)
		prot |= MMU_ANON;
	return prot;
}

static inline bool pte_accessed(pte_t pte)
{
	return (pte & PTE_X86_A) != 0;
}

static inline pte_t pte_with_accessed(pte_t pte, bool accessed)
{
	return accessed ? pte | PTE_X86_A : pte & ~PTE_X86_A;
}

static inline bool pte_dirty(pte_t pte)
{
	return (pte & PTE_X86_D) != 0;
}

static inline pte_t pte_with_dirty(pte_t pte, bool dirty)
{
	return dirty ? pte | PTE_X86_D : pte & ~PTE_X86_D;
}

/* Can a write through this leaf complete without a fault? (The CPU sets
 * A and D itself.) */
static inline bool pte_writable_now(pte_t pte)
{
	return pte_valid(pte) && (pte & PTE_X86_RW);
}

#endif
