/*
 * Page tables: the lock-free side (pgt_walk, pgt_lookup and the accessed /
 * dirty updates). Interface and contracts: <karst/pgtable.h>.
 *
 * How it works. pgt_walk follows table entries from the root with acquire
 * loads (pgt_map publishes a table with a release store after zeroing it)
 * and stops at the first leaf, whatever its level, so a 2 MiB or 1 GiB
 * block is handled like a page. The updates then change the leaf with a
 * compare-and-swap loop on the whole 64-bit entry: read it, compute the new
 * value with the arch's pte_with_accessed / pte_with_dirty, and swap only
 * if the entry is still what was read. A CPU setting A/D (x86), AF or
 * clearing AP[2] (aarch64 with HA/HD), another CPU's fault fast path, the
 * access scanner and pgt_protect may all change the same entry at once;
 * none of their updates is lost, because a plain read-modify-write never
 * happens. A loop iteration re-checks that the entry is still a leaf, so an
 * entry unmapped between the walk and the swap is left alone.
 *
 * None of these allocate, sleep or take locks: pgt_set_accessed runs in the
 * aarch64 synchronous-abort handler (its flush of a write fault's page is
 * ops->flush, which must be callable there: aarch64 tlbi vae1is).
 */
#include <karst/arch.h>
#include <karst/pgtable.h>

static inline bool pgt_entry_cas(pte_t *ep, pte_t *old, pte_t new)
{
	return __atomic_compare_exchange_n(ep, old, new, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

pte_t *pgt_walk(struct pgtable *pt, uintptr_t va, int *level)
{
	if (!mmu_va_canonical(va))
		return NULL;
	pte_t *table = pt->root;
	for (int l = 0; l < MMU_LEVELS; l++) {
		pte_t *ep = &table[mmu_level_index(va, l)];
		pte_t e = pgt_entry_load(ep);
		if (pte_is_leaf(e, l)) {
			if (level)
				*level = l;
			return ep;
		}
		if (!pte_is_table(e, l))
			return NULL;
		table = phys_to_virt(pte_pa(e, l));
	}
	return NULL;
}

bool pgt_lookup(struct pgtable *pt, uintptr_t va, uint64_t *pa, unsigned *prot)
{
	int level;
	pte_t *ep = pgt_walk(pt, va, &level);
	if (!ep)
		return false;
	pte_t e = pgt_entry_load(ep);
	if (!pte_is_leaf(e, level))
		return false; /* unmapped since the walk */
	if (pa)
		*pa = pte_pa(e, level) + (va & (mmu_level_size(level) - 1));
	if (prot) {
		*prot = pte_prot(e);
		if (pte_accessed(e))
			*prot |= MMU_ACCESSED;
		if (pte_dirty(e))
			*prot |= MMU_DIRTY;
	}
	return true;
}

bool pgt_clear_accessed(struct pgtable *pt, uintptr_t va)
{
	int level;
	pte_t *ep = pgt_walk(pt, va, &level);
	if (!ep)
		return false;
	pte_t old = pgt_entry_load(ep);
	do {
		if (!pte_is_leaf(old, level) || !pte_accessed(old))
			return false;
	} while (!pgt_entry_cas(ep, &old, pte_with_accessed(old, false)));
	return true;
}

bool pgt_clear_dirty(struct pgtable *pt, uintptr_t va)
{
	int level;
	pte_t *ep = pgt_walk(pt, va, &level);
	if (!ep)
		return false;
	pte_t old = pgt_entry_load(ep);
	do {
		if (!pte_is_leaf(old, level) || !pte_dirty(old))
			return false;
	} while (!pgt_entry_cas(ep, &old, pte_with_dirty(old, false)));
	/* A TLB entry that still allows writes without marking the page
	 * dirty (x86: D already set in it; aarch64: AP[2] clear) must go
	 * before the caller starts writing the page back. One page inside a
	 * block is enough: the TLB entry of the block covers it. */
	if (pt->ops->flush)
		pt->ops->flush(va & ~(uintptr_t)PAGE_MASK, PAGE_SIZE, pt->ops->arg);
	return true;
}

bool pgt_set_accessed(struct pgtable *pt, uintptr_t va, bool is_write)
{
	int level;
	pte_t *ep = pgt_walk(pt, va, &level);
	if (!ep)
		return false;
	pte_t old = pgt_entry_load(ep);
	pte_t new;
	do {
		if (!pte_is_leaf(old, level))
			return false;
		if (is_write && !(pte_prot(old) & MMU_WRITE))
			return false;
		new = pte_with_accessed(old, true);
		if (is_write)
			new = pte_with_dirty(new, true);
		if (new == old)
			break; /* another CPU (or the hardware) was first */
	} while (!pgt_entry_cas(ep, &old, new));
	/* A write fault: the faulting CPU may keep the read-only entry in its
	 * TLB (aarch64 may cache an entry that causes a permission fault,
	 * though not one that causes an access-flag fault), whether this call
	 * made the entry writable or found it already fixed (a repeated fault:
	 * another CPU or the hardware was first). Drop the page's entry, or
	 * the retried write may fault again, forever on hardware. Reads need
	 * nothing: an entry without the access flag is never cached. */
	if (is_write && pt->ops->flush)
		pt->ops->flush(va & ~(uintptr_t)PAGE_MASK, PAGE_SIZE, pt->ops->arg);
	return true;
}
