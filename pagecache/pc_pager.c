/*
 * The page cache as the VM's pager, and the reverse map.
 *
 * A file mapping is a VM area whose obj is a struct pc_map (the object and
 * the vnode the mapping keeps alive). The VM calls:
 *   fault     the page at an offset: looked up or made (lent or filled)
 *             under obj->lock, referenced for the leaf about to map it;
 *             past the end of the file -EFAULT; a failed fill its error
 *             (EIO), so the fault is reported, never a silent zero page
 *   map       the leaf is installed: the page gains a reverse-map entry
 *             (space, va) and joins the mapped list the scanner walks;
 *             refused when the page was removed meanwhile: -EFAULT
 *             past the end (truncate raced with the fault), -EAGAIN
 *             inside the file (invalidated or evicted: the VM retries)
 *   unmap     the leaf is gone (munmap, truncate, eviction); its dirty
 *             state moves into the page
 *   put_page  the leaf's reference goes
 *   writeback msync of a page written through a shared mapping
 *
 * One page mapped in several areas (or twice in one) is one struct
 * pc_page with one rmap entry per leaf. The rmap is walked without the
 * space's lock: by the scanner (pgt_clear_accessed) and by fsync
 * (pgt_clear_dirty), which the page-table walker allows lock-free because
 * the VM keeps emptied tables; an entry is removed by the unmap hook,
 * which the VM calls with the space locked after the leaf is gone, so
 * under pc_map_lock an entry always names the page's leaf or an empty
 * one, never another page's. Removing mappings needs the space's lock
 * (vm_unmap_pager_page), which comes before obj->lock: callers drop the
 * object's lock first and hold a page reference instead.
 */
#include "pc_impl.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/thread.h>
#include <vfs.h>

static struct pc_object *area_obj(struct vm_area *a)
{
	return ((struct pc_map *)a->obj)->obj;
}

static uint64_t pc_index_of(uint64_t offset)
{
	return offset >> PAGE_SHIFT;
}

/*
 * Breaking a lend under a write fault. A write to a read-only lent page
 * (a cowfs ARC buffer) needs a copy of the cache's own, and every leaf
 * mapping the lent page must go first (with its TLB entries), in every
 * space. The fault runs with its space locked, and space locks come
 * before obj->lock and never nest, so the fault cannot do it: it queues
 * the page here (holding a page reference and a reference on the mapping,
 * which keeps the vnode and so the object alive) and returns -EAGAIN; the
 * VM drops the space's lock, calls pager_unblock, which unmaps the page
 * everywhere, and retries the fault, which then finds the page unmapped
 * and breaks the lend (pc_page_lookup's copy). Counted as lends_broken.
 */
struct pc_break {
	struct pc_break *next;
	struct pc_page *pg;
	struct pc_map *map;
};
static struct mutex pc_break_lock;
static struct pc_break *pc_breaks;
static _Atomic bool pc_break_ready;

static void break_init(void)
{
	static _Atomic int once;
	if (atomic_exchange(&once, 1) == 0) {
		mutex_init(&pc_break_lock, "pc_break");
		atomic_store(&pc_break_ready, true);
	}
	while (!atomic_load(&pc_break_ready))
		;
}

/* obj->lock held; pg is in the index. 0, or -ENOMEM. */
static int break_queue(struct vm_area *a, struct pc_page *pg)
{
	struct pc_break *b = kmalloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	break_init();
	pc_page_get(pg);
	b->pg = pg;
	b->map = a->obj;
	atomic_fetch_add(&b->map->refs, 1);
	mutex_lock(&pc_break_lock);
	b->next = pc_breaks;
	pc_breaks = b;
	mutex_unlock(&pc_break_lock);
	return 0;
}

static void map_release(struct pc_map *m)
{
	if (atomic_fetch_sub(&m->refs, 1) == 1) {
		if (m->vp)
			vnode_rele(m->vp);
		kfree(m);
	}
}

static void pager_unblock(void)
{
	break_init();
	mutex_lock(&pc_break_lock);
	struct pc_break *list = pc_breaks;
	pc_breaks = NULL;
	mutex_unlock(&pc_break_lock);
	while (list) {
		struct pc_break *b = list;
		list = b->next;
		struct pc_object *obj = b->pg->obj;
		/* Until only this reference is left: readers copying from
		 * the page (pc_read) hold one briefly, and other faults may
		 * map it again meanwhile; give them a turn. */
		for (int tries = 0; tries < 100; tries++) {
			pc_unmap_all(b->pg);
			mutex_lock(&obj->lock);
			bool idle = b->pg->refs == 1 || (pc_flags(b->pg) & PC_PG_REMOVED);
			mutex_unlock(&obj->lock);
			if (idle)
				break;
			thread_yield();
		}
		mutex_lock(&obj->lock);
		pc_page_put(b->pg);
		mutex_unlock(&obj->lock);
		map_release(b->map);
		kfree(b);
	}
}

static int pager_fault(struct vm_area *a, uint64_t offset, bool write, uint64_t *pa)
{
	struct pc_object *obj = area_obj(a);
	mutex_lock(&obj->lock);
	int e = 0;
	struct pc_page *pg = NULL;
	if (offset >= ((obj->size + PAGE_MASK) & ~(uint64_t)PAGE_MASK))
		e = -EFAULT;
	else
		e = pc_page_lookup(obj, pc_index_of(offset), write, true, &pg);
	if (e == 0) {
		pc_page_get(pg);
		if (write && obj->owner->ops->writeback)
			pc_page_set(pg, PC_PG_DIRTY);
		*pa = pg->pa;
	} else if (e == -EBUSY) {
		/* A read-only lent page, mapped (or being copied by a
		 * reader), being written: unmap it everywhere, then retry. */
		void *slot = pc_index_get(obj, pc_index_of(offset));
		e = -EACCES;
		if (slot && !pc_is_shadow(slot) && ((struct pc_map *)a->obj)->obj == obj)
			e = break_queue(a, slot) ? -ENOMEM : -EAGAIN;
	}
	mutex_unlock(&obj->lock);
	return e;
}

