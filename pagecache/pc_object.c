/*
 * Owners and objects: how a filesystem joins the page cache, and the
 * whole-object operations (destroy, truncate, fsync).
 *
 * Truncate in three steps, because unmapping needs the space's lock, which
 * comes before obj->lock: (1) under obj->lock the size shrinks, so no new
 * fault maps a page past the end (the pager answers EFAULT, and a fault
 * already between its lookup and its map is refused by the map hook
 * because its page is removed in step 3); (2) with obj->lock dropped,
 * every mapping of a page past the end is removed through the reverse map
 * (the VM flushes the TLB and puts the pages back); (3) under obj->lock
 * the pages past the end leave the index and the tail of the last page is
 * zeroed.
 */
#include "pc_impl.h"

#include <errno.h>
#include <karst/kmem.h>
#include <string.h>

static struct list_node pc_owners = LIST_HEAD_INIT(pc_owners);

int pc_owner_register(struct pc_owner *ow)
{
	pc_globals_init();
	if (!ow || !ow->name || !ow->ops || (!ow->ops->lend && !ow->ops->fill) ||
	    (!ow->ops->writeback && !(ow->flags & PC_OWNER_PINNED)) ||
	    !ow->ops->read_hold != !ow->ops->read_release)
		return -EINVAL;
	bool start = false;
	mutex_lock(&pc_lru_lock);
	if (!ow->link.next || !list_linked(&ow->link)) {
		list_add_tail(&pc_owners, &ow->link);
		start = !(ow->flags & PC_OWNER_PINNED);
	}
	mutex_unlock(&pc_lru_lock);
	if (start)
		pc_scanner_autostart();
	return 0;
}

void pc_owner_unregister(struct pc_owner *ow)
{
	mutex_lock(&pc_lru_lock);
	if (ow->link.next && list_linked(&ow->link))
		list_del(&ow->link);
	mutex_unlock(&pc_lru_lock);
}

static bool owner_registered(struct pc_owner *ow)
{
	bool found = false;
	mutex_lock(&pc_lru_lock);
	list_for_each(it, &pc_owners)
	{
		if (it == &ow->link)
			found = true;
	}
	mutex_unlock(&pc_lru_lock);
	return found;
}

void pc_owner_stats(struct pc_owner *ow, struct pc_owner_stats *st)
{
	st->pages = __atomic_load_n(&ow->st.pages, __ATOMIC_RELAXED);
	st->fills = __atomic_load_n(&ow->st.fills, __ATOMIC_RELAXED);
	st->lends = __atomic_load_n(&ow->st.lends, __ATOMIC_RELAXED);
	st->writebacks = __atomic_load_n(&ow->st.writebacks, __ATOMIC_RELAXED);
	st->errors = __atomic_load_n(&ow->st.errors, __ATOMIC_RELAXED);
	st->accessed = __atomic_load_n(&ow->st.accessed, __ATOMIC_RELAXED);
}

int pc_object_init(struct pc_object *obj, struct pc_owner *ow, void *arg, uint64_t size)
{
	if (!obj || !ow || !owner_registered(ow))
		return -EINVAL;
	memset(obj, 0, sizeof(*obj));
	mutex_init(&obj->lock, "pc_object");
	obj->owner = ow;
	obj->arg = arg;
	obj->size = size;
	list_init(&obj->removed);
	return 0;
}

/* Remove every page at index >= first (obj->lock held); shadows go too. */
static void remove_from(struct pc_object *obj, uint64_t first)
{
	uint64_t i = first;
	void *e;
	while ((e = pc_index_next(obj, &i)) != NULL) {
		if (pc_is_shadow(e))
			*pc_index_slot(obj, i, false, NULL) = NULL;
		else
			pc_page_remove(e, false);
		if (++i == 0)
			break;
	}
}

