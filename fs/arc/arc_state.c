/*
 * The four lists (MRU, MFU and their ghosts), the bookkeeping of states and
 * the recency clocks.
 *
 * Each list is sharded by hash stripe: a stripe holds one shard of every
 * state, changed only under the stripe lock, so a hit (which holds that
 * lock anyway) moves its buffer off and back onto its shard without any
 * other lock and without writing a cache line that hits on other stripes
 * write. A header enters its shard at the head with a stamp above every
 * stamp the shard has had, so every shard is sorted by stamp and the
 * state's least recently used header is the shard tail with the smallest
 * stamp. Eviction finds it through the state's heap of stripes (keys are
 * lower bounds of the shards' stamps, refreshed lazily: see arc_impl.h).
 *
 * Holding a buffer (arc_hold) takes it off its shard; the last release or
 * unshare (arc_unhold) puts it back at the head: only evictable headers are
 * ever on a list, and eviction never has to skip anything.
 *
 * Locking: every function here but arc_list_take_lru() is called with the
 * header's stripe lock held and takes no other lock; none sleeps.
 * arc_list_take_lru() is called with evict_lock and no stripe lock held,
 * and takes stripe locks (may sleep).
 */
#include "arc_impl.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/thread.h>
#include <string.h>

/* How far a clock slot may run ahead of the published global clock. */
#define ARC_CLOCK_WINDOW 64

int arc_states_init(struct arc *a)
{
	uint32_t nstripes = (uint32_t)a->stripe_mask + 1;
	size_t words = (nstripes + 63) / 64;
	for (int s = ARC_STATE_MRU; s < ARC_NSTATES; s++) {
		a->st[s].heap = kmalloc(nstripes * sizeof(struct arc_heapent));
		a->st[s].pending = kmalloc_aligned(ALIGN_UP(words * sizeof(uint64_t), 64), 64);
		a->st[s].pending_key = kmalloc(nstripes * sizeof(uint64_t));
		if (!a->st[s].heap || !a->st[s].pending || !a->st[s].pending_key)
			return -ENOMEM;
		memset(a->st[s].pending, 0, words * sizeof(uint64_t));
		memset(a->st[s].pending_key, 0, nstripes * sizeof(uint64_t));
		a->st[s].nheap = 0;
	}
	for (uint32_t i = 0; i < nstripes; i++) {
		for (unsigned l = 0; l < ARC_NLISTS; l++) {
			struct arc_sublist *sl = &a->stripes[i].lists[l];
			list_init(&sl->head);
			sl->evictable = 0;
			sl->last = 0;
			a->stripes[i].queued[l] = ARC_SHARD_IDLE;
		}
	}
	a->clocks = kmalloc_aligned(ARC_CLOCK_SLOTS * sizeof(struct arc_clock), 64);
	if (!a->clocks)
		return -ENOMEM;
	memset(a->clocks, 0, ARC_CLOCK_SLOTS * sizeof(struct arc_clock));
	return 0;
}

void arc_states_fini(struct arc *a)
{
	for (int s = 0; s < ARC_NSTATES; s++) {
		kfree(a->st[s].heap);
		kfree(a->st[s].pending);
		kfree(a->st[s].pending_key);
		a->st[s].heap = NULL;
		a->st[s].pending = NULL;
		a->st[s].pending_key = NULL;
	}
	kfree(a->clocks);
	a->clocks = NULL;
}

/*
 * A recency stamp. Each thread has a clock slot (picked by hashing
 * thread_self(), so a thread always gets the same one; threads that collide
 * share it, which is only slower, and so do all host threads that were not
 * made by thread_create(), for which thread_self() is NULL): a stamp is the
 * slot's next value, so one thread's stamps strictly increase, as the
 * paper's order of requests does. To keep threads comparable, a stamp first
 * brings its slot up to the global clock, and a slot that gets
 * ARC_CLOCK_WINDOW ahead of it publishes its value there. A hit thus writes
 * only its own slot's line and reads the global one, which changes about
 * once per ARC_CLOCK_WINDOW stamps.
 */
