/*
 * VM areas: mmap, munmap, mprotect, msync and the fault slow path over the
 * portable page-table walker; see <karst/vm.h>.
 *
 * A page's owner is recorded in its leaf: MMU_ANON frames (demand-zero
 * pages, private copies) came from vs->frames and go back there; other
 * leaves map a pager's page and are put back to the pager. Unmapping
 * collects the removed leaves in batches and releases them only after
 * pgt_unmap has flushed the TLB, so no CPU can still reach a frame that
 * is being reused.
 *
 * Everything runs under vs->lock (see vm.h); area lists are short, so a
 * sorted list searched linearly is enough.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/kmem.h>
#include <karst/reclaim.h>
#include <karst/thread.h>
#include <karst/vm.h>
#include <string.h>

#define VM_UNMAP_BATCH 64 /* pages per pgt_unmap call */

struct vm_released {
	uint64_t pa;
	uint64_t offset;
	uintptr_t va;
	bool anon;
	bool dirty;
};

struct vm_unmap_ctx {
	struct vm_area *area;
	unsigned n;
	struct vm_released r[VM_UNMAP_BATCH];
};

static uint64_t area_offset(const struct vm_area *a, uintptr_t va)
{
	return a->offset + (va - a->start);
}

int vm_space_init(struct vm_space *vs, struct pgtable *pt, uintptr_t base, size_t size,
		  const struct vm_frame_ops *frames, unsigned extra_prot)
{
	if ((base & PAGE_MASK) || (size & PAGE_MASK) || !size || !pt || !frames ||
	    (extra_prot & ~MMU_GLOBAL))
		return -EINVAL;
	memset(vs, 0, sizeof(*vs));
	mutex_init(&vs->lock, "vm_space");
	vs->pt = pt;
	vs->base = base;
	vs->end = base + size;
	vs->frames = frames;
	vs->extra_prot = extra_prot;
	list_init(&vs->areas);
	return 0;
}

static struct vm_area *area_find(struct vm_space *vs, uintptr_t va)
{
	list_for_each(it, &vs->areas)
	{
		struct vm_area *a = list_entry(it, struct vm_area, link);
		if (va < a->start)
			return NULL;
		if (va < a->end)
			return a;
	}
	return NULL;
}

/* Insert a keeping the list sorted. */
static void area_insert(struct vm_space *vs, struct vm_area *a)
{
	struct list_node *before = &vs->areas;
	list_for_each(it, &vs->areas)
	{
		if (list_entry(it, struct vm_area, link)->start > a->start) {
			before = it;
			break;
		}
	}
	list_insert_between(&a->link, before->prev, before);
}

/* Is [start, end) free of areas? */
static bool range_free(struct vm_space *vs, uintptr_t start, uintptr_t end)
{
	list_for_each(it, &vs->areas)
	{
		struct vm_area *a = list_entry(it, struct vm_area, link);
		if (a->start < end && start < a->end)
			return false;
	}
	return true;
}

/* First fit for len bytes, leaving an unmapped guard page after each area
 * so that running off the end of a mapping faults. 0 when full. */
static uintptr_t va_find(struct vm_space *vs, size_t len)
{
	uintptr_t at = vs->base;
	list_for_each(it, &vs->areas)
	{
		struct vm_area *a = list_entry(it, struct vm_area, link);
		if (a->start >= at && a->start - at >= len + PAGE_SIZE)
			return at;
		if (a->end + PAGE_SIZE > at)
			at = a->end + PAGE_SIZE;
	}
	return at <= vs->end && vs->end - at >= len ? at : 0;
}

/* Split a at `at` (strictly inside): a keeps [start, at), a new area gets
 * [at, end). */
static int area_split(struct vm_area *a, uintptr_t at)
{
	struct vm_area *b = kmalloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	*b = *a;
	b->start = at;
	b->offset = area_offset(a, at);
	a->end = at;
	list_insert_between(&b->link, &a->link, a->link.next);
	if (b->pager && b->pager->area_dup)
		b->pager->area_dup(b);
	return 0;
}

/* Make start and end area boundaries (where they fall inside areas). */
static int range_split(struct vm_space *vs, uintptr_t start, uintptr_t end)
{
	struct vm_area *a = area_find(vs, start);
	if (a && a->start < start) {
		int e = area_split(a, start);
		if (e)
			return e;
	}
	a = area_find(vs, end - 1);
	if (a && end < a->end)
		return area_split(a, end);
	return 0;
}

