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
 *             refused (-EFAULT) when the page was removed meanwhile
 *             (truncate raced with the fault)
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
#include <vfs.h>

static struct pc_object *area_obj(struct vm_area *a)
{
	return ((struct pc_map *)a->obj)->obj;
}

static uint64_t pc_index_of(uint64_t offset)
{
	return offset >> PAGE_SHIFT;
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
		/* A read-only lent page, mapped, being written: not yet
		 * supported (the lend must be broken in every mapping). */
		e = -EACCES;
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
		e = -EFAULT;
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
	struct pc_map *m = a->obj;
	if (atomic_fetch_sub(&m->refs, 1) == 1) {
		if (m->vp)
			vnode_rele(m->vp);
		kfree(m);
	}
}

const struct vm_pager_ops pc_pager_ops = {
    .fault = pager_fault,
    .put_page = pager_put,
    .writeback = pager_writeback,
    .map = pager_map,
    .unmap = pager_unmap,
    .area_dup = pager_area_dup,
    .area_close = pager_area_close,
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