uint64_t arc_stamp(struct arc *a)
{
	uint64_t t = (uint64_t)(uintptr_t)thread_self();
	struct arc_clock *c = &a->clocks[(t * 0x9e3779b97f4a7c15ULL) >> 58];
	_Static_assert(ARC_CLOCK_SLOTS == 64, "slot index is the hash's top 6 bits");
	uint64_t g = arc_ld(&a->clock_global);
	uint64_t v = arc_ld(&c->now);
	while (v < g && !__atomic_compare_exchange_n(&c->now, &v, g, true, __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
		;
	uint64_t n = __atomic_add_fetch(&c->now, 1, __ATOMIC_RELAXED);
	if (n >= g + ARC_CLOCK_WINDOW) {
		while (n > g && !__atomic_compare_exchange_n(&a->clock_global, &g, n, true,
							     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	return n;
}

void arc_list_insert(struct arc *a, struct arc_buf *b, uint64_t h)
{
	KASSERT(b->state > ARC_STATE_ANON && b->state < ARC_NSTATES);
	KASSERT(b->refs == 0 && b->shares == 0 && !(b->flags & ARC_BF_IO));
	struct arc_statelist *st = &a->st[b->state];
	struct arc_stripe *s = arc_stripe_of(a, h);
	unsigned l = arc_list_idx(b->state);
	struct arc_sublist *sl = &s->lists[l];
	uint64_t stamp = arc_stamp(a);
	if (stamp <= sl->last) /* another thread's clock is ahead: stay sorted */
		stamp = sl->last + 1;
	sl->last = stamp;
	b->stamp = stamp;
	list_add(&sl->head, &b->link);
	arc_st(&sl->evictable, sl->evictable + b->psize);
	if (__atomic_load_n(&s->queued[l], __ATOMIC_RELAXED) == ARC_SHARD_IDLE) {
		/* Not in the heap (so b is alone on the shard): have the next
		 * eviction queue this stripe, with b's stamp as its key. */
		uint64_t i = h & a->stripe_mask;
		KASSERT(list_last(&sl->head, struct arc_buf, link) == b);
		__atomic_store_n(&st->pending_key[i], stamp, __ATOMIC_RELAXED);
		__atomic_store_n(&s->queued[l], ARC_SHARD_PENDING, __ATOMIC_RELAXED);
		/* release: whoever sees the bit sees PENDING and the key */
		__atomic_fetch_or(&st->pending[i / 64], 1ULL << (i % 64), __ATOMIC_RELEASE);
	}
}

void arc_list_remove(struct arc *a, struct arc_buf *b, uint64_t h)
{
	struct arc_sublist *sl = &arc_stripe_of(a, h)->lists[arc_list_idx(b->state)];
	list_del(&b->link);
	arc_st(&sl->evictable, sl->evictable - b->psize);
}

uint64_t arc_list_evictable(struct arc *a, int state)
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i <= a->stripe_mask; i++)
		sum += arc_ld(&a->stripes[i].lists[arc_list_idx(state)].evictable);
	return sum;
}

void arc_charge(struct arc *a, struct arc_buf *b)
{
	struct arc_statelist *sl = &a->st[b->state];
	arc_add(&sl->size, b->psize);
	arc_add(&sl->lsize, b->lsize);
	arc_add(&sl->count, 1);
}

void arc_uncharge(struct arc *a, struct arc_buf *b)
{
	struct arc_statelist *sl = &a->st[b->state];
	arc_sub(&sl->size, b->psize);
	arc_sub(&sl->lsize, b->lsize);
	arc_sub(&sl->count, 1);
}

/* Move the accounting of an unlisted header to another state. */
void arc_change_state(struct arc *a, struct arc_buf *b, int to)
{
	arc_uncharge(a, b);
	b->state = (uint8_t)to;
	arc_charge(a, b);
}

void *arc_data_alloc(size_t size)
{
	/* Buffers of whole pages are page-aligned so they can be mapped. */
	if (size >= PAGE_SIZE && (size & PAGE_MASK) == 0)
		return kmalloc_aligned(size, PAGE_SIZE);
	return kmalloc(size);
}

/* Free the data of an evicted or destroyed header (not held, not shared). */
void arc_buf_free_data(struct arc *a, struct arc_buf *b)
{
	if (b->data && b->data != b->pdata) {
		kfree(b->data);
		arc_sub(&a->overhead_size, b->lsize);
	}
	kfree(b->pdata);
	b->data = NULL;
	b->pdata = NULL;
}

void arc_hold(struct arc *a, struct arc_buf *b, uint64_t h)
{
	if (b->refs == 0 && b->shares == 0)
		arc_list_remove(a, b, h);
	b->refs++;
}

/* Called when the last hold or mapping is gone: back on the list. */
static void arc_buf_idle(struct arc *a, struct arc_buf *b, uint64_t h)
{
	if ((b->flags & ARC_BF_COMPRESSED) && b->data) {
		kfree(b->data);
		b->data = NULL;
		arc_sub(&a->overhead_size, b->lsize);
	}
	arc_list_insert(a, b, h);
}

void arc_unhold(struct arc *a, struct arc_buf *b, uint64_t h)
{
	KASSERT_MSG(b->refs > 0, "arc: release of a buffer that is not held");
	if (--b->refs == 0 && b->shares == 0)
		arc_buf_idle(a, b, h);
}

/*
 * A hit on a cached, unlisted buffer: the paper's case I. A second access
 * moves a buffer from MRU to MFU; an MFU buffer stays (its recency is
 * renewed when it goes back on the list). count: a read, not a scanner
 * report, so it counts in mru_hits / mfu_hits.
 */
void arc_access(struct arc *a, struct arc_stripe *s, struct arc_buf *b, bool count)
{
	KASSERT(arc_state_cached(b->state));
	if (b->state == ARC_STATE_MRU) {
		arc_change_state(a, b, ARC_STATE_MFU);
		if (count)
			arc_inc_locked(&s->mru_hits);
	} else if (count) {
		arc_inc_locked(&s->mfu_hits);
	}
}

/* The eviction heap of a state: a binary min-heap of stripes on key. */
static void heap_sift_down(struct arc_statelist *st, uint32_t i)
{
	struct arc_heapent e = st->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= st->nheap)
			break;
		if (c + 1 < st->nheap && st->heap[c + 1].key < st->heap[c].key)
			c++;
		if (st->heap[c].key >= e.key)
			break;
		st->heap[i] = st->heap[c];
		i = c;
	}
	st->heap[i] = e;
}

static void heap_push(struct arc_statelist *st, uint64_t key, uint32_t stripe)
{
	uint32_t i = st->nheap++;
	while (i > 0 && st->heap[(i - 1) / 2].key > key) {
		st->heap[i] = st->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	st->heap[i] = (struct arc_heapent){key, stripe};
}

static void heap_pop(struct arc_statelist *st)
{
	st->heap[0] = st->heap[--st->nheap];
	if (st->nheap)
		heap_sift_down(st, 0);
}

/* The smallest key in the heap but the root's (UINT64_MAX if none). */
static uint64_t heap_second(const struct arc_statelist *st)
{
	uint64_t k = UINT64_MAX;
	if (st->nheap > 1)
		k = st->heap[1].key;
	if (st->nheap > 2 && st->heap[2].key < k)
		k = st->heap[2].key;
	return k;
}

/* Queue the stripes whose shard got headers while they were not queued,
 * keyed by the stamp of the first of them (a lower bound of the shard's
 * stamps: later ones are higher, and removals only raise the minimum). */
static void heap_take_pending(struct arc *a, struct arc_statelist *st, unsigned l)
{
	uint64_t words = (a->stripe_mask + 64) / 64;
	for (uint64_t w = 0; w < words; w++) {
		if (!arc_ld(&st->pending[w]))
			continue;
		uint64_t bits = __atomic_exchange_n(&st->pending[w], 0, __ATOMIC_ACQUIRE);
		while (bits) {
			uint32_t i = (uint32_t)(w * 64 + (uint64_t)__builtin_ctzll(bits));
			bits &= bits - 1;
			uint8_t *q = &a->stripes[i].queued[l];
			KASSERT(__atomic_load_n(q, __ATOMIC_RELAXED) == ARC_SHARD_PENDING);
			__atomic_store_n(q, ARC_SHARD_QUEUED, __ATOMIC_RELAXED);
			heap_push(st, __atomic_load_n(&st->pending_key[i], __ATOMIC_RELAXED), i);
		}
	}
}

/*
 * Take the least recently used header of a state off its list and return it
 * with its stripe locked (in *sp, its hash in *hp), or NULL when the list is
 * empty. The root of the state's heap is the stripe with the smallest key,
 * a lower bound of its shard's stamps: when the shard's real tail stamp is
 * not above any other key, that tail is the LRU header of the whole state;
 * otherwise the root gets the real stamp as its key and the next root is
 * looked at. Each look is paid for by a change since the previous one, so
 * the work is bounded by the hits and insertions since then.
 */
struct arc_buf *arc_list_take_lru(struct arc *a, int state, struct arc_stripe **sp, uint64_t *hp)
{
	KASSERT(mutex_owned(&a->evict_lock));
	struct arc_statelist *st = &a->st[state];
	unsigned l = arc_list_idx(state);
	heap_take_pending(a, st, l);
	while (st->nheap) {
		struct arc_stripe *s = &a->stripes[st->heap[0].stripe];
		struct arc_sublist *sl = &s->lists[l];
		if (!mutex_trylock(&s->lock)) {
			arc_add(&a->mutex_miss, 1);
			mutex_lock(&s->lock);
		}
		struct arc_buf *b = list_last(&sl->head, struct arc_buf, link);
		if (!b) {
			/* Empty: out of the heap until an insertion brings it back. */
			__atomic_store_n(&s->queued[l], ARC_SHARD_IDLE, __ATOMIC_RELAXED);
			heap_pop(st);
			mutex_unlock(&s->lock);
			continue;
		}
		if (b->stamp > heap_second(st)) {
			st->heap[0].key = b->stamp;
			heap_sift_down(st, 0);
			mutex_unlock(&s->lock);
			continue;
		}
		list_del(&b->link);
		arc_st(&sl->evictable, sl->evictable - b->psize);
		struct arc_buf *t = list_last(&sl->head, struct arc_buf, link);
		if (t) {
			st->heap[0].key = t->stamp;
			heap_sift_down(st, 0);
		} else {
			__atomic_store_n(&s->queued[l], ARC_SHARD_IDLE, __ATOMIC_RELAXED);
			heap_pop(st);
		}
		*sp = s;
		*hp = arc_key_hash(&b->key);
		return b;
	}
	return NULL;
}