static void release_batch(struct vm_space *vs, struct vm_unmap_ctx *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (c->r[i].anon) {
			vs->frames->free(c->r[i].pa, vs->frames->arg);
			continue;
		}
		if (c->area->pager->unmap)
			c->area->pager->unmap(c->area, c->r[i].va, c->r[i].pa, c->r[i].dirty);
		c->area->pager->put_page(c->area, c->r[i].offset, c->r[i].pa);
	}
	vs->resident -= c->n;
	c->n = 0;
}

static void unmap_leaf(uintptr_t va, pte_t old, int level, void *arg)
{
	struct vm_unmap_ctx *c = arg;
	(void)level;
	c->r[c->n++] = (struct vm_released){
	    .pa = pte_pa(old, MMU_LEAF_LEVEL),
	    .offset = area_offset(c->area, va),
	    .va = va,
	    .anon = (pte_prot(old) & MMU_ANON) != 0,
	    .dirty = pte_dirty(old),
	};
}

/* Unmap the pages of [start, end) inside area a and release them. */
static void area_unmap_pages(struct vm_space *vs, struct vm_area *a, uintptr_t start, uintptr_t end)
{
	struct vm_unmap_ctx c = {.area = a};
	for (uintptr_t p = start; p < end; p += VM_UNMAP_BATCH * PAGE_SIZE) {
		size_t n =
		    end - p < VM_UNMAP_BATCH * PAGE_SIZE ? end - p : VM_UNMAP_BATCH * PAGE_SIZE;
		pgt_unmap(vs->pt, p, n, PGT_KEEP_TABLES, unmap_leaf, &c);
		release_batch(vs, &c);
	}
}

/* Unmap every page of a, tell the pager the area is gone, free it. */
static void area_free(struct vm_space *vs, struct vm_area *a)
{
	area_unmap_pages(vs, a, a->start, a->end);
	list_del(&a->link);
	if (a->pager && a->pager->area_close)
		a->pager->area_close(a);
	kfree(a);
}

int vm_mmap(struct vm_space *vs, void *addr, size_t len, unsigned prot, unsigned flags,
	    const struct vm_pager_ops *pager, void *obj, uint64_t offset, void **out)
{
	bool anon = flags & VM_MAP_ANON;
	unsigned share = flags & (VM_MAP_PRIVATE | VM_MAP_SHARED);
	if (!len || len > vs->end - vs->base || (prot & ~MMU_ACCESS_MASK) || !(prot & MMU_READ) ||
	    (flags & ~(VM_MAP_PRIVATE | VM_MAP_SHARED | VM_MAP_ANON | VM_MAP_FIXED)) ||
	    (share != VM_MAP_PRIVATE && share != VM_MAP_SHARED) || (offset & PAGE_MASK) ||
	    (anon ? pager != NULL : (!pager || !pager->fault || !pager->put_page)) || !out)
		return -EINVAL;
	len = (len + PAGE_MASK) & ~(size_t)PAGE_MASK;
	if (!anon && offset + len < offset)
		return -EINVAL;
	uintptr_t at = (uintptr_t)addr;
	if ((flags & VM_MAP_FIXED) &&
	    ((at & PAGE_MASK) || at < vs->base || at > vs->end || vs->end - at < len))
		return -EINVAL;
	struct vm_area *a = kzalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	mutex_lock(&vs->lock);
	int rc = 0;
	if (flags & VM_MAP_FIXED) {
		if (!range_free(vs, at, at + len))
			rc = -EEXIST;
	} else if ((at = va_find(vs, len)) == 0) {
		rc = -ENOMEM;
	}
	if (rc == 0) {
		a->space = vs;
		a->start = at;
		a->end = at + len;
		a->prot = prot;
		a->flags = flags & ~VM_MAP_FIXED;
		a->pager = anon ? NULL : pager;
		a->obj = anon ? NULL : obj;
		a->offset = anon ? 0 : offset;
		area_insert(vs, a);
		*out = (void *)at;
	}
	mutex_unlock(&vs->lock);
	if (rc)
		kfree(a);
	return rc;
}

