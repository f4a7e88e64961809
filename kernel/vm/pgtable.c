/*
 * Page tables: building and tearing down (pgt_init, pgt_map, pgt_unmap,
 * pgt_protect, pgt_destroy). The lock-free readers and the accessed/dirty
 * updates are in pgt_access.c. Interface and contracts: <karst/pgtable.h>.
 *
 * How it works. Every operation on a range recurses down the tree, visiting
 * at each level the entries that overlap the range; an entry is covered
 * "whole" when the range contains everything the entry maps. Ranges are
 * carried as [va, last] (inclusive) so a range that ends at the top of the
 * address space does not overflow.
 *
 * Each mutator first runs a read-only check pass over the range (anything
 * mapped for pgt_map, a block leaf cut by the range for unmap/protect) and
 * only then changes entries, so a refused call changes nothing. pgt_map
 * puts a block leaf where an entry is covered whole, the flags allow that
 * level and pa is aligned to it; otherwise it descends, allocating tables.
 * A new table is zeroed before its entry is stored (release), so a
 * concurrent lock-free walker sees either no table or an empty one.
 *
 * pgt_unmap takes each leaf out with an atomic exchange (the hardware may
 * be setting accessed/dirty in it), reports it, clears the entries of
 * tables that became empty and chains those tables through their entry 0
 * (a page-aligned pointer has bit 0 clear, so the entry still reads as
 * invalid to a stale walk). Only after ops->flush are they freed: until
 * then a CPU may still hold the table in its paging-structure caches.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/pgtable.h>
#include <karst/printk.h>
#include <string.h>

static inline void pgt_entry_store(pte_t *ep, pte_t v)
{
	__atomic_store_n(ep, v, __ATOMIC_RELEASE);
}

static inline pte_t *pgt_next_table(pte_t e, int level)
{
	return phys_to_virt(pte_pa(e, level));
}

/* Last address of the entry at `level` that holds a, clipped to last. */
static inline uintptr_t pgt_span_last(uintptr_t a, uintptr_t last, int level)
{
	uintptr_t elast = a | (uintptr_t)(mmu_level_size(level) - 1);
	return elast < last ? elast : last;
}

static inline bool pgt_span_whole(uintptr_t a, uintptr_t sl, int level)
{
	uintptr_t mask = (uintptr_t)(mmu_level_size(level) - 1);
	return (a & mask) == 0 && (sl & mask) == mask;
}

static bool pgt_block_allowed(int level, unsigned flags)
{
	return (level == 2 && (flags & PGT_ALLOW_2M)) || (level == 1 && (flags & PGT_ALLOW_1G));
}

/* Page-aligned, non-empty, canonical, not crossing between the halves. */
static bool pgt_range_ok(uintptr_t va, size_t size, uintptr_t *last)
{
	if (size == 0 || ((va | size) & PAGE_MASK))
		return false;
	uintptr_t l = va + (size - 1);
	if (l < va || !mmu_va_canonical(va) || !mmu_va_canonical(l))
		return false;
	if ((va >> (MMU_VA_BITS - 1)) != (l >> (MMU_VA_BITS - 1)))
		return false;
	*last = l;
	return true;
}

static void *pgt_alloc_table(struct pgtable *pt)
{
	pte_t *t = pt->ops->alloc_table(pt->ops->arg);
	if (!t)
		return NULL;
	VERIFY(((uintptr_t)t & PAGE_MASK) == 0);
	memset(t, 0, PAGE_SIZE);
	pt->ntables++;
	return t;
}

static void pgt_free_table(struct pgtable *pt, pte_t *t)
{
	pt->ntables--;
	pt->ops->free_table(t, pt->ops->arg);
}

int pgt_init(struct pgtable *pt, const struct pgt_ops *ops)
{
	pt->ops = ops;
	pt->ntables = 0;
	pt->root = pgt_alloc_table(pt);
	if (!pt->root)
		return -ENOMEM;
	pt->root_pa = virt_to_phys(pt->root);
	mutex_init(&pt->lock, "pgtable");
	return 0;
}

void pgt_adopt(struct pgtable *pt, pte_t *root, const struct pgt_ops *ops)
{
	pt->ops = ops;
	pt->root = root;
	pt->root_pa = virt_to_phys(root);
	pt->ntables = 1;
	mutex_init(&pt->lock, "pgtable");
}

static void pgt_destroy_level(struct pgtable *pt, pte_t *table, int level)
{
	for (unsigned i = 0; i < MMU_ENTRIES; i++) {
		pte_t e = pgt_entry_load(&table[i]);
		if (pte_is_table(e, level)) {
			pte_t *child = pgt_next_table(e, level);
			pgt_destroy_level(pt, child, level + 1);
			pgt_free_table(pt, child);
		}
	}
}

void pgt_destroy(struct pgtable *pt)
{
	if (!pt->root)
		return;
	pgt_destroy_level(pt, pt->root, 0);
	pgt_free_table(pt, pt->root);
	pt->root = NULL;
	pt->root_pa = 0;
	mutex_destroy(&pt->lock);
}

/* -EEXIST when anything in [va, last] is mapped (or holds an entry this
 * format does not know). */
