/*
 * aarch64 stage-1 translation table descriptors (VMSAv8-64, 4 KiB granule,
 * 48-bit VA and OA, four levels L0..L3), encoded and decoded by pure inline
 * functions. arch/x86_64/include/arch/pte.h has the same functions;
 * portable code (kernel/vm) includes <arch/pte.h> and sees one or the other.
 *
 * Bits used:
 *   1:0   01 block (L1: 1 GiB, L2: 2 MiB), 11 table (L0-L2) or page (L3);
 *         bit 0 clear: invalid
 *   4:2   AttrIndx, an index into MAIR_EL1 as boot.S programs it:
 *         0 Device-nGnRnE (MMU_DEVICE), 1 Normal WB (default),
 *         2 Normal non-cacheable (MMU_NOCACHE)
 *   7:6   AP[2:1]: AP[1] (bit 6) = 0, EL0 has no access; AP[2] (bit 7) = 1
 *         read-only, 0 read/write at EL1
 *   9:8   SH: 11 inner shareable for normal memory, 00 for device memory
 *   10    AF, access flag
 *   11    nG, not global (set unless MMU_GLOBAL)
 *   47:12 output address (47:21 for a 2 MiB block, 47:30 for 1 GiB)
 *   51    DBM, dirty bit modifier (set on writable leaves, see below)
 *   53    PXN (set unless MMU_EXEC); 54 UXN (always set)
 *   55    software: PTE_SW_WRITE, the mapping is writable
 *   56    software: PTE_SW_DIRTY, dirty state of a leaf that is not writable
 *   57    software: PTE_SW_ANON, MMU_ANON
 * Table descriptors are 11 with the next table's address; their
 * hierarchical permission bits (59-63) stay 0, so leaves alone decide.
 *
 * Access flag, in software. A leaf made with accessed == false has AF = 0.
 * With TCR_EL1.HA off (the default) the first access through it takes an
 * Access flag fault (ESR_EL1 DFSC 0b0010LL, LL = level 1..3, block or
 * page); the handler calls pgt_set_accessed(va, WnR), which sets AF with a
 * compare-and-swap. Descriptors with AF = 0 are never held in a TLB, so no
 * invalidation is needed after setting it, only dsb ishst; isb. With
 * TCR_EL1.HA on, the hardware sets AF itself, atomically.
 *
 * Dirty state, in software, with hardware help where it exists. A leaf
 * mapped writable (MMU_WRITE) always has PTE_SW_WRITE and DBM set; it is
 *   dirty  <=>  AP[2] == 0  (the hardware lets writes through)
 *   clean  <=>  AP[2] == 1  (the hardware treats the page as read-only)
 * So a clean writable page is read-only to the MMU. With TCR_EL1.HD off
 * (the default) the first write takes a Permission fault (DFSC 0b0011LL,
 * WnR = 1) on a leaf that has PTE_SW_WRITE: the handler calls
 * pgt_set_accessed(va, true), which clears AP[2] (= marks the page dirty)
 * and sets AF with a compare-and-swap; a permission fault on a leaf without
 * PTE_SW_WRITE is a genuine protection violation (or copy-on-write), for
 * the VM layer. With TCR_EL1.HD on, DBM = 1 makes the hardware clear AP[2]
 * itself on the first write, atomically, which means exactly "dirty" in
 * this encoding. Clearing dirty (pgt_clear_dirty) sets AP[2] again; the
 * caller must then invalidate the TLB entry before relying on it.
 * A leaf that is not writable has AP[2] = 1, no DBM (the hardware must
 * never make it writable) and keeps its dirty state in PTE_SW_DIRTY, so
 * making a dirty page read-only (pgt_protect) does not lose the fact that
 * it was written; making it writable again moves the state back to AP[2].
 *
 * boot.S writes its entries (the image W^X in 4 KiB pages, RAM blocks)
 * in this same encoding, and kt_vm_wx checks them against pte_make_leaf.
 */
#ifndef ARCH_PTE_H
#define ARCH_PTE_H

#include <karst/mmu.h>

#define PTE_ARCH_NAME "aarch64"

#define PTE_A64_VALID	   (1ULL << 0)
#define PTE_A64_TYPE	   (1ULL << 1) /* table (L0-L2) or page (L3); 0: block */
#define PTE_A64_ATTR_SHIFT 2
#define PTE_A64_ATTR_MASK  (7ULL << PTE_A64_ATTR_SHIFT)
#define PTE_A64_AP_EL0	   (1ULL << 6) /* AP[1] */
#define PTE_A64_AP_RO	   (1ULL << 7) /* AP[2] */
#define PTE_A64_SH_INNER   (3ULL << 8)
#define PTE_A64_AF	   (1ULL << 10)
#define PTE_A64_NG	   (1ULL << 11)
#define PTE_A64_DBM	   (1ULL << 51)
#define PTE_A64_CONT	   (1ULL << 52)
#define PTE_A64_PXN	   (1ULL << 53)
#define PTE_A64_UXN	   (1ULL << 54)
#define PTE_A64_SW_WRITE   (1ULL << 55)
#define PTE_A64_SW_DIRTY   (1ULL << 56)
#define PTE_A64_SW_ANON	   (1ULL << 57)

/* MAIR_EL1 indexes, as boot.S programs MAIR_EL1 (0x44ff00). */
#define PTE_A64_MAIR_DEVICE   0ULL
#define PTE_A64_MAIR_NORMAL   1ULL
#define PTE_A64_MAIR_NORMALNC 2ULL

