/*
 * Cached pages: how a page is found or made, its references and states.
 *
 * Finding. pc_page_lookup looks the index up; a miss asks the owner to
 * lend a page it has (no copy), and fills a page of the cache's own when
 * it will not; the new page goes into the index, and onto the eviction
 * list unless it is pinned. Everything happens under obj->lock, fill
 * included, so two faults on one missing page fill it once.
 *
 * References. refs counts the leaves that map the page and the readers
 * and writers copying it with obj->lock dropped; the index's own hold is
 * not counted. A page leaves the index by pc_page_remove: freed at once
 * when refs is 0, otherwise parked on obj->removed and freed by the last
 * pc_page_put. Freeing a lent page hands it back with unlend, exactly once.
 *
 * States. PC_PG_DIRTY is set by writes (pc_write, write faults through
 * shared mappings) on owners that write back, and cleared by
 * pc_page_writeback, which sets PC_PG_WRITEBACK while the owner writes.
 * Each transition updates the global totals (/proc/pagecache).
 */
#include "pc_impl.h"

#include <errno.h>
#include <karst/arch.h>
#include <karst/kmem.h>
#include <string.h>

struct pc_counters pc_ctr;
struct mutex pc_map_lock, pc_lru_lock;
struct list_node pc_lru = LIST_HEAD_INIT(pc_lru);
struct list_node pc_mapped = LIST_HEAD_INIT(pc_mapped);
static atomic_int pc_globals_state; /* 0 none, 1 being set up, 2 ready */

void pc_globals_init(void)
{
	int expected = 0;
	if (atomic_load(&pc_globals_state) == 2)
		return;
	if (atomic_compare_exchange_strong(&pc_globals_state, &expected, 1)) {
		mutex_init(&pc_map_lock, "pc_map");
		mutex_init(&pc_lru_lock, "pc_lru");
		atomic_store(&pc_globals_state, 2);
	}
	while (atomic_load(&pc_globals_state) != 2)
		;
}

/* Totals that follow a flag: dirty, writeback. */
static void count_flags(unsigned f, int64_t d)
{
	if (f & PC_PG_DIRTY)
		PC_ADD(dirty, d);
	if (f & PC_PG_WRITEBACK)
		PC_ADD(writeback, d);
}

void pc_page_set(struct pc_page *pg, unsigned f)
{
	unsigned old = atomic_fetch_or_explicit(&pg->flags, f, memory_order_relaxed);
	count_flags(f & ~old, 1);
}

void pc_page_clear(struct pc_page *pg, unsigned f)
{
	unsigned old = atomic_fetch_and_explicit(&pg->flags, ~f, memory_order_relaxed);
	count_flags(f & old, -1);
}

bool pc_page_evictable(struct pc_page *pg)
{
	return !(pc_flags(pg) & (PC_PG_PINNED | PC_PG_REMOVED));
}

static void lru_add(struct pc_page *pg)
{
	if (!pc_page_evictable(pg))
		return;
	mutex_lock(&pc_lru_lock);
	list_add_tail(&pc_lru, &pg->lru);
	mutex_unlock(&pc_lru_lock);
}

/* The frame goes back where it came from. */
static void page_free(struct pc_page *pg)
{
	struct pc_object *obj = pg->obj;
	unsigned f = pc_flags(pg);
	count_flags(f, -1);
	if (f & PC_PG_LENT) {
		PC_ADD(lent, -1);
		if (obj->owner->ops->unlend)
			obj->owner->ops->unlend(obj->arg, pg->index, &pg->lent);
	} else {
		kpage_free(pg->data, 1);
	}
	if (f & PC_PG_PINNED)
		PC_ADD(pinned, -1);
	PC_ADD(cached, -1);
	PC_OWN_ADD(obj->owner, pages, -1);
	kfree(pg);
}

void pc_page_get(struct pc_page *pg)
{
	pg->refs++;
}