static int pgt_check_unmapped(pte_t *table, int level, uintptr_t va, uintptr_t last)
{
	for (uintptr_t a = va;; a = pgt_span_last(a, last, level) + 1) {
		uintptr_t sl = pgt_span_last(a, last, level);
		pte_t e = pgt_entry_load(&table[mmu_level_index(a, level)]);
		if (pte_valid(e)) {
			if (!pte_is_table(e, level))
				return -EEXIST;
			int rc = pgt_check_unmapped(pgt_next_table(e, level), level + 1, a, sl);
			if (rc)
				return rc;
		}
		if (sl == last)
			return 0;
	}
}

/* -EINVAL when a leaf in [va, last] is only partly inside it, or (access
 * not 0) when a leaf cannot take the access rights `access` with its own
 * attributes (device memory made executable). */
static int pgt_check_leaves(pte_t *table, int level, uintptr_t va, uintptr_t last, unsigned access)
{
	for (uintptr_t a = va;; a = pgt_span_last(a, last, level) + 1) {
		uintptr_t sl = pgt_span_last(a, last, level);
		pte_t e = pgt_entry_load(&table[mmu_level_index(a, level)]);
		if (pte_is_leaf(e, level)) {
			if (!pgt_span_whole(a, sl, level))
				return -EINVAL;
			if (access && !mmu_prot_valid(access | (pte_prot(e) & MMU_ATTR_MASK)))
				return -EINVAL;
		} else if (pte_is_table(e, level)) {
			int rc =
			    pgt_check_leaves(pgt_next_table(e, level), level + 1, a, sl, access);
			if (rc)
				return rc;
		}
		if (sl == last)
			return 0;
	}
}

struct pgt_map_args {
	uintptr_t va;  /* start of the whole request */
	uint64_t pa;   /* its physical address */
	unsigned prot; /* MMU_PROT_MASK bits */
	bool accessed, dirty;
	unsigned flags;
};

static int pgt_map_level(struct pgtable *pt, pte_t *table, int level, uintptr_t va, uintptr_t last,
			 const struct pgt_map_args *m)
{
	for (uintptr_t a = va;; a = pgt_span_last(a, last, level) + 1) {
		uintptr_t sl = pgt_span_last(a, last, level);
		pte_t *ep = &table[mmu_level_index(a, level)];
		pte_t e = pgt_entry_load(ep);
		uint64_t pa = m->pa + (a - m->va);
		bool block = level < MMU_LEAF_LEVEL && pgt_block_allowed(level, m->flags) &&
			     pgt_span_whole(a, sl, level) &&
			     (pa & (mmu_level_size(level) - 1)) == 0;

		if (level == MMU_LEAF_LEVEL || (block && !pte_valid(e))) {
			KASSERT(!pte_valid(e));
			pte_t leaf = pte_make_leaf(pa, level, m->prot, m->accessed, m->dirty);
			VERIFY(leaf != 0);
			pgt_entry_store(ep, leaf);
		} else {
			if (!pte_valid(e)) {
				pte_t *t = pgt_alloc_table(pt);
				if (!t)
					return -ENOMEM;
				e = pte_make_table(virt_to_phys(t));
				VERIFY(e != 0);
				pgt_entry_store(ep, e);
			}
			KASSERT(pte_is_table(e, level));
			int rc = pgt_map_level(pt, pgt_next_table(e, level), level + 1, a, sl, m);
			if (rc)
				return rc;
		}
		if (sl == last)
			return 0;
	}
}

struct pgt_unmap_ctx {
	bool keep_tables;
	bool removed;
	pte_t *dead; /* emptied tables, chained through entry 0 */
	pgt_leaf_fn fn;
	void *arg;
};

static bool pgt_table_empty(const pte_t *table)
{
	for (unsigned i = 0; i < MMU_ENTRIES; i++)
		if (pgt_entry_load(&table[i]) != 0)
			return false;
	return true;
}

static void pgt_unmap_level(pte_t *table, int level, uintptr_t va, uintptr_t last,
			    struct pgt_unmap_ctx *c)
{
	for (uintptr_t a = va;; a = pgt_span_last(a, last, level) + 1) {
		uintptr_t sl = pgt_span_last(a, last, level);
		pte_t *ep = &table[mmu_level_index(a, level)];
		pte_t e = pgt_entry_load(ep);
		if (pte_is_leaf(e, level)) {
			KASSERT(pgt_span_whole(a, sl, level));
			pte_t old = __atomic_exchange_n(ep, 0, __ATOMIC_ACQ_REL);
			c->removed = true;
			if (c->fn)
				c->fn(a, old, level, c->arg);
		} else if (pte_is_table(e, level)) {
			pte_t *child = pgt_next_table(e, level);
			pgt_unmap_level(child, level + 1, a, sl, c);
			if (!c->keep_tables && pgt_table_empty(child)) {
				pgt_entry_store(ep, 0);
				pgt_entry_store(&child[0], (pte_t)(uintptr_t)c->dead);
				c->dead = child;
			}
		}
		if (sl == last)
			return;
	}
}

