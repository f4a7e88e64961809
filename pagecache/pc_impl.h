/*
 * Page cache internals, shared by the pc_*.c files.
 *
 * A cached page (struct pc_page) belongs to one object and sits in that
 * object's index at its page index until it is removed (truncate,
 * eviction, destroy). A removed page that is still referenced (mapped, or
 * being copied by a reader) moves to the object's `removed` list and is
 * freed by the last put. A slot of the index holds a page, or a shadow
 * (an odd value) left by eviction so that filling that index again counts
 * as a refault.
 *
 * Locks, in order:
 *   obj->lock      the object's index, size, removed list, and each of its
 *                  pages' refs and states (flags change by atomic ops, so
 *                  the scanner may set PC_PG_ACCESSED without it)
 *   pc_map_lock    every page's reverse map (rmap, mapcount), the list of
 *                  mapped pages the scanner walks, and the scanner cursor
 *   pc_lru_lock    the eviction list (evictable pages in the index)
 * pc_map_lock and pc_lru_lock never nest. Eviction walks the LRU list and
 * takes an object's lock with mutex_trylock (busy objects are skipped).
 */
#ifndef KARST_PC_IMPL_H
#define KARST_PC_IMPL_H

#include "pagecache.h"

#include <karst/vm.h>
#include <stdatomic.h>

/* pc_page.flags */
#define PC_PG_DIRTY	0x01 /* newer than the backing store */
#define PC_PG_WRITEBACK 0x02 /* being written back */
#define PC_PG_LENT	0x04 /* the frame is the owner's (page->lent) */
#define PC_PG_PINNED	0x08 /* never evicted */
#define PC_PG_ACCESSED	0x10 /* used since eviction last looked (second chance) */
#define PC_PG_REMOVED	0x20 /* out of the index; freed by the last put */
#define PC_PG_WRITABLE	0x40 /* writes may go into the frame */

/* One mapping of a page: the leaf at va in space vs. */
struct pc_rmap {
	struct pc_rmap *next;
	struct vm_space *vs;
	uintptr_t va;
};

struct pc_page {
	struct pc_object *obj;
	uint64_t index;
	uint64_t pa;
	void *data; /* phys_to_virt(pa) */
	struct pc_lent lent;
	_Atomic unsigned flags;
	unsigned refs;		/* obj->lock: leaves mapping it, readers copying */
	unsigned mapcount;	/* pc_map_lock: entries in rmap */
	struct pc_rmap *rmap;	/* pc_map_lock */
	struct list_node lru;	/* pc_lru_lock: on pc_lru while evictable */
	struct list_node mlink; /* pc_map_lock: on pc_mapped while mapcount > 0 */
	struct list_node rlink; /* obj->lock: on obj->removed once removed */
};

/* What a mapping (vm_area->obj) points to: the object and the vnode the
 * mapping keeps alive; areas split from one mapping share it. */
struct pc_map {
	struct pc_object *obj;
	struct vnode *vp; /* referenced, NULL for mappings made without a vnode */
	_Atomic int refs; /* areas using it */
};

static inline bool pc_is_shadow(void *slot)
{
	return ((uintptr_t)slot & 1) != 0;
}
#define PC_SHADOW ((void *)(uintptr_t)1)

/* Global counters (pc_stats.c). Totals are kept as signed sums so that
 * updates need no lock. */
struct pc_counters {
	_Atomic int64_t cached, mapped, dirty, writeback, lent, pinned;
	_Atomic uint64_t fills, lends, writebacks, evicted, refaults, hits, misses, fill_errors;
	_Atomic uint64_t lends_broken, read_spans, read_span_bytes;
	_Atomic uint64_t scan_passes, scan_scanned, scan_cleared, scan_accessed, scan_flushes;
	_Atomic uint64_t scan_cpu_ppm_now, scan_cpu_ppm_avg;
};
extern struct pc_counters pc_ctr;
#define PC_OWN_ADD(ow, field, n)                                                                   \
	__atomic_fetch_add(&(ow)->st.field, (uint64_t)(n), __ATOMIC_RELAXED)
#define PC_ADD(field, n) atomic_fetch_add_explicit(&pc_ctr.field, (n), memory_order_relaxed)

extern struct mutex pc_map_lock, pc_lru_lock;
extern struct list_node pc_lru, pc_mapped;
/* The global locks and lists are set up on first use (host tests and the
 * kernel alike); every entry point that needs them calls this. */
void pc_globals_init(void);