void pc_page_put(struct pc_page *pg)
{
	if (--pg->refs == 0 && (pc_flags(pg) & PC_PG_REMOVED)) {
		list_del(&pg->rlink);
		page_free(pg);
	}
}

void pc_page_remove(struct pc_page *pg, bool shadow)
{
	struct pc_object *obj = pg->obj;
	void **slot = pc_index_slot(obj, pg->index, false, NULL);
	if (slot && *slot == pg)
		*slot = shadow ? PC_SHADOW : NULL;
	obj->npages--;
	if (pc_page_evictable(pg)) {
		mutex_lock(&pc_lru_lock);
		list_del(&pg->lru);
		mutex_unlock(&pc_lru_lock);
	}
	pc_page_set(pg, PC_PG_REMOVED);
	if (pg->refs == 0)
		page_free(pg);
	else
		list_add_tail(&obj->removed, &pg->rlink);
}

struct pc_page *pc_page_find(struct pc_object *obj, uint64_t index, uint64_t pa)
{
	void *e = pc_index_get(obj, index);
	if (e && !pc_is_shadow(e) && ((struct pc_page *)e)->pa == pa)
		return e;
	list_for_each(it, &obj->removed)
	{
		struct pc_page *pg = list_entry(it, struct pc_page, rlink);
		if (pg->index == index && pg->pa == pa)
			return pg;
	}
	return NULL;
}

/* Zero what lies past the end of the file in the page at index. */
static void zero_past_eof(struct pc_object *obj, uint64_t index, void *data)
{
	uint64_t start = index << PAGE_SHIFT;
	if (obj->size >= start + PAGE_SIZE)
		return;
	size_t keep = obj->size > start ? (size_t)(obj->size - start) : 0;
	memset((char *)data + keep, 0, PAGE_SIZE - keep);
}

/* A page of the cache's own for index, filled from the owner (or zeroed
 * when it lies wholly past the end of the file). */
static int make_own(struct pc_object *obj, uint64_t index, struct pc_page *pg, bool zero)
{
	void *data = kpage_alloc(1);
	if (!data)
		return -ENOMEM;
	if (zero || (index << PAGE_SHIFT) >= obj->size) {
		memset(data, 0, PAGE_SIZE);
	} else {
		int e = obj->owner->ops->fill(obj->arg, index, data);
		PC_OWN_ADD(obj->owner, fills, 1);
		PC_ADD(fills, 1);
		if (e) {
			PC_OWN_ADD(obj->owner, errors, 1);
			PC_ADD(fill_errors, 1);
			kpage_free(data, 1);
			return e < 0 ? e : -EIO;
		}
		zero_past_eof(obj, index, data);
	}
	pg->data = data;
	pg->pa = virt_to_phys(data);
	atomic_store_explicit(&pg->flags, PC_PG_WRITABLE, memory_order_relaxed);
	return 0;
}