static bool range_ok(struct vm_space *vs, uintptr_t start, size_t len)
{
	return len && !(start & PAGE_MASK) && start >= vs->base && start < vs->end &&
	       vs->end - start >= len;
}

int vm_munmap(struct vm_space *vs, void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr;
	len = (len + PAGE_MASK) & ~(size_t)PAGE_MASK;
	if (!range_ok(vs, start, len))
		return -EINVAL;
	uintptr_t end = start + len;
	mutex_lock(&vs->lock);
	int rc = range_split(vs, start, end);
	if (rc == 0) {
		list_for_each_safe(it, &vs->areas)
		{
			struct vm_area *a = list_entry(it, struct vm_area, link);
			if (a->start >= end)
				break;
			if (a->end <= start)
				continue;
			area_free(vs, a);
		}
	}
	mutex_unlock(&vs->lock);
	return rc;
}

void vm_space_destroy(struct vm_space *vs)
{
	mutex_lock(&vs->lock);
	list_for_each_safe(it, &vs->areas)
	{
		struct vm_area *a = list_entry(it, struct vm_area, link);
		area_free(vs, a);
	}
	mutex_unlock(&vs->lock);
}

/* Does every page of [start, end) belong to an area? */
static bool range_covered(struct vm_space *vs, uintptr_t start, uintptr_t end)
{
	uintptr_t at = start;
	list_for_each(it, &vs->areas)
	{
		struct vm_area *a = list_entry(it, struct vm_area, link);
		if (a->end <= at)
			continue;
		if (a->start > at)
			return false;
		at = a->end;
		if (at >= end)
			return true;
	}
	return at >= end;
}

/* The rights a present leaf of area a gets under the area's protection:
 * a pager's page stays read-only in a private mapping (copy on write) and
 * in a shared one until it is written (write notification). */
static unsigned leaf_access(const struct vm_area *a, unsigned leaf_prot)
{
	unsigned access = a->prot;
	if (!(leaf_prot & MMU_ANON) && ((a->flags & VM_MAP_PRIVATE) || !(leaf_prot & MMU_WRITE)))
		access &= ~MMU_WRITE;
	return access;
}

int vm_mprotect(struct vm_space *vs, void *addr, size_t len, unsigned prot)
{
	uintptr_t start = (uintptr_t)addr;
	len = (len + PAGE_MASK) & ~(size_t)PAGE_MASK;
	if (!range_ok(vs, start, len) || (prot & ~MMU_ACCESS_MASK) || !(prot & MMU_READ))
		return -EINVAL;
	uintptr_t end = start + len;
	mutex_lock(&vs->lock);
	int rc = range_covered(vs, start, end) ? range_split(vs, start, end) : -ENOMEM;
	if (rc == 0) {
		list_for_each(it, &vs->areas)
		{
			struct vm_area *a = list_entry(it, struct vm_area, link);
			if (a->start >= end)
				break;
			if (a->end <= start)
				continue;
			a->prot = prot;
			for (uintptr_t p = a->start; p < a->end; p += PAGE_SIZE) {
				unsigned lp;
				if (!pgt_lookup(vs->pt, p, NULL, &lp))
					continue;
				unsigned want = leaf_access(a, lp);
				if (want != (lp & MMU_ACCESS_MASK))
					pgt_protect(vs->pt, p, PAGE_SIZE, want);
			}
		}
	}
	mutex_unlock(&vs->lock);
	return rc;
}