#define PTE_A64_PA_BITS 48
#define PTE_A64_PA_MASK 0x0000fffffffff000ULL /* bits 47..12 */

/* The bit the hardware sets on access when TCR_EL1.HA is on (for tests
 * that play the CPU). */
#define PTE_ACCESSED_BIT PTE_A64_AF

/* Levels that can hold a leaf: 1 (1 GiB block), 2 (2 MiB block), 3 (page). */
static inline bool pte_level_has_leaves(int level)
{
	return level >= 1 && level <= MMU_LEAF_LEVEL;
}

static inline bool pte_valid(pte_t pte)
{
	return (pte & PTE_A64_VALID) != 0;
}

static inline bool pte_is_table(pte_t pte, int level)
{
	return level >= 0 && level < MMU_LEAF_LEVEL && (pte & 3) == 3;
}

static inline bool pte_is_leaf(pte_t pte, int level)
{
	if (level == MMU_LEAF_LEVEL)
		return (pte & 3) == 3; /* 01 at L3 is reserved: invalid */
	return (level == 1 || level == 2) && (pte & 3) == 1;
}

/* An entry pointing at the table at physical address pa (page aligned);
 * 0 when pa is not a possible table address. */
static inline pte_t pte_make_table(uint64_t pa)
{
	if ((pa & PAGE_MASK) || (pa >> PTE_A64_PA_BITS))
		return 0;
	return pa | PTE_A64_VALID | PTE_A64_TYPE;
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
	if ((pa & (mmu_level_size(level) - 1)) || (pa >> PTE_A64_PA_BITS))
		return 0;
	pte_t e = pa | PTE_A64_VALID | PTE_A64_UXN;
	if (level == MMU_LEAF_LEVEL)
		e |= PTE_A64_TYPE;
	if (prot & MMU_DEVICE) {
		e |= PTE_A64_MAIR_DEVICE << PTE_A64_ATTR_SHIFT;
	} else {
		uint64_t attr = (prot & MMU_NOCACHE) ? PTE_A64_MAIR_NORMALNC : PTE_A64_MAIR_NORMAL;
		e |= attr << PTE_A64_ATTR_SHIFT | PTE_A64_SH_INNER;
	}
	if (!(prot & MMU_EXEC))
		e |= PTE_A64_PXN;
	if (!(prot & MMU_GLOBAL))
		e |= PTE_A64_NG;
	if (prot & MMU_ANON)
		e |= PTE_A64_SW_ANON;
	if (accessed)
		e |= PTE_A64_AF;
	if (prot & MMU_WRITE) {
		e |= PTE_A64_SW_WRITE | PTE_A64_DBM;
		if (!dirty)
			e |= PTE_A64_AP_RO;
	} else {
		e |= PTE_A64_AP_RO;
		if (dirty)
			e |= PTE_A64_SW_DIRTY;
	}
	return e;
}

/* Physical address of the next table (table entry) or of the first byte
 * the leaf maps. */
static inline uint64_t pte_pa(pte_t pte, int level)
{
	if (pte_is_leaf(pte, level))
		return pte & PTE_A64_PA_MASK & ~(mmu_level_size(level) - 1);
	return pte & PTE_A64_PA_MASK;
}

/* Protection of a leaf (MMU_PROT_MASK bits). */
static inline unsigned pte_prot(pte_t pte)
{
	unsigned prot = MMU_READ;
	if (pte & PTE_A64_SW_WRITE)
		prot |= MMU_WRITE;
	if (!(pte & PTE_A64_PXN))
		prot |= MMU_EXEC;
	uint64_t attr = (pte & PTE_A64_ATTR_MASK) >> PTE_A64_ATTR_SHIFT;
	if (attr == PTE_A64_MAIR_DEVICE)
		prot |= MMU_DEVICE;
	else if (attr == PTE_A64_MAIR_NORMALNC)
		prot |= MMU_NOCACHE;
	if (!(pte & PTE_A64_NG))
		prot |= MMU_GLOBAL;
	if (pte & PTE_A64_SW_ANON)
		prot |= MMU_ANON;
	return prot;
}

static inline bool pte_accessed(pte_t pte)
{
	return (pte & PTE_A64_AF) != 0;
}

static inline pte_t pte_with_accessed(pte_t pte, bool accessed)
{
	return accessed ? pte | PTE_A64_AF : pte & ~PTE_A64_AF;
}

static inline bool pte_dirty(pte_t pte)
{
	if (pte & PTE_A64_SW_WRITE)
		return !(pte & PTE_A64_AP_RO);
	return (pte & PTE_A64_SW_DIRTY) != 0;
}

static inline pte_t pte_with_dirty(pte_t pte, bool dirty)
{
	if (pte & PTE_A64_SW_WRITE)
		return dirty ? pte & ~PTE_A64_AP_RO : pte | PTE_A64_AP_RO;
	return dirty ? pte | PTE_A64_SW_DIRTY : pte & ~PTE_A64_SW_DIRTY;
}

/* Can a write through this leaf complete without a fault, with hardware
 * access-flag and dirty management off? (AF set and AP[2] clear.) */
static inline bool pte_writable_now(pte_t pte)
{
	return pte_valid(pte) && (pte & PTE_A64_AF) && (pte & PTE_A64_SW_WRITE) &&
	       !(pte & PTE_A64_AP_RO);
}

#endif