static void pager_put(struct vm_area *a, uint64_t offset, uint64_t pa)
{
	struct pc_object *obj = area_obj(a);
	mutex_lock(&obj->lock);
	struct pc_page *pg = pc_page_find(obj, pc_index_of(offset), pa);
	if (pg)
		pc_page_put(pg);
	mutex_unlock(&obj->lock);
}

static int pager_map(struct vm_area *a, uintptr_t va, uint64_t pa)
{
	struct pc_object *obj = area_obj(a);
	uint64_t offset = a->offset + (va - a->start);
	struct pc_rmap *r = kmalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	mutex_lock(&obj->lock);
	struct pc_page *pg = pc_page_find(obj, pc_index_of(offset), pa);
	int e = 0;
	if (!pg || (pc_flags(pg) & PC_PG_REMOVED)) {
		/* The page went meanwhile. Past the (new) end of the file the
		 * fault fails; inside it (invalidation by a host-side change,
		 * eviction) the VM tries again and finds the current page. */
		uint64_t end = (obj->size + PAGE_MASK) & ~(uint64_t)PAGE_MASK;
		e = offset < end ? -EAGAIN : -EFAULT;
		kfree(r);
	} else {
		r->vs = a->space;
		r->va = va;
		mutex_lock(&pc_map_lock);
		r->next = pg->rmap;
		pg->rmap = r;
		if (pg->mapcount++ == 0) {
			list_add_tail(&pc_mapped, &pg->mlink);
			PC_ADD(mapped, 1);
		}
		mutex_unlock(&pc_map_lock);
	}
	mutex_unlock(&obj->lock);
	return e;
}

static void pager_unmap(struct vm_area *a, uintptr_t va, uint64_t pa, bool dirty)
{
	struct pc_object *obj = area_obj(a);
	uint64_t offset = a->offset + (va - a->start);
	mutex_lock(&obj->lock);
	struct pc_page *pg = pc_page_find(obj, pc_index_of(offset), pa);
	if (pg) {
		struct pc_rmap *gone = NULL;
		mutex_lock(&pc_map_lock);
		for (struct pc_rmap **rp = &pg->rmap; *rp; rp = &(*rp)->next) {
			if ((*rp)->vs == a->space && (*rp)->va == va) {
				gone = *rp;
				*rp = gone->next;
				break;
			}
		}
		if (gone && --pg->mapcount == 0) {
			list_del(&pg->mlink);
			PC_ADD(mapped, -1);
		}
		mutex_unlock(&pc_map_lock);
		kfree(gone);
		if (dirty && obj->owner->ops->writeback && !(pc_flags(pg) & PC_PG_REMOVED))
			pc_page_set(pg, PC_PG_DIRTY);
	}
	mutex_unlock(&obj->lock);
}

static int pager_writeback(struct vm_area *a, uint64_t offset, uint64_t pa)
{
	struct pc_object *obj = area_obj(a);
	mutex_lock(&obj->lock);
	struct pc_page *pg = pc_page_find(obj, pc_index_of(offset), pa);
	int e = 0;
	if (pg && !(pc_flags(pg) & PC_PG_REMOVED) && obj->owner->ops->writeback) {
		pc_page_set(pg, PC_PG_DIRTY);
		e = pc_page_writeback(pg);
	}
	mutex_unlock(&obj->lock);
	return e;
}

static void pager_area_dup(struct vm_area *a)
{
	struct pc_map *m = a->obj;
	atomic_fetch_add(&m->refs, 1);
}

static void pager_area_close(struct vm_area *a)
{
	map_release(a->obj);
}

const struct vm_pager_ops pc_pager_ops = {
    .fault = pager_fault,
    .put_page = pager_put,
    .writeback = pager_writeback,
    .map = pager_map,
    .unmap = pager_unmap,
    .area_dup = pager_area_dup,
    .area_close = pager_area_close,
    .unblock = pager_unblock,
};

unsigned pc_rmap_snapshot(struct pc_page *pg, struct pc_rmap_ref *out, unsigned max)
{
	unsigned n = 0;
	mutex_lock(&pc_map_lock);
	for (struct pc_rmap *r = pg->rmap; r; r = r->next, n++)
		if (n < max)
			out[n] = (struct pc_rmap_ref){.vs = r->vs, .va = r->va};
	mutex_unlock(&pc_map_lock);
	return n;
}

void pc_rmap_harvest_dirty(struct pc_page *pg)
{
	bool dirty = false;
	mutex_lock(&pc_map_lock);
	for (struct pc_rmap *r = pg->rmap; r; r = r->next)
		if (pgt_clear_dirty(r->vs->pt, r->va))
			dirty = true;
	mutex_unlock(&pc_map_lock);
	if (dirty && pg->obj->owner->ops->writeback)
		pc_page_set(pg, PC_PG_DIRTY);
}

void pc_unmap_all(struct pc_page *pg)
{
	struct pc_rmap_ref refs[8];
	unsigned n, tries = 0;
	/* Each round removes what it saw; mappings made meanwhile (the
	 * page is still in the index) are taken by the next round. */
	while ((n = pc_rmap_snapshot(pg, refs, 8)) > 0 && tries++ < 64) {
		for (unsigned i = 0; i < n && i < 8; i++)
			(void)vm_unmap_pager_page(refs[i].vs, refs[i].va, pg->pa);
	}
}