/* The index (pc_index.c); obj->lock held. */
void **pc_index_slot(struct pc_object *obj, uint64_t index, bool create, int *err);
void *pc_index_get(struct pc_object *obj, uint64_t index);
/* The first non-empty slot (page or shadow) at or after *index, its
 * index in *index; NULL when none. */
void *pc_index_next(struct pc_object *obj, uint64_t *index);
/* Free every interior node (the slots must be empty or shadows). */
void pc_index_free(struct pc_object *obj);

/* Pages (pc_page.c); obj->lock held unless said. */
static inline unsigned pc_flags(struct pc_page *pg)
{
	return atomic_load_explicit(&pg->flags, memory_order_relaxed);
}
void pc_page_set(struct pc_page *pg, unsigned f);
void pc_page_clear(struct pc_page *pg, unsigned f);
void pc_page_get(struct pc_page *pg);
void pc_page_put(struct pc_page *pg);
/* The page at index, made (lent or filled) when missing; *out NULL for a
 * hole of a store object when !make_holes. write: the page is about to be
 * written (a non-writable lent page is replaced by a copy of its own when
 * nothing maps it; -EBUSY when something does). Counts hits and misses. */
int pc_page_lookup(struct pc_object *obj, uint64_t index, bool write, bool make_holes,
		   struct pc_page **out);
/* The page of obj at index with frame pa, in the index or removed. */
struct pc_page *pc_page_find(struct pc_object *obj, uint64_t index, uint64_t pa);
/* Take pg out of the index (leaving a shadow when shadow); freed now when
 * unreferenced, otherwise by the last put. */
void pc_page_remove(struct pc_page *pg, bool shadow);
/* Write a dirty page back through the owner (obj->lock held throughout). */
int pc_page_writeback(struct pc_page *pg);
bool pc_page_evictable(struct pc_page *pg);

/* Reverse map (pc_pager.c). Copy up to max mappings of pg (pc_map_lock
 * taken inside); returns how many it has in all. */
struct pc_rmap_ref {
	struct vm_space *vs;
	uintptr_t va;
};
unsigned pc_rmap_snapshot(struct pc_page *pg, struct pc_rmap_ref *out, unsigned max);
/* Move the dirty state of every leaf mapping pg into the page (obj->lock
 * held; the leaves' dirty bits are cleared and their TLB entries flushed,
 * so a later write marks them again). */
void pc_rmap_harvest_dirty(struct pc_page *pg);
/* Unmap every mapping of pg; obj->lock must NOT be held (the VM takes the
 * space lock, then calls back into the pager). The caller holds a ref. */
void pc_unmap_all(struct pc_page *pg);

/*
 * The scanner's CPU budget controller (pc_scan_ctl.c), a pure function of
 * the figures it is given, so tests drive it with a fake clock. Shares are
 * in parts per million of one CPU.
 */
struct pc_scan_ctl {
	uint32_t min_ppm, max_ppm; /* the budget's bounds */
	uint32_t ppm;		   /* the share aimed at now */
	uint64_t period_ns;	   /* one round of work and sleep, at least */
	uint64_t now_ppm;	   /* share measured over the last round */
	uint64_t avg_ppm;	   /* its moving average (1/8 weight per round) */
	uint64_t rounds;
};
void pc_scan_ctl_init(struct pc_scan_ctl *c, uint32_t min_ppm, uint32_t max_ppm,
		      uint64_t period_ns);
/* How long the next round may work. */
uint64_t pc_scan_ctl_budget(const struct pc_scan_ctl *c);
/* A round worked worked_ns and found `accessed` of `scanned` pages
 * accessed, with `mapped` pages mapped in all: adapt the share and return
 * how long to sleep so that the round stays inside it. */
uint64_t pc_scan_ctl_plan(struct pc_scan_ctl *c, uint64_t worked_ns, size_t scanned,
			  size_t accessed, size_t mapped);
/* The round took elapsed_ns in all (as the clock saw it): record the share. */
void pc_scan_ctl_measure(struct pc_scan_ctl *c, uint64_t worked_ns, uint64_t elapsed_ns);

/* One batch of the scanner: up to max mapped pages (pc_scan.c). */
size_t pc_scan_batch(size_t max, size_t *accessed);
/* Start the thread unless automatic starts are off (tests). */
int pc_scanner_autostart(void);
/* CPU time of the scanner thread (0 when none), for the benchmark. */
uint64_t pc_scanner_cpu_ns(void);
/* Tests: whether registering an evictable owner starts the thread. */
void pc_scanner_set_auto(bool on);

#endif