/* Remove [va, last] and free emptied tables; flush when something went. */
static void pgt_unmap_range(struct pgtable *pt, uintptr_t va, uintptr_t last, unsigned flags,
			    pgt_leaf_fn fn, void *arg)
{
	struct pgt_unmap_ctx c = {
	    .keep_tables = (flags & PGT_KEEP_TABLES) != 0, .fn = fn, .arg = arg};
	pgt_unmap_level(pt->root, 0, va, last, &c);
	if ((c.removed || c.dead) && pt->ops->flush)
		pt->ops->flush(va, last - va + 1, pt->ops->arg);
	while (c.dead) {
		pte_t *t = c.dead;
		c.dead = (pte_t *)(uintptr_t)t[0];
		pgt_free_table(pt, t);
	}
}

int pgt_map(struct pgtable *pt, uintptr_t va, uint64_t pa, size_t size, unsigned prot,
	    unsigned flags)
{
	uintptr_t last;
	if (!pgt_range_ok(va, size, &last) || (pa & PAGE_MASK))
		return -EINVAL;
	if (flags & ~PGT_ALLOW_BLOCKS)
		return -EINVAL;
	unsigned access = prot & ~MMU_STATE_MASK;
	if (!mmu_prot_valid(access))
		return -EINVAL;
	/* The last page must be encodable too (physical address width). */
	uint64_t pa_last = pa + (size - 1);
	if (pa_last < pa || pte_make_leaf(pa_last & ~(uint64_t)PAGE_MASK, MMU_LEAF_LEVEL, access,
					  false, false) == 0)
		return -EINVAL;

	mutex_lock(&pt->lock);
	int rc = pgt_check_unmapped(pt->root, 0, va, last);
	if (rc)
		goto out;
	struct pgt_map_args m = {.va = va,
				 .pa = pa,
				 .prot = access,
				 .accessed = (prot & MMU_ACCESSED) != 0,
				 .dirty = (prot & MMU_DIRTY) != 0,
				 .flags = flags};
	rc = pgt_map_level(pt, pt->root, 0, va, last, &m);
	if (rc) {
		/* The range was empty before: take out what was put in. */
		pgt_unmap_range(pt, va, last, 0, NULL, NULL);
		goto out;
	}
	if (pt->ops->sync)
		pt->ops->sync(pt->ops->arg);
out:
	mutex_unlock(&pt->lock);
	return rc;
}

int pgt_unmap(struct pgtable *pt, uintptr_t va, size_t size, unsigned flags, pgt_leaf_fn fn,
	      void *arg)
{
	uintptr_t last;
	if (!pgt_range_ok(va, size, &last) || (flags & ~PGT_KEEP_TABLES))
		return -EINVAL;
	mutex_lock(&pt->lock);
	int rc = pgt_check_leaves(pt->root, 0, va, last, 0);
	if (rc == 0)
		pgt_unmap_range(pt, va, last, flags, fn, arg);
	mutex_unlock(&pt->lock);
	return rc;
}

/* Rewrite each leaf with the new access rights, keeping its address,
 * attributes and state; compare-and-swap against hardware updates. */
static bool pgt_protect_level(pte_t *table, int level, uintptr_t va, uintptr_t last,
			      unsigned access)
{
	bool changed = false;
	for (uintptr_t a = va;; a = pgt_span_last(a, last, level) + 1) {
		uintptr_t sl = pgt_span_last(a, last, level);
		pte_t *ep = &table[mmu_level_index(a, level)];
		pte_t old = pgt_entry_load(ep);
		if (pte_is_leaf(old, level)) {
			/* Under pt->lock nothing else unmaps or remaps the
			 * entry, but a failed swap re-checks it anyway, as
			 * pgt_access.c's loops do: a swap never writes a leaf
			 * over an entry that stopped being one. */
			pte_t new;
			do {
				if (!pte_is_leaf(old, level)) {
					new = old;
					break;
				}
				unsigned prot = access | (pte_prot(old) & MMU_ATTR_MASK);
				new = pte_make_leaf(pte_pa(old, level), level, prot,
						    pte_accessed(old), pte_dirty(old));
				VERIFY(new != 0);
				if (new == old)
					break;
			} while (!__atomic_compare_exchange_n(ep, &old, new, false,
							      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
			changed |= new != old;
		} else if (pte_is_table(old, level)) {
			changed |=
			    pgt_protect_level(pgt_next_table(old, level), level + 1, a, sl, access);
		}
		if (sl == last)
			return changed;
	}
}

int pgt_protect(struct pgtable *pt, uintptr_t va, size_t size, unsigned prot)
{
	uintptr_t last;
	if (!pgt_range_ok(va, size, &last))
		return -EINVAL;
	if ((prot & ~MMU_ACCESS_MASK) || !mmu_prot_valid(prot))
		return -EINVAL;
	mutex_lock(&pt->lock);
	int rc = pgt_check_leaves(pt->root, 0, va, last, prot);
	if (rc == 0 && pgt_protect_level(pt->root, 0, va, last, prot) && pt->ops->flush)
		pt->ops->flush(va, size, pt->ops->arg);
	mutex_unlock(&pt->lock);
	return rc;
}