int vm_msync(struct vm_space *vs, void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr;
	len = (len + PAGE_MASK) & ~(size_t)PAGE_MASK;
	if (!range_ok(vs, start, len))
		return -EINVAL;
	uintptr_t end = start + len;
	mutex_lock(&vs->lock);
	int rc = range_covered(vs, start, end) ? 0 : -ENOMEM;
	list_for_each(it, &vs->areas)
	{
		struct vm_area *a = list_entry(it, struct vm_area, link);
		if (rc || a->start >= end)
			break;
		if (a->end <= start || !(a->flags & VM_MAP_SHARED) || !a->pager)
			continue;
		uintptr_t s = a->start > start ? a->start : start;
		uintptr_t e = a->end < end ? a->end : end;
		for (uintptr_t p = s; p < e; p += PAGE_SIZE) {
			uint64_t pa;
			unsigned lp;
			/* Written: still writable, or made read-only by
			 * mprotect since (the leaf keeps its dirty state). */
			if (!pgt_lookup(vs->pt, p, &pa, &lp) || !(lp & (MMU_WRITE | MMU_DIRTY)))
				continue;
			/* Read-only first (flushed), then write back: a
			 * write from now on faults and dirties it again. */
			if (lp & MMU_WRITE)
				pgt_protect(vs->pt, p, PAGE_SIZE,
					    lp & MMU_ACCESS_MASK & ~MMU_WRITE);
			pgt_clear_dirty(vs->pt, p);
			if (a->pager->writeback) {
				int e2 = a->pager->writeback(a, area_offset(a, p), pa);
				if (e2 && !rc)
					rc = e2;
			}
		}
	}
	mutex_unlock(&vs->lock);
	return rc;
}

/* Map frame pa at page p of area a with the given rights, accessed, and
 * dirty when the access was a write. */
static int map_page(struct vm_space *vs, uintptr_t p, uint64_t pa, unsigned access, bool anon,
		    bool dirty)
{
	unsigned prot = access | vs->extra_prot | (anon ? MMU_ANON : 0) | MMU_ACCESSED |
			(dirty ? MMU_DIRTY : 0);
	int e = pgt_map(vs->pt, p, pa, PAGE_SIZE, prot, 0);
	if (e == 0)
		vs->resident++;
	return e;
}