static int make_page(struct pc_object *obj, uint64_t index, bool write, struct pc_page **out)
{
	const struct pc_owner_ops *ops = obj->owner->ops;
	int err = 0;
	void **slot = pc_index_slot(obj, index, true, &err);
	if (!slot)
		return err;
	struct pc_page *pg = kzalloc(sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	pg->obj = obj;
	pg->index = index;
	int e = ops->lend ? ops->lend(obj->arg, index, write, &pg->lent) : PC_NO_LEND;
	if (e == 0) {
		pg->pa = pg->lent.pa;
		pg->data = phys_to_virt(pg->lent.pa);
		unsigned f = PC_PG_LENT;
		if (pg->lent.flags & PC_LENT_WRITABLE)
			f |= PC_PG_WRITABLE;
		if (pg->lent.flags & PC_LENT_PINNED)
			f |= PC_PG_PINNED;
		atomic_store_explicit(&pg->flags, f, memory_order_relaxed);
		PC_OWN_ADD(obj->owner, lends, 1);
		PC_ADD(lends, 1);
		PC_ADD(lent, 1);
	} else if (e == PC_NO_LEND && ops->fill) {
		e = make_own(obj, index, pg, false);
	} else if (e == PC_NO_LEND) {
		e = -EIO; /* nothing lent and nothing to fill from */
	}
	if (e) {
		if (e != PC_NO_LEND)
			PC_OWN_ADD(obj->owner, errors, 1);
		kfree(pg);
		return e;
	}
	if (obj->owner->flags & PC_OWNER_PINNED)
		pc_page_set(pg, PC_PG_PINNED);
	if (pc_flags(pg) & PC_PG_PINNED)
		PC_ADD(pinned, 1);
	if (pc_is_shadow(*slot))
		PC_ADD(refaults, 1);
	*slot = pg;
	obj->npages++;
	PC_OWN_ADD(obj->owner, pages, 1);
	PC_ADD(cached, 1);
	lru_add(pg);
	*out = pg;
	return 0;
}

/* Replace a read-only lent page that is about to be written by a copy of
 * the cache's own (nothing maps it: the caller checked). */
static int break_lend(struct pc_object *obj, struct pc_page **pgp)
{
	struct pc_page *old = *pgp;
	if (!obj->owner->ops->writeback)
		return -EROFS;
	struct pc_page *pg = kzalloc(sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	pg->obj = obj;
	pg->index = old->index;
	int e = make_own(obj, old->index, pg, true);
	if (e) {
		kfree(pg);
		return e;
	}
	memcpy(pg->data, old->data, PAGE_SIZE);
	PC_ADD(lends_broken, 1);
	pc_page_remove(old, false);
	void **slot = pc_index_slot(obj, pg->index, false, NULL);
	*slot = pg;
	obj->npages++;
	PC_OWN_ADD(obj->owner, pages, 1);
	PC_ADD(cached, 1);
	lru_add(pg);
	*pgp = pg;
	return 0;
}

int pc_page_lookup(struct pc_object *obj, uint64_t index, bool write, bool make_holes,
		   struct pc_page **out)
{
	void *e = pc_index_get(obj, index);
	*out = NULL;
	if (e && !pc_is_shadow(e)) {
		struct pc_page *pg = e;
		PC_ADD(hits, 1);
		pc_page_set(pg, PC_PG_ACCESSED);
		if (write && !(pc_flags(pg) & PC_PG_WRITABLE)) {
			if (pg->refs)
				return -EBUSY;
			int err = break_lend(obj, &pg);
			if (err)
				return err;
		}
		*out = pg;
		return 0;
	}
	PC_ADD(misses, 1);
	if ((obj->owner->flags & PC_OWNER_STORE) && !make_holes)
		return 0; /* a hole: zeros */
	return make_page(obj, index, write, out);
}

int pc_page_writeback(struct pc_page *pg)
{
	struct pc_object *obj = pg->obj;
	const struct pc_owner_ops *ops = obj->owner->ops;
	if (!(pc_flags(pg) & PC_PG_DIRTY) || !ops->writeback)
		return 0;
	uint64_t start = pg->index << PAGE_SHIFT;
	if (start >= obj->size) {
		pc_page_clear(pg, PC_PG_DIRTY); /* past EOF: nothing to keep */
		return 0;
	}
	size_t len = obj->size - start < PAGE_SIZE ? (size_t)(obj->size - start) : PAGE_SIZE;
	/* Clean before writing: a write that lands during the writeback
	 * dirties the page again and is not lost. */
	pc_page_clear(pg, PC_PG_DIRTY);
	pc_page_set(pg, PC_PG_WRITEBACK);
	int e = ops->writeback(obj->arg, pg->index, pg->data, len);
	pc_page_clear(pg, PC_PG_WRITEBACK);
	PC_OWN_ADD(obj->owner, writebacks, 1);
	PC_ADD(writebacks, 1);
	if (e) {
		PC_OWN_ADD(obj->owner, errors, 1);
		pc_page_set(pg, PC_PG_DIRTY); /* still newer than the store */
	}
	return e;
}