void pc_object_destroy(struct pc_object *obj)
{
	mutex_lock(&obj->lock);
	uint64_t i = 0;
	void *e;
	while ((e = pc_index_next(obj, &i)) != NULL) {
		if (!pc_is_shadow(e))
			(void)pc_page_writeback(e);
		if (++i == 0)
			break;
	}
	remove_from(obj, 0);
	pc_index_free(obj);
	/* No mapping remains (a mapping holds the vnode, the vnode the
	 * node that holds this object), so nothing is left referenced. */
	mutex_unlock(&obj->lock);
	mutex_destroy(&obj->lock);
}

uint64_t pc_size(struct pc_object *obj)
{
	mutex_lock(&obj->lock);
	uint64_t s = obj->size;
	mutex_unlock(&obj->lock);
	return s;
}

uint64_t pc_npages(struct pc_object *obj)
{
	mutex_lock(&obj->lock);
	uint64_t n = obj->npages;
	mutex_unlock(&obj->lock);
	return n;
}

/* The next page at index >= *from that is mapped, referenced; NULL when
 * none. obj->lock held. */
static struct pc_page *next_mapped(struct pc_object *obj, uint64_t *from)
{
	void *e;
	while ((e = pc_index_next(obj, from)) != NULL) {
		struct pc_page *pg = e;
		if (!pc_is_shadow(e) && pc_rmap_snapshot(pg, NULL, 0) > 0) {
			pc_page_get(pg);
			return pg;
		}
		if (++*from == 0)
			break;
	}
	return NULL;
}

/* Unmap every mapped page from index first on. Called with obj->lock,
 * which it drops around each page's unmapping (the spaces' locks come
 * first); a page reference keeps the page meanwhile. */
static void unmap_from(struct pc_object *obj, uint64_t first)
{
	uint64_t i = first;
	struct pc_page *pg;
	while ((pg = next_mapped(obj, &i)) != NULL) {
		mutex_unlock(&obj->lock);
		pc_unmap_all(pg);
		mutex_lock(&obj->lock);
		pc_page_put(pg);
		if (++i == 0)
			break;
	}
}

int pc_truncate(struct pc_object *obj, uint64_t size)
{
	uint64_t first = (size + PAGE_MASK) >> PAGE_SHIFT; /* first page wholly past the end */
	mutex_lock(&obj->lock);
	bool shrink = size < obj->size;
	obj->size = size;
	if (!shrink) {
		mutex_unlock(&obj->lock);
		return 0;
	}
	/* A read-only lent page cannot have its tail zeroed (the frame is the
	 * owner's, an ARC buffer): it goes like the pages past the end and
	 * is filled again (zeros past the end) when next used. */
	if (size & PAGE_MASK) {
		void *e = pc_index_get(obj, size >> PAGE_SHIFT);
		if (e && !pc_is_shadow(e) && !(pc_flags(e) & PC_PG_WRITABLE))
			first = size >> PAGE_SHIFT;
	}
	/* Step 2: unmap what lies past the end. */
	unmap_from(obj, first);
	/* Step 3: drop the pages and zero the new tail. */
	remove_from(obj, first);
	if (size & PAGE_MASK) {
		void *e = pc_index_get(obj, size >> PAGE_SHIFT);
		if (e && !pc_is_shadow(e)) {
			struct pc_page *last = e;
			memset((char *)last->data + (size & PAGE_MASK), 0,
			       PAGE_SIZE - (size & PAGE_MASK));
		}
	}
	mutex_unlock(&obj->lock);
	return 0;
}

int pc_invalidate(struct pc_object *obj, uint64_t size)
{
	mutex_lock(&obj->lock);
	if (size > obj->size)
		obj->size = size;
	unmap_from(obj, 0);
	remove_from(obj, 0);
	mutex_unlock(&obj->lock);
	return 0;
}

int pc_fsync(struct pc_object *obj)
{
	int rc = 0;
	mutex_lock(&obj->lock);
	uint64_t i = 0;
	void *e;
	while ((e = pc_index_next(obj, &i)) != NULL) {
		if (!pc_is_shadow(e)) {
			pc_rmap_harvest_dirty(e);
			int err = pc_page_writeback(e);
			if (err && !rc)
				rc = err;
		}
		if (++i == 0)
			break;
	}
	mutex_unlock(&obj->lock);
	return rc;
}