/* A private copy of the page at pa (NULL source: zeroes). */
static uint64_t frame_copy(struct vm_space *vs, const uint64_t *src_pa)
{
	uint64_t pa = vs->frames->alloc(vs->frames->arg);
	if (!pa)
		return 0;
	if (src_pa)
		memcpy(phys_to_virt(pa), phys_to_virt(*src_pa), PAGE_SIZE);
	else
		memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

/* A page not mapped yet. */
static int fault_missing(struct vm_space *vs, struct vm_area *a, uintptr_t p, bool write)
{
	if (!a->pager) {
		uint64_t pa = frame_copy(vs, NULL);
		if (!pa)
			return -ENOMEM;
		int e = map_page(vs, p, pa, a->prot, true, write);
		if (e)
			vs->frames->free(pa, vs->frames->arg);
		else
			vs->st.demand_zero++;
		return e;
	}
	uint64_t off = area_offset(a, p), pa;
	bool shared = a->flags & VM_MAP_SHARED;
	int e = a->pager->fault(a, off, write && shared, &pa);
	if (e)
		return e;
	if (write && !shared) {
		uint64_t copy = frame_copy(vs, &pa);
		a->pager->put_page(a, off, pa);
		if (!copy)
			return -ENOMEM;
		e = map_page(vs, p, copy, a->prot, true, true);
		if (e)
			vs->frames->free(copy, vs->frames->arg);
		else
			vs->st.cow++;
		return e;
	}
	unsigned access = write ? a->prot : a->prot & ~MMU_WRITE;
	e = map_page(vs, p, pa, access, false, write);
	if (e) {
		a->pager->put_page(a, off, pa);
		return e;
	}
	if (a->pager->map && (e = a->pager->map(a, p, pa)) != 0) {
		/* The pager refused (its page went meanwhile): no unmap
		 * call, the page was never in its reverse map. */
		pgt_unmap(vs->pt, p, PAGE_SIZE, PGT_KEEP_TABLES, NULL, NULL);
		vs->resident--;
		a->pager->put_page(a, off, pa);
		return e;
	}
	vs->st.file++;
	return 0;
}

/* A write to a present page that its leaf does not allow yet. */
static int fault_write_protected(struct vm_space *vs, struct vm_area *a, uintptr_t p, uint64_t pa,
				 unsigned lp)
{
	uint64_t off = area_offset(a, p);
	if ((lp & MMU_ANON) || (a->flags & VM_MAP_SHARED)) {
		if (!(lp & MMU_ANON)) {
			/* Tell the pager its page is being written. */
			uint64_t pa2;
			int e = a->pager->fault(a, off, true, &pa2);
			if (e)
				return e;
			a->pager->put_page(a, off, pa2);
			vs->st.write_notify++;
		} else {
			vs->st.spurious++;
		}
		pgt_protect(vs->pt, p, PAGE_SIZE, a->prot);
		pgt_set_accessed(vs->pt, p, true);
		return 0;
	}
	/* Private mapping of a pager's page: copy on write. */
	uint64_t copy = frame_copy(vs, &pa);
	if (!copy)
		return -ENOMEM;
	area_unmap_pages(vs, a, p, p + PAGE_SIZE);
	int e = map_page(vs, p, copy, a->prot, true, true);
	if (e)
		vs->frames->free(copy, vs->frames->arg);
	else
		vs->st.cow++;
	return e;
}

static int vm_fault_once(struct vm_space *vs, uintptr_t va, unsigned access, void (**unblock)(void))
{
	bool write = access == VM_ACCESS_WRITE;
	uintptr_t p = va & ~(uintptr_t)PAGE_MASK;
	mutex_lock(&vs->lock);
	struct vm_area *a = area_find(vs, va);
	int rc;
	if (!a) {
		vs->st.no_area++;
		rc = -EFAULT;
	} else if ((write && !(a->prot & MMU_WRITE)) ||
		   (access == VM_ACCESS_EXEC && !(a->prot & MMU_EXEC))) {
		vs->st.protection++;
		rc = -EACCES;
	} else {
		uint64_t pa;
		unsigned lp;
		if (!pgt_lookup(vs->pt, p, &pa, &lp)) {
			rc = fault_missing(vs, a, p, write);
		} else if (write && !(lp & MMU_WRITE)) {
			rc = fault_write_protected(vs, a, p, pa & ~(uint64_t)PAGE_MASK, lp);
		} else {
			/* Already allowed: another thread won the race, or
			 * the accessed/dirty state was all that was missing. */
			pgt_set_accessed(vs->pt, p, write);
			vs->st.spurious++;
			rc = 0;
		}
		if (rc == -EAGAIN)
			*unblock = a->pager ? a->pager->unblock : NULL;
	}
	mutex_unlock(&vs->lock);
	return rc;
}

/* A fault short of memory (a page table, the pager's page) reclaims with
 * no space locked, since eviction unmaps pages of this space too (a
 * mapping of a file larger than memory: its own pages are all there is
 * to give back), and tries again, asking twice as much each time. */
#define VM_NOMEM_TRIES	 8
#define VM_NOMEM_RECLAIM ((size_t)64 * PAGE_SIZE)

int vm_fault(struct vm_space *vs, uintptr_t va, unsigned access)
{
	int nomem = 0;
	for (int tries = 0;; tries++) {
		void (*unblock)(void) = NULL;
		int rc = vm_fault_once(vs, va, access, &unblock);
		if (rc == -ENOMEM && nomem < VM_NOMEM_TRIES) {
			reclaim_direct(VM_NOMEM_RECLAIM << nomem++);
			tries--;
			continue;
		}
		if (rc != -EAGAIN)
			return rc;
		/* The pager's work runs with no space locked (it may lock
		 * this space and others, one at a time); then try again. A
		 * pager with nothing to do (its page went while the fault
		 * mapped it) just asks for another try. */
		if (tries >= 64)
			return -EBUSY;
		if (unblock)
			unblock();
		else
			thread_yield();
	}
}

void vm_space_stats(struct vm_space *vs, struct vm_fault_stats *st, uint64_t *resident)
{
	mutex_lock(&vs->lock);
	*st = vs->st;
	if (resident)
		*resident = vs->resident;
	mutex_unlock(&vs->lock);
}

int vm_unmap_pager_page(struct vm_space *vs, uintptr_t va, uint64_t pa)
{
	uintptr_t p = va & ~(uintptr_t)PAGE_MASK;
	int rc = -ENOENT;
	mutex_lock(&vs->lock);
	struct vm_area *a = area_find(vs, p);
	uint64_t lpa;
	unsigned lp;
	if (a && a->pager && pgt_lookup(vs->pt, p, &lpa, &lp) && !(lp & MMU_ANON) &&
	    (lpa & ~(uint64_t)PAGE_MASK) == pa) {
		area_unmap_pages(vs, a, p, p + PAGE_SIZE);
		rc = 0;
	}
	mutex_unlock(&vs->lock);
	return rc;
}
