/*
 * Eviction under memory pressure.
 *
 * Every evictable page in an index is on one global list, pc_lru, oldest
 * first (insertion order; a second chance moves a page to the tail). A
 * pass walks it from the head in three rounds, each cheaper to undo than
 * the next:
 *   1. clean, unmapped, unreferenced pages: dropped at once;
 *   2. dirty unmapped pages: written back through the owner, then dropped;
 *   3. mapped pages: unmapped through the reverse map (TLB flushed; the
 *      leaves' dirty state moves into the page), written back when dirty,
 *      then dropped.
 * A page marked accessed (by a read, a fault, or the scanner finding its
 * accessed bit set) is not taken: its mark is cleared and it moves to the
 * tail, so a page survives as long as it is used at least once per trip
 * of the clock hand. Pinned pages (ramfs) are never on the list.
 *
 * Locks: the walk holds pc_lru_lock and takes each page's object lock with
 * mutex_trylock (the usual order is the reverse), skipping busy objects.
 * Writing back and unmapping happen with pc_lru_lock dropped, the page
 * referenced, and the walk restarted from the head afterwards.
 */
#include "pc_impl.h"

#include <karst/reclaim.h>

enum { ROUND_CLEAN, ROUND_DIRTY, ROUND_MAPPED };

/* A candidate taken out of the walk to be written back or unmapped. */
struct victim {
	struct pc_page *pg;
	struct pc_object *obj;
};

/* One walk of the list for `round`: drops what it can on the spot and
 * returns pages freed; *v gets the first page that needs work with the
 * lock dropped (its object locked and the page referenced). */
static size_t walk(int round, size_t want, struct victim *v, size_t *budget)
{
	size_t freed = 0;
	v->pg = NULL;
	mutex_lock(&pc_lru_lock);
	struct list_node *it = pc_lru.next;
	while (it != &pc_lru && freed < want && (*budget)-- > 0) {
		struct pc_page *pg = list_entry(it, struct pc_page, lru);
		it = it->next;
		struct pc_object *obj = pg->obj;
		if (!mutex_trylock(&obj->lock))
			continue;
		unsigned f = pc_flags(pg);
		if (f & PC_PG_ACCESSED) {
			pc_page_clear(pg, PC_PG_ACCESSED);
			list_del(&pg->lru);
			list_add_tail(&pc_lru, &pg->lru);
		} else if (f & PC_PG_WRITEBACK || (pg->refs && !pg->mapcount)) {
			/* busy: being written or copied */
		} else if (!pg->mapcount && !(f & PC_PG_DIRTY)) {
			/* Off the list here; pc_page_remove's own list_del
			 * (under pc_lru_lock, which it takes: dropped
			 * meanwhile) then finds a node pointing to itself. */
			list_del(&pg->lru);
			mutex_unlock(&pc_lru_lock);
			pc_page_remove(pg, true);
			PC_ADD(evicted, 1);
			freed++;
			mutex_unlock(&obj->lock);
			mutex_lock(&pc_lru_lock);
			it = pc_lru.next; /* the list changed under us */
			continue;
		} else if ((round == ROUND_DIRTY && !pg->mapcount) ||
			   (round == ROUND_MAPPED && pg->mapcount)) {
			pc_page_get(pg);
			v->pg = pg;
			v->obj = obj;
			break;
		}
		mutex_unlock(&obj->lock);
	}
	mutex_unlock(&pc_lru_lock);
	return freed;
}

/* Write back / unmap the victim, then drop it if it is now idle. Called
 * with v->obj locked and the page referenced; returns pages freed. */
static size_t work_on(struct victim *v)
{
	struct pc_page *pg = v->pg;
	struct pc_object *obj = v->obj;
	if (pg->mapcount) {
		mutex_unlock(&obj->lock);
		pc_unmap_all(pg);
		mutex_lock(&obj->lock);
	}
	int e = pc_page_writeback(pg);
	pc_page_put(pg);
	size_t freed = 0;
	unsigned f = pc_flags(pg);
	if (!e && !(f & (PC_PG_REMOVED | PC_PG_DIRTY | PC_PG_WRITEBACK)) && !pg->refs &&
	    !pg->mapcount) {
		pc_page_remove(pg, true);
		PC_ADD(evicted, 1);
		freed = 1;
	}
	mutex_unlock(&obj->lock);
	return freed;
}

static size_t evict_rounds(size_t bytes, int last)
{
	pc_globals_init();
	size_t want = (bytes + PAGE_SIZE - 1) / PAGE_SIZE, freed = 0;
	for (int round = ROUND_CLEAN; round <= last && freed < want; round++) {
		/* Each round looks at every page about twice at most (a second
		 * chance, then the decision), whatever it finds. */
		size_t budget = 2 * (size_t)atomic_load(&pc_ctr.cached) + 16;
		while (freed < want && budget > 0) {
			struct victim v;
			freed += walk(round, want - freed, &v, &budget);
			if (!v.pg)
				break;
			freed += work_on(&v);
		}
	}
	return freed * PAGE_SIZE;
}

size_t pc_evict(size_t bytes)
{
	return evict_rounds(bytes, ROUND_MAPPED);
}

size_t pc_evict_clean(size_t bytes)
{
	return evict_rounds(bytes, ROUND_CLEAN);
}

static size_t pc_reclaim(void *arg, size_t bytes)
{
	(void)arg;
	return pc_evict(bytes);
}

static void pc_lowmem(void *arg)
{
	(void)arg;
	(void)pc_evict(64 * PAGE_SIZE);
}

static struct reclaimer pc_reclaimer = {
    .name = "pagecache",
    .reclaim = pc_reclaim,
    .lowmem = pc_lowmem,
    /* Before the ARC: a clean page is a copy of what the ARC (or the
     * owner) holds, and the ARC's blocks may be smaller (compressed). */
    .first = true,
};

void pc_register_reclaim(void)
{
	reclaim_register(&pc_reclaimer);
}
